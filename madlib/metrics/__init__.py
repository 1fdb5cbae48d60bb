"""Metrics: Wasserstein/Frechet distances of Gaussians and the effective sample size n_e."""

from madlib.metrics.effective_sample_size import effective_sample_size
from madlib.metrics.wasserstein import gaussian_w2, gaussian_w2_squared, sqrtm_psd

__all__ = ["effective_sample_size", "gaussian_w2", "gaussian_w2_squared", "sqrtm_psd"]
