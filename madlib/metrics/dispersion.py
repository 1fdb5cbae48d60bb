"""Dispersion kept: how much of a data set's spread a model's samples keep.

The spread of a set of points x_1..x_n (in any feature space: the plane, R^d, pixels, LeNet features) is the trace of
its covariance, estimated without bias:

* total:        S = sum_i ||x_i - mean||^2 / (n - 1);
* within-class: S_w = sum_c sum_{i in c} ||x_i - mean_c||^2 / (n - C), pooled over the C classes present (the spread
  a conditional model must keep inside each class; the spread between class means is not counted).

**Dispersion kept** is the ratio S(samples) / S(reference). The samples are those the loop draws from a generation's
model (with the run's sampling bias lam), and the reference is either that generation's own training set
(``dispersion_train``: the model's own shrinkage in one generation, its *effective lam*) or the real distribution
(``dispersion_real``: what is left after all generations so far). A Gaussian fitted by maximum likelihood keeps
(n - 1)/n of its training set's spread; the companion's Gaussian, fitted without bias, keeps lam exactly.

Standard error of a ratio of two spreads measured on independent samples (delta method): S is a mean of the per-point
squared distances d_i = ||x_i - mean_c||^2 (times n/(n - C)), so SE(S) = sd(d) / sqrt(n) to first order, and
SE(S_a / S_b) = (S_a / S_b) * sqrt((SE_a / S_a)^2 + (SE_b / S_b)^2). ``tests/test_dispersion.py`` checks it against
the spread of the ratio over simulated replicates.
"""

from __future__ import annotations

import math

import numpy as np


def _squared_distances(points, labels=None) -> tuple[np.ndarray, int]:
    """Each point's squared distance to the mean of its class (of all points without labels), and the number of
    means subtracted (the degrees of freedom lost)."""
    x = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    if labels is None:
        return ((x - x.mean(0)) ** 2).sum(1), 1
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"labels: one per point; got {len(labels)} labels for {len(x)} points")
    squared = np.empty(len(x))
    classes = np.unique(labels)
    for c in classes:
        members = labels == c
        squared[members] = ((x[members] - x[members].mean(0)) ** 2).sum(1)
    return squared, len(classes)


def spread(points, labels=None) -> float:
    """The unbiased covariance trace of points (n, ...): total, or pooled within-class when labels are given."""
    squared, means = _squared_distances(points, labels)
    if len(squared) <= means:
        raise ValueError(f"points: a spread needs more points than classes; got {len(squared)} points in {means} "
                         f"class(es)")
    return float(squared.sum() / (len(squared) - means))


def spread_with_se(points, labels=None) -> tuple[float, float]:
    """spread(points, labels) and its standard error (module docstring)."""
    squared, means = _squared_distances(points, labels)
    value = spread(points, labels)
    scale = len(squared) / (len(squared) - means)
    return value, float(scale * squared.std(ddof=1) / math.sqrt(len(squared)))


def ratio_se(numerator: float, numerator_se: float, denominator: float, denominator_se: float) -> float:
    """SE of numerator / denominator for two independent estimates (delta method)."""
    ratio = numerator / denominator
    return float(math.hypot(numerator_se, ratio * denominator_se) / abs(denominator))


def kept(samples, reference, sample_labels=None, reference_labels=None) -> tuple[float, float]:
    """Dispersion kept: spread(samples) / spread(reference), each within-class when its labels are given, with the
    delta-method SE; NaN when the reference has no spread (all its points equal)."""
    a, a_se = spread_with_se(samples, sample_labels)
    b, b_se = spread_with_se(reference, reference_labels)
    if not b > 0:
        return math.nan, math.nan
    return a / b, ratio_se(a, a_se, b, b_se)


def kept_scores(samples, training, real, prefix: str = "", sample_labels=None, training_labels=None,
                real_labels=None) -> dict[str, float]:
    """``{prefix}dispersion_train`` and ``{prefix}dispersion_real`` (each with its ``_se``): the samples' spread
    relative to the generation's training set and to the real reference set. With ``training`` None (a model scored
    outside a loop) the training one is NaN."""
    scores = {}
    for name, reference, labels in (("train", training, training_labels), ("real", real, real_labels)):
        key = f"{prefix}dispersion_{name}"
        unknown = (math.nan, math.nan)
        scores[key], scores[f"{key}_se"] = unknown if reference is None else kept(samples, reference, sample_labels,
                                                                                 labels)
    return scores
