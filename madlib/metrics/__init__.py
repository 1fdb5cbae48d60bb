"""Metrics: Wasserstein/Frechet distances of Gaussians, the effective sample size n_e, and precision / recall /
density / coverage on feature arrays.

`prdc` needs torch, which is imported only when `madlib.metrics.prdc` is first used.
"""

from madlib.metrics.effective_sample_size import effective_sample_size
from madlib.metrics.frechet import frechet_distance, gaussian_fit
from madlib.metrics.wasserstein import gaussian_w2, gaussian_w2_squared, sqrtm_psd

__all__ = ["effective_sample_size", "frechet_distance", "gaussian_fit", "gaussian_w2", "gaussian_w2_squared", "prdc",
           "sqrtm_psd"]


def __getattr__(name: str):
    if name == "prdc":
        from madlib.metrics.precision_recall import prdc

        return prdc
    raise AttributeError(f"module 'madlib.metrics' has no attribute {name!r}")
