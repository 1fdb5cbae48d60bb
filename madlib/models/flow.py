"""A Glow-style normalizing flow on 2-D data, with a latent sampling bias (paper App. B.4, Fig. 17).

The flow maps data x to a latent z through ``steps`` Glow steps (Kingma & Dhariwal 2018), each

* **actnorm**: z = (x - loc) * exp(-log_scale) per coordinate, loc and log_scale set from the training data
  before training (data-dependent initialisation: every coordinate leaves the layer with mean 0, variance 1);
* **invertible linear mixing** (Glow's "1x1 convolution" on a 2-vector): z = W x with W = P L U, a fixed
  permutation P, a unit lower-triangular L and an upper-triangular U whose diagonal is sign * exp(log_diag), so
  log |det W| = sum(log_diag); W starts as a random rotation;
* **affine coupling**: one half of the coordinates (alternately the first and the second) passes unchanged and
  sets, through an MLP of width ``hidden`` (two hidden ReLU layers, last layer zero-initialised), a shift t and a
  scale s = sigmoid(raw + 2) of the other half: z_b = (x_b + t) * s.

The density is exact: log p(x) = log N(f(x); 0, I) + sum of the steps' log |det|. Training maximises it with Adam
(``epochs`` passes in shuffled batches). Sampling bias (DESIGN.md): z ~ N(0, lam I), pushed through the inverse
flow; lam = 1 samples the fitted density, lam < 1 concentrates samples on its high-density core.

**Why hand-written.** zuko (the well-kept flow library the design names) offers coupling flows (NICE / RealNVP)
but neither actnorm nor an invertible learned linear mixing, so Glow's step would need custom transforms on top of
it anyway; the three layers above are short, and writing them here keeps the whole model readable in one file
without a new dependency.

:class:`FlowModel` is a :class:`madlib.loops.LoopModel` on the Rosenbrock density of :mod:`madlib.data`; its
``evaluate`` measures how much of P_r's tails the synthetic data keeps (see :meth:`FlowModel.evaluate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from madlib import data, loops, runs
from madlib import progress as report
from madlib.metrics import bootstrap, dispersion
from madlib.metrics.precision_recall import default_device

DIM = 2
TAIL_MASS = 0.01  # the tail measures count samples in regions that hold 1% of P_r
X1_TAIL = float(norm.ppf(1.0 - TAIL_MASS / 2))  # 99th percentile of |x1| under P_r (x1 ~ N(0, 1)): 2.5758
R2_TAIL = float(-2.0 * math.log(TAIL_MASS))  # P_r(R² > r) = exp(-r / 2): the 1% lowest-density region
QUANTILES = (0.005, 0.995)
REAL_TOTAL_VARIANCE = 1.0 + 2.0 + data.ROSENBROCK_X2_VARIANCE  # Var x1 + Var x1² + Var(x2 | x1) under P_r: 3.5


# ------------------------------------------------------------------------------------------------ layers


class ActNorm(nn.Module):
    """Per-coordinate affine normalisation with data-dependent initialisation."""

    def __init__(self, dim: int):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        self.loc.copy_(x.mean(0))
        self.log_scale.copy_(torch.log(x.std(0).clamp_min(1e-6)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = (x - self.loc) * torch.exp(-self.log_scale)
        return z, -self.log_scale.sum()  # the same for every row (broadcast when summed)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.exp(self.log_scale) + self.loc


class InvertibleLinear(nn.Module):
    """z = W x with W = P L U (LU-parametrised, as Glow's invertible 1x1 convolution), W initially a rotation."""

    def __init__(self, dim: int):
        super().__init__()
        rotation = torch.linalg.qr(torch.randn(dim, dim))[0]
        permutation, lower, upper = torch.linalg.lu(rotation)
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign", torch.sign(diagonal))
        self.lower = nn.Parameter(torch.tril(lower, -1))
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_diag = nn.Parameter(torch.log(diagonal.abs()))

    def weight(self) -> torch.Tensor:
        eye = torch.eye(len(self.sign), dtype=self.lower.dtype, device=self.lower.device)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign * torch.exp(self.log_diag))
        return self.permutation @ lower @ upper

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x @ self.weight().T, self.log_diag.sum()

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z @ torch.linalg.inv(self.weight()).T


class AffineCoupling(nn.Module):
    """z_b = (x_b + t(x_a)) * s(x_a), z_a = x_a; s = sigmoid(raw + 2) keeps the scale in (0, 1) and near 0.88 at
    the start. ``first``: x_a is the first half of the coordinates (else the second)."""

    def __init__(self, dim: int, hidden: int, first: bool):
        super().__init__()
        self.first = first
        self.size_a = dim // 2 if first else dim - dim // 2
        size_b = dim - self.size_a
        self.net = nn.Sequential(nn.Linear(self.size_a, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * size_b))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.first:
            return x[:, : self.size_a], x[:, self.size_a :]
        return x[:, -self.size_a :], x[:, : -self.size_a]

    def _merge(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b] if self.first else [b, a], dim=1)

    def _shift_scale(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shift, raw = self.net(a).chunk(2, dim=1)
        return shift, torch.sigmoid(raw + 2.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._split(x)
        shift, scale = self._shift_scale(a)
        return self._merge(a, (b + shift) * scale), torch.log(scale).sum(1)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        a, b = self._split(z)
        shift, scale = self._shift_scale(a)
        return self._merge(a, b / scale - shift)


class Glow(nn.Module):
    """``steps`` x (actnorm, invertible linear, affine coupling) from data x to a standard-normal latent z."""

    def __init__(self, dim: int = DIM, steps: int = 8, hidden: int = 64):
        super().__init__()
        layers = []
        for k in range(steps):
            layers += [ActNorm(dim), InvertibleLinear(dim), AffineCoupling(dim, hidden, first=k % 2 == 0)]
        self.layers = nn.ModuleList(layers)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(x) and log |det df/dx| per row (a step's log-det is a scalar when it is the same for every row)."""
        logdet = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for layer in self.layers:
            x, step_logdet = layer(x)
            logdet = logdet + step_logdet
        return x, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z, logdet = self(x)
        return -0.5 * (z**2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + logdet

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Data-dependent initialisation: each actnorm normalises what reaches it when x passes through."""
        for layer in self.layers:
            if isinstance(layer, ActNorm):
                layer.initialize(x)
            x, _ = layer(x)


@dataclass
class FittedFlow:
    """One generation's trained flow (in eval mode) and its training NLL over the last epoch."""

    network: Glow
    train_nll: float


# ------------------------------------------------------------------------------------------------ the model family


def _as_points(name: str, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != DIM:
        raise ValueError(f"{name}: must be an array of shape (n, {DIM}); got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: holds non-finite values")
    return x


class FlowModel:
    """Glow on the 2-D Rosenbrock density, as a :class:`madlib.loops.LoopModel`."""

    def __init__(self, steps: int = 8, hidden: int = 64, epochs: int = 20, batch_size: int = 256,
                 lr: float = 1e-3, n_eval: int = 10000, n_ot: int = 2000, n_keep: int = 2000,
                 device: str | torch.device | None = None):
        for name, value, low in (("steps", steps, 1), ("hidden", hidden, 1), ("epochs", epochs, 1),
                                 ("batch_size", batch_size, 1), ("n_eval", n_eval, 2), ("n_ot", n_ot, 0),
                                 ("n_keep", n_keep, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: must be an integer >= {low}; got {value!r}")
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"lr: must be a positive number; got {lr!r}")
        self.steps, self.hidden, self.epochs, self.batch_size, self.lr = steps, hidden, epochs, batch_size, float(lr)
        self.n_eval, self.n_ot, self.n_keep = n_eval, min(n_ot, n_eval), min(n_keep, n_eval)
        self.device = torch.device(device) if device is not None else default_device()

    def config(self) -> dict[str, Any]:
        return {"model": "glow-flow", "data": "rosenbrock", "steps": self.steps, "hidden": self.hidden,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "n_eval": self.n_eval,
                "n_ot": self.n_ot, "n_keep": self.n_keep, "device": self.device.type}

    # -- data
    def draw_real(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return data.rosenbrock_sample(n, rng)

    def join(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, DIM) for p in parts])

    def subsample(self, points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """n of the points, drawn uniformly without replacement (the accumulate-subsample loop's training set)."""
        return points[rng.choice(len(points), size=int(n), replace=False)]

    # -- training
    def new_network(self, seed: int) -> Glow:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return Glow(DIM, self.steps, self.hidden)

    def fit(self, points: np.ndarray, rng: np.random.Generator) -> FittedFlow:
        """Train a fresh flow on the points by maximum likelihood (Adam, ``epochs`` shuffled passes)."""
        points = _as_points("data", points)
        if len(points) < 2:
            raise ValueError(f"data: the flow needs at least 2 training points; got {len(points)}")
        seed = int(rng.integers(2**62))
        generator = torch.Generator().manual_seed(seed)
        x = torch.as_tensor(points, dtype=torch.float32).to(self.device)
        network = self.new_network(seed).to(self.device)
        network.initialize(x)
        optimizer = torch.optim.Adam(network.parameters(), lr=self.lr, foreach=True)  # foreach: fewer, larger ops
        network.train()
        epoch_nll = math.nan
        with report.task("flow training", self.epochs, unit="epoch") as epochs:
            for _ in range(self.epochs):
                epoch_nll = self._epoch(network, optimizer, x, generator)
                epochs.update()
        network.eval()
        return FittedFlow(network, epoch_nll)

    def _epoch(self, network: Glow, optimizer, x: torch.Tensor, generator: torch.Generator) -> float:
        """One shuffled pass over x; the mean NLL of its batches."""
        order = torch.randperm(len(x), generator=generator).to(self.device)
        total = 0.0
        for batch in order.split(self.batch_size):
            loss = -network.log_prob(x[batch]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return total / len(x)

    # -- sampling
    @torch.no_grad()
    def sample(self, fitted: FittedFlow, n: int, lam: float, rng: np.random.Generator) -> np.ndarray:
        """n points x = f^{-1}(z), z ~ N(0, lam I)."""
        lam = loops.check_lam(lam, positive=True, why="; the flow's latent is N(0, lam I)")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n: must be an integer >= 0; got {n!r}")
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        z = math.sqrt(lam) * torch.randn(int(n), DIM, generator=generator)
        return fitted.network.inverse(z.to(self.device)).double().cpu().numpy()

    @torch.no_grad()
    def log_prob(self, fitted: FittedFlow, points: np.ndarray) -> np.ndarray:
        """The fitted flow's log density at the points."""
        x = torch.as_tensor(_as_points("points", points), dtype=torch.float32).to(self.device)
        return fitted.network.log_prob(x).double().cpu().numpy()

    # -- evaluation
    def evaluate(self, fitted: FittedFlow, lam: float, rng: np.random.Generator, training=None) -> loops.Metrics:
        """Scores of ``n_eval`` points sampled with the run's bias, against P_r.

        Tails (P_r's value is 0.01 for both; binomial SE): ``tail_r2``, the fraction in P_r's 1% lowest-density
        region (R² = x1² + 2 (x2 - x1²)² > 2 ln 100), and ``tail_x1``, the fraction with |x1| beyond P_r's 99th
        percentile of |x1| (2.576). Spread (bootstrap SE): ``range_x1``/``range_x2`` (0.5% to 99.5% quantile range),
        ``std_x1``/``std_x2``. Distance: ``w1``, exact OT (POT, Euclidean cost) between ``n_ot`` synthetic points
        and as many fresh real ones; ``kl_real``, KL(P_r || flow) = held-out real NLL under the flow minus P_r's
        entropy (SE from the NLL's spread; it scores the fitted density, not the biased sampler). ``train_nll``.
        Dispersion kept (:mod:`madlib.metrics.dispersion`): the synthetic points' covariance trace over that of
        ``training`` (the data the flow was fitted on; NaN without it), ``dispersion_train``, and over P_r's exact
        3.5, ``dispersion_real``. Every score has a ``<name>_se``. ``samples``: the first ``n_keep`` synthetic
        points, for density panels.
        """
        synthetic = self.sample(fitted, self.n_eval, lam, rng)
        real = self.draw_real(self.n_eval, rng)
        scores = tail_scores(synthetic)
        scores.update(spread_scores(synthetic, rng))
        nll = -self.log_prob(fitted, real)
        scores["kl_real"] = float(nll.mean() - data.rosenbrock_entropy())
        scores["kl_real_se"] = float(nll.std(ddof=1) / math.sqrt(len(nll)))
        scores["w1"], scores["w1_se"] = wasserstein1(synthetic[: self.n_ot], real[: self.n_ot]), math.nan
        scores["train_nll"], scores["train_nll_se"] = fitted.train_nll, math.nan
        scores.update(dispersion_scores(synthetic, training))
        metrics = {name: np.array([value], dtype=np.float64) for name, value in scores.items()}
        metrics["samples"] = synthetic[: self.n_keep]
        return metrics

    # -- checkpoints
    def save(self, obj: FittedFlow | np.ndarray, path: str) -> None:
        if isinstance(obj, FittedFlow):
            state = {"kind": "flow", "train_nll": torch.tensor(obj.train_nll, dtype=torch.float64),
                     "network": {k: v.cpu() for k, v in obj.network.state_dict().items()}}
        else:
            state = {"kind": "points", "points": torch.as_tensor(_as_points("points", obj))}
        runs.write_torch_state(path, state)

    def load(self, path: str) -> FittedFlow | np.ndarray:
        state = runs.read_torch_state(path, ("flow", "points"), "flow")
        if state["kind"] == "points":
            return state["points"].numpy()
        network = self.new_network(0)
        network.load_state_dict(state["network"])
        return FittedFlow(network.to(self.device).eval(), float(state["train_nll"]))


# ------------------------------------------------------------------------------------------------ scores


def tail_scores(points: np.ndarray) -> dict[str, float]:
    """Fractions of points in P_r's 1% tail regions (R² and |x1|; 0.01 under P_r) and their binomial SEs."""
    points = _as_points("points", points)
    n = len(points)
    scores = {"tail_r2": float(np.mean(data.rosenbrock_radius2(points) > R2_TAIL)),
              "tail_x1": float(np.mean(np.abs(points[:, 0]) > X1_TAIL))}
    for name in list(scores):
        scores[f"{name}_se"] = math.sqrt(max(scores[name] * (1.0 - scores[name]), 1.0 / n) / n)
    return scores


def _spread(points: np.ndarray) -> dict[str, float]:
    low, high = np.quantile(points, QUANTILES, axis=0)
    std = points.std(axis=0, ddof=1)
    return {"range_x1": high[0] - low[0], "range_x2": high[1] - low[1], "std_x1": std[0], "std_x2": std[1]}


def spread_scores(points: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Quantile ranges and standard deviations of x1 and x2, each with a bootstrap SE."""
    points = _as_points("points", points)
    scores = {k: float(v) for k, v in _spread(points).items()}
    draws = [_spread(points[rng.integers(len(points), size=len(points))]) for _ in range(bootstrap.REPLICATES)]
    for name in list(scores):
        scores[f"{name}_se"] = float(np.std([d[name] for d in draws], ddof=1))
    return scores


def dispersion_scores(synthetic: np.ndarray, training: np.ndarray | None) -> dict[str, float]:
    """dispersion_train (NaN without a training set) and dispersion_real (against P_r's exact covariance trace),
    each with its SE."""
    spread, spread_se = dispersion.spread_with_se(synthetic)
    scores = dict.fromkeys(("dispersion_train", "dispersion_train_se"), math.nan)
    if training is not None:
        scores["dispersion_train"], scores["dispersion_train_se"] = dispersion.kept(synthetic, training)
    scores["dispersion_real"] = spread / REAL_TOTAL_VARIANCE
    scores["dispersion_real_se"] = spread_se / REAL_TOTAL_VARIANCE
    return scores


def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
    """Exact W1 between two empirical distributions of equal weights (POT's ``ot.emd2``, Euclidean cost)."""
    import ot

    if len(a) == 0 or len(b) == 0:
        return math.nan
    cost = ot.dist(a, b, metric="euclidean")
    return float(ot.emd2(np.full(len(a), 1.0 / len(a)), np.full(len(b), 1.0 / len(b)), cost, numItermax=10**7))
