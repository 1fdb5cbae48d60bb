"""Conditional DDPM on digits, with classifier-free guidance as the sampling bias (paper Sec. 2.3 and App. E).

The diffusion (Ho et al. 2020): a linear beta schedule over T steps, the network predicts the noise eps added to
x_0, and samples are drawn by ancestral sampling from x_T ~ N(0, I). The network sees the class label; in training
the label is replaced by a "no class" token with probability ``label_dropout`` (10%), so the same network also
gives the unconditional noise estimate. Sampling with guidance weight w uses

    eps = (1 + w) * eps(x_t, t, class) - w * eps(x_t, t, no class),      w = 1 / lam - 1,

so lam = 1 is plain conditional sampling and a smaller lam pushes samples toward the "most typical" digit of their
class (higher quality, less diversity), which is the paper's sampling bias. Both estimates come from one batched
forward pass. Samples are class-balanced: sample i is drawn for class i mod 10 (in shuffled order) and carries that
label into the next generation's training set.

Two backbones behind one interface (``backbone``):

* ``"latent-mlp"`` (CPU presets): the diffusion runs over a ``latent_dim``-dimensional code of the training images
  with a residual MLP denoiser. The code (``codec``) is, by default, a small convolutional autoencoder (two stride-2
  convolutions, trained for ``codec_epochs`` epochs with a per-pixel cross-entropy) whose code is standardised per
  dimension; ``"pca"`` gives a whitened PCA code instead (cheaper, but its blurry decodings keep too little of the
  digits' variance for the loops to mean much: see benchmarks/ddpm_dispersion.py). One generation (codec, denoiser,
  2,000 samples, evaluation) takes about a minute on one CPU thread.
* ``"unet"`` (the ``paper`` preset, on a GPU): the diffusion runs in pixel space with a small UNet (two resolutions,
  residual blocks with time and class embeddings), as in the paper.

:class:`DDPMModel` is a :class:`madlib.loops.LoopModel`: each generation trains a fresh codec and network on that
generation's digits and labels. Its ``evaluate`` samples ``n_eval`` digits with the run's bias and scores them against
held-out real digits with :mod:`madlib.metrics.image_scores` (LeNet features: FID, precision, recall, density,
coverage, LeNet agreement, class separation and spread), and keeps what the t-SNE and sample-grid figures need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from madlib import loops, runs
from madlib import progress as report
from madlib.metrics import features as lenet_features
from madlib.metrics import image_scores
from madlib.metrics.precision_recall import default_device

BACKBONES = ("latent-mlp", "unet")
CODECS = ("autoencoder", "pca")  # the latent code of the latent-mlp backbone
NUM_CLASSES = 10
NULL_CLASS = NUM_CLASSES  # the "no class" token of classifier-free guidance
IMAGE_SHAPE = (1, 28, 28)
DEFAULT_SAMPLE_BATCH = 2000


def guidance_weight(lam: float) -> float:
    """Classifier-free guidance weight of sampling bias lam in (0, 1]: w = 1/lam - 1 (0 when unbiased)."""
    return 1.0 / loops.check_lam(lam, positive=True, why="; the DDPM's guidance weight is w = 1/lam - 1") - 1.0


# ------------------------------------------------------------------------------------------------ data and schedule


@dataclass
class Digits:
    """A labelled set of digits: images (n, 1, 28, 28) float32 in [-1, 1] and labels (n,) int64, on the CPU."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


class Schedule:
    """Linear beta schedule of T steps and the quantities ancestral sampling needs."""

    def __init__(self, steps: int = 500, beta_start: float = 1e-4, beta_end: float = 0.02):
        self.steps = steps
        self.betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, 0)
        previous = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])
        # variance of q(x_{t-1} | x_t, x_0): the "beta tilde" choice of Ho et al.
        self.posterior_variance = self.betas * (1.0 - previous) / (1.0 - self.alpha_bars)

    def noised(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (t is 0-based, one per row)."""
        abar = self.alpha_bars.to(x0.device, torch.float32)[t].view(-1, *([1] * (x0.ndim - 1)))
        return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise

    def step_coefficients(self, t: int) -> tuple[float, float, float]:
        """(1/sqrt(alpha_t), beta_t/sqrt(1-abar_t), sigma_t) of the reverse step x_t -> x_{t-1}."""
        sigma = math.sqrt(self.posterior_variance[t]) if t > 0 else 0.0
        return (float(1.0 / self.alphas[t].sqrt()), float(self.betas[t] / (1.0 - self.alpha_bars[t]).sqrt()), sigma)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer time steps, shape (len(t), dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


# ------------------------------------------------------------------------------------------------ backbones


class LatentMLP(nn.Module):
    """Noise predictor over a latent vector: residual MLP blocks, each told the time step and the class."""

    def __init__(self, latent_dim: int, hidden: int = 512, blocks: int = 3):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(latent_dim, hidden)
        self.time = nn.Sequential(nn.Linear(128, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.label = nn.Embedding(NUM_CLASSES + 1, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
            for _ in range(blocks)
        )
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, latent_dim))

    def forward(self, z: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        steps, index = torch.unique(t, return_inverse=True)  # in sampling every row has the same step
        condition = self.time(timestep_embedding(steps, 128))[index] + self.label(labels)
        h = self.inp(z)
        for block in self.blocks:
            h = h + block(h + condition)
        return self.out(h)


class ResBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, embed_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.embed = nn.Linear(embed_dim, channels_out)
        self.norm2 = nn.GroupNorm(8, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.skip = nn.Conv2d(channels_in, channels_out, 1) if channels_in != channels_out else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        h = h + self.embed(embedding)[:, :, None, None]
        h = self.conv2(nn.functional.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """Pixel-space noise predictor for 28 x 28 digits: resolutions 28 and 14 and 7, skip connections."""

    def __init__(self, base: int = 64):
        super().__init__()
        embed = 4 * base
        self.time = nn.Sequential(nn.Linear(base, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.label = nn.Embedding(NUM_CLASSES + 1, embed)
        self.base = base
        self.inp = nn.Conv2d(1, base, 3, padding=1)
        self.down1 = ResBlock(base, base, embed)
        self.down2 = ResBlock(base, 2 * base, embed)
        self.down3 = ResBlock(2 * base, 2 * base, embed)
        self.middle = ResBlock(2 * base, 2 * base, embed)
        self.up3 = ResBlock(4 * base, 2 * base, embed)
        self.up2 = ResBlock(4 * base, base, embed)
        self.up1 = ResBlock(2 * base, base, embed)
        self.out = nn.Sequential(nn.GroupNorm(8, base), nn.SiLU(), nn.Conv2d(base, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        e = self.time(timestep_embedding(t, self.base)) + self.label(labels)
        h1 = self.down1(self.inp(x), e)  # 28
        h2 = self.down2(nn.functional.avg_pool2d(h1, 2), e)  # 14
        h3 = self.down3(nn.functional.avg_pool2d(h2, 2), e)  # 7
        h = self.middle(h3, e)
        h = self.up3(torch.cat([h, h3], 1), e)
        h = self.up2(torch.cat([nn.functional.interpolate(h, scale_factor=2), h2], 1), e)
        h = self.up1(torch.cat([nn.functional.interpolate(h, scale_factor=2), h1], 1), e)
        return self.out(h)


# ------------------------------------------------------------------------------------------------ codecs


class PCACodec:
    """Whitened PCA code of flattened images: z = (x - mean) V^T / scale, decoded back by the inverse map."""

    def __init__(self, mean: torch.Tensor, components: torch.Tensor, scale: torch.Tensor):
        self.mean, self.components, self.scale = mean, components, scale

    @classmethod
    def fit(cls, images: torch.Tensor, latent_dim: int) -> "PCACodec":
        flat = images.reshape(len(images), -1).double()
        mean = flat.mean(0)
        _, singular, vt = torch.linalg.svd(flat - mean, full_matrices=False)
        scale = singular[:latent_dim] / math.sqrt(max(len(flat) - 1, 1))
        return cls(mean.float(), vt[:latent_dim].float(), scale.float().clamp_min(1e-6))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return (images.reshape(len(images), -1) - self.mean) @ self.components.T / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        flat = (z.to(self.scale.device) * self.scale) @ self.components + self.mean
        return flat.clamp(-1.0, 1.0).reshape(len(z), *IMAGE_SHAPE)

    def state(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean, "components": self.components, "scale": self.scale}


class PixelCodec:
    """The identity code of the pixel-space backbone."""

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(-1.0, 1.0)

    def state(self) -> dict[str, torch.Tensor]:
        return {}


class ConvAutoencoder(nn.Module):
    """Two stride-2 convolutions (28 -> 14 -> 7) to a small code, and the mirror image back to per-pixel logits of
    the intensity (trained with binary cross-entropy, which keeps strokes sharper than a squared error)."""

    def __init__(self, latent_dim: int, channels: int = 32):
        super().__init__()
        wide = 2 * channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, channels, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(channels, wide, 3, stride=2, padding=1), nn.SiLU(),
            nn.Flatten(), nn.Linear(wide * 49, latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, wide * 49), nn.SiLU(), nn.Unflatten(1, (wide, 7, 7)),
            nn.ConvTranspose2d(wide, channels, 3, stride=2, padding=1, output_padding=1), nn.SiLU(),
            nn.ConvTranspose2d(channels, 1, 3, stride=2, padding=1, output_padding=1))  # logits of pixel intensity


class AutoencoderCodec:
    """Code of a convolutional autoencoder trained on one generation's digits, standardised per dimension so that
    the diffusion's N(0, I) prior matches its scale: z = (encoder(x) - mean) / scale."""

    def __init__(self, network: ConvAutoencoder, mean: torch.Tensor, scale: torch.Tensor):
        self.network, self.mean, self.scale = network.eval(), mean, scale

    @classmethod
    def fit(cls, images: torch.Tensor, latent_dim: int, channels: int, epochs: int, generator: torch.Generator,
            batch_size: int = 64, lr: float = 4e-3) -> "AutoencoderCodec":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
            network = ConvAutoencoder(latent_dim, channels)
        steps = epochs * math.ceil(len(images) / batch_size)
        optimizer = torch.optim.Adam(network.parameters(), lr=lr)
        # warm up over 15% of the steps (a share that never makes the warm-up exactly one step, where torch's
        # one-cycle schedule divides by zero)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.15)
        network.train()
        for _ in range(epochs):
            for batch in torch.randperm(len(images), generator=generator).split(batch_size):
                x = images[batch]
                logits = network.decoder(network.encoder(x))
                loss = nn.functional.binary_cross_entropy_with_logits(logits, (x + 1.0) / 2.0)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
        network.eval()
        with torch.no_grad():
            codes = torch.cat([network.encoder(chunk) for chunk in images.split(1000)])
        return cls(network, codes.mean(0), codes.std(0).clamp_min(1e-6))

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return (torch.cat([self.network.encoder(c) for c in images.split(1000)]) - self.mean) / self.scale

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        z = z.cpu() * self.scale + self.mean
        if not len(z):
            return torch.empty(0, *IMAGE_SHAPE)
        return torch.cat([2.0 * torch.sigmoid(self.network.decoder(c)) - 1.0 for c in z.split(1000)])

    def state(self) -> dict[str, Any]:
        return {"network": self.network.state_dict(), "mean": self.mean, "scale": self.scale}


@dataclass
class FittedDDPM:
    """One generation's trained model: its codec and denoiser (in eval mode)."""

    codec: PCACodec | AutoencoderCodec | PixelCodec
    network: nn.Module
    final_loss: float


# ------------------------------------------------------------------------------------------------ the model family


class DDPMModel:
    """Conditional DDPM on MNIST digits, as a :class:`madlib.loops.LoopModel`."""

    def __init__(self, backbone: str = "latent-mlp", timesteps: int = 500, train_steps: int = 2000,
                 batch_size: int = 256, lr: float = 1e-3, latent_dim: int = 24, hidden: int = 256, blocks: int = 3,
                 unet_base: int = 64, codec: str = "autoencoder", codec_epochs: int = 10, codec_channels: int = 32,
                 label_dropout: float = 0.1, n_eval: int = 1000, k: int = 5,
                 feature_keep: int = 300, grid_per_class: int = 8, dataset: str = "mnist-5k",
                 lenet_epochs: int = lenet_features.DEFAULT_EPOCHS, sample_batch: int = DEFAULT_SAMPLE_BATCH,
                 device: str | torch.device | None = None):
        if backbone not in BACKBONES:
            raise ValueError(f"backbone: must be one of {', '.join(map(repr, BACKBONES))}; got {backbone!r}")
        if dataset not in lenet_features.TRAINING_DATA:
            raise ValueError(f"dataset: must be one of {', '.join(map(repr, lenet_features.TRAINING_DATA))}; "
                             f"got {dataset!r}")
        if codec not in CODECS:
            raise ValueError(f"codec: must be one of {', '.join(map(repr, CODECS))}; got {codec!r}")
        for name, value, low in (("timesteps", timesteps, 2), ("train_steps", train_steps, 1),
                                 ("batch_size", batch_size, 1), ("latent_dim", latent_dim, 1),
                                 ("codec_epochs", codec_epochs, 1), ("codec_channels", codec_channels, 1),
                                 ("n_eval", n_eval, max(k, NUM_CLASSES) + 1), ("feature_keep", feature_keep, 0),
                                 ("grid_per_class", grid_per_class, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: must be an integer >= {low}; got {value!r}")
        if not 0.0 <= label_dropout < 1.0:
            raise ValueError(f"label_dropout: must lie in [0, 1); got {label_dropout!r}")
        self.backbone, self.timesteps = backbone, timesteps
        self.train_steps, self.batch_size, self.lr = train_steps, batch_size, lr
        self.latent_dim, self.hidden, self.blocks, self.unet_base = latent_dim, hidden, blocks, unet_base
        self.codec, self.codec_epochs, self.codec_channels = codec, codec_epochs, codec_channels
        self.label_dropout, self.n_eval, self.k = label_dropout, n_eval, k
        self.feature_keep, self.grid_per_class = feature_keep, grid_per_class
        self.dataset, self.lenet_epochs, self.sample_batch = dataset, lenet_epochs, sample_batch
        self.device = torch.device(device) if device is not None else default_device()
        self.schedule = Schedule(timesteps)
        self._real: Digits | None = None

    # -- what the store key is made of
    def config(self) -> dict[str, Any]:
        return {"model": "ddpm", "backbone": self.backbone, "timesteps": self.timesteps,
                "train_steps": self.train_steps, "batch_size": self.batch_size, "lr": self.lr,
                **self._codec_config(),
                "hidden": self.hidden, "blocks": self.blocks, "unet_base": self.unet_base,
                "label_dropout": self.label_dropout, "n_eval": self.n_eval, "k": self.k,
                "feature_keep": self.feature_keep, "grid_per_class": self.grid_per_class, "dataset": self.dataset,
                "lenet_epochs": self.lenet_epochs, "device": self.device.type,
                # samples are drawn chunk by chunk, so the chunk size changes them (listed only when it differs
                # from the default, which keeps the keys of runs stored before it was listed)
                **({"sample_batch": self.sample_batch} if self.sample_batch != DEFAULT_SAMPLE_BATCH else {})}

    def _codec_config(self) -> dict[str, Any]:
        if self.backbone != "latent-mlp":
            return {"latent_dim": None}  # the pixel backbone has no latent code
        if self.codec == "pca":
            return {"latent_dim": self.latent_dim}  # (the keys of runs stored before the autoencoder existed)
        return {"latent_dim": self.latent_dim, "codec": self.codec, "codec_epochs": self.codec_epochs,
                "codec_channels": self.codec_channels}

    # -- data
    def real_pool(self) -> Digits:
        """The real training digits that P_r is sampled from (the train split of the data set)."""
        if self._real is None:
            train_set, _ = lenet_features.TRAINING_DATA[self.dataset]
            self._real = Digits(*train_set())
        return self._real

    def draw_real(self, n: int, rng: np.random.Generator) -> Digits:
        """n distinct real digits drawn at random from the training pool."""
        pool = self.real_pool()
        if n > len(pool):
            raise ValueError(f"n: asked for {n} real digits but {self.dataset}'s training pool holds {len(pool)}")
        index = torch.as_tensor(rng.choice(len(pool), size=n, replace=False))
        return Digits(pool.images[index], pool.labels[index])

    def join(self, parts: Sequence[Digits]) -> Digits:
        parts = [p for p in parts if len(p)] or list(parts[:1])
        return Digits(torch.cat([p.images for p in parts]), torch.cat([p.labels for p in parts]))

    # -- training
    def new_network(self) -> nn.Module:
        if self.backbone == "latent-mlp":
            return LatentMLP(self.latent_dim, self.hidden, self.blocks)
        return UNet(self.unet_base)

    def fit_codec(self, images: torch.Tensor, generator: torch.Generator) -> PCACodec | AutoencoderCodec | PixelCodec:
        """A fresh latent code of this generation's digits (the pixel backbone's is the identity)."""
        if self.backbone != "latent-mlp":
            return PixelCodec()
        if self.codec == "pca":
            return PCACodec.fit(images, self.latent_dim)
        return AutoencoderCodec.fit(images, self.latent_dim, self.codec_channels, self.codec_epochs, generator)

    def fit(self, digits: Digits, rng: np.random.Generator) -> FittedDDPM:
        """Train a fresh codec and denoiser on the digits and their labels (``train_steps`` Adam steps)."""
        if self.backbone == "latent-mlp" and len(digits) <= self.latent_dim:
            raise ValueError(f"digits: the latent-mlp backbone needs more than latent_dim={self.latent_dim} training "
                             f"digits; got {len(digits)}")
        seed = int(rng.integers(2**62))
        generator = torch.Generator().manual_seed(seed)
        codec = self.fit_codec(digits.images, generator)
        codes = codec.encode(digits.images).to(self.device)
        labels = digits.labels.to(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            network = self.new_network().to(self.device)
        optimizer = torch.optim.AdamW(network.parameters(), lr=self.lr, weight_decay=0.0)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=self.train_steps,
                                                        pct_start=0.05)
        use_amp = self.device.type == "cuda"
        network.train()
        losses = []
        with report.task("DDPM training", self.train_steps, unit="step") as steps:
            for _ in range(self.train_steps):
                batch = torch.randint(len(codes), (self.batch_size,), generator=generator).to(self.device)
                x0, y = codes[batch], labels[batch]
                drop = torch.rand(len(y), generator=generator).to(self.device) < self.label_dropout
                y = torch.where(drop, torch.full_like(y, NULL_CLASS), y)
                t = torch.randint(self.timesteps, (len(y),), generator=generator).to(self.device)
                noise = torch.randn(x0.shape, generator=generator).to(self.device)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                    predicted = network(self.schedule.noised(x0, t, noise), t, y)
                loss = nn.functional.mse_loss(predicted.float(), noise)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
                steps.update()
        network.eval()
        return FittedDDPM(codec, network, float(np.mean(losses[-100:])))

    # -- sampling
    def balanced_labels(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        """n class labels, each class n/10 times (the first n mod 10 classes once more), in random order."""
        return torch.as_tensor(rng.permutation(np.arange(n) % NUM_CLASSES), dtype=torch.int64)

    def sample(self, fitted: FittedDDPM, n: int, lam: float, rng: np.random.Generator) -> Digits:
        """n class-balanced digits by ancestral sampling with guidance w = 1/lam - 1."""
        labels = self.balanced_labels(n, rng)
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        images = [self._sample_batch(fitted, chunk, guidance_weight(lam), generator)
                  for chunk in labels.split(self.sample_batch)]
        images = torch.cat(images) if images else torch.empty(0, *IMAGE_SHAPE)
        return Digits(images, labels)

    @torch.no_grad()
    def _sample_batch(self, fitted: FittedDDPM, labels: torch.Tensor, w: float,
                      generator: torch.Generator) -> torch.Tensor:
        n = len(labels)
        shape = (n, self.latent_dim) if self.backbone == "latent-mlp" else (n, *IMAGE_SHAPE)
        x = torch.randn(shape, generator=generator).to(self.device)
        labels = labels.to(self.device)
        guided = w > 0
        both = torch.cat([labels, torch.full_like(labels, NULL_CLASS)]) if guided else labels
        use_amp = self.device.type == "cuda"
        steps = range(self.timesteps - 1, -1, -1)
        with report.task("DDPM sampling", len(steps), unit="step") as done:
            for t in steps:
                t_batch = torch.full((len(both),), t, device=self.device, dtype=torch.int64)
                inputs = torch.cat([x, x]) if guided else x
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                    eps = fitted.network(inputs, t_batch, both).float()
                if guided:
                    conditional, unconditional = eps[:n], eps[n:]  # split(n) misbehaves when n = 0
                    eps = (1.0 + w) * conditional - w * unconditional
                inverse_sqrt_alpha, eps_coefficient, sigma = self.schedule.step_coefficients(t)
                x = inverse_sqrt_alpha * (x - eps_coefficient * eps)
                if sigma > 0:
                    x = x + sigma * torch.randn(x.shape, generator=generator).to(self.device)
                done.update()
        return fitted.codec.decode(x).cpu()

    # -- evaluation
    def reference(self) -> image_scores.ReferenceSet:
        """LeNet and the held-out digits' features and labels (:func:`madlib.metrics.image_scores.reference_set`)."""
        return image_scores.reference_set(self.dataset, lenet_epochs=self.lenet_epochs, device=self.device)

    def evaluate(self, fitted: FittedDDPM, lam: float, rng: np.random.Generator,
                 training: Digits | None = None) -> loops.Metrics:
        """Scores of ``n_eval`` digits sampled with the run's bias lam against the held-out real digits.

        Scalars (:func:`madlib.metrics.image_scores.score`, each with its ``<name>_se``): fid, precision, recall,
        density, coverage (k-NN with ``k``), lenet_agreement, class_separation and class_spread; the within-class
        dispersion kept in LeNet features and in pixels against ``training`` (the digits the model was fitted on;
        NaN without them) and against the held-out digits (:func:`madlib.metrics.image_scores.dispersion_scores`:
        dispersion_train, dispersion_real, pixel_dispersion_train, pixel_dispersion_real); and train_loss.
        Arrays: ``features``/``feature_labels`` (the first ``feature_keep`` samples' LeNet features and classes, for
        t-SNE) and ``grid`` (``grid_per_class`` samples of each class, for sample figures).
        """
        synthetic = self.sample(fitted, self.n_eval, lam, rng)
        scores = image_scores.score(self.reference(), synthetic.images, rng, labels=synthetic.labels, k=self.k)
        scores.values.update(image_scores.dispersion_scores(
            self.reference(), synthetic.images, scores.features, labels=synthetic.labels,
            training_images=None if training is None else training.images,
            training_labels=None if training is None else training.labels))
        metrics = scores.metrics()
        metrics["train_loss"], metrics["train_loss_se"] = np.array([fitted.final_loss]), np.array([math.nan])
        keep = min(self.feature_keep, len(synthetic))
        metrics["features"] = scores.features[:keep]
        metrics["feature_labels"] = synthetic.labels[:keep].numpy().astype(np.float64)
        metrics["grid"] = _grid(synthetic, self.grid_per_class)
        return metrics

    # -- checkpoints
    def save(self, obj: FittedDDPM | Digits, path: str) -> None:
        if isinstance(obj, Digits):
            state = {"kind": "digits", "images": obj.images, "labels": obj.labels}
        else:
            state = {"kind": "model", "codec": obj.codec.state(), "loss": torch.tensor(obj.final_loss, dtype=torch.float64),
                     "network": {k: v.cpu() for k, v in obj.network.state_dict().items()}}
        runs.write_torch_state(path, state)

    def load(self, path: str) -> FittedDDPM | Digits:
        state = runs.read_torch_state(path, ("digits", "model"), "DDPM")
        if state["kind"] == "digits":
            return Digits(state["images"], state["labels"])
        codec = self._load_codec(state["codec"])
        network = self.new_network()
        network.load_state_dict(state["network"])
        return FittedDDPM(codec, network.to(self.device).eval(), float(state["loss"]))

    def _load_codec(self, state: dict[str, Any]) -> PCACodec | AutoencoderCodec | PixelCodec:
        if not state:
            return PixelCodec()
        if "components" in state:
            return PCACodec(**state)
        network = ConvAutoencoder(self.latent_dim, self.codec_channels)
        network.load_state_dict(state["network"])
        return AutoencoderCodec(network, state["mean"], state["scale"])


def _grid(digits: Digits, per_class: int) -> np.ndarray:
    """(10, per_class, 28, 28) pixel values in [-1, 1]: the first per_class samples of each class (NaN if fewer)."""
    grid = np.full((NUM_CLASSES, per_class, 28, 28), np.nan, dtype=np.float32)
    for c in range(NUM_CLASSES):
        chosen = digits.images[digits.labels == c][:per_class, 0].numpy()
        grid[c, : len(chosen)] = chosen
    return grid
