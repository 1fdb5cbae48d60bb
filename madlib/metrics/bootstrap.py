"""Standard errors of evaluation scores: binomial for a rate, bootstrap for any other statistic of the samples."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

REPLICATES = 30


def binomial_se(rate: float, count: int) -> float:
    """Standard error sqrt(p (1 - p) / n) of a rate p measured as the share of n independent trials."""
    return math.sqrt(max(rate * (1.0 - rate), 0.0) / count)


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
