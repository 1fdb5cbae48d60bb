"""Speed and generation-1 quality of the GAN architectures on the device at hand.

    python benchmarks/gan.py [--architecture style|wgan-gp|both] [--device cuda|cpu] [--threads N]
                             [--steps N [N ...]]

For each architecture (the recommended ``default`` settings in DEFAULT below) it prints

* training steps/s (generator steps; a WGAN-GP step includes its n_critic critic steps) and images/s sampled;
* the wall time of one ``default`` generation: fit on the 4,000 mnist-5k training digits, sample 2,000 images,
  evaluate (n_eval samples against the held-out digits), with FID / precision / recall and the spectral scores.
  The LeNet the evaluation needs is trained (or loaded from $MADLIB_STORE) beforehand and not counted.

--steps N ... repeats the generation at other train_steps (the quality / time trade-off). --threads sets torch's
and the BLAS's thread count (default 1: on a busy 2-core machine two threads are many times slower).
"""

import argparse
import contextlib
import time

import numpy as np
import torch

from madlib.metrics.precision_recall import default_device
from madlib.models import gan

# The recommended `default` preset (2 CPU cores, 1 thread): about half a minute per generation.
DEFAULT = {
    "style": dict(architecture="style", train_steps=500, width=32, batch_size=32, lr=2e-3),
    "wgan-gp": dict(architecture="wgan-gp", train_steps=350, width=32, batch_size=32, lr=5e-4, n_critic=2),
}
GENERATION_SAMPLES = 2000
TRAINING_DIGITS = 4000


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def generation(settings: dict, device: torch.device) -> dict[str, float]:
    """Wall times and scores of one generation: fit, sample, evaluate."""
    model = gan.GANModel(**settings, device=device)
    digits = model.draw_real(TRAINING_DIGITS, np.random.default_rng(0))
    model.reference()
    fitted, fit_time = timed(model.fit, digits, np.random.default_rng(1))
    _, sample_time = timed(model.sample, fitted, GENERATION_SAMPLES, 1.0, np.random.default_rng(2))
    metrics, evaluate_time = timed(model.evaluate, fitted, 1.0, np.random.default_rng(3))
    return {"steps/s": model.train_steps / fit_time, "images/s": GENERATION_SAMPLES / sample_time, "fit s": fit_time,
            "sample s": sample_time, "evaluate s": evaluate_time, "generation s": fit_time + sample_time + evaluate_time,
            **{name: float(metrics[name][0]) for name in ("fid", "precision", "recall", "spectral_distance",
                                                           "high_freq_ratio")}}


def limited_threads(threads: int):
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    return threadpool_limits(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", choices=[*gan.ARCHITECTURES, "both"], default="both")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument("--steps", type=int, nargs="*", default=None,
                        help="train_steps to time (default: the default preset's)")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    architectures = gan.ARCHITECTURES if args.architecture == "both" else (args.architecture,)
    with limited_threads(args.threads) if device.type == "cpu" else contextlib.nullcontext():
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        print(f"device: {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} torch threads")
        columns = ("steps/s", "images/s", "fit s", "sample s", "evaluate s", "generation s", "fid", "precision",
                   "recall", "spectral_distance", "high_freq_ratio")
        print(f"{'architecture':<12} " + " ".join(f"{c:>8.8}" for c in columns) + "  settings", flush=True)
        for architecture in architectures:
            settings = dict(DEFAULT[architecture])
            for steps in args.steps or [settings["train_steps"]]:
                settings["train_steps"] = steps
                row = generation(settings, device)
                shown = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "architecture")
                print(f"{architecture:<12} " + " ".join(f"{row[c]:8.3g}" for c in columns) + f"  {shown}", flush=True)


if __name__ == "__main__":
    main()
