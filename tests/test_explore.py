"""The Gaussian loop explorer (madlib.explore): each closed form against simulation within Monte-Carlo error (and a
wrong version of it rejected by the same test), the redraw function headless, the widgets without a front end, and
bad input."""

import inspect
import os
import warnings
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from scipy import stats

from madlib import explore, loops
from madlib.models.gaussian import simulate_loop

matplotlib.use("Agg")

Z = 4.0  # tolerance in standard errors (fixed seeds: each test's outcome is deterministic)
REPLICATES = 4000
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore_gaussian_loops.ipynb"


def z_scores(values: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """(mean over replicates - expected) / SE, per generation; values is (replicates, generations)."""
    se = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    return (values.mean(axis=0) - expected) / se


def spec(variant="fully_synthetic", lam=1.0, n_ini=10, n_r=0, n_s=10, generations=8, seed=1, memory=1,
         accumulate=False):
    return explore.loop_spec(variant, accumulate, memory, lam, n_ini, n_r, n_s, generations, seed)


# closed forms ------------------------------------------------------------------------------------------------------
def test_log_chi2_mean_matches_numerical_integration():
    for n in (2, 3, 5, 20, 101):
        k = n - 1
        numeric = stats.chi2(k).expect(lambda x: np.log(x / k))
        assert explore.log_chi2_mean(n) == pytest.approx(numeric, abs=1e-7)


MOMENT_CASES = {
    "fully synthetic, d=1, biased": (spec(lam=0.8, n_ini=10, n_s=20), 1),
    "fully synthetic, d=3, n_s < d": (spec(lam=1.0, n_ini=5, n_s=3), 3),
    "fully synthetic, d=4, strong bias": (spec(lam=0.5, n_ini=50, n_s=8), 4),
    "fresh data, d=3": (spec("fresh_data", lam=0.7, n_ini=10, n_r=5, n_s=20), 3),
    "fresh data, d=2, no synthetic data": (spec("fresh_data", lam=0.9, n_ini=4, n_r=6, n_s=0), 2),
    "augmentation, fixed set = generation 1's": (spec("synthetic_augmentation", lam=0.9, n_ini=10, n_r=10, n_s=20), 3),
    "augmentation, separate fixed set": (spec("synthetic_augmentation", lam=0.6, n_ini=30, n_r=4, n_s=6), 2),
}


@pytest.mark.parametrize("name", list(MOMENT_CASES))
def test_expected_trace_and_mean_error_match_simulation(name):
    loop, d = MOMENT_CASES[name]
    simulated = explore.simulate(loop, d, REPLICATES)
    forms = explore.expected_moments(loop, d)
    for metric in ("variance_kept", "mean_error"):
        z = z_scores(simulated[metric], forms[metric])
        assert np.all(np.abs(z) < Z), (metric, np.round(z, 2))


def test_fully_synthetic_moments_are_the_textbook_ones():
    """E tr Sigma_t = lam^(t-1) d and E|mu_t|^2 = d/n_ini + (d/n_s)(lam + ... + lam^(t-1)) (no simulation)."""
    lam, d, n_ini, n_s = 0.7, 5, 12, 9
    forms = explore.expected_moments(spec(lam=lam, n_ini=n_ini, n_s=n_s, generations=6), d)
    t = np.arange(1, 7)
    np.testing.assert_allclose(forms["variance_kept"], lam ** (t - 1))
    walk = np.array([sum(lam**j for j in range(1, k)) for k in t])
    np.testing.assert_allclose(forms["mean_error"], d / n_ini + d / n_s * walk)


def test_wrong_moments_are_rejected():
    """At these replicates the simulation tells lam^(t-1) from lam^t, the mean error with the random walk's steps
    from without them, and the synthetic augmentation loop (one real set, shared by every generation) from the
    fresh data loop with the same sizes."""
    lam, d = 0.8, 2
    loop = spec(lam=lam, n_ini=10, n_s=20)
    simulated = explore.simulate(loop, d, REPLICATES)
    t = np.arange(1, loop.generations + 1)
    assert np.abs(z_scores(simulated["variance_kept"], lam**t)).max() > Z
    assert np.abs(z_scores(simulated["mean_error"], np.full(len(t), d / loop.n_ini))).max() > Z
    fixed, d = MOMENT_CASES["augmentation, fixed set = generation 1's"]
    simulated = explore.simulate(fixed, d, REPLICATES)
    as_if_fresh = explore.expected_moments(spec("fresh_data", lam=fixed.lam, n_ini=fixed.n_ini, n_r=fixed.n_r,
                                                n_s=fixed.n_s), d)
    for metric in ("variance_kept", "mean_error"):
        assert np.abs(z_scores(simulated[metric], as_if_fresh[metric])).max() > Z, metric


TYPICAL_CASES = {
    "d=1, unbiased": (spec(lam=1.0, n_ini=5, n_s=5, generations=10), 1),
    "d=1, biased": (spec(lam=0.8, n_ini=20, n_s=4, generations=10), 1),
    "d=5, n_s < d": (spec(lam=0.9, n_ini=6, n_s=3, generations=10), 5),
    "d=20, unbiased": (spec(lam=1.0, n_ini=40, n_s=10, generations=12), 20),
}


@pytest.mark.parametrize("name", list(TYPICAL_CASES))
def test_typical_log_variance_matches_simulation(name):
    """Per replicate the mean of log Sigma_t[i, i] over coordinates; replicates are independent, so the SE between
    them is the right one whatever the correlation between coordinates."""
    loop, d = TYPICAL_CASES[name]
    simulated = explore.simulate(loop, d, REPLICATES)["log_typical_variance"]
    z = z_scores(simulated, explore.typical_log_variance(loop))
    assert np.all(np.abs(z) < Z), np.round(z, 2)


def test_wrong_typical_paths_are_rejected():
    """Small n_ini and n_s, where each ingredient of the formula matters: dropping generation 1's factor g(n_ini)
    (the closed form as if Sigma_1 were I), n_s in place of n_s - 1 degrees of freedom, and lam^t in place of
    lam^(t-1) each leave the simulation by more than Z standard errors."""
    loop, d = spec(lam=0.8, n_ini=4, n_s=4, generations=10), 3
    simulated = explore.simulate(loop, d, REPLICATES)["log_typical_variance"]
    right = explore.typical_log_variance(loop)
    steps = np.arange(loop.generations)
    wrong = {
        "no n_ini factor": right - explore.log_chi2_mean(loop.n_ini),
        "n_s degrees of freedom": right + steps * (explore.log_chi2_mean(loop.n_s + 1)
                                                   - explore.log_chi2_mean(loop.n_s)),
        "lam^t": right + np.log(loop.lam),
    }
    assert np.all(np.abs(z_scores(simulated, right)) < Z)
    for name, values in wrong.items():
        assert np.abs(z_scores(simulated, values)).max() > Z, name


def test_closed_forms_only_where_they_hold():
    assert set(explore.closed_forms(spec(), 3)) == {"variance_kept", "mean_error", "log_typical_variance"}
    assert set(explore.closed_forms(spec("fresh_data", n_r=5), 3)) == {"variance_kept", "mean_error"}
    assert set(explore.closed_forms(spec("synthetic_augmentation", n_r=5), 3)) == {"variance_kept", "mean_error"}
    assert explore.closed_forms(spec(memory=2), 3) == {}
    assert explore.closed_forms(spec("fresh_data", n_r=5, accumulate=True), 3) == {}


# the redraw function -----------------------------------------------------------------------------------------------
SMALL = dict(d=3, n_ini=20, n_r=10, n_s=15, generations=5, replicates=4)


@pytest.fixture
def no_writes(tmp_path, monkeypatch):
    """An empty run store, output folder and working directory; the test asserts they stay empty."""
    folders = [tmp_path / name for name in ("store", "out", "cwd")]
    for folder in folders:
        folder.mkdir()
    monkeypatch.setenv("MADLIB_STORE", str(folders[0]))
    monkeypatch.setenv("MADLIB_OUT", str(folders[1]))
    monkeypatch.chdir(folders[2])
    yield folders
    for folder in folders:
        assert not any(folder.iterdir()), f"exploring wrote into {folder}"


@pytest.mark.parametrize("variant", loops.VARIANTS)
@pytest.mark.parametrize("accumulate, memory", [(False, 1), (True, 1), (False, 3)])
def test_redraw_draws_every_loop_and_writes_nothing(variant, accumulate, memory, no_writes):
    result = explore.redraw(variant=variant, accumulate=accumulate, memory=memory, lam=0.9, **SMALL)
    axes = result.figure.axes
    assert [ax.get_title() for ax in axes] == list(explore.PANELS)
    assert all(ax.lines for ax in axes)
    data = result.data
    assert set(data["metric"]) == set(explore.METRICS)
    for _, rows in data.groupby("metric"):
        assert list(rows["generation"]) == list(range(1, SMALL["generations"] + 1))
    assert set(data["replicates"]) == {SMALL["replicates"]} and set(data["d"]) == {SMALL["d"]}
    assert set(data["variant"]) == {variant} and set(data["accumulate"]) == {accumulate}
    has_form = set(data.loc[data["closed_form"].notna(), "metric"])
    if memory == 1 and not accumulate:
        assert {"variance_kept", "mean_error"} <= has_form
    else:
        assert has_form == set()
    matplotlib.pyplot.close(result.figure)


def test_redraw_goes_through_the_engine():
    """The WD drawn is the engine's (simulate_loop with the same spec and seed), averaged over replicates."""
    settings = dict(variant="fresh_data", lam=0.8, n_ini=12, n_r=6, n_s=30, generations=6, seed=3)
    result = explore.redraw(d=4, replicates=5, **settings)
    engine = simulate_loop(d=4, replicates=5, **settings)
    wd = result.data[result.data["metric"] == "wd"]
    np.testing.assert_allclose(wd["mean"], engine.mean(axis=0))
    np.testing.assert_allclose(wd["sem"], engine.std(axis=0, ddof=1) / np.sqrt(5))
    matplotlib.pyplot.close(result.figure)


def test_generation_one_is_worth_its_n_ini_real_samples():
    """n_e at generation 1 (a fit on n_ini real samples) recovers n_ini within its error and the curve's (~2%)."""
    result = explore.redraw(variant="fully_synthetic", d=20, n_ini=200, n_s=200, generations=2, replicates=100)
    first = result.data[(result.data["metric"] == "n_e") & (result.data["generation"] == 1)].iloc[0]
    assert abs(first["mean"] - 200) < Z * first["sem"] + 0.05 * 200, (first["mean"], first["sem"])
    matplotlib.pyplot.close(result.figure)


def test_the_fully_synthetic_loop_ignores_n_r_and_lam_zero_draws_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = explore.redraw(variant="fully_synthetic", lam=0.0, **SMALL)
    assert set(result.data["n_r"]) == {0}
    kept = result.data[result.data["metric"] == "variance_kept"]
    assert np.all(kept["mean"].iloc[1:] == 0) and np.all(kept["closed_form"].iloc[1:] == 0)
    matplotlib.pyplot.close(result.figure)


@pytest.mark.parametrize("field, value, message", [
    ("variant", "replace", "variant: must be one of fully_synthetic, synthetic_augmentation, fresh_data"),
    ("lam", 1.5, "lam: the sampling bias must be a number in [0, 1]"),
    ("memory", 0, "memory: must be an integer >= 1"),
    ("accumulate", "yes", "accumulate: must be True or False"),
    ("n_ini", 1, "n_ini: must be an integer >= 2"),
    ("n_s", 1, "n_s: a fully synthetic loop trains on synthetic data only, so n_s >= 2"),
    ("generations", 0, "generations: must be an integer >= 1"),
    ("d", 0, "d: must be an integer >= 1"),
    ("replicates", 2.5, "replicates: must be an integer >= 1"),
    ("seed", -1, "seed: must be an integer >= 0"),
])
def test_bad_input_is_one_clear_error(field, value, message):
    with pytest.raises(ValueError) as error:
        explore.redraw(**{field: value})
    assert str(error.value).startswith(message)


# widgets -----------------------------------------------------------------------------------------------------------
def test_controls_cover_every_argument_of_redraw_with_the_expected_ranges():
    pytest.importorskip("ipywidgets")
    controls = explore.controls()
    assert list(controls) == list(inspect.signature(explore.redraw).parameters)
    assert {name: c.value for name, c in controls.items()} == explore.DEFAULTS
    assert [value for _, value in controls["variant"].options] == list(loops.VARIANTS)
    assert (controls["lam"].min, controls["lam"].max) == (0.0, 1.0)
    assert (controls["memory"].min, controls["memory"].max) == explore.CONTROLS["memory"]
    assert (controls["generations"].min, controls["generations"].max) == explore.CONTROLS["generations"]
    assert (controls["replicates"].min, controls["replicates"].max) == explore.CONTROLS["replicates"]
    assert tuple(controls["n_s"].options) == (0,) + explore.SIZES
    assert tuple(controls["d"].options) == explore.CONTROLS["d"]
    assert all(c.continuous_update is False for c in controls.values() if hasattr(c, "continuous_update"))
    assert explore.controls(n_s=900)["n_s"].value == 900  # a value off the choices is added to them


def test_changing_a_control_redraws():
    pytest.importorskip("ipywidgets")
    calls = []
    controls = explore.controls(lam=0.9)
    explore.layout(controls, draw=lambda **values: calls.append(values))
    assert calls == [{**explore.DEFAULTS, "lam": 0.9}]  # drawn once at the start
    controls["lam"].value = 0.5
    controls["variant"].value = "fresh_data"
    assert calls[-2]["lam"] == 0.5 and calls[-1] == {**explore.DEFAULTS, "lam": 0.5, "variant": "fresh_data"}


def test_the_widget_callback_reports_a_bad_combination_instead_of_failing(capsys):
    explore.show(variant="fully_synthetic", n_s=0)
    assert "Not drawn: n_s: a fully synthetic loop" in capsys.readouterr().out


def test_missing_ipywidgets_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        explore.controls()


# the notebook ------------------------------------------------------------------------------------------------------
def test_the_notebook_starts_at_the_explorers_defaults():
    """Its parameters cell sets every argument of redraw to the value of explore.DEFAULTS."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1
    values = {}
    exec(parameters[0].source, {}, values)
    assert values == explore.DEFAULTS
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert os.path.exists(NOTEBOOK.with_suffix(".py"))
