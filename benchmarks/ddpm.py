"""Speed of the conditional DDPM's backbones on the device at hand.

    python benchmarks/ddpm.py [--backbone latent-mlp|unet|both] [--device cuda|cpu] [--steps N] [--samples N]
                              [--threads N] [--no-generation]

For each backbone (default settings of `madlib.models.ddpm.DDPMModel`, batch 256, T = 500) it prints

* training steps/s: `DDPMModel.fit` on the 4,000 mnist-5k training digits, timed from the end of the warm-up
  steps to the last of --steps more optimiser steps;
* sampled images/s at lam = 1 (no guidance) and at lam = 0.8 (guidance w = 0.25: twice the network batch), for
  --samples digits (by default 2,000, but only 4 for the UNet on the CPU so that it finishes);

and, for the latent MLP on the CPU, the wall time of one generation of the ``default`` preset: fit on the 4,000
digits (2,000 steps), sample 2,000 digits, evaluate (1,000 samples against the held-out digits). The LeNet the
evaluation needs is trained (or loaded from $MADLIB_STORE) beforehand and not counted. --threads sets torch's and
the BLAS's thread count (default: as they are); on a machine busy with other jobs, fewer threads can be much faster.
"""

import argparse
import contextlib
import time

import numpy as np
import torch
import torch.optim.optimizer as optimizer_module

from madlib import data, presets
from madlib.metrics.precision_recall import default_device
from madlib.models import ddpm

WARM_UP_STEPS = {"latent-mlp": 10, "unet": 2}
CPU_STEPS = {"latent-mlp": 200, "unet": 3}
CPU_UNET_SAMPLES = 4
GENERATION_SAMPLES = 2000


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepClock:
    """Times every optimiser step (after the step, waiting for the device)."""

    def __init__(self, device: torch.device):
        self.device, self.times = device, []

    def __enter__(self):
        def hook(optimizer, args, kwargs):
            synchronise(self.device)
            self.times.append(time.perf_counter())

        self.handle = optimizer_module.register_optimizer_step_post_hook(hook)
        return self

    def __exit__(self, *exc):
        self.handle.remove()

    def rate(self, warm_up: int) -> float:
        """Steps per second after the first `warm_up` steps."""
        timed = self.times[warm_up - 1:]
        return (len(timed) - 1) / (timed[-1] - timed[0])


def training_rate(model: ddpm.DDPMModel, digits: ddpm.Digits, warm_up: int):
    """Training steps/s of model.fit, and the fitted model."""
    with StepClock(model.device) as clock:
        fitted = model.fit(digits, np.random.default_rng(0))
    return clock.rate(warm_up), fitted


def sampling_rate(model: ddpm.DDPMModel, fitted, n: int, lam: float) -> float:
    """Images/s of model.sample (after a one-image warm-up)."""
    model.sample(fitted, 1, lam, np.random.default_rng(1))
    synchronise(model.device)
    start = time.perf_counter()
    model.sample(fitted, n, lam, np.random.default_rng(2))  # ends with .cpu(): waits for the device
    return n / (time.perf_counter() - start)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def default_generation(device: torch.device, digits: ddpm.Digits) -> dict[str, float]:
    """Wall times of one generation of the `default` preset's DDPM: fit, sample, evaluate."""
    model = ddpm.DDPMModel(**presets.DDPM_MODEL["default"], device=device)
    _, lenet_time = timed(model.reference)
    fitted, fit_time = timed(model.fit, digits, np.random.default_rng(0))
    _, sample_time = timed(model.sample, fitted, GENERATION_SAMPLES, 1.0, np.random.default_rng(1))
    metrics, evaluate_time = timed(model.evaluate, fitted, 1.0, np.random.default_rng(2))
    return {"lenet (not counted)": lenet_time, "fit": fit_time, f"sample {GENERATION_SAMPLES}": sample_time,
            f"evaluate {model.n_eval}": evaluate_time, "generation": fit_time + sample_time + evaluate_time,
            "fid": float(metrics["fid"][0]), "lenet_agreement": float(metrics["lenet_agreement"][0])}


def rate(value: float) -> str:
    """One decimal, or three significant digits for slow rates (the UNet on the CPU)."""
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}"


def limited_threads(threads: int | None):
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    return threadpool_limits(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", choices=["latent-mlp", "unet", "both"], default="both")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed training steps after the warm-up (default: 1000 on a GPU; on the CPU 200 for the "
                             "latent MLP, 3 for the UNet)")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"digits sampled per rate (default {GENERATION_SAMPLES}; {CPU_UNET_SAMPLES} for the UNet "
                             "on the CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch and BLAS threads (default: unchanged)")
    parser.add_argument("--no-generation", action="store_true", help="skip the default-generation wall time")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    backbones = ddpm.BACKBONES if args.backbone == "both" else (args.backbone,)

    with limited_threads(args.threads):
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        print(f"device: {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} torch threads")
        digits = ddpm.Digits(*data.mnist5k("train"))
        print(f"\n{'backbone':<11} {'train steps/s':>13} {'(steps)':>8} {'images/s lam=1':>15} "
              f"{'images/s lam=0.8':>17} {'(samples)':>10}", flush=True)
        generation = None
        for backbone in backbones:
            on_cpu = device.type == "cpu"
            steps = args.steps or (CPU_STEPS[backbone] if on_cpu else 1000)
            samples = args.samples or (CPU_UNET_SAMPLES if on_cpu and backbone == "unet" else GENERATION_SAMPLES)
            warm_up = WARM_UP_STEPS[backbone]
            model = ddpm.DDPMModel(backbone=backbone, timesteps=500, batch_size=256, train_steps=warm_up + steps,
                                   device=device)
            steps_per_s, fitted = training_rate(model, digits, warm_up)
            plain = sampling_rate(model, fitted, samples, 1.0)
            guided = sampling_rate(model, fitted, samples, 0.8)
            print(f"{backbone:<11} {rate(steps_per_s):>13} {steps:>8d} {rate(plain):>15} {rate(guided):>17} "
                  f"{samples:>10d}", flush=True)
            if backbone == "latent-mlp" and on_cpu and not args.no_generation:
                generation = default_generation(device, digits)

    if generation is not None:
        print("\nlatent-mlp, one `default` generation on the CPU (4000 training digits, T = 500, 2000 steps):")
        for part, value in generation.items():
            unit = " s" if part not in ("fid", "lenet_agreement") else ""
            print(f"  {part:<20} {value:8.2f}{unit}")

if __name__ == "__main__":
    main()
