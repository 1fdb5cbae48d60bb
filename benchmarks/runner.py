"""Wall time of the chain runner on the same chains, three ways, and whether the results are the same bit for bit.

    python benchmarks/runner.py                   # 4 guided default DDPM chains x 2 generations (about 15 min)
    python benchmarks/runner.py --lams 1 0.9 0.8 0.7     # unequal chains: the two workers finish apart
    python benchmarks/runner.py --family flow

Ways:
* ``--jobs 1``: one process, one thread (what `madlib run --jobs 1` does);
* ``--jobs N``: N worker processes of one thread each (`madlib run`'s default, N = cores);
* ``sequential, T threads``: the way figures were computed before the runner: one chain after another in one process
  with torch's and BLAS's default thread count (no store, so nothing is pinned).

Each way computes into its own store, which holds only the cached LeNet (trained once before the timings, so that no
way pays for it); the first two print the store's fingerprint (chains.store_fingerprint), which must agree. Run it
on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from madlib import chains, loops, presets


def benchmark_chains(family: str, lams: list[float], generations: int) -> list[chains.Chain]:
    """One chain of the default preset's model per lam (lam < 1 costs the DDPM about 1.7 times lam = 1: guidance)."""
    if family == "ddpm":
        model, sizes = presets.DDPM_MODEL["default"], dict(n_ini=4000, n_s=2000)
    elif family == "flow":
        model, sizes = dict(steps=8, hidden=64, epochs=20, batch_size=256, n_eval=10000, n_ot=2000, n_keep=2000), \
            dict(n_ini=10000, n_s=10000)
    else:
        raise SystemExit(f"--family: ddpm or flow; got {family!r}")
    return [chains.make(family, 0, model=model, variant="fully_synthetic", generations=generations, lam=lam,
                        **sizes) for lam in lams]


def timed(label: str, function) -> float:
    start = time.perf_counter()
    function()
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {elapsed:8.1f} s", flush=True)
    return elapsed


def sequential_default_threads(todo: list[chains.Chain], store: str) -> None:
    os.environ["MADLIB_STORE"] = store  # the models read the cached LeNet from the store
    for chain in todo:
        loops.run(chain.spec, chain.build())


def store_with_lenet(lenet_source: str) -> str:
    """A new temporary store holding a copy of the cached LeNet weights."""
    folder = tempfile.mkdtemp(prefix="madlib-bench-")
    shutil.copytree(os.path.join(lenet_source, "lenet"), os.path.join(folder, "lenet"))
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="ddpm", choices=["ddpm", "flow"])
    parser.add_argument("--lams", type=float, nargs="+", default=[0.9, 0.8, 0.7, 0.6], help="one chain per lam")
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=chains.worker_count())
    parser.add_argument("--skip-sequential", action="store_true", help="leave out the default-thread sequential run")
    args = parser.parse_args(argv)
    os.environ["MADLIB_PROGRESS"] = "0"
    todo = benchmark_chains(args.family, args.lams, args.generations)
    import torch

    print(f"{len(todo)} {args.family} chains x {args.generations} generations; {os.cpu_count()} cores; "
          f"torch default threads {torch.get_num_threads()}", flush=True)
    lenet_source = tempfile.mkdtemp(prefix="madlib-bench-")
    os.environ["MADLIB_STORE"] = lenet_source
    todo[0].build().reference()  # trains and caches the LeNet the evaluations use
    stores = [store_with_lenet(lenet_source) for _ in range(3)]
    try:
        t1 = timed("--jobs 1 (one thread)", lambda: chains.compute(todo, jobs=1, store=stores[0], progress=False))
        tn = timed(f"--jobs {args.jobs} (one thread each)",
                   lambda: chains.compute(todo, jobs=args.jobs, store=stores[1], progress=False))
        same = chains.store_fingerprint(stores[0]) == chains.store_fingerprint(stores[1])
        print(f"same bytes for --jobs 1 and --jobs {args.jobs}: {same}")
        print(f"speed-up of --jobs {args.jobs} over --jobs 1: {t1 / tn:.2f}x")
        if not args.skip_sequential:
            ts = timed(f"sequential, {torch.get_num_threads()} threads",
                       lambda: sequential_default_threads(todo, stores[2]))
            print(f"speed-up of --jobs {args.jobs} over the sequential run: {ts / tn:.2f}x")
    finally:
        for folder in stores + [lenet_source]:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
