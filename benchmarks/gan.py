"""Speed and generation-1 quality of the GAN architectures on the device at hand.

    python benchmarks/gan.py [--architecture style|wgan-gp|both] [--device cuda|cpu] [--threads N]
                             [--steps N [N ...]] [--seeds N [N ...]] [--set NAME=VALUE ...]

For each architecture (the recommended ``default`` settings in DEFAULT below) it prints

* training steps/s (generator steps; a WGAN-GP step includes its n_critic critic steps) and images/s sampled;
* the wall time of one ``default`` generation: fit on the 4,000 mnist-5k training digits, sample 2,000 images,
  evaluate (n_eval samples against the held-out digits), with FID / precision / recall and the spectral scores.
  The LeNet the evaluation needs is trained (or loaded from $MADLIB_STORE) beforehand and not counted.

--steps N ... repeats the generation at other train_steps (the quality / time trade-off). --seeds N ... repeats each
setting with other seeds (seed s draws the training digits with 4s, fits with 4s + 1, samples with 4s + 2 and
evaluates with 4s + 3; default 0) and prints the mean and standard deviation over seeds: GAN training is noisy, and
more steps are not always better, so pick budgets on several seeds. --set overrides other GANModel settings, e.g.
``--set lr=1e-3 n_critic=3``. --threads sets torch's and the BLAS's thread count (default 1: on a busy 2-core machine
two threads are many times slower).
"""

import argparse
import ast
import contextlib
import time

import numpy as np
import torch

from madlib.metrics.precision_recall import default_device
from madlib.models import gan

# The recommended `default` preset (madlib.presets' GAN_MODEL / WGAN_MODEL; 1 thread of a 2-core machine): about
# 48 s (style) and 50 s (wgan-gp) per generation; generation-1 FID: style 7-21 over seeds 0-4 and 6 (sampled from the
# generator's moving average; without it, 11-30 at 1250 steps), wgan-gp 21-45 over seeds 0-6.
DEFAULT = {
    "style": dict(architecture="style", train_steps=1000, width=32, batch_size=32, lr=2e-3, ema=0.995),
    "wgan-gp": dict(architecture="wgan-gp", train_steps=700, width=32, batch_size=32, lr=2e-3, n_critic=2),
}
GENERATION_SAMPLES = 2000
TRAINING_DIGITS = 4000


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def generation(settings: dict, device: torch.device, seed: int = 0) -> dict[str, float]:
    """Wall times and scores of one generation: fit, sample, evaluate (seeds 4 seed + 0, 1, 2, 3)."""
    model = gan.GANModel(**settings, device=device)
    rngs = [np.random.default_rng(4 * seed + offset) for offset in range(4)]
    digits = model.draw_real(TRAINING_DIGITS, rngs[0])
    model.reference()
    fitted, fit_time = timed(model.fit, digits, rngs[1])
    _, sample_time = timed(model.sample, fitted, GENERATION_SAMPLES, 1.0, rngs[2])
    metrics, evaluate_time = timed(model.evaluate, fitted, 1.0, rngs[3])
    return {"steps/s": model.train_steps / fit_time, "images/s": GENERATION_SAMPLES / sample_time, "fit s": fit_time,
            "sample s": sample_time, "evaluate s": evaluate_time, "generation s": fit_time + sample_time + evaluate_time,
            **{name: float(metrics[name][0]) for name in ("fid", "precision", "recall", "spectral_distance",
                                                           "high_freq_ratio")}}


def setting(text: str) -> tuple[str, object]:
    """NAME=VALUE from the command line: VALUE as a Python literal (1e-3, 3, True), else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--set: expected NAME=VALUE; got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def limited_threads(threads: int):
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    return threadpool_limits(threads)


COLUMNS = ("steps/s", "images/s", "fit s", "sample s", "evaluate s", "generation s", "fid", "precision", "recall",
           "spectral_distance", "high_freq_ratio")


def print_row(label: str, values: dict[str, float], note: str = "") -> None:
    print(f"{label:<16} " + " ".join(f"{values[c]:8.3g}" for c in COLUMNS) + f"  {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", choices=[*gan.ARCHITECTURES, "both"], default="both")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument("--steps", type=int, nargs="*", default=None,
                        help="train_steps to time (default: the default preset's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="seeds to repeat each setting with (default 0); mean and spread printed over them")
    parser.add_argument("--set", type=setting, nargs="+", default=[], metavar="NAME=VALUE",
                        help="override GANModel settings, e.g. --set lr=1e-3 n_critic=3")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    architectures = gan.ARCHITECTURES if args.architecture == "both" else (args.architecture,)
    with limited_threads(args.threads) if device.type == "cpu" else contextlib.nullcontext():
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        print(f"device: {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} torch threads")
        print(f"{'architecture':<16} " + " ".join(f"{c:>8.8}" for c in COLUMNS) + "  settings", flush=True)
        for architecture in architectures:
            settings = {**DEFAULT[architecture], **dict(args.set)}
            for steps in args.steps or [settings["train_steps"]]:
                settings["train_steps"] = steps
                shown = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "architecture")
                rows = []
                for seed in args.seeds:
                    rows.append(generation(settings, device, seed))
                    print_row(f"{architecture} s{seed}", rows[-1], shown)
                if len(rows) > 1:
                    table = {c: np.array([row[c] for row in rows]) for c in COLUMNS}
                    print_row(f"{architecture} mean", {c: v.mean() for c, v in table.items()}, shown)
                    print_row(f"{architecture} sd", {c: v.std(ddof=1) for c, v in table.items()},
                              f"over seeds {' '.join(map(str, args.seeds))}")


if __name__ == "__main__":
    main()
