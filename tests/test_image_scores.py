"""madlib.metrics.image_scores: FID and PRDC against independent implementations, the standard errors against their
definitions and against Monte-Carlo spreads, the reference sets built once, and a user's own model calling it."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from madlib import data, loops
from madlib.metrics import features as lenet_features
from madlib.metrics import image_scores
from madlib.metrics.bootstrap import REPLICATES, binomial_se, bootstrap
from madlib.metrics.frechet import frechet_distance_to_fit
from support import quiet_one_thread_store, write_folder

LENET_EPOCHS = 2


@pytest.fixture(scope="module", autouse=True)
def store(tmp_path_factory):
    """One temporary run store for the module (its LeNet is trained once), quiet, one thread."""
    with quiet_one_thread_store(tmp_path_factory.mktemp("image_scores_store")) as folder:
        yield folder


def vector_reference(real: np.ndarray) -> image_scores.ReferenceSet:
    """A reference set whose "images" are feature vectors already: the feature map is the identity."""
    return image_scores.ReferenceSet(lambda x: torch.as_tensor(x).double().reshape(len(x), -1).numpy(),
                                     torch.as_tensor(real), real, None, None, torch.device("cpu"))


def gaussian_sets(seed: int, n_real: int = 2000, n_fake: int = 300, dim: int = 3, shift: float = 0.7,
                  scale: float = 1.3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_real, dim)), lambda r: shift + scale * r.standard_normal((n_fake, dim))


# ----------------------------------------------------------------------------------------------- FID and PRDC


def scipy_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """|m1 - m2|^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2}) with scipy's general matrix square root."""
    m1, m2 = real.mean(0), fake.mean(0)
    c1, c2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2.0 * root))


@pytest.mark.parametrize("seed, dim", [(0, 2), (1, 8), (2, 20)])
def test_fid_matches_scipy_on_the_two_gaussian_fits(seed, dim):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((600, dim)) @ rng.standard_normal((dim, dim))
    fake = 0.5 + rng.standard_normal((400, dim)) @ rng.standard_normal((dim, dim))
    scores = image_scores.score(vector_reference(real), fake, np.random.default_rng(0))
    assert scores.values["fid"] == pytest.approx(scipy_fid(real, fake), rel=1e-7, abs=1e-9)
    np.testing.assert_array_equal(scores.features, fake)


def test_precision_recall_density_coverage_match_the_prdc_package():
    prdc_package = pytest.importorskip("prdc")
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((700, 6)), 0.4 + 1.2 * rng.standard_normal((500, 6))
    ours = image_scores.score(vector_reference(real), fake, np.random.default_rng(0), k=5).values
    theirs = prdc_package.compute_prdc(real, fake, nearest_k=5)
    one_point = 1.0 / min(len(real), len(fake))  # float32 distances may move one point across a ball boundary
    for name in ("precision", "recall", "density", "coverage"):
        assert ours[name] == pytest.approx(theirs[name], abs=one_point + 1e-6), name


# ----------------------------------------------------------------------------------------------- standard errors


def test_binomial_se_is_the_binomial_formula_and_the_spread_of_a_rate():
    assert binomial_se(0.3, 100) == pytest.approx(math.sqrt(0.3 * 0.7 / 100), rel=1e-15)
    assert binomial_se(0.0, 50) == binomial_se(1.0, 50) == 0.0
    draws, n, p = 4000, 200, 0.3
    rates = np.random.default_rng(4).binomial(n, p, size=draws) / n
    spread = rates.std(ddof=1)  # its own relative SE is about 1 / sqrt(2 (draws - 1))
    assert abs(spread / binomial_se(p, n) - 1.0) < 4.0 / math.sqrt(2 * (draws - 1))


def test_rates_carry_binomial_ses_over_the_right_counts():
    real, draw = gaussian_sets(5)
    fake = draw(np.random.default_rng(6))
    values = image_scores.score(vector_reference(real), fake, np.random.default_rng(0)).values
    assert values["precision_se"] == binomial_se(values["precision"], len(fake))
    for name in ("recall", "coverage"):
        assert values[f"{name}_se"] == binomial_se(values[name], len(real))
    assert math.isnan(values["density_se"])
    assert "lenet_agreement" not in values and "class_separation" not in values  # no labels, no classifier


def test_bootstrap_se_of_the_fid_matches_its_monte_carlo_spread():
    """The FID's bootstrap SE, averaged over independent synthetic sets, against the standard deviation of the FID
    over fresh synthetic sets. The tolerance comes from the number of sets and of bootstrap replicates."""
    real, draw = gaussian_sets(7)
    reference = vector_reference(real)
    rng = np.random.default_rng(8)
    fresh = np.array([frechet_distance_to_fit(reference.fit, draw(rng)) for _ in range(300)])
    boot = np.array([image_scores.score(reference, draw(rng), rng).values["fid_se"] for _ in range(40)])
    truth, truth_se = fresh.std(ddof=1), fresh.std(ddof=1) / math.sqrt(2 * (len(fresh) - 1))
    mean_boot, mean_boot_se = boot.mean(), boot.std(ddof=1) / math.sqrt(len(boot))
    z = (mean_boot - truth) / math.hypot(truth_se, mean_boot_se)
    assert abs(z) < 4.0, (mean_boot, truth, z)
    assert boot.std(ddof=1) / boot.mean() < 3.0 / math.sqrt(2 * (REPLICATES - 1))  # one SE is itself roughly right


def test_bootstrap_is_the_spread_over_resampled_rows():
    x = np.arange(10.0)
    value, se = bootstrap(np.mean, np.random.default_rng(0), x, replicates=200)
    assert value == 4.5
    assert se == pytest.approx(x.std() / math.sqrt(len(x)), rel=4.0 / math.sqrt(2 * 199))


# ----------------------------------------------------------------------------------------------- reference sets


def test_the_digit_reference_set_is_built_once_per_store(monkeypatch, tmp_path):
    calls = []
    lenet = lenet_features.lenet

    def counting_lenet(*args, **kwargs):
        calls.append(kwargs.get("store"))
        return lenet(*args, **kwargs)

    monkeypatch.setattr(lenet_features, "lenet", counting_lenet)
    first = image_scores.reference_set("mnist-5k", lenet_epochs=LENET_EPOCHS, device="cpu")
    assert image_scores.reference_set("mnist-5k", lenet_epochs=LENET_EPOCHS, device="cpu") is first
    assert len(calls) == 1
    images, labels = data.mnist5k("reference")
    assert torch.equal(first.images, images) and np.array_equal(first.labels, labels.numpy())
    expected = lenet_features.features(first.classifier, images, device="cpu").numpy().astype(np.float64)
    np.testing.assert_array_equal(first.features, expected)
    assert first.features.shape == (len(images), lenet_features.FEATURE_DIM) and first.spread > 0
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))  # another store holds its own LeNet: built there once more
    assert image_scores.reference_set("mnist-5k", lenet_epochs=LENET_EPOCHS, device="cpu") is not first
    assert len(calls) == 2


def test_an_image_folder_reference_is_a_pixel_pca_of_its_training_part(tmp_path):
    write_folder(tmp_path / "pictures")
    reference = image_scores.reference_set(str(tmp_path / "pictures"), image_size=8, channels=3, k=2)
    assert image_scores.reference_set(str(tmp_path / "pictures"), image_size=8, channels=3, k=2) is reference
    train, held = image_scores.folder_split(str(tmp_path / "pictures"), image_size=8, channels=3, k=2)
    assert (len(train), len(held)) == (16, 4) and torch.equal(reference.images, held)  # 20% held out
    assert reference.labels is None and reference.classifier is None and math.isnan(reference.spread)
    train_features = reference.embed(train)
    assert train_features.shape == (16, 15)  # n - 1 components: fewer images than PCA_DIM
    np.testing.assert_allclose(train_features.mean(0), 0.0, atol=1e-9)  # centred on the training part
    np.testing.assert_allclose(reference.features, reference.embed(held))
    with pytest.raises(ValueError, match="^dataset: the image folder"):
        image_scores.folder_split(str(tmp_path / "pictures"), image_size=8, channels=3, k=18)


# ----------------------------------------------------------------------------------------------- a user's model


class BlurredDigits:
    """A user's own LoopModel of digits: it "trains" by memorising its digits and samples them pulled toward their
    class mean by 1 - lam (a crude sampling bias), scoring the samples with image_scores."""

    def __init__(self, n_eval: int = 300):
        self.n_eval = n_eval

    def config(self):
        return {"model": "blurred-digits", "n_eval": self.n_eval}

    def draw_real(self, n, rng):
        images, labels = data.mnist5k("train")
        rows = torch.as_tensor(rng.choice(len(labels), size=n, replace=False))
        return images[rows], labels[rows]

    def fit(self, digits, rng):
        return digits

    def sample(self, fitted, n, lam, rng):
        images, labels = fitted
        rows = torch.as_tensor(rng.integers(len(labels), size=n))
        means = torch.stack([images[labels == c].mean(0) for c in range(10)])
        chosen = labels[rows]
        return means[chosen] + lam * (images[rows] - means[chosen]), chosen

    def join(self, parts):
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def evaluate(self, fitted, lam, rng):
        images, labels = self.sample(fitted, self.n_eval, lam, rng)
        reference = image_scores.reference_set("mnist-5k", lenet_epochs=LENET_EPOCHS, device="cpu")
        return {**image_scores.score(reference, images, rng, labels=labels).metrics(), "lam": np.array([lam])}


def test_a_users_model_scores_its_samples_in_the_loop():
    model = BlurredDigits()
    history = {lam: loops.run(loops.LoopSpec("fresh_data", 2, n_ini=600, n_r=300, n_s=300, lam=lam, seed=1), model)
               for lam in (1.0, 0.3)}
    names = ("fid", "precision", "recall", "density", "coverage", "lenet_agreement", "class_separation",
             "class_spread")
    for lam, metrics in history.items():
        assert all(m["lam"][0] == lam for m in metrics)  # evaluate received the run's lam
        for m in metrics:
            assert all(m[name].shape == (1,) and f"{name}_se" in m for name in names)
    unbiased, biased = history[1.0][0], history[0.3][0]
    assert unbiased["lenet_agreement"][0] > 0.7  # real digits: LeNet reads their class
    for name in ("fid", "class_spread", "recall"):  # pulled to their class means: far from the data, each class
        # shrunk, less of the real data reached
        gap = unbiased[name][0] - biased[name][0]
        assert abs(gap) > 4 * math.hypot(unbiased[f"{name}_se"][0], biased[f"{name}_se"][0]), name
    assert biased["fid"][0] > unbiased["fid"][0] and biased["class_spread"][0] < unbiased["class_spread"][0]
    assert biased["recall"][0] < unbiased["recall"][0]
