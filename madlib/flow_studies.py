"""The normalizing-flow experiment behind Fig. 17 (paper App. B.4), as chains of :mod:`madlib.chains`.

Each chain is a fully synthetic loop of the Glow flow of :mod:`madlib.models.flow` on the 2-D Rosenbrock density
(``n`` real points for generation 1, then ``n`` synthetic points per generation, drawn with latent N(0, lam I)). Every
lam gets ``replicates`` independent chains (seeds derived from the master seed by ``chains.replicates``). A score's
``sem`` follows ``chains.run_chains``: the between-chain SE of the mean, which includes the training noise, never less
than the evaluation noise of that mean; with one chain the evaluation SE of that chain (binomial for the tail
fractions, bootstrap for the spreads, NaN for W1 and the training NLL).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from madlib import chains, data, tidy
from madlib.models import flow

SCORES = ("tail_r2", "tail_x1", "range_x1", "range_x2", "std_x1", "std_x2", "kl_real", "w1", "train_nll")
REAL_POINTS_PURPOSE = 17  # names the stream of the real points drawn for the figure (SeedSequence([seed, 17]))


def flow_chains(lam_values: Iterable[float], generations: int, n: int, replicates: int, seed: int,
                model: dict | None = None) -> list[chains.Chain]:
    """`replicates` fully synthetic flow chains per lam (lam by lam, replicate 0 first); `model` holds FlowModel's
    keyword arguments without lam (each chain passes its own)."""
    return [chain for lam in lam_values
            for chain in chains.replicates("flow", seed, replicates, model=model, variant="fully_synthetic",
                                           generations=generations, n_ini=n, n_s=n, lam=float(lam))]


def fig17_plan(lam_values: Sequence[float], generations: int, n: int, replicates: int, shown: Sequence[int],
               seed: int, model: dict | None = None) -> list[chains.Chain]:
    """Fig. 17's chains (`shown`: the generations whose samples are drawn, each in 1..generations)."""
    shown = list(shown)
    if any(g < 1 or g > generations for g in shown):
        raise ValueError(f"shown: generations must lie in 1..{generations}; got {shown}")
    return flow_chains(lam_values, generations, n, replicates, seed, model)


def points_frame(points: np.ndarray, lam: float, generation: int) -> pd.DataFrame:
    points = np.asarray(points, dtype=float)
    return pd.DataFrame({"lam": lam, "generation": generation, "x1": points[:, 0], "x2": points[:, 1]})


def sample_points(chain_list: Sequence[chains.Chain], histories, shown: Sequence[int], seed: int) -> pd.DataFrame:
    """The stored synthetic points of the ``shown`` generations of each lam's first chain (replicate 0), after as
    many real points as one of them, drawn from the master seed (generation 0, lam NaN); columns lam, generation,
    x1, x2."""
    points = [points_frame(history[g - 1]["samples"], chain.spec.lam, g)
              for chain, history in zip(chain_list, histories) if chain.replicate == 0 for g in shown]
    kept = len(points[0]) if points else 0
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), REAL_POINTS_PURPOSE]))
    return pd.concat([points_frame(data.rosenbrock_sample(kept, rng), np.nan, 0)] + points, ignore_index=True)


def shown_scores(table: pd.DataFrame, shown: Sequence[int]) -> pd.DataFrame:
    """The mean of every score at the shown generations: one row per lam and generation, one column per score."""
    rows = table[table["generation"].isin(list(shown))]
    wide = rows.pivot_table(index=["lam", "generation"], columns="metric", values="mean")
    return wide.reset_index().rename_axis(columns=None)


def describe(chain_list: Sequence[chains.Chain], replicates: int) -> str:
    """A one-line caption saying which flow ran, on what, and what the bands mean."""
    spec, m = chain_list[0].spec, chain_list[0].build()
    bands = ("+-2 SE between chains (never below the evaluation SE)" if replicates > 1 else
             f"+-2 evaluation SE of one chain ({m.n_eval} samples per generation)")
    return (f"Glow flow: {m.steps} steps (actnorm, invertible 2x2 mixing, affine coupling with a width-{m.hidden} "
            f"MLP), Adam, {m.epochs} epochs of batch {m.batch_size} on n={spec.n_s} points per generation; "
            f"{replicates} chain(s) per lam; bands {bands}. Dashed curve: the boundary of P_r's 99% "
            f"highest-density region. Dotted lines: values under P_r.")


@chains.study("fig17_flow_rosenbrock", plan=fig17_plan)
def fig17(lam_values: Sequence[float], generations: int, n: int, replicates: int, shown: Sequence[int], seed: int,
          model: dict | None = None) -> tidy.FigureData:
    """Fig. 17: data = every score per lam and generation; frames ``points`` (real points, generation 0, and each
    lam's first chain's stored samples at the shown generations) and ``shown_scores`` (the scores there); arrays
    ``r2_tail`` (P_r's 99% region: x1² + 2 (x2 - x1²)² <= r2_tail) and ``x1_range`` (P_r's 0.5%-99.5% range of
    x1)."""
    chain_list = fig17_plan(lam_values, generations, n, replicates, shown, seed, model)
    table, histories = chains.run_chains(chain_list, SCORES)
    return tidy.FigureData(
        table,
        frames={"points": sample_points(chain_list, histories, shown, seed),
                "shown_scores": shown_scores(table, shown)},
        arrays={"r2_tail": np.array(flow.R2_TAIL), "x1_range": np.array(2 * flow.X1_TAIL)},
        caption=describe(chain_list, replicates))
