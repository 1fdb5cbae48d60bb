"""Figures beyond the paper (ours): Fig. X1, loops the paper left out; Fig. X2, each model's own sampling bias.

Fig. X1: "replace", "accumulate", "accumulate-subsample" and the
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

Fig. X2 reads no chain of its own: it reads the fully synthetic chains of other figures (``sources``: per model, the
figure whose plan holds them and a filter on the spec), so the run store computes each once. Per model and lam, per
generation: the dispersion kept (:mod:`madlib.metrics.dispersion`) against the generation's own training set
(``dispersion_train``) and against the real data (``dispersion_real``), for images in LeNet features and in pixels
(``pixel_...``). Summary rows ``effective_lam`` (``pixel_effective_lam``): the geometric mean of dispersion_train over
generations 1..T (T = the figure's ``generations`` or the chain's length), the lam the model's own loop behaves like.
Its SE is on the log scale (columns ``log_mean``, ``log_sem``, ``dof``): over replicates when a setting has several
(Student t on replicates - 1), else over the T generations of the one chain (each a freshly trained model; t on
T - 1), never below the evaluation SE.
"""

from __future__ import annotations

import dataclasses
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


# Fig. X2 (beyond the paper: each model's own sampling bias) -----------------------------------------------------
X2_STEM = "figX2_sampling_bias"
X2_METRICS = ("dispersion_train", "dispersion_real")
X2_IMAGE_FAMILIES = ("ddpm", "gan")


def figX2_plan(sources: list[dict], preset: str, generations: int, seed: int) -> list[chains.Chain]:
    """The fully synthetic chains of each source (``model``: its label; ``figure``: the figure whose plan holds them at
    ``preset``; ``family``; ``where``: spec fields they must have), labelled with the model; ``generations`` is read
    by the build only."""
    plan = []
    for source in sources:
        for chain in chains.plan(source["figure"], preset, seed=seed):
            if _x2_selected(chain, source):
                plan.append(dataclasses.replace(chain, labels={"model": source["model"]}))
    if not plan:
        raise ValueError(f"sources: no fully synthetic chain of {', '.join(s['figure'] for s in sources)} has the "
                         f"family and the spec fields (where) asked for")
    return plan


def _x2_selected(chain: chains.Chain, source: dict) -> bool:
    spec = chain.spec
    return (chain.family == source["family"] and spec.variant == "fully_synthetic" and not spec.accumulate
            and all(getattr(spec, field) == value for field, value in source.get("where", {}).items()))


def x2_metrics(chain: chains.Chain) -> tuple[str, ...]:
    """The dispersion metrics a chain stores: LeNet-feature and pixel ones for the image models."""
    pixels = tuple(f"pixel_{m}" for m in X2_METRICS) if chain.family in X2_IMAGE_FAMILIES else ()
    return X2_METRICS + pixels


def effective_lam(values: np.ndarray, ses: np.ndarray | None) -> tuple[float, float, float]:
    """(mean log, its SE, degrees of freedom) of per-generation dispersion kept, values (replicates, T): see the module
    docstring."""
    logs = np.log(values)
    count, length = logs.shape
    if count > 1:
        mean, sem = tidy.mean_sem(logs.mean(axis=1))
        return float(mean), float(sem), count - 1
    between = logs.std(ddof=1) / np.sqrt(length) if length > 1 else np.nan
    floor = np.sqrt(np.mean((ses / values) ** 2) / length) if ses is not None else np.nan
    return float(logs.mean()), float(np.fmax(between, floor)), length - 1


def _x2_effective_rows(group: list[chains.Chain], histories: list[list], last: int) -> list[dict]:
    """The effective-lam rows of one setting, from its chains' histories cut at generation ``last``."""
    first = group[0]
    base = {**tidy.setting_of(first.spec), **first.labels, "from_generation": 1, "to_generation": last}
    rows = []
    for metric in x2_metrics(first):
        if not metric.endswith("_train"):
            continue
        values = np.concatenate([chains.per_replicate(h, metric) for h in histories])
        has_se = f"{metric}_se" in histories[0][0]
        ses = np.concatenate([chains.per_replicate(h, f"{metric}_se") for h in histories]) if has_se else None
        mean, sem, dof = effective_lam(values, ses)
        name = metric.replace("dispersion_train", "effective_lam")
        rows.append({**base, "replicates": len(values), "generation": np.nan, "metric": name,
                     "mean": float(np.exp(mean)), "sem": float(np.exp(mean) * sem), "log_mean": mean, "log_sem": sem,
                     "dof": dof})
    return rows


def figX2_frame(plan: Sequence[chains.Chain], histories: Sequence[list], generations: int) -> pd.DataFrame:
    """Per model and lam: the dispersion metrics for generations 1..T and the effective-lam rows."""
    groups: dict[str, list[int]] = {}
    for i, chain in enumerate(plan):
        groups.setdefault(chain.setting(), []).append(i)
    parts = []
    for members in groups.values():
        group = [plan[i] for i in members]
        last = min(generations, group[0].spec.generations)
        trimmed = [histories[i][:last] for i in members]
        parts.append(chains.tidy_frame(group, trimmed, x2_metrics(group[0])))
        parts.append(tidy.frame(_x2_effective_rows(group, trimmed, last)))
    return pd.concat(parts, ignore_index=True)


def describe_x2(sources: list[dict], preset: str, generations: int) -> str:
    where = "; ".join(f"{s['model']} from {s['figure'].split('_')[0]}" for s in sources)
    return (f"Fully synthetic chains of the {preset} preset ({where}), generations 1-{generations} at most. Dispersion "
            f"kept: covariance trace of the samples the loop draws (with its lam) over that of the generation's "
            f"training set, within-class for the DDPM, in LeNet features for images. Effective lam: geometric mean "
            f"over generations. Bands +-2 SE.")


@chains.study(X2_STEM, plan=figX2_plan)
def figX2(sources: list[dict], preset: str, generations: int, seed: int) -> tidy.FigureData:
    """Fig. X2: each model's dispersion kept per generation and its effective lam (see the module docstring)."""
    plan = figX2_plan(sources, preset, generations, seed)
    histories = chains.load(plan)
    return tidy.FigureData(figX2_frame(plan, histories, generations), caption=describe_x2(sources, preset,
                                                                                         generations))
