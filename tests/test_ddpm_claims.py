"""DDPM claim checks and the studies' table helpers: each image check is supported on data showing the claim,
contradicted on data showing the opposite beyond its noise, and undecided (saying how much more data would decide it)
when the same effect lies within the noise; the evidence is read off the frame it is given."""

import re

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


def ramp(start, stop, n=8):
    """A chain that moves steadily: n values evenly spaced from start to stop (generations 1..n)."""
    return list(np.linspace(start, stop, n))


def frame(lam, curves, sem, **columns):
    """chain_rows with an SE per metric: sem is one number or a dict metric -> SE."""
    sems = sem if isinstance(sem, dict) else dict.fromkeys(curves, sem)
    return pd.concat([chain_rows(lam, {metric: values}, sem=sems[metric], **columns)
                      for metric, values in curves.items()], ignore_index=True)


MAD = {"fid": ramp(10, 45), "precision": ramp(0.8, 0.45), "recall": ramp(0.6, 0.25)}  # 8 generations, degrading
REVERSED = {metric: values[::-1] for metric, values in MAD.items()}  # the opposite: every score improves
FACTOR = re.compile(r"about \d+\.\dx the ")  # claims._more_data: the data factor that would decide a check


def outcomes(checks):
    return [c.outcome for c in checks]


def assert_undecided(check, factor=True):
    """Undecided, saying what would decide it (with factor: how many times the data)."""
    assert check.outcome == "undecided", (check.outcome, check.evidence)
    assert check.decide, check.evidence
    assert not factor or FACTOR.search(check.decide), check.decide


def moving(lam, moves, case, variant="fully_synthetic", change=0.3, sem=0.01):
    """One chain of 8 generations in which each metric of `moves` (metric -> +1 rises, -1 falls) changes by `change`
    from 0.7: case "supported" in the stated direction with small SEs, "contradicted" in the opposite one, "undecided"
    in the stated direction with SEs as large as the whole change."""
    sign = -1 if case == "contradicted" else 1
    sem = change if case == "undecided" else sem
    return frame(lam, {m: ramp(0.7, 0.7 + sign * d * change) for m, d in moves.items()}, sem, variant=variant)


# The image checks built of "X rises/falls" parts only (claims._moves): figure -> (check, lam, moves in check order)
DDPM_MOVES = {
    "fig04": (claims.check_fig04, 1.0, {"fid": +1, "precision": -1, "recall": -1}),
    "fig05": (claims.check_fig05, 1.0, {"class_separation": -1, "fid": +1}),
    "fig26": (claims.check_fig26, 1.0, {"lenet_agreement": -1, "fid": +1}),
    "fig27": (claims.check_fig27, 0.8, {"class_spread": -1, "recall": -1}),
}


def assert_three_outcomes(check, lam, moves):
    for case in ("supported", "contradicted"):
        assert outcomes(check(moving(lam, moves, case))) == [case] * len(moves), case
    for c in check(moving(lam, moves, "undecided")):
        assert_undecided(c)


@pytest.mark.parametrize("figure", DDPM_MOVES)
def test_moving_checks_are_supported_contradicted_or_undecided(figure):
    assert_three_outcomes(*DDPM_MOVES[figure])


def test_fig04_is_judged_on_every_score():
    """Two scores degrade, recall improves significantly: the recall check alone is contradicted."""
    mixed = frame(1.0, {**MAD, "recall": REVERSED["recall"]}, 0.01)
    assert outcomes(claims.check_fig04(mixed)) == ["supported", "supported", "contradicted"]
    assert claims.verdict(claims.check_fig04(mixed)) == "contradicted"


def one_part(check, outcome):
    """Has this check (an all_of of parts, e.g. claims._moves) a part with this outcome? Its evidence marks each."""
    return f"[{outcome}]" in check.evidence


def test_moves_needs_the_endpoints_and_the_slope():
    """A rise counts only when the first-to-last change and the slope over every generation both show it."""
    # endpoints differ beyond their noise, but the chain jumps up and down: no slope
    jump = chain_rows(1.0, {"m": [0.3, 0.1, 0.5, 0.05, 0.4, 0.1, 0.45, 0.05, 0.35]}, sem=0.005)
    check = claims._moves("rises", jump, "m", 1.0, +1, tests=2)
    assert check.outcome == "undecided" and one_part(check, "supported") and one_part(check, "undecided")
    assert check.decide
    # rises steadily but comes back to where it started at the last generation: no endpoint change
    back = chain_rows(1.0, {"m": list(range(1, 20)) + [1]}, sem=0.5)
    check = claims._moves("rises", back, "m", 1.0, +1, tests=2)
    assert check.outcome == "undecided" and one_part(check, "supported") and one_part(check, "undecided")
    # ... and ends significantly below where it started: contradicted although the slope rises
    below = chain_rows(1.0, {"m": list(range(1, 20)) + [0]}, sem=0.1)
    check = claims._moves("rises", below, "m", 1.0, +1, tests=2)
    assert check.outcome == "contradicted" and one_part(check, "supported")
    # both parts agree: supported
    steady = chain_rows(1.0, {"m": list(range(1, 21))}, sem=0.5)
    assert claims._moves("rises", steady, "m", 1.0, +1, tests=2).outcome == "supported"


def test_moves_over_too_few_generations_is_undecided():
    """A clear endpoint change, but 3 noisy generations leave the slope one degree of freedom: undecided."""
    short = chain_rows(1.0, {"m": [10.0, 30.0, 25.0]}, sem=0.1)
    check = claims._moves("rises", short, "m", 1.0, +1, tests=2)
    assert one_part(check, "supported")
    assert_undecided(check)
    two = claims._moves("rises", chain_rows(1.0, {"m": [10.0, 30.0]}, sem=0.1), "m", 1.0, +1, tests=2)
    assert two.outcome == "undecided" and two.decide  # no slope at all over two generations


def test_per_model_judges_each_model_at_alpha_over_checks_times_models():
    """Fig. 4's FID endpoints part is judged at ALPHA / (2 x 3 checks x models): a change of z = 2.5 is past
    critical(6) = 2.39 (one model) but short of critical(12) = 2.64 (two models); z = 2.75 is past both."""
    def degrading(z):
        fid = ramp(10.0, 10.0 + z * np.sqrt(2), 20)  # SE 1 at each end: the endpoints' change is z SEs
        return frame(1.0, {"fid": fid, "precision": ramp(0.8, 0.4, 20), "recall": ramp(0.6, 0.2, 20)},
                     {"fid": 1.0, "precision": 0.01, "recall": 0.01})

    assert claims.critical(6) < 2.5 < claims.critical(12) < 2.75
    assert outcomes(claims.check_fig04(degrading(2.5))) == ["supported"] * 3
    two = pd.concat([degrading(2.5).assign(model="DDPM"), degrading(2.5).assign(model="GAN")])
    checks = claims.check_fig04(two)
    assert [c.name for c in checks][::3] == ["DDPM: FID rises", "GAN: FID rises"]
    assert outcomes(checks) == ["undecided", "supported", "supported"] * 2
    assert f"±{claims.critical(12):.2f}" in checks[0].evidence and FACTOR.search(checks[0].decide)
    two = pd.concat([degrading(2.75).assign(model="DDPM"), degrading(2.75).assign(model="GAN")])
    assert outcomes(claims.check_fig04(two)) == ["supported"] * 6


def fig06_frame(biased, sem=0.01, unbiased_sem=0.01):
    """Fig. 6's table: the lam = 1 chain (its recall keeps half of generation 1's) and the biased chain lam = 0.5."""
    unbiased = frame(1.0, {"fid": ramp(10, 20), "precision": ramp(0.8, 0.6), "recall": ramp(0.6, 0.3)}, unbiased_sem)
    return pd.concat([unbiased, frame(0.5, biased, sem)], ignore_index=True)


def test_fig06_supported_contradicted_undecided():
    claim = {"fid": ramp(12, 40), "precision": [0.885] * 8, "recall": ramp(0.4, 0.05)}
    assert outcomes(claims.check_fig06(fig06_frame(claim, sem=0.002))) == ["supported"] * 3
    # FID falls, precision decays by a third, recall keeps more of generation 1's than at lam = 1
    opposite = {"fid": ramp(40, 12), "precision": ramp(0.885, 0.6), "recall": ramp(0.4, 0.38)}
    assert outcomes(claims.check_fig06(fig06_frame(opposite, sem=0.002))) == ["contradicted"] * 3
    for check in claims.check_fig06(fig06_frame(claim, sem={"fid": 30.0, "precision": 0.1, "recall": 0.3},
                                                unbiased_sem=0.3)):
        assert_undecided(check)


def test_fig06_precision_may_not_dip_at_any_generation():
    """0.885 -> 0.81 -> 0.883: the ends agree, but generation 2 lies 0.075 (8%) below generation 1, more than
    NO_DECAY_SHARE (5%) of it and beyond its noise: contradicted."""
    dip = {"fid": [12.0, 26.0, 40.0], "precision": [0.885, 0.81, 0.883], "recall": [0.4, 0.2, 0.05]}
    precision = claims.check_fig06(fig06_frame(dip))[1]
    assert precision.outcome == "contradicted" and "[contradicted] t=2" in precision.evidence
    assert "[supported] t=3" in precision.evidence  # the last generation alone would pass
    assert 0.075 / 0.885 > claims.NO_DECAY_SHARE


def test_fig06_no_decay_needs_evidence_of_no_decay():
    """A flat precision is supported only when its SEs are small enough to rule out a 5% fall: absence of evidence of
    decay is not evidence of no decay."""
    flat = {"fid": ramp(12, 40), "precision": [0.885] * 8, "recall": ramp(0.4, 0.05)}
    assert claims.check_fig06(fig06_frame(flat, sem=0.002))[1].outcome == "supported"
    noisy = fig06_frame(flat, sem={"fid": 0.01, "precision": 0.1, "recall": 0.01})
    assert_undecided(claims.check_fig06(noisy)[1])


def test_fig06_without_a_first_recall_has_no_decay_ratio_and_the_check_is_undecided():
    unbiased = chain_rows(1.0, {"fid": [10, 12, 14], "precision": [0.8, 0.7, 0.6], "recall": [0.0, 0.1, 0.05]})
    fast = chain_rows(0.5, {"fid": [12, 20, 30], "precision": [0.9, 0.92, 0.95], "recall": [0.4, 0.2, 0.05]})
    recall = claims.check_fig06(pd.concat([unbiased, fast]))[2]
    assert recall.outcome == "undecided" and "nan" in recall.evidence
    assert recall.decide == "a run in which the quantity is defined"


def fig07_frame(biased_separation, biased_spread, sem=0.005, lam=0.8):
    """Fig. 7's table: the lam = 1 chain merges (separation 0.3 -> 0.1), the biased chain as given."""
    merging = frame(1.0, {"class_separation": ramp(0.3, 0.1), "class_spread": [1.0] * 8}, 0.005)
    biased = frame(lam, {"class_separation": biased_separation, "class_spread": biased_spread}, sem)
    return pd.concat([merging, biased], ignore_index=True)


def test_fig07_tells_collapse_from_merging():
    collapse = fig07_frame(ramp(0.3, 0.4), ramp(0.9, 0.5))
    assert outcomes(claims.check_fig07(collapse)) == ["supported"] * 3
    # the biased chain merges faster than lam = 1 and its classes spread out
    merges = fig07_frame(ramp(0.3, 0.02), ramp(0.5, 0.9))
    assert outcomes(claims.check_fig07(merges)) == ["contradicted"] * 3
    for check in claims.check_fig07(fig07_frame(ramp(0.3, 0.4), ramp(0.9, 0.5), sem=0.4)):
        assert_undecided(check)


def test_fig07_a_merge_in_between_contradicts():
    """The separation falls by half at generation 4 and recovers by the last: more than NO_MERGE_SHARE at one
    generation is enough."""
    dip = [0.3, 0.3, 0.3, 0.15, 0.3, 0.3, 0.31, 0.32]
    check = claims.check_fig07(fig07_frame(dip, ramp(0.9, 0.5)))[0]
    assert check.outcome == "contradicted" and "[contradicted] t=4" in check.evidence


def fig09_frame(chains, sem=0.01):
    """Fig. 9's table: lam -> (FID, precision, recall) chains of 8 generations."""
    return pd.concat([frame(lam, dict(zip(("fid", "precision", "recall"), curves)), sem)
                      for lam, curves in chains.items()], ignore_index=True)


UNBIASED_9 = (ramp(10, 40), ramp(0.8, 0.5), ramp(0.6, 0.4))


def test_fig09_finds_the_mitigating_lam():
    mitigated = {1.0: UNBIASED_9, 0.8: (ramp(10, 25), ramp(0.85, 0.9), ramp(0.5, 0.3)),
                 0.6: (ramp(10, 30), ramp(0.85, 0.7), ramp(0.5, 0.2))}
    assert outcomes(claims.check_fig09(fig09_frame(mitigated))) == ["supported"] * 4
    # FID falls at lam = 0.8 (and is higher than lam = 1's at lam = 0.6), every lam < 1 ends with lower precision, and
    # recall at lam = 0.6 ends above lam = 1's
    worse = {1.0: UNBIASED_9, 0.8: (ramp(60, 50), ramp(0.85, 0.4), ramp(0.5, 0.45)),
             0.6: (ramp(10, 55), ramp(0.85, 0.3), ramp(0.6, 0.5))}
    assert outcomes(claims.check_fig09(fig09_frame(worse))) == ["contradicted"] * 4
    for check in claims.check_fig09(fig09_frame(mitigated, sem=20.0)):
        assert_undecided(check)


def fig09_precision(last_08, last_06):
    """Fig. 9's "some lam < 1 ends with higher precision" check when lam = 1 ends at 0.5 (SEs 0.01)."""
    chains = {1.0: UNBIASED_9, 0.8: (ramp(10, 25), ramp(0.85, last_08), ramp(0.5, 0.3)),
              0.6: (ramp(10, 30), ramp(0.85, last_06), ramp(0.5, 0.2))}
    return claims.check_fig09(fig09_frame(chains))[1]


def test_fig09_some_lam_is_supported_by_one_and_contradicted_only_by_all():
    assert fig09_precision(0.6, 0.4).outcome == "supported"  # one lam < 1 above lam = 1, one below
    assert fig09_precision(0.4, 0.45).outcome == "contradicted"  # every lam < 1 below
    check = fig09_precision(0.4, 0.51)  # one below, the other above by one SE only
    assert_undecided(check)
    assert "[contradicted]" in check.evidence and "[undecided]" in check.evidence


def fig16_frame(precision, recall=(0.6, 0.3, 0.1, 0.02, 0.01), sem=0.002, biased_recall=(0.3, 0.1, 0.05, 0.01, 0.0)):
    """Fig. 16's table: the lam = 1 chain (5 generations) and the lam = 0.5 chain's recall."""
    unbiased = frame(1.0, {"precision": list(precision), "recall": list(recall)}, sem)
    return pd.concat([unbiased, frame(0.5, {"recall": list(biased_recall)}, sem)], ignore_index=True)


def test_fig16_reaching_zero_means_the_upper_bound_below_the_threshold():
    assert outcomes(claims.check_fig16(fig16_frame([0.8, 0.4, 0.1, 0.02, 0.01]))) == ["supported"] * 2
    # 0.04 is below ZERO = 0.05, but not by its noise: undecided
    close = claims.check_fig16(fig16_frame([0.8, 0.4, 0.1, 0.05, 0.04], sem=0.01))[0]
    assert close.outcome == "undecided" and close.decide


def test_fig16_rising_away_from_zero_contradicts():
    rising = claims.check_fig16(fig16_frame([0.1, 0.2, 0.3, 0.4, 0.5]))[0]
    assert rising.outcome == "contradicted" and "rising at z" in rising.evidence
    lower_at_1 = claims.check_fig16(fig16_frame([0.8, 0.4, 0.1, 0.02, 0.01], biased_recall=ramp(0.5, 0.3, 5)))
    assert lower_at_1[1].outcome == "contradicted"  # the biased recall ends above lam = 1's


def test_fig16_falling_but_not_yet_at_zero_is_undecided_with_the_generation_it_would_reach_it():
    """Falling by 0.1 a generation from 0.85 to 0.45 at generation 5: the line reaches 0.05 near generation 9."""
    halfway = claims.check_fig16(fig16_frame([0.85, 0.75, 0.65, 0.55, 0.45]))
    assert halfway[0].outcome == "undecided"
    assert "near generation 9" in halfway[0].decide and "[supported] recall" in halfway[0].evidence
    noisy = claims.check_fig16(fig16_frame([0.8, 0.4, 0.1, 0.02, 0.01], sem=0.2))
    assert outcomes(noisy) == ["undecided"] * 2
    assert noisy[0].decide and FACTOR.search(noisy[1].decide)


# Fig. 10's DDPM panel: 8 generations, the last 4 the window (the default preset's). The drift margin is 1% of the
# panel's limit (about 1.4 FID here), the agreement margin 5% (about 7 FID).
BURN_IN = [100.0, 125.0, 135.0, 139.0]  # generations 1-4, rising towards the limit


def fig10_panel(windows, window=4, sem=0.5):
    """The DDPM panel's rows as gaussian_studies.fig10 writes them: the FID of one chain per n_ini (its burn-in, then
    the given window values) and ddpm_studies.limits' rows."""
    df = pd.concat([chain_rows(1.0, {"fid": BURN_IN + list(values)}, sem=sem, variant="fresh_data", n_ini=n_ini)
                    for n_ini, values in zip([250, 1000, 4000], windows)], ignore_index=True)
    return pd.concat([df, ddpm_studies.limits(df, by="n_ini", window=window)], ignore_index=True)


def noise(seed, sd=1.0):
    return np.random.default_rng(seed).normal(0.0, sd, 4)


def test_fig10_ddpm_supported_when_the_fid_has_converged_to_one_limit():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + noise(s, 0.05) for s in range(3)], sem=0.05))
    assert (converged.outcome, same.outcome) == ("supported", "supported")
    assert converged.name.startswith("DDPM: the FID has converged")
    assert same.name == "DDPM: same FID limit for every n_ini"


def test_fig10_ddpm_undecided_as_not_yet_converged_while_the_fid_still_rises():
    """Equal limits, but read off windows that still rise by 3 a generation: both checks wait for more generations."""
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + 3 * np.arange(4) + noise(s, 0.05) for s in range(3)],
                                                          sem=0.05))
    assert converged.outcome == "undecided" and converged.decide.startswith("more generations")
    assert same.outcome == "undecided" and same.evidence.startswith("not converged (undecided)") and same.decide


def test_fig10_ddpm_undecided_when_the_window_is_too_noisy_to_show_convergence():
    """Flat windows with noise of SD 1: the drift's interval is wider than the 1% margin."""
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + noise(s) for s in range(3)]))
    assert converged.outcome == "undecided" and converged.decide
    assert same.outcome == "undecided" and same.evidence.startswith("not converged (undecided)")


def test_fig10_ddpm_contradicted_when_converged_limits_differ():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + 15 * i + noise(i, 0.05) for i in range(3)],
                                                          sem=0.05))
    assert (converged.outcome, same.outcome) == ("supported", "contradicted")


def test_fig10_ddpm_window_too_short_to_test_is_undecided():
    converged, same = claims.check_fig10_ddpm(fig10_panel([140 + noise(s) for s in range(3)], window=2))
    assert converged.outcome == "undecided" and "no residual degrees of freedom" in converged.evidence
    assert converged.decide and same.outcome == "undecided"


def test_window_slopes_match_scipy_for_one_chain_and_floor_at_the_evaluation_se():
    from scipy.stats import linregress

    generations, values = np.arange(5.0, 9.0), 140 + 0.7 * np.arange(4) + noise(4)
    slopes, ses, dof = claims.window_slopes(generations, values, np.zeros(4))
    fit = linregress(generations, values)
    assert (slopes[0], ses[0], dof) == (pytest.approx(fit.slope), pytest.approx(fit.stderr), 2)
    line = 140 + 0.7 * np.arange(4)  # no residual: the evaluation SE (2.0) sets the slope's SE
    _, ses, _ = claims.window_slopes(generations, line, np.full(4, 2.0))
    assert ses[0] == pytest.approx(2.0 / np.sqrt(np.sum((generations - generations.mean()) ** 2)))


def test_the_convergence_test_decides_at_its_bonferroni_critical_value():
    """Straight windows (no residual: the evaluation SE sets the slope's SE, sem / sqrt(5) over 4 generations) with a
    drift (slope x 4 / 2) just inside or just outside margin - c SE, c the one-sided t quantile at 0.05 / 6 (one
    panel: 2 checks x 3 chains) on 6 pooled residual degrees of freedom: supported just inside, undecided just
    outside."""
    sem = 0.2
    se = 2 * sem / np.sqrt(5)
    c = claims.critical(6, 6)
    margin = 0.01 * 140  # every window is centred on 140: the panel's limit
    for room, outcome in ((+0.01, "supported"), (-0.01, "undecided")):
        slope = (margin - c * se - room) / 2
        converged, _ = claims.check_fig10_ddpm(fig10_panel([140 + slope * np.arange(-1.5, 2) for _ in range(3)],
                                                           sem=sem))
        assert converged.outcome == outcome, converged.evidence
        assert "0.05/6, t on 6 df" in converged.rule


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
    checks = claims.check_fig07(fig07_frame(ramp(0.3, 0.4), ramp(0.9, 0.5), lam=0.6))
    assert outcomes(checks) == ["supported"] * 3
    assert "lam=0.6" in checks[1].evidence and "lam=1" in checks[1].evidence and "lam=0.6" in checks[2].evidence


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
