"""Seconds per redraw of the Gaussian loop explorer (madlib.explore.redraw: simulate, tabulate and draw; rendering
the figure to PNG as a notebook does), on one thread by default.

    python benchmarks/explore_redraw.py [--repeats 3] [--threads 1]

The first redraw at a new d also computes the n_e reference curve for that d (kept in memory); it is timed apart
("cold"). Every later setting is timed warm, best of --repeats.
"""

import argparse
import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from madlib import explore  # noqa: E402

SETTINGS = {
    "defaults": {},
    "fresh data, n_r=100, n_s=900": {"variant": "fresh_data", "n_s": 900},
    "synthetic augmentation": {"variant": "synthetic_augmentation"},
    "accumulate, memory 3": {"accumulate": True, "memory": 3},
    "100 generations x 20 replicates": {"generations": 100, "replicates": 20},
}


def seconds(settings: dict) -> float:
    start = time.perf_counter()
    result = explore.redraw(**settings)
    result.figure.savefig(io.BytesIO(), format="png", dpi="figure", bbox_inches="tight")  # as Jupyter inline
    plt.close(result.figure)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many redraws per setting")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        print(f"d = {explore.DEFAULTS['d']}, defaults: {explore.DEFAULTS}; {args.threads} thread(s)")
        print(f"{'cold (first redraw, computes the n_e curve)':>48}: {seconds({}):6.2f} s")
        for name, settings in SETTINGS.items():
            best = min(seconds(settings) for _ in range(args.repeats))
            print(f"{name:>48}: {best:6.2f} s")


if __name__ == "__main__":
    main()
