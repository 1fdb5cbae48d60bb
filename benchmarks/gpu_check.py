"""GPU check of the `paper` preset's image models: do they run on this GPU, how fast, and how good after a short run?

    make gpu-check                        # the same as: .venv/bin/python benchmarks/gpu_check.py
    python benchmarks/gpu_check.py [--device cuda|cpu] [--tiny] [--ddpm-steps N] [--gan-steps N]
                                   [--timing-steps N] [--samples N] [--n-eval N] [--n-s N] [--store PATH]
                                   [--json PATH]

It trains the two image models of the ``paper`` preset, the pixel-space UNet DDPM (``presets.DDPM_MODEL["paper"]``)
and the style GAN (``presets.GAN_MODEL["paper"]``), with the preset's architecture, batch size, learning rate,
T = 500 and bf16 autocast, but on the 4,000 offline mnist-5k training digits (nothing is downloaded) and with far
fewer training steps and samples: the paper's 30,000 (DDPM) and 20,000 (GAN) steps a generation do not fit the
check's 8 minutes. The output lists every setting that differs from the preset. The sizes are estimated (see SIZES)
to take 3 to 5 minutes on one H100, LeNet training included; the output says whether the 8 minutes held.

For each model it prints

* train steps/s: optimiser steps (DDPM) or generator steps (GAN, each with its discriminator step) per second of
  wall time of one direct ``fit`` call of --timing-steps steps, after a short warm-up fit;
* images/s: digits per second of one direct ``sample`` call of --samples digits at lam = 1 (no guidance; a guided
  DDPM, lam < 1, runs its network on twice the batch, so expect about half the rate);
* gen-1 FID, precision, recall (each with its standard error): the model's own evaluation of generation 1 of the
  loop below, read from the run store: n_eval samples against the 1,000 held-out mnist-5k digits in LeNet feature
  space (the paper preset uses 10,000 samples and the MNIST test set; fewer samples bias the FID upward);
* paper generation: the extrapolated wall time of one generation of the paper preset,
  train_steps / (steps/s) + (n_s + n_eval) / (images/s) with the preset's train_steps, n_s (the synthetic set drawn
  for the next generation) and n_eval; the evaluation's LeNet features and scores are left out (seconds on a GPU).

Then a 2-generation fully synthetic loop (lam = 1) of each model through the run store (``madlib.chains.make`` and
``madlib.chains.compute``): generation 1 trains on n_ini real digits, generation 2 on n_s digits sampled from
generation 1. It prints FID / precision / recall per generation as stored, reads both chains again
(``madlib.chains.run_chains``) and confirms that the second read computed nothing: no call of the models' fit,
sample or evaluate, and every file of the store unchanged (``madlib.chains.store_fingerprint``).

--tiny: a smoke size (UNet base 8, T = 20, a few steps and samples, LeNet trained 1 epoch) that runs on the CPU in
seconds; it proves the code path (tests/test_gpu_check.py runs it) and its numbers mean nothing. Without a CUDA
device the script stops with one message unless --tiny or --device cpu is given. --store: the run store (default:
a fresh temporary folder, deleted at the end, so that LeNet is trained and both chains computed). --json PATH also
writes the report as JSON.
"""

import time

START = time.perf_counter()  # the budget counts the imports too

import argparse
import contextlib
import functools
import inspect
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from madlib import chains, presets, runs
from madlib.metrics import features as lenet_features
from madlib.models.ddpm import DDPMModel
from madlib.models.gan import GANModel

BUDGET_S = 8 * 60
METRICS = ("fid", "precision", "recall")
COUNTED = ("fit", "sample", "evaluate")
# The sizes the check reduces (arguments of the same names override them). `check`: sized for one H100 with margin,
# from the UNet's cost: about 0.58 GFLOP per image forward, so a training step of 128 images (forward and backward)
# is about 0.22 TFLOP and a sampled digit (500 forwards) about 0.29 TFLOP; each training step also waits on the one
# CPU thread that launches its kernels and copies its batch. The check trains 2 x 2,000 + 500 steps and samples
# 5,000 + 3,000 digits per model. At likely rates (DDPM 80 steps/s and 200 images/s, GAN 130 steps/s) that is about
# 3 minutes in all; at pessimistic ones (50 steps/s both, 100 images/s) about 5; at 30 steps/s still under 7.
SIZES = {
    "check": dict(ddpm_steps=2000, gan_steps=2000, timing_steps=500, warm_up_steps=10, samples=5000, n_ini=4000,
                  n_eval=1000, n_s=1000),
    "tiny": dict(ddpm_steps=5, gan_steps=5, timing_steps=3, warm_up_steps=1, samples=20, n_ini=100, n_eval=60,
                 n_s=60),
}
# --tiny also shrinks the networks and LeNet (smoke-sized), so that the CPU runs the whole check in seconds.
TINY_MODEL = {
    "DDPM": dict(unet_base=8, timesteps=20, batch_size=16, feature_keep=30, grid_per_class=2, lenet_epochs=1),
    "GAN": dict(width=16, z_dim=16, w_dim=16, mapping_layers=2, batch_size=16, grid_count=16, lenet_epochs=1),
}
NO_CUDA = ("gpu-check: no CUDA device was found (torch {version}: torch.cuda.is_available() is False). Run it on a "
           "machine with an NVIDIA GPU, or add --tiny (a CPU smoke size) or --device cpu.")


@dataclass
class Subject:
    """One model under check: its chain family, class, the settings used and the paper preset's."""

    name: str
    family: str
    cls: type
    settings: dict
    paper_settings: dict
    paper_sizes: dict  # n_ini, n_s (and more) of the paper preset's chains


def subjects(sizes: dict, tiny: bool) -> list[Subject]:
    """The DDPM and the style GAN: the paper preset's settings on mnist-5k with the check's steps and n_eval."""
    made = []
    for name, family, cls, paper, paper_sizes, steps in (
            ("DDPM", "ddpm", DDPMModel, presets.DDPM_MODEL["paper"], presets.DDPM_CHAIN["paper"], "ddpm_steps"),
            ("GAN", "gan", GANModel, presets.GAN_MODEL["paper"], presets.GAN_SIZES["paper"], "gan_steps")):
        settings = {**paper, "dataset": "mnist-5k", "train_steps": sizes[steps], "n_eval": sizes["n_eval"],
                    **(TINY_MODEL[name] if tiny else {})}
        made.append(Subject(name, family, cls, settings, dict(paper), dict(paper_sizes)))
    return made


def reductions(subject: Subject, sizes: dict) -> dict[str, list]:
    """Every setting that differs from the paper preset: name -> [paper's value, the check's value] (the paper's
    value of a setting the preset leaves out is the model class's default)."""
    defaults = inspect.signature(subject.cls).parameters
    paper = {key: subject.paper_settings.get(key, defaults[key].default) for key in subject.settings}
    changed = {key: [paper[key], value] for key, value in subject.settings.items() if paper[key] != value}
    for key in ("n_ini", "n_s"):
        if subject.paper_sizes[key] != sizes[key]:
            changed[f"loop {key}"] = [subject.paper_sizes[key], sizes[key]]
    return changed


# ------------------------------------------------------------------------------------------------ timing


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, function, /, *args, **kwargs):
    """function(*args, **kwargs) and its wall time in seconds, the device's queue drained before and after."""
    synchronise(device)
    start = time.perf_counter()
    result = function(*args, **kwargs)
    synchronise(device)
    return result, time.perf_counter() - start


def throughput(subject: Subject, sizes: dict, device: torch.device) -> dict:
    """Training steps/s of a direct fit and images/s of a direct sample at lam = 1, at one CPU thread as a chain runs
    (the GPU does the work; the thread only feeds it)."""
    def model(steps: int):
        return subject.cls(**{**subject.settings, "train_steps": steps}, device=device)

    digits = model(1).real_pool()
    with runs.one_thread():
        model(sizes["warm_up_steps"]).fit(digits, np.random.default_rng(0))  # CUDA and cuDNN set-up, not timed
        timed_model = model(sizes["timing_steps"])
        fitted, fit_s = timed(device, timed_model.fit, digits, np.random.default_rng(1))
        _, sample_s = timed(device, timed_model.sample, fitted, sizes["samples"], 1.0, np.random.default_rng(2))
    return {"warm_up_steps": sizes["warm_up_steps"], "train_steps": sizes["timing_steps"], "fit_seconds": fit_s,
            "train_steps_per_s": sizes["timing_steps"] / fit_s, "samples": sizes["samples"],
            "sample_seconds": sample_s, "images_per_s": sizes["samples"] / sample_s}


def paper_generation(subject: Subject, timing: dict) -> dict:
    """The extrapolated wall time of one paper-preset generation: fit, the next generation's n_s samples, n_eval."""
    steps, n_s, n_eval = (subject.paper_settings["train_steps"], subject.paper_sizes["n_s"],
                          subject.paper_settings["n_eval"])
    seconds = steps / timing["train_steps_per_s"] + (n_s + n_eval) / timing["images_per_s"]
    return {"train_steps": steps, "n_s": n_s, "n_eval": n_eval, "seconds": seconds}


def prepare_lenet(subject: Subject, device: torch.device) -> dict:
    """Train (or load from the store) the LeNet the evaluation needs, timed."""
    dataset, epochs = subject.settings["dataset"], subject.settings["lenet_epochs"]
    weights, _ = lenet_features.lenet_paths(lenet_features.lenet_settings(dataset, epochs, 0, device))
    cached = weights.exists()
    network, seconds = timed(device, lenet_features.lenet, dataset, epochs, device=device)
    return {"dataset": dataset, "epochs": epochs, "cached": cached, "seconds": seconds,
            "test_accuracy": network.test_accuracy}


# ------------------------------------------------------------------------------------------------ the loop


@contextlib.contextmanager
def counting_calls(classes):
    """Count the calls of the classes' fit, sample and evaluate while the body runs (the methods are restored)."""
    counts = dict.fromkeys(COUNTED, 0)

    def counted(name, method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return method(*args, **kwargs)
        return wrapper

    patched = [(cls, name, name in vars(cls), getattr(cls, name)) for cls in classes for name in COUNTED]
    for cls, name, _, method in patched:
        setattr(cls, name, counted(name, method))
    try:
        yield counts
    finally:
        for cls, name, own, method in patched:
            if own:
                setattr(cls, name, method)
            else:
                delattr(cls, name)


def loop_chain(subject: Subject, sizes: dict, device: torch.device) -> chains.Chain:
    """The subject's 2-generation fully synthetic chain at lam = 1."""
    return chains.make(subject.family, seed=0, model={**subject.settings, "device": device.type},
                       labels={"model": subject.name}, variant="fully_synthetic", generations=2,
                       n_ini=sizes["n_ini"], n_s=sizes["n_s"], lam=1.0)


def compute_loop(subject: Subject, chain: chains.Chain, store: Path, device: torch.device) -> dict:
    """Compute the chain in this process (one thread), counting the model calls it makes."""
    with counting_calls([subject.cls]) as counts:
        _, seconds = timed(device, chains.compute, [chain], jobs=1, store=store)
    return {"compute_seconds": seconds, "calls": dict(counts)}


def reread(loop: dict[str, chains.Chain], classes, store: Path, device: torch.device):
    """Read every chain again; the per-generation table and proof that nothing was computed."""
    before = chains.store_fingerprint(store)
    with counting_calls(classes) as counts:
        (frame, _), seconds = timed(device, chains.run_chains, list(loop.values()), METRICS, store=store)
    unchanged = chains.store_fingerprint(store) == before
    check = {"seconds": seconds, "calls": dict(counts), "store_unchanged": unchanged,
             "computed_nothing": unchanged and not any(counts.values())}
    return frame, check


def per_generation(frame, name: str) -> list[dict]:
    """[{generation, fid, fid_se, precision, ...}] of one model's chain, from the tidy frame."""
    rows = frame[frame["model"] == name]
    table = []
    for generation, group in rows.groupby("generation"):
        entry = {"generation": int(generation)}
        for row in group.itertuples():
            entry[row.metric], entry[f"{row.metric}_se"] = float(row.mean), float(row.sem)
        table.append(entry)
    return table


# ------------------------------------------------------------------------------------------------ the report


def device_of(requested: str | None, tiny: bool) -> torch.device:
    """The device to check: CUDA when there is one (or asked for); the CPU only for --tiny or --device cpu."""
    if requested == "cpu" or (requested is None and tiny and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        sys.exit(NO_CUDA.format(version=torch.__version__))
    return torch.device("cuda")


def describe(device: torch.device) -> dict:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine() or "cpu"
    return {"device": device.type, "device_name": name, "torch": torch.__version__, "cuda": torch.version.cuda}


def with_se(value: float, se: float) -> str:
    """A value and its standard error at a precision that suits both (FID ~ 10-100, rates ~ 0-1)."""
    digits = 1 if abs(value) >= 10 else 3
    return f"{value:.{digits}f} ± {se:.{digits}f}"


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def rate(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}"


def print_report(report: dict) -> None:
    info = report["machine"]
    print(f"gpu-check ({report['size']} size): {info['device_name']} ({info['device']}), torch {info['torch']}"
          f"{', CUDA ' + info['cuda'] if info['cuda'] and info['device'] == 'cuda' else ''}")
    if "peak_memory_gib" in info:
        print(f"peak GPU memory allocated: {info['peak_memory_gib']:.1f} GiB")
    print(f"store: {report['store']}{' (temporary)' if report['temporary_store'] else ''}")
    for lenet in report["lenet"]:
        print(f"LeNet on {lenet['dataset']}, {lenet['epochs']} epochs: {'loaded' if lenet['cached'] else 'trained'} "
              f"in {duration(lenet['seconds'])}, held-out accuracy {lenet['test_accuracy']:.3f}")
    print("\nreduced from the paper preset (every other setting is the preset's):")
    for name, model in report["models"].items():
        changes = ", ".join(f"{key} {paper} -> {used}" for key, (paper, used) in model["reduced"].items())
        print(f"  {name:<5} {changes}")

    print(f"\n{'model':<6}{'train steps/s':>14}{'images/s':>10}  {'gen-1 FID':>14}  {'precision':>14}  "
          f"{'recall':>14}  paper generation (extrapolated)")
    for name, model in report["models"].items():
        timing, gen1, paper = model["timing"], model["generation_1"], model["paper_generation"]
        print(f"{name:<6}{rate(timing['train_steps_per_s']):>14}{rate(timing['images_per_s']):>10}  "
              f"{with_se(gen1['fid'], gen1['fid_se']):>14}  "
              f"{with_se(gen1['precision'], gen1['precision_se']):>14}  "
              f"{with_se(gen1['recall'], gen1['recall_se']):>14}  {duration(paper['seconds'])} "
              f"({paper['train_steps']} steps + {paper['n_s'] + paper['n_eval']} images)")
    for name, model in report["models"].items():
        timing = model["timing"]
        print(f"  {name}: fit of {timing['train_steps']} steps (after {timing['warm_up_steps']} warm-up steps) in "
              f"{duration(timing['fit_seconds'])}; {timing['samples']} images sampled at lam = 1 in "
              f"{duration(timing['sample_seconds'])}")

    print(f"\n2-generation fully synthetic loop, lam = 1 (n_ini {report['loop_sizes']['n_ini']}, "
          f"n_s {report['loop_sizes']['n_s']}), as stored:")
    print(f"{'model':<6}{'generation':>11}  {'FID':>14}  {'precision':>14}  {'recall':>14}")
    for name, model in report["models"].items():
        for row in model["loop"]["generations"]:
            print(f"{name:<6}{row['generation']:>11}  " + "  ".join(
                f"{with_se(row[m], row[m + '_se']):>14}" for m in METRICS))
    for name, model in report["models"].items():
        calls = model["loop"]["calls"]
        print(f"  {name}: computed in {duration(model['loop']['compute_seconds'])} "
              f"({', '.join(f'{n} {k}' for k, n in calls.items())} calls)")
    check = report["reread"]
    calls = ", ".join(f"{n} {k}" for k, n in check["calls"].items())
    verdict = "computed nothing" if check["computed_nothing"] else "COMPUTED AGAIN: the store did not resume"
    print(f"  second read of both chains: {verdict} ({calls} calls, store files "
          f"{'unchanged' if check['store_unchanged'] else 'CHANGED'}, {duration(check['seconds'])})")

    within = "within" if report["within_budget"] else "OVER"
    print(f"\ntotal {duration(report['total_seconds'])}: {within} the {BUDGET_S // 60}-minute budget")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default=None,
                        help="default: cuda; the CPU only with --tiny when there is no GPU, or when asked for")
    parser.add_argument("--tiny", action="store_true", help="a smoke size that runs on the CPU in seconds")
    check = SIZES["check"]
    for flag, key, what in (("--ddpm-steps", "ddpm_steps", "DDPM training steps per loop generation"),
                            ("--gan-steps", "gan_steps", "GAN training (generator) steps per loop generation"),
                            ("--timing-steps", "timing_steps", "steps of the timed fit of each model"),
                            ("--samples", "samples", "images of the timed sample of each model"),
                            ("--n-eval", "n_eval", "samples each evaluation scores"),
                            ("--n-s", "n_s", "synthetic digits generation 2 trains on")):
        parser.add_argument(flag, dest=key, type=positive, default=None,
                            help=f"{what} (default {check[key]}; with --tiny {SIZES['tiny'][key]})")
    parser.add_argument("--store", type=Path, default=None,
                        help="run store (default: a fresh temporary folder, deleted at the end)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON to this file")
    return parser.parse_args()


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text}")
    return value


def run_check(args: argparse.Namespace, device: torch.device, store: Path) -> dict:
    size = "tiny" if args.tiny else "check"
    sizes = {key: getattr(args, key, None) or value for key, value in SIZES[size].items()}
    checked = subjects(sizes, args.tiny)
    report = {"size": size, "machine": describe(device), "store": str(store), "temporary_store": args.store is None,
              "loop_sizes": {"generations": 2, "lam": 1.0, "n_ini": sizes["n_ini"], "n_s": sizes["n_s"]},
              "lenet": [], "models": {}}
    for subject in checked:
        lenet = (subject.settings["dataset"], subject.settings["lenet_epochs"])
        if all(lenet != (done["dataset"], done["epochs"]) for done in report["lenet"]):
            progress(f"LeNet on {lenet[0]}, {lenet[1]} epochs")
            report["lenet"].append(prepare_lenet(subject, device))
    loop = {}
    for subject in checked:
        progress(f"{subject.name}: timed fit ({sizes['timing_steps']} steps) and sample ({sizes['samples']} images)")
        timing = throughput(subject, sizes, device)
        progress(f"{subject.name}: 2-generation loop ({subject.settings['train_steps']} steps a generation)")
        loop[subject.name] = loop_chain(subject, sizes, device)
        report["models"][subject.name] = {
            "settings": subject.settings, "reduced": reductions(subject, sizes), "timing": timing,
            "paper_generation": paper_generation(subject, timing),
            "loop": compute_loop(subject, loop[subject.name], store, device)}
    progress("reading both chains again")
    frame, report["reread"] = reread(loop, [s.cls for s in checked], store, device)
    for name, model in report["models"].items():
        model["loop"]["generations"] = per_generation(frame, name)
        model["generation_1"] = model["loop"]["generations"][0]
    if device.type == "cuda":
        report["machine"]["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    report["total_seconds"] = time.perf_counter() - START
    report["budget_seconds"] = BUDGET_S
    report["within_budget"] = report["total_seconds"] <= BUDGET_S
    return report


def progress(text: str) -> None:
    print(f"gpu-check: {text} ...", file=sys.stderr, flush=True)


def main() -> None:
    args = arguments()
    device = device_of(args.device, args.tiny)
    store = args.store if args.store is not None else Path(tempfile.mkdtemp(prefix="madlib-gpu-check-"))
    os.environ["MADLIB_STORE"] = str(store)  # the chains' store and LeNet's cache: one folder
    try:
        report = run_check(args, device, store)
    finally:
        if args.store is None:
            shutil.rmtree(store, ignore_errors=True)
    print_report(report)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
