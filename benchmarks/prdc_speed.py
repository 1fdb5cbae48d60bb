"""Speed of `madlib.metrics.prdc` on n real x n fake points of 84 features (the LeNet feature size).

    python benchmarks/prdc_speed.py [--n 10000] [--dim 84] [--k 5] [--chunk 4096] [--device cuda|cpu] [--repeats 1]

Prints the best wall time over the repeats and the four scores. On CUDA it also prints the peak GPU memory torch
allocated; on the CPU it prints the size of the largest distance block (chunk x n) and the peak resident memory of
the process (getrusage, which includes the Python interpreter and torch itself).
"""

import argparse
import resource
import time

import torch

from madlib.metrics.precision_recall import default_device, prdc


def synthetic_features(n: int, dim: int, device: torch.device, seed: int = 0):
    """Two standard Gaussian feature sets, the fake one shifted a little so that no score is trivially 0 or 1."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    real = torch.randn(n, dim, generator=generator)
    fake = torch.randn(n, dim, generator=generator) + 0.1
    return real.to(device), fake.to(device)


def timed_prdc(real, fake, k: int, chunk: int, device: torch.device, repeats: int):
    """Best wall time over `repeats` runs of prdc, with the scores of the last run."""
    best, scores = float("inf"), None
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        scores = prdc(real, fake, k=k, chunk=chunk, device=device)
        best = min(best, time.perf_counter() - start)  # .item() in prdc already waits for the GPU
    return best, scores


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="points in each of the real and fake sets")
    parser.add_argument("--dim", type=int, default=84, help="features per point (84 for LeNet)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=4096, help="rows per distance block")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    args = parser.parse_args()

    device = default_device() if args.device is None else torch.device(args.device)
    real, fake = synthetic_features(args.n, args.dim, device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"prdc on {args.n} x {args.n} points, {args.dim} features, k={args.k}, chunk={args.chunk}, "
          f"float32 on {device} ({device_name}), torch {torch.__version__}")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rss_before = peak_rss_mb()
    seconds, scores = timed_prdc(real, fake, args.k, args.chunk, device, args.repeats)
    print(f"time: {seconds:.2f} s (best of {args.repeats})")
    print("scores: " + ", ".join(f"{name}={value:.4f}" for name, value in scores.items()))
    block_mb = min(args.chunk, args.n) * args.n * 4 / 2**20
    print(f"largest distance block: {min(args.chunk, args.n)} x {args.n} float32 = {block_mb:.0f} MB "
          f"(full matrix would be {args.n * args.n * 4 / 2**20:.0f} MB)")
    if device.type == "cuda":
        print(f"peak GPU memory allocated by torch: {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MB")
    else:
        print(f"peak process RSS: {peak_rss_mb():.0f} MB (before the run: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
