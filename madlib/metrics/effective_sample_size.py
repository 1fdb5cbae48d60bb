"""Effective sample size n_e of eq. (4): the number of real samples whose fitted model is, on average, as far from
P_r as the fresh data loop's limit."""

from __future__ import annotations

import numpy as np


def effective_sample_size(limit_distance: float, sizes, mean_distance) -> float:
    """Solve E[dist(G(n_e), P_r)] = limit_distance for n_e.

    `sizes` (increasing) and `mean_distance` form the Monte-Carlo curve n -> E[dist(G(n), P_r)] of models fitted
    on n real samples, which decreases in n. The curve is made monotone by its running minimum (Monte-Carlo noise
    only) and interpolated linearly in log(n) vs log(distance). A limit outside the curve's range is an error: widen
    the grid of sizes.
    """
    sizes = np.asarray(sizes, dtype=float)
    curve = np.minimum.accumulate(np.asarray(mean_distance, dtype=float))
    if sizes.ndim != 1 or sizes.shape != curve.shape or np.any(np.diff(sizes) <= 0):
        raise ValueError("sizes: must be a strictly increasing 1-D grid matching mean_distance")
    if not (curve[-1] <= limit_distance <= curve[0]):
        raise ValueError(
            f"limit_distance: {limit_distance:.4g} is outside the curve's range "
            f"[{curve[-1]:.4g}, {curve[0]:.4g}] for n in [{sizes[0]:g}, {sizes[-1]:g}]; widen sizes"
        )
    log_curve = np.log(curve)[::-1]
    log_sizes = np.log(sizes)[::-1]
    return float(np.exp(np.interp(np.log(limit_distance), log_curve, log_sizes)))
