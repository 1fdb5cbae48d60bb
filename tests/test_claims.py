"""Claim checks of the Gaussian, GMM-free figures (S1, 10, 11, 12, 30, 31, X1, X2): each is supported on data showing the
claim, contradicted on data showing the opposite beyond its noise, and undecided (saying what would decide it) on
the same effect within the noise; each reads the evidence off the tidy data it is given."""

import json

import numpy as np
import pandas as pd
import pytest

from madlib import claims, presets, tidy

S, C, U = claims.SUPPORTED, claims.CONTRADICTED, claims.UNDECIDED


def rows(metric, values, sem=0.01, **columns):
    """A tidy frame with one row per value; the other columns are given as equal-length lists or scalars."""
    n = len(values)
    data = {k: (v if isinstance(v, list) else [v] * n) for k, v in columns.items()}
    return pd.DataFrame({**data, "generation": np.nan, "metric": metric, "mean": values, "sem": sem})


def outcomes(checks):
    return [c.outcome for c in checks]


def assert_decides(checks):
    """Every undecided check says what would decide it."""
    assert all(c.decide for c in checks if c.outcome == U), [(c.name, c.evidence) for c in checks]


def test_admissible_threshold_interpolates_where_the_ratio_crosses_one():
    n_s = np.array([100, 1000, 10000])
    assert claims.admissible_threshold(n_s, np.array([1.5, 1.2, 1.1])) == np.inf
    assert claims.admissible_threshold(n_s, np.array([0.9, 0.5, 0.2])) == 0.0
    assert claims.admissible_threshold(n_s, np.array([2.0, 0.0, 0.0])) == pytest.approx(np.sqrt(100 * 1000))


# Fig. S1 -----------------------------------------------------------------------------------------------------------
def s1_frame(walk_shift=0.0, rate=1.0, collapse=+1, sem=0.001, replicates=64, generations=60):
    """Fig. S1's rows for lam in (0.8, 1) and n_s in (50, 200): E[mu_t[0]] = walk_shift x the walks' SD, E[tr] =
    100 (lam rate)^(t-1), E[log tr] falling (collapse +1) or rising (-1) faster for smaller lam and smaller n_s, and
    E|mu_t| rising; every SE but the walk's (its SD over sqrt(replicates)) scaled by `sem`."""
    frames = []
    g = np.arange(1, generations + 1, dtype=float)
    for lam in (0.8, 1.0):
        for n_s in (50, 200):
            speed = collapse * (1 - lam + 0.01) * 50 / n_s
            walk_sd = 0.5 * np.sqrt(g)
            trace = 100 * (lam * rate) ** (g - 1)
            curves = {"mean_1": (walk_shift * walk_sd, walk_sd / np.sqrt(replicates)),
                      "mean_norm": (0.3 + 0.1 * (g - 1), sem * np.ones_like(g)),
                      "trace": (trace, 0.02 * sem * trace), "log_trace": (np.log(100) - speed * (g - 1), sem + 0 * g)}
            for metric, (mean, se) in curves.items():
                frames.append(pd.DataFrame({"lam": lam, "n_s": n_s, "generation": g, "metric": metric, "mean": mean,
                                            "sem": se, "replicates": replicates}))
    return pd.concat(frames, ignore_index=True)


def test_figS1_supported_contradicted_undecided():
    supported = claims.check_figS1(s1_frame())
    assert outcomes(supported) == [S] * 5
    assert supported[0].name == "E[mu_t] = mu_0: the mean wanders without drift"
    # the walk's mean drifts by its own SD, the mean trace shrinks 5% a generation faster than lam, the trace grows
    assert outcomes(claims.check_figS1(s1_frame(walk_shift=1.0, rate=0.95, collapse=-1))) == [C] * 5
    # the same claims as the first case, but with SEs that cannot tell (and a quarter of the replicates)
    undecided = claims.check_figS1(s1_frame(sem=1.0, replicates=16))
    assert outcomes(undecided) == [U] * 5
    assert_decides(undecided)


def test_figS1_no_drift_is_an_equivalence_test_against_half_the_walks_spread():
    """A shift of a fifth of the walks' SD: inside the margin (half the SD), but 16 replicates cannot show it."""
    assert claims.check_figS1(s1_frame(walk_shift=0.05))[0].outcome == S
    assert claims.check_figS1(s1_frame(walk_shift=0.2, replicates=16))[0].outcome == U
    assert claims.check_figS1(s1_frame(walk_shift=0.2, replicates=4096))[0].outcome == S
    assert "0.5 x the walks' SD" in claims.check_figS1(s1_frame())[0].rule


def test_figS1_mean_trace_rate_margin_is_one_percent_of_lam_per_generation():
    """(1 -+ 1%)^(t-1): at t = 10 a rate 0.5% off lam is inside, 3% off is outside."""
    assert claims.check_figS1(s1_frame(rate=0.995))[1].outcome == S
    assert claims.check_figS1(s1_frame(rate=0.97))[1].outcome == C


# Fig. 10 -----------------------------------------------------------------------------------------------------------
def fig10_frame(limits, starts=(5.0, 2.0, 1.0), rises=(0.0, 0.0, 0.0), sem=0.001, replicates=200, window=30):
    """A Gaussian panel (lam = 1) as gaussian_studies.fig10 writes it: WD at every generation (a burn-in of `window`
    generations from `start`, then a window whose second half lies `rise` above its first) and the wd_limit rows."""
    frames = []
    for n_ini, limit, start, rise in zip([100, 1000, 10000], limits, starts, rises):
        half = window // 2
        tail = [limit - rise / 2] * half + [limit + rise / 2] * (window - half)
        curve = rows("wd", list(np.linspace(start, limit, window)) + tail, sem=sem, lam=1.0, n_ini=n_ini)
        curve["generation"] = np.arange(1, 2 * window + 1)
        drift_z = -rise / (2 * sem)  # fresh_limit's sign: first half minus second
        frames += [curve, rows("wd_limit", [limit], sem=sem, lam=1.0, n_ini=n_ini, window=window,
                               replicates=replicates, drift_z=drift_z)]
    return pd.concat(frames, ignore_index=True)


def test_fig10_supported_when_converged_to_equal_limits():
    converged, same = claims.check_fig10(fig10_frame([1.00, 1.01, 0.99]))
    assert (converged.outcome, same.outcome) == (S, S)
    assert same.evidence.startswith("limits n_ini=100") and "5% of the panel's limit" in same.rule


def test_fig10_contradicted_when_converged_limits_differ_beyond_the_margin():
    converged, same = claims.check_fig10(fig10_frame([1.00, 1.20, 1.40]))
    assert (converged.outcome, same.outcome) == (S, C)


def test_fig10_undecided_when_the_limits_are_too_noisy_to_show_agreement():
    """Limits within the margin (5% of 1), but SEs that cannot exclude a difference beyond it."""
    frame = fig10_frame([1.00, 1.01, 0.99], sem=0.001)
    frame.loc[frame["metric"] == "wd_limit", "sem"] = [0.001, 0.02, 0.001]
    frame.loc[frame["metric"] == "wd", "sem"] = 0.001
    converged, same = claims.check_fig10(frame)
    assert converged.outcome == U  # the drift's SE (at most 2 x 0.02) cannot show it below 1% either
    assert same.outcome == U and same.evidence.startswith("not converged (undecided)") and same.decide


def test_fig10_a_drifting_window_leaves_convergence_and_agreement_undecided():
    """A window whose halves differ by 5% of the limit (the margin is 1%): not converged yet, whatever the limits say;
    a run that stopped while still moving neither shows nor refutes convergence, so both wait for more generations."""
    converged, same = claims.check_fig10(fig10_frame([1.0, 1.0, 1.0], rises=(0.0, 0.05, 0.0)))
    assert converged.outcome == U and "1% of the panel's limit" in converged.rule
    assert "[contradicted] n_ini=1000" in converged.evidence and converged.decide.startswith("more generations")
    assert same.outcome == U and same.evidence.startswith("not converged (undecided)")
    # a drift inside the margin but with an SE too large to show it
    converged, _ = claims.check_fig10(fig10_frame([1.0, 1.0, 1.0], rises=(0.0, 0.005, 0.0), sem=0.01))
    assert converged.outcome == U and converged.decide


def test_fig10_without_the_windows_rows_nothing_is_decided():
    frame = fig10_frame([1.0, 1.0, 1.0])
    frame = frame[(frame["metric"] != "wd") | (frame["generation"] <= 2)]  # only the first two generations
    converged, same = claims.check_fig10(frame)
    assert (converged.outcome, same.outcome) == (U, U) and converged.decide


def test_fig10_bonferroni_counts_two_checks_per_panel_times_the_pairs():
    assert claims._fig10_tests(fig10_frame([1.0, 1.0, 1.0])) == 2 * 1 * 3
    assert "0.05/6" in claims.check_fig10(fig10_frame([1.0, 1.0, 1.0]))[0].rule


# Figs. 11 and 12 ---------------------------------------------------------------------------------------------------
NS_GRID = [100, 200, 500, 1000, 2000, 5000, 10000]


def ratio_rows(key, value, threshold, sem, **columns):
    """n_e / n_r along the n_s grid, linear in log n_s, crossing 1 at `threshold` (beyond the grid: all above 1)."""
    ratio = 1 + 0.5 * (np.log(threshold) - np.log(NS_GRID))
    return rows("n_e_over_n_r", list(ratio), sem=sem, n_s=NS_GRID, replicates=12, **{key: value}, **columns)


def fig11_frame(thresholds, sem=0.002, n_r=(100, 200, 500, 1000)):
    return pd.concat([ratio_rows("n_r", r, t, sem, lam=0.9) for r, t in zip(n_r, thresholds)], ignore_index=True)


def test_fig11_thresholds_are_interpolated_with_a_delta_method_se():
    estimate = claims._threshold_estimate(ratio_rows("n_r", 100, 3000, 0.002))
    assert estimate["kind"] == "finite" and np.exp(estimate["log"]) == pytest.approx(3000)
    assert 0 < estimate["se"] < 0.05


def test_fig11_supported_contradicted_undecided():
    levels_off = [4000, 2900, 2800, 3000]  # n_s / n_r shrinks; the threshold flat over the upper half
    assert outcomes(claims.check_fig11(fig11_frame(levels_off))) == [S, S]
    proportional_plus = [150, 600, 3000, 9000]  # n_s / n_r grows, and the threshold with n_r (slope 1.6)
    assert outcomes(claims.check_fig11(fig11_frame(proportional_plus))) == [C, C]
    noisy = claims.check_fig11(fig11_frame(levels_off, sem=0.3))
    assert outcomes(noisy) == [U, U]
    assert_decides(noisy)


def test_fig11_levelling_off_needs_the_slope_inside_a_quarter():
    """A slope of 0.4 on the upper half (0.5 passed the old check by its point estimate alone) is outside +-0.25."""
    steep = [4000, 2900, 2800, 2800 * 2 ** 0.4]
    assert claims.check_fig11(fig11_frame(steep))[1].outcome == C


def test_fig11_with_no_threshold_inside_the_grid_is_undecided():
    beyond = fig11_frame([1e6, 1e6, 1e6, 1e6])  # every n_s admissible at every n_r
    checks = claims.check_fig11(beyond)
    assert outcomes(checks) == [U, U]
    assert_decides(checks)


def fig12_frame(thresholds, sem=0.002, lams=(0.6, 0.8, 0.95, 1.0)):
    return pd.concat([ratio_rows("lam", lam, t, sem, n_r=1000) for lam, t in zip(lams, thresholds)],
                     ignore_index=True)


def test_fig12_supported_contradicted_undecided():
    """1e6 lies beyond the grid (every n_s admissible), 30 below it (none)."""
    growing = [500, 1500, 1e6, 1e6]
    checks = claims.check_fig12(fig12_frame(growing))
    assert outcomes(checks) == [S, S]
    assert "not told apart by the grid: lam=0.95 and 1" in checks[0].evidence
    shrinking = [1e6, 1500, 500, 30]
    assert outcomes(claims.check_fig12(fig12_frame(shrinking))) == [C, C]
    noisy = claims.check_fig12(fig12_frame(growing, sem=2.0))
    assert outcomes(noisy) == [U, U]
    assert_decides(noisy)


def test_fig12_a_threshold_below_the_grid_against_one_inside_is_told_apart():
    checks = claims.check_fig12(fig12_frame([30, 1500, 1e6, 1e6]))
    assert checks[0].outcome == S and "below 1 at the bottom of the grid" in checks[0].evidence


# Fig. 30 -----------------------------------------------------------------------------------------------------------
K30 = np.array([1, 2, 3, 4, 6, 8, 12, 16])  # the default preset's memories


def fig30_frame(values, sem=0.005):
    return rows("n_e_over_n_r", list(values), sem=sem, memory=list(K30), n_r=1000, n_s=10000, lam=1.0, replicates=12)


def test_fig30_supported_contradicted_undecided():
    concave = 2 + 0.8 * K30 - 0.02 * K30**2  # still rising at K = 16
    assert outcomes(claims.check_fig30(fig30_frame(concave))) == [S, S]
    convex = 2 + 0.05 * K30 + 0.02 * K30**2  # grows, with increasing returns
    assert outcomes(claims.check_fig30(fig30_frame(convex))) == [S, C]
    assert claims.check_fig30(fig30_frame(concave[::-1]))[0].outcome == C  # falls
    noisy = claims.check_fig30(fig30_frame(concave, sem=4.0))
    assert outcomes(noisy) == [U, U]
    assert_decides(noisy)


def test_fig30_a_step_down_beyond_noise_contradicts_growth():
    dip = 2 + 0.8 * K30 - 0.02 * K30**2
    dip[2] = dip[0]
    assert claims.check_fig30(fig30_frame(dip))[0].outcome == C


# Fig. 31 -----------------------------------------------------------------------------------------------------------
N31 = np.round(10 ** np.arange(2, 6.01, 0.5)).astype(int)  # 9 sizes, 8 local slopes


def fig31_frame(biased_floor, biased_power=0.5, sem=0.0001):
    frames = [rows("wd_limit", list(scale * 10 / np.sqrt(N31)), sem=sem, p_real=p, lam=1.0, n=list(N31),
                   replicates=12) for p, scale in [(1.0, 1.0), (0.5, 1.5)]]
    frames.append(rows("wd_limit", list(1.5 * 10 / N31 ** biased_power + biased_floor), sem=sem, p_real=0.5,
                       lam=0.9, n=list(N31), replicates=12))
    return pd.concat(frames, ignore_index=True)


def test_fig31_supported_contradicted_undecided():
    assert outcomes(claims.check_fig31(fig31_frame(0.3), p_panel=0.5)) == [S, S, S]
    steeper = claims.check_fig31(fig31_frame(0.0, biased_power=0.6), p_panel=0.5)  # lam < 1 falls faster than lam 1
    assert steeper[-1].outcome == C
    noisy = claims.check_fig31(fig31_frame(0.3, sem=0.05), p_panel=0.5)
    assert outcomes(noisy) == [U, U, U]
    assert_decides(noisy)


def test_fig31_flattening_needs_a_floor_under_bias():
    """Without a floor the lam < 1 curve has lam = 1's slope: nothing flattens (no trend, no difference)."""
    assert claims.check_fig31(fig31_frame(0.0), p_panel=0.5)[-1].outcome == U


def test_fig31_a_rise_along_n_contradicts_the_fall():
    frame = fig31_frame(0.3)
    index = frame[(frame["p_real"] == 1.0) & (frame["n"] == N31[-1])].index
    frame.loc[index, "mean"] = 1.0  # WD jumps up at the largest n
    assert claims.check_fig31(frame, p_panel=0.5)[0].outcome == C


def test_fig31_reads_the_right_panels_real_fraction_off_the_data():
    """gaussian_studies.fig31 writes the right panel's p in a p_fixed column: the check reads it when not given."""
    data = pd.concat([fig31_frame(0.3), rows("wd_limit", list(np.linspace(1.0, 0.2, len(N31))), sem=0.001,
                                             p_real=0.25, lam=1.0, n=list(N31), replicates=12)], ignore_index=True)
    with pytest.raises(ValueError):  # without the column the smallest p (0.25, no lam < 1 there) is taken
        claims.check_fig31(data)
    given = [c.__dict__ for c in claims.check_fig31(data, p_panel=0.5)]
    assert [c.__dict__ for c in claims.check_fig31(data.assign(p_fixed=0.5))] == given


def test_check_records_verdicts_in_claims_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    data = fig10_frame([1.00, 1.01, 0.99])
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


def x1_outcomes(df) -> dict[str, list[str]]:
    """The outcome of each claim (in the order check_figX1 returns them), one per model."""
    checks = claims.check_figX1(df)
    models = len(df["model"].unique())
    assert len(checks) == 3 * models
    assert_decides(checks)
    return {claim: outcomes(checks[i * models:(i + 1) * models])
            for i, claim in enumerate(("diverges", "bounded", "between"))}


def test_figX1_supported_when_replace_diverges_accumulate_levels_off_and_subsample_lies_between():
    assert x1_outcomes(x1_frame()) == {"diverges": [S, S], "bounded": [S, S], "between": [S, S]}


def test_figX1_replace_must_still_rise_and_at_d1_lose_variance():
    flat = x1_outcomes(x1_frame({"replace": ((1.0, 3.0, 3.0), 0.0, (0.0, -1.0))}))
    assert flat["diverges"] == [U, U]  # no rise seen: not shown, but nothing against it either
    falling = x1_outcomes(x1_frame({"replace": ((1.0, 3.0, 2.0), -1.0, (0.0, -1.0))}))
    assert falling["diverges"] == [C, C]
    kept = x1_outcomes(x1_frame({"replace": ((1.0, 3.0, 4.0), 1.0, (0.0, 0.0))}))  # only the d = 1 row tests it
    assert kept["diverges"] == [U, S]


def test_figX1_accumulate_must_level_off_and_stay_near_generation_one():
    rising = x1_outcomes(x1_frame({"accumulate": ((1.0, 1.2, 1.45), 0.25, (0.0, 0.0))}))  # +21% over the second half
    assert rising["bounded"] == [C, C]
    grown = x1_outcomes(x1_frame({"accumulate": ((1.0, 2.5, 2.51), 0.01, (0.0, 0.0))}))  # 2.5x generation 1
    assert grown["bounded"] == [C, C]


def test_figX1_boundedness_is_an_equivalence_test_that_too_few_replicates_leave_undecided():
    """The same small rise, but with an SE so large that the data cannot exclude a 10% rise: not shown bounded."""
    assert x1_outcomes(x1_frame(rise_sem=0.1))["bounded"] == [U, U]


def test_figX1_subsample_must_lie_strictly_between():
    same = x1_outcomes(x1_frame({"accumulate-subsample": ((1.0, 1.2, 1.21), 0.01, (0.0, 0.0))}))
    assert same["between"] == [U, U]
    above = x1_outcomes(x1_frame({"accumulate-subsample": ((1.0, 3.0, 4.0), 1.0, (0.0, 0.0))}))
    assert above["between"] == [U, U]
    below = x1_outcomes(x1_frame({"accumulate-subsample": ((1.0, 1.0, 1.0), 0.0, (0.0, 0.0))}))
    assert below["between"] == [C, C]


def test_figX1_uses_bonferroni_over_the_figure():
    """Two models: 3 claims x 2 models x 2 parts = 12 tests, one-sided Student t on replicates - 1 degrees of freedom
    at 0.05 / 12. A t just above the critical value is supported, just below undecided."""
    critical = claims.critical(12, 19)
    for t, outcome in ((critical + 0.01, S), (critical - 0.01, U)):
        df = x1_frame({"replace": ((1.0, 3.0, 4.0), 0.01 * t, (0.0, -1.0))})
        assert x1_outcomes(df)["diverges"] == [outcome, outcome]


# Fig. X2 (beyond the paper: each model's own sampling bias) -----------------------------------------------------------
def x2_rows(effective: dict[str, tuple[float, float]], dof: int = 9) -> pd.DataFrame:
    """effective_lam rows at lam = 1: model -> (effective lam, SE of its log)."""
    rows = [{"model": model, "lam": 1.0, "generation": np.nan, "metric": "effective_lam", "mean": value,
             "sem": value * log_sem, "log_mean": np.log(value), "log_sem": log_sem, "dof": dof, "replicates": 1,
             "from_generation": 1, "to_generation": dof + 1} for model, (value, log_sem) in effective.items()]
    rows.append({**rows[0], "lam": 0.7, "mean": 0.5, "log_mean": np.log(0.5)})  # a biased setting: not judged
    return pd.DataFrame(rows)


def x2_outcomes(effective, dof=9):
    return [c.outcome for c in claims.check_figX2(x2_rows(effective, dof))]


def test_figX2_supported_above_095_contradicted_below_undecided_near():
    critical = claims.critical(3, 9)  # Bonferroni over the three image models, t on the generations
    margin = np.log(0.95)
    just_above, just_below = np.exp(margin + 1.05 * critical * 0.01), np.exp(margin - 1.05 * critical * 0.01)
    assert x2_outcomes({"DDPM": (just_above, 0.01), "style GAN": (just_below, 0.01), "WGAN-GP": (0.95, 0.01)}) == \
        ["supported", "contradicted", "undecided"]
    inside = np.exp(margin + 0.95 * critical * 0.01)
    assert x2_outcomes({"DDPM": (inside, 0.01), "style GAN": (0.99, 0.001), "WGAN-GP": (0.82, 0.001)}) == \
        ["undecided", "supported", "contradicted"]


def test_figX2_a_missing_model_is_undecided_and_verdicts_follow():
    checks = claims.check_figX2(x2_rows({"DDPM": (0.99, 0.001), "style GAN": (0.99, 0.001)}))
    assert [c.outcome for c in checks] == ["supported", "supported", "undecided"]
    assert claims.verdict(checks) == "inconclusive"
    assert claims.verdict(claims.check_figX2(x2_rows({m: (0.99, 0.001) for m in claims.X2_IMAGE_MODELS}))) == "holds"
    assert claims.verdict(claims.check_figX2(x2_rows({"DDPM": (0.8, 0.01), "style GAN": (0.99, 0.001),
                                                      "WGAN-GP": (0.99, 0.001)}))) == "contradicted"
