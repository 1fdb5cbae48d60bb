"""Multivariate Gaussian model of the paper (Sec. 3.1 and 5), batched over independent replicates.

The model is fitted with the unbiased moment estimates of eq. (1) and sampled with bias lam as N(mu, lam * Sigma).
The reference distribution is P_r = N(0, I_d).

Two simulation paths give the same distribution of fitted models:

* ``direct``: draw the samples (replicates x n x d) and compute their mean and covariance, as the paper describes;
* ``exact``: draw the sufficient statistics themselves. For n samples of N(mu, C) with C = L L^T, the sample mean is
  N(mu, C / n) and the scatter matrix sum (x - mean)(x - mean)^T is L W L^T with W ~ Wishart(I_d, n - 1), independent
  of the mean. W comes from the Bartlett decomposition when n - 1 >= d and as G G^T with G a d x (n - 1) standard
  normal matrix otherwise (the singular case), so both are exact. The cost no longer grows with n.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from madlib import loops
from madlib.metrics.wasserstein import w2_to_standard_normal_from_eigh

METHODS = ("exact", "direct")


@dataclass
class GaussianStats:
    """Sufficient statistics of one data set per replicate: n samples, their mean and scatter matrix."""

    n: int
    mean: np.ndarray  # (replicates, d)
    scatter: np.ndarray  # (replicates, d, d)


@dataclass
class GaussianFit:
    """Fitted N(mu, sigma) per replicate, with the eigendecomposition of sigma kept for sampling and distances."""

    mu: np.ndarray  # (replicates, d)
    sigma: np.ndarray  # (replicates, d, d)
    eigvals: np.ndarray  # (replicates, d), clipped at 0
    eigvecs: np.ndarray  # (replicates, d, d)

    @property
    def root(self) -> np.ndarray:
        """A square root L of sigma (L L^T = sigma)."""
        return self.eigvecs * np.sqrt(self.eigvals)[:, None, :]


def wishart_identity(d: int, df: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of Wishart(I_d, df), shape (replicates, d, d); exact for every integer df >= 0 (singular if df < d)."""
    if df >= d:
        lower = np.tril(rng.standard_normal((replicates, d, d)), k=-1)
        chi2 = rng.chisquare(df - np.arange(d), size=(replicates, d))
        lower[:, np.arange(d), np.arange(d)] = np.sqrt(chi2)
        return lower @ np.swapaxes(lower, 1, 2)
    g = rng.standard_normal((replicates, d, df))
    return g @ np.swapaxes(g, 1, 2)


def fit_from_moments(mu: np.ndarray, sigma: np.ndarray) -> GaussianFit:
    sigma = 0.5 * (sigma + np.swapaxes(sigma, 1, 2))
    eigvals, eigvecs = np.linalg.eigh(sigma)
    return GaussianFit(mu=mu, sigma=sigma, eigvals=np.clip(eigvals, 0.0, None), eigvecs=eigvecs)


def join_stats(parts: Sequence[GaussianStats]) -> GaussianStats:
    """Statistics of the union of data sets: pooled mean, and scatter = sum of scatters + between-set term."""
    nonempty = [p for p in parts if p.n > 0]
    if not nonempty:
        return parts[0]
    parts, n = nonempty, sum(p.n for p in nonempty)
    mean = sum(p.n * p.mean for p in parts) / n
    scatter = sum(p.scatter for p in parts)
    for p in parts:
        diff = p.mean - mean
        scatter = scatter + p.n * diff[:, :, None] * diff[:, None, :]
    return GaussianStats(n=n, mean=mean, scatter=scatter)


class GaussianModel:
    """The paper's Gaussian model in R^d against P_r = N(0, I_d), as a loops.LoopModel."""

    def __init__(self, d: int = 100, replicates: int = 1, method: str = "exact"):
        if method not in METHODS:
            raise ValueError(f"method: must be one of {', '.join(METHODS)}; got {method!r}")
        if not (isinstance(d, (int, np.integer)) and d >= 1):
            raise ValueError(f"d: must be an integer >= 1; got {d!r}")
        if not (isinstance(replicates, (int, np.integer)) and replicates >= 1):
            raise ValueError(f"replicates: must be an integer >= 1; got {replicates!r}")
        self.d, self.replicates, self.method = int(d), int(replicates), method

    def config(self) -> dict[str, Any]:
        return {"model": "gaussian", "d": self.d, "replicates": self.replicates, "method": self.method}

    # data ---------------------------------------------------------------------------------------------------------
    def draw_real(self, n: int, rng: np.random.Generator):
        eye = np.broadcast_to(np.eye(self.d), (self.replicates, self.d, self.d))
        zeros = np.zeros((self.replicates, self.d))
        return self._draw(zeros, eye, n, rng)

    def sample(self, fitted: GaussianFit, n: int, lam: float, rng: np.random.Generator):
        return self._draw(fitted.mu, np.sqrt(lam) * fitted.root, n, rng)

    def _draw(self, mu: np.ndarray, root: np.ndarray, n: int, rng: np.random.Generator):
        """n samples of N(mu, root root^T) per replicate, as samples (direct) or as their statistics (exact)."""
        r, d = self.replicates, self.d
        if self.method == "direct":
            return mu[:, None, :] + rng.standard_normal((r, n, d)) @ np.swapaxes(root, 1, 2)
        if n == 0:
            return GaussianStats(0, np.zeros((r, d)), np.zeros((r, d, d)))
        mean = mu + np.einsum("rij,rj->ri", root, rng.standard_normal((r, d))) / np.sqrt(n)
        scatter = root @ wishart_identity(d, n - 1, r, rng) @ np.swapaxes(root, 1, 2)
        return GaussianStats(n, mean, scatter)

    def join(self, parts: Sequence[Any]):
        if self.method == "direct":
            return np.concatenate(list(parts), axis=1)
        return join_stats(parts)

    def subsample(self, data, n: int, rng: np.random.Generator):
        """n of each replicate's samples, drawn uniformly without replacement (independently per replicate); used by
        the accumulate-subsample loop (LoopSpec.pool_size). Only the direct path keeps samples: the exact path's
        sufficient statistics do not determine those of a subset, so it refuses."""
        if self.method != "direct":
            raise ValueError("method: drawing a training set from the pool (pool_size) needs the samples themselves; "
                             "the exact path keeps only their mean and scatter matrix: use method='direct'")
        total = data.shape[1]
        if not 0 <= n <= total:
            raise ValueError(f"n: can draw 0 to {total} samples without replacement; got {n}")
        chosen = np.argsort(rng.random((self.replicates, total)), axis=1)[:, :n]  # a uniform n-subset per row
        return np.take_along_axis(data, chosen[:, :, None], axis=1)

    # model --------------------------------------------------------------------------------------------------------
    def fit(self, data, rng: np.random.Generator | None = None) -> GaussianFit:
        """Unbiased mean and covariance, eq. (1)."""
        if self.method == "direct":
            n = data.shape[1]
            mu = data.mean(axis=1)
            centred = data - mu[:, None, :]
            scatter = np.swapaxes(centred, 1, 2) @ centred
        else:
            n, mu, scatter = data.n, data.mean, data.scatter
        if n < 2:
            raise ValueError(f"n: fitting a covariance needs at least 2 samples; got {n}")
        return fit_from_moments(mu, scatter / (n - 1))

    def evaluate(self, fitted: GaussianFit, lam: float = 1.0, rng: np.random.Generator | None = None,
                 training=None) -> loops.Metrics:
        """WD (unsquared W2) to P_r, trace of the covariance (and its log), the mean's distance from 0 and its first
        coordinate, all of the fit itself; and the dispersion kept (:mod:`madlib.metrics.dispersion`) by the
        loop's sampler N(mu, lam Sigma), exactly: lam tr(Sigma) over the training set's unbiased covariance trace
        (``dispersion_train``, NaN without ``training``) and over tr(I_d) = d (``dispersion_real``). rng is not
        used."""
        trace = np.trace(fitted.sigma, axis1=1, axis2=2)
        kept = lam * trace
        unknown = np.full(self.replicates, np.nan)
        return {
            "wd": w2_to_standard_normal_from_eigh(fitted.mu, fitted.eigvals),
            "trace": trace,
            "log_trace": np.log(np.maximum(trace, np.finfo(float).tiny)),
            "mean_norm": np.linalg.norm(fitted.mu, axis=1),
            "mean_1": fitted.mu[:, 0],
            "dispersion_train": unknown if training is None else _ratio(kept, self.spread(training)),
            "dispersion_real": kept / self.d,
        }

    def spread(self, data) -> np.ndarray:
        """Each replicate's unbiased covariance trace of a data set (samples or their statistics)."""
        if self.method == "direct":
            return data.var(axis=1, ddof=1).sum(axis=1)
        return np.trace(data.scatter, axis1=1, axis2=2) / (data.n - 1)

    # persistence --------------------------------------------------------------------------------------------------
    def save(self, obj, path: str) -> None:
        """Samples, statistics or a fit (its mean and covariance only; load recomputes the eigendecomposition)."""
        if isinstance(obj, np.ndarray):
            arrays = {"kind": "samples", "samples": obj}
        elif isinstance(obj, GaussianFit):
            arrays = {"kind": "fit", "mu": obj.mu, "sigma": obj.sigma}
        else:
            arrays = {"kind": "stats", "n": obj.n, "mean": obj.mean, "scatter": obj.scatter}
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    def load(self, path: str):
        with np.load(path, allow_pickle=False) as z:
            kind = str(z["kind"])
            if kind == "samples":
                return z["samples"]
            if kind == "fit":
                return fit_from_moments(z["mu"], z["sigma"])
            return GaussianStats(int(z["n"]), z["mean"], z["scatter"])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (a training set without spread, e.g. drawn at lam = 0)."""
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.nan)


# The metrics GaussianModel.evaluate returns (tests check that they agree), so simulate_loop can check its `metric`
# before it runs a loop.
METRICS = ("wd", "trace", "log_trace", "mean_norm", "mean_1", "dispersion_train", "dispersion_real")


def simulate_loop(
    variant: str,
    d: int = 100,
    n_ini: int = 100,
    n_r: int = 0,
    n_s: int = 0,
    lam: float = 1.0,
    generations: int = 10,
    replicates: int = 1,
    seed: int = 0,
    method: str = "exact",
    memory: int = 1,
    accumulate: bool = False,
    p_real: float | None = None,
    n: int | None = None,
    metric: str = "wd",
    store: str | os.PathLike | None = None,
) -> np.ndarray:
    """Run a Gaussian loop; return `metric` (WD to N(0, I_d) by default) with shape (replicates, generations).

    With `store`, the run is read from / written to that run store (see madlib.runs) instead of recomputed.
    """
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)} (what GaussianModel.evaluate returns); "
                         f"got {metric!r}")
    spec = loops.LoopSpec(
        variant=variant, generations=generations, n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam, memory=memory,
        accumulate=accumulate, p_real=p_real, n=n, seed=seed,
    )
    model = GaussianModel(d=d, replicates=replicates, method=method)
    if store is not None:
        from madlib import runs

        history = runs.run_or_load(spec, model, store=store)
    else:
        history = loops.run(spec, model)
    return np.stack([g[metric] for g in history], axis=1)


def wd_of_real_fits(
    d: int, sizes: Sequence[int], replicates: int, seed: int = 0, method: str = "exact"
) -> np.ndarray:
    """WD to P_r of models fitted on n real samples, for each n in sizes: shape (replicates, len(sizes)).

    This Monte-Carlo curve n -> E[WD(G(n), P_r)] is the reference that eq. (4) inverts to get n_e.
    """
    model = GaussianModel(d=d, replicates=replicates, method=method)
    columns = []
    for i, n in enumerate(sizes):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        columns.append(model.evaluate(model.fit(model.draw_real(int(n), rng)))["wd"])
    return np.stack(columns, axis=1)
