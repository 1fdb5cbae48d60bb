"""Real data loaders: the offline 5,000-digit MNIST split, MNIST's offline error, image folders, load by name."""

import hashlib
import socket
import time

import numpy as np
import pytest
import torch
from PIL import Image

from madlib import data


def row_hashes(images: torch.Tensor) -> set[str]:
    return {hashlib.sha1(row.numpy().tobytes()).hexdigest() for row in images}


@pytest.fixture(scope="module")
def split():
    return {part: data.mnist5k(part) for part in data.MNIST5K_PARTS}


# ----------------------------------------------------------------------------------------------------------- mnist5k


def test_mnist5k_parts_have_the_promised_shapes_and_range(split):
    for part, size in (("train", 4000), ("reference", 1000)):
        images, labels = split[part]
        assert images.shape == (size, 1, 28, 28) and images.dtype == torch.float32
        assert labels.shape == (size,) and labels.dtype == torch.int64
        assert images.min() == -1.0 and images.max() == 1.0


def test_mnist5k_parts_are_disjoint_and_cover_all_digits(split):
    train, reference = row_hashes(split["train"][0]), row_hashes(split["reference"][0])
    assert len(train) == 4000 and len(reference) == 1000  # no digit twice within a part either
    assert not train & reference


@pytest.mark.parametrize("part", data.MNIST5K_PARTS)
def test_mnist5k_is_stratified_by_class(split, part):
    labels = split[part][1]
    counts = np.bincount(labels.numpy(), minlength=10)
    assert (counts > 0).all()
    assert np.abs(counts - len(labels) / 10).max() <= 3


def test_mnist5k_is_deterministic_for_a_seed_and_shuffled_by_it(split):
    again = data.mnist5k("reference", seed=0)
    assert torch.equal(again[0], split["reference"][0]) and torch.equal(again[1], split["reference"][1])
    other = data.mnist5k("reference", seed=1)
    assert not torch.equal(other[1], split["reference"][1])


def test_mnist5k_reference_size_sets_the_split():
    images, _ = data.mnist5k("reference", reference_size=500)
    train, _ = data.mnist5k("train", reference_size=500)
    assert len(images) == 500 and len(train) == 4500


@pytest.mark.parametrize("bad", ["test", "Train", None])
def test_mnist5k_rejects_an_unknown_part_naming_it(bad):
    with pytest.raises(ValueError, match=r"part: must be one of 'train', 'reference'"):
        data.mnist5k(bad)


def test_mnist5k_rejects_an_impossible_reference_size():
    with pytest.raises(ValueError, match="reference_size"):
        data.mnist5k("train", reference_size=5)


# ----------------------------------------------------------------------------------------------------------- mnist


def test_mnist_without_files_and_without_download_fails_fast_naming_the_root(tmp_path):
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as error:
        data.mnist(root=tmp_path, download=False)
    assert time.perf_counter() - start < 10
    assert isinstance(error.value, data.DatasetUnavailable)
    assert str(tmp_path) in str(error.value) and "mnist5k" in str(error.value)


def test_mnist_offline_download_fails_fast_and_restores_the_socket_timeout(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unreachable)  # no host can be resolved: as good as offline
    previous = socket.getdefaulttimeout()
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailable, match="could not be downloaded") as error:
        data.mnist(root=tmp_path, download=True)
    assert time.perf_counter() - start < 10
    assert str(tmp_path) in str(error.value)
    assert socket.getdefaulttimeout() == previous


def test_mnist_root_defaults_to_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MADLIB_DATA", str(tmp_path / "here"))
    assert data.data_root() == tmp_path / "here"
    assert data.data_root(tmp_path / "there") == tmp_path / "there"
    monkeypatch.delenv("MADLIB_DATA")
    assert data.data_root().parts[-3:] == (".cache", "madlib", "data")


# ----------------------------------------------------------------------------------------------------------- folders


def write_image_folder(root, sizes=((32, 20), (10, 10), (28, 28))):
    """Two classes ("cats" dark, "dogs" light) of RGB PNGs of several sizes."""
    for name, value in (("cats", 30), ("dogs", 220)):
        (root / name).mkdir(parents=True)
        for i, size in enumerate(sizes):
            pixels = np.full((size[1], size[0], 3), value, dtype=np.uint8)
            pixels[0, 0] = (0, 0, 0)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_image_folder_loads_grayscale_images_in_the_common_convention(tmp_path):
    images, labels = data.image_folder(write_image_folder(tmp_path / "pets"))
    assert images.shape == (6, 1, 28, 28) and images.dtype == torch.float32
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] and labels.dtype == torch.int64
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images[labels == 0].mean() < 0 < images[labels == 1].mean()  # the dark class below the light one


def test_image_folder_keeps_colour_and_resizes_on_request(tmp_path):
    images, _ = data.image_folder(write_image_folder(tmp_path / "pets"), size=16, grayscale=False)
    assert images.shape == (6, 3, 16, 16)


def test_image_folder_missing_or_empty_folder_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory") as error:
        data.image_folder(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(error.value)
    (tmp_path / "empty" / "class_a").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no images found") as error:
        data.image_folder(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(error.value)


# ----------------------------------------------------------------------------------------------------------- load


def test_load_dispatches_by_name(tmp_path):
    images, labels = data.load("mnist-5k", part="reference")
    assert images.shape == (1000, 1, 28, 28)
    images, _ = data.load("image-folder", path=write_image_folder(tmp_path / "pets"))
    assert images.shape == (6, 1, 28, 28)
    with pytest.raises(data.DatasetUnavailable):
        data.load("mnist", root=tmp_path / "mnist", download=False)


def test_load_rejects_an_unknown_name_listing_the_choices():
    with pytest.raises(ValueError, match="'mnist', 'mnist-5k', 'image-folder'"):
        data.load("cifar10")
