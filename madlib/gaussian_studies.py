"""The Gaussian experiments behind Figs. S1, 10, 11, 12, 30 and 31: loops run through the store, tidied.

Every function takes the settings of one preset (see madlib.presets) and returns a tidy DataFrame (madlib.tidy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from madlib import loops, runs, tidy
from madlib.metrics.effective_sample_size import effective_sample_size
from madlib.models.gaussian import GaussianModel, wd_of_real_fits


def run_gaussian(spec: loops.LoopSpec, d: int, replicates: int, store=None, method: str = "exact"):
    """Metrics history of one Gaussian loop, read from or written to the run store."""
    return runs.run_or_load(spec, GaussianModel(d=d, replicates=replicates, method=method), store=store)


def derived_seed(seed: int, index: int) -> int:
    """An independent seed for the index-th setting of a study (for comparisons that need independent runs)."""
    return int(np.random.SeedSequence((seed, index)).generate_state(1)[0])


def per_replicate(history: list[loops.Metrics], metric: str) -> np.ndarray:
    """(replicates, generations) array of one metric."""
    return np.stack([np.atleast_1d(h[metric]) for h in history], axis=1)


# Fig. S1 -----------------------------------------------------------------------------------------------------------
def collapse(d, n_ini, n_s_values, lam_values, generations, replicates, seed, walks_shown=5, store=None):
    """Fully synthetic loops for every (lam, n_s): tidy table, plus a few replicates' mean random walks."""
    rows, walks = [], []
    for lam in lam_values:
        for n_s in n_s_values:
            spec = loops.LoopSpec("fully_synthetic", generations, n_ini=n_ini, n_s=n_s, lam=lam, seed=seed)
            history = run_gaussian(spec, d, replicates, store)
            rows += tidy.history_rows(spec, history, ["trace", "log_trace", "mean_norm", "mean_1", "wd"])
            walk = per_replicate(history, "mean_1")[:walks_shown]
            for r, path in enumerate(walk):
                walks += [{"lam": lam, "n_s": n_s, "replicate": r, "generation": g + 1, "mean_1": v}
                          for g, v in enumerate(path)]
    return tidy.frame(rows), pd.DataFrame(walks)


# Fig. 10 -----------------------------------------------------------------------------------------------------------
def fresh_data_curves(d, n_ini_values, n_r, n_s, lam_values, generations, replicates, window, seed, store=None):
    """WD to P_r along fresh data loops started from models fit on different numbers n_ini of real samples, and
    each loop's limit: the per-replicate average WD over the last `window` generations (metric `wd_limit`).

    Each n_ini gets its own seed: with one shared seed the loops would draw the same fresh and synthetic noise and
    forget their start into the very same path, which would make the limits equal by construction.
    """
    rows = []
    for lam in lam_values:
        for i, n_ini in enumerate(n_ini_values):
            spec = loops.LoopSpec("fresh_data", generations, n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam,
                                  seed=derived_seed(seed, i))
            history = run_gaussian(spec, d, replicates, store)
            rows += tidy.history_rows(spec, history, ["wd"])
            limit = per_replicate(history, "wd")[:, -window:].mean(axis=1)
            rows.append(tidy.summary_row({**tidy.setting_of(spec), "window": window}, "wd_limit", limit))
    return tidy.frame(rows)


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
        tau = (n_r + n_s) / n_r * (memory + 1) / 2
        burn_in = min(math.ceil(self.burn_in_tau * tau), self.max_generations - self.window)
        return burn_in, burn_in + self.window


def fresh_limit(setting: dict, d, replicates, seed, rule: LimitRule, store=None):
    """Per-replicate time average of WD over the window after burn-in, and a stationarity z-score.

    The z-score compares the window's first and second halves (replicates are independent): a large |z| means
    the burn-in was too short. The loop starts from a model fit on n_r + n_s real samples, nearer the limit than a
    small n_ini would be; the limit itself does not depend on the start (Fig. 10).
    """
    sizes = loops.LoopSpec("fresh_data", 1, n_ini=2, seed=seed, **setting)  # resolves p_real and n into n_r, n_s
    burn_in, generations = rule.generations(sizes.n_r, sizes.n_s, sizes.memory)
    spec = replace(sizes, generations=generations, n_ini=max(sizes.n_r + sizes.n_s, 2))
    wd = per_replicate(run_gaussian(spec, d, replicates, store), "wd")[:, burn_in:]
    half = wd.shape[1] // 2
    drift = wd[:, :half].mean(axis=1) - wd[:, half:].mean(axis=1)
    drift_z = drift.mean() / (drift.std(ddof=1) / np.sqrt(len(drift))) if len(drift) > 1 else np.nan
    return spec, wd.mean(axis=1), float(drift_z), burn_in


@dataclass
class RealFitCurve:
    """Monte-Carlo curve n -> E[WD(model fit on n real samples, P_r)] that eq. (4) inverts."""

    sizes: np.ndarray
    mean: np.ndarray
    sem: np.ndarray

    @classmethod
    def compute(cls, d, replicates, seed, low=2, high=10**7, points=80):
        sizes = np.unique(np.round(np.geomspace(low, high, points)).astype(int))
        curve_seed = seed + 10**6  # keeps the curve's draws apart from those of loops run with `seed`
        mean, sem = tidy.mean_sem(wd_of_real_fits(d, sizes, replicates, seed=curve_seed))
        return cls(sizes, mean, sem)

    def n_e(self, limit: float) -> float:
        return effective_sample_size(limit, self.sizes, self.mean)

    def sem_at(self, n: float) -> float:
        """The curve's own Monte-Carlo SE near n (log-interpolated)."""
        return float(np.interp(np.log(n), np.log(self.sizes), self.sem))


def limit_table(settings: list[dict], d, replicates, seed, rule: LimitRule, curve: RealFitCurve | None = None,
                store=None, desc="fresh data limits") -> pd.DataFrame:
    """For each setting (LoopSpec fields such as n_r, n_s, lam, memory, or p_real and n): the loop's limit WD,
    and with a curve, n_e and n_e / n_r (eq. 4) with SEs propagated from the limit's SE."""
    rows = []
    for setting in tqdm(settings, desc=desc, leave=False, disable=not runs.progress_enabled()):
        spec, limits, drift_z, burn_in = fresh_limit(setting, d, replicates, seed, rule, store)
        base = {**tidy.setting_of(spec), "burn_in": burn_in, "drift_z": drift_z}
        rows.append(tidy.summary_row(base, "wd_limit", limits))
        if curve is not None:
            rows += _effective_size_rows(base, rows[-1], curve, spec.n_r)
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


# The figures' studies ----------------------------------------------------------------------------------------------
def _limits_with_n_e(settings, d, replicates, curve_replicates, rule, seed, store, desc):
    curve = RealFitCurve.compute(d, curve_replicates, seed)
    return limit_table(settings, d, replicates, seed, LimitRule(**rule), curve, store, desc)


def admissibility_nr_ns(d, lam, n_r_values, n_s_values, replicates, curve_replicates, rule, seed, store=None):
    """Fig. 11: n_e / n_r over (n_r, n_s) at one lam."""
    settings = grid(n_r=n_r_values, n_s=n_s_values, lam=[lam])
    return _limits_with_n_e(settings, d, replicates, curve_replicates, rule, seed, store, "Fig. 11 grid")


def admissibility_lam_ns(d, n_r, lam_values, n_s_values, replicates, curve_replicates, rule, seed, store=None):
    """Fig. 12: n_e / n_r over (lam, n_s) at one n_r."""
    settings = grid(lam=lam_values, n_s=n_s_values, n_r=[n_r])
    return _limits_with_n_e(settings, d, replicates, curve_replicates, rule, seed, store, "Fig. 12 grid")


def memory_effect(d, n_r, n_s, lam, memory_values, replicates, curve_replicates, rule, seed, store=None):
    """Fig. 30: n_e / n_r against the memory K of the synthetic sampling."""
    settings = grid(memory=memory_values, n_r=[n_r], n_s=[n_s], lam=[lam])
    return _limits_with_n_e(settings, d, replicates, curve_replicates, rule, seed, store, "Fig. 30 memory")


def real_fraction(d, n_values, p_values, lam_values, p_fixed, replicates, rule, seed, store=None):
    """Fig. 31: limit WD against the total size n, for several real fractions p at lam = 1 (left panel) and for
    several lam at p = p_fixed (right panel)."""
    settings = grid(p_real=p_values, lam=[1.0], n=n_values) + grid(p_real=[p_fixed], lam=lam_values, n=n_values)
    unique = list({tuple(sorted(s.items())): s for s in settings}.values())
    return limit_table(unique, d, replicates, seed, LimitRule(**rule), None, store, "Fig. 31 sizes")
