"""LeNet-5 features: training reaches a useful accuracy, the store caches it safely, features are deterministic."""

import json

import pytest
import torch

from madlib import data
from madlib.metrics import features as lenet_features


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def network(store):
    """The default LeNet (mnist-5k, DEFAULT_EPOCHS epochs, seed 0), trained once into a temporary store."""
    return lenet_features.lenet(store=store, device="cpu")


@pytest.fixture(scope="module")
def reference():
    return data.mnist5k("reference")


def cached_files(store, epochs=lenet_features.DEFAULT_EPOCHS, seed=0):
    settings = lenet_features.lenet_settings("mnist-5k", epochs, seed, torch.device("cpu"))
    return lenet_features.lenet_paths(settings, store)


def forbid_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("LeNet was retrained although the store holds it")

    monkeypatch.setattr(lenet_features, "train_lenet", fail)


def same_weights(a, b) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


# ----------------------------------------------------------------------------------------------------------- training


def test_default_lenet_classifies_held_out_digits(network, reference):
    assert network.test_accuracy >= 0.90
    assert lenet_features.accuracy(network, *reference) == pytest.approx(network.test_accuracy)


def test_training_is_deterministic_for_a_seed():
    images, labels = data.mnist5k("train")
    images, labels = images[:600], labels[:600]
    first = lenet_features.train_lenet(images, labels, epochs=1, seed=3, device="cpu")
    second = lenet_features.train_lenet(images, labels, epochs=1, seed=3, device="cpu")
    other = lenet_features.train_lenet(images, labels, epochs=1, seed=4, device="cpu")
    assert same_weights(first, second)
    assert not same_weights(first, other)


def test_initialisation_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lenet_features.new_lenet(seed=0)
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------------------------------------- cache


def test_second_call_loads_the_stored_network(network, store, monkeypatch):
    weights, accuracy = cached_files(store)
    stamps = weights.stat().st_mtime_ns, accuracy.stat().st_mtime_ns
    forbid_training(monkeypatch)
    again = lenet_features.lenet(store=store, device="cpu")
    assert same_weights(again, network)
    assert again.test_accuracy == network.test_accuracy
    assert lenet_features.lenet_accuracy(store=store, device="cpu") == network.test_accuracy
    assert (weights.stat().st_mtime_ns, accuracy.stat().st_mtime_ns) == stamps
    assert json.loads(accuracy.read_text())["test_accuracy"] == network.test_accuracy


def test_other_settings_get_their_own_cache_entry(store):
    keys = {cached_files(store, epochs, seed)[0].name for epochs, seed in ((15, 0), (15, 1), (5, 0))}
    assert len(keys) == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong tensors"])
def test_a_damaged_cache_file_is_retrained_not_used(tmp_path, damage):
    original = lenet_features.lenet(epochs=1, store=tmp_path, device="cpu")
    weights, _ = cached_files(tmp_path, epochs=1)
    content = weights.read_bytes()
    if damage == "garbage":
        weights.write_bytes(b"not a checkpoint" * 100)
    elif damage == "truncated":
        weights.write_bytes(content[: len(content) // 2])
    elif damage == "empty":
        weights.write_bytes(b"")
    else:
        torch.save({"weight": torch.zeros(3)}, weights)
    retrained = lenet_features.lenet(epochs=1, store=tmp_path, device="cpu")
    assert same_weights(retrained, original)  # training on the CPU is deterministic, so the same network returns
    assert lenet_features._load_weights(weights, torch.device("cpu")) is not None  # and the file is whole again


def test_a_damaged_accuracy_record_is_measured_again_without_retraining(network, store, monkeypatch):
    _, accuracy = cached_files(store)
    accuracy.write_text("{ half a record")
    forbid_training(monkeypatch)
    assert lenet_features.lenet(store=store, device="cpu").test_accuracy == network.test_accuracy
    assert json.loads(accuracy.read_text())["test_accuracy"] == network.test_accuracy


def test_lenet_rejects_unknown_settings(tmp_path):
    with pytest.raises(ValueError, match="dataset: LeNet trains on one of 'mnist-5k', 'mnist'"):
        lenet_features.lenet("cifar10", store=tmp_path)
    with pytest.raises(ValueError, match="epochs"):
        lenet_features.lenet(epochs=0, store=tmp_path)


# ----------------------------------------------------------------------------------------------------------- features


def test_features_are_the_84_unit_activations(network, reference):
    images, _ = reference
    values = lenet_features.features(network, images, device="cpu")
    assert values.shape == (len(images), 84) and values.dtype == torch.float32
    assert torch.isfinite(values).all()
    assert (values >= 0).all() and (values > 0).any()  # after the ReLU, and not dead


def test_features_are_deterministic_and_independent_of_batching(network, reference):
    images = reference[0][:300]
    first = lenet_features.features(network, images, device="cpu")
    assert torch.equal(lenet_features.features(network, images, device="cpu"), first)
    assert torch.allclose(lenet_features.features(network, images, batch_size=7, device="cpu"), first, atol=1e-5)


def test_features_separate_the_classes(network, reference):
    """Digits of one class lie nearer their own class mean than other classes' means, most of the time."""
    images, labels = reference
    values = lenet_features.features(network, images, device="cpu")
    means = torch.stack([values[labels == digit].mean(0) for digit in range(10)])
    nearest = torch.cdist(values, means).argmin(1)
    assert (nearest == labels).float().mean() >= 0.85


def test_features_accept_numpy_and_reject_wrong_shapes(network, reference):
    images = reference[0][:10]
    assert torch.equal(lenet_features.features(network, images.numpy(), device="cpu"),
                       lenet_features.features(network, images, device="cpu"))
    with pytest.raises(ValueError, match=r"images: LeNet expects shape \(n, 1, 28, 28\)"):
        lenet_features.features(network, torch.zeros(4, 28, 28), device="cpu")
