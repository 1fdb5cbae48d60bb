"""Loops the paper left out, beside its own (Fig. X1, ours): "replace", "accumulate", "accumulate-subsample" and the
paper's fresh data loop, on the Gaussian (d = 1 and d = 100) and on the 2-D GMM of Figs. 14 and 15.

Every loop trains generation 1 on N real samples and samples N synthetic ones per generation (lam = 1):

* ``replace``: the fully synthetic loop: generation t trains on the N samples of generation t - 1 only;
* ``accumulate``: the N real samples are kept and every synthetic set joins the pool: generation t trains on t N;
* ``accumulate-subsample``: the same pool, but each generation trains on N samples drawn from it uniformly without
  replacement (LoopSpec.pool_size = N): the pool grows, the cost of a generation does not;
* ``fresh data``: the paper's loop: a share ``p_real`` of the N samples is drawn fresh from P_r every generation.

Replace and accumulate-subsample train on N samples per generation, so they compare at equal training cost.

Metrics per generation and replicate: ``mean_error`` = |mu_t - mu_r| (the model's mean against P_r's, which is 0
for both P_r), ``variance_kept`` = tr Sigma_t / tr Sigma_r and its log ``log_variance_kept``, and ``wd``: for the
Gaussian the closed-form W2 to P_r = N(0, I_d); for the GMM the mixture Wasserstein distance MW2 between the fitted
mixture and the real 25-mode mixture, exact from the parameters the store keeps (madlib.metrics.wasserstein.
mixture_w2; an upper bound on W2). The Gaussian runs through the exact path (sufficient statistics), except
accumulate-subsample, which needs the samples themselves and runs through the direct path (the two paths are equal in
distribution: tests/test_gaussian_model.py). Gaussian replicates are batched in one chain per loop; each GMM replicate
is its own chain.

Summary rows ``<metric>_late_rise`` (for wd and mean_error): per replicate, the value at the last generation T
minus the value at H = T // 2 (columns ``from_generation``, ``to_generation``), mean and SE over replicates.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from madlib import chains, data, tidy
from madlib.metrics.wasserstein import mixture_w2
from madlib.gmm_studies import real_values
from madlib.models.gmm import fit_from_metrics

STEM = "figX1_replace_accumulate"
LOOPS = ("replace", "accumulate", "accumulate-subsample", "fresh data")
METRICS = ("mean_error", "variance_kept", "log_variance_kept", "wd")
LATE_RISE = ("wd", "mean_error")
GMM_LABEL = "GMM (25-mode grid)"


def loop_fields(loop: str, n: int, p_real: float) -> dict:
    """The LoopSpec fields of one loop with n training samples in generation 1 and n synthetic ones per generation."""
    if loop == "replace":
        return dict(variant="fully_synthetic", n_ini=n, n_s=n)
    pool = dict(variant="synthetic_augmentation", n_ini=n, n_r=n, n_s=n, accumulate=True)
    if loop == "accumulate":
        return pool
    if loop == "accumulate-subsample":
        return {**pool, "pool_size": n}
    if loop == "fresh data":
        return dict(variant="fresh_data", n_ini=n, p_real=p_real, n=n)
    raise ValueError(f"loop: must be one of {', '.join(LOOPS)}; got {loop!r}")


def gaussian_label(d: int) -> str:
    return f"Gaussian d={d}"


def _gaussian_rows(gaussian: dict) -> list[tuple[int, int, int]]:
    """(d, n, replicates) of each Gaussian row of the figure; one clear error when the lists differ in length."""
    d_values, n_values, replicate_values = (gaussian[k] for k in ("d_values", "n_values", "replicate_values"))
    if not len(d_values) == len(n_values) == len(replicate_values):
        raise ValueError(f"gaussian: d_values, n_values and replicate_values pair up by position, so they need one "
                         f"length; got {len(d_values)}, {len(n_values)} and {len(replicate_values)}")
    return list(zip(d_values, n_values, replicate_values))


def figX1_plan(gaussian: dict, gmm: dict, p_real: float, seed: int) -> list[chains.Chain]:
    """Every chain of Fig. X1: per Gaussian row one chain per loop (replicates batched inside), and `gmm["replicates"]`
    chains per loop of the GMM (model: GMMModel's keyword arguments in gmm["model"])."""
    plan = []
    for d, n, replicates in _gaussian_rows(gaussian):
        for loop in LOOPS:
            method = "direct" if loop == "accumulate-subsample" else "exact"
            plan.append(chains.make("gaussian", seed, model=dict(d=d, replicates=replicates, method=method),
                                    labels={"model": gaussian_label(d), "loop": loop},
                                    generations=gaussian["generations"], **loop_fields(loop, n, p_real)))
    for loop in LOOPS:
        plan += chains.replicates("gmm", seed, gmm["replicates"], model=gmm.get("model"),
                                  labels={"model": GMM_LABEL, "loop": loop}, generations=gmm["generations"],
                                  **loop_fields(loop, gmm["n"], p_real))
    return plan


# Per-replicate values ----------------------------------------------------------------------------------------------
def gaussian_values(history: list, d: int) -> dict[str, np.ndarray]:
    """(replicates, generations) arrays of the figure's metrics from one batched Gaussian chain."""
    def stack(key):
        return np.stack([np.atleast_1d(h[key]) for h in history], axis=1).astype(float)

    return {"mean_error": stack("mean_norm"), "variance_kept": stack("trace") / d,
            "log_variance_kept": stack("log_trace") - np.log(d), "wd": stack("wd")}


GRID_MIXTURE = (np.full(len(data.GRID_MODE_MEANS), 1.0 / len(data.GRID_MODE_MEANS)), data.GRID_MODE_MEANS,
                np.broadcast_to(data.GRID_MODE_STD**2 * np.eye(2), (len(data.GRID_MODE_MEANS), 2, 2)))
GRID_TOTAL_VARIANCE = real_values()["total_variance"]  # 16 + 2 s^2


def gmm_values(history: list) -> dict[str, np.ndarray]:
    """(1, generations) arrays of the figure's metrics from one GMM chain (from the fitted parameters it stores)."""
    fits = [fit_from_metrics(h) for h in history]
    kept = np.array([float(h["total_variance"][0]) for h in history]) / GRID_TOTAL_VARIANCE
    values = {"mean_error": [np.linalg.norm(f.weights @ f.means) for f in fits], "variance_kept": kept,
              "log_variance_kept": np.log(kept),
              "wd": [mixture_w2(f.weights, f.means, f.covariances, *GRID_MIXTURE) for f in fits]}
    return {k: np.asarray(v, dtype=float)[None, :] for k, v in values.items()}


def _values(chain: chains.Chain, history: list) -> dict[str, np.ndarray]:
    return gaussian_values(history, chain.model["d"]) if chain.family == "gaussian" else gmm_values(history)


# The tidy frame ----------------------------------------------------------------------------------------------------
def loop_rows(setting: dict, values: dict[str, np.ndarray]) -> list[dict]:
    """Per-generation rows (mean and SE over replicates) of every metric and the late-rise summary rows."""
    count, last = values["wd"].shape
    middle = max(last // 2, 1)
    base = {**setting, "replicates": count}
    rows = []
    for metric in METRICS:
        mean, sem = tidy.mean_sem(values[metric])
        rows += [{**base, "generation": g + 1, "metric": metric, "mean": float(mean[g]), "sem": float(sem[g])}
                 for g in range(last)]
    span = {**base, "from_generation": middle, "to_generation": last}
    rows += [tidy.summary_row(span, f"{metric}_late_rise", values[metric][:, last - 1] - values[metric][:, middle - 1])
             for metric in LATE_RISE]
    return rows


def figure_frame(plan: Sequence[chains.Chain], histories: Sequence[list]) -> pd.DataFrame:
    """The tidy data of Fig. X1: the chains of one (model, loop) pooled, in the plan's order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, chain in enumerate(plan):
        groups.setdefault((chain.labels["model"], chain.labels["loop"]), []).append(i)
    rows = []
    for (model, loop), members in groups.items():
        first = plan[members[0]]
        per_chain = [_values(plan[i], histories[i]) for i in members]
        values = {m: np.concatenate([v[m] for v in per_chain]) for m in METRICS}
        d = first.model["d"] if first.family == "gaussian" else 2
        setting = {**tidy.setting_of(first.spec), "model": model, "loop": loop, "d": d,
                   "pool_size": first.spec.pool_size}
        rows += loop_rows(setting, values)
    return tidy.frame(rows)


def describe(gaussian: dict, gmm: dict, p_real: float) -> str:
    rows = ", ".join(f"d={d}: N={n}, {r} replicates" for d, n, r in _gaussian_rows(gaussian))
    return (f"lam = 1; N = generation 1's real samples = synthetic samples per generation. Gaussian, P_r = N(0, I_d), "
            f"{gaussian['generations']} generations ({rows}; exact path, accumulate-subsample direct). 2-D GMM, 25 "
            f"components, on the 25-mode grid: N={gmm['n']}, {gmm['generations']} generations, {gmm['replicates']} "
            f"chains per loop; WD = mixture W2 from the fitted parameters. Accumulate-subsample trains on N drawn from "
            f"the pool; fresh data on {p_real:.0%} fresh real + the rest synthetic. Bands +-2 SE over replicates.")


@chains.study(STEM, plan=figX1_plan)
def figX1(gaussian: dict, gmm: dict, p_real: float, seed: int) -> tidy.FigureData:
    """Fig. X1: per model (rows "Gaussian d=...", GMM_LABEL) and loop, every metric per generation and the late-rise
    rows (see the module docstring)."""
    plan = figX1_plan(gaussian, gmm, p_real, seed)
    histories = chains.load(plan)  # from the store, computing what is missing
    return tidy.FigureData(figure_frame(plan, histories), caption=describe(gaussian, gmm, p_real))
