"""LeNet-5 features of MNIST digits: what the paper's MNIST "FID", precision and recall are computed on.

The paper (footnote 3, Sec. 2.4) replaces Inception features by those of a LeNet (LeCun et al. 1998) for digits.
Here that network is LeNet-5 with ReLU activations and max pooling:

    input 1 x 28 x 28 (pixels in [-1, 1])
    conv 6 @ 5x5, padding 2  -> ReLU -> max pool 2   ->  6 x 14 x 14
    conv 16 @ 5x5            -> ReLU -> max pool 2   -> 16 x 5 x 5
    fc 400 -> 120            -> ReLU
    fc 120 -> 84             -> ReLU                 <- the features (84 per image)
    fc 84 -> 10                                      <- class scores

:func:`lenet` trains it once per setting (Adam, cross-entropy) on the real training digits and keeps the weights
in the run store, ``<store>/lenet/<key>.pt``, with its test accuracy beside it in ``<key>.json``; later calls load
them. :func:`features` maps images to the 84 activations.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from filelock import FileLock
from torch import nn

from madlib import data, runs
from madlib import progress as report
from madlib.metrics.precision_recall import default_device

# Bump when the network or its training changes, so that cached weights of the old one are not reused.
ARCHITECTURE = "lenet5-relu-maxpool-adam-v1"
FEATURE_DIM = 84
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
# On the 4,000 mnist-5k training digits (2 CPU cores, about 0.4 s an epoch), held-out accuracy over seeds 0-2 is
# 0.91-0.95 after 5 epochs and 0.96-0.97 after 15; more epochs add little. Trained once, then cached.
DEFAULT_EPOCHS = 15
# Training set and held-out test set of each data set lenet() knows. mnist-5k always uses its canonical split
# (seed 0), so that networks of different seeds are scored on the same reference digits.
TRAINING_DATA = {
    "mnist-5k": (lambda: data.mnist5k("train"), lambda: data.mnist5k("reference")),
    "mnist": (lambda: data.mnist(train=True), lambda: data.mnist(train=False)),
}


class LeNet5(nn.Module):
    """LeNet-5 for 1 x 28 x 28 images; ``embed`` gives the 84 features, ``forward`` the 10 class scores."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, 10)
        self.test_accuracy: float | None = None  # set by lenet(): accuracy on the held-out split

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


def new_lenet(seed: int) -> LeNet5:
    """A freshly initialised LeNet-5; the same weights for the same seed (the global torch RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LeNet5()


def train_lenet(images, labels, epochs: int = DEFAULT_EPOCHS, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE,
                seed: int = 0, device: str | torch.device | None = None, progress: bool | None = None) -> LeNet5:
    """A LeNet-5 trained from scratch on ``images`` (n, 1, 28, 28) in [-1, 1] and their ``labels``.

    Adam on the cross-entropy, ``epochs`` passes over the data in shuffled mini-batches. Initial weights and batch
    order come from ``seed`` alone, so on the CPU the same call gives the same weights. Returned in eval mode on
    ``device``.
    """
    device = torch.device(device) if device is not None else default_device()
    images, labels = _check_images(images).to(device), torch.as_tensor(labels, dtype=torch.int64).to(device)
    network = new_lenet(seed).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    shuffler = torch.Generator().manual_seed(seed)
    network.train()
    with report.task("LeNet training", epochs, unit="epoch", enabled=progress) as done:
        for _ in range(epochs):
            for batch in torch.randperm(len(images), generator=shuffler).split(batch_size):
                batch = batch.to(device)
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(network(images[batch]), labels[batch])
                loss.backward()
                optimizer.step()
            done.update()
    return network.eval()


def _check_images(images) -> torch.Tensor:
    """``images`` as a float32 tensor of shape (n, 1, 28, 28); ValueError naming ``images`` otherwise."""
    tensor = torch.as_tensor(images.detach() if isinstance(images, torch.Tensor) else images)
    if tensor.ndim != 4 or tuple(tensor.shape[1:]) != (1, 28, 28):
        raise ValueError(f"images: LeNet expects shape (n, 1, 28, 28), got {tuple(tensor.shape)}")
    return tensor.to(torch.float32)


@torch.no_grad()
def accuracy(network: LeNet5, images, labels, batch_size: int = 1000) -> float:
    """Fraction of ``images`` whose highest class score is their label."""
    device = next(network.parameters()).device
    images, labels = _check_images(images), torch.as_tensor(labels, dtype=torch.int64)
    network.eval()
    correct = sum(
        int((network(chunk.to(device)).argmax(1).cpu() == truth).sum())
        for chunk, truth in zip(images.split(batch_size), labels.split(batch_size))
    )
    return correct / len(labels)


@torch.no_grad()
def features(network: LeNet5, images, batch_size: int = 1000, device: str | torch.device | None = None) -> torch.Tensor:
    """The 84 LeNet features (activations of the 84-unit layer after its ReLU) of each image, shape (n, 84).

    ``images``: tensor or array (n, 1, 28, 28) in [-1, 1]. The network is moved to ``device`` (default: CUDA when
    available) and run in eval mode ``batch_size`` images at a time; the result is float32 on the CPU.
    """
    device = torch.device(device) if device is not None else default_device()
    images = _check_images(images)
    network.to(device).eval()
    parts = [network.embed(chunk.to(device)).cpu() for chunk in images.split(batch_size)]
    return torch.cat(parts) if parts else torch.empty(0, FEATURE_DIM)


# ----------------------------------------------------------------------------------------------------------- cache


def lenet_settings(dataset: str, epochs: int, seed: int, device: torch.device) -> dict:
    """What the cached weights depend on (and the cache key is made of). The device type is part of it, because
    GPU training is not bit-for-bit the CPU's: a CPU run never picks up weights trained on a GPU."""
    return {"architecture": ARCHITECTURE, "dataset": dataset, "epochs": epochs, "seed": seed,
            "batch_size": BATCH_SIZE, "lr": LEARNING_RATE, "device": device.type}


def lenet_paths(settings: dict, store: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The weights file and the accuracy file of one setting in the store."""
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]
    folder = runs.store_path(store) / "lenet"
    return folder / f"{key}.pt", folder / f"{key}.json"


def lenet(dataset: str = "mnist-5k", epochs: int = DEFAULT_EPOCHS, seed: int = 0,
          store: str | os.PathLike | None = None, device: str | torch.device | None = None) -> LeNet5:
    """The LeNet-5 trained on ``dataset`` ("mnist-5k" or "mnist") for ``epochs`` with ``seed``, in eval mode.

    Loaded from the store when it holds weights for these settings, else trained and stored (a file that cannot
    be read is retrained, never used). ``network.test_accuracy`` is its accuracy on the held-out split: the
    "reference" part of mnist-5k, or the MNIST test set.
    """
    if dataset not in TRAINING_DATA:
        raise ValueError(f"dataset: LeNet trains on one of {', '.join(map(repr, TRAINING_DATA))}; got {dataset!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs: must be an integer >= 1; got {epochs!r}")
    device = torch.device(device) if device is not None else default_device()
    settings = lenet_settings(dataset, epochs, seed, device)
    weights_path, accuracy_path = lenet_paths(settings, store)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{weights_path}.lock"):  # many processes may share a store: one trains, the others wait and load
        network = _load_weights(weights_path, device)
        trained = network is None
        if trained:
            train_set, _ = TRAINING_DATA[dataset]
            with runs.one_thread():  # the same weights whoever trains them (a chain's worker or a notebook)
                network = train_lenet(*train_set(), epochs=epochs, seed=seed, device=device)
            _save_weights(network, weights_path)
    network.test_accuracy = None if trained else _stored_accuracy(settings, accuracy_path)
    if network.test_accuracy is None:
        network.test_accuracy = _measure_accuracy(network, settings, accuracy_path)
    return network


def lenet_accuracy(dataset: str = "mnist-5k", epochs: int = DEFAULT_EPOCHS, seed: int = 0,
                   store: str | os.PathLike | None = None, device: str | torch.device | None = None) -> float:
    """Held-out accuracy of :func:`lenet` with these settings (training it first if the store lacks it)."""
    return lenet(dataset, epochs, seed, store, device).test_accuracy


def _load_weights(path: Path, device: torch.device) -> LeNet5 | None:
    """The network stored at ``path``, or None when there is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        network = LeNet5()
        network.load_state_dict(state)
    except (*runs.UNREADABLE, TypeError, AttributeError):
        return None
    return network.to(device).eval()


def _save_weights(network: LeNet5, path: Path) -> None:
    runs.write_torch_state(path, {name: tensor.cpu() for name, tensor in network.state_dict().items()})


def _stored_accuracy(settings: dict, path: Path) -> float | None:
    """The held-out accuracy stored at ``path`` for ``settings``; None when missing, unreadable or for others."""
    try:
        record = json.loads(path.read_text())
        if record["settings"] == settings:
            return float(record["test_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _measure_accuracy(network: LeNet5, settings: dict, path: Path) -> float:
    """Accuracy of ``network`` on the held-out split of its data set, written to ``path`` beside the weights."""
    _, test_set = TRAINING_DATA[settings["dataset"]]
    value = accuracy(network, *test_set())
    record = {"settings": settings, "test_accuracy": value}
    runs.atomic_write_bytes(path, json.dumps(record, indent=1, sort_keys=True).encode())
    return value
