"""The Gaussian studies (Figs. S1, 10, 11, 12, 30, 31): their plans, their build functions at tiny sizes (reading
exactly the planned chains), the chains figures share, and the statistics the builds compute."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from support import quiet_one_thread_store

from madlib import chains, claims, loops, plotting, presets, tidy
from madlib import gaussian_studies as gs

GAUSSIAN_STEMS = ["figS1_gaussian_collapse", "fig11_admissible_nr_ns", "fig12_admissible_lam_ns", "fig30_memory",
                  "fig31_real_fraction"]
PLOTS = {"figS1_gaussian_collapse": plotting.figS1, "fig10_fresh_data_limit": plotting.fig10,
         "fig11_admissible_nr_ns": plotting.admissibility_map, "fig12_admissible_lam_ns": plotting.admissibility_map,
         "fig30_memory": plotting.fig30, "fig31_real_fraction": plotting.fig31}


@pytest.fixture
def store(tmp_path):
    with quiet_one_thread_store(tmp_path / "store") as folder:
        yield folder


def smoke(stem, **changes):
    settings = presets.resolve(stem, "smoke")
    settings.update(changes)
    return settings


def keys(plan):
    return [c.key() for c in plan]


# Plans ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stem", GAUSSIAN_STEMS + ["fig10_fresh_data_limit"])
def test_every_plan_at_smoke_is_nonempty_with_distinct_chains(stem):
    plan = chains.plan(stem, "smoke")
    assert plan and len(set(keys(plan))) == len(plan)
    assert keys(chains.plan(stem, "smoke")) == keys(plan)  # planning is deterministic


def test_fig10_plans_the_gaussian_chains_and_the_ddpm_chains():
    settings = presets.resolve("fig10_fresh_data_limit", "smoke")
    plan = chains.plan_settings("fig10_fresh_data_limit", settings)
    gaussian = [c for c in plan if c.family == "gaussian"]
    assert len(gaussian) == len(settings["lam_values"]) * len(settings["n_ini_values"])
    assert {c.family for c in plan} == {"gaussian", "ddpm"}
    ddpm = [c for c in plan if c.family == "ddpm"]
    assert sorted({c.spec.n_ini for c in ddpm}) == sorted(settings["ddpm"]["n_ini_values"])


def test_each_fresh_data_start_has_its_own_seed():
    plan = gs.fig10_plan(**smoke("fig10_fresh_data_limit", ddpm=None))
    assert len({c.spec.seed for c in plan}) == len(plan)
    # one chain per setting, its replicates batched inside the run
    assert all(c.model == {"d": 10, "replicates": 32} and c.replicate == 0 for c in plan)


@pytest.mark.parametrize("stem", ["fig11_admissible_nr_ns", "fig12_admissible_lam_ns", "fig30_memory",
                                  "fig31_real_fraction"])
def test_limit_chains_are_as_long_as_the_rule_says(stem):
    settings = presets.resolve(stem, "smoke")
    rule = gs.LimitRule(**settings["rule"])
    for chain in chains.plan(stem, "smoke"):
        spec = chain.spec
        burn_in, generations = rule.generations(spec.n_r, spec.n_s, spec.memory)
        assert spec.variant == "fresh_data" and spec.generations == generations == burn_in + rule.window
        assert spec.n_ini == spec.n_r + spec.n_s


def test_figures_showing_the_same_setting_share_its_chain():
    fig11, fig12, fig30 = (chains.plan(stem, "default") for stem in
                           ("fig11_admissible_nr_ns", "fig12_admissible_lam_ns", "fig30_memory"))
    shared = [c for c in fig12 if c.spec.lam == 0.9]  # n_r = 1000 and lam = 0.9 are cells of Fig. 11 too
    assert set(keys(fig11)) & set(keys(fig12)) == set(keys(shared)) and len(shared) == 7
    no_memory = [c for c in fig30 if c.spec.memory == 1]  # K = 1 is Fig. 12's lam = 1, n_s = 10^4 cell
    assert len(no_memory) == 1 and no_memory[0].key() in keys(fig12)


def test_fig31_plans_a_setting_of_both_panels_once():
    settings = presets.resolve("fig31_real_fraction", "smoke")
    plan = gs.fig31_plan(**settings)
    n = len(settings["n_values"])
    assert len(plan) == n * len(settings["p_values"]) + n * (len(settings["lam_values"]) - 1)


# Builds ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stem", GAUSSIAN_STEMS + ["fig10_fresh_data_limit"])
def test_build_reads_its_plan_and_the_saved_data_redraws_the_figure(stem, store, tmp_path, monkeypatch):
    settings = smoke(stem, ddpm=None) if stem == "fig10_fresh_data_limit" else smoke(stem)
    chains.compute(chains.plan_settings(stem, settings), jobs=1, store=store)

    def no_computing(*args, **kwargs):
        raise AssertionError("the build computed a chain its plan did not have")

    monkeypatch.setattr(loops, "run", no_computing)
    result = chains.figure(stem, settings)
    assert result.caption
    result.save(tmp_path / "data", stem)
    loaded = tidy.FigureData.load(tmp_path / "data", stem)
    assert set(loaded.frames) == set(result.frames) and len(loaded.data) == len(result.data)
    PLOTS[stem](loaded)
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path / "out"))
    assert claims.check(stem, loaded.data, presets.output("smoke"))["verdict"] == "not assessed"


def test_fig10_limits_carry_their_window_and_its_drift(store):
    """The wd_limit rows are fresh_limit's per-replicate window averages, with its drift z-score (the claim's test of
    the window for a trend), the window and the replicate count."""
    settings = smoke("fig10_fresh_data_limit", ddpm=None)
    result = gs.fig10(**settings)
    plan = gs.fig10_plan(**settings)
    limits = result.data[result.data["metric"] == "wd_limit"]
    assert len(limits) == len(plan)
    for chain, history in zip(plan, chains.load(plan)):
        values, drift_z = gs.fresh_limit(history, settings["window"])
        row = limits[(limits["lam"] == chain.spec.lam) & (limits["n_ini"] == chain.spec.n_ini)].iloc[0]
        assert row["mean"] == pytest.approx(values.mean()) and row["drift_z"] == pytest.approx(drift_z)
        assert (row["window"], row["replicates"]) == (settings["window"], settings["replicates"])


def test_figS1_data_has_every_metric_and_the_walks(store):
    settings = smoke("figS1_gaussian_collapse", generations=4, replicates=6)
    result = gs.figS1(**settings)
    assert set(result.data["metric"]) == set(gs.COLLAPSE_METRICS)
    assert set(result.data["replicates"]) == {6}
    walks = result.frames["walks"]
    assert len(walks) == len(settings["lam_values"]) * len(settings["n_s_values"]) * 5 * 4
    # the walks are the first replicates' paths whose mean over all replicates is the tidy mean_1
    one = walks[(walks["lam"] == 1.0) & (walks["n_s"] == 20) & (walks["generation"] == 1)]
    assert len(one) == 5 and np.isfinite(one["mean_1"]).all()


def test_limit_figures_carry_the_edge_the_curve_and_the_panel(store):
    fig11 = gs.fig11(**smoke("fig11_admissible_nr_ns"))
    edge = fig11.frames["edge"]
    assert list(edge.columns) == ["n_r", "largest_admissible_n_s"]
    assert edge.set_index("n_r")["largest_admissible_n_s"].to_dict() == claims.thresholds(fig11.data, "n_r")
    curve = fig11.frames["real_fit_curve"]
    assert (np.diff(curve["n"]) > 0).all() and curve["mean"].iloc[0] > curve["mean"].iloc[-1]
    assert set(fig11.data["metric"]) == {"wd_limit", "n_e", "n_e_over_n_r"}
    fig31 = gs.fig31(**smoke("fig31_real_fraction"))
    assert set(fig31.data["p_fixed"]) == {0.5} and set(fig31.data["metric"]) == {"wd_limit"}


def test_fig10_merges_the_ddpm_panel_under_its_model_name(store, monkeypatch):
    """The DDPM part through ddpm_studies' functions (faked here: the DDPM is slow): its rows get model "DDPM", the
    Gaussian rows model "Gaussian", its description joins the caption, and the plot draws a third panel."""
    from madlib import ddpm_studies

    calls = {}

    def fake_fresh_data(n_ini_values, lam, generations, n_r, n_s, seed, model):
        calls["fresh_data"] = dict(n_ini_values=n_ini_values, lam=lam, seed=seed, model=model)
        rows = [{"variant": "fresh_data", "lam": lam, "n_ini": n_ini, "n_r": n_r, "n_s": n_s, "generation": g,
                 "metric": "fid", "mean": 10.0 + g, "sem": 0.5} for n_ini in n_ini_values
                for g in range(1, generations + 1)]
        return tidy.frame(rows)

    def fake_limits(df, by, metric="fid", window=3):
        calls["window"] = window
        return tidy.frame([tidy.summary_row({"n_ini": key, "window": window}, f"{metric}_limit",
                                            g["mean"].to_numpy()[-window:])
                           for key, g in df[df["metric"] == metric].groupby(by)])

    monkeypatch.setattr(ddpm_studies, "fresh_data", fake_fresh_data, raising=False)
    monkeypatch.setattr(ddpm_studies, "limits", fake_limits, raising=False)
    monkeypatch.setattr(ddpm_studies, "describe", lambda model, **sizes: "a tiny DDPM", raising=False)
    settings = smoke("fig10_fresh_data_limit", generations=4, window=2, seed=3)
    result = gs.fig10(**settings)
    assert calls["fresh_data"]["seed"] == 3 and calls["window"] == settings["ddpm"]["window"]
    assert "window" not in calls["fresh_data"] and calls["fresh_data"]["model"] == settings["ddpm"]["model"]
    assert set(result.data["model"]) == {"Gaussian", "DDPM"} and result.caption.endswith("a tiny DDPM")
    assert set(result.data.loc[result.data["model"] == "DDPM", "metric"]) == {"fid", "fid_limit"}
    assert len(plotting.fig10(result).axes) == len(settings["lam_values"]) + 1
    assert claims.check_fig10(result.data)  # the Gaussian and the DDPM checks read the merged table


# Statistics -----------------------------------------------------------------------------------------------------------
def test_without_synthetic_data_the_effective_sample_size_is_n_r(store):
    """n_s = 0: every generation is a fit on n_r fresh real samples, so the limit is the reference curve at n_r and
    n_e / n_r = 1 (within its SE). Checks the limit, the curve and their inversion (eq. 4) together."""
    result = gs.fig30(d=5, n_r=50, n_s=0, lam=1.0, memory_values=[1], replicates=64, curve_replicates=400,
                      rule={"burn_in_tau": 2, "window": 30, "max_generations": 100}, seed=0)
    ratio = result.data[result.data["metric"] == "n_e_over_n_r"].iloc[0]
    assert abs(ratio["mean"] - 1.0) < 4 * ratio["sem"] and ratio["sem"] < 0.1


def test_the_reference_curve_draws_from_its_own_stream():
    a, b, c = (gs.RealFitCurve.compute(3, 20, seed, high=1000, points=8) for seed in (0, 0, 1))
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.array_equal(a.mean, c.mean)
    expected = np.random.SeedSequence([0, gs.REAL_FIT_CURVE]).generate_state(1)[0]
    from madlib.models.gaussian import wd_of_real_fits

    np.testing.assert_allclose(a.mean, wd_of_real_fits(3, a.sizes, 20, seed=int(expected)).mean(axis=0))


def test_drift_z_flags_a_window_that_is_still_moving():
    rng = np.random.default_rng(0)
    steady = [{"wd": rng.normal(1.0, 0.1, 16)} for _ in range(20)]
    falling = [{"wd": rng.normal(1.0, 0.1, 16) + 0.5 * (20 - t) / 20} for t in range(20)]
    assert abs(gs.fresh_limit(steady, 10)[1]) < 4 and gs.fresh_limit(falling, 10)[1] > 4
    limits, _ = gs.fresh_limit(steady, 10)
    np.testing.assert_allclose(limits, np.stack([h["wd"] for h in steady[-10:]]).mean(axis=0))
