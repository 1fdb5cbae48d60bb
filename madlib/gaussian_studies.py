"""The Gaussian experiments behind Figs. S1, 10, 11, 12, 30 and 31, as chains of :mod:`madlib.chains`.

Each figure has a planner (its chains, computing nothing) and a build function registered with ``@chains.study``
that reads those chains (computing what is missing) and returns a :class:`madlib.tidy.FigureData`. Both take the
figure's resolved preset settings (see madlib.presets) as keyword arguments.

A Gaussian chain batches its ``replicates`` inside one run (``GaussianModel(d, replicates)``): one chain per
setting, simulated exactly through the sufficient statistics, so even n = 10^6 samples per generation are cheap.
Its seed comes from the master ``seed`` and the setting (``chains.make``): every setting draws its own streams, and a
setting shown in two figures (e.g. the lam = 0.9, n_r = 1000 cells of Figs. 11 and 12, or K = 1 of Fig. 30 and
lam = 1, n_s = 10^4 of Fig. 12) is one chain in the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from madlib import chains, loops, tidy
from madlib.metrics.effective_sample_size import effective_sample_size
from madlib.models.gaussian import wd_of_real_fits

FAMILY = "gaussian"
COLLAPSE_METRICS = ("trace", "log_trace", "mean_norm", "mean_1", "wd")
WALKS_SHOWN = 5  # Fig. S1: replicates whose random walk of the mean is drawn
REAL_FIT_CURVE = 1  # names the purpose of the reference curve's draws in its SeedSequence([seed, REAL_FIT_CURVE])


def model_of(d: int, replicates: int) -> dict:
    """GaussianModel's keyword arguments for a chain of `replicates` batched replicates in R^d (one form for every
    figure, so that the same setting in two figures is one chain)."""
    return {"d": int(d), "replicates": int(replicates)}


def per_replicate(history: list[loops.Metrics], metric: str) -> np.ndarray:
    """(replicates, generations) array of one metric of a chain."""
    return np.stack([np.atleast_1d(h[metric]) for h in history], axis=1)


def describe(d: int, replicates: int, extra: str = "") -> str:
    """A caption line saying what ran."""
    text = (f"Gaussian model in R^{d} against P_r = N(0, I_{d}), simulated exactly through its sufficient statistics; "
            f"{replicates} replicates per setting (batched in one chain); +-2 SE between replicates")
    return f"{text}; {extra}" if extra else text


# Fig. S1 -----------------------------------------------------------------------------------------------------------
def figS1_plan(d: int, n_ini: int, n_s_values: Sequence[int], lam_values: Sequence[float], generations: int,
               replicates: int, seed: int) -> list[chains.Chain]:
    """Fully synthetic loops for every (lam, n_s)."""
    return [chains.make(FAMILY, seed, model=model_of(d, replicates), variant="fully_synthetic",
                        generations=generations, n_ini=n_ini, n_s=n_s, lam=lam)
            for lam in lam_values for n_s in n_s_values]


@chains.study("figS1_gaussian_collapse", plan=figS1_plan)
def figS1(d: int, n_ini: int, n_s_values: Sequence[int], lam_values: Sequence[float], generations: int,
          replicates: int, seed: int) -> tidy.FigureData:
    """Tidy trace, log trace, mean norm, first mean coordinate and WD per (lam, n_s) and generation; frame ``walks``:
    the first WALKS_SHOWN replicates' first mean coordinate per generation (columns lam, n_s, replicate, generation,
    mean_1)."""
    plan = figS1_plan(d, n_ini, n_s_values, lam_values, generations, replicates, seed)
    data, histories = chains.run_chains(plan, COLLAPSE_METRICS)
    walks = []
    for chain, history in zip(plan, histories):
        for r, path in enumerate(per_replicate(history, "mean_1")[:WALKS_SHOWN]):
            walks += [{"lam": chain.spec.lam, "n_s": chain.spec.n_s, "replicate": r, "generation": g + 1,
                       "mean_1": float(v)} for g, v in enumerate(path)]
    return tidy.FigureData(data, frames={"walks": pd.DataFrame(walks)},
                           caption=describe(d, replicates, f"n_ini={n_ini}"))


# Fig. 10 -----------------------------------------------------------------------------------------------------------
def fresh_data_chains(d: int, n_ini_values: Sequence[int], n_r: int, n_s: int, lam_values: Sequence[float],
                      generations: int, replicates: int, seed: int) -> list[chains.Chain]:
    """Gaussian fresh data loops started from models fit on each n_ini, for each lam (lam-major order).

    Every (lam, n_ini) has its own seed (chains.make derives it from the setting), so the loops draw independent
    fresh and synthetic noise: with one shared stream they would forget their start into the very same path, which
    would make the limits equal by construction.
    """
    return [chains.make(FAMILY, seed, model=model_of(d, replicates), variant="fresh_data", generations=generations,
                        n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam)
            for lam in lam_values for n_ini in n_ini_values]


def _ddpm_arguments(ddpm: dict, seed: int) -> dict:
    """ddpm_studies.fresh_data(_chains)'s arguments from the figure's ``ddpm`` settings (all but ``window``)."""
    return {**{k: v for k, v in ddpm.items() if k != "window"}, "seed": seed}


def fig10_plan(d: int, n_ini_values: Sequence[int], n_r: int, n_s: int, lam_values: Sequence[float],
               generations: int, replicates: int, window: int, seed: int, ddpm: dict | None = None
               ) -> list[chains.Chain]:
    """The Gaussian chains and (when ``ddpm`` is given) the DDPM fresh data chains of ddpm_studies."""
    plan = fresh_data_chains(d, n_ini_values, n_r, n_s, lam_values, generations, replicates, seed)
    if ddpm is not None:
        from madlib import ddpm_studies

        plan += ddpm_studies.fresh_data_chains(**_ddpm_arguments(ddpm, seed))
    return plan


@chains.study("fig10_fresh_data_limit", plan=fig10_plan)
def fig10(d: int, n_ini_values: Sequence[int], n_r: int, n_s: int, lam_values: Sequence[float], generations: int,
          replicates: int, window: int, seed: int, ddpm: dict | None = None) -> tidy.FigureData:
    """WD to P_r along the Gaussian fresh data loops and each loop's limit (``wd_limit``: the per-replicate average
    WD over the last `window` generations, mean and SE over replicates; column ``drift_z``: fresh_limit's test of
    that window for a trend), column ``model`` = "Gaussian"; with ``ddpm``, the DDPM chains' FID per generation and
    their limits (``fid_limit``, column ``window``), model = "DDPM". The caption describes both models."""
    plan = fresh_data_chains(d, n_ini_values, n_r, n_s, lam_values, generations, replicates, seed)
    curves, histories = chains.run_chains(plan, ["wd"])
    limits = []
    for chain, history in zip(plan, histories):
        values, drift_z = fresh_limit(history, window)
        setting = {**tidy.setting_of(chain.spec), "window": window, "replicates": replicates, "drift_z": drift_z}
        limits.append(tidy.summary_row(setting, "wd_limit", values))
    models = {"Gaussian": pd.concat([curves, tidy.frame(limits)], ignore_index=True)}
    caption = "Gaussian panels: " + describe(d, replicates, f"limit = mean WD over the last {window} generations")
    if ddpm is not None:
        from madlib import ddpm_studies

        arguments = _ddpm_arguments(ddpm, seed)
        scores = ddpm_studies.fresh_data(**arguments)
        ddpm_limits = ddpm_studies.limits(scores, by="n_ini", metric="fid", window=ddpm["window"])
        models["DDPM"] = pd.concat([scores, ddpm_limits], ignore_index=True)
        caption += (f". DDPM panel (limit = mean FID over the last {ddpm['window']} generations): "
                    + ddpm_studies.describe(ddpm["model"], n_r=ddpm["n_r"], n_s=ddpm["n_s"]))
    return tidy.FigureData(tidy.merge_models(models), caption=caption)


# Limits of the fresh data loop (Figs. 11, 12, 30, 31) ------------------------------------------------------------
@dataclass(frozen=True)
class LimitRule:
    """How long to run a fresh data loop to read its limit: a burn-in of `burn_in_tau` forgetting times, then the
    time average over `window` generations. The forgetting time of the loop is about n / n_r generations (the share
    of old information a generation keeps is n_s / n), longer with memory (about (K + 1) / 2 times)."""

    burn_in_tau: float = 5.0
    window: int = 100
    max_generations: int = 1000

    def generations(self, n_r: int, n_s: int, memory: int = 1) -> tuple[int, int]:
        """(burn-in, chain length = burn-in + window)."""
        tau = (n_r + n_s) / n_r * (memory + 1) / 2
        burn_in = min(math.ceil(self.burn_in_tau * tau), self.max_generations - self.window)
        return burn_in, burn_in + self.window


def limit_chain(setting: dict, d: int, replicates: int, seed: int, rule: LimitRule) -> chains.Chain:
    """The fresh data chain whose limit a setting (LoopSpec fields such as n_r, n_s, lam, memory, or p_real and n)
    reads: as long as the rule's burn-in plus window, started from a model fit on n_r + n_s real samples (nearer
    the limit than a small n_ini would be; the limit itself does not depend on the start, Fig. 10)."""
    sizes = loops.LoopSpec("fresh_data", 1, n_ini=2, **setting)  # resolves p_real and n into n_r and n_s
    _, generations = rule.generations(sizes.n_r, sizes.n_s, sizes.memory)
    return chains.make(FAMILY, seed, model=model_of(d, replicates), variant="fresh_data", generations=generations,
                       n_ini=max(sizes.n_r + sizes.n_s, 2), **setting)


def limit_chains(settings: Iterable[dict], d: int, replicates: int, seed: int, rule: LimitRule) -> list[chains.Chain]:
    """One limit chain per setting, each store key once (in the settings' order)."""
    by_key: dict[str, chains.Chain] = {}
    for setting in settings:
        chain = limit_chain(setting, d, replicates, seed, rule)
        by_key.setdefault(chain.key(), chain)
    return list(by_key.values())


def fresh_limit(history: list[loops.Metrics], window: int) -> tuple[np.ndarray, float]:
    """Per-replicate time average of WD over a chain's last `window` generations (those after the burn-in), and a
    stationarity z-score comparing the window's first and second halves (replicates are independent): a large |z|
    means the burn-in was too short."""
    wd = per_replicate(history, "wd")[:, -window:]
    half = wd.shape[1] // 2
    drift = wd[:, :half].mean(axis=1) - wd[:, half:].mean(axis=1)
    drift_z = drift.mean() / (drift.std(ddof=1) / np.sqrt(len(drift))) if len(drift) > 1 else np.nan
    return wd.mean(axis=1), float(drift_z)


@dataclass
class RealFitCurve:
    """Monte-Carlo curve n -> E[WD(model fit on n real samples, P_r)] that eq. (4) inverts. Not a loop chain: the
    build functions of Figs. 11, 12 and 30 compute it each time (one thread, d = 100: about 10 s at the default
    preset's 100 replicates, about 45 s at the paper preset's 400)."""

    sizes: np.ndarray
    mean: np.ndarray
    sem: np.ndarray

    @classmethod
    def compute(cls, d, replicates, seed, low=2, high=10**7, points=80):
        """The curve at `points` sizes from `low` to `high`; its draws come from SeedSequence([seed,
        REAL_FIT_CURVE]), apart from every chain's."""
        sizes = np.unique(np.round(np.geomspace(low, high, points)).astype(int))
        curve_seed = int(np.random.SeedSequence([int(seed), REAL_FIT_CURVE]).generate_state(1)[0])
        mean, sem = tidy.mean_sem(wd_of_real_fits(d, sizes, replicates, seed=curve_seed))
        return cls(sizes, mean, sem)

    def n_e(self, limit: float) -> float:
        return effective_sample_size(limit, self.sizes, self.mean)

    def sem_at(self, n: float) -> float:
        """The curve's own Monte-Carlo SE near n (log-interpolated)."""
        return float(np.interp(np.log(n), np.log(self.sizes), self.sem))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"n": self.sizes, "mean": self.mean, "sem": self.sem})


def limit_table(plan: Sequence[chains.Chain], rule: LimitRule, curve: RealFitCurve | None = None) -> pd.DataFrame:
    """For each chain of a limit plan: its limit WD (``wd_limit``; columns burn_in, drift_z, replicates), and with a
    curve, n_e and n_e / n_r (eq. 4) with SEs propagated from the limit's SE and the curve's."""
    histories = chains.load(plan)
    rows = []
    for chain, history in zip(plan, histories):
        limits, drift_z = fresh_limit(history, rule.window)
        base = {**tidy.setting_of(chain.spec), "burn_in": chain.spec.generations - rule.window, "drift_z": drift_z,
                "replicates": len(limits)}
        rows.append(tidy.summary_row(base, "wd_limit", limits))
        if curve is not None:
            rows += _effective_size_rows(base, rows[-1], curve, chain.spec.n_r)
    return tidy.frame(rows)


def _effective_size_rows(base: dict, limit_row: dict, curve: RealFitCurve, n_r: int) -> list[dict]:
    limit = limit_row["mean"]
    n_e = curve.n_e(limit)
    sem = float(np.hypot(limit_row["sem"], curve.sem_at(n_e)))  # both the limit and the curve are Monte-Carlo
    lo, hi = curve.n_e(min(limit + sem, curve.mean[0])), curve.n_e(max(limit - sem, curve.mean[-1]))
    n_e_sem = (hi - lo) / 2
    return [
        {**base, "generation": np.nan, "metric": "n_e", "mean": n_e, "sem": n_e_sem},
        {**base, "generation": np.nan, "metric": "n_e_over_n_r", "mean": n_e / n_r, "sem": n_e_sem / n_r},
    ]


def grid(**axes) -> list[dict]:
    """All combinations of the given axes, e.g. grid(n_r=[..], n_s=[..], lam=[..])."""
    settings = [{}]
    for name, values in axes.items():
        settings = [{**s, name: v} for s in settings for v in values]
    return settings


def _limits_with_n_e(plan, d, curve_replicates, rule: LimitRule, seed, caption) -> tidy.FigureData:
    curve = RealFitCurve.compute(d, curve_replicates, seed)
    data = limit_table(plan, rule, curve)
    return tidy.FigureData(data, frames={"real_fit_curve": curve.frame()}, caption=caption)


def _limit_caption(d, replicates, rule: LimitRule, curve_replicates=None) -> str:
    extra = (f"limit = time average of WD over {rule.window} generations after a burn-in of {rule.burn_in_tau:g} "
             f"forgetting times")
    if curve_replicates:
        extra += f"; n_e from a reference curve of {curve_replicates} fits per sample size"
    return describe(d, replicates, extra)


def _edge(data: pd.DataFrame, by: str) -> pd.DataFrame:
    """The edge of the admissible region: per value of `by`, the largest n_s with n_e >= n_r (inf: every n_s)."""
    from madlib.claims import thresholds

    edge = thresholds(data, by)
    return pd.DataFrame({by: list(edge), "largest_admissible_n_s": list(edge.values())})


def _admissibility(plan, by: str, d, replicates, curve_replicates, rule: dict, seed) -> tidy.FigureData:
    """Figs. 11 and 12: the limits with n_e, and the edge of the admissible region per value of `by`."""
    result = _limits_with_n_e(plan, d, curve_replicates, LimitRule(**rule), seed,
                              _limit_caption(d, replicates, LimitRule(**rule), curve_replicates))
    result.frames["edge"] = _edge(result.data, by)
    return result


def fig11_plan(d, lam, n_r_values, n_s_values, replicates, curve_replicates, rule, seed) -> list[chains.Chain]:
    """Fig. 11: one limit chain per (n_r, n_s) at one lam."""
    return limit_chains(grid(n_r=n_r_values, n_s=n_s_values, lam=[lam]), d, replicates, seed, LimitRule(**rule))


@chains.study("fig11_admissible_nr_ns", plan=fig11_plan)
def fig11(d, lam, n_r_values, n_s_values, replicates, curve_replicates, rule, seed) -> tidy.FigureData:
    """Fig. 11: wd_limit, n_e and n_e / n_r over (n_r, n_s) at one lam; frames ``edge`` (largest admissible n_s per
    n_r) and ``real_fit_curve``."""
    plan = fig11_plan(d, lam, n_r_values, n_s_values, replicates, curve_replicates, rule, seed)
    return _admissibility(plan, "n_r", d, replicates, curve_replicates, rule, seed)


def fig12_plan(d, n_r, lam_values, n_s_values, replicates, curve_replicates, rule, seed) -> list[chains.Chain]:
    """Fig. 12: one limit chain per (lam, n_s) at one n_r."""
    return limit_chains(grid(lam=lam_values, n_s=n_s_values, n_r=[n_r]), d, replicates, seed, LimitRule(**rule))


@chains.study("fig12_admissible_lam_ns", plan=fig12_plan)
def fig12(d, n_r, lam_values, n_s_values, replicates, curve_replicates, rule, seed) -> tidy.FigureData:
    """Fig. 12: wd_limit, n_e and n_e / n_r over (lam, n_s) at one n_r; frames ``edge`` (largest admissible n_s per
    lam) and ``real_fit_curve``."""
    plan = fig12_plan(d, n_r, lam_values, n_s_values, replicates, curve_replicates, rule, seed)
    return _admissibility(plan, "lam", d, replicates, curve_replicates, rule, seed)


def fig30_plan(d, n_r, n_s, lam, memory_values, replicates, curve_replicates, rule, seed) -> list[chains.Chain]:
    """Fig. 30: one limit chain per memory K."""
    settings = grid(memory=memory_values, n_r=[n_r], n_s=[n_s], lam=[lam])
    return limit_chains(settings, d, replicates, seed, LimitRule(**rule))


@chains.study("fig30_memory", plan=fig30_plan)
def fig30(d, n_r, n_s, lam, memory_values, replicates, curve_replicates, rule, seed) -> tidy.FigureData:
    """Fig. 30: wd_limit, n_e and n_e / n_r against the memory K of the synthetic sampling; frame
    ``real_fit_curve``."""
    plan = fig30_plan(d, n_r, n_s, lam, memory_values, replicates, curve_replicates, rule, seed)
    return _limits_with_n_e(plan, d, curve_replicates, LimitRule(**rule), seed,
                            _limit_caption(d, replicates, LimitRule(**rule), curve_replicates))


def fig31_plan(d, n_values, p_values, lam_values, p_fixed, replicates, rule, seed) -> list[chains.Chain]:
    """Fig. 31: one limit chain per (p, n) at lam = 1 (left panel) and per (lam, n) at p = p_fixed (right panel);
    a setting in both panels is one chain."""
    settings = grid(p_real=p_values, lam=[1.0], n=n_values) + grid(p_real=[p_fixed], lam=lam_values, n=n_values)
    return limit_chains(settings, d, replicates, seed, LimitRule(**rule))


@chains.study("fig31_real_fraction", plan=fig31_plan)
def fig31(d, n_values, p_values, lam_values, p_fixed, replicates, rule, seed) -> tidy.FigureData:
    """Fig. 31: limit WD against the total size n; column ``p_fixed`` names the real fraction of the right panel
    (several lam), which the plot and the claim read."""
    plan = fig31_plan(d, n_values, p_values, lam_values, p_fixed, replicates, rule, seed)
    rule = LimitRule(**rule)
    data = limit_table(plan, rule).assign(p_fixed=float(p_fixed))
    return tidy.FigureData(data, caption=_limit_caption(d, replicates, rule))
