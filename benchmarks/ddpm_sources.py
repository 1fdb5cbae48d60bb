"""Where the conditional DDPM's loss of spread per generation comes from: its autoencoder code or its denoiser.

The `default` DDPM (latent-mlp backbone over a 24-dimensional convolutional autoencoder code) keeps less of its
training digits' within-class spread each generation of the fully synthetic loop. This benchmark runs each of its
two trained parts in a loop of its own, on the mnist-5k training digits, with one thread:

1. **The codec alone.** Pass 1 trains an autoencoder on the real training digits and replaces them by their
   reconstructions decode(encode(x)) (labels kept); pass 2 trains a fresh autoencoder on those reconstructions, and
   so on for ``--passes`` passes. No denoiser and no sampling: what is lost is lost by the code alone.
2. **The denoiser alone.** One autoencoder trained on the real digits (pass 1's) is kept fixed. Generation 1 trains a
   denoiser on the real digits' codes; each later generation trains a fresh denoiser on the codes of the previous
   generation's ``--samples`` class-balanced lam = 1 samples (decoded, then encoded with the fixed codec, as the
   loop hands digits on), for ``--generations`` generations. The latent samples are the denoiser's own outputs,
   taken before decoding (the model samples through an identity codec), so the latent columns measure the
   denoiser and nothing else; the "round trip" column is what decoding and re-encoding them keeps. The pixel and
   LeNet columns compare the decoded samples with the decoded training codes (the denoiser's share, seen through
   the fixed decoder) and with the real digits (everything so far, the codec's reconstruction loss included).

Every "kept" number is :func:`madlib.metrics.dispersion.kept`: the pooled within-class covariance trace of one set
over another's, ± its delta-method standard error. "real" means the real training digits (or their codes) that both
loops start from; LeNet features are those of the reference set (the image figures' feature map), and FID is against
its held-out digits. Row 0 of the second table is the fixed codec's reconstruction of the real digits (what a perfect
denoiser would give).

    python benchmarks/ddpm_sources.py [--passes 10] [--generations 6] [--samples 2000] [--seed 0] [--threads 1]
                                      [--quick] [--set train_steps=4000 codec_epochs=20]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from madlib import presets
from madlib.metrics import dispersion
from madlib.metrics.frechet import frechet_distance
from madlib.models import ddpm

QUICK = dict(codec_epochs=2, train_steps=300)  # --quick: model settings of a trial run (with 2 passes/generations)


def _parse(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _kept(samples, reference, sample_labels, reference_labels) -> tuple[float, float]:
    as_array = lambda x: x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)  # noqa: E731
    return dispersion.kept(as_array(samples), as_array(reference), as_array(sample_labels), as_array(reference_labels))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**62))


# ------------------------------------------------------------------------------------------------ 1. the codec alone


@dataclass
class CodecPass:
    """One pass of the codec loop: the codec trained on ``inputs`` and its reconstructions of them."""

    index: int
    seconds: float
    codec: ddpm.AutoencoderCodec
    inputs: torch.Tensor
    reconstructions: torch.Tensor
    pixel_input: tuple[float, float]
    pixel_real: tuple[float, float]
    lenet_input: tuple[float, float]
    lenet_real: tuple[float, float]
    fid: float


def codec_loop(model: ddpm.DDPMModel, real: ddpm.Digits, reference, passes: int,
               rng: np.random.Generator) -> Iterator[CodecPass]:
    """Train an autoencoder on the digits, replace them by its reconstructions, repeat (one CodecPass a pass)."""
    labels = real.labels
    real_features = reference.embed(real.images)
    inputs, input_features = real.images, real_features
    for index in range(1, passes + 1):
        start = time.perf_counter()
        codec = model.fit_codec(inputs, torch.Generator().manual_seed(_seed(rng)))
        reconstructions = codec.decode(codec.encode(inputs))
        features = reference.embed(reconstructions)
        yield CodecPass(index, time.perf_counter() - start, codec, inputs, reconstructions,
                        pixel_input=_kept(reconstructions, inputs, labels, labels),
                        pixel_real=_kept(reconstructions, real.images, labels, labels),
                        lenet_input=_kept(features, input_features, labels, labels),
                        lenet_real=_kept(features, real_features, labels, labels),
                        fid=frechet_distance(reference.features, features))
        inputs, input_features = reconstructions, features


# ------------------------------------------------------------------------------------------------ 2. the denoiser alone


class _LatentOut:
    """A stand-in codec whose decode is the identity: DDPMModel.sample through it returns the denoiser's latents."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z.cpu()


def train_denoiser(model: ddpm.DDPMModel, codes: torch.Tensor, labels: torch.Tensor,
                   seed: int) -> ddpm.FittedDDPM:
    """A fresh denoiser trained on fixed codes as DDPMModel.fit trains one (same loop, CPU, no codec), returned with
    the identity codec so that sampling it gives latents."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = model.new_network()
    optimizer = torch.optim.AdamW(network.parameters(), lr=model.lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=model.lr, total_steps=model.train_steps,
                                                    pct_start=0.05)
    network.train()
    losses = []
    for _ in range(model.train_steps):
        batch = torch.randint(len(codes), (model.batch_size,), generator=generator)
        x0, y = codes[batch], labels[batch]
        drop = torch.rand(len(y), generator=generator) < model.label_dropout
        y = torch.where(drop, torch.full_like(y, ddpm.NULL_CLASS), y)
        t = torch.randint(model.timesteps, (len(y),), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        loss = nn.functional.mse_loss(network(model.schedule.noised(x0, t, noise), t, y), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    network.eval()
    return ddpm.FittedDDPM(_LatentOut(), network, float(np.mean(losses[-100:])))


@dataclass
class DenoiserGeneration:
    """One generation of the denoiser loop (generation 0: the fixed codec's round trip of the real digits)."""

    index: int
    seconds: float
    final_loss: float
    training_codes: torch.Tensor
    latents: torch.Tensor
    labels: torch.Tensor
    latent_train: tuple[float, float]
    latent_real: tuple[float, float]
    round_trip: tuple[float, float]
    pixel_train: tuple[float, float]
    pixel_real: tuple[float, float]
    lenet_train: tuple[float, float]
    lenet_real: tuple[float, float]
    fid: float


def denoiser_loop(model: ddpm.DDPMModel, real: ddpm.Digits, reference, codec, generations: int, samples: int,
                  rng: np.random.Generator) -> Iterator[DenoiserGeneration]:
    """Train fresh denoisers over a fixed codec, each on the codes of the previous one's lam = 1 samples."""
    nan = (float("nan"), float("nan"))
    real_codes, real_labels = codec.encode(real.images), real.labels
    real_features = reference.embed(real.images)

    def measure(index, seconds, loss, codes, code_labels, latents, labels):
        images = codec.decode(latents)
        features = reference.embed(images)
        decoded_codes = codec.decode(codes)  # what the denoiser's training codes look like decoded
        trained_on = reference.embed(decoded_codes)
        return DenoiserGeneration(
            index, seconds, loss, codes, latents, labels,
            latent_train=_kept(latents, codes, labels, code_labels) if index else nan,
            latent_real=_kept(latents, real_codes, labels, real_labels) if index else nan,
            round_trip=_kept(codec.encode(images), latents, labels, labels),
            pixel_train=_kept(images, decoded_codes, labels, code_labels) if index else nan,
            pixel_real=_kept(images, real.images, labels, real_labels),
            lenet_train=_kept(features, trained_on, labels, code_labels) if index else nan,
            lenet_real=_kept(features, real_features, labels, real_labels),
            fid=frechet_distance(reference.features, features))

    yield measure(0, 0.0, float("nan"), real_codes, real_labels, real_codes, real_labels)
    codes, labels = real_codes, real_labels
    for index in range(1, generations + 1):
        start = time.perf_counter()
        fitted = train_denoiser(model, codes, labels, _seed(rng))
        drawn = model.sample(fitted, samples, 1.0, rng)  # latents (samples, latent_dim) and balanced labels
        seconds = time.perf_counter() - start
        generation = measure(index, seconds, fitted.final_loss, codes, labels, drawn.images, drawn.labels)
        yield generation
        codes, labels = codec.encode(codec.decode(drawn.images)), drawn.labels  # what the loop hands on


# ------------------------------------------------------------------------------------------------ printing


def _cell(value: tuple[float, float]) -> str:
    ratio, se = value
    return "-" if np.isnan(ratio) else f"{ratio:.3f} ± {se:.3f}"


CODEC_HEADER = ("| pass | seconds | pixel kept / input | pixel kept / real | LeNet kept / input | LeNet kept / real "
                "| FID |\n|---:|---:|---:|---:|---:|---:|---:|")
DENOISER_HEADER = ("| generation | seconds | final loss | latent kept / training codes | latent kept / real codes "
                   "| round trip kept | pixel kept / decoded training codes | pixel kept / real "
                   "| LeNet kept / decoded training codes | LeNet kept / real | FID |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def codec_row(p: CodecPass) -> str:
    cells = [str(p.index), f"{p.seconds:.0f}", _cell(p.pixel_input), _cell(p.pixel_real), _cell(p.lenet_input),
             _cell(p.lenet_real), f"{p.fid:.1f}"]
    return "| " + " | ".join(cells) + " |"


def denoiser_row(g: DenoiserGeneration) -> str:
    cells = [str(g.index) if g.index else "0 (codec round trip)", f"{g.seconds:.0f}" if g.index else "-",
             f"{g.final_loss:.3f}" if g.index else "-", _cell(g.latent_train), _cell(g.latent_real),
             _cell(g.round_trip), _cell(g.pixel_train), _cell(g.pixel_real), _cell(g.lenet_train), _cell(g.lenet_real), f"{g.fid:.1f}"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=10, help="passes of the codec loop")
    parser.add_argument("--generations", type=int, default=6, help="generations of the denoiser loop")
    parser.add_argument("--samples", type=int, default=presets.DDPM_CHAIN["default"]["n_s"],
                        help="samples a generation hands on (the loop's n_s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a trial run: {QUICK}, 2 passes, 2 generations, 500 samples")
    parser.add_argument("--set", nargs="*", default=[], help="model settings, e.g. train_steps=4000")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training draw and the models")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (a chain runs at 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    settings = dict(presets.DDPM_MODEL["default"])
    if args.quick:
        settings.update(QUICK)
        args.passes, args.generations, args.samples = 2, 2, 500
    for item in args.set:
        key, value = item.split("=")
        settings[key] = _parse(value)
    model = ddpm.DDPMModel(**settings)
    rng = np.random.default_rng(args.seed)
    real = model.draw_real(len(model.real_pool()), rng)
    reference = model.reference()
    begin = time.perf_counter()
    print(f"settings {settings}\n{len(real)} real training digits, {args.samples} samples a generation, "
          f"seed {args.seed}, {args.threads} thread(s)\n")
    print(f"## 1. The codec alone ({args.passes} passes)\n\n{CODEC_HEADER}", flush=True)
    first_codec = None
    for codec_pass in codec_loop(model, real, reference, args.passes, rng):
        first_codec = first_codec or codec_pass.codec
        print(codec_row(codec_pass), flush=True)
    print(f"\n## 2. The denoiser alone over the pass-1 codec ({args.generations} generations)\n\n{DENOISER_HEADER}",
          flush=True)
    if first_codec is None:  # --passes 0
        first_codec = model.fit_codec(real.images, torch.Generator().manual_seed(_seed(rng)))
    for generation in denoiser_loop(model, real, reference, first_codec, args.generations, args.samples, rng):
        print(denoiser_row(generation), flush=True)
    print(f"\ntotal {time.perf_counter() - begin:.0f} s", flush=True)


if __name__ == "__main__":
    main()
