"""The 25-mode grid, the GMM loop model, the chains and data of Figs. 14 and 15, and their claims."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from support import quiet_one_thread_store

from madlib import chains, claims, data, gmm_studies, plotting, presets, tidy
from madlib.models.gmm import (GMMFit, GMMModel, density, fit_from_metrics, mixture_covariance, modal_variances,
                               modes_covered)

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
    metrics = model.evaluate(grid_fit(), 1.0, np.random.default_rng(7))
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


# the chains, the figures' plans and their data ------------------------------------------------------------------------
TINY = dict(n_ini=300, n_s=300, generations=2, replicates=2, seed=0, model={"n_eval": 100})


@pytest.fixture
def store(tmp_path):
    with quiet_one_thread_store(tmp_path) as folder:
        yield folder


def test_plans_at_smoke_are_the_same_chains_for_both_figures():
    fig14 = chains.plan("fig14_gmm_densities", "smoke")
    fig15 = chains.plan("fig15_gmm_diversity", "smoke")
    settings = presets.resolve("fig15_gmm_diversity", "smoke")
    assert len(fig14) == settings["replicates"] >= 2
    assert [c.key() for c in fig14] == [c.key() for c in fig15]  # one store entry per chain, read by both figures
    assert len({c.key() for c in fig14}) == len(fig14) and len({c.spec.seed for c in fig14}) == len(fig14)
    assert {c.family for c in fig14} == {"gmm"} and {c.spec.lam for c in fig14} == {1.0}
    assert [c.replicate for c in fig14] == list(range(len(fig14)))
    assert chains.plan("fig14_gmm_densities", "smoke", seed=1)[0].key() != fig14[0].key()  # the master seed counts


def test_the_preset_keys_are_the_build_arguments():
    import inspect

    for stem in ("fig14_gmm_densities", "fig15_gmm_diversity"):
        plan, build = chains._studies()[stem]
        for function in (plan, build):
            assert set(inspect.signature(function).parameters) == set(presets.resolve(stem, "smoke"))


def test_figures_read_their_computed_plan_and_hold_what_they_plot(store, monkeypatch, tmp_path_factory):
    fig14_settings = {**TINY, "shown": [1, 2, 2000]}  # a shown generation beyond the chains is dropped
    plan = chains.plan_settings("fig14_gmm_densities", fig14_settings)
    chains.compute(plan, jobs=1, store=store)
    computed = sorted(p.name for p in store.iterdir())

    def refuse(*args, **kwargs):
        raise AssertionError("a figure computed a chain after its plan was computed")

    monkeypatch.setattr(GMMModel, "fit", refuse)
    densities = chains.figure("fig14_gmm_densities", fig14_settings)
    diversity = chains.figure("fig15_gmm_diversity", TINY)
    assert sorted(p.name for p in store.iterdir()) == computed
    histories = chains.load(plan)
    assert not np.array_equal(histories[0][0]["weights"], histories[1][0]["weights"])  # independent chains

    # Fig. 14: the tidy data the claim reads, every chain's fitted mixture and density at the shown generations
    assert set(densities.data["metric"]) == {"modes_covered", "modes_lost"}
    assert (densities.data["replicates"] == 2).all()
    assert list(densities.arrays["shown"]) == [1, 2]
    axis = densities.arrays["grid_x"]
    assert densities.arrays["density"].shape == (2, 2, len(axis), len(densities.arrays["grid_y"]))
    assert np.array_equal(densities.arrays["mode_means"], MEANS)
    components = densities.frames["components"]
    assert len(components) == 2 * 2 * 25
    part = components[(components["replicate"] == 1) & (components["generation"] == 2)].sort_values("component")
    fit = fit_from_metrics(histories[1][1])
    assert np.allclose(part["weight"], fit.weights) and np.allclose(part[["mean_x", "mean_y"]], fit.means)
    assert np.allclose(part["cov_xy"], fit.covariances[:, 0, 1])
    x, y = np.meshgrid(axis, densities.arrays["grid_y"])
    assert np.allclose(densities.arrays["density"][1, 1], density(fit, x, y), rtol=1e-5, atol=1e-30)
    cell = (axis[1] - axis[0]) ** 2  # the grid holds (nearly) all of each fitted mixture's mass
    assert np.allclose(densities.arrays["density"].sum(axis=(2, 3)) * cell, 1.0, atol=0.02)
    covered = densities.frames["covered"]
    assert len(covered) == 2 * TINY["generations"]
    assert covered.loc[(covered["replicate"] == 1) & (covered["generation"] == 2), "modes_covered"].item() == \
        histories[1][1]["modes_covered"][0]
    assert "2 independent chain(s)" in densities.caption

    # Fig. 15: every metric per generation, the tracking summaries and the real values
    assert set(gmm_studies.METRICS) <= set(diversity.data["metric"])
    assert {f"track_{m}" for m in gmm_studies.TRACKED} <= set(diversity.data["metric"])
    assert dict(zip(diversity.frames["real"]["metric"], diversity.frames["real"]["value"])) == \
        gmm_studies.real_values()

    # the plots need only the saved files
    folder = tmp_path_factory.mktemp("data")
    for stem, result, draw in (("fig14_gmm_densities", densities, plotting.gmm_densities),
                               ("fig15_gmm_diversity", diversity, plotting.gmm_diversity)):
        result.save(folder, stem)
        back = tidy.FigureData.load(folder, stem)
        assert back.caption == result.caption and set(back.frames) == set(result.frames)
        plt.close(draw(back))


def test_standard_errors_between_chains_floored_by_the_evaluation_se(store):
    histories = chains.load(gmm_studies.gmm_chains(**TINY))
    data_frame = chains.figure("fig15_gmm_diversity", TINY).data
    recall = gmm_studies.values(histories, "recall")
    floor = np.sqrt((gmm_studies.values(histories, "recall_se") ** 2).mean(axis=0) / 2)
    between = recall.std(axis=0, ddof=1) / np.sqrt(2)
    rows = data_frame[data_frame["metric"] == "recall"].sort_values("generation")
    assert np.allclose(rows["mean"], recall.mean(axis=0)) and np.allclose(rows["sem"], np.fmax(between, floor))
    total = data_frame[data_frame["metric"] == "total_variance"].sort_values("generation")  # exact: no floor
    variance = gmm_studies.values(histories, "total_variance")
    assert np.allclose(total["sem"], variance.std(axis=0, ddof=1) / np.sqrt(2))
    single = chains.figure("fig15_gmm_diversity", {**TINY, "replicates": 1}).data  # replicate 0: the same chain
    assert np.allclose(single.loc[single["metric"] == "recall", "sem"], gmm_studies.values(histories, "recall_se")[0])
    assert single.loc[single["metric"] == "total_variance", "sem"].isna().all()


def test_rank_correlation_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 5, 50).astype(float), rng.normal(size=50)
    assert gmm_studies.rank_correlation(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert np.isnan(gmm_studies.rank_correlation(np.ones(5), b[:5]))


# claims ---------------------------------------------------------------------------------------------------------------
def fake_chains(covered: np.ndarray, recall: np.ndarray, modal: np.ndarray, total: np.ndarray):
    """Chains and their histories with given per-chain metric paths, shape (chains, generations)."""
    chain_list = chains.replicates("gmm", 0, covered.shape[0], variant="fully_synthetic",
                                   generations=covered.shape[1], n_ini=100, n_s=100)
    histories = []
    for r in range(covered.shape[0]):
        history = [{"modes_covered": covered[r, [g]], "recall": recall[r, [g]], "modal_variance": modal[r, [g]],
                    "total_variance": total[r, [g]]} for g in range(covered.shape[1])]
        histories.append([{**h, **{m: np.zeros(1) for m in gmm_studies.METRICS if m not in h}} for h in history])
    return chain_list, histories


def synthetic_loss(chains=4, generations=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(generations)
    covered = np.stack([np.maximum(25 - np.floor(t / (8 + r)), 3) for r in range(chains)])
    noise = lambda: rng.normal(0, 0.01, covered.shape)  # noqa: E731
    return covered, covered / 25 + noise(), covered * 2e-4 + noise() * 1e-3, 16 + rng.normal(0, 1, covered.shape)


def outcomes(checks):
    return [c.outcome for c in checks]


def test_fig14_and_fig15_claims_supported_on_data_showing_them():
    covered, recall, modal, total = synthetic_loss()
    fake = fake_chains(covered, recall, modal, total)
    assert outcomes(claims.check_fig14(gmm_studies.modes_frame(*fake))) == ["supported"] * 2
    assert outcomes(claims.check_fig15(gmm_studies.diversity_frame(*fake))) == ["supported"] * 4


def test_fig15_pools_chains_by_a_t_test_between_chains():
    """Each tracking check is a one-sample t test of the per-chain rank correlations: the SE is their spread between
    the chains, on chains - 1 degrees of freedom (as scipy's ttest_1samp computes it), one-sided at 0.05 / 4 (4
    checks)."""
    from scipy import stats

    covered, recall, modal, total = synthetic_loss(chains=10)
    frame = gmm_studies.diversity_frame(*fake_chains(covered, recall, modal, total))
    per_chain = [gmm_studies.rank_correlation(r, c) for r, c in zip(recall, covered)]
    row = frame[frame["metric"] == "track_recall"].iloc[0]
    assert row["replicates"] == 10 and row["sem"] == pytest.approx(np.std(per_chain, ddof=1) / np.sqrt(10))
    expected = stats.ttest_1samp(per_chain, 0.0).statistic
    check = claims.check_fig15(frame)[0]
    assert f"over 10 chains; z = {expected:+.2f} against ±{stats.t.ppf(1 - 0.05 / 4, 9):.2f}" in check.evidence
    assert "t on 9 df" in check.rule


def test_fig14_and_fig15_claims_contradicted_on_the_opposite():
    covered, recall, modal, total = synthetic_loss()
    regained = covered[:, ::-1]  # modes come back instead of going
    fake = fake_chains(regained, recall, modal, total)
    assert outcomes(claims.check_fig14(gmm_studies.modes_frame(*fake))) == ["contradicted"] * 2
    # recall and modal variance move against the modes, total variance with them
    rng = np.random.default_rng(2)
    swapped = fake_chains(covered, -covered + rng.normal(0, 0.01, covered.shape),
                          -covered + rng.normal(0, 0.01, covered.shape), covered + rng.normal(0, 0.01, covered.shape))
    assert outcomes(claims.check_fig15(gmm_studies.diversity_frame(*swapped))) == ["contradicted"] * 4


def test_fig14_and_fig15_claims_undecided_without_evidence_either_way():
    covered, recall, modal, total = synthetic_loss()
    flat = np.full_like(covered, 25.0)  # no mode is ever lost: no trend, and no spread to judge it by
    checks = claims.check_fig14(gmm_studies.modes_frame(*fake_chains(flat, recall, modal, total)))
    assert outcomes(checks) == ["undecided"] * 2
    one = synthetic_loss(chains=1)  # one chain: no SE between chains
    checks = claims.check_fig15(gmm_studies.diversity_frame(*fake_chains(*one)))
    assert outcomes(checks) == ["undecided"] * 4
    assert all(c.decide for c in checks)


def test_subsample_draws_rows_without_replacement():
    model = GMMModel()
    points = model.draw_real(50, np.random.default_rng(0))
    chosen = model.subsample(points, 20, np.random.default_rng(1))
    index = [int(np.flatnonzero(np.all(points == row, axis=1))[0]) for row in chosen]
    assert chosen.shape == (20, 2) and len(set(index)) == 20
    again = model.subsample(points, 20, np.random.default_rng(1))
    assert np.array_equal(chosen, again)
