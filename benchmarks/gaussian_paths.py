"""Speed of the Gaussian model's two simulation paths on the Fig. 30 workload, and their limits.

    python benchmarks/gaussian_paths.py [--replicates 10] [--generations 20] [--repeats 1]

Prints the wall time of each path, the speed-up of `exact` over `direct`, and the mean WD at the last generation
with its standard error over replicates (the two paths draw from the same distribution, so they should agree).
"""

import argparse
import time

import numpy as np

from madlib.models.gaussian import simulate_loop

WORKLOAD = dict(variant="fresh_data", d=100, n_ini=1000, n_r=1000, n_s=10000, lam=1.0)


def timed(method: str, replicates: int, generations: int, repeats: int, seed: int):
    best, wd = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        wd = simulate_loop(method=method, replicates=replicates, generations=generations, seed=seed, **WORKLOAD)
        best = min(best, time.perf_counter() - start)
    return best, wd[:, -1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    args = parser.parse_args()
    print(f"workload: {WORKLOAD}, generations={args.generations}, replicates={args.replicates}")
    results = {m: timed(m, args.replicates, args.generations, args.repeats, seed) for m, seed in
               [("exact", 1), ("direct", 2)]}
    for method, (seconds, last) in results.items():
        sem = last.std(ddof=1) / np.sqrt(len(last))
        print(f"{method:>6}: {seconds:8.2f} s   WD at generation {args.generations}: {last.mean():.4f} ± {sem:.4f}")
    print(f"speed-up of exact over direct: {results['direct'][0] / results['exact'][0]:.1f}x")


if __name__ == "__main__":
    main()
