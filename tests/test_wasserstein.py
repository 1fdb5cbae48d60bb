"""Closed-form W2 against POT, and the effective sample size n_e of eq. (4)."""

import numpy as np
import ot
import pytest

from madlib.metrics import effective_sample_size, gaussian_w2, gaussian_w2_squared
from madlib.metrics.wasserstein import w2_to_standard_normal_from_eigh
from madlib.models.gaussian import simulate_loop, wd_of_real_fits


def random_psd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


@pytest.mark.parametrize("rank", [None, 2])
def test_w2_matches_pot(rank):
    """Full-rank and nearly singular covariances (POT's square root fails on exactly singular ones)."""
    rng = np.random.default_rng(rank or 0)
    for _ in range(5):
        m1, m2 = rng.standard_normal(6), rng.standard_normal(6)
        c1, c2 = random_psd(rng, 6, rank) + 1e-9 * np.eye(6), random_psd(rng, 6)
        assert gaussian_w2(m1, c1, m2, c2) == pytest.approx(ot.gaussian.bures_wasserstein_distance(m1, m2, c1, c2),
                                                            rel=1e-6)


def test_w2_is_continuous_at_singular_covariances():
    rng = np.random.default_rng(3)
    m, c, other = rng.standard_normal(6), random_psd(rng, 6, 2), random_psd(rng, 6)
    exact = gaussian_w2(m, c, -m, other)
    assert np.isfinite(exact) and exact == pytest.approx(gaussian_w2(m, c + 1e-10 * np.eye(6), -m, other), rel=1e-4)


def test_w2_is_batched_and_symmetric():
    rng = np.random.default_rng(1)
    m1, m2 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    c1 = np.stack([random_psd(rng, 5) for _ in range(4)])
    c2 = np.stack([random_psd(rng, 5) for _ in range(4)])
    batched = gaussian_w2(m1, c1, m2, c2)
    one_by_one = [gaussian_w2(m1[i], c1[i], m2[i], c2[i]) for i in range(4)]
    np.testing.assert_allclose(batched, one_by_one)
    np.testing.assert_allclose(batched, gaussian_w2(m2, c2, m1, c1), rtol=1e-7)
    np.testing.assert_allclose(gaussian_w2_squared(m1, c1, m1, c1), 0.0, atol=1e-10)


def test_one_dimensional_closed_form():
    assert gaussian_w2([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(np.hypot(3.0, 1.0))


def test_distance_to_the_standard_normal_from_eigenvalues():
    rng = np.random.default_rng(2)
    mean, cov = rng.standard_normal(7), random_psd(rng, 7, 3)
    assert w2_to_standard_normal_from_eigh(mean, np.linalg.eigvalsh(cov)) == pytest.approx(
        gaussian_w2(mean, cov, np.zeros(7), np.eye(7)))


def test_effective_sample_size_inverts_an_exact_power_law():
    sizes = np.geomspace(10, 1e6, 30)
    assert effective_sample_size(3.0 / np.sqrt(2500.0), sizes, 3.0 / np.sqrt(sizes)) == pytest.approx(2500.0)


def test_effective_sample_size_outside_the_curve_is_an_error():
    sizes = np.array([10.0, 100.0, 1000.0])
    with pytest.raises(ValueError, match="^limit_distance"):
        effective_sample_size(5.0, sizes, 1.0 / np.sqrt(sizes))
    with pytest.raises(ValueError, match="^sizes"):
        effective_sample_size(0.1, sizes[::-1], 1.0 / np.sqrt(sizes))


def test_a_fresh_loop_without_synthetic_data_has_n_e_equal_to_n_r():
    """With n_s = 0 each generation is a model fit on n_r fresh real samples, so n_e = n_r by definition; the
    tolerance propagates the SEs of the limit and of the curve through the curve's local slope."""
    d, n_r, replicates = 20, 300, 400
    limit = simulate_loop("fresh_data", d=d, n_ini=n_r, n_r=n_r, n_s=0, generations=3, replicates=replicates,
                          seed=11).mean(axis=1)  # generations are independent here: average them
    sizes = np.array([100, 200, 300, 450, 700])
    curve = wd_of_real_fits(d, sizes, replicates * 3, seed=12)
    mean = curve.mean(0)
    n_e = effective_sample_size(limit.mean(), sizes, mean)
    slope = np.gradient(np.log(mean), np.log(sizes))[2]  # d log WD / d log n at n = 300
    se_log_wd = np.hypot(limit.std(ddof=1) / np.sqrt(replicates), curve[:, 2].std(ddof=1) / np.sqrt(len(curve)))
    se_log_n = se_log_wd / mean[2] / abs(slope)
    assert abs(np.log(n_e / n_r)) < 4 * se_log_n, (n_e, se_log_n)


# The mixture Wasserstein distance MW2 (Fig. X1's WD for the GMM) ---------------------------------------------------
def test_mixture_w2_of_single_components_is_the_gaussian_w2():
    """K = 1: the plan is trivial and MW2 is W2 between the two Gaussians (POT's closed form as the reference)."""
    from madlib.metrics.wasserstein import mixture_w2

    rng = np.random.default_rng(5)
    m1, m2, c1, c2 = rng.standard_normal(2), rng.standard_normal(2), random_psd(rng, 2), random_psd(rng, 2)
    assert mixture_w2([1.0], m1[None], c1[None], [1.0], m2[None], c2[None]) == pytest.approx(
        ot.gaussian.bures_wasserstein_distance(m1, m2, c1, c2), rel=1e-6)


def test_mixture_w2_of_point_like_components_is_the_discrete_w2():
    """Components with (nearly) no spread on a line, equal weights: W2 between the sets of means, i.e. the sorted
    matching (an independent formula); identical mixtures in another order are at distance 0."""
    from madlib.metrics.wasserstein import mixture_w2

    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(7), rng.standard_normal(7)
    tiny = np.broadcast_to(1e-14 * np.eye(2), (7, 2, 2))

    def on_line(x):
        return np.stack([x, np.zeros_like(x)], axis=1)

    w = np.full(7, 1 / 7)
    expected = np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2))
    assert mixture_w2(w, on_line(a), tiny, w, on_line(b), tiny) == pytest.approx(expected, rel=1e-6)
    order = rng.permutation(7)
    assert mixture_w2(w, on_line(a), tiny, w[order], on_line(a)[order], tiny) == pytest.approx(0.0, abs=1e-6)


def test_mixture_w2_moves_only_the_mass_that_differs():
    """Two far components, weights 0.5/0.5 against 0.3/0.7 (weights given unnormalised): 0.2 of the mass travels
    10, so MW2^2 = 0.2 * 100."""
    from madlib.metrics.wasserstein import mixture_w2

    means, covs = np.array([[0.0, 0.0], [10.0, 0.0]]), np.broadcast_to(np.eye(2), (2, 2, 2))
    assert mixture_w2([1, 1], means, covs, [3, 7], means, covs) == pytest.approx(np.sqrt(20.0), rel=1e-9)
