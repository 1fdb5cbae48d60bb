"""Gaussian mixture model in 2-D against the 25-mode grid (paper App. B.2, Figs. 14 and 15), as a loops.LoopModel.

Each generation fits scikit-learn's ``GaussianMixture`` (K = 25 components, full covariances, k-means start,
seeded from the engine's stream) to its training set, an (n, 2) array. Sampling with bias lam picks a component k
with probability w_k and draws from N(mu_k, lam * Sigma_k) (paper Sec. 2.3: every component's covariance scaled).

Metrics of a fitted mixture (``evaluate``), each a float array:

* ``total_variance``: trace of the mixture's covariance, exact from its parameters:
  tr(sum_k w_k (Sigma_k + mu_k mu_k^T) - mubar mubar^T), mubar = sum_k w_k mu_k. The real value is 16 + 2 s^2.
* ``modal_variance`` (average modal variance): give each component to the real mode nearest its mean; per real
  mode, the trace of the covariance of the sub-mixture of its components (weights renormalised), exact from the
  parameters; averaged over the 25 real modes, a mode that got no component (a lost mode) counting 0. The real
  value is 2 s^2 (s = 0.05: 0.005).
* ``precision``, ``recall``, ``density``, ``coverage`` (k = 5, madlib.metrics.precision_recall.prdc) of
  ``n_eval`` unbiased samples against a fixed real sample of ``n_eval`` points (drawn once from ``real_seed``),
  with binomial SEs ``*_se`` for the two rates.
* ``modes_covered``: the number of real modes m such that at least ``cover_fraction`` (1% by default, a quarter
  of a mode's real share of 4%) of the evaluation samples lie within 3 s of mu_m (the usual "3 standard
  deviations" rule of the mode-collapse literature). ``high_quality``: the share of evaluation samples within 3 s of
  some mode, with its binomial SE.
* ``weights`` (K,), ``means`` (2K,), ``covariances`` (4K,): the fitted parameters, flattened, so that densities of
  any generation can be drawn from the run store's metrics alone.
* ``dispersion_train`` and ``dispersion_real`` (:mod:`madlib.metrics.dispersion`): the total variance of the loop's
  sampler (every Sigma_k scaled by the run's lam), exact from the parameters, over the training set's unbiased
  covariance trace (SE from the training set) and over the real 16 + 2 s^2 (exact, SE 0).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from madlib import data, loops
from madlib.metrics import dispersion
from madlib.metrics.bootstrap import binomial_se
from madlib.runs import atomic_write_bytes

FORMAT = "madlib-gmm-v1"


@dataclass
class GMMFit:
    """A fitted mixture: weights (K,), means (K, 2), covariances (K, 2, 2)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        check_parameters(self.weights, self.means, self.covariances)


def check_parameters(weights, means, covariances) -> None:
    """Raise one ValueError naming the first parameter that is not a valid 2-D mixture."""
    weights, means, covariances = (np.asarray(a, dtype=float) for a in (weights, means, covariances))
    k = weights.shape[0] if weights.ndim == 1 else -1
    if k < 1 or not np.all(np.isfinite(weights)) or weights.min() < 0 or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights: must be a finite 1-D array of K >= 1 non-negative numbers summing to 1; "
                         f"got shape {weights.shape}")
    if means.shape != (k, 2) or not np.all(np.isfinite(means)):
        raise ValueError(f"means: must be a finite ({k}, 2) array; got shape {means.shape}")
    if covariances.shape != (k, 2, 2) or not np.all(np.isfinite(covariances)):
        raise ValueError(f"covariances: must be a finite ({k}, 2, 2) array; got shape {covariances.shape}")
    if not np.allclose(covariances, np.swapaxes(covariances, 1, 2)) or np.linalg.eigvalsh(covariances).min() <= 0:
        raise ValueError("covariances: every covariance must be symmetric positive definite")


def mixture_covariance(fit: GMMFit) -> np.ndarray:
    """Covariance of the whole mixture: sum_k w_k (Sigma_k + mu_k mu_k^T) - mubar mubar^T."""
    w = fit.weights / fit.weights.sum()
    mean = w @ fit.means
    second = np.einsum("k,kij->ij", w, fit.covariances + fit.means[:, :, None] * fit.means[:, None, :])
    return second - np.outer(mean, mean)


def real_total_variance(mode_means: np.ndarray = data.GRID_MODE_MEANS, std: float = data.GRID_MODE_STD) -> float:
    """Trace of the covariance of the real grid (equal-weight modes of covariance std^2 I): 16 + 2 s^2."""
    return float(np.var(mode_means, axis=0).sum() + mode_means.shape[1] * std**2)


def modal_variances(fit: GMMFit, mode_means: np.ndarray = data.GRID_MODE_MEANS) -> np.ndarray:
    """Per real mode, the trace of the covariance of the components nearest it (0 where there are none)."""
    owner = np.argmin(((fit.means[:, None, :] - mode_means[None]) ** 2).sum(-1), axis=1)
    result = np.zeros(len(mode_means))
    for m in np.unique(owner):
        part = owner == m
        sub = GMMFit(fit.weights[part] / fit.weights[part].sum(), fit.means[part], fit.covariances[part])
        result[m] = np.trace(mixture_covariance(sub))
    return result


def modes_covered(samples: np.ndarray, fraction: float, mode_means: np.ndarray = data.GRID_MODE_MEANS,
                  std: float = data.GRID_MODE_STD) -> tuple[int, float]:
    """Number of modes with at least `fraction` of the samples within 3 std of their mean, and the share of samples
    within 3 std of some mode."""
    near = np.linalg.norm(samples[:, None, :] - mode_means[None], axis=-1) <= 3.0 * std  # (n, modes)
    return int((near.mean(axis=0) >= fraction).sum()), float(near.any(axis=1).mean())


class GMMModel:
    """2-D Gaussian mixtures fitted by EM in the loop, evaluated against the 25-mode grid of madlib.data.grid25."""

    def __init__(self, components: int = 25, n_eval: int = 2000, real_seed: int = 12345, k: int = 5,
                 cover_fraction: float = 0.01, reg_covar: float = 1e-6, max_iter: int = 100):
        for name, value, low in (("components", components, 1), ("n_eval", n_eval, k + 1), ("k", k, 1),
                                 ("real_seed", real_seed, 0), ("max_iter", max_iter, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}: must be an integer >= {low}; got {value!r}")
        if not (isinstance(cover_fraction, (int, float)) and 0.0 < cover_fraction <= 1.0):
            raise ValueError(f"cover_fraction: must lie in (0, 1]; got {cover_fraction!r}")
        if not (isinstance(reg_covar, (int, float)) and reg_covar >= 0.0):
            raise ValueError(f"reg_covar: must be a number >= 0; got {reg_covar!r}")
        self.components, self.n_eval, self.real_seed, self.k = int(components), int(n_eval), int(real_seed), int(k)
        self.cover_fraction, self.reg_covar, self.max_iter = float(cover_fraction), float(reg_covar), int(max_iter)
        self._real = None

    def config(self) -> dict[str, Any]:
        return {"model": "gmm", "data": "grid25", "mode_std": data.GRID_MODE_STD, "components": self.components,
                "covariance": "full", "n_eval": self.n_eval, "real_seed": self.real_seed, "k": self.k,
                "cover_fraction": self.cover_fraction, "reg_covar": self.reg_covar, "max_iter": self.max_iter}

    # data ---------------------------------------------------------------------------------------------------------
    def draw_real(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return data.grid25(n, rng)

    def real_reference(self) -> np.ndarray:
        """The fixed real sample that precision and recall compare against (the same for every generation)."""
        if self._real is None:
            self._real = data.grid25(self.n_eval, np.random.default_rng(self.real_seed))
        return self._real

    def join(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(p, dtype=float).reshape(-1, 2) for p in parts])

    def subsample(self, samples: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """n of the samples, drawn uniformly without replacement (the accumulate-subsample loop's training set)."""
        return samples[rng.choice(len(samples), size=int(n), replace=False)]

    # model --------------------------------------------------------------------------------------------------------
    def fit(self, samples: np.ndarray, rng: np.random.Generator) -> GMMFit:
        """EM fit of a fresh K-component full-covariance mixture (k-means start seeded from rng)."""
        from sklearn.mixture import GaussianMixture

        samples = np.asarray(samples, dtype=float)
        if samples.ndim != 2 or samples.shape[1] != 2:
            raise ValueError(f"samples: must be an (n, 2) array; got shape {samples.shape}")
        if samples.shape[0] < self.components:
            raise ValueError(f"samples: fitting {self.components} components needs at least that many samples; "
                             f"got {samples.shape[0]}")
        mixture = GaussianMixture(self.components, covariance_type="full", reg_covar=self.reg_covar,
                                  max_iter=self.max_iter, random_state=int(rng.integers(2**31 - 1)))
        mixture.fit(samples)
        weights = mixture.weights_ / mixture.weights_.sum()
        return GMMFit(weights, mixture.means_, mixture.covariances_)

    def sample(self, fitted: GMMFit, n: int, lam: float, rng: np.random.Generator) -> np.ndarray:
        """n draws: a component k with probability w_k, then N(mu_k, lam * Sigma_k)."""
        lam = loops.check_lam(lam)
        which = rng.choice(len(fitted.weights), size=int(n), p=fitted.weights)
        roots = np.linalg.cholesky(fitted.covariances)[which]  # (n, 2, 2)
        noise = np.einsum("nij,nj->ni", roots, rng.standard_normal((int(n), 2)))
        return fitted.means[which] + np.sqrt(lam) * noise

    def evaluate(self, fitted: GMMFit, lam: float, rng: np.random.Generator, training=None) -> loops.Metrics:
        """The metrics of the module docstring for one fitted mixture (scored on unbiased samples; lam and
        ``training``, the data it was fitted on, serve only the dispersion kept)."""
        from madlib.metrics.precision_recall import prdc

        fake = self.sample(fitted, self.n_eval, 1.0, rng)
        scores = prdc(self.real_reference(), fake, k=self.k, device="cpu")
        covered, quality = modes_covered(fake, self.cover_fraction)
        metrics = {
            "total_variance": np.trace(mixture_covariance(fitted)),
            "modal_variance": modal_variances(fitted).mean(),
            **scores,
            "precision_se": binomial_se(scores["precision"], self.n_eval),
            "recall_se": binomial_se(scores["recall"], self.n_eval),
            "modes_covered": covered,
            "high_quality": quality,
            "high_quality_se": binomial_se(quality, self.n_eval),
            "weights": fitted.weights,
            "means": fitted.means.ravel(),
            "covariances": fitted.covariances.ravel(),
            **self.dispersion_scores(fitted, lam, training),
        }
        return {key: np.atleast_1d(np.asarray(value, dtype=float)) for key, value in metrics.items()}

    def dispersion_scores(self, fitted: GMMFit, lam: float, training) -> dict[str, float]:
        """dispersion_train and dispersion_real of the sampler with bias lam (module docstring), with SEs."""
        scaled = GMMFit(fitted.weights, fitted.means, loops.check_lam(lam) * fitted.covariances)
        kept = float(np.trace(mixture_covariance(scaled)))
        scores = {"dispersion_train": math.nan, "dispersion_train_se": math.nan,
                  "dispersion_real": kept / real_total_variance(), "dispersion_real_se": 0.0}
        if training is not None:
            spread, spread_se = dispersion.spread_with_se(training)
            scores["dispersion_train"] = kept / spread
            scores["dispersion_train_se"] = dispersion.ratio_se(kept, 0.0, spread, spread_se)
        return scores

    # persistence --------------------------------------------------------------------------------------------------
    def save(self, obj, path: str) -> None:
        """A fit or a sample set as an .npz written atomically (tagged, so load can tell what it reads)."""
        if isinstance(obj, GMMFit):
            arrays = {"kind": "fit", "weights": obj.weights, "means": obj.means, "covariances": obj.covariances}
        else:
            arrays = {"kind": "samples", "samples": self.join([obj])}
        buffer = io.BytesIO()
        np.savez(buffer, format=FORMAT, **arrays)
        atomic_write_bytes(path, buffer.getvalue())

    def load(self, path: str):
        """Read what save wrote; ValueError for anything else (a damaged or foreign file)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: not a readable GMM file ({error})") from error
        if str(arrays.get("format", "")) != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file (format tag {json.dumps(str(arrays.get('format')))})")
        kind = str(arrays.get("kind", ""))
        if kind == "fit":
            return GMMFit(arrays["weights"], arrays["means"], arrays["covariances"])
        if kind == "samples":
            return arrays["samples"]
        raise ValueError(f"{path}: unknown kind {kind!r} (expected 'fit' or 'samples')")


def fit_from_metrics(metrics: loops.Metrics) -> GMMFit:
    """The fitted mixture of one generation, rebuilt from its stored metrics."""
    weights = np.asarray(metrics["weights"], dtype=float)
    k = len(weights)
    return GMMFit(weights / weights.sum(), np.reshape(metrics["means"], (k, 2)),
                  np.reshape(metrics["covariances"], (k, 2, 2)))


def density(fit: GMMFit, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mixture's density on the grid of points (x, y) (arrays of one shape)."""
    points = np.stack([x.ravel(), y.ravel()], axis=1)
    diff = points[None, :, :] - fit.means[:, None, :]  # (K, P, 2)
    inverse = np.linalg.inv(fit.covariances)
    mahalanobis = np.einsum("kpi,kij,kpj->kp", diff, inverse, diff)
    norm = 1.0 / (2 * np.pi * np.sqrt(np.linalg.det(fit.covariances)))
    values = (fit.weights * norm) @ np.exp(-0.5 * mahalanobis)
    return values.reshape(x.shape)
