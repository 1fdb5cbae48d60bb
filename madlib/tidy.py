"""Tidy (long-form) tables of results: one row per setting x generation x metric, columns named after madlib's
parameters (`lam`, `n_ini`, `n_r`, `n_s`, `memory`, `p_real`, `n`), then `generation`, `metric`, `mean`, `sem`."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from madlib import loops

SETTING_COLUMNS = ["variant", "lam", "n_ini", "n_r", "n_s", "memory", "p_real", "n"]
VALUE_COLUMNS = ["generation", "metric", "mean", "sem"]


def mean_sem(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean over independent replicates and its standard error (NaN with a single replicate)."""
    values = np.asarray(values, dtype=float)
    count = values.shape[axis]
    sem = values.std(axis=axis, ddof=1) / np.sqrt(count) if count > 1 else np.full(np.mean(values, axis).shape, np.nan)
    return values.mean(axis=axis), sem


def setting_of(spec: loops.LoopSpec) -> dict:
    """The spec's fields that name a setting in a tidy table."""
    return {k: getattr(spec, k) for k in SETTING_COLUMNS}


def history_rows(spec: loops.LoopSpec, history: list[loops.Metrics], metrics: Iterable[str]) -> list[dict]:
    """Rows of one run: mean and SE over replicates of each metric at each generation."""
    rows = []
    setting = setting_of(spec)
    for metric in metrics:
        values = np.stack([np.atleast_1d(h[metric]) for h in history], axis=1)  # (replicates, generations)
        mean, sem = mean_sem(values)
        for g in range(values.shape[1]):
            rows.append({**setting, "generation": g + 1, "metric": metric, "mean": mean[g], "sem": sem[g]})
    return rows


def evaluation_rows(spec: loops.LoopSpec, history: list[loops.Metrics], metrics: Iterable[str]) -> pd.DataFrame:
    """Tidy rows of one single-chain run: each metric per generation with its own evaluation SE (the run stores
    ``<metric>_se`` beside ``<metric>``) as ``sem``. Used by the neural models, which run one chain per setting."""
    rows = [{**setting_of(spec), "generation": g, "metric": name, "mean": float(h[name][0]),
             "sem": float(h[f"{name}_se"][0])}
            for g, h in enumerate(history, start=1) for name in metrics]
    return frame(rows)


def summary_row(setting: Mapping, metric: str, values: np.ndarray, generation=np.nan) -> dict:
    """One row for a per-replicate quantity that has no generation axis (e.g. a loop's limit)."""
    mean, sem = mean_sem(np.atleast_1d(values))
    return {**setting, "generation": generation, "metric": metric, "mean": float(mean), "sem": float(sem)}


def frame(rows: list[dict]) -> pd.DataFrame:
    """The tidy table with its columns in the agreed order."""
    df = pd.DataFrame(rows)
    for column in SETTING_COLUMNS:
        if column not in df:
            df[column] = np.nan
    return df[SETTING_COLUMNS + VALUE_COLUMNS + [c for c in df.columns if c not in SETTING_COLUMNS + VALUE_COLUMNS]]
