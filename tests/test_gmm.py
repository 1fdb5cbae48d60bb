"""The 25-mode grid, the GMM loop model, its study tables and the claims of Figs. 14 and 15."""

import numpy as np
import pytest

from madlib import claims, data, gmm_studies, loops, runs
from madlib.models.gmm import GMMFit, GMMModel, density, mixture_covariance, modal_variances, modes_covered

MEANS, STD = data.GRID_MODE_MEANS, data.GRID_MODE_STD


def nearest_mode(points):
    return np.argmin(((points[:, None, :] - MEANS[None]) ** 2).sum(-1), axis=1)


def grid_fit(scale=1.0, weights=None):
    """The real distribution itself as a GMMFit (optionally with every covariance scaled)."""
    k = len(MEANS)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float)
    return GMMFit(w, MEANS.copy(), np.broadcast_to(scale * STD**2 * np.eye(2), (k, 2, 2)).copy())


# the grid sampler ---------------------------------------------------------------------------------------------------
def test_grid25_matches_its_distribution():
    n = 50_000
    x = data.grid25(n, np.random.default_rng(0))
    assert x.shape == (n, 2)
    mode = nearest_mode(x)
    counts = np.bincount(mode, minlength=25)
    p = 1 / 25
    assert np.all(np.abs(counts / n - p) < 5 * np.sqrt(p * (1 - p) / n))  # each frequency within 5 binomial SE
    for m in range(25):
        part = x[mode == m] - MEANS[m]
        k = len(part)
        assert np.all(np.abs(part.mean(0)) < 5 * STD / np.sqrt(k))
        # sample variance of k normals: SE about var * sqrt(2 / (k - 1))
        assert np.all(np.abs(part.var(0, ddof=1) - STD**2) < 5 * STD**2 * np.sqrt(2 / (k - 1)))
    assert np.trace(np.cov(x.T)) == pytest.approx(16 + 2 * STD**2, rel=0.03)


def test_grid25_refuses_bad_n():
    with pytest.raises(ValueError, match="n:"):
        data.grid25(-1, np.random.default_rng(0))


# the model ----------------------------------------------------------------------------------------------------------
def test_fit_and_sample_shapes_and_recovery():
    model = GMMModel(n_eval=200)
    fit = model.fit(data.grid25(2000, np.random.default_rng(1)), np.random.default_rng(2))
    assert fit.weights.shape == (25,) and fit.means.shape == (25, 2) and fit.covariances.shape == (25, 2, 2)
    assert np.isclose(fit.weights.sum(), 1.0)
    assert model.sample(fit, 7, 1.0, np.random.default_rng(3)).shape == (7, 2)
    assert model.sample(fit, 0, 1.0, np.random.default_rng(3)).shape == (0, 2)


def test_bias_lam_shrinks_within_component_spread():
    model, fit, n = GMMModel(), grid_fit(), 20_000
    spreads = {}
    for lam in (1.0, 0.5, 0.1):
        x = model.sample(fit, n, lam, np.random.default_rng(4))
        residual = x - MEANS[nearest_mode(x)]
        spreads[lam] = residual.var(0).mean()
        # per-coordinate variance lam * s^2, SE about lam * s^2 * sqrt(2 / n)
        assert abs(spreads[lam] - lam * STD**2) < 5 * lam * STD**2 * np.sqrt(2 / n)
    assert spreads[0.1] < spreads[0.5] < spreads[1.0]


def test_exact_variances_match_samples():
    rng = np.random.default_rng(5)
    means = rng.uniform(-3, 3, (4, 2))
    roots = rng.normal(0, 0.3, (4, 2, 2))
    fit = GMMFit(np.array([0.1, 0.2, 0.3, 0.4]), means, roots @ np.swapaxes(roots, 1, 2) + 0.01 * np.eye(2))
    x = GMMModel().sample(fit, 200_000, 1.0, rng)
    assert np.allclose(mixture_covariance(fit), np.cov(x.T), atol=0.03)
    # the modal variance of the grid itself: 2 s^2 for every mode; a mode without components counts 0
    assert np.allclose(modal_variances(grid_fit()), 2 * STD**2)
    fewer = GMMFit(np.full(24, 1 / 24), MEANS[1:], np.broadcast_to(STD**2 * np.eye(2), (24, 2, 2)).copy())
    assert modal_variances(fewer)[0] == 0 and modal_variances(fewer).mean() == pytest.approx(24 / 25 * 2 * STD**2)


def test_density_integrates_to_one_and_agrees_with_scipy():
    from scipy.stats import multivariate_normal

    fit = grid_fit(scale=100.0)  # wide components so a coarse grid integrates well
    x, y = np.meshgrid(np.linspace(-8, 8, 321), np.linspace(-8, 8, 321))
    values = density(fit, x, y)
    assert values.sum() * (16 / 320) ** 2 == pytest.approx(1.0, abs=1e-3)
    point = np.array([0.3, -1.7])
    expected = sum(w * multivariate_normal(m, c).pdf(point) for w, m, c in zip(fit.weights, fit.means,
                                                                                fit.covariances))
    assert density(fit, point[:1], point[1:])[0] == pytest.approx(expected, rel=1e-10)


def test_modes_covered_counts_modes_with_enough_samples():
    rng = np.random.default_rng(6)
    x = data.grid25(5000, rng)
    assert modes_covered(x, 0.01) == (25, pytest.approx(0.989, abs=0.01))  # P(|z| <= 3) in 2-D is 0.9889
    keep = nearest_mode(x) >= 3  # three modes dropped
    assert modes_covered(x[keep], 0.01)[0] == 22


def test_evaluate_returns_float_arrays_and_real_values():
    model = GMMModel(n_eval=500)
    metrics = model.evaluate(grid_fit(), np.random.default_rng(7))
    assert all(isinstance(v, np.ndarray) and v.dtype == float for v in metrics.values())
    assert metrics["total_variance"][0] == pytest.approx(16 + 2 * STD**2)
    assert metrics["modal_variance"][0] == pytest.approx(2 * STD**2)
    assert metrics["modes_covered"][0] == 25 and metrics["recall"][0] > 0.8
    assert metrics["weights"].shape == (25,) and metrics["covariances"].shape == (100,)


def test_save_load_round_trip_and_garbage(tmp_path):
    model, fit = GMMModel(), grid_fit(scale=2.0)
    model.save(fit, str(tmp_path / "fit"))
    back = model.load(str(tmp_path / "fit"))
    assert np.array_equal(back.weights, fit.weights) and np.array_equal(back.covariances, fit.covariances)
    samples = data.grid25(10, np.random.default_rng(0))
    model.save(samples, str(tmp_path / "samples"))
    assert np.array_equal(model.load(str(tmp_path / "samples")), samples)
    (tmp_path / "garbage").write_bytes(b"not a numpy file")
    with pytest.raises(ValueError, match="garbage"):
        model.load(str(tmp_path / "garbage"))
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="format"):
        model.load(str(tmp_path / "foreign.npz"))


@pytest.mark.parametrize("field, kwargs", [("components", {"components": 0}), ("n_eval", {"n_eval": 3}),
                                           ("cover_fraction", {"cover_fraction": 0.0}),
                                           ("reg_covar", {"reg_covar": -1.0})])
def test_bad_settings_name_the_field(field, kwargs):
    with pytest.raises(ValueError, match=field):
        GMMModel(**kwargs)


def test_bad_parameters_and_data_are_refused():
    with pytest.raises(ValueError, match="weights"):
        GMMFit(np.array([0.5, 0.6]), np.zeros((2, 2)), np.broadcast_to(np.eye(2), (2, 2, 2)).copy())
    with pytest.raises(ValueError, match="covariances"):
        GMMFit(np.array([1.0]), np.zeros((1, 2)), -np.eye(2)[None])
    with pytest.raises(ValueError, match="samples"):
        GMMModel().fit(np.zeros((100, 3)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="lam"):
        GMMModel().sample(grid_fit(), 5, 1.5, np.random.default_rng(0))


# the loop through the store and the study tables ------------------------------------------------------------------
def test_two_generation_loop_through_the_store(tmp_path):
    settings = dict(n_ini=300, n_s=300, generations=2, replicates=2, seed=0, model={"n_eval": 100})
    chains = gmm_studies.run_chains(**settings, store=tmp_path)
    again = gmm_studies.run_chains(**settings, store=tmp_path)  # read back, not recomputed
    assert len(list(tmp_path.iterdir())) == 2
    for (_, a), (_, b) in zip(chains, again):
        assert all(np.array_equal(x[k], y[k]) for x, y in zip(a, b) for k in x)
    assert not np.array_equal(chains[0][1][0]["weights"], chains[1][1][0]["weights"])  # independent chains
    frame = gmm_studies.diversity_frame(chains)
    assert {"variant", "lam", "n_ini", "n_s", "generation", "metric", "mean", "sem"} <= set(frame.columns)
    assert set(gmm_studies.METRICS) <= set(frame["metric"])
    densities = gmm_studies.densities_frame(chains, [1, 2, 2000])
    fit = gmm_studies.fit_of(densities, 2, replicate=1)
    assert np.allclose(fit.weights, chains[1][1][1]["weights"])
    assert sorted(densities.loc[densities["metric"] == "weight", "generation"].unique()) == [1, 2]


def test_rank_correlation_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 5, 50).astype(float), rng.normal(size=50)
    assert gmm_studies.rank_correlation(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert np.isnan(gmm_studies.rank_correlation(np.ones(5), b[:5]))


# claims ---------------------------------------------------------------------------------------------------------------
def fake_chains(covered: np.ndarray, recall: np.ndarray, modal: np.ndarray, total: np.ndarray):
    """Chains (spec, history) with given per-chain metric paths, shape (chains, generations)."""
    chains = []
    for r in range(covered.shape[0]):
        spec = loops.LoopSpec("fully_synthetic", covered.shape[1], n_ini=100, n_s=100, seed=r)
        history = [{"modes_covered": covered[r, [g]], "recall": recall[r, [g]], "modal_variance": modal[r, [g]],
                    "total_variance": total[r, [g]]} for g in range(covered.shape[1])]
        history = [{**h, **{m: np.zeros(1) for m in gmm_studies.METRICS if m not in h}} for h in history]
        chains.append((spec, history))
    return chains


def synthetic_loss(chains=4, generations=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(generations)
    covered = np.stack([np.maximum(25 - np.floor(t / (8 + r)), 3) for r in range(chains)])
    noise = lambda: rng.normal(0, 0.01, covered.shape)  # noqa: E731
    return covered, covered / 25 + noise(), covered * 2e-4 + noise() * 1e-3, 16 + rng.normal(0, 1, covered.shape)


def test_fig14_and_fig15_claims_hold_on_data_showing_them():
    covered, recall, modal, total = synthetic_loss()
    chains = fake_chains(covered, recall, modal, total)
    assert all(c.holds for c in claims.check_fig14(gmm_studies.densities_frame(chains, [])))
    assert all(c.holds for c in claims.check_fig15(gmm_studies.diversity_frame(chains)))


def test_fig14_and_fig15_claims_fail_on_the_opposite():
    covered, recall, modal, total = synthetic_loss()
    flat = np.full_like(covered, 25.0)  # no mode is ever lost
    stays = fake_chains(flat, recall, modal, total)
    assert not any(c.holds for c in claims.check_fig14(gmm_studies.diversity_frame(stays)))
    # total variance follows the modes, recall and modal variance do not
    swapped = fake_chains(covered, total / 16, 16 - recall, covered * 0.6 + np.random.default_rng(2).normal(
        0, 0.01, covered.shape))
    assert not any(c.holds for c in claims.check_fig15(gmm_studies.diversity_frame(swapped)))
