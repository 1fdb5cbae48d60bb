"""The normalizing-flow experiment behind Fig. 17 (paper App. B.4), as tidy tables.

Each chain is a fully synthetic loop of the Glow flow of :mod:`madlib.models.flow` on the 2-D Rosenbrock density,
run through the run store (``n`` real points for generation 1, then ``n`` synthetic points per generation, drawn
with latent N(0, lam I)). With ``replicates`` > 1 every lam gets that many independent chains (master seeds seed,
seed + 1, ...), and a score's ``sem`` is the between-chain SE of its mean, which includes the training noise (never
less than the evaluation noise of that mean); with one chain it is the evaluation SE of that chain (binomial for the
tail fractions, bootstrap for the spreads, NaN for W1 and the training NLL).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from madlib import data, loops, runs, tidy
from madlib.models import flow

SCORES = ("tail_r2", "tail_x1", "range_x1", "range_x2", "std_x1", "std_x2", "kl_real", "w1", "train_nll")


def chain(lam: float, generations: int, n: int, seed: int = 0,
          model: dict[str, Any] | None = None) -> tuple[loops.LoopSpec, list[loops.Metrics]]:
    """One fully synthetic flow loop (spec and per-generation metrics), from the store when it has it."""
    spec = loops.LoopSpec("fully_synthetic", generations=generations, n_ini=n, n_s=n, lam=lam, seed=seed)
    return spec, runs.run_or_load(spec, flow.for_spec(spec, **(model or {})))


def scores_frame(spec: loops.LoopSpec, histories: list[list[loops.Metrics]],
                 metrics: Iterable[str] = SCORES) -> pd.DataFrame:
    """Tidy rows of one setting's chains: each score per generation, mean over chains and its SE (between chains
    when there are several, else the evaluation SE of the one chain)."""
    rows = []
    for name in metrics:
        values = np.array([[h[name][0] for h in history] for history in histories])  # (chains, generations)
        evaluation_se = np.array([[h[f"{name}_se"][0] for h in history] for history in histories])
        mean, sem = tidy.mean_sem(values)
        # the evaluation noise of the mean: a floor under the between-chain SE (a few chains can agree by chance)
        floor = np.sqrt(np.mean(evaluation_se**2, axis=0) / len(histories))
        sem = floor if len(histories) == 1 else np.fmax(sem, floor)
        rows += [{**tidy.setting_of(spec), "generation": g + 1, "metric": name, "mean": float(mean[g]),
                  "sem": float(sem[g]), "replicates": len(histories)} for g in range(values.shape[1])]
    return tidy.frame(rows)


def fully_synthetic(lam_values: Iterable[float], generations: int, n: int, replicates: int = 1, seed: int = 0,
                    model: dict | None = None, shown: Iterable[int] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chains of every lam: the tidy scores and the stored synthetic points of the ``shown`` generations of
    each lam's first chain, plus as many real points as generation 0 (columns lam, generation, x1, x2)."""
    shown = list(shown)
    if any(g < 1 or g > generations for g in shown):
        raise ValueError(f"shown: generations must lie in 1..{generations}; got {shown}")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates: must be an integer >= 1; got {replicates!r}")
    frames, points = [], []
    for lam in lam_values:
        runs_of_lam = [chain(lam, generations, n, seed + r, model) for r in range(replicates)]
        spec = runs_of_lam[0][0]
        frames.append(scores_frame(spec, [history for _, history in runs_of_lam]))
        points += [points_frame(runs_of_lam[0][1][g - 1]["samples"], lam, g) for g in shown]
    kept = len(points[0]) if points else 0
    real = data.rosenbrock_sample(kept, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
    points = [points_frame(real, np.nan, 0)] + points
    return pd.concat(frames, ignore_index=True), pd.concat(points, ignore_index=True)


def points_frame(points: np.ndarray, lam: float, generation: int) -> pd.DataFrame:
    points = np.asarray(points, dtype=float)
    return pd.DataFrame({"lam": lam, "generation": generation, "x1": points[:, 0], "x2": points[:, 1]})


def describe(model: dict | None = None, n: int = 10000, replicates: int = 1) -> str:
    """A one-line caption saying which flow ran, on what, and what the bands mean."""
    m = flow.FlowModel(**(model or {}))
    bands = ("+-2 SE between chains" if replicates > 1 else
             f"+-2 evaluation SE of one chain ({m.n_eval} samples per generation)")
    return (f"Glow flow: {m.steps} steps (actnorm, invertible 2x2 mixing, affine coupling with a width-{m.hidden} "
            f"MLP), Adam, {m.epochs} epochs of batch {m.batch_size} on n={n} points per generation; "
            f"{replicates} chain(s) per lam; bands {bands}. Dashed curve: the boundary of P_r's 99% "
            f"highest-density region. Dotted lines: values under P_r.")
