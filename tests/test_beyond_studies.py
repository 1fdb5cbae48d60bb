"""Fig. X1 (beyond the paper): its chains, its tidy data and its plot; the claims are tested in test_claims.py."""

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest
from support import quiet_one_thread_store

from madlib import beyond_studies, chains, data, plotting, presets, tidy
from madlib.models.gmm import GMMFit

STEM = beyond_studies.STEM


@pytest.fixture
def store(tmp_path):
    with quiet_one_thread_store(tmp_path) as folder:
        yield folder


def test_the_preset_keys_are_the_build_arguments():
    plan, build = chains._studies()[STEM]
    for function in (plan, build):
        assert set(inspect.signature(function).parameters) == set(presets.resolve(STEM, "smoke"))


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_the_plan_runs_each_loop_at_one_training_size(preset):
    settings = presets.resolve(STEM, preset)
    plan = chains.plan(STEM, preset)
    gaussian_rows = len(settings["gaussian"]["d_values"])
    assert len(plan) == 4 * gaussian_rows + 4 * settings["gmm"]["replicates"]
    assert len({c.key() for c in plan}) == len(plan)
    for model in {c.labels["model"] for c in plan}:  # independent chains within a row (rows are judged apart)
        seeds = [c.spec.seed for c in plan if c.labels["model"] == model]
        assert len(set(seeds)) == len(seeds)
    for chain in plan:
        spec, loop = chain.spec, chain.labels["loop"]
        n = spec.n_ini
        assert spec.lam == 1.0 and spec.memory == 1
        assert (spec.variant, spec.accumulate) == {"replace": ("fully_synthetic", False),
                                                   "accumulate": ("synthetic_augmentation", True),
                                                   "accumulate-subsample": ("synthetic_augmentation", True),
                                                   "fresh data": ("fresh_data", False)}[loop]
        assert spec.n_s == (n if loop != "fresh data" else n - spec.n_r)
        assert spec.pool_size == (n if loop == "accumulate-subsample" else None)
        if loop.startswith("accumulate"):
            assert spec.n_r == n
        if chain.family == "gaussian":  # only accumulate-subsample needs the samples themselves
            assert chain.model["method"] == ("direct" if loop == "accumulate-subsample" else "exact")


def test_mismatched_gaussian_rows_are_refused():
    settings = presets.resolve(STEM, "smoke", overrides={"gaussian": {"n_values": [20]}})
    with pytest.raises(ValueError, match="^gaussian: d_values, n_values and replicate_values pair up"):
        chains.plan_settings(STEM, settings)


def test_gmm_values_of_the_real_mixture():
    """The 25-mode grid itself: no error of the mean, all its variance, MW2 = 0."""
    k = len(data.GRID_MODE_MEANS)
    fit = GMMFit(np.full(k, 1 / k), data.GRID_MODE_MEANS, np.broadcast_to(data.GRID_MODE_STD**2 * np.eye(2), (k, 2, 2)))
    metrics = {"weights": fit.weights, "means": fit.means.ravel(), "covariances": fit.covariances.ravel(),
               "total_variance": np.array([16 + 2 * data.GRID_MODE_STD**2])}
    values = beyond_studies.gmm_values([metrics, metrics])
    assert values["wd"].shape == (1, 2)
    assert np.allclose(values["wd"], 0.0, atol=1e-6) and np.allclose(values["mean_error"], 0.0, atol=1e-12)
    assert np.allclose(values["variance_kept"], 1.0) and np.allclose(values["log_variance_kept"], 0.0)


def test_the_figure_reads_its_plan_and_summarises_every_loop(store, tmp_path_factory):
    settings = presets.resolve(STEM, "smoke")
    plan = chains.plan(STEM, "smoke")
    chains.compute(plan, jobs=1, store=store)
    computed = sorted(p.name for p in store.iterdir())
    result = chains.figure(STEM, settings)
    assert sorted(p.name for p in store.iterdir()) == computed  # nothing beyond the plan
    df = result.data
    models = ["Gaussian d=1", "Gaussian d=4", beyond_studies.GMM_LABEL]
    assert list(dict.fromkeys(df["model"])) == models
    for model in models:
        part = df[df["model"] == model]
        assert list(dict.fromkeys(part["loop"])) == list(beyond_studies.LOOPS)
        last = int(part["generation"].max())
        for loop in beyond_studies.LOOPS:
            rows = part[part["loop"] == loop]
            assert len(rows) == len(beyond_studies.METRICS) * last + len(beyond_studies.LATE_RISE)
            wd = rows[rows["metric"] == "wd"].set_index("generation")["mean"]
            rise = rows[rows["metric"] == "wd_late_rise"].iloc[0]
            assert (rise["from_generation"], rise["to_generation"]) == (last // 2, last)
            assert rise["mean"] == pytest.approx(wd[last] - wd[last // 2])  # the mean of paired differences
    gaussian = chains.load(plan[:4])  # Gaussian d=1: replace, accumulate, subsample, fresh (batched replicates)
    wd = np.stack([h["wd"] for h in gaussian[0]], axis=1)
    first = df[(df["model"] == "Gaussian d=1") & (df["loop"] == "replace") & (df["metric"] == "wd")]
    assert np.allclose(first.sort_values("generation")["mean"], wd.mean(axis=0))
    assert np.allclose(first.sort_values("generation")["sem"], wd.std(axis=0, ddof=1) / np.sqrt(wd.shape[0]))
    gmm = df[df["model"] == beyond_studies.GMM_LABEL]
    assert (gmm["replicates"] == settings["gmm"]["replicates"]).all() and (gmm["d"] == 2).all()

    folder = tmp_path_factory.mktemp("data")  # the plot needs only the saved files
    result.save(folder, STEM)
    fig = plotting.figX1(tidy.FigureData.load(folder, STEM))
    assert len(fig.axes) == 3 * len(plotting.X1_PANELS)
    plt.close(fig)


# Fig. X2: each model's own sampling bias ------------------------------------------------------------------------------
X2 = beyond_studies.X2_STEM


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_x2_reads_only_chains_other_figures_compute(preset):
    plan = chains.plan(X2, preset)
    others = {c.key() for stem in presets.FIGURES if stem != X2 for c in chains.plan(stem, preset)}
    assert plan and {c.key() for c in plan} <= others  # the run store computes nothing for Fig. X2 alone
    assert {c.labels["model"] for c in plan} == {s["model"] for s in presets.resolve(X2, preset)["sources"]}
    assert all(c.spec.variant == "fully_synthetic" and not c.spec.accumulate for c in plan)
    lams = {(c.labels["model"], c.spec.lam) for c in plan}
    assert {("DDPM", 1.0), ("style GAN", 1.0), ("WGAN-GP", 1.0), ("Gaussian", 0.8)} <= lams


def test_x2_sources_that_match_nothing_are_refused():
    settings = presets.resolve(X2, "smoke")
    settings["sources"] = [dict(model="DDPM", figure="fig16_ddpm_more_generations", family="gan")]
    with pytest.raises(ValueError, match="^sources: no fully synthetic chain of fig16_ddpm_more_generations"):
        beyond_studies.figX2_plan(**settings)


def test_effective_lam_is_the_geometric_mean_with_the_larger_se():
    values = np.array([[0.8, 0.9, 0.85, 0.95]])
    mean, sem, dof = beyond_studies.effective_lam(values, np.full((1, 4), 1e-6))
    logs = np.log(values[0])
    assert mean == pytest.approx(logs.mean()) and dof == 3
    assert sem == pytest.approx(logs.std(ddof=1) / 2)  # between generations dominates the tiny evaluation SE
    _, floor, _ = beyond_studies.effective_lam(np.full((1, 4), 0.9), np.full((1, 4), 0.09))
    assert floor == pytest.approx(0.1 / 2)  # identical values: the evaluation SE (10% each, over 4 generations)
    replicated = np.exp(np.random.default_rng(0).normal(np.log(0.9), 0.05, size=(50, 6)))
    mean, sem, dof = beyond_studies.effective_lam(replicated, None)
    assert dof == 49 and sem == pytest.approx(np.log(replicated).mean(1).std(ddof=1) / np.sqrt(50))


def test_x2_frame_on_a_gaussian_and_a_fake_image_chain(store):
    """The unbiased Gaussian keeps exactly lam of its own training set; an image chain's dispersions (faked here as
    stored metrics) give per-generation rows and the effective-lam rows, cut at the figure's generations."""
    gaussian = [chains.make("gaussian", 0, model=dict(d=3, replicates=4), labels={"model": "Gaussian"},
                            variant="fully_synthetic", generations=5, n_ini=20, n_s=20, lam=lam) for lam in (1.0, 0.8)]
    histories = chains.load(gaussian)
    image = chains.make("ddpm", 0, labels={"model": "DDPM"}, variant="fully_synthetic", generations=4, n_ini=20,
                        n_s=20)
    fake = [{name: np.array([value]) for name, value in (("dispersion_train", 0.8), ("dispersion_train_se", 0.01),
                                                          ("dispersion_real", 0.8 ** (g + 1)),
                                                          ("dispersion_real_se", 0.01),
                                                          ("pixel_dispersion_train", 0.9),
                                                          ("pixel_dispersion_train_se", 0.01),
                                                          ("pixel_dispersion_real", 0.9 ** (g + 1)),
                                                          ("pixel_dispersion_real_se", 0.01))} for g in range(4)]
    df = beyond_studies.figX2_frame(gaussian + [image], histories + [fake], generations=3)
    effective = df[df["metric"] == "effective_lam"].set_index(["model", "lam"])
    assert effective.loc[("Gaussian", 1.0), "mean"] == pytest.approx(1.0)
    assert effective.loc[("Gaussian", 0.8), "mean"] == pytest.approx(0.8)
    assert effective.loc[("DDPM", 1.0), "mean"] == pytest.approx(0.8)
    assert effective.loc[("DDPM", 1.0), "to_generation"] == 3 and effective.loc[("DDPM", 1.0), "dof"] == 2
    pixel = df[df["metric"] == "pixel_effective_lam"]
    assert pixel["mean"].tolist() == pytest.approx([0.9])
    assert df["generation"].max() == 3
    assert set(df.loc[df["model"] == "Gaussian", "metric"]) == {"dispersion_train", "dispersion_real",
                                                                "effective_lam"}
    fig = plotting.figX2(tidy.FigureData(df, caption="test"))
    assert len(fig.axes) == 3
    plt.close(fig)
