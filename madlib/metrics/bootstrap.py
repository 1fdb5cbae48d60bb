"""Bootstrap standard errors of a statistic of evaluation samples."""

from __future__ import annotations

from typing import Callable

import numpy as np

REPLICATES = 30


def bootstrap(statistic: Callable[..., float], rng: np.random.Generator, *arrays: np.ndarray,
              replicates: int = REPLICATES) -> tuple[float, float]:
    """statistic(*arrays) and its bootstrap standard error: the spread (ddof=1) of the statistic over ``replicates``
    resamplings of the rows, with replacement, the same rows taken from every array."""
    value = float(statistic(*arrays))
    n = len(arrays[0])
    draws = []
    for _ in range(replicates):
        rows = rng.integers(n, size=n)
        draws.append(float(statistic(*(a[rows] for a in arrays))))
    return value, float(np.std(draws, ddof=1))
