"""The Gaussian model: the exact (sufficient statistics) path against the direct (samples) path and against
independent implementations, with tolerances from standard errors."""

import numpy as np
import pytest
from scipy import stats

from madlib.models import gaussian
from madlib.models.gaussian import GaussianModel, GaussianStats, join_stats, simulate_loop, wishart_identity

Z = 4.0  # tolerance in standard errors
ALPHA = 1e-3  # significance of the two-sample tests (fixed seeds: each test's outcome is deterministic)


def within(values, expected):
    values = np.asarray(values, float)
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert abs(values.mean() - expected) < Z * se, (values.mean(), expected, se)


def test_wishart_matches_scipy_when_nonsingular():
    rng = np.random.default_rng(0)
    ours = wishart_identity(4, 7, 3000, rng)
    theirs = stats.wishart(df=7, scale=np.eye(4)).rvs(size=3000, random_state=1)
    for i, j in [(0, 0), (3, 3), (0, 1), (2, 3)]:
        assert stats.ks_2samp(ours[:, i, j], theirs[:, i, j]).pvalue > ALPHA


@pytest.mark.parametrize("df", [2, 4, 9])
def test_wishart_moments_and_rank_including_the_singular_case(df):
    d, draws = 5, wishart_identity(5, df, 20000, np.random.default_rng(df))
    within(draws[:, 1, 1], df)  # E W = df I
    within(draws[:, 0, 1], 0.0)
    within(draws[:, 1, 2] ** 2, df)  # Var W_ij = df off the diagonal
    within((draws[:, 2, 2] - df) ** 2, 2 * df)  # and 2 df on it
    assert np.all(np.linalg.matrix_rank(draws[:50]) == min(df, d))


def test_wishart_with_zero_degrees_of_freedom_is_zero():
    assert not wishart_identity(3, 0, 2, np.random.default_rng(0)).any()


LOOPS = {
    "fully synthetic, n_s < d": dict(variant="fully_synthetic", d=10, n_ini=30, n_s=6, lam=1.0),
    "fully synthetic, n_s > d, biased": dict(variant="fully_synthetic", d=10, n_ini=30, n_s=30, lam=0.8),
    "fresh data, memory 2": dict(variant="fresh_data", d=10, n_ini=12, n_r=8, n_s=20, lam=0.9, memory=2),
    "augmentation, pooled": dict(variant="synthetic_augmentation", d=10, n_ini=15, n_r=15, n_s=10,
                                 accumulate=True),
}


@pytest.mark.parametrize("name", list(LOOPS))
@pytest.mark.parametrize("metric", ["wd", "trace"])
def test_exact_and_direct_paths_agree_in_distribution(name, metric):
    kwargs = dict(LOOPS[name], generations=5, replicates=600, metric=metric)
    exact = simulate_loop(method="exact", seed=1, **kwargs)[:, -1]
    direct = simulate_loop(method="direct", seed=2, **kwargs)[:, -1]
    assert stats.ks_2samp(exact, direct).pvalue > ALPHA


@pytest.mark.parametrize("lam", [1.0, 0.8])
@pytest.mark.parametrize("method", ["exact", "direct"])
def test_trace_is_a_supermartingale_with_the_papers_rate(lam, method):
    """E[tr Sigma_t | Sigma_1] = lam^(t-1) tr Sigma_1 (eq. 2), so the per-replicate ratio has that mean."""
    trace = simulate_loop("fully_synthetic", d=8, n_ini=20, n_s=12, lam=lam, generations=6, replicates=3000,
                          seed=5, method=method, metric="trace")
    for t in (2, 6):
        within(trace[:, t - 1] / trace[:, 0], lam ** (t - 1))


def test_the_mean_is_a_martingale_around_the_real_mean():
    first = simulate_loop("fully_synthetic", d=8, n_ini=20, n_s=12, lam=1.0, generations=8, replicates=4000,
                          seed=6, metric="mean_1")
    within(first[:, -1], 0.0)
    within(first[:, -1] - first[:, 3], 0.0)  # increments have mean zero
    assert first[:, -1].var() > first[:, 0].var()  # while the walk spreads out


def test_join_of_statistics_equals_statistics_of_the_joined_samples():
    model = GaussianModel(d=4, replicates=3, method="direct")
    rng = np.random.default_rng(0)
    parts = [model.draw_real(n, rng) * s + s for n, s in [(5, 1.0), (1, 2.0), (9, 0.5)]]
    stats_of = [GaussianStats(p.shape[1], p.mean(1), np.einsum("rni,rnj->rij", p - p.mean(1, keepdims=True),
                                                               p - p.mean(1, keepdims=True))) for p in parts]
    joined, whole = join_stats(stats_of + [GaussianStats(0, np.zeros((3, 4)), np.zeros((3, 4, 4)))]), np.concatenate(parts, 1)
    centred = whole - whole.mean(1, keepdims=True)
    assert joined.n == 15
    np.testing.assert_allclose(joined.mean, whole.mean(1))
    np.testing.assert_allclose(joined.scatter, np.einsum("rni,rnj->rij", centred, centred))


def test_fit_is_the_unbiased_moment_estimate():
    model = GaussianModel(d=3, replicates=2, method="direct")
    data = model.draw_real(11, np.random.default_rng(1))
    fit = model.fit(data)
    for r in range(2):
        np.testing.assert_allclose(fit.mu[r], data[r].mean(0))
        np.testing.assert_allclose(fit.sigma[r], np.cov(data[r], rowvar=False))
        np.testing.assert_allclose(fit.root[r] @ fit.root[r].T, fit.sigma[r], atol=1e-12)


def test_biased_sampling_scales_the_covariance_by_lam():
    model = GaussianModel(d=3, replicates=1, method="direct")
    fit = model.fit(model.draw_real(500, np.random.default_rng(2)))
    sample = model.sample(fit, 200000, 0.3, np.random.default_rng(3))
    np.testing.assert_allclose(np.cov(sample[0], rowvar=False), 0.3 * fit.sigma[0], atol=0.01)


@pytest.mark.parametrize("method", ["exact", "direct"])
def test_save_and_load_round_trip(tmp_path, method):
    model = GaussianModel(d=3, replicates=2, method=method)
    data = model.draw_real(7, np.random.default_rng(4))
    fit = model.fit(data)
    for name, obj in [("data", data), ("fit", fit)]:
        model.save(obj, str(tmp_path / name))
    back, fit_back = model.load(str(tmp_path / "data")), model.load(str(tmp_path / "fit"))
    if method == "direct":
        np.testing.assert_array_equal(back, data)
    else:
        assert back.n == data.n and np.array_equal(back.scatter, data.scatter)
    assert np.array_equal(fit_back.sigma, fit.sigma) and np.array_equal(fit_back.eigvals, fit.eigvals)


def test_bad_model_settings_name_the_field():
    for kwargs, field in [(dict(method="fast"), "method"), (dict(d=0), "d"), (dict(replicates=0), "replicates")]:
        with pytest.raises(ValueError, match=f"^{field}"):
            GaussianModel(**kwargs)
    with pytest.raises(ValueError, match="^n: "):
        GaussianModel(d=2).fit(GaussianModel(d=2).draw_real(1, np.random.default_rng(0)))


def test_wd_of_real_fits_falls_like_one_over_root_n():
    curve = gaussian.wd_of_real_fits(d=20, sizes=[1000, 4000, 16000], replicates=200, seed=0).mean(0)
    assert np.all(np.diff(curve) < 0)
    np.testing.assert_allclose(curve[:-1] / curve[1:], 2.0, rtol=0.05)


def test_direct_subsample_draws_rows_without_replacement_independently_per_replicate():
    model = GaussianModel(d=3, replicates=400, method="direct")
    pool = model.draw_real(10, np.random.default_rng(0))
    chosen = model.subsample(pool, 4, np.random.default_rng(1))
    assert chosen.shape == (400, 4, 3)
    index = np.argmax(np.all(chosen[:, :, None, :] == pool[:, None, :, :], axis=-1), axis=-1)  # (replicates, 4)
    assert np.array_equal(np.take_along_axis(pool, index[:, :, None], axis=1), chosen)  # rows of its own replicate
    assert all(len(set(row)) == 4 for row in index)  # without replacement
    counts = np.bincount(index.ravel(), minlength=10)  # each row is chosen with probability 4/10 in each replicate
    assert stats.chisquare(counts).pvalue > 1e-3
    assert len({tuple(sorted(row)) for row in index}) > 100  # replicates draw independently (210 subsets)


def test_the_exact_path_cannot_subsample():
    model = GaussianModel(d=3, replicates=2)
    with pytest.raises(ValueError, match="^method: .*use method='direct'"):
        model.subsample(model.draw_real(10, np.random.default_rng(0)), 4, np.random.default_rng(1))
