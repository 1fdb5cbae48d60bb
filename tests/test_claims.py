"""Claim checks: each can fail, and each reads the evidence off the tidy data it is given."""

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from madlib import claims, presets, tidy


def rows(metric, values, sem=0.01, **columns):
    """A tidy frame with one row per value; the other columns are given as equal-length lists or scalars."""
    n = len(values)
    data = {k: (v if isinstance(v, list) else [v] * n) for k, v in columns.items()}
    return pd.DataFrame({**data, "generation": np.nan, "metric": metric, "mean": values, "sem": sem})


def test_admissible_threshold_interpolates_where_the_ratio_crosses_one():
    n_s = np.array([100, 1000, 10000])
    assert claims.admissible_threshold(n_s, np.array([1.5, 1.2, 1.1])) == np.inf
    assert claims.admissible_threshold(n_s, np.array([0.9, 0.5, 0.2])) == 0.0
    assert claims.admissible_threshold(n_s, np.array([2.0, 0.0, 0.0])) == pytest.approx(np.sqrt(100 * 1000))


def fig10_frame(limits, starts, drift_z=(0.3, -1.1, 0.6), replicates=200):
    """A Gaussian panel (lam = 1): WD at generations 1 and 2 and the limit rows gaussian_studies.fig10 writes."""
    frames = []
    for n_ini, limit, start, drift in zip([100, 1000, 10000], limits, starts, drift_z):
        frames.append(rows("wd_limit", [limit], lam=1.0, n_ini=n_ini, window=30, replicates=replicates,
                           drift_z=drift))
        curve = rows("wd", [start, limit], lam=1.0, n_ini=n_ini)
        curve["generation"] = [1, 2]
        frames.append(curve)
    return pd.concat(frames, ignore_index=True)


def test_fig10_holds_for_equal_limits_and_fails_for_different_ones():
    converged, same = claims.check_fig10(fig10_frame([1.00, 1.01, 0.99], [5.0, 2.0, 1.0]))
    assert converged.holds and same.holds
    converged, same = claims.check_fig10(fig10_frame([1.00, 1.20, 1.40], [5.0, 2.0, 1.0]))
    assert converged.holds and not same.holds


def test_fig10_gaussian_panel_fails_as_not_converged_when_a_window_drifts():
    """Bonferroni over the 3 chains at the two-sided 5% level, 199 df: |drift_z| above t(1 - 0.05/6, 199) ~ 2.41."""
    critical = stats.t.ppf(1 - 0.05 / 6, 199)
    assert claims.trend_critical(199, 3) == pytest.approx(critical)
    below = claims.check_fig10(fig10_frame([1.0, 1.0, 1.0], [5.0, 2.0, 1.0], drift_z=(0.3, critical - 0.01, 0.6)))
    assert all(c.holds for c in below)
    converged, same = claims.check_fig10(fig10_frame([1.0, 1.0, 1.0], [5.0, 2.0, 1.0],
                                                     drift_z=(0.3, -critical - 0.01, 0.6)))
    assert not converged.holds and not same.holds and same.evidence.startswith("does not hold: not converged")
    without = fig10_frame([1.0, 1.0, 1.0], [5.0, 2.0, 1.0]).drop(columns="drift_z")  # data that cannot show it
    assert not any(c.holds for c in claims.check_fig10(without))


def test_fig12_needs_the_threshold_to_grow_with_lam():
    n_s = [100, 1000, 10000] * 4
    lam = [0.8] * 3 + [0.9] * 3 + [0.99] * 3 + [1.0] * 3
    growing = [1.2, 0.8, 0.3, 1.5, 1.1, 0.6, 1.8, 1.5, 1.1, 1.9, 1.6, 1.2]  # the last two admit every n_s
    assert all(c.holds for c in claims.check_fig12(rows("n_e_over_n_r", growing, n_s=n_s, lam=lam)))
    shrinking = [1.9, 1.6, 1.2, 1.8, 1.5, 1.1, 1.5, 1.1, 0.6, 1.2, 0.8, 0.3]
    assert not any(c.holds for c in claims.check_fig12(rows("n_e_over_n_r", shrinking, n_s=n_s, lam=lam)))


def fig30_frame(values):
    k = [1, 2, 4, 8, 16]
    return rows("n_e_over_n_r", values, sem=0.005, memory=k, n_r=1000, n_s=10000, lam=1.0)


def test_fig30_sees_diminishing_returns_only_when_they_are_there():
    concave = [c.holds for c in claims.check_fig30(fig30_frame([2.0, 2.6, 3.1, 3.5, 3.8]))]
    assert concave == [True, True]
    linear = [c.holds for c in claims.check_fig30(fig30_frame([2.0, 2.1, 2.3, 2.7, 3.5]))]
    assert linear == [True, False]
    falling = [c.holds for c in claims.check_fig30(fig30_frame([2.0, 1.8, 1.6, 1.5, 1.4]))]
    assert falling[0] is False


def fig31_frame(biased_floor):
    n = np.array([100, 1000, 10000, 100000])
    frames = []
    for p, scale in [(1.0, 1.0), (0.5, 1.5)]:
        frames.append(rows("wd_limit", list(scale * 10 / np.sqrt(n)), sem=0.001, p_real=p, lam=1.0, n=list(n)))
    frames.append(rows("wd_limit", list(1.5 * 10 / np.sqrt(n) + biased_floor), sem=0.001, p_real=0.5, lam=0.9, n=list(n)))
    return pd.concat(frames, ignore_index=True)


def test_fig31_flattening_requires_a_floor_under_bias():
    assert all(c.holds for c in claims.check_fig31(fig31_frame(0.3), p_panel=0.5))
    assert not claims.check_fig31(fig31_frame(0.0), p_panel=0.5)[-1].holds


def test_fig31_reads_the_right_panels_real_fraction_off_the_data():
    """gaussian_studies.fig31 writes the right panel's p in a p_fixed column: the check reads it when not given."""
    data = pd.concat([fig31_frame(0.3), rows("wd_limit", [1.0, 0.9, 0.8, 0.7], sem=0.001, p_real=0.25, lam=1.0,
                                             n=[100, 1000, 10000, 100000])], ignore_index=True)
    with pytest.raises(ValueError):  # without the column the smallest p (0.25, no lam < 1 there) is taken
        claims.check_fig31(data)
    given = [asdict(c) for c in claims.check_fig31(data, p_panel=0.5)]
    assert [asdict(c) for c in claims.check_fig31(data.assign(p_fixed=0.5))] == given


def test_check_records_verdicts_in_claims_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    data = fig10_frame([1.00, 1.01, 0.99], [5.0, 2.0, 1.0])
    smoke, default = presets.output("smoke"), presets.output("default")
    assert claims.check("fig10_fresh_data_limit", data, smoke)["verdict"] == "not assessed"
    assert claims.check("fig10_fresh_data_limit", data, default)["verdict"] == "holds"
    assert claims.check("fig03_loops_schematic", None, default)["verdict"] == "no claim"
    table = json.loads((tmp_path / "claims.json").read_text())
    assert set(table) == {"fig10_fresh_data_limit", "fig03_loops_schematic"}
    assert table["fig10_fresh_data_limit"]["checks"][1]["evidence"].startswith("limits n_ini=100")


def test_mean_sem_matches_numpy():
    values = np.random.default_rng(0).normal(size=(50, 3))
    mean, sem = tidy.mean_sem(values)
    np.testing.assert_allclose(sem, values.std(axis=0, ddof=1) / np.sqrt(50))
    np.testing.assert_allclose(mean, values.mean(axis=0))


# Fig. X1 (beyond the paper) ----------------------------------------------------------------------------------------
X1_SHAPES = {  # loop: WD at generations 1, 50, 100; late rise (WD at 100 minus at 50); log variance kept at 1, 100
    "replace": ((1.0, 3.0, 4.0), 1.0, (0.0, -1.0)),
    "accumulate": ((1.0, 1.20, 1.21), 0.01, (0.0, 0.0)),
    "accumulate-subsample": ((1.0, 1.6, 1.7), 0.1, (0.0, -0.1)),
    "fresh data": ((1.0, 1.1, 1.1), 0.0, (0.0, 0.0)),
}


def x1_frame(changes=None, sem=0.01, rise_sem=0.01, replicates=20, models=(("Gaussian d=1", 1), ("GMM", 2))):
    """Fig. X1's tidy rows (the ones check_figX1 reads) for every model, from X1_SHAPES updated by `changes`."""
    shapes = {**X1_SHAPES, **(changes or {})}
    frames = []
    for model, d in models:
        for loop, (wd, rise, log_variance) in shapes.items():
            common = dict(model=model, loop=loop, d=d, replicates=replicates)
            curve = rows("wd", list(wd), sem=sem, **common)
            curve["generation"] = [1, 50, 100]
            kept = rows("log_variance_kept", list(log_variance), sem=sem, **common)
            kept["generation"] = [1, 100]
            late = rows("wd_late_rise", [rise], sem=rise_sem, from_generation=50, to_generation=100, **common)
            frames += [curve, kept, late]
    return pd.concat(frames, ignore_index=True)


def x1_holds(df) -> dict[str, list[bool]]:
    """The verdict of each claim (in the order check_figX1 returns them), one bool per model."""
    checks = claims.check_figX1(df)
    models = len(df["model"].unique())
    assert len(checks) == 3 * models
    return {claim: [c.holds for c in checks[i * models:(i + 1) * models]]
            for i, claim in enumerate(("diverges", "bounded", "between"))}


def test_figX1_holds_when_replace_diverges_accumulate_levels_off_and_subsample_lies_between():
    assert x1_holds(x1_frame()) == {"diverges": [True, True], "bounded": [True, True], "between": [True, True]}


def test_figX1_replace_must_still_rise_and_at_d1_lose_variance():
    flat = x1_holds(x1_frame({"replace": ((1.0, 3.0, 3.0), 0.0, (0.0, -1.0))}))
    assert flat["diverges"] == [False, False]
    kept = x1_holds(x1_frame({"replace": ((1.0, 3.0, 4.0), 1.0, (0.0, 0.0))}))  # only the d = 1 row tests it
    assert kept["diverges"] == [False, True]


def test_figX1_accumulate_must_level_off_and_stay_near_generation_one():
    rising = x1_holds(x1_frame({"accumulate": ((1.0, 1.2, 1.45), 0.25, (0.0, 0.0))}))  # +21% over the second half
    assert rising["bounded"] == [False, False]
    grown = x1_holds(x1_frame({"accumulate": ((1.0, 2.5, 2.51), 0.01, (0.0, 0.0))}))  # 2.5x generation 1
    assert grown["bounded"] == [False, False]


def test_figX1_boundedness_is_an_equivalence_test_that_too_few_replicates_fail():
    """The same small rise, but with an SE so large that the data cannot exclude a 10% rise: not shown bounded."""
    assert x1_holds(x1_frame(rise_sem=0.1))["bounded"] == [False, False]


def test_figX1_subsample_must_lie_strictly_between():
    same = x1_holds(x1_frame({"accumulate-subsample": ((1.0, 1.2, 1.21), 0.01, (0.0, 0.0))}))
    assert same["between"] == [False, False]
    above = x1_holds(x1_frame({"accumulate-subsample": ((1.0, 3.0, 4.0), 1.0, (0.0, 0.0))}))
    assert above["between"] == [False, False]


def test_figX1_uses_bonferroni_within_each_claim():
    """Two models: claim 1 is 2 WD tests + 1 variance test (d = 1), claims 2 and 3 are 4 tests each; one-sided
    Student t on replicates - 1 degrees of freedom at 0.05 / tests. A t just above the critical value holds, just
    below fails."""
    critical = stats.t.ppf(1 - 0.05 / 3, 19)
    assert claims._x1_critical(3, 20) == pytest.approx(critical)
    for t, holds in ((critical + 0.01, True), (critical - 0.01, False)):
        df = x1_frame({"replace": ((1.0, 3.0, 4.0), 0.01 * t, (0.0, -1.0))})
        assert x1_holds(df)["diverges"] == [holds, holds]
