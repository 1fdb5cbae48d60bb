"""Speed and accuracy of the LeNet-5 feature extractor on the device at hand.

    python benchmarks/lenet.py [--epochs 15] [--seed 0] [--images 10000] [--batch-size 1000] [--device cuda|cpu]

Trains LeNet-5 from scratch on the mnist-5k training part (4,000 digits; the run store is not used), then prints
the training time per epoch, the accuracy on the held-out reference part (1,000 digits) and the feature
throughput: images per second through `features()` for --images digits (the 5,000 real ones repeated as needed),
best of three runs.
"""

import argparse
import time

import torch

from madlib import data
from madlib.metrics import features as lenet_features


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_training(images, labels, epochs: int, seed: int, device: torch.device):
    """The trained network and the wall time per epoch."""
    synchronise(device)
    start = time.perf_counter()
    network = lenet_features.train_lenet(images, labels, epochs=epochs, seed=seed, device=device, progress=False)
    synchronise(device)
    return network, (time.perf_counter() - start) / epochs


def feature_throughput(network, images, batch_size: int, device: torch.device, repeats: int = 3) -> float:
    """Images per second through features(), best of `repeats` runs (after one warm-up run)."""
    lenet_features.features(network, images[:batch_size], batch_size=batch_size, device=device)
    best = float("inf")
    for _ in range(repeats):
        synchronise(device)
        start = time.perf_counter()
        lenet_features.features(network, images, batch_size=batch_size, device=device)  # ends with .cpu(): waits
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def repeated_digits(n: int) -> torch.Tensor:
    """n real digits: the 5,000 of mnist-5k, repeated as often as needed."""
    both = torch.cat([data.mnist5k("train")[0], data.mnist5k("reference")[0]])
    return both.repeat((n + len(both) - 1) // len(both), 1, 1, 1)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=lenet_features.DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else lenet_features.default_device()

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"device: {device} ({name}), torch {torch.__version__}")
    train, reference = data.mnist5k("train"), data.mnist5k("reference")
    network, per_epoch = timed_training(*train, args.epochs, args.seed, device)
    print(f"training: {len(train[0])} digits, {args.epochs} epochs, {per_epoch:.3f} s/epoch "
          f"({per_epoch * args.epochs:.1f} s in all)")
    print(f"test accuracy (mnist-5k reference, {len(reference[0])} digits): "
          f"{lenet_features.accuracy(network, *reference):.3f}")
    rate = feature_throughput(network, repeated_digits(args.images), args.batch_size, device)
    print(f"features: {args.images} images in batches of {args.batch_size}: {rate:,.0f} images/s")


if __name__ == "__main__":
    main()
