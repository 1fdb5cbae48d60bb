"""The GMM experiment behind Figs. 14 and 15 (paper App. B.2): fully synthetic loops of 2-D Gaussian mixtures started
from the 25-mode grid, as chains of :mod:`madlib.chains`.

Both figures plan the same chains (:func:`gmm_chains`: ``replicates`` replicates of one setting, lam = 1), so the
store computes them once. Their seeds come from the master seed by ``chains.replicates``. A per-generation ``sem`` is
the SE between chains; where the model stores an evaluation SE (recall, precision, high_quality: binomial) that is a
floor under it and the SE of a single chain; the exact parameter-based metrics of a single chain have no SE (NaN).

How well a diversity metric "tracks the loss of modes" is measured per chain by the Spearman rank correlation,
over the chain's generations, between the metric and the number of modes covered (1: the metric falls exactly when
modes are lost, 0: no monotone relation). Chains are independent, so the spread of a chain-level statistic between
chains gives an honest SE; generations within one chain are not independent, so no SE is taken over them.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from madlib import chains, data, loops, tidy
from madlib.models.gmm import density, fit_from_metrics

METRICS = ("total_variance", "modal_variance", "recall", "precision", "density", "coverage", "modes_covered",
           "high_quality")
TRACKED = ("total_variance", "modal_variance", "recall")  # the three diversity metrics of Fig. 15
PARAMETERS = ("weight", "mean_x", "mean_y", "cov_xx", "cov_xy", "cov_yy")  # columns of Fig. 14's components frame
GRID_HALF_WIDTH, GRID_POINTS = 5.5, 400  # Fig. 14's density grid: [-5.5, 5.5]^2, 400 x 400 points


# The chains --------------------------------------------------------------------------------------------------------
def gmm_chains(n_ini: int, n_s: int, generations: int, replicates: int, seed: int,
               model: dict | None = None) -> list[chains.Chain]:
    """The chains of Figs. 14 and 15 (and Fig. 15's plan): `replicates` independent fully synthetic GMM loops
    (lam = 1) of one setting; `model` holds GMMModel's keyword arguments."""
    return chains.replicates("gmm", seed, replicates, model=model, variant="fully_synthetic",
                             generations=generations, n_ini=n_ini, n_s=n_s, lam=1.0)


def fig14_plan(n_ini: int, n_s: int, generations: int, replicates: int, seed: int, shown: Sequence[int],
               model: dict | None = None) -> list[chains.Chain]:
    """Fig. 14's chains: those of Fig. 15 (`shown` picks generations to draw, not chains)."""
    return gmm_chains(n_ini, n_s, generations, replicates, seed, model)


# Chain-level summaries ---------------------------------------------------------------------------------------------
def values(histories: Sequence[list[loops.Metrics]], metric: str) -> np.ndarray:
    """(chains, generations) array of one scalar metric."""
    return np.stack([[float(h[metric][0]) for h in history] for history in histories])


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either is constant."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def tracking_rows(spec: loops.LoopSpec, histories: Sequence[list[loops.Metrics]]) -> list[dict]:
    """Chain-level summaries of one setting's chains (mean and SE over chains; ``replicates`` = chains):

    * ``modes_lost``: modes covered at generation 1 minus at the last generation;
    * ``track_<metric>``: rank correlation of the metric with modes covered over the generations;
    * ``track_gap_<metric>``: track_<metric> - track_total_variance in the same chain (a paired difference).
    """
    covered = values(histories, "modes_covered")
    base = {**tidy.setting_of(spec), "replicates": len(histories)}
    rows = [tidy.summary_row(base, "modes_lost", covered[:, 0] - covered[:, -1])]
    track = {m: np.array([rank_correlation(v, c) for v, c in zip(values(histories, m), covered)]) for m in TRACKED}
    rows += [tidy.summary_row(base, f"track_{m}", track[m]) for m in TRACKED]
    rows += [tidy.summary_row(base, f"track_gap_{m}", track[m] - track["total_variance"]) for m in TRACKED[1:]]
    return rows


def modes_frame(chain_list: Sequence[chains.Chain], histories: Sequence[list[loops.Metrics]]) -> pd.DataFrame:
    """Fig. 14's tidy data: modes covered per generation (mean and SE over chains, as chains.run_chains gives them)
    and modes lost per chain (``modes_lost``)."""
    per_generation = chains.tidy_frame(chain_list, histories, ["modes_covered"])
    return pd.concat([per_generation, tidy.frame(tracking_rows(chain_list[0].spec, histories)[:1])],
                     ignore_index=True)


def diversity_frame(chain_list: Sequence[chains.Chain], histories: Sequence[list[loops.Metrics]]) -> pd.DataFrame:
    """Fig. 15's tidy data: every metric per generation (mean and SE over chains, as chains.run_chains gives them)
    and the tracking summaries."""
    per_generation = chains.tidy_frame(chain_list, histories, METRICS)
    return pd.concat([per_generation, tidy.frame(tracking_rows(chain_list[0].spec, histories))], ignore_index=True)


# Fig. 14's plotted data --------------------------------------------------------------------------------------------
def grid_axis() -> np.ndarray:
    return np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, GRID_POINTS)


def components_frame(histories: Sequence[list[loops.Metrics]], shown: Iterable[int]) -> pd.DataFrame:
    """The fitted mixture of every chain at each shown generation: one row per chain (replicate), generation and
    component, with its weight, mean and covariance."""
    rows = []
    for r, history in enumerate(histories):
        for g in shown:
            fit = fit_from_metrics(history[g - 1])
            rows += [{"replicate": r, "generation": g, "component": k, "weight": fit.weights[k],
                      "mean_x": fit.means[k, 0], "mean_y": fit.means[k, 1], "cov_xx": fit.covariances[k, 0, 0],
                      "cov_xy": fit.covariances[k, 0, 1], "cov_yy": fit.covariances[k, 1, 1]}
                     for k in range(len(fit.weights))]
    return pd.DataFrame(rows, columns=["replicate", "generation", "component", *PARAMETERS])


def densities(histories: Sequence[list[loops.Metrics]], shown: Sequence[int]) -> np.ndarray:
    """(chains, shown generations, GRID_POINTS, GRID_POINTS) float32 array: each chain's fitted density at each shown
    generation on the grid (row: y = grid_axis()[i], column: x = grid_axis()[j])."""
    x, y = np.meshgrid(grid_axis(), grid_axis())
    return np.array([[density(fit_from_metrics(history[g - 1]), x, y) for g in shown] for history in histories],
                    dtype=np.float32).reshape(len(histories), len(shown), GRID_POINTS, GRID_POINTS)


def covered_frame(histories: Sequence[list[loops.Metrics]]) -> pd.DataFrame:
    """Modes covered by every chain (replicate) at every generation."""
    return pd.DataFrame([{"replicate": r, "generation": g, "modes_covered": float(h["modes_covered"][0])}
                         for r, history in enumerate(histories) for g, h in enumerate(history, start=1)])


def describe(chain_list: Sequence[chains.Chain]) -> str:
    """A one-line caption of the setting."""
    spec, m = chain_list[0].spec, chain_list[0].build()
    return (f"2-D GMM ({m.components} full-covariance components, EM) in a fully synthetic loop, lam={spec.lam:g}, "
            f"n_ini={spec.n_ini}, {spec.n_s} samples per generation, {spec.generations} generations, "
            f"{len(chain_list)} independent chain(s); metrics on {m.n_eval} samples; bands +-2 SE between chains "
            f"(never below the evaluation SE).")


def real_values() -> dict[str, float]:
    """The diversity metrics of the real 25-mode grid itself (exact)."""
    return {"total_variance": 16 + 2 * data.GRID_MODE_STD**2, "modal_variance": 2 * data.GRID_MODE_STD**2,
            "modes_covered": float(len(data.GRID_MODE_MEANS))}


# The figures ------------------------------------------------------------------------------------------------------
@chains.study("fig14_gmm_densities", plan=fig14_plan)
def fig14(n_ini: int, n_s: int, generations: int, replicates: int, seed: int, shown: Sequence[int],
          model: dict | None = None) -> tidy.FigureData:
    """Fig. 14: data = modes covered per generation (mean over chains) and modes lost per chain (``modes_lost``);
    frames ``components`` (every chain's fitted parameters at the shown generations; shown generations beyond the
    chains' length are dropped) and ``covered`` (every chain's modes covered per generation); arrays ``density``
    (chains, shown, y, x), its axes ``grid_x``/``grid_y``, ``shown`` and the real ``mode_means``."""
    chain_list = fig14_plan(n_ini, n_s, generations, replicates, seed, shown, model)
    histories = chains.load(chain_list)  # from the store, computing what is missing
    shown = [int(g) for g in shown if 1 <= g <= generations]
    axis = grid_axis()
    return tidy.FigureData(
        modes_frame(chain_list, histories),
        frames={"components": components_frame(histories, shown), "covered": covered_frame(histories)},
        arrays={"density": densities(histories, shown), "grid_x": axis, "grid_y": axis.copy(),
                "shown": np.array(shown, dtype=int), "mode_means": np.array(data.GRID_MODE_MEANS, dtype=float)},
        caption=describe(chain_list))


@chains.study("fig15_gmm_diversity", plan=gmm_chains)
def fig15(n_ini: int, n_s: int, generations: int, replicates: int, seed: int,
          model: dict | None = None) -> tidy.FigureData:
    """Fig. 15: data = every metric per generation and the chain-level tracking summaries; frame ``real`` (metric,
    value): the real distribution's values."""
    chain_list = gmm_chains(n_ini, n_s, generations, replicates, seed, model)
    histories = chains.load(chain_list)  # from the store, computing what is missing
    real = pd.DataFrame({"metric": list(real_values()), "value": list(real_values().values())})
    return tidy.FigureData(diversity_frame(chain_list, histories), frames={"real": real},
                           caption=describe(chain_list))
