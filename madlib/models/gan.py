"""Unconditional GANs on digits or an image folder, with truncation as the sampling bias (paper Sec. 2.3, 3-4, App. B.1).

Two architectures behind one interface (``architecture``):

* ``"style"`` (StyleGAN2-like, small): a mapping MLP z -> w (``mapping_layers`` fully connected layers after
  normalising z), and a synthesis network that starts from a learned constant of B x B pixels (B = 7 or 4) and
  doubles the resolution stage by stage with **nearest-neighbour upsampling followed by a 3x3 convolution**. Every
  convolution is modulated by w as in StyleGAN2: input channels are scaled by a style s = A(w), and each output
  channel is demodulated by 1 / sqrt(sum (weight * s)^2), then bias and leaky ReLU; a modulated 1x1 convolution
  (no demodulation) and tanh give the image. No noise inputs, so an image is a function of w alone. The
  discriminator is convolutional (stride-2 4x4 convolutions, a minibatch standard-deviation channel at the end).
  Loss: the non-saturating logistic loss with a lazy R1 penalty on real images every ``R1_EVERY`` steps
  (StyleGAN2's recipe); Adam with betas (0, 0.99).
  Sampling bias lam = truncation psi: w' = w_avg + lam (w - w_avg), with w_avg the mean of w over
  ``W_AVG_SAMPLES`` latents drawn after training (stored with the model).
* ``"wgan-gp"`` (DCGAN-like, Gulrajani et al. 2017): a linear layer to B x B feature maps, then one **4x4 stride-2
  transposed convolution** per doubling (ReLU between, tanh at the end); a critic of stride-2 4x4 convolutions
  without any normalisation; the Wasserstein loss with gradient penalty gp_weight * E[(|grad D(x_hat)| - 1)^2] on
  random interpolates of real and fake images, ``n_critic`` critic steps per generator step, Adam with betas
  (0.5, 0.9). Sampling bias: z' = lam z (toward the mean latent 0).

lam = 1 is unbiased sampling and lam = 0 gives one image (the "mean" style or latent) for every draw.

Image sizes: B * 2^k with B in {4, 7} and k >= 1, i.e. 8, 14, 16, 28, 32, 56, 64, 112, 128, ... (B = 7 is used
when the size is a multiple of 7). The digit data sets (``"mnist-5k"``, ``"mnist"``) are 28 x 28 with one channel.
Any other ``dataset`` is the path of an image folder (one sub-folder per class, labels ignored), read at
``image_size`` with ``channels`` 1 (grey) or 3 (RGB).

Evaluation (:meth:`GANModel.evaluate`): ``n_eval`` images sampled with the run's bias, scored against held-out real
images by :mod:`madlib.metrics.image_scores` (for digits on LeNet features, as for the DDPM; for an image folder on
the pixels' principal components, the held-out images being a fixed share of the folder that is never trained on).
Spectral scores, the GAN's own, compare Fourier power spectra of the pixels (:mod:`madlib.metrics.spectrum`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from madlib import loops, runs
from madlib import progress as report
from madlib.metrics import features as lenet_features
from madlib.metrics import image_scores, spectrum
from madlib.metrics.bootstrap import bootstrap
from madlib.metrics.precision_recall import default_device

ARCHITECTURES = ("style", "wgan-gp")
DEFAULT_TRAIN_STEPS = {"style": 500, "wgan-gp": 350}
DEFAULT_LR = {"style": 2e-3, "wgan-gp": 5e-4}
ADAM_BETAS = {"style": (0.0, 0.99), "wgan-gp": (0.5, 0.9)}
MAPPING_LR_SCALE = 0.1  # the mapping network learns 10x slower (StyleGAN's lr multiplier 0.01, milder here)
R1_EVERY = 4  # lazy R1: the penalty every 4 discriminator steps, weighted by 4
W_AVG_SAMPLES = 10000
LOSS_WINDOW = 50  # g_loss / d_loss: mean over the last 50 steps
SAMPLE_BATCH = 1000


def base_resolution(image_size: int) -> tuple[int, int]:
    """(B, k) with image_size = B * 2^k, B in {7, 4}, k >= 1; ValueError for other sizes."""
    for base in (7, 4):
        k = 0
        size = image_size
        while size > base and size % 2 == 0:
            size //= 2
            k += 1
        if size == base and k >= 1:
            return base, k
    raise ValueError(f"image_size: must be 7 * 2^k or 4 * 2^k with k >= 1 (8, 14, 16, 28, 32, 56, 64, ...); "
                     f"got {image_size!r}")


def stage_channels(width: int, stages: int) -> list[int]:
    """Channels at the base resolution and after each doubling: width, then halving at each doubling (at least 8)."""
    return [max(8, width // 2 ** k) for k in range(stages + 1)]


# ------------------------------------------------------------------------------------------------ data


@dataclass
class Images:
    """A set of images (n, c, s, s), float32 in [-1, 1], on the CPU."""

    images: torch.Tensor

    def __len__(self) -> int:
        return len(self.images)


# ------------------------------------------------------------------------------------------------ style generator


class ModulatedConv(nn.Module):
    """A k x k convolution whose input channels are scaled by a style s = A(w) and, with ``demodulate``, whose
    output channels are divided by sqrt(sum over inputs and taps of (weight * s)^2) (StyleGAN2's weight
    demodulation, applied to activations instead of per-sample weights: the same result)."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels_out, channels_in, kernel, kernel) / math.sqrt(channels_in * kernel ** 2))
        self.bias = nn.Parameter(torch.zeros(channels_out))
        self.affine = nn.Linear(w_dim, channels_in)
        nn.init.normal_(self.affine.weight, std=1.0 / math.sqrt(w_dim))  # styles 1 + O(1) variation across w
        nn.init.ones_(self.affine.bias)
        self.demodulate = demodulate

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w)
        y = F.conv2d(x * style[:, :, None, None], self.weight, padding=self.weight.shape[-1] // 2)
        if self.demodulate:
            energy = style.pow(2) @ self.weight.pow(2).sum((2, 3)).T  # (n, out): sum_i s_i^2 sum_taps W_oi^2
            y = y * torch.rsqrt(energy + 1e-8)[:, :, None, None]
        return y + self.bias[None, :, None, None]


class StyleGenerator(nn.Module):
    """Mapping MLP z -> w and a modulated synthesis network from a learned constant (see the module docstring)."""

    def __init__(self, image_size: int, channels: int, z_dim: int, w_dim: int, mapping_layers: int, width: int):
        super().__init__()
        base, stages = base_resolution(image_size)
        sizes = [z_dim] + [w_dim] * mapping_layers
        self.mapping = nn.Sequential(*[layer for a, b in zip(sizes, sizes[1:])
                                       for layer in (nn.Linear(a, b), nn.LeakyReLU(0.2))])
        for layer in self.mapping[::2]:  # He init keeps w at unit scale through the layers (PyTorch's default
            nn.init.kaiming_normal_(layer.weight, a=0.2)  # shrinks it, so that every z maps to nearly one w)
            nn.init.zeros_(layer.bias)
        widths = stage_channels(width, stages)
        self.constant = nn.Parameter(torch.randn(widths[0], base, base))
        self.convs = nn.ModuleList([ModulatedConv(widths[0], widths[0], 3, w_dim)] +
                                   [ModulatedConv(a, b, 3, w_dim) for a, b in zip(widths, widths[1:])])
        self.to_image = ModulatedConv(widths[-1], channels, 1, w_dim, demodulate=False)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def styles(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """w = mapping(z / rms(z)), truncated toward w_avg: w_avg + psi (w - w_avg)."""
        w = self.mapping(z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8))
        return w if psi == 1.0 else self.w_avg + psi * (w - self.w_avg)

    def synthesis(self, w: torch.Tensor) -> torch.Tensor:
        x = self.constant.expand(len(w), *self.constant.shape)
        for index, conv in enumerate(self.convs):
            if index > 0:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.leaky_relu(conv(x, w), 0.2)
        return torch.tanh(self.to_image(x, w))

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        return self.synthesis(self.styles(z, psi))


# ------------------------------------------------------------------------------------------------ DCGAN generator


class DCGenerator(nn.Module):
    """z -> linear -> B x B maps of 2 * width channels -> a 4x4 stride-2 transposed convolution per doubling, halving
    the channels (at least 8; ReLU between), the last one to the image channels, then tanh."""

    def __init__(self, image_size: int, channels: int, z_dim: int, width: int):
        super().__init__()
        base, stages = base_resolution(image_size)
        widths = stage_channels(2 * width, stages - 1) + [channels]
        self.base, self.first = base, widths[0]
        self.project = nn.Linear(z_dim, widths[0] * base * base)
        layers = []
        for index, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            layers.append(nn.Tanh() if index == stages - 1 else nn.ReLU())
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        x = F.relu(self.project(psi * z)).view(len(z), self.first, self.base, self.base)
        return self.body(x)


# ------------------------------------------------------------------------------------------------ discriminator


class MinibatchStd(nn.Module):
    """Appends one channel: the mean over features of the standard deviation across the batch (StyleGAN)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spread = (x.float().var(0, unbiased=False) + 1e-8).sqrt().mean()  # eps: a finite gradient at spread 0
        return torch.cat([x, spread.to(x.dtype).expand(len(x), 1, *x.shape[2:])], 1)


class Discriminator(nn.Module):
    """3x3 conv, one 4x4 stride-2 conv per halving down to B x B, [minibatch std], 3x3 conv, linear -> one score.
    No normalisation layers (the WGAN-GP critic must not have batch-dependent ones; minibatch_std is off there)."""

    def __init__(self, image_size: int, channels: int, width: int, minibatch_std: bool):
        super().__init__()
        base, stages = base_resolution(image_size)
        widths = stage_channels(width, stages)[::-1]  # full resolution first
        layers = [nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2)]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        if minibatch_std:
            layers.append(MinibatchStd())
        layers += [nn.Conv2d(widths[-1] + int(minibatch_std), widths[-1], 3, padding=1), nn.LeakyReLU(0.2),
                   nn.Flatten(), nn.Linear(widths[-1] * base * base, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


# ------------------------------------------------------------------------------------------------ losses


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = mix * real + (1 - mix) * fake (mix: (n,))."""
    mix = mix.view(-1, *([1] * (real.ndim - 1)))
    x_hat = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real images."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


@dataclass
class FittedGAN:
    """One generation's trained generator (eval mode; for "style" its w_avg buffer is set) and final losses."""

    generator: nn.Module
    g_loss: float
    d_loss: float


# ------------------------------------------------------------------------------------------------ the model family


class GANModel:
    """An unconditional GAN as a :class:`madlib.loops.LoopModel` (see the module docstring).

    ``train_steps`` counts generator steps (a WGAN-GP step also has ``n_critic`` critic steps). ``train_steps`` and
    ``lr`` default per architecture (DEFAULT_TRAIN_STEPS, DEFAULT_LR). ``r1_gamma`` weighs the style GAN's R1 penalty
    (gamma / 2 * R1). ``ema`` > 0 keeps an exponential moving average of the generator's weights (each generator step
    moves it 1 - ema of the way to the trained weights), and the generation samples from that average, as StyleGAN2
    does: the trained generator's quality swings from step to step, the average's much less (0 = no average).
    """

    def __init__(self, architecture: str = "style", dataset: str = "mnist-5k",
                 image_size: int = 28, channels: int | None = None, train_steps: int | None = None,
                 batch_size: int = 64, lr: float | None = None, z_dim: int = 64, w_dim: int = 64,
                 mapping_layers: int = 4, width: int = 64, n_critic: int = 5, gp_weight: float = 10.0,
                 r1_gamma: float = 1.0, ema: float = 0.0, n_eval: int = 1000, k: int = 5, grid_count: int = 64,
                 lenet_epochs: int = lenet_features.DEFAULT_EPOCHS, device: str | torch.device | None = None):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture: must be one of {', '.join(map(repr, ARCHITECTURES))}; got {architecture!r}")
        self.digits = dataset in image_scores.DIGIT_DATASETS
        channels = 1 if channels is None else channels
        if channels not in (1, 3):
            raise ValueError(f"channels: 1 (grey) or 3 (RGB); got {channels!r}")
        if self.digits and (image_size, channels) != (28, 1):
            raise ValueError(f"image_size, channels: the digit data sets are 28 x 28 grey; got {image_size}, {channels}")
        base_resolution(image_size)
        train_steps = DEFAULT_TRAIN_STEPS[architecture] if train_steps is None else train_steps
        for name, value, low in (("train_steps", train_steps, 1), ("batch_size", batch_size, 2), ("z_dim", z_dim, 1),
                                 ("w_dim", w_dim, 1), ("mapping_layers", mapping_layers, 1), ("width", width, 1),
                                 ("n_critic", n_critic, 1), ("n_eval", n_eval, k + 1), ("k", k, 1),
                                 ("grid_count", grid_count, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: must be an integer >= {low}; got {value!r}")
        if isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0.0 <= ema < 1.0:
            raise ValueError(f"ema: the decay of the generator's weight average must be a number in [0, 1) "
                             f"(0 = no average); got {ema!r}")
        self.ema = float(ema)
        self.architecture, self.image_size, self.channels = architecture, image_size, channels
        self.dataset = dataset if self.digits else str(Path(dataset).expanduser())
        self.train_steps, self.batch_size = train_steps, batch_size
        self.lr = DEFAULT_LR[architecture] if lr is None else float(lr)
        self.z_dim, self.w_dim, self.mapping_layers, self.width = z_dim, w_dim, mapping_layers, width
        self.n_critic, self.gp_weight, self.r1_gamma = n_critic, float(gp_weight), float(r1_gamma)
        self.n_eval, self.k, self.grid_count, self.lenet_epochs = n_eval, k, grid_count, lenet_epochs
        self.device = torch.device(device) if device is not None else default_device()
        self._pools: tuple[torch.Tensor, torch.Tensor] | None = None
        self._real_power: torch.Tensor | None = None

    # -- what the store key is made of
    def config(self) -> dict[str, Any]:
        style = self.architecture == "style"
        return {"model": "gan", "architecture": self.architecture, "dataset": self.dataset,
                "image_size": self.image_size, "channels": self.channels, "train_steps": self.train_steps,
                "batch_size": self.batch_size, "lr": self.lr, "z_dim": self.z_dim,
                "w_dim": self.w_dim if style else None, "mapping_layers": self.mapping_layers if style else None,
                "width": self.width, "n_critic": None if style else self.n_critic,
                "gp_weight": None if style else self.gp_weight, "r1_gamma": self.r1_gamma if style else None,
                **({"ema": self.ema} if self.ema else {}),
                "n_eval": self.n_eval, "k": self.k, "grid_count": self.grid_count,
                "lenet_epochs": self.lenet_epochs if self.digits else None, "device": self.device.type}

    # -- data
    def _split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(training pool, held-out reference images), loaded once."""
        if self._pools is None:
            if self.digits:
                train_set, test_set = lenet_features.TRAINING_DATA[self.dataset]
                self._pools = (train_set()[0], test_set()[0])
            else:
                self._pools = image_scores.folder_split(self.dataset, self.image_size, self.channels, self.k)
        return self._pools

    def real_pool(self) -> Images:
        """The real training images that P_r is sampled from."""
        return Images(self._split()[0])

    def reference_images(self) -> Images:
        """The held-out real images the evaluation compares with (never trained on)."""
        return Images(self._split()[1])

    def draw_real(self, n: int, rng: np.random.Generator) -> Images:
        """n distinct real images drawn at random from the training pool."""
        pool = self._split()[0]
        if n > len(pool):
            raise ValueError(f"n: asked for {n} real images but the training pool of {self.dataset} holds {len(pool)}")
        return Images(pool[torch.as_tensor(rng.choice(len(pool), size=n, replace=False))])

    def join(self, parts: Sequence[Images]) -> Images:
        parts = [p for p in parts if len(p)] or list(parts[:1])
        return Images(torch.cat([p.images for p in parts]))

    # -- networks
    def new_generator(self) -> nn.Module:
        if self.architecture == "style":
            return StyleGenerator(self.image_size, self.channels, self.z_dim, self.w_dim, self.mapping_layers,
                                  self.width)
        return DCGenerator(self.image_size, self.channels, self.z_dim, self.width)

    def new_discriminator(self) -> nn.Module:
        return Discriminator(self.image_size, self.channels, self.width, minibatch_std=self.architecture == "style")

    def _optimizers(self, generator: nn.Module, critic: nn.Module):
        betas = ADAM_BETAS[self.architecture]
        if self.architecture == "style":
            mapping = list(generator.mapping.parameters())
            rest = [p for name, p in generator.named_parameters() if not name.startswith("mapping.")]
            groups = [{"params": rest}, {"params": mapping, "lr": self.lr * MAPPING_LR_SCALE}]
        else:
            groups = [{"params": list(generator.parameters())}]
        return torch.optim.Adam(groups, lr=self.lr, betas=betas), torch.optim.Adam(critic.parameters(), lr=self.lr,
                                                                                   betas=betas)

    # -- training
    def fit(self, images: Images, rng: np.random.Generator) -> FittedGAN:
        """Train a fresh generator and discriminator on the images for ``train_steps`` generator steps."""
        if len(images) < 2:
            raise ValueError(f"images: a GAN needs at least 2 training images; got {len(images)}")
        shape = (self.channels, self.image_size, self.image_size)
        if tuple(images.images.shape[1:]) != shape:
            raise ValueError(f"images: expected shape (n, {', '.join(map(str, shape))}); got {tuple(images.images.shape)}")
        seed = int(rng.integers(2**62))
        noise = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            generator, critic = self.new_generator().to(self.device), self.new_discriminator().to(self.device)
        g_opt, d_opt = self._optimizers(generator, critic)
        pool = images.images.to(self.device)
        step = self._style_step if self.architecture == "style" else self._wgan_step
        average = copy.deepcopy(generator).requires_grad_(False) if self.ema else None
        g_losses, d_losses = [], []
        with report.task(f"GAN ({self.architecture}) training", self.train_steps, unit="step") as steps:
            for index in range(self.train_steps):
                g_loss, d_loss = step(index, generator, critic, g_opt, d_opt, pool, noise)
                g_losses.append(g_loss)
                d_losses.append(d_loss)
                if average is not None:
                    move_average(average, generator, self.ema)
                steps.update()
        generator = (generator if average is None else average).eval()
        if self.architecture == "style":
            self._estimate_w_avg(generator, noise)
        return FittedGAN(generator, float(np.mean(g_losses[-LOSS_WINDOW:])), float(np.mean(d_losses[-LOSS_WINDOW:])))

    def _batch(self, pool: torch.Tensor, noise: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of real images (drawn with replacement) and as many latents, on the device."""
        index = torch.randint(len(pool), (self.batch_size,), generator=noise).to(self.device)
        return pool[index], torch.randn(self.batch_size, self.z_dim, generator=noise).to(self.device)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda")

    def _style_step(self, index, generator, critic, g_opt, d_opt, pool, noise) -> tuple[float, float]:
        """One discriminator and one generator step of the non-saturating logistic loss (+ lazy R1)."""
        real, z = self._batch(pool, noise)
        with self._autocast():
            with torch.no_grad():
                fake = generator(z)
            d_loss = F.softplus(critic(fake.detach())).mean() + F.softplus(-critic(real)).mean()
        if self.r1_gamma > 0 and index % R1_EVERY == 0:  # penalties in float32, outside autocast
            d_loss = d_loss + self.r1_gamma / 2 * R1_EVERY * r1_penalty(critic, real)
        _update(d_opt, d_loss)
        _, z = self._batch(pool, noise)
        with self._autocast():
            g_loss = F.softplus(-critic(generator(z))).mean()
        _update(g_opt, g_loss)
        return g_loss.item(), d_loss.item()

    def _wgan_step(self, index, generator, critic, g_opt, d_opt, pool, noise) -> tuple[float, float]:
        """n_critic critic steps of the WGAN-GP loss, then one generator step."""
        for _ in range(self.n_critic):
            real, z = self._batch(pool, noise)
            mix = torch.rand(self.batch_size, generator=noise).to(self.device)
            with self._autocast():
                with torch.no_grad():
                    fake = generator(z)
                d_loss = critic(fake).mean() - critic(real).mean()
            d_loss = d_loss.float() + self.gp_weight * gradient_penalty(critic, real, fake.float(), mix)
            _update(d_opt, d_loss)
        _, z = self._batch(pool, noise)
        with self._autocast():
            g_loss = -critic(generator(z)).mean()
        _update(g_opt, g_loss)
        return g_loss.item(), d_loss.item()

    @torch.no_grad()
    def _estimate_w_avg(self, generator: StyleGenerator, noise: torch.Generator) -> None:
        z = torch.randn(W_AVG_SAMPLES, self.z_dim, generator=noise).to(self.device)
        generator.w_avg.copy_(generator.styles(z).mean(0))

    # -- sampling
    def latents(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        """n standard normal latents z (n, z_dim) on the CPU, from rng."""
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        return torch.randn(n, self.z_dim, generator=generator)

    @torch.no_grad()
    def sample(self, fitted: FittedGAN, n: int, lam: float, rng: np.random.Generator) -> Images:
        """n images with truncation lam (style: w toward w_avg; wgan-gp: z toward 0)."""
        lam = loops.check_lam(lam)
        z = self.latents(n, rng)
        parts = []
        for chunk in z.split(SAMPLE_BATCH):  # float32 even on CUDA: no rounding noise in the spectra
            parts.append(fitted.generator(chunk.to(self.device), lam).float().cpu())
        images = torch.cat(parts) if parts else torch.empty(0, self.channels, self.image_size, self.image_size)
        return Images(images.clamp(-1.0, 1.0))

    # -- evaluation
    def reference(self) -> image_scores.ReferenceSet:
        """The held-out real images and their features (:func:`madlib.metrics.image_scores.reference_set`)."""
        return image_scores.reference_set(self.dataset, self.image_size, self.channels, self.lenet_epochs, self.k,
                                          self.device)

    def real_power(self) -> torch.Tensor:
        """The mean Fourier power map of the held-out real images (computed once)."""
        if self._real_power is None:
            self._real_power = spectrum.power_maps(self.reference().images).mean(0)
        return self._real_power

    def real_spectrum(self) -> tuple[np.ndarray, np.ndarray]:
        """(radii, radially averaged power) of the held-out real images, to plot beside evaluate's ``spectrum``."""
        return spectrum.radial_average(self.real_power())

    def evaluate(self, fitted: FittedGAN, lam: float, rng: np.random.Generator,
                 training: Images | None = None) -> loops.Metrics:
        """Scores of ``n_eval`` images sampled with the run's bias lam against the held-out real images.

        Scalars: fid, precision, recall, density, coverage (k-NN with ``k``, from
        :func:`madlib.metrics.image_scores.score`), the total dispersion kept in the reference's features and in
        pixels against ``training`` (the images the model was fitted on; NaN without them) and against the held-out
        images (dispersion_train, dispersion_real, pixel_dispersion_train, pixel_dispersion_real, from
        :func:`madlib.metrics.image_scores.dispersion_scores`), spectral_distance and high_freq_ratio (cutoff 0.5
        Nyquist), g_loss and d_loss (training losses over the last steps). Each has a ``<name>_se``: binomial for
        precision / recall / coverage, bootstrap over the synthetic images for fid and the spectral scores, the
        delta method for the dispersions, NaN for density and the losses. Arrays: ``grid`` (the first ``grid_count`` samples, (grid_count, s, s) for grey images,
        (grid_count, c, s, s) otherwise) and ``spectrum`` (the samples' radial power spectrum; :meth:`real_spectrum`
        gives the real one).
        """
        synthetic = self.sample(fitted, self.n_eval, lam, rng).images
        scored = image_scores.score(self.reference(), synthetic, rng, k=self.k)
        scores = scored.values
        power = spectrum.power_maps(synthetic)
        scores.update(self.spectral_scores(power, rng))
        scores.update(image_scores.dispersion_scores(self.reference(), synthetic, scored.features,
                                                     None if training is None else training.images))
        scores.update(g_loss=fitted.g_loss, g_loss_se=math.nan, d_loss=fitted.d_loss, d_loss_se=math.nan)
        metrics = {name: np.array([float(value)]) for name, value in scores.items()}
        grid = synthetic[: self.grid_count].numpy().astype(np.float64)
        metrics["grid"] = grid[:, 0] if self.channels == 1 else grid
        metrics["spectrum"] = spectrum.radial_average(power.mean(0))[1]
        return metrics

    def spectral_scores(self, power: torch.Tensor, rng: np.random.Generator) -> dict[str, float]:
        """spectral_distance and high_freq_ratio of the samples' power maps against the held-out real images', each
        with a bootstrap SE over the samples."""
        real_profile = spectrum.radial_average(self.real_power())[1]
        real_share = spectrum.high_frequency_share(self.real_power())
        statistics = {
            "spectral_distance": lambda p: spectrum.log_spectrum_distance(spectrum.radial_average(p.mean(0))[1],
                                                                          real_profile),
            "high_freq_ratio": lambda p: spectrum.high_frequency_share(p.mean(0)) / real_share,
        }
        scores = {}
        for name, statistic in statistics.items():
            scores[name], scores[f"{name}_se"] = bootstrap(statistic, rng, power)
        return scores

    # -- checkpoints
    def save(self, obj: FittedGAN | Images, path: str) -> None:
        if isinstance(obj, Images):
            state = {"kind": "images", "images": obj.images}
        else:
            state = {"kind": "model", "architecture": self.architecture,
                     "losses": torch.tensor([obj.g_loss, obj.d_loss], dtype=torch.float64),
                     "generator": {k: v.cpu() for k, v in obj.generator.state_dict().items()}}
        runs.write_torch_state(path, state)

    def load(self, path: str) -> FittedGAN | Images:
        state = runs.read_torch_state(path, ("images", "model"), "GAN")
        if state["kind"] == "images":
            return Images(state["images"])
        if state.get("architecture") != self.architecture:
            raise ValueError(f"{path}: a {state.get('architecture')!r} GAN, not {self.architecture!r}")
        generator = self.new_generator()
        generator.load_state_dict(state["generator"])
        g_loss, d_loss = (float(v) for v in state["losses"])
        return FittedGAN(generator.to(self.device).eval(), g_loss, d_loss)


@torch.no_grad()
def move_average(average: nn.Module, trained: nn.Module, decay: float) -> None:
    """average <- decay * average + (1 - decay) * trained, parameter by parameter."""
    for kept, new in zip(average.parameters(), trained.parameters()):
        kept.lerp_(new, 1.0 - decay)


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
