"""Tidy (long-form) tables of results: one row per setting x generation x metric, columns named after madlib's
parameters (`lam`, `n_ini`, `n_r`, `n_s`, `memory`, `p_real`, `n`), then `generation`, `metric`, `mean`, `sem`."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass
class FigureData:
    """Everything a figure plots and a claim reads, so both can be rebuilt from files without the run store:

    * ``data``: the tidy table (one row per setting x generation x metric) that the claim check reads;
    * ``frames``: further tables (t-SNE points, sample coordinates, spectra, ...), by name;
    * ``arrays``: plotted arrays (sample grids, ...), by name;
    * ``caption``: the line under the figure saying what ran.

    Saved as ``<folder>/<stem>.csv``, ``<folder>/<stem>_<name>.csv`` and ``<folder>/<stem>.npz`` (arrays and caption).
    """

    data: pd.DataFrame
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    caption: str = ""

    def save(self, folder: str | os.PathLike, stem: str) -> list[Path]:
        """Write every part (each file whole or not at all); return the paths."""
        from madlib.runs import atomic_write_bytes

        folder = Path(folder)
        paths = [folder / f"{stem}.csv"]
        atomic_write_bytes(paths[0], csv_bytes(self.data))
        for name, df in self.frames.items():
            paths.append(folder / f"{stem}_{name}.csv")
            atomic_write_bytes(paths[-1], csv_bytes(df))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, caption=np.array(self.caption), **{f"array_{k}": np.asarray(v)
                                                                      for k, v in self.arrays.items()})
        paths.append(folder / f"{stem}.npz")
        atomic_write_bytes(paths[-1], buffer.getvalue())
        return paths

    @classmethod
    def load(cls, folder: str | os.PathLike, stem: str) -> "FigureData":
        """Read what save wrote."""
        folder = Path(folder)
        data = pd.read_csv(folder / f"{stem}.csv")
        frames = {p.name[len(stem) + 1:-4]: pd.read_csv(p) for p in sorted(folder.glob(f"{stem}_*.csv"))}
        with np.load(folder / f"{stem}.npz", allow_pickle=False) as z:
            arrays = {k[len("array_"):]: z[k] for k in z.files if k.startswith("array_")}
            caption = str(z["caption"])
        return cls(data, frames, arrays, caption)


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The bytes of a table's CSV data file (six significant digits)."""
    return df.to_csv(index=False, float_format="%.6g").encode()


def merge_models(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One tidy table of several models' rows, with their names in a ``model`` column (in the given order)."""
    return pd.concat([df.assign(model=name) for name, df in frames.items()], ignore_index=True)
