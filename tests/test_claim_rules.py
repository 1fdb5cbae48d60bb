"""The three-valued rules of madlib.claims at their edges, and their error rates and power by simulation."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from madlib import claims

SUPPORTED, CONTRADICTED, UNDECIDED = claims.SUPPORTED, claims.CONTRADICTED, claims.UNDECIDED


def test_critical_values_are_bonferroni_one_sided_quantiles():
    assert claims.critical() == pytest.approx(stats.norm.ppf(0.95))
    assert claims.critical(4) == pytest.approx(stats.norm.ppf(1 - 0.05 / 4))
    assert claims.critical(3, dof=9) == pytest.approx(stats.t.ppf(1 - 0.05 / 3, 9))
    assert claims.critical(1, dof=0) == np.inf
    with pytest.raises(ValueError, match="tests"):
        claims.critical(0)


@pytest.mark.parametrize("tests", [1, 6])
def test_difference_is_decided_only_beyond_the_critical_value(tests):
    c = claims.critical(tests)
    outcome = lambda z: claims.difference("d", z, 1.0, "e", tests).outcome  # noqa: E731
    assert [outcome(c + 0.01), outcome(c - 0.01), outcome(0.0), outcome(-c + 0.01), outcome(-c - 0.01)] == [
        SUPPORTED, UNDECIDED, UNDECIDED, UNDECIDED, CONTRADICTED]


def test_an_undecided_difference_says_how_much_more_data_decides_it():
    c = claims.critical(2)
    check = claims.difference("d", 1.0, 1.0, "e", 2)
    factor = float(re.search(r"about ([\d.]+)x", check.decide).group(1))
    assert factor == pytest.approx(((c + stats.norm.ppf(0.8)) / 1.0) ** 2, abs=0.05)
    assert "supported" in check.decide
    against = claims.difference("d", -1.0, 1.0, "e", 2)
    assert against.outcome == UNDECIDED and "contradicted" in against.decide
    assert claims.difference("d", 0.0, 1.0, "e", 2).decide.startswith("no amount of data")
    assert claims.difference("d", np.nan, 1.0, "e", 2).outcome == UNDECIDED


def test_the_power_calculation_delivers_its_power():
    """At the data factor `decide` names, the rule supports the observed effect in about POWER of repeated runs."""
    rng = np.random.default_rng(0)
    effect, se, tests = 0.3, 0.2, 3
    factor = float(re.search(r"about ([\d.]+)x", claims.difference("d", effect, se, "e", tests).decide).group(1))
    c = claims.critical(tests)
    estimates = rng.normal(effect, se / np.sqrt(factor), 20000)
    rate = np.mean(estimates / (se / np.sqrt(factor)) > c)
    assert abs(rate - claims.POWER) < 3 * np.sqrt(0.8 * 0.2 / 20000) + 0.01  # the factor is printed to 0.1


def test_difference_false_support_rate_is_alpha_over_tests():
    rng = np.random.default_rng(1)
    tests, trials = 2, 40000
    z = rng.normal(0.0, 1.0, trials)
    supported = np.mean([claims.difference("d", v, 1.0, "e", tests).outcome == SUPPORTED for v in z[:4000]])
    expected = claims.ALPHA / tests
    assert abs(supported - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000)


def test_equivalence_supports_only_an_interval_inside_the_margin():
    c = claims.critical(1)
    check = lambda d, se: claims.equivalence("e", d, se, -1.0, 1.0, "why", "ev", 1)  # noqa: E731
    assert check(0.0, 1.0 / c - 0.01).outcome == SUPPORTED
    assert check(0.0, 1.0 / c + 0.01).outcome == UNDECIDED  # too noisy: no change is not shown
    assert check(0.0, 100.0).outcome == UNDECIDED  # absence of evidence never supports
    assert check(1.5, 1.5 / c - 0.01).outcome == CONTRADICTED  # outside the margin and significant
    assert check(1.5, 1.5 / c + 0.01).outcome == UNDECIDED  # outside but not significantly different from 0
    assert check(-1.5, 0.1).outcome == CONTRADICTED
    assert "why" in check(0.0, 0.1).rule


def test_equivalence_with_an_open_upper_side_is_a_non_inferiority_test():
    c = claims.critical(1)
    check = lambda d, se: claims.equivalence("e", d, se, -0.05, np.inf, "why", "ev", 1)  # noqa: E731
    assert check(0.3, 0.1).outcome == SUPPORTED  # a rise is no decay
    assert check(0.0, 0.05 / c - 0.001).outcome == SUPPORTED
    assert check(0.0, 0.05 / c + 0.001).outcome == UNDECIDED
    undecided = check(-0.02, 0.05)
    assert undecided.outcome == UNDECIDED and "supported" in undecided.decide
    assert check(-0.1, 0.02).outcome == CONTRADICTED


def test_equivalence_false_support_rate_at_the_margin_edge_is_at_most_alpha():
    """TOST at the edge of the margin (true difference = the margin): supported in at most ALPHA of runs."""
    rng = np.random.default_rng(2)
    estimates = rng.normal(1.0, 0.3, 4000)
    rate = np.mean([claims.equivalence("e", d, 0.3, -1.0, 1.0, "w", "e", 1).outcome == SUPPORTED for d in estimates])
    assert rate < claims.ALPHA + 4 * np.sqrt(claims.ALPHA * (1 - claims.ALPHA) / 4000)
    assert rate > claims.ALPHA / 2  # and it is close to ALPHA there: the test is not needlessly conservative


def chain(values, sem=0.01, start=1):
    return pd.DataFrame({"generation": np.arange(start, start + len(values)), "mean": values, "sem": sem})


def test_slope_agrees_with_scipy_linregress():
    rng = np.random.default_rng(3)
    g = np.arange(1, 13)
    y = 0.5 * g + rng.normal(0, 1, len(g))
    b, se, dof = claims.slope(g, y, np.zeros(len(g)))
    fit = stats.linregress(g, y)
    assert (b, se, dof) == (pytest.approx(fit.slope), pytest.approx(fit.stderr), len(g) - 2)
    _, floored, _ = claims.slope(g, 0.5 * g, np.full(len(g), 2.0))  # a perfect line: the evaluation SE remains
    assert floored == pytest.approx(2.0 / np.sqrt(np.sum((g - g.mean()) ** 2)))


def test_trend_reads_every_generation_not_the_endpoints():
    rising = chain([1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    assert claims.trend("t", rising, +1, 1).outcome == SUPPORTED
    assert claims.trend("t", rising, -1, 1).outcome == CONTRADICTED
    back = chain([1.0, 1.5, 2.0, 2.0, 1.5, 1.05])  # the endpoints differ by 5 SEs, the chain came back
    assert claims.trend("t", back, +1, 1).outcome == UNDECIDED
    assert claims.trend("t", chain([1.0, 2.0]), +1, 1).outcome == UNDECIDED  # no residual degrees of freedom


def test_a_monotone_trend_is_contradicted_by_a_significant_step_back():
    steps = chain([1.0, 1.2, 1.4, 1.6, 1.3, 1.8, 2.0, 2.2])  # one step down by 0.3 = 21 SEs
    assert claims.trend("t", steps, +1, 1).outcome == SUPPORTED
    assert claims.trend("t", steps, +1, 1, monotone=True).outcome == CONTRADICTED
    small = chain([1.0, 1.2, 1.4, 1.6, 1.59, 1.8, 2.0, 2.2])  # a step down within noise
    assert claims.trend("t", small, +1, 1, monotone=True).outcome == SUPPORTED


def test_trend_false_support_rate_on_pure_noise_is_at_most_alpha():
    rng = np.random.default_rng(4)
    trials = 2000
    supported = sum(claims.trend("t", chain(rng.normal(0, 1, 10), sem=0.0), +1, 1).outcome == SUPPORTED
                    for _ in range(trials))
    assert supported / trials < claims.ALPHA + 4 * np.sqrt(claims.ALPHA * (1 - claims.ALPHA) / trials)


def test_reaches_a_level_eventually():
    assert claims.reaches("r", chain([0.5, 0.3, 0.1, 0.01], sem=0.005), 0.05, 1).outcome == SUPPORTED
    falling = claims.reaches("r", chain([0.9, 0.8, 0.7, 0.6, 0.5], sem=0.005), 0.05, 1)
    assert falling.outcome == UNDECIDED and "generation 10" in falling.decide  # 0.5 - 0.1 per generation
    assert claims.reaches("r", chain([0.5, 0.6, 0.7, 0.8, 0.9], sem=0.005), 0.05, 1).outcome == CONTRADICTED


def test_all_of_and_the_verdict():
    s, c, u = (claims.Check(o, o, "e") for o in (SUPPORTED, CONTRADICTED, UNDECIDED))
    assert claims.all_of("a", [s, s]).outcome == SUPPORTED
    assert claims.all_of("a", [s, u]).outcome == UNDECIDED
    assert claims.all_of("a", [u, c]).outcome == CONTRADICTED
    assert claims.verdict([s, s]) == claims.HOLDS
    assert claims.verdict([s, u]) == claims.INCONCLUSIVE
    assert claims.verdict([s, u, c]) == claims.CONTRADICTED
    assert claims.verdict([]) == claims.NO_CLAIM
    with pytest.raises(ValueError, match="outcome must be one of"):
        claims.Check("x", "holds", "e")


def test_a_check_of_several_parts_says_what_decides_all_of_them():
    parts = [claims.difference("a", 1.0, 1.0, "e", 1), claims.difference("b", 1.4, 1.0, "e", 1),
             claims.trend("c", chain([1.0, 3.0, 1.5, 3.5, 2.0, 3.0]), +1, 1)]
    factors = [float(re.search(r"about ([\d.]+)x", p.decide).group(1)) for p in parts[:2]]
    combined = claims.all_of("all", parts)
    assert combined.outcome == UNDECIDED
    assert f"about {max(factors):.1f}x the replicates" in combined.decide  # every part must be shown: the largest
    assert "x the generations" in combined.decide and "the most demanding of 3 undecided parts" in combined.decide
    nested = claims.all_of("outer", [combined, claims.difference("d", 0.5, 1.0, "e", 1)])
    assert nested.decide.count("the most demanding") == 1
