"""Speed of the Glow flow of Fig. 17 on the device at hand.

    python benchmarks/flow.py [--device cuda|cpu] [--samples N] [--generations N]

Prints, for the ``default`` preset's flow (8 steps, hidden 64, 20 epochs of batch 256 on 10,000 Rosenbrock points):

* the wall time of one generation's training (``FlowModel.fit``) and its optimiser steps per second;
* sampling throughput (points/s through the inverse flow, lam = 1 and lam = 0.8) for --samples points;
* the wall time of one generation's evaluation (``FlowModel.evaluate``: 10,000 samples, tails, spreads, W1 on
  2,000 points, held-out NLL).

Set OMP_NUM_THREADS etc. before running to control the CPU threads.
"""

import argparse
import math
import time

import numpy as np
import torch

from madlib import data, presets
from madlib.models import flow


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device: torch.device):
    synchronise(device)
    start = time.perf_counter()
    result = function()
    synchronise(device)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--generations", type=int, default=1, help="training runs to time (the mean is printed)")
    args = parser.parse_args()
    settings = presets.resolve("fig17_flow_rosenbrock", "default")
    model = flow.FlowModel(**settings["model"], device=args.device)
    rng = np.random.default_rng(0)
    points = data.rosenbrock_sample(settings["n"], rng)
    steps = model.epochs * math.ceil(len(points) / model.batch_size)
    seconds = []
    for _ in range(args.generations):
        fitted, elapsed = timed(lambda: model.fit(points, rng), model.device)
        seconds.append(elapsed)
    fit_s = float(np.mean(seconds))
    print(f"device: {model.device}; torch threads: {torch.get_num_threads()}")
    print(f"training: {fit_s:.2f} s per generation ({steps} Adam steps of batch {model.batch_size}: "
          f"{steps / fit_s:.0f} steps/s); final training NLL {fitted.train_nll:.3f} "
          f"(P_r's entropy {data.rosenbrock_entropy():.3f})")
    for lam in (1.0, 0.8):
        _, elapsed = timed(lambda: model.sample(fitted, args.samples, lam, rng), model.device)
        print(f"sampling lam={lam:g}: {args.samples / elapsed:,.0f} points/s ({args.samples} points)")
    _, elapsed = timed(lambda: model.evaluate(fitted, 1.0, rng), model.device)
    print(f"evaluation: {elapsed:.2f} s per generation")


if __name__ == "__main__":
    main()
