"""The GMM experiment behind Figs. 14 and 15 (paper App. B.2): fully synthetic loops of 2-D Gaussian mixtures started
from the 25-mode grid, run through the store and tidied.

Both figures call :func:`run_chains` with the same settings, so the store computes the chains once. There are
``replicates`` independent chains (seeds split off the master seed); a per-generation ``sem`` is the spread between
chains (standard error of their mean). With a single chain it is the chain's own evaluation SE (binomial, for
rates) and NaN for the exact parameter-based metrics.

How well a diversity metric "tracks the loss of modes" is measured per chain by the Spearman rank correlation,
over the chain's generations, between the metric and the number of modes covered (1: the metric falls exactly when
modes are lost, 0: no monotone relation). Chains are independent, so the spread of a chain-level statistic between
chains gives an honest SE; generations within one chain are not independent, so no SE is taken over them.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from madlib import data, loops, runs, tidy
from madlib.gaussian_studies import derived_seed
from madlib.models.gmm import GMMModel, fit_from_metrics

METRICS = ("total_variance", "modal_variance", "recall", "precision", "density", "coverage", "modes_covered",
           "high_quality")
TRACKED = ("total_variance", "modal_variance", "recall")  # the three diversity metrics of Fig. 15
EVALUATION_SE = {"recall": "recall_se", "precision": "precision_se", "high_quality": "high_quality_se"}

Chain = tuple[loops.LoopSpec, list[loops.Metrics]]


def run_chains(n_ini: int, n_s: int, generations: int, replicates: int, seed: int = 0, lam: float = 1.0,
               model: dict[str, Any] | None = None, store=None) -> list[Chain]:
    """`replicates` independent fully synthetic GMM chains (spec and per-generation metrics), from the store when
    it has them. Chain r uses the seed derived_seed(seed, r)."""
    gmm = GMMModel(**(model or {}))
    chains = []
    for r in range(replicates):
        spec = loops.LoopSpec("fully_synthetic", generations, n_ini=n_ini, n_s=n_s, lam=lam,
                              seed=derived_seed(seed, r))
        chains.append((spec, runs.run_or_load(spec, gmm, store=store)))
    return chains


def values(chains: list[Chain], metric: str) -> np.ndarray:
    """(chains, generations) array of one scalar metric."""
    return np.stack([[float(h[metric][0]) for h in history] for _, history in chains])


def setting(chains: list[Chain]) -> dict:
    """The tidy setting columns of the chains (they differ only in their seeds)."""
    return {**tidy.setting_of(chains[0][0]), "replicates": len(chains)}


def generation_rows(chains: list[Chain], metrics: Iterable[str] = METRICS) -> list[dict]:
    """Mean and SE of each metric at each generation (SE between chains, or the evaluation SE of a single chain)."""
    rows = []
    for metric in metrics:
        table = values(chains, metric)
        mean, sem = tidy.mean_sem(table)
        if len(chains) == 1 and metric in EVALUATION_SE:
            sem = values(chains, EVALUATION_SE[metric])[0]
        rows += [{**setting(chains), "generation": g + 1, "metric": metric, "mean": mean[g], "sem": sem[g]}
                 for g in range(table.shape[1])]
    return rows


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either is constant."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def tracking_rows(chains: list[Chain]) -> list[dict]:
    """Chain-level summaries (mean and SE over chains):

    * ``modes_lost``: modes covered at generation 1 minus at the last generation;
    * ``track_<metric>``: rank correlation of the metric with modes covered over the generations;
    * ``track_gap_<metric>``: track_<metric> - track_total_variance in the same chain (a paired difference).
    """
    covered = values(chains, "modes_covered")
    base = setting(chains)
    rows = [tidy.summary_row(base, "modes_lost", covered[:, 0] - covered[:, -1])]
    track = {m: np.array([rank_correlation(v, c) for v, c in zip(values(chains, m), covered)]) for m in TRACKED}
    rows += [tidy.summary_row(base, f"track_{m}", track[m]) for m in TRACKED]
    rows += [tidy.summary_row(base, f"track_gap_{m}", track[m] - track["total_variance"]) for m in TRACKED[1:]]
    return rows


def diversity_frame(chains: list[Chain]) -> pd.DataFrame:
    """Fig. 15's data: every metric per generation and the chain-level tracking summaries."""
    return tidy.frame(generation_rows(chains) + tracking_rows(chains))


def component_rows(chains: list[Chain], shown: Iterable[int]) -> list[dict]:
    """The fitted mixture of each chain at each shown generation, one row per component and parameter
    (metric weight, mean_x, mean_y, cov_xx, cov_xy, cov_yy; columns replicate and component), and the chain's
    number of modes covered there (metric chain_modes_covered)."""
    rows = []
    for r, (spec, history) in enumerate(chains):
        for g in shown:
            fit = fit_from_metrics(history[g - 1])
            rows.append({**setting(chains), "generation": g, "metric": "chain_modes_covered",
                         "mean": float(history[g - 1]["modes_covered"][0]), "sem": np.nan, "replicate": r})
            for k in range(len(fit.weights)):
                parameters = {"weight": fit.weights[k], "mean_x": fit.means[k, 0], "mean_y": fit.means[k, 1],
                              "cov_xx": fit.covariances[k, 0, 0], "cov_xy": fit.covariances[k, 0, 1],
                              "cov_yy": fit.covariances[k, 1, 1]}
                rows += [{**setting(chains), "generation": g, "metric": name, "mean": value, "sem": np.nan,
                          "replicate": r, "component": k} for name, value in parameters.items()]
    return rows


def densities_frame(chains: list[Chain], shown: Iterable[int]) -> pd.DataFrame:
    """Fig. 14's data: the fitted parameters at the shown generations, modes covered per generation, modes lost."""
    shown = [g for g in shown if 1 <= g <= chains[0][0].generations]
    rows = component_rows(chains, shown) + generation_rows(chains, ["modes_covered"])
    return tidy.frame(rows + tracking_rows(chains)[:1])


def fit_of(df: pd.DataFrame, generation: int, replicate: int = 0):
    """The mixture of one chain at one generation, rebuilt from a densities_frame."""
    rows = df[(df["generation"] == generation) & (df["replicate"] == replicate) & df["component"].notna()]
    table = rows.pivot(index="component", columns="metric", values="mean").sort_index()
    return fit_from_metrics({
        "weights": table["weight"].to_numpy(),
        "means": table[["mean_x", "mean_y"]].to_numpy().ravel(),
        "covariances": table[["cov_xx", "cov_xy", "cov_xy", "cov_yy"]].to_numpy().ravel(),
    })


def describe(n_s: int, generations: int, replicates: int, model: dict | None = None, **_) -> str:
    """A one-line caption of the setting."""
    m = GMMModel(**(model or {}))
    return (f"2-D GMM ({m.components} full-covariance components, EM) in a fully synthetic loop, lam=1, "
            f"{n_s} samples per generation, {generations} generations, {replicates} independent chain(s); "
            f"metrics on {m.n_eval} samples; bands +-2 SE between chains.")


def real_values() -> dict[str, float]:
    """The diversity metrics of the real 25-mode grid itself (exact)."""
    return {"total_variance": 16 + 2 * data.GRID_MODE_STD**2, "modal_variance": 2 * data.GRID_MODE_STD**2,
            "modes_covered": float(len(data.GRID_MODE_MEANS))}
