"""Scores of synthetic images against held-out real images: the one place where every image model (the DDPM, the
GANs, a user's own LoopModel) scores its samples.

The real side is a :class:`ReferenceSet`: a feature map and the features of real images that no model trains on.

* Digits (``"mnist-5k"``, ``"mnist"``): LeNet-5's 84 features (:mod:`madlib.metrics.features`; the paper's footnote 3
  uses a LeNet instead of Inception for MNIST), and the data set's held-out split (the mnist-5k reference part, the
  MNIST test set) with its labels. The LeNet also reads the class of a sample (``lenet_agreement``).
* An image folder (any other ``dataset``: a path, one sub-folder per class, labels ignored): LeNet means nothing
  there, so the features are the first ``PCA_DIM`` principal components of the pixels, fitted once on the folder's
  training part; the held-out images are a fixed ``FOLDER_REFERENCE_FRACTION`` of the folder, chosen with seed 0
  (:func:`folder_split`, which also gives a model the training part it may draw from).

:func:`reference_set` builds one per data set and feature settings and keeps it for the life of the process, so the
generations and chains of one process share it.

:func:`score` compares a set of synthetic images with a reference set:

* ``fid``: the squared Frechet distance between Gaussian fits of the real and synthetic features
  (:mod:`madlib.metrics.frechet`);
* ``precision``, ``recall``, ``density``, ``coverage``: k-NN manifold scores (:mod:`madlib.metrics.precision_recall`);
* with the samples' class ``labels`` (a conditional model) and a reference that has labels: ``lenet_agreement``,
  the share of samples LeNet reads as their class, ``class_separation``, the silhouette of the synthetic features
  grouped by class (falls when classes merge), and ``class_spread``, the mean distance of a synthetic feature to
  its class centroid relative to the same for the held-out real images (falls when each class collapses onto a
  few images).

Every score has a ``<name>_se`` (:mod:`madlib.metrics.bootstrap`): binomial for the rates (precision and
lenet_agreement over the synthetic images, recall and coverage over the real ones), bootstrap over the synthetic
images for fid, class_separation and class_spread, NaN for density (it has no simple one).

:func:`dispersion_scores` measures the dispersion kept (:mod:`madlib.metrics.dispersion`) by the synthetic images,
in the features and in pixels, against the images the model was trained on and against the held-out real ones:
within-class when the samples carry labels (a conditional model), total otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from madlib import data, runs
from madlib.metrics import dispersion
from madlib.metrics import features as lenet_features
from madlib.metrics.bootstrap import binomial_se, bootstrap
from madlib.metrics.frechet import frechet_distance_to_fit, gaussian_fit
from madlib.metrics.precision_recall import default_device, prdc

DIGIT_DATASETS = tuple(lenet_features.TRAINING_DATA)  # ("mnist-5k", "mnist")
PCA_DIM = 64
FOLDER_REFERENCE_FRACTION = 0.2

FeatureMap = Callable[[torch.Tensor], np.ndarray]


@dataclass(frozen=True, eq=False)
class ReferenceSet:
    """Held-out real images seen through a feature map.

    ``embed`` maps images (n, c, s, s) in [-1, 1] to float64 features (n, d); ``features`` = embed(images);
    ``labels``: the class of each held-out image, or None (an image folder); ``classifier``: the LeNet that reads a
    digit's class, or None; ``device``: where the k-NN distances are computed. ``fit`` (Gaussian fit of the features)
    and ``spread`` (their mean distance to their class centroid; NaN without labels) are computed once.
    """

    embed: FeatureMap
    images: torch.Tensor
    features: np.ndarray
    labels: np.ndarray | None
    classifier: nn.Module | None
    device: torch.device
    fit: tuple[np.ndarray, np.ndarray] = field(init=False)
    spread: float = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "fit", gaussian_fit(self.features))
        spread = class_spread(self.features, self.labels) if self.labels is not None else math.nan
        object.__setattr__(self, "spread", spread)


# ------------------------------------------------------------------------------------------------ reference sets


def reference_set(dataset: str = "mnist-5k", image_size: int = 28, channels: int = 1,
                  lenet_epochs: int = lenet_features.DEFAULT_EPOCHS, k: int = 5,
                  device: str | torch.device | None = None) -> ReferenceSet:
    """The reference set of ``dataset`` (see the module docstring), built on the first call and reused after.

    Digits: ``lenet_epochs`` picks the LeNet (:func:`madlib.metrics.features.lenet`, trained into the run store once);
    the set is kept per run store, since each store holds its own LeNet. An image folder is read at ``image_size``
    with ``channels`` 1 (grey) or 3 (RGB), and holds out at least ``k`` + 1 images (the k-NN scores need more than k).
    """
    device = torch.device(device) if device is not None else default_device()
    if dataset in DIGIT_DATASETS:
        return _digit_reference(dataset, lenet_epochs, str(device), str(runs.store_path()))
    return _folder_reference(_folder_key(dataset), image_size, channels, k, str(device))


@lru_cache(maxsize=None)
def _digit_reference(dataset: str, lenet_epochs: int, device: str, store: str) -> ReferenceSet:
    network = lenet_features.lenet(dataset, epochs=lenet_epochs, store=store, device=device)
    _, test_set = lenet_features.TRAINING_DATA[dataset]
    images, labels = test_set()

    def embed(x: torch.Tensor) -> np.ndarray:
        return lenet_features.features(network, x, device=device).numpy().astype(np.float64)

    return ReferenceSet(embed, images, embed(images), labels.numpy(), network, torch.device(device))


@lru_cache(maxsize=None)
def _folder_reference(folder: str, image_size: int, channels: int, k: int, device: str) -> ReferenceSet:
    train, held = folder_split(folder, image_size, channels, k)
    embed = pixel_pca(train, PCA_DIM)
    return ReferenceSet(embed, held, embed(held), None, None, torch.device(device))


def _folder_key(folder: str) -> str:
    return str(Path(folder).expanduser())


def folder_split(folder: str, image_size: int, channels: int, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """(training part, held-out part) of an image folder: FOLDER_REFERENCE_FRACTION of its images (at least k + 1),
    chosen with seed 0, are held out for the reference set and never trained on. Read once per process."""
    return _folder_split(_folder_key(folder), image_size, channels, k)


@lru_cache(maxsize=None)
def _folder_split(folder: str, image_size: int, channels: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, _ = data.image_folder(folder, size=image_size, grayscale=channels == 1)
    order = torch.as_tensor(np.random.default_rng(0).permutation(len(images)))
    held = max(k + 1, int(round(FOLDER_REFERENCE_FRACTION * len(images))))
    if len(images) - held < 2:
        raise ValueError(f"dataset: the image folder {folder} holds {len(images)} images; it needs at least "
                         f"{held + 2} ({held} held out for evaluation, 2 to train on)")
    return images[order[held:]], images[order[:held]]


def pixel_pca(images: torch.Tensor, dim: int) -> FeatureMap:
    """A feature map for images without a classifier: the projection of the flattened pixels onto the first
    ``dim`` principal components of ``images`` (at most n - 1 and the pixel count), float64 (n, dim)."""
    flat = images.reshape(len(images), -1).double()
    mean = flat.mean(0)
    _, _, vt = torch.linalg.svd(flat - mean, full_matrices=False)
    components = vt[: max(1, min(dim, len(flat) - 1, flat.shape[1]))]

    def embed(x: torch.Tensor) -> np.ndarray:
        return ((x.reshape(len(x), -1).double() - mean) @ components.T).numpy()

    return embed


# ------------------------------------------------------------------------------------------------ scores


@dataclass
class ImageScores:
    """What :func:`score` measured: ``values`` (score name -> float, each with its ``<name>_se``) and the synthetic
    images' ``features`` (float64 (n, d), for plots such as t-SNE)."""

    values: dict[str, float]
    features: np.ndarray

    def metrics(self) -> dict[str, np.ndarray]:
        """The values as a LoopModel's metrics: one array of one float per score."""
        return {name: np.array([value], dtype=np.float64) for name, value in self.values.items()}


def score(reference: ReferenceSet, images, rng: np.random.Generator, labels=None, k: int = 5) -> ImageScores:
    """Scores of synthetic ``images`` (n, c, s, s) in [-1, 1] against ``reference`` (see the module docstring).

    ``labels``: the class each image was drawn for (a conditional model), or None; the class scores need it and a
    reference with labels. ``k``: neighbours of the k-NN scores. ``rng`` draws the bootstrap resamples.
    """
    images = torch.as_tensor(images)
    fake = reference.embed(images)
    values = prdc(reference.features, fake, k=k, device=reference.device)
    for name, count in (("precision", len(fake)), ("recall", len(reference.features)),
                        ("coverage", len(reference.features))):
        values[f"{name}_se"] = binomial_se(values[name], count)
    values["density_se"] = math.nan
    statistics = {"fid": lambda f, *_: frechet_distance_to_fit(reference.fit, f)}
    arrays = [fake]
    if labels is not None:
        labels = torch.as_tensor(labels, dtype=torch.int64)
        if len(labels) != len(images):
            raise ValueError(f"labels: one per image; got {len(labels)} labels for {len(images)} images")
        if reference.classifier is not None:
            values["lenet_agreement"] = lenet_features.accuracy(reference.classifier, images, labels)
            values["lenet_agreement_se"] = binomial_se(values["lenet_agreement"], len(images))
        if reference.labels is not None:
            statistics["class_separation"] = class_separation
            statistics["class_spread"] = lambda f, y: class_spread(f, y) / reference.spread
        arrays.append(labels.numpy())
    for name, statistic in statistics.items():
        values[name], values[f"{name}_se"] = bootstrap(statistic, rng, *arrays)
    return ImageScores({name: float(value) for name, value in values.items()}, fake)


def dispersion_scores(reference: ReferenceSet, images, features: np.ndarray, training_images=None, labels=None,
                      training_labels=None) -> dict[str, float]:
    """``dispersion_train``/``dispersion_real`` in the reference's features and ``pixel_dispersion_train``/
    ``pixel_dispersion_real`` in pixels, each with its ``_se``, of synthetic ``images`` (whose features are
    ``features``) against ``training_images`` (NaN when None) and the reference's held-out images. With ``labels``
    (and ``training_labels`` with the training images) the spreads are within-class; the real side then needs a
    reference with labels."""
    images = torch.as_tensor(images)
    within = labels is not None
    if within and reference.labels is None:
        raise ValueError("labels: within-class dispersion needs a reference set with labels (a digit data set)")
    if within and training_images is not None and training_labels is None:
        raise ValueError("training_labels: within-class dispersion needs the training images' labels")
    labelled = {"sample_labels": labels, "training_labels": training_labels,
                "real_labels": reference.labels if within else None}
    training_features = None if training_images is None else reference.embed(torch.as_tensor(training_images))
    return {**dispersion.kept_scores(features, training_features, reference.features, **labelled),
            **dispersion.kept_scores(images.numpy(), None if training_images is None else
                                     torch.as_tensor(training_images).numpy(), reference.images.numpy(),
                                     prefix="pixel_", **labelled)}


def class_separation(features: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette score of the features grouped by label (1: tight, well separated classes; near 0: merged)."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return math.nan
    return float(silhouette_score(features, labels))


def class_spread(features: np.ndarray, labels: np.ndarray) -> float:
    """Mean Euclidean distance of a feature vector to the centroid of its class."""
    labels = np.asarray(labels)
    distances = [np.linalg.norm(features[labels == c] - features[labels == c].mean(0), axis=1)
                 for c in np.unique(labels)]
    return float(np.concatenate(distances).mean())
