"""Closed-form 2-Wasserstein distance between Gaussians (batched over leading axes).

For N(m1, S1) and N(m2, S2):  W2^2 = |m1 - m2|^2 + tr(S1 + S2 - 2 (S2^{1/2} S1 S2^{1/2})^{1/2})
(Dowson & Landau 1982; Givens & Shortt 1984). The paper's WD is the unsquared W2; FID is the squared one.
"""

from __future__ import annotations

import numpy as np


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of symmetric positive semi-definite matrices (negative eigenvalues clipped to 0)."""
    eigvals, eigvecs = np.linalg.eigh(0.5 * (matrix + np.swapaxes(matrix, -1, -2)))
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))[..., None, :]) @ np.swapaxes(eigvecs, -1, -2)


def gaussian_w2_squared(mean1, cov1, mean2, cov2) -> np.ndarray:
    """Squared W2 between N(mean1, cov1) and N(mean2, cov2); arrays may carry leading batch axes."""
    mean1, cov1, mean2, cov2 = (np.asarray(a, dtype=float) for a in (mean1, cov1, mean2, cov2))
    root2 = sqrtm_psd(cov2)
    cross = np.linalg.eigvalsh(root2 @ cov1 @ root2)
    cross_trace = np.sqrt(np.clip(cross, 0.0, None)).sum(axis=-1)
    trace = np.trace(cov1, axis1=-2, axis2=-1) + np.trace(cov2, axis1=-2, axis2=-1)
    value = np.sum((mean1 - mean2) ** 2, axis=-1) + trace - 2.0 * cross_trace
    return np.clip(value, 0.0, None)


def gaussian_w2(mean1, cov1, mean2, cov2) -> np.ndarray:
    """Unsquared W2 between two Gaussians (the paper's WD)."""
    return np.sqrt(gaussian_w2_squared(mean1, cov1, mean2, cov2))


def w2_to_standard_normal_from_eigh(mean: np.ndarray, cov_eigvals: np.ndarray) -> np.ndarray:
    """W2 between N(mean, cov) and N(0, I) from the eigenvalues of cov: sqrt(|mean|^2 + sum_i (sqrt(e_i) - 1)^2)."""
    root_eigs = np.sqrt(np.clip(cov_eigvals, 0.0, None))
    return np.sqrt(np.sum(mean**2, axis=-1) + np.sum((root_eigs - 1.0) ** 2, axis=-1))


def mixture_w2(weights1, means1, covs1, weights2, means2, covs2) -> float:
    """The mixture Wasserstein distance MW2 between two Gaussian mixtures (Delon & Desolneux 2020, SIAM J. Imaging
    Sci. 13(2)): the unsquared cost of the optimal transport plan between the components, with the squared closed-form
    W2 between two components as the ground cost,

        MW2^2 = min over plans pi (marginals w1, w2) of  sum_kl pi_kl W2^2(N(m1_k, S1_k), N(m2_l, S2_l)).

    It is a distance between mixtures, an upper bound on their W2, and exact from the parameters (no sampling).
    Weights are normalised to sum 1; components are (K, d) means and (K, d, d) covariances.
    """
    import ot

    w1, w2 = (np.asarray(w, dtype=float) / np.sum(w) for w in (weights1, weights2))
    m1, c1, m2, c2 = (np.asarray(a, dtype=float) for a in (means1, covs1, means2, covs2))
    cost = gaussian_w2_squared(m1[:, None], c1[:, None], m2[None], c2[None])  # (K1, K2)
    return float(np.sqrt(max(ot.emd2(w1, w2, cost), 0.0)))
