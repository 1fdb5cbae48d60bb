"""DDPM claim checks and the studies' table helpers: each check holds on data showing the claim and fails on data
showing the opposite; the evidence is read off the frame it is given."""

import numpy as np
import pandas as pd
import pytest

from madlib import chains, claims, ddpm_studies


def chain_rows(lam, curves, sem=0.01, variant="fully_synthetic", **columns):
    """Tidy rows of one chain: curves maps a metric to its values at generations 1, 2, ..."""
    rows = []
    for metric, values in curves.items():
        for g, value in enumerate(values, start=1):
            rows.append({"variant": variant, "lam": lam, **columns, "generation": g, "metric": metric,
                         "mean": value, "sem": sem})
    return pd.DataFrame(rows)


MAD = {"fid": [10, 20, 40], "precision": [0.8, 0.6, 0.4], "recall": [0.6, 0.4, 0.2]}
HEALTHY = {"fid": [10, 10.001, 9.999], "precision": [0.8, 0.8, 0.8], "recall": [0.6, 0.6, 0.6]}


def test_fig04_holds_when_scores_degrade_and_fails_when_they_do_not():
    assert all(c.holds for c in claims.check_fig04(chain_rows(1.0, MAD)))
    assert not any(c.holds for c in claims.check_fig04(chain_rows(1.0, HEALTHY)))


def test_a_change_within_the_evaluation_noise_is_not_a_trend():
    noisy = chain_rows(1.0, MAD, sem=30.0)
    assert not any(c.holds for c in claims.check_fig04(noisy))


def test_fig06_compares_the_biased_recall_decay_with_the_unbiased_one():
    unbiased = chain_rows(1.0, {"fid": [10, 12, 14], "precision": [0.8, 0.7, 0.6], "recall": [0.6, 0.5, 0.4]})
    fast = chain_rows(0.5, {"fid": [12, 20, 30], "precision": [0.9, 0.92, 0.95], "recall": [0.4, 0.2, 0.05]})
    assert [c.holds for c in claims.check_fig06(pd.concat([unbiased, fast]))] == [True, True, True]
    slow = chain_rows(0.5, {"fid": [12, 20, 30], "precision": [0.9, 0.7, 0.5], "recall": [0.4, 0.39, 0.38]})
    assert [c.holds for c in claims.check_fig06(pd.concat([unbiased, slow]))] == [True, False, False]


def test_fig06_without_a_first_recall_has_no_decay_ratio_and_the_check_does_not_hold():
    unbiased = chain_rows(1.0, {"fid": [10, 12, 14], "precision": [0.8, 0.7, 0.6], "recall": [0.0, 0.1, 0.05]})
    fast = chain_rows(0.5, {"fid": [12, 20, 30], "precision": [0.9, 0.92, 0.95], "recall": [0.4, 0.2, 0.05]})
    checks = claims.check_fig06(pd.concat([unbiased, fast]))
    assert [c.holds for c in checks] == [True, True, False] and "nan" in checks[2].evidence


def test_fig07_tells_collapse_from_merging():
    merging = chain_rows(1.0, {"class_separation": [0.3, 0.2, 0.1], "class_spread": [1.0, 1.0, 1.0]})
    collapse = chain_rows(0.8, {"class_separation": [0.3, 0.35, 0.4], "class_spread": [0.9, 0.7, 0.5]})
    assert all(c.holds for c in claims.check_fig07(pd.concat([merging, collapse])))
    merging_too = chain_rows(0.8, {"class_separation": [0.3, 0.2, 0.1], "class_spread": [1.0, 1.0, 1.0]})
    assert not any(c.holds for c in claims.check_fig07(pd.concat([merging, merging_too])))


def test_fig09_finds_the_mitigating_lam():
    frames = [chain_rows(1.0, {"fid": [10, 20, 30], "precision": [0.8, 0.7, 0.6], "recall": [0.6, 0.5, 0.4]}),
              chain_rows(0.8, {"fid": [10, 15, 20], "precision": [0.85, 0.9, 0.9], "recall": [0.5, 0.4, 0.3]})]
    assert all(c.holds for c in claims.check_fig09(pd.concat(frames)))
    frames[1] = chain_rows(0.8, {"fid": [10, 30, 50], "precision": [0.8, 0.6, 0.5], "recall": [0.6, 0.55, 0.5]})
    assert [c.holds for c in claims.check_fig09(pd.concat(frames))] == [True, False, False, False]
    frames[1] = chain_rows(0.8, {"fid": [10, 9, 8], "precision": [0.85, 0.9, 0.9], "recall": [0.5, 0.4, 0.3]})
    assert [c.holds for c in claims.check_fig09(pd.concat(frames))] == [False, True, True, True]


def test_fig16_zero_means_below_the_threshold():
    to_zero = chain_rows(1.0, {"precision": [0.8, 0.2, 0.01], "recall": [0.6, 0.1, 0.0]})
    halfway = chain_rows(1.0, {"precision": [0.8, 0.5, 0.3], "recall": [0.6, 0.4, 0.2]})
    biased = chain_rows(0.5, {"precision": [0.9, 0.9, 0.9], "recall": [0.3, 0.1, 0.001]})
    assert [c.holds for c in claims.check_fig16(pd.concat([to_zero, biased]))] == [True, False]
    assert [c.holds for c in claims.check_fig16(pd.concat([halfway, biased]))] == [False, True]


# Fig. 10's DDPM panel: 8 generations, the last 4 the window (the default preset's), noise of SD 1 per generation
BURN_IN = [100.0, 125.0, 135.0, 139.0]  # generations 1-4, rising towards the limit


def fig10_panel(windows, window=4, sem=0.5):
    """The DDPM panel's rows as gaussian_studies.fig10 writes them: the FID of one chain per n_ini (its burn-in, then
    the given window values) and ddpm_studies.limits' rows."""
    df = pd.concat([chain_rows(1.0, {"fid": BURN_IN + list(values)}, sem=sem, variant="fresh_data", n_ini=n_ini)
                    for n_ini, values in zip([250, 1000, 4000], windows)], ignore_index=True)
    return pd.concat([df, ddpm_studies.limits(df, by="n_ini", window=window)], ignore_index=True)


def noise(seed):
    return np.random.default_rng(seed).normal(0.0, 1.0, 4)


def test_fig10_ddpm_holds_when_the_fid_has_converged_to_one_limit():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + noise(s) for s in range(3)]))
    assert converged.holds and same.holds
    assert converged.name.startswith("DDPM: the FID has converged")
    assert same.name == "DDPM: same FID limit for every n_ini"


def test_fig10_ddpm_fails_as_not_converged_while_the_fid_still_rises():
    """Equal limits, but read off windows that still rise by 3 a generation: the agreement does not count."""
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + 3 * np.arange(4) + noise(s) for s in range(3)]))
    assert not converged.holds and not same.holds
    assert same.evidence.startswith("does not hold: not converged") and "max |z| = 0." in same.evidence


def test_fig10_ddpm_fails_when_converged_limits_differ():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + 15 * i + noise(i) for i in range(3)]))
    assert converged.holds and not same.holds and not same.evidence.startswith("does not hold: not converged")


def test_fig10_ddpm_window_too_short_to_test_is_not_converged():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + noise(s) for s in range(3)], window=2))
    assert not converged.holds and "no residual degrees of freedom" in converged.evidence and not same.holds


def test_window_slopes_match_scipy_for_one_chain_and_floor_at_the_evaluation_se():
    from scipy.stats import linregress

    generations, values = np.arange(5.0, 9.0), 140 + 0.7 * np.arange(4) + noise(4)
    slopes, ses, dof = claims.window_slopes(generations, values, np.zeros(4))
    fit = linregress(generations, values)
    assert (slopes[0], ses[0], dof) == (pytest.approx(fit.slope), pytest.approx(fit.stderr), 2)
    line = 140 + 0.7 * np.arange(4)  # no residual: the evaluation SE (2.0) sets the slope's SE
    _, ses, _ = claims.window_slopes(generations, line, np.full(4, 2.0))
    assert ses[0] == pytest.approx(2.0 / np.sqrt(np.sum((generations - generations.mean()) ** 2)))


def test_the_trend_test_of_a_flat_panel_errs_at_most_at_its_level():
    """Flat windows (3 chains x 4 generations of pure noise): some |t| exceeds the Bonferroni critical value in at most
    TREND_ALPHA of the panels (and in at least the TREND_ALPHA / 3 that one chain alone gives), within 3 SE."""
    rng, trials = np.random.default_rng(1), 4000
    critical = claims.trend_critical(6, 3)
    generations = np.arange(5.0, 9.0)
    flagged = 0
    for _ in range(trials):
        slopes, ses, _ = claims.window_slopes(generations, rng.normal(0.0, 1.0, (3, 4)), np.zeros((3, 4)))
        flagged += np.max(np.abs(slopes / ses)) > critical
    rate, se = flagged / trials, np.sqrt(claims.TREND_ALPHA * (1 - claims.TREND_ALPHA) / trials)
    assert claims.TREND_ALPHA / 3 - 3 * se < rate < claims.TREND_ALPHA + 3 * se


def test_limits_average_the_last_window_and_use_its_spread_as_se():
    df = chain_rows(1.0, {"fid": [50.0, 10.0, 12.0, 14.0]}, variant="fresh_data", n_ini=100)
    limit = ddpm_studies.limits(df, by="n_ini", window=3)
    assert limit["metric"].tolist() == ["fid_limit"]
    assert limit["mean"].iloc[0] == pytest.approx(12.0)
    assert limit["sem"].iloc[0] == pytest.approx(np.std([10, 12, 14], ddof=1) / np.sqrt(3))


@pytest.mark.parametrize("generations, count, expected", [(10, 4, [1, 4, 7, 10]), (3, 5, [1, 2, 3]), (1, 4, [1])])
def test_pick_generations_spans_first_to_last(generations, count, expected):
    assert ddpm_studies.pick_generations(generations, count) == expected


def test_a_single_chain_takes_each_value_and_its_own_evaluation_se():
    """One DDPM chain per setting: its tidy rows are the stored values, with the stored evaluation SE as sem."""
    chain_list = ddpm_studies.fully_synthetic_chains([0.8], generations=2, n_ini=10, n_s=10, seed=0)
    history = [{"fid": np.array([5.0]), "fid_se": np.array([0.5])}, {"fid": np.array([7.0]), "fid_se": np.array([0.7])}]
    df = chains.tidy_frame(chain_list, [history], metrics=["fid"])
    assert df[["generation", "mean", "sem", "replicates"]].to_numpy().tolist() == [[1, 5.0, 0.5, 1], [2, 7.0, 0.7, 1]]
    assert set(df["lam"]) == {0.8} and set(df["variant"]) == {"fully_synthetic"}


def test_fig07_reads_the_biased_and_the_compared_lam_off_the_table():
    merging = chain_rows(1.0, {"class_separation": [0.3, 0.2, 0.1], "class_spread": [1.0, 1.0, 1.0]})
    collapse = chain_rows(0.6, {"class_separation": [0.3, 0.35, 0.4], "class_spread": [0.9, 0.7, 0.5]})
    checks = claims.check_fig07(pd.concat([merging, collapse]))
    assert all(c.holds for c in checks)
    assert "lam=0.6" in checks[0].evidence and "lam=1" in checks[1].evidence


def test_numbers_are_one_row_per_shown_generation():
    df = chain_rows(1.0, {"fid": [10, 20, 40], "recall": [0.6, 0.4, 0.2]}, sem=0.5)
    table = ddpm_studies.numbers(df, ["recall", "fid"], shown=[1, 3])
    assert table.columns.tolist() == ["generation", "recall", "fid", "recall_se", "fid_se"]
    assert table.to_numpy().tolist() == [[1, 0.6, 10, 0.5, 0.5], [3, 0.2, 40, 0.5, 0.5]]


def test_the_tsne_seed_is_derived_from_the_master_seed():
    assert ddpm_studies.derived_state(0, 1) == ddpm_studies.derived_state(0, 1)
    assert len({ddpm_studies.derived_state(s, p) for s in (0, 1) for p in (1, 2)}) == 4


def test_tsne_frame_embeds_real_and_shown_generations_together():
    rng = np.random.default_rng(0)
    history = [{"features": rng.normal(size=(20, 5)) + g, "feature_labels": np.arange(20) % 10} for g in range(3)]
    points = ddpm_studies.tsne_frame(history, rng.normal(size=(15, 5)), np.arange(15) % 10, shown=[1, 3])
    assert points.groupby("generation").size().to_dict() == {0: 15, 1: 20, 3: 20}
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()
