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
