"""Dispersion kept (madlib.metrics.dispersion): the spreads against numpy, the known answers of Gaussian fits, the
delta-method SE against simulated replicates, and the scores every model stores in its chains."""

import math

import numpy as np
import pytest
import torch

from madlib import data, loops
from madlib.metrics import dispersion, image_scores
from madlib.models import gmm
from madlib.models.gaussian import GaussianModel, fit_from_moments


def within_class_trace(x, labels):
    """Pooled within-class covariance trace from numpy's per-class covariances."""
    classes = np.unique(labels)
    pooled = sum((np.sum(labels == c) - 1) * np.trace(np.atleast_2d(np.cov(x[labels == c].T))) for c in classes)
    return pooled / (len(x) - len(classes))


def test_spread_is_the_unbiased_covariance_trace():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 4)) * [1.0, 2.0, 0.5, 3.0]
    labels = rng.integers(3, size=300)
    assert dispersion.spread(x) == pytest.approx(np.trace(np.cov(x.T)), rel=1e-12)
    assert dispersion.spread(x, labels) == pytest.approx(within_class_trace(x, labels), rel=1e-12)
    images = rng.standard_normal((50, 1, 3, 3))  # any shape: a point is everything after the first axis
    assert dispersion.spread(images) == pytest.approx(np.trace(np.cov(images.reshape(50, -1).T)), rel=1e-12)


def test_within_class_spread_ignores_the_distance_between_classes():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 100)
    x = rng.standard_normal((400, 2)) + 50.0 * labels[:, None]
    assert dispersion.spread(x, labels) == pytest.approx(2.0, rel=0.15)
    assert dispersion.spread(x) > 100 * dispersion.spread(x, labels)


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="^labels: one per point"):
        dispersion.spread(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="^points: a spread needs more points than classes"):
        dispersion.spread(np.zeros((3, 2)), np.arange(3))


def test_delta_method_se_matches_the_spread_over_replicates():
    """The SE that kept() reports equals the standard deviation of the ratio over independent replicates, for heavy-
    tailed points and within-class spreads; 400 replicates measure that SD to about 3.5%, so 4 of those SEs."""
    rng = np.random.default_rng(2)
    replicates, n = 400, 500
    ratios, ses = [], []
    for _ in range(replicates):
        a, b = rng.standard_exponential((n, 3)), 0.8 * rng.standard_exponential((n, 3))
        labels_a, labels_b = rng.integers(5, size=n), rng.integers(5, size=n)
        ratio, se = dispersion.kept(a, b, labels_a, labels_b)
        ratios.append(ratio)
        ses.append(se)
    relative_se_of_sd = 1.0 / math.sqrt(2 * (replicates - 1))
    assert np.std(ratios, ddof=1) / np.mean(ses) == pytest.approx(1.0, abs=4 * relative_se_of_sd)
    assert np.mean(ratios) == pytest.approx(1 / 0.8**2, abs=4 * np.std(ratios, ddof=1) / math.sqrt(replicates))


# ------------------------------------------------------------------------------------------- known answers


class MaximumLikelihoodGaussian(GaussianModel):
    """The companion's Gaussian fitted by maximum likelihood (scatter / n) instead of without bias (scatter / (n-1)):
    it keeps (n - 1)/n of its training set's spread."""

    def fit(self, data, rng=None):
        unbiased = super().fit(data, rng)
        n = data.shape[1] if self.method == "direct" else data.n
        return fit_from_moments(unbiased.mu, unbiased.sigma * (n - 1) / n)


@pytest.mark.parametrize("method", ["exact", "direct"])
def test_a_maximum_likelihood_gaussian_keeps_n_minus_1_over_n_of_its_training_set(method):
    n, lam = 20, 0.7
    model = MaximumLikelihoodGaussian(d=3, replicates=200, method=method)
    history = loops.run(loops.LoopSpec("fully_synthetic", 4, n_ini=n, n_s=n, lam=lam, seed=3), model)
    for metrics in history:  # every generation: lam (n - 1)/n exactly, replicate by replicate
        np.testing.assert_allclose(metrics["dispersion_train"], lam * (n - 1) / n, rtol=1e-10)


def test_a_maximum_likelihood_gaussian_keeps_n_minus_1_over_n_of_the_real_spread_on_average():
    """Against P_r = N(0, I): E[tr Sigma_ML] / d = (n - 1)/n at generation 1 (and ((n - 1)/n)^t lam^(t-1) later)."""
    n = 10
    model = MaximumLikelihoodGaussian(d=2, replicates=4000)
    history = loops.run(loops.LoopSpec("fully_synthetic", 3, n_ini=n, n_s=n, seed=4), model)
    for generation, metrics in enumerate(history, start=1):
        kept = metrics["dispersion_real"]
        se = kept.std(ddof=1) / math.sqrt(len(kept))
        assert kept.mean() == pytest.approx(((n - 1) / n) ** generation, abs=4 * se)


def test_the_companions_unbiased_gaussian_keeps_lam_of_its_training_set():
    model = GaussianModel(d=3, replicates=5)
    history = loops.run(loops.LoopSpec("fully_synthetic", 3, n_ini=15, n_s=15, lam=0.6, seed=5), model)
    for metrics in history:
        np.testing.assert_allclose(metrics["dispersion_train"], 0.6, rtol=1e-10)
    fitted = model.fit(model.draw_real(15, np.random.default_rng(0)))
    assert np.isnan(model.evaluate(fitted)["dispersion_train"]).all()  # no training set given


def test_samples_of_a_maximum_likelihood_fit_keep_n_minus_1_over_n():
    """The sample-based estimator (what the flow and the image models use) has the same expectation: samples of
    N(mean, Sigma_ML) keep (n - 1)/n of the training set's spread."""
    rng = np.random.default_rng(6)
    n, replicates = 8, 2000
    kept = []
    for _ in range(replicates):
        training = rng.standard_normal((n, 2)) * [1.0, 3.0]
        cov_ml = np.cov(training.T, ddof=0)
        samples = rng.multivariate_normal(training.mean(0), cov_ml, size=200)
        kept.append(dispersion.kept(samples, training)[0])
    assert np.mean(kept) == pytest.approx((n - 1) / n, abs=4 * np.std(kept, ddof=1) / math.sqrt(replicates))


# --------------------------------------------------------------------------------------- the models' scores


def test_the_engine_hands_evaluate_its_training_set():
    class Points:
        def config(self):
            return {"model": "points"}

        def draw_real(self, n, rng):
            return rng.standard_normal((n, 2))

        def fit(self, points, rng):
            return points.copy()

        def sample(self, fitted, n, lam, rng):
            return fitted[rng.integers(len(fitted), size=n)]

        def join(self, parts):
            return np.concatenate(parts)

        def evaluate(self, fitted, lam, rng, training=None):
            return {"same": np.array([float(np.array_equal(fitted, training))])}

    history = loops.run(loops.LoopSpec("fresh_data", 3, n_ini=10, n_r=4, n_s=6, seed=0), Points())
    assert [m["same"][0] for m in history] == [1.0, 1.0, 1.0]


def test_gmm_dispersion_matches_its_samples():
    rng = np.random.default_rng(7)
    model = gmm.GMMModel(n_eval=500)
    training = data.grid25(2000, rng)
    fitted = model.fit(training, rng)
    metrics = model.evaluate(fitted, 0.5, rng, training=training)
    samples = model.sample(fitted, 200_000, 0.5, rng)
    expected = dispersion.spread(samples) / dispersion.spread(training)
    assert metrics["dispersion_train"][0] == pytest.approx(expected, abs=4 * metrics["dispersion_train_se"][0])
    assert metrics["dispersion_real"][0] == pytest.approx(dispersion.spread(samples) / 16.005, rel=0.01)


def pixel_reference(images, labels):
    """A reference set whose features are the pixels themselves (no LeNet to train)."""
    def embed(x):
        return torch.as_tensor(x).flatten(1).double().numpy()

    return image_scores.ReferenceSet(embed, images, embed(images), labels, None, torch.device("cpu"))


def test_image_dispersion_within_class_and_total():
    """Samples pulled toward their class mean by a factor f keep f^2 of the within-class spread, in pixels and here
    in the (pixel) features; their total spread keeps more, since the class means do not move."""
    images, labels = data.mnist5k("train")
    images, labels = images[:2000], labels[:2000]
    reference = pixel_reference(*data.mnist5k("reference"))
    means = torch.stack([images[labels == c].mean(0) for c in range(10)])
    shrunk = means[labels] + 0.8 * (images - means[labels])
    features = reference.embed(shrunk)
    within = image_scores.dispersion_scores(reference, shrunk, features, images, labels=labels, training_labels=labels)
    assert within["pixel_dispersion_train"] == pytest.approx(0.64, rel=1e-6)
    assert within["dispersion_train"] == pytest.approx(0.64, rel=1e-6)
    assert within["pixel_dispersion_real"] == pytest.approx(0.64, abs=4 * within["pixel_dispersion_real_se"] + 0.05)
    total = image_scores.dispersion_scores(reference, shrunk, features, images)
    assert 0.64 < total["pixel_dispersion_train"] < 1.0
    blind = image_scores.dispersion_scores(reference, shrunk, features)
    assert math.isnan(blind["dispersion_train"]) and math.isfinite(blind["dispersion_real"])
    with pytest.raises(ValueError, match="^training_labels"):
        image_scores.dispersion_scores(reference, shrunk, features, images, labels=labels)


def test_a_reference_without_spread_gives_nan_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(math.isnan(v) for v in dispersion.kept(np.ones((5, 2)), np.zeros((5, 2))))
        model = GaussianModel(d=2, replicates=3)
        history = loops.run(loops.LoopSpec("fully_synthetic", 3, n_ini=10, n_s=10, lam=0.0, seed=0), model)
    assert np.isnan(history[2]["dispersion_train"]).all()  # trained on identical points: no spread to keep
    assert (history[1]["dispersion_real"] == 0).all()
