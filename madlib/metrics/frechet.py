"""Frechet distance between Gaussian fits of two feature sets (FID when the features come from a classifier).

Fit N(m1, C1) to the real features and N(m2, C2) to the fake ones (sample mean, unbiased covariance); the score is
the squared 2-Wasserstein distance between the two fits,

    |m1 - m2|^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}),

(Frechet 1957; Dowson & Landau 1982; Heusel et al. 2017 for FID). The paper (Sec. 2.4) reports it with Inception
features for images and LeNet features for MNIST. The closed form itself lives in `madlib.metrics.wasserstein`.
"""

from __future__ import annotations

import numpy as np

from madlib.metrics.wasserstein import gaussian_w2_squared


def as_float64_matrix(name: str, features) -> np.ndarray:
    """`features` (numpy array, or torch tensor on any device) as a float64 array of shape (points, features)."""
    if hasattr(features, "detach"):  # a torch tensor; torch itself is not needed here
        features = features.detach().cpu().numpy()
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D (points, features), got shape {matrix.shape}")
    if matrix.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 points for a covariance, got {matrix.shape[0]}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return matrix


def gaussian_fit(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (features,) and unbiased covariance (features, features) of a (points, features) array, in float64."""
    matrix = as_float64_matrix("features", features)
    return matrix.mean(axis=0), np.atleast_2d(np.cov(matrix, rowvar=False))


def frechet_distance(real, fake) -> float:
    """Squared Frechet (2-Wasserstein) distance between the Gaussian fits of `real` and `fake` features."""
    real = as_float64_matrix("real", real)
    return frechet_distance_to_fit(gaussian_fit(real), fake)


def frechet_distance_to_fit(real_fit: tuple[np.ndarray, np.ndarray], fake) -> float:
    """frechet_distance with the real side given as its Gaussian fit (mean, covariance) from `gaussian_fit`, so that
    many fake sets (bootstrap resamples, say) are scored against one real fit made once."""
    mean, covariance = real_fit
    fake = as_float64_matrix("fake", fake)
    if fake.shape[1] != len(mean):
        raise ValueError(f"fake has {fake.shape[1]} features but real has {len(mean)}")
    return float(gaussian_w2_squared(mean, covariance, *gaussian_fit(fake)))
