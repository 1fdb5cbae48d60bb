"""Precision/recall/density/coverage and the Frechet distance, against the `prdc` package, POT and known behaviour."""

import numpy as np
import ot
import pytest
import torch
from prdc import compute_prdc

from madlib.metrics.frechet import frechet_distance, gaussian_fit
from madlib.metrics.precision_recall import METRICS, prdc

# (seed, n_real, n_fake, dim, fake mean shift, fake scale, offset of both sets from 0, k)
DATASETS = [
    (0, 300, 400, 2, 0.5, 1.0, 0.0, 5),
    (1, 1000, 800, 16, 0.3, 1.3, 0.0, 3),
    (2, 1500, 1200, 16, 0.0, 0.7, 0.0, 5),
    (3, 600, 700, 2, 1.0, 2.0, 0.0, 3),
    (4, 800, 800, 16, 0.2, 1.0, 25.0, 5),  # far from the origin: float32 must still resolve the radii
]


def gaussian_pair(seed, n_real, n_fake, dim, shift, scale, offset):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n_real, dim)) + offset
    fake = scale * rng.standard_normal((n_fake, dim)) + shift + offset
    return real, fake


def reference_prdc(real, fake, k):
    return {name: float(value) for name, value in compute_prdc(real, fake, nearest_k=k).items()}


def four_mode_mixture(rng, n, modes=(0, 1, 2, 3), spread=0.3):
    """n points from a mixture of 4 Gaussians at the corners of a square in 2-D, drawn from the given modes."""
    centres = 4.0 * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
    labels = rng.choice(np.asarray(modes), size=n)
    return centres[labels] + spread * rng.standard_normal((n, 2))


@pytest.mark.parametrize("case", DATASETS, ids=[f"seed{c[0]}-d{c[3]}-k{c[-1]}" for c in DATASETS])
def test_prdc_float64_reproduces_the_prdc_package(case):
    *data, k = case
    real, fake = gaussian_pair(*data)
    ours, theirs = prdc(real, fake, k=k, dtype=torch.float64), reference_prdc(real, fake, k)
    for name in ("precision", "recall", "coverage"):
        assert ours[name] == theirs[name], name
    assert ours["density"] == pytest.approx(theirs["density"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", DATASETS, ids=[f"seed{c[0]}-d{c[3]}-k{c[-1]}" for c in DATASETS])
def test_prdc_float32_default_agrees_with_the_prdc_package(case):
    """float32 rounding may move a point across a ball boundary only at a near tie: allow one such point."""
    *data, k = case
    real, fake = gaussian_pair(*data)
    ours, theirs = prdc(real, fake, k=k), reference_prdc(real, fake, k)
    one_point = 1.0 / min(len(real), len(fake))
    for name in METRICS:
        assert ours[name] == pytest.approx(theirs[name], abs=one_point + 1e-6), name


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_small_chunks_give_the_unchunked_result(dtype):
    real, fake = gaussian_pair(5, 700, 500, 16, 0.3, 1.2, 0.0)
    assert prdc(real, fake, k=5, chunk=37, dtype=dtype) == prdc(real, fake, k=5, dtype=dtype)


def test_torch_and_numpy_inputs_agree():
    real, fake = gaussian_pair(6, 400, 300, 8, 0.4, 1.0, 0.0)
    as_tensors = prdc(torch.from_numpy(real), torch.from_numpy(fake).requires_grad_(), k=4, dtype=torch.float64)
    assert as_tensors == prdc(real, fake, k=4, dtype=torch.float64)
    assert frechet_distance(torch.from_numpy(real), torch.from_numpy(fake)) == frechet_distance(real, fake)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), None])
def test_device_argument_on_cpu(device):
    real, fake = gaussian_pair(7, 300, 300, 4, 0.5, 1.0, 0.0)
    result = prdc(real, fake, k=5, device=device)
    assert set(result) == set(METRICS) and all(isinstance(v, float) for v in result.values())
    assert result == prdc(real, fake, k=5, device="cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_in_float64():
    real, fake = gaussian_pair(8, 900, 700, 16, 0.3, 1.1, 0.0)
    assert prdc(real, fake, k=5, device="cuda", dtype=torch.float64) == pytest.approx(
        prdc(real, fake, k=5, device="cpu", dtype=torch.float64), abs=1e-12)


@pytest.mark.parametrize("dim", [1, 3, 16])
def test_frechet_is_the_square_of_pots_bures_wasserstein_distance(dim):
    rng = np.random.default_rng(10 + dim)
    for shift, scale in [(0.0, 1.0), (0.5, 0.7), (2.0, 1.5)]:
        real = rng.standard_normal((500, dim)) @ rng.standard_normal((dim, dim))
        fake = scale * rng.standard_normal((400, dim)) + shift
        m1, c1 = real.mean(axis=0), np.atleast_2d(np.cov(real, rowvar=False))
        m2, c2 = fake.mean(axis=0), np.atleast_2d(np.cov(fake, rowvar=False))
        w2 = ot.gaussian.bures_wasserstein_distance(m1, m2, c1, c2)
        assert frechet_distance(real, fake) == pytest.approx(float(w2) ** 2, rel=1e-6)


def test_gaussian_fit_is_the_float64_sample_mean_and_unbiased_covariance():
    features = np.random.default_rng(11).standard_normal((50, 3)).astype(np.float32)
    mean, cov = gaussian_fit(features)
    assert mean.dtype == cov.dtype == np.float64 and cov.shape == (3, 3)
    np.testing.assert_allclose(mean, features.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(cov, np.cov(features.astype(np.float64), rowvar=False, ddof=1))


def test_identical_sets_are_perfect():
    real = np.random.default_rng(12).standard_normal((800, 16))
    assert abs(frechet_distance(real, real)) < 1e-8
    scores = prdc(real, real.copy(), k=5)
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0


def test_mode_collapse_keeps_precision_but_loses_recall():
    rng = np.random.default_rng(13)
    real = four_mode_mixture(rng, 1200)
    full = prdc(real, four_mode_mixture(rng, 1200), k=5)
    collapsed = prdc(real, four_mode_mixture(rng, 1200, modes=(0,), spread=0.1), k=5)
    assert collapsed["precision"] > 0.9 and full["precision"] > 0.9
    assert full["recall"] > 0.9 and collapsed["recall"] < 0.35
    assert collapsed["coverage"] < 0.35 < full["coverage"]


def test_a_shift_lowers_precision_and_raises_frechet():
    rng = np.random.default_rng(14)
    real = rng.standard_normal((1000, 16))
    fakes = [rng.standard_normal((1000, 16)) + shift for shift in (0.0, 0.5, 1.0, 2.0)]
    precisions = [prdc(real, fake, k=5)["precision"] for fake in fakes]
    frechets = [frechet_distance(real, fake) for fake in fakes]
    assert precisions[0] > precisions[1] > precisions[2] > precisions[3]
    assert frechets[0] < frechets[1] < frechets[2] < frechets[3]


def good_pair():
    return gaussian_pair(15, 20, 20, 3, 0.0, 1.0, 0.0)


@pytest.mark.parametrize("change, argument", [
    (lambda real, fake: dict(real=real[:, 0], fake=fake), "real"),
    (lambda real, fake: dict(real=real, fake=fake[:, 0]), "fake"),
    (lambda real, fake: dict(real=real[None], fake=fake), "real"),
    (lambda real, fake: dict(real=real, fake=fake[:, :2]), "fake"),
    (lambda real, fake: dict(real=real, fake=fake, k=0), "k"),
    (lambda real, fake: dict(real=real, fake=fake, k=2.5), "k"),
    (lambda real, fake: dict(real=real[:5], fake=fake, k=5), "real"),
    (lambda real, fake: dict(real=real, fake=fake[:6], k=6), "fake"),
    (lambda real, fake: dict(real=real, fake=fake, chunk=0), "chunk"),
    (lambda real, fake: dict(real=np.where(real > 1, np.nan, real), fake=fake), "real"),
], ids=["real-1d", "fake-1d", "real-3d", "dims-differ", "k-zero", "k-float", "real-too-small", "fake-too-small",
        "chunk-zero", "real-nan"])
def test_prdc_rejects_bad_input_naming_the_argument(change, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        prdc(**change(*good_pair()))


@pytest.mark.parametrize("change, argument", [
    (lambda real, fake: (real[:, 0], fake), "real"),
    (lambda real, fake: (real, fake[:, 0]), "fake"),
    (lambda real, fake: (real, fake[:, :2]), "fake"),
    (lambda real, fake: (real[:1], fake), "real"),
])
def test_frechet_rejects_bad_input_naming_the_argument(change, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        frechet_distance(*change(*good_pair()))
