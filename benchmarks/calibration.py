"""Issue 17's calibration criterion for the image models, measured on the first generations of the lam = 1 loop.

    python benchmarks/calibration.py --model ddpm|style|wgan-gp [--seeds 0 1] [--generations 3]
                                     [--set NAME=VALUE ...] [--threads 1] [--quick]

Runs the fully synthetic loop at lam = 1 with the `default` preset's model and chain sizes (madlib.presets; --set
overrides model settings, e.g. ``--set train_steps=4000``) through madlib.loops.run, without the run store, once per
seed, and prints a Markdown table with one row per seed and generation:

* ``kept (own)``: the dispersion kept in LeNet features (within-class for the DDPM, total for the GANs) against the
  generation's own training set, with its SE: the model's effective lam in that generation;
* ``pixels (own)``: the same in pixels; ``kept (real)``: the LeNet-feature one against the held-out real digits;
* FID and recall against the held-out digits, and the wall seconds of the generation (fit, evaluate, and drawing the
  next generation's training set).

Then, per seed, whether CRITERION (fixed in issue 17, before any calibration) is met and, if not, which part fails.
The sampler is always the model's plain lam = 1 sampler. --quick runs the smoke preset's toy sizes (a code-path
check, not a measurement). --threads sets torch's and the BLAS's thread count (default 1, as a chain runs).
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from madlib import loops, presets
from madlib.claims import X2_KEEP
from madlib.models import ddpm, gan

MODELS = ("ddpm", "style", "wgan-gp")
# Issue 17, item 3 (at lam = 1, over the first three generations of the fully synthetic loop, on two seeds)
# (the spread kept per generation is Fig. X2's claim, claims.X2_KEEP)
CRITERION = {
    "ddpm": dict(keep=X2_KEEP, first_pixel_keep=0.95, first_fid=20.0, first_recall=0.85, seconds=90.0),
    "style": dict(keep=X2_KEEP, first_fid=25.0),
    "wgan-gp": dict(keep=X2_KEEP, first_fid=60.0),
}


def model_settings(model: str, quick: bool = False, overrides: dict | None = None) -> dict:
    """The preset's model settings of `model` (smoke when quick, else default) with `overrides`."""
    preset = "smoke" if quick else "default"
    table = {"ddpm": presets.DDPM_MODEL, "style": presets.GAN_MODEL, "wgan-gp": presets.WGAN_MODEL}
    if model not in table:
        raise ValueError(f"model: must be one of {', '.join(MODELS)}; got {model!r}")
    return {**table[model][preset], **(overrides or {})}


def build(model: str, settings: dict):
    return ddpm.DDPMModel(**settings) if model == "ddpm" else gan.GANModel(**settings)


def loop_spec(model: str, generations: int, seed: int, quick: bool = False) -> loops.LoopSpec:
    """The fully synthetic lam = 1 loop at the preset's chain sizes."""
    preset = "smoke" if quick else "default"
    sizes = presets.DDPM_CHAIN[preset] if model == "ddpm" else presets.GAN_SIZES[preset]
    return loops.LoopSpec("fully_synthetic", generations, n_ini=sizes["n_ini"], n_s=sizes["n_s"], lam=1.0, seed=seed)


def measure(model: str, settings: dict, spec: loops.LoopSpec) -> list[dict]:
    """One row per generation of the loop (see the module docstring)."""
    instance = build(model, settings)
    instance.reference()  # the LeNet and the held-out features: once, not counted in a generation's time
    stamps = [time.perf_counter()]
    history = loops.run(spec, instance, on_generation=lambda state, metrics: stamps.append(time.perf_counter()))
    rows = []
    for generation, metrics in enumerate(history, start=1):
        value = {name: float(np.asarray(metrics[name]).ravel()[0]) for name in
                 ("dispersion_train", "dispersion_train_se", "pixel_dispersion_train", "dispersion_real", "fid",
                  "recall")}
        rows.append({"seed": spec.seed, "generation": generation, **value,
                     "seconds": stamps[generation] - stamps[generation - 1]})
    return rows


def criterion_failures(model: str, rows: list[dict]) -> list[str]:
    """The parts of CRITERION[model] that one seed's rows (generations 1, 2, ...) fail; [] when it is met."""
    criterion, first = CRITERION[model], rows[0]
    failures = [f"generation {r['generation']}: kept {r['dispersion_train']:.3f} < {criterion['keep']}"
                for r in rows if not r["dispersion_train"] >= criterion["keep"]]
    if first["fid"] > criterion["first_fid"]:
        failures.append(f"generation 1: FID {first['fid']:.1f} > {criterion['first_fid']:g}")
    if "first_pixel_keep" in criterion and not first["pixel_dispersion_train"] >= criterion["first_pixel_keep"]:
        failures.append(f"generation 1: pixels kept {first['pixel_dispersion_train']:.3f} < "
                        f"{criterion['first_pixel_keep']}")
    if "first_recall" in criterion and not first["recall"] >= criterion["first_recall"]:
        failures.append(f"generation 1: recall {first['recall']:.3f} < {criterion['first_recall']}")
    if "seconds" in criterion:
        seconds = float(np.mean([r["seconds"] for r in rows]))
        if seconds > criterion["seconds"]:
            failures.append(f"{seconds:.0f} s per generation > {criterion['seconds']:g}")
    return failures


def table(rows: list[dict]) -> str:
    lines = ["| seed | generation | kept (own) | pixels (own) | kept (real) | FID | recall | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['generation']} | {r['dispersion_train']:.3f} ± {r['dispersion_train_se']:.3f} | "
              f"{r['pixel_dispersion_train']:.3f} | {r['dispersion_real']:.3f} | {r['fid']:.1f} | {r['recall']:.3f} | "
              f"{r['seconds']:.0f} |" for r in rows]
    return "\n".join(lines)


def _parse(items: list[str]) -> dict:
    settings = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            settings[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            settings[name] = text
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], help="model settings, e.g. train_steps=4000")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="the smoke preset's toy sizes (a code-path check)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    settings = model_settings(args.model, args.quick, _parse(args.set))
    print(f"model {args.model}: {settings}")
    rows = [row for seed in args.seeds
            for row in measure(args.model, settings, loop_spec(args.model, args.generations, seed, args.quick))]
    print(table(rows))
    for seed in args.seeds:
        failures = criterion_failures(args.model, [r for r in rows if r["seed"] == seed])
        print(f"seed {seed}: criterion {'met' if not failures else 'not met: ' + '; '.join(failures)}")


if __name__ == "__main__":
    main()
