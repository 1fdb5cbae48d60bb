"""The paper's claims as checks over a figure's tidy data (madlib.tidy), judged by three-valued rules.

Outcomes and verdicts
---------------------
Every check ends *supported*, *contradicted* or *undecided*. A figure's claim **holds** when every check is
supported, is **contradicted** when any check is contradicted, and is **inconclusive** otherwise. At the smoke preset
the checks still run (so CI exercises them) but the verdict is "not assessed"; a diagram or a sample grid has "no
claim". A check's test is one of the rules below, and nothing else decides it.

The level
---------
Each rule is a one-sided test at level ALPHA / tests, where ``tests`` (Bonferroni) is written beside the check: at
least the number of checks of the figure, times the number of settings one check runs over (e.g. "for every lam").
So the chance that a figure shows any wrong decisive outcome is at most ALPHA (5%) when the SEs are right. Most SEs
are Monte-Carlo standard errors of a mean over replicates (Student t on replicates - 1 degrees of freedom) or, for
one chain per setting (the image figures), of the evaluation (binomial or bootstrap: normal quantiles); those do not
see the training noise between chains, which the README states where it matters. The critical value is
``c = critical(tests, dof)``, the 1 - ALPHA / tests quantile.

The rules
---------
1. **A difference in a stated direction** (:func:`difference`): for an estimate d with standard error s, signed so
   that the claim says d > 0: supported when d / s > c, contradicted when d / s < -c, undecided otherwise.
2. **No change, or equality** (:func:`equivalence`, two one-sided tests): a margin [lower, upper] is written beside
   the check with the reason for its size. Supported when the whole interval d -+ c s lies inside it (each one-sided
   test rejects "beyond the margin" at ALPHA / tests); contradicted when d lies outside the margin and differs from 0
   significantly (|d| / s > c, on the side it left by); undecided otherwise. A one-sided margin (upper = inf: "does not
   fall by more than ...") is a non-inferiority test. An interval too wide for the margin is undecided: "no
   significant change" alone never supports a claim of no change.
3. **A trend** ("steadily", "monotonically", "eventually", "converges"; :func:`trend`): the least-squares slope of
   the values over every generation, with its SE from the larger of the residual variance and the mean evaluation
   variance, on n - 2 degrees of freedom; then rule 1 on the slope. A monotone claim also tests every step between
   consecutive generations: a step significantly against the direction (at ALPHA / (tests x steps)) contradicts it.
   Residuals of a chain are autocorrelated (a random walk), which makes the slope's SE optimistic; a trend claim is
   therefore never read off a handful of generations alone.
4. **A level to reach eventually** (:func:`reaches`): supported when the last value's upper bound is below the level;
   contradicted when the trend (rule 3) moves significantly away from it; otherwise undecided, with the generation at
   which the fitted trend would reach it.

What would decide an undecided check (a power calculation, ``decide``): at the observed effect d, a test at level
ALPHA / tests with power POWER needs s' = |d| / (c + z_POWER); since an SE falls as one over the square root of the
data behind it (replicates, evaluation samples or chains), that is (s / s')^2 times the data. For rule 2 the effect
is the distance from d to the nearer edge of the margin. The factor tells a reader whether the ``paper`` preset (its
sizes are in presets.py) would settle the check.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from madlib import presets, tidy
from madlib.runs import atomic_write_bytes

ALPHA = 0.05  # each figure's family-wise level
POWER = 0.80  # the power a "what would decide it" calculation asks for
SUPPORTED, CONTRADICTED, UNDECIDED = "supported", "contradicted", "undecided"
OUTCOMES = (SUPPORTED, CONTRADICTED, UNDECIDED)
HOLDS, INCONCLUSIVE, NOT_ASSESSED_VERDICT, NO_CLAIM = "holds", "inconclusive", "not assessed", "no claim"
VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_ASSESSED_VERDICT, NO_CLAIM)
FORMAT = 2  # claims.json layout: 2 = three-valued outcomes (1 had holds: true/false)


@dataclass
class Check:
    """One check of a claim: its outcome (one of OUTCOMES), the numbers behind it, the rule that judged it and, when
    undecided, what data would decide it."""

    name: str
    outcome: str
    evidence: str
    rule: str = ""
    decide: str = ""

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"claims: outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @property
    def holds(self) -> bool:
        return self.outcome == SUPPORTED


def critical(tests: int = 1, dof: float = np.inf) -> float:
    """The one-sided critical value at level ALPHA / tests: Student t on `dof` degrees of freedom (normal when
    infinite; infinite when dof < 1, so nothing is decided on no degrees of freedom)."""
    from scipy import stats

    if tests < 1:
        raise ValueError(f"claims: tests must be a positive count, not {tests!r}")
    level = 1 - ALPHA / tests
    if not np.isfinite(dof):
        return float(stats.norm.ppf(level))
    return float(stats.t.ppf(level, dof)) if dof >= 1 else np.inf


def _data_factor(effect: float, se: float, c: float) -> float:
    """How many times the data behind `se` a test of an effect `effect` (> 0) at critical value c needs for POWER."""
    from scipy import stats

    if not np.isfinite(c):
        return np.inf
    needed = effect / (c + float(stats.norm.ppf(POWER)))
    return (se / needed) ** 2 if needed > 0 else np.inf


def _more_data(factor: float, outcome: str, unit: str) -> str:
    if not np.isfinite(factor):
        return "no amount of data at the observed effect: it is zero or no SE can be formed"
    return f"about {max(factor, 1.0):.1f}x the {unit} -> {outcome} ({POWER:.0%} power at the observed effect)"


def _rule_text(kind: str, tests: int, dof: float) -> str:
    level = f"one-sided {ALPHA:g}/{tests}" if tests > 1 else f"one-sided {ALPHA:g}"
    on = f", t on {dof:g} df" if np.isfinite(dof) else ", normal"
    return f"{kind} ({level}{on})"


UNIT = "replicates (or evaluation samples) per value"


def difference(name: str, estimate: float, se: float, evidence: str, tests: int, dof: float = np.inf,
               unit: str = UNIT) -> Check:
    """Rule 1: the claim says estimate > 0 (sign the estimate so)."""
    c = critical(tests, dof)
    rule = _rule_text("difference", tests, dof)
    if not (np.isfinite(estimate) and np.isfinite(se)):
        return Check(name, UNDECIDED, evidence + " (no finite estimate or SE)", rule,
                     "a run in which the quantity is defined")
    z = estimate / se if se > 0 else (np.sign(estimate) * np.inf if estimate else 0.0)
    evidence = f"{evidence}; z = {z:+.2f} against ±{c:.2f}"
    if z > c:
        return Check(name, SUPPORTED, evidence, rule)
    if z < -c:
        return Check(name, CONTRADICTED, evidence, rule)
    towards = SUPPORTED if estimate > 0 else CONTRADICTED
    return Check(name, UNDECIDED, evidence, rule, _more_data(_data_factor(abs(estimate), se, c), towards, unit))


def equivalence(name: str, estimate: float, se: float, lower: float, upper: float, margin_reason: str,
                evidence: str, tests: int, dof: float = np.inf, unit: str = UNIT) -> Check:
    """Rule 2: the claim says lower < estimate < upper (no change beyond the margin; upper = inf: no fall)."""
    c = critical(tests, dof)
    rule = _rule_text("equivalence", tests, dof) + f"; margin [{lower:.4g}, {upper:.4g}]: {margin_reason}"
    if not (np.isfinite(estimate) and np.isfinite(se)):
        return Check(name, UNDECIDED, evidence + " (no finite estimate or SE)", rule,
                     "a run in which the quantity is defined")
    low, high = estimate - c * se, estimate + c * se
    evidence = f"{evidence}; interval [{low:.4g}, {high:.4g}] against the margin [{lower:.4g}, {upper:.4g}]"
    if lower < low and high < upper:
        return Check(name, SUPPORTED, evidence, rule)
    significant = abs(estimate) > c * se
    if significant and (estimate < lower or estimate > upper):
        return Check(name, CONTRADICTED, evidence, rule)
    if lower < estimate < upper:  # inside: more data would narrow the interval into the margin
        room = min(estimate - lower, upper - estimate)
        return Check(name, UNDECIDED, evidence, rule, _more_data(_data_factor(room, se, c), SUPPORTED, unit))
    return Check(name, UNDECIDED, evidence, rule, _more_data(_data_factor(abs(estimate), se, c), CONTRADICTED, unit))


def slope(generations, values, sems) -> tuple[float, float, int]:
    """Least-squares slope of `values` against `generations`, its SE (from the larger of the residual variance and the
    mean of sems^2; NaN SEs count as 0) and the residual degrees of freedom n - 2 (see scattered)."""
    x = np.asarray(generations, dtype=float)
    y = np.asarray(values, dtype=float)
    x = x - x.mean()
    sxx = float(x @ x)
    dof = len(y) - 2
    if dof < 1 or sxx == 0:
        return np.nan, np.nan, max(dof, 0)
    b = float(x @ y / sxx)
    residual = float(np.sum((y - y.mean() - b * x) ** 2) / dof)
    evaluation = float(np.mean(np.nan_to_num(np.asarray(sems, dtype=float)) ** 2))
    return b, float(np.sqrt(max(residual, evaluation) / sxx)), dof


def scattered(generations, values, sems) -> bool:
    """Does the scatter of the values about their line exceed their evaluation noise (so that more generations, not
    more data per generation, would sharpen the slope)?"""
    x = np.asarray(generations, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(y) < 3:
        return True
    fit = np.polyval(np.polyfit(x, y, 1), x)
    return float(np.sum((y - fit) ** 2) / (len(y) - 2)) > float(np.mean(np.nan_to_num(np.asarray(sems, float)) ** 2))


def trend(name: str, rows: pd.DataFrame, direction: int, tests: int, monotone: bool = False, label: str = "",
          unit: str = UNIT) -> Check:
    """Rule 3 over every generation of `rows` (columns generation, mean, sem of one chain or one setting):
    direction +1 says the values rise, -1 that they fall."""
    rows = rows.sort_values("generation")
    g, m, s = (rows[k].to_numpy(float) for k in ("generation", "mean", "sem"))
    b, se, dof = slope(g, m, s)
    text = (f"{label}{m[0]:.4g} at t={g[0]:g} -> {m[-1]:.4g} at t={g[-1]:g}; slope {b:+.4g}±{se:.2g} per "
            f"generation over {len(g)} generations" if len(g) else f"{label}no rows")
    check = difference(name, direction * b, se, text, tests, dof, unit)
    check.rule = check.rule.replace("difference", "trend (least-squares slope)", 1)
    if check.outcome == UNDECIDED and scattered(g, m, s):  # the SE comes from the chain itself: the slope needs time
        factor = re.search(r"about ([\d.]+)x", check.decide)
        check.decide = ("more generations: the scatter between generations sets the slope's SE" +
                        (f"; at the observed slope about {float(factor.group(1)) ** (1 / 3):.1f}x the generations"
                         if factor else "") + " (the SE of a slope falls as generations^-1.5)")
    if not monotone or check.outcome == CONTRADICTED or len(g) < 2:
        return check
    steps = direction * np.diff(m) / np.fmax(np.hypot(s[1:], s[:-1]), 1e-300)
    c_step = critical(tests * len(steps))
    worst = int(np.argmin(steps))
    check.rule += f"; monotone: no step against it beyond {c_step:.2f} (one-sided {ALPHA:g}/{tests * len(steps)})"
    check.evidence += f"; most adverse step t={g[worst]:g}->{g[worst + 1]:g}: z = {steps[worst]:+.2f}"
    if steps[worst] < -c_step:
        return Check(name, CONTRADICTED, check.evidence, check.rule)
    return check


def reaches(name: str, rows: pd.DataFrame, level: float, tests: int, label: str = "") -> Check:
    """Rule 4: the values (one chain, columns generation, mean, sem) fall below `level` by the last generation."""
    rows = rows.sort_values("generation")
    g, m, s = (rows[k].to_numpy(float) for k in ("generation", "mean", "sem"))
    c = critical(tests)
    b, se, dof = slope(g, m, s)
    upper = m[-1] + c * s[-1]
    evidence = (f"{label}{m[-1]:.4g}±{s[-1]:.2g} at t={g[-1]:g} (upper bound {upper:.4g} against {level:g}); slope "
                f"{b:+.4g}±{se:.2g} per generation")
    rule = f"level reached (one-sided {ALPHA:g}/{tests}); trend away from it contradicts"
    if upper < level:
        return Check(name, SUPPORTED, evidence, rule)
    c_trend = critical(tests, dof)
    if np.isfinite(se) and se > 0 and b / se > c_trend:
        return Check(name, CONTRADICTED, evidence + f"; rising at z = {b / se:+.2f} > {c_trend:.2f}", rule)
    if m[-1] < level:
        decide = _more_data(_data_factor(level - m[-1], s[-1], c), SUPPORTED, "evaluation samples of the last value")
    elif np.isfinite(b) and b < 0:
        at = g[-1] + (m[-1] - level) / -b
        decide = f"more generations: the fitted trend reaches {level:g} near generation {at:.0f}"
    else:
        decide = "more generations, at a falling trend (none is seen yet)"
    return Check(name, UNDECIDED, evidence, rule, decide)


def all_of(name: str, parts: list[Check]) -> Check:
    """One check made of several (e.g. one per lam): supported when all are, contradicted when any is."""
    outcomes = {p.outcome for p in parts}
    outcome = CONTRADICTED if CONTRADICTED in outcomes else SUPPORTED if outcomes == {SUPPORTED} else UNDECIDED
    evidence = "; ".join(f"[{p.outcome}] {p.evidence}" for p in parts)
    decide = _decisive([p.decide for p in parts if p.outcome == UNDECIDED and p.decide])
    rules = "; ".join(dict.fromkeys(p.rule for p in parts if p.rule))
    return Check(name, outcome, evidence, rules, decide if outcome == UNDECIDED else "")


def _decisive(decides: list[str], every: bool = True) -> str:
    """What would decide a check made of parts, for each kind of data asked for (replicates, generations, ...):
    when every part must be supported, the undecided part that needs the most of it; when any one suffices
    (every=False), the one that needs the least."""
    if not decides:
        return ""
    factor = lambda text: float(m.group(1)) if (m := re.search(r"about ([\d.]+)x", text)) else np.inf  # noqa: E731
    kind = lambda text: m.group(1) if (m := re.search(r"x the ([a-z ()]+)", text)) else text  # noqa: E731
    decides = [re.sub(r" \(the most demanding of \d+ undecided parts\)$", "", text) for text in decides]
    groups: dict[str, list[str]] = {}
    for text in dict.fromkeys(decides):
        groups.setdefault(kind(text), []).append(text)
    picked = [sorted(texts, key=factor, reverse=every)[0] for texts in groups.values()]
    if not every:
        return "; or ".join(picked)
    count = len(dict.fromkeys(decides))
    return "; and ".join(picked) + (f" (the most demanding of {count} undecided parts)" if count > 1 else "")


def verdict(checks: list[Check]) -> str:
    """holds (every check supported), contradicted (any contradicted), inconclusive (otherwise); no checks: no claim."""
    if not checks:
        return NO_CLAIM
    outcomes = {c.outcome for c in checks}
    if CONTRADICTED in outcomes:
        return CONTRADICTED
    return HOLDS if outcomes == {SUPPORTED} else INCONCLUSIVE


def _z(a: float, sa: float, b: float, sb: float) -> float:
    """z-score of a - b for independent estimates with standard errors sa, sb."""
    return (a - b) / max(np.hypot(sa, sb), 1e-300)


def _at(df: pd.DataFrame, metric: str, **where) -> pd.DataFrame:
    mask = df["metric"] == metric
    for key, value in where.items():
        mask &= np.isclose(df[key].astype(float), value)
    return df[mask]


def _one(df: pd.DataFrame, metric: str, **where) -> tuple[float, float]:
    row = _at(df, metric, **where)
    if len(row) != 1:
        raise ValueError(f"claims: expected one row of {metric} at {where}, found {len(row)}")
    return float(row["mean"].iloc[0]), float(row["sem"].iloc[0])


# Fig. S1 -----------------------------------------------------------------------------------------------------------
# Every value is a mean over the replicates of one chain per (lam, n_s) (batched, independent), with its SE between
# replicates: Student t on replicates - 1 degrees of freedom. A difference between a replicate mean at two
# generations of one chain takes the sum of the two SEs (valid whatever their correlation); one between two settings
# (independent chains) takes their hypot.
#
# Margins. "E[mu_t] = mu_0": E[mu_t[0]] lies within S1_DRIFT_SHARE of the walks' own SD at t (between replicates) of
# mu_0 = 0. Why a half: a systematic shift of half the walks' spread would show as a plain asymmetry of the walks
# the figure draws; anything less leaves each walk's excursion mostly its own chance (the paper's "randomly biasing").
# "E[tr Sigma_t] = lam^(t-1) tr Sigma_1": the ratio of the two lies within (1 -+ S1_RATE_MARGIN)^(t-1), i.e. the mean
# trace shrinks per generation by a factor within 1% of lam. Why 1%: a fifth of the smallest gap between the lams
# the figure compares (0.95 to 1), so a rate inside it is lam's and no neighbour's.
S1_DRIFT_SHARE = 0.5
S1_RATE_MARGIN = 0.01


def _replicates(df: pd.DataFrame) -> int:
    """The fewest replicates behind a row (column ``replicates``; 1 without it: nothing can be decided on it)."""
    return int(df["replicates"].min()) if "replicates" in df and df["replicates"].notna().any() else 1


def check_figS1(df: pd.DataFrame) -> list[Check]:
    settings = list(df[["lam", "n_s"]].drop_duplicates().sort_values(["lam", "n_s"]).itertuples(index=False))
    last = int(df["generation"].max())
    probe = [t for t in (10, 50) if t <= last] or [last]  # short explored runs: the last generation
    count = _replicates(df)
    dof = count - 1
    walk, trace, falls = [], [], []
    for lam, n_s in settings:
        label = f"lam={lam:g}, n_s={n_s:g}: "
        # the walk: no drift of E[mu_t] (rule 2) and E|mu_t - mu_0| larger at the last generation than at the first
        tests = 5 * 2 * len(settings)  # 5 checks x (2 parts x settings)
        m, s = _one(df, "mean_1", lam=lam, n_s=n_s, generation=last)
        spread = s * np.sqrt(count)  # the walks' SD between replicates at t = last
        walk.append(equivalence(
            f"{label}no drift", m, s, -S1_DRIFT_SHARE * spread, S1_DRIFT_SHARE * spread,
            f"{S1_DRIFT_SHARE:g} x the walks' SD at t={last} (claims.S1_DRIFT_SHARE)",
            f"{label}E[mu_t[0]] at t={last}: {m:.4g}±{s:.2g} (walks' SD {spread:.3g})", tests, dof))
        a, sa = _one(df, "mean_norm", lam=lam, n_s=n_s, generation=1)
        b, sb = _one(df, "mean_norm", lam=lam, n_s=n_s, generation=last)
        walk.append(difference(f"{label}wanders", b - a, sa + sb,
                               f"{label}E|mu_t - mu_0| {a:.3g}±{sa:.2g} at t=1 -> {b:.3g}±{sb:.2g} at t={last}",
                               tests, dof))
        # the mean trace at the probes (rule 2 on the ratio minus 1)
        tests = 5 * len(probe) * len(settings)  # 5 checks x (probes x settings)
        t1, s1 = _one(df, "trace", lam=lam, n_s=n_s, generation=1)
        for t in probe:
            tt, st = _one(df, "trace", lam=lam, n_s=n_s, generation=t)
            expected = lam ** (t - 1) * t1
            ratio = tt / expected
            trace.append(equivalence(
                f"{label}t={t}", ratio - 1, (st + lam ** (t - 1) * s1 * ratio) / expected,
                (1 - S1_RATE_MARGIN) ** (t - 1) - 1, (1 + S1_RATE_MARGIN) ** (t - 1) - 1,
                f"a rate per generation within {S1_RATE_MARGIN:.0%} of lam over t - 1 = {t - 1} generations "
                "(claims.S1_RATE_MARGIN)",
                f"{label}E[tr Sigma_{t}] = {tt:.4g}±{st:.2g} against lam^{t - 1} E[tr Sigma_1] = {expected:.4g} "
                f"(ratio {ratio:.3f})", tests, dof))
        # the collapse: E[log tr Sigma_t] falls over every generation (slope) and from the first to the last
        tests = 5 * 2 * len(settings)  # 5 checks x (2 parts x settings)
        rows = df[(df["metric"] == "log_trace") & np.isclose(df["lam"], lam) & np.isclose(df["n_s"], n_s)]
        rows = rows.sort_values("generation")
        a, sa = float(rows["mean"].iloc[0]), float(rows["sem"].iloc[0])
        b, sb = float(rows["mean"].iloc[-1]), float(rows["sem"].iloc[-1])
        falls.append(trend(f"{label}slope", rows, -1, tests, label=f"{label}E[log tr Sigma_t] "))
        falls.append(difference(f"{label}fall", a - b, sa + sb,
                                f"{label}E[log tr Sigma_t] {a:.3f}±{sa:.2g} at t=1 -> {b:.3f}±{sb:.2g} at t={last}",
                                tests, dof))
    lam_order, ns_order = _collapse_orderings(df, last, dof)
    return [
        all_of("E[mu_t] = mu_0: the mean wanders without drift", walk),
        all_of("E[tr Sigma_t] = lam^(t-1) E[tr Sigma_1]", trace),
        all_of("Sigma_t shrinks (E[log tr Sigma_t] falls) in every setting", falls),
        lam_order,
        ns_order,
    ]


def _collapse_orderings(df: pd.DataFrame, last: int, dof: float) -> tuple[Check, Check]:
    """"Faster for smaller lam" and "slower for larger n_s": E[log tr Sigma_last] rises along lam at each n_s, and
    along n_s at each lam (every chain starts from the same fit on n_ini, so the level at the last generation is the
    fall so far); rule 1 on each adjacent pair of independent chains."""
    final = _at(df, "log_trace", generation=last)

    def increasing(name: str, key: str, fixed: str) -> Check:
        groups = [(value, g.sort_values(key)) for value, g in final.groupby(fixed)]
        pairs = [(value, a, b) for value, g in groups for a, b in zip(g.itertuples(), g.iloc[1:].itertuples())]
        tests = 5 * max(len(pairs), 1)  # 5 checks x adjacent pairs
        parts = [difference(f"{fixed}={value:g}", getattr(b, "mean") - getattr(a, "mean"),
                            float(np.hypot(a.sem, b.sem)),
                            f"{fixed}={value:g}: E[log tr Sigma_{last}] {key}={getattr(a, key):g} -> "
                            f"{getattr(a, 'mean'):.2f}±{a.sem:.2g}, {key}={getattr(b, key):g} -> "
                            f"{getattr(b, 'mean'):.2f}±{b.sem:.2g}", tests, dof)
                 for value, a, b in pairs]
        if not parts:
            return Check(name, UNDECIDED, f"a single {key}: nothing to compare", "", f"runs at two or more {key}")
        return all_of(name, parts)

    return (increasing("faster for smaller lam", "lam", "n_s"), increasing("slower for larger n_s", "n_s", "lam"))


# Fig. 10 -----------------------------------------------------------------------------------------------------------
# Each panel (a Gaussian lam, the DDPM) is judged in two steps, both equivalence tests (rule 2): has every n_ini chain
# converged (no drift over its window), and do their limits agree? A limit is the mean over a chain's last `window`
# generations, which follow a burn-in (presets: Fig. 10's windows). A panel that has not been shown to converge leaves
# its agreement check undecided: a limit read off a moving window is no limit. A window that still drifts
# significantly is undecided too, not contradicted: the claim is about where the loop ends, and a run that stopped
# while still moving can neither show nor refute it; more generations decide it.
#
# The drift of a window is its second half's mean minus its first half's (for a straight line: the slope x window /
# 2). Gaussian chains (batched replicates): the drift is read off the per-generation WD rows (the mean over
# replicates of each replicate's drift, exactly); its SE is bounded by twice the limit's SE, since a replicate's drift
# A - B and its window mean (A + B) / 2 have variances 2V - 2C and (V + C) / 2, and the halves of a fresh data loop
# (a contracting chain that carries part of its last fit forward) are not negatively correlated, C >= 0. The exact SE
# would need the drift's own SE (gaussian_studies.fresh_limit keeps only its z, drift_z, shown beside). Student t on
# replicates - 1. A DDPM chain is one run per n_ini: its drift is the least-squares slope over the window x window / 2,
# with the slope's SE from window_slopes (residual variance pooled over the panel's chains), Student t on the pooled
# residual degrees of freedom.
#
# Margins, both a share of the panel's limit (the mean of its chains' limits):
# - the limits agree within FIG10_LIMIT_SHARE = 5%. Why: eq. (3) makes the limit a function of (n_r, n_s, lam)
#   alone, and Figs. 11-12 read n_e off it; the Gaussian WD falls like n^(-1/2), so 5% of it is about 10% of n_e, under
#   half the factor 2 to 2.5 between neighbouring n_s of those figures' grid: limits within it are one limit for every
#   use the paper makes of them. (The generation-1 spread, which the loop must forget, is shown beside it.)
# - a window drifts by less than FIG10_DRIFT_SHARE = 1%. Why: a fifth of the agreement margin, so a drift left in a
#   window cannot carry its limit across the agreement margin unless it kept its pace for five more half-windows,
#   which a chain that forgets its start geometrically does not.
FIG10_LIMIT_SHARE = 0.05
FIG10_DRIFT_SHARE = 0.01


def _fig10_tests(df: pd.DataFrame) -> int:
    """Bonferroni count of each Fig. 10 check: 2 checks per panel (each Gaussian lam, the DDPM) x the most settings one
    check runs over (its chains, or its pairs of n_ini)."""
    gaussian, ddpm = _at(df, "wd_limit"), _at(df, "fid_limit")
    panels = [g for _, g in gaussian.groupby("lam")] + ([ddpm] if not ddpm.empty else [])
    chains = max(len(p) for p in panels) if panels else 1
    return 2 * len(panels) * max(chains, chains * (chains - 1) // 2, 1)


def window_slopes(generations: np.ndarray, values: np.ndarray, sems: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-squares slope of each chain's window (a row of `values`, at `generations`) and its SE, from the residual
    variance pooled over the chains (floored at the chain's mean evaluation variance, `sems` squared; a NaN SE counts
    as 0), and the pooled residual degrees of freedom, chains x (window - 2); with none, the SEs are NaN."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    sems = np.nan_to_num(np.atleast_2d(np.asarray(sems, dtype=float)))
    x = np.asarray(generations, dtype=float) - np.mean(generations)
    sxx = float(x @ x)
    slopes = values @ x / sxx
    residuals = values - values.mean(axis=1, keepdims=True) - np.outer(slopes, x)
    dof = values.shape[0] * (values.shape[1] - 2)
    pooled = float(np.sum(residuals**2) / dof) if dof > 0 else np.nan
    variance = np.fmax(pooled, np.mean(sems**2, axis=1)) if dof > 0 else np.full(len(slopes), np.nan)
    return slopes, np.sqrt(variance / sxx), dof


def _converged(name: str, keys, drifts, ses, limit: float, tests: int, dof: float, how: str) -> Check:
    """Rule 2 on every chain's window drift against -+FIG10_DRIFT_SHARE of the panel's limit."""
    margin = FIG10_DRIFT_SHARE * abs(limit)
    reason = f"{FIG10_DRIFT_SHARE:.0%} of the panel's limit {limit:.4g} (claims.FIG10_DRIFT_SHARE)"
    parts = [equivalence(f"n_ini={k:g}", d, s, -margin, margin, reason, f"n_ini={k:g}: drift {d:+.3g}±{s:.2g}",
                         tests, dof) for k, d, s in zip(keys, drifts, ses)]
    check = all_of(name, parts)
    check.evidence = f"{how}; {check.evidence}"
    if check.outcome == CONTRADICTED:  # still moving: the run stopped before its limit, which it does not refute
        moving = ", ".join(p.name for p in parts if p.outcome == CONTRADICTED)
        return Check(name, UNDECIDED, check.evidence, check.rule,
                     f"more generations: the window of {moving} still drifts beyond the margin, so the run ended "
                     "before its limit (a finite run that still moves neither shows nor refutes convergence)")
    return check


def _panel_checks(name: str, converged: Check, limits: pd.DataFrame, digits: int, start_text: str, tests: int,
                  dof: float) -> list[Check]:
    """The panel's convergence check and its agreement check `name`: every pair of n_ini limits differs by less than
    FIG10_LIMIT_SHARE of the panel's limit (rule 2); undecided while convergence is not supported."""
    rows = list(limits.sort_values("n_ini").itertuples())
    limit = float(np.mean([r.mean for r in rows]))
    margin = FIG10_LIMIT_SHARE * abs(limit)
    reason = f"{FIG10_LIMIT_SHARE:.0%} of the panel's limit {limit:.4g} (claims.FIG10_LIMIT_SHARE)"
    text = ", ".join(f"n_ini={r.n_ini:g}: {r.mean:.{digits}f}±{r.sem:.{digits}f}" for r in rows)
    parts = [equivalence(f"n_ini={a.n_ini:g} vs {b.n_ini:g}", b.mean - a.mean, float(np.hypot(a.sem, b.sem)),
                         -margin, margin, reason, f"n_ini={b.n_ini:g} minus n_ini={a.n_ini:g}: "
                         f"{b.mean - a.mean:+.{digits}f}", tests, dof)
             for i, a in enumerate(rows) for b in rows[i + 1:]]
    agree = all_of(name, parts)
    agree.evidence = f"limits {text} ({start_text}); {agree.evidence}"
    if converged.outcome != SUPPORTED:
        agree = Check(name, UNDECIDED, f"not converged ({converged.outcome}): {agree.evidence}", agree.rule,
                      "windows shown to have converged first (a longer burn-in or more generations)")
    return [converged, agree]


def _gaussian_converged(lam: float, limits: pd.DataFrame, df: pd.DataFrame, tests: int) -> Check:
    """Every n_ini chain of a Gaussian panel has no drift over its window (its wd rows and wd_limit rows)."""
    window = int(limits["window"].iloc[0])
    name = f"lam={lam:g}: the WD has converged (no drift over the last {window} generations of any n_ini)"
    dof = _replicates(limits) - 1
    keys, drifts, ses, zs = [], [], [], []
    for row in limits.sort_values("n_ini").itertuples():
        tail = _at(df, "wd", lam=lam, n_ini=row.n_ini).sort_values("generation")["mean"].to_numpy(float)[-window:]
        if len(tail) < window or dof < 1:
            return Check(name, UNDECIDED, f"n_ini={row.n_ini:g}: {len(tail)} WD rows of a window of {window}, "
                                          f"{dof + 1} replicates: no drift can be tested", "",
                         "the chain's WD at every generation of its window, over two or more replicates")
        half = window // 2
        keys.append(row.n_ini)
        drifts.append(float(tail[half:].mean() - tail[:half].mean()))
        ses.append(2 * float(row.sem))
        zs.append(getattr(row, "drift_z", np.nan))
    how = ("drift = the window's second half minus its first (mean WD over replicates), SE at most twice the limit's; "
           "fresh_limit's drift z " + ", ".join(f"{z:+.2f}" for z in zs))
    return _converged(name, keys, drifts, ses, float(limits["mean"].mean()), tests, dof, how)


def check_fig10(df: pd.DataFrame) -> list[Check]:
    tests = _fig10_tests(df)  # 2 checks per panel x the most chains or pairs of n_ini a check runs over
    checks = []
    for lam, part in _at(df, "wd_limit").groupby("lam"):
        first = [_one(df, "wd", lam=lam, n_ini=n, generation=1) for n in sorted(part["n_ini"])]
        start = f"generation-1 WDs {first[0][0]:.3g} to {first[-1][0]:.3g}"
        checks += _panel_checks(f"lam={lam:g}: same limit for every n_ini", _gaussian_converged(lam, part, df, tests),
                                part, 4, start, tests, _replicates(part) - 1)
    return checks + check_fig10_ddpm(df)


# Figs. 11 and 12 ---------------------------------------------------------------------------------------------------
def admissible_threshold(n_s: np.ndarray, ratio: np.ndarray) -> float:
    """Largest n_s with n_e / n_r >= 1, log-interpolated where the ratio crosses 1 (inf if every n_s is
    admissible, 0 if none is)."""
    order = np.argsort(n_s)
    n_s, ratio = np.asarray(n_s, float)[order], np.asarray(ratio, float)[order]
    below = np.nonzero(ratio < 1.0)[0]
    if len(below) == 0:
        return np.inf
    i = below[0]
    if i == 0:
        return 0.0
    x0, x1, y0, y1 = np.log(n_s[i - 1]), np.log(n_s[i]), ratio[i - 1], ratio[i]
    return float(np.exp(x0 + (y0 - 1.0) / (y0 - y1) * (x1 - x0)))


def thresholds(df: pd.DataFrame, by: str) -> dict[float, float]:
    rows = _at(df, "n_e_over_n_r")
    return {key: admissible_threshold(g["n_s"].to_numpy(), g["mean"].to_numpy()) for key, g in rows.groupby(by)}


def _fmt(thr: dict[float, float], key: str) -> str:
    return ", ".join(f"{key}={k:g}: {'all' if np.isinf(v) else f'{v:.0f}'}" for k, v in sorted(thr.items()))


# The thresholds' SEs. A threshold is log-interpolated between the two grid points where n_e / n_r crosses 1, so its
# log has a delta-method SE from the SEs of the ratio at those two points (independent chains; the reference curve
# that n_e is read off is shared, and its own SE, already in each ratio's, is counted as if independent). Student t
# on replicates - 1. The interpolation itself (the ratio is not linear in log n_s between grid points) is a systematic
# error that no SE covers; a finer n_s grid would bound it. A threshold beyond the grid ("all n_s admissible", or
# none) is only known to lie beyond its edge, which the ratio at the edge shows (n_e / n_r - 1 or 1 - n_e / n_r,
# rule 1). "Threshold a below threshold b" is then supported when every such piece is significantly positive,
# contradicted when the reverse is, and carries no information when both lie beyond the same edge.
FIG11_FLAT_SLOPE = 0.25


def _threshold_estimate(rows: pd.DataFrame) -> dict:
    """One setting's threshold (its n_e_over_n_r rows): kind finite (log and its SE), above (every n_s admissible:
    gap = ratio - 1 at the largest n_s) or below (none: gap = 1 - ratio at the smallest)."""
    rows = rows.sort_values("n_s")
    n_s, r, s = (rows[k].to_numpy(float) for k in ("n_s", "mean", "sem"))
    below = np.nonzero(r < 1.0)[0]
    if len(below) == 0:
        return {"kind": "above", "log": float(np.log(n_s[-1])), "se": 0.0, "gap": r[-1] - 1, "gap_se": s[-1],
                "text": f"all n_s (n_e/n_r {r[-1]:.3f}±{s[-1]:.2g} at n_s={n_s[-1]:g})"}
    i = below[0]
    if i == 0:
        return {"kind": "below", "log": float(np.log(n_s[0])), "se": 0.0, "gap": 1 - r[0], "gap_se": s[0],
                "text": f"no n_s (n_e/n_r {r[0]:.3f}±{s[0]:.2g} at n_s={n_s[0]:g})"}
    x0, x1, y0, y1 = np.log(n_s[i - 1]), np.log(n_s[i]), r[i - 1], r[i]
    log = x0 + (y0 - 1.0) / (y0 - y1) * (x1 - x0)
    se = (x1 - x0) / (y0 - y1) ** 2 * float(np.hypot((1 - y1) * s[i - 1], (y0 - 1) * s[i]))
    return {"kind": "finite", "log": float(log), "se": float(se), "text": f"{np.exp(log):.0f} (SE of its log {se:.2g})"}


def _pieces(low: dict, high: dict, shift_low: float, shift_high: float,
            quantity: str = "log threshold") -> list[tuple[str, float, float]] | None:
    """(what, estimate, SE) of each piece that shows log(low) + shift_low < log(high) + shift_high when all are
    positive; None when no data can (low beyond the top of its grid, or high beyond the bottom)."""
    if low["kind"] == "above" or high["kind"] == "below":
        return None
    pieces = []
    if low["kind"] == "below":
        pieces.append(("n_e/n_r below 1 at the bottom of the grid", low["gap"], low["gap_se"]))
    if high["kind"] == "above":
        pieces.append(("n_e/n_r above 1 at the top of the grid", high["gap"], high["gap_se"]))
    pieces.append((f"{quantity} difference", high["log"] + shift_high - low["log"] - shift_low,
                   float(np.hypot(low["se"], high["se"]))))
    return pieces


def _below(name: str, low: dict, high: dict, tests: int, dof: float, shift_low: float = 0.0,
           shift_high: float = 0.0, quantity: str = "log threshold") -> Check | None:
    """The threshold (plus a shift, in logs) of `low` lies below that of `high`: None when no data can tell."""
    supports = _pieces(low, high, shift_low, shift_high, quantity)
    against = _pieces(high, low, shift_high, shift_low, quantity)
    if supports is None and against is None:
        return None
    judged = {key: [difference(what, estimate, se, f"{what} {estimate:+.3g}±{se:.2g}", tests, dof)
                    for what, estimate, se in pieces] if pieces else []
              for key, pieces in (("for", supports), ("against", against))}
    shown = lambda key: bool(judged[key]) and all(c.outcome == SUPPORTED for c in judged[key])  # noqa: E731
    outcome = SUPPORTED if shown("for") else CONTRADICTED if shown("against") else UNDECIDED
    parts = judged["for"] or judged["against"]
    decide = "; ".join(c.decide for c in judged["for"] if c.decide) or "a wider or finer n_s grid"
    return Check(name, outcome, f"{name}: {low['text']} vs {high['text']}; "
                 + "; ".join(c.evidence for c in parts), parts[0].rule, decide if outcome == UNDECIDED else "")


def _estimates(df: pd.DataFrame, by: str) -> dict[float, dict]:
    return {key: _threshold_estimate(g) for key, g in _at(df, "n_e_over_n_r").groupby(by)}


def check_fig11(df: pd.DataFrame) -> list[Check]:
    """"As n_r grows larger, the phase transition threshold of n_s seems to become constant" and "we do not find that
    the ratio of n_r to n_s is allowed to be constant; in fact, we find the opposite trend" (Sec. 5.3)."""
    est = _estimates(df, "n_r")
    n_r = sorted(est)
    dof = _replicates(df) - 1
    evidence = f"largest admissible n_s: {_fmt(thresholds(df, 'n_r'), 'n_r')}"
    tests = 2 * max(len(n_r) - 1, 1)  # 2 checks x adjacent pairs of n_r
    steps = [_below(f"n_r={b:g} vs {a:g}", est[b], est[a], tests, dof, -np.log(b), -np.log(a), "log (threshold / n_r)")
             for a, b in zip(n_r, n_r[1:])]
    steps = [c for c in steps if c is not None]
    share_name = "the admissible share n_s / n_r shrinks as n_r grows (at every step of n_r)"
    share = (all_of(share_name, steps) if steps else
             Check(share_name, UNDECIDED, evidence + " (no step the grid can tell)", "", "a wider n_s grid"))
    flat_name = (f"the admissible n_s levels off: log-log slope against n_r within ±{FIG11_FLAT_SLOPE:g} over the "
                 "upper half of n_r")
    finite = [k for k in n_r if est[k]["kind"] == "finite"]
    upper = finite[len(finite) // 2:]
    if len(finite) < 3 or len(upper) < 2:
        return [share, Check(flat_name, UNDECIDED, evidence + " (too few thresholds inside the n_s grid)", "",
                             "an n_s grid that brackets the threshold at three or more n_r")]
    x = np.log(upper) - np.mean(np.log(upper))
    y, se = np.array([est[k]["log"] for k in upper]), np.array([est[k]["se"] for k in upper])
    b, b_se = float(x @ y / (x @ x)), float(np.sqrt(np.sum(x**2 * se**2)) / (x @ x))
    flat = equivalence(
        flat_name, b, b_se, -FIG11_FLAT_SLOPE, FIG11_FLAT_SLOPE,
        f"a quarter of the way to the proportional growth (slope 1) the paper rules out: across the upper half's "
        f"{upper[-1] / upper[0]:g}-fold range of n_r it moves the threshold by at most "
        f"{(upper[-1] / upper[0]) ** FIG11_FLAT_SLOPE:.2g}x, less than the factor 2-2.5 between neighbouring n_s of "
        "the grid (claims.FIG11_FLAT_SLOPE)",
        f"{evidence}; slope of log threshold on log n_r over n_r={', '.join(f'{k:g}' for k in upper)}: "
        f"{b:+.3f}±{b_se:.2g} (SE from the thresholds' SEs; their interpolation error is not in it)",
        2, dof)  # 2 checks x 1 slope
    return [share, flat]


def check_fig12(df: pd.DataFrame) -> list[Check]:
    """"More sampling bias (smaller lam) actually reduces the number of synthetic samples that can be used" and
    "taking the limit as lam -> 1 ... appears to ensure that the effective number of samples is always increased"."""
    est = _estimates(df, "lam")
    lams = sorted(est)
    dof = _replicates(df) - 1
    evidence = f"largest admissible n_s: {_fmt(thresholds(df, 'lam'), 'lam')}"
    tests = 2 * max(len(lams) - 1, 1)  # 2 checks x adjacent pairs of lam
    pairs = [(a, b, _below(f"lam={a:g} vs {b:g}", est[a], est[b], tests, dof)) for a, b in zip(lams, lams[1:])]
    steps = [c for _, _, c in pairs if c is not None]
    same = [f"lam={a:g} and {b:g} (both {est[a]['kind']} the grid)" for a, b, c in pairs if c is None]
    name = "smaller lam gives a smaller admissible n_s (at every step of lam the grid can tell)"
    if steps:
        grows = all_of(name, steps)
        grows.evidence = f"{evidence}; " + grows.evidence + (f"; not told apart by the grid: {', '.join(same)}"
                                                            if same else "")
    else:
        grows = Check(name, UNDECIDED, evidence + " (no step the grid can tell)", "", "a wider n_s grid")
    checks = [grows]
    if np.isclose(lams[-1], 1.0):
        rows = _at(df, "n_e_over_n_r", lam=1.0).sort_values("n_s")
        tests = 2 * len(rows)  # 2 checks x the n_s of lam = 1
        checks.append(all_of("lam = 1 admits every n_s tried (n_e / n_r above 1 at each)",
                             [difference(f"n_s={r.n_s:g}", r.mean - 1, r.sem,
                                         f"n_s={r.n_s:g}: n_e/n_r {r.mean:.3f}±{r.sem:.2g}", tests, dof)
                              for r in rows.itertuples()]))
    return checks


# Fig. 30 -----------------------------------------------------------------------------------------------------------
# n_e / n_r at each memory K is one chain's limit, with its SE between replicates (K settings are independent
# chains). "Grows with K" is a trend over every K (rule 3, monotone: no step down beyond noise). "The rate of
# improvement becomes slower as K increases" is judged twice, both parts at the check's level: the curvature (the
# K^2 coefficient of a least-squares quadratic over every K, with its SE from the larger of the residual and the
# evaluation variance, on n - 3 degrees of freedom) is negative, and the last step's gain per unit K is below the
# first's.
def _curvature(x: np.ndarray, y: np.ndarray, sems: np.ndarray) -> tuple[float, float, int]:
    """The K^2 coefficient of a least-squares quadratic, its SE and the residual degrees of freedom."""
    x = (np.asarray(x, float) - np.mean(x)) / np.std(x)
    design = np.column_stack([np.ones_like(x), x, x**2])
    dof = len(y) - 3
    if dof < 1:
        return np.nan, np.nan, max(dof, 0)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = float(np.sum((y - design @ coef) ** 2) / dof)
    variance = max(residual, float(np.mean(np.nan_to_num(sems) ** 2)))
    cov = variance * np.linalg.inv(design.T @ design)
    return float(coef[2]), float(np.sqrt(cov[2, 2])), dof


def _trend_along(name: str, rows: pd.DataFrame, direction: int, tests: int, axis: str, monotone: bool = False,
                 label: str = "") -> Check:
    """Rule 3 along a setting axis other than the generation (rows: columns generation = the axis value, mean, sem),
    its text saying `axis` where trend says generation. When the scatter of the values about the line (not their
    SEs) sets the slope's SE, more replicates would not narrow it: a wider range of the axis would."""
    check = trend(name, rows, direction, tests, monotone, label)
    for old, new in (("t=", f"{axis}="), ("per generation over", f"per unit {axis} over"),
                     ("generations", f"values of {axis}")):
        check.evidence = check.evidence.replace(old, new)
    if check.outcome == UNDECIDED and check.decide.startswith("more generations"):
        check.decide = (f"a wider range of {axis}: the values' scatter about the fitted line, not their SEs, sets the "
                        "slope's SE")
    return check


def check_fig30(df: pd.DataFrame) -> list[Check]:
    rows = _at(df, "n_e_over_n_r").sort_values("memory")
    k, m, s = rows["memory"].to_numpy(float), rows["mean"].to_numpy(float), rows["sem"].to_numpy(float)
    dof = _replicates(rows) - 1
    values = ", ".join(f"K={int(a)}: {b:.3f}" for a, b in zip(k, m))
    grows = _trend_along("n_e / n_r grows with K (slope over every K; no step down beyond noise)",  # 2 checks
                         rows.assign(generation=rows["memory"]), +1, 2, "K", monotone=True, label="n_e/n_r ")
    grows.evidence = f"{values}; {grows.evidence}"
    name = "diminishing returns: the gain per unit K falls as K grows"
    tests = 2 * 2  # 2 checks x 2 parts
    c, c_se, c_dof = _curvature(k, m, s)
    bend = difference(name, -c, c_se, f"curvature (K^2 coefficient, K standardised) {c:+.4g}±{c_se:.2g} over "
                                      f"{len(k)} K", tests, c_dof)
    first_gain, last_gain = (m[1] - m[0]) / (k[1] - k[0]), (m[-1] - m[-2]) / (k[-1] - k[-2])
    gain_se = np.hypot(s[1], s[0]) / (k[1] - k[0]) + np.hypot(s[-1], s[-2]) / (k[-1] - k[-2])
    ends = difference(name, first_gain - last_gain, gain_se,
                      f"gain per unit K: first step {first_gain:.3f}, last step {last_gain:.3f}", tests, dof)
    return [grows, all_of(name, [bend, ends])]


# Fig. 31 -----------------------------------------------------------------------------------------------------------
# Each WD is one chain's limit with its SE between replicates (Student t on replicates - 1); settings are independent
# chains, so a difference between two takes the hypot of their SEs. "WD decreases with n" is read as every step of n
# lowering the WD beyond noise (a test at every n, stricter than a slope). "With lam < 1 the WD follows a sub-linear
# trend ... eventually the rate of progress will effectively stop" is a trend of the local log-log slope (between
# neighbouring n) towards 0 over every n (rule 3), and at the largest n that slope is nearer 0 than lam = 1's; both
# parts at the check's level. (The paper's "the presence of synthetic data decreases the rate at which the WD
# decreases" is the second check's level shift: at lam = 1 the WD still falls like n^(-1/2) for every p, so "slower"
# is more n for the same WD, not a shallower log-log slope.)
def check_fig31(df: pd.DataFrame, lam_panel: float = 1.0, p_panel: float | None = None) -> list[Check]:
    wd = _at(df, "wd_limit")
    dof = _replicates(wd) - 1
    left = wd[np.isclose(wd["lam"], lam_panel)]
    steps = [(p, a, b) for p, g in left.groupby("p_real") for a, b in
             zip(g.sort_values("n").itertuples(), g.sort_values("n").iloc[1:].itertuples())]
    tests = 3 * len(steps)  # 3 checks x (steps of n x p)
    checks = [all_of(f"lam={lam_panel:g}: WD falls as n grows, for every p (at every step of n)",
                     [difference(f"p={p:g}", a.mean - b.mean, float(np.hypot(a.sem, b.sem)),
                                 f"p={p:g}: WD {a.mean:.4g}±{a.sem:.2g} at n={a.n:g} -> {b.mean:.4g}±{b.sem:.2g} at "
                                 f"n={b.n:g}", tests, dof) for p, a, b in steps])]
    full = left[np.isclose(left["p_real"], 1.0)].set_index("n")
    pairs = [r for r in left[~np.isclose(left["p_real"], 1.0)].itertuples() if r.n in full.index]
    tests = 3 * len(pairs)  # 3 checks x (p < 1 x n)
    checks.append(all_of(f"lam={lam_panel:g}: WD is larger when p < 1 than with p = 1, at every n",
                         [difference(f"p={r.p_real:g}, n={r.n:g}", r.mean - full.loc[r.n, "mean"],
                                     float(np.hypot(r.sem, full.loc[r.n, "sem"])),
                                     f"n={r.n:g}: WD {r.mean:.4g}±{r.sem:.2g} at p={r.p_real:g} vs "
                                     f"{full.loc[r.n, 'mean']:.4g}±{full.loc[r.n, 'sem']:.2g} at p=1", tests, dof)
                          for r in pairs]))
    if p_panel is None:  # the right panel's real fraction: the data's p_fixed column (gaussian_studies.fig31)
        p_panel = float(df["p_fixed"].iloc[0]) if "p_fixed" in df else float(wd["p_real"].min())
    right = wd[np.isclose(wd["p_real"], p_panel)]
    biased = sorted(lam for lam in right["lam"].unique() if lam < 1.0)
    if not biased or not np.isclose(right["lam"], 1.0).any():
        raise ValueError(f"claims: Fig. 31's right panel (p={p_panel:g}) needs lam = 1 and some lam < 1")
    unbiased = _end_slope(right[np.isclose(right["lam"], 1.0)])
    tests = 3 * 2 * len(biased)  # 3 checks x (2 parts x lam < 1)
    parts = []
    for lam in biased:
        g = right[np.isclose(right["lam"], lam)]
        end = _end_slope(g)
        parts.append(difference(f"lam={lam:g}", end[0] - unbiased[0], float(np.hypot(end[1], unbiased[1])),
                                f"lam={lam:g}: log-log slope over the two largest n {end[0]:+.3f}±{end[1]:.2g}, "
                                f"lam=1 {unbiased[0]:+.3f}±{unbiased[1]:.2g}", tests, dof))
        parts.append(_trend_along(f"lam={lam:g}", _local_slopes(g), +1, tests, "log n",
                                  label=f"lam={lam:g}: local log-log slope "))
    checks.append(all_of(f"p={p_panel:g}: with lam < 1 the WD flattens (its log-log slope rises towards 0 over n, and "
                         "at the largest n is nearer 0 than at lam = 1)", parts))
    return checks


def _end_slope(g: pd.DataFrame) -> tuple[float, float]:
    """Slope of log WD against log n between the two largest n, and its SE (from the SEs of the two WDs)."""
    g = g.sort_values("n").iloc[-2:]
    mean, sem, n = g["mean"].to_numpy(float), g["sem"].to_numpy(float), g["n"].to_numpy(float)
    step = np.log(n[1]) - np.log(n[0])
    return float((np.log(mean[1]) - np.log(mean[0])) / step), float(np.hypot(*(sem / mean)) / step)


def _local_slopes(g: pd.DataFrame) -> pd.DataFrame:
    """The slope of log WD against log n between each pair of neighbouring n (column mean, SE sem), at the midpoint
    of their log n (column generation, as trend reads it)."""
    g = g.sort_values("n")
    mean, sem, log_n = g["mean"].to_numpy(float), g["sem"].to_numpy(float), np.log(g["n"].to_numpy(float))
    step = np.diff(log_n)
    return pd.DataFrame({"generation": (log_n[1:] + log_n[:-1]) / 2, "mean": np.diff(np.log(mean)) / step,
                         "sem": np.hypot(sem[1:] / mean[1:], sem[:-1] / mean[:-1]) / step})


# DDPM figures (4-7, 9, 10 right, 16, 26, 27) -----------------------------------------------------------------------
# One chain per setting: a value's SE is its evaluation noise (binomial or bootstrap), not the training noise
# between chains, so a decisive outcome says the change is larger than the measurement error of one chain (normal
# quantiles). "X rises" or "X falls" over the generations is judged twice, both parts at the check's level: the
# change from the first generation to the last (rule 1) and the slope over every generation (rule 3), so neither a
# lucky last value nor a drift that comes back counts alone.
def _chain(df: pd.DataFrame, metric: str, lam: float, upto: float = np.inf) -> pd.DataFrame:
    """The rows of one metric of the lam chain, by generation (at most ``upto``)."""
    rows = _at(df, metric, lam=lam).sort_values("generation")
    rows = rows[rows["generation"] <= upto]
    if rows.empty:
        raise ValueError(f"claims: no {metric} rows at lam={lam}")
    return rows


def _ends(df: pd.DataFrame, metric: str, lam: float, upto: float = np.inf) -> tuple[tuple[float, float], tuple[float, float]]:
    """(mean, SE) of a metric at the first and at the last generation (at most ``upto``) of the lam chain."""
    rows = _chain(df, metric, lam, upto)
    first, last = rows.iloc[0], rows.iloc[-1]
    return (float(first["mean"]), float(first["sem"])), (float(last["mean"]), float(last["sem"]))


def _last_generation(df: pd.DataFrame, metric: str, lam: float) -> int:
    return int(_at(df, metric, lam=lam)["generation"].max())


def _endpoints(name: str, df: pd.DataFrame, metric: str, lam: float, direction: int, tests: int,
               upto: float = np.inf) -> Check:
    """Rule 1 on the change of a metric from the first generation to the last (at most ``upto``), signed so that
    positive is the stated direction (+1 rise, -1 fall)."""
    rows = _chain(df, metric, lam, upto)
    (a, sa), (b, sb) = _ends(df, metric, lam, upto)
    text = (f"lam={lam:g}: {metric} {a:.3f}±{sa:.3f} at t={rows['generation'].iloc[0]:g} -> {b:.3f}±{sb:.3f} at "
            f"t={rows['generation'].iloc[-1]:g}")
    return difference(name, direction * (b - a), float(np.hypot(sa, sb)), text, tests)


def _moves(name: str, df: pd.DataFrame, metric: str, lam: float, direction: int, tests: int,
           monotone: bool = False) -> Check:
    """A metric rises (direction +1) or falls (-1) over the lam chain: the endpoints' change and the slope over every
    generation (and, when monotone, no step against the direction), each at level ALPHA / (2 tests)."""
    parts = [_endpoints(name, df, metric, lam, direction, 2 * tests),
             trend(name, _chain(df, metric, lam), direction, 2 * tests, monotone, label=f"lam={lam:g}: {metric} ")]
    return all_of(name, parts)


def _never_falls(name: str, df: pd.DataFrame, metric: str, lam: float, margin: float, reason: str,
                 tests: int) -> Check:
    """No generation of the lam chain lies below generation 1 by more than `margin` (rule 2, one-sided, against
    every generation: a dip in between counts as much as the last value)."""
    rows = _chain(df, metric, lam)
    (a, sa) = float(rows["mean"].iloc[0]), float(rows["sem"].iloc[0])
    later = rows.iloc[1:]
    parts = [equivalence(name, float(r["mean"]) - a, float(np.hypot(r["sem"], sa)), -margin, np.inf, reason,
                         f"t={r['generation']:g}: {metric} {r['mean']:.3f}±{r['sem']:.3f} vs {a:.3f}±{sa:.3f} at t=1",
                         tests * len(later))
             for _, r in later.iterrows()]
    return all_of(name, parts)


def per_model(df: pd.DataFrame, checks_of: Callable[[pd.DataFrame, int], list[Check]], count: int) -> list[Check]:
    """A figure's `count` checks run on each model's rows (column ``model``, e.g. the DDPM and GAN rows of Figs. 4 and
    6), each named after its model and judged at ALPHA / (count x models); a table without that column is one
    model."""
    if "model" not in df or df["model"].isna().all():
        return checks_of(df, count)
    if df["model"].isna().any():
        raise ValueError("claims: some rows have a model name and some do not (column model); name every model")
    groups = list(df.groupby("model", sort=False))
    renamed = []
    for model, rows in groups:
        for c in checks_of(rows, count * len(groups)):
            c.name = f"{model}: {c.name}"
            renamed.append(c)
    return renamed


def check_fig04(df: pd.DataFrame) -> list[Check]:
    # 3 checks per model (Bonferroni over checks x models, per_model)
    return per_model(df, lambda rows, tests: [_moves("FID rises", rows, "fid", 1.0, +1, tests),
                                              _moves("precision falls", rows, "precision", 1.0, -1, tests),
                                              _moves("recall falls", rows, "recall", 1.0, -1, tests)], 3)


def check_fig05(df: pd.DataFrame) -> list[Check]:
    tests = 2  # 2 checks
    return [_moves("synthetic classes merge: their separation (silhouette) falls", df, "class_separation", 1.0, -1,
                   tests),
            _moves("synthetic features drift from the real ones: FID rises", df, "fid", 1.0, +1, tests)]


def _relative_drop(df: pd.DataFrame, metric: str, lam: float, upto: float = np.inf) -> tuple[float, float]:
    """last / first of a metric (last: at most generation ``upto``) and its SE (delta method); NaN when the first
    value is 0 (no ratio: a check on it stays undecided)."""
    (a, sa), (b, sb) = _ends(df, metric, lam, upto)
    if a == 0:
        return float("nan"), float("nan")
    return b / a, float(np.hypot(sb / a, b * sa / a**2))  # delta method; positive when the last value is 0


def check_fig06(df: pd.DataFrame) -> list[Check]:
    return per_model(df, _fig06_checks, 3)  # 3 checks per model


# "Precision does not decay" allows no generation to fall below generation 1 by more than this share of generation
# 1's precision. Why 5%: the paper reports precision *rising* with bias, and the unbiased loops it contrasts lose
# tens of percent; a 5% fall is well inside what it calls decay, and above the evaluation's own SE (about 1% at
# n_eval = 1000).
NO_DECAY_SHARE = 0.05


def _fig06_checks(df: pd.DataFrame, tests: int) -> list[Check]:
    biased = float(df["lam"].min())
    common = min(_last_generation(df, "recall", biased), _last_generation(df, "recall", 1.0))
    start = float(_chain(df, "precision", biased)["mean"].iloc[0])
    kept_b, se_b = _relative_drop(df, "recall", biased, common)
    kept_1, se_1 = _relative_drop(df, "recall", 1.0, common)
    return [
        _moves("FID rises", df, "fid", biased, +1, tests),
        _never_falls("precision does not decay (no generation below generation 1 by more than "
                     f"{NO_DECAY_SHARE:.0%})", df, "precision", biased, NO_DECAY_SHARE * start,
                     f"{NO_DECAY_SHARE:.0%} of generation 1's precision (claims.NO_DECAY_SHARE)", tests),
        difference("recall decays faster than at lam = 1 (smaller last/first ratio)", kept_1 - kept_b,
                   float(np.hypot(se_1, se_b)), f"recall kept by t={common}: lam={biased:g} {kept_b:.3f}±{se_b:.3f}, "
                   f"lam=1 {kept_1:.3f}±{se_1:.3f}", tests),
    ]


# "Classes do not merge" allows the biased chain's class separation to fall by at most this share of generation 1's.
# Why 10%: merging, as the unbiased loop of Fig. 5 shows it, takes the silhouette most of the way to 0; a tenth of
# its starting value is a small fraction of that, and several times the separation's bootstrap SE.
NO_MERGE_SHARE = 0.10


def check_fig07(df: pd.DataFrame, lam: float | None = None, compare_lam: float | None = None) -> list[Check]:
    """lam: the biased chain (default: the smallest lam in the table); compare_lam: the other (default: the
    largest)."""
    tests = 3  # 3 checks
    lam = float(df["lam"].min()) if lam is None else lam
    compare_lam = float(df["lam"].max()) if compare_lam is None else compare_lam
    start = float(_chain(df, "class_separation", lam)["mean"].iloc[0])
    (_, _), (sep_b, se_b) = _ends(df, "class_separation", lam)
    (_, _), (sep_1, se_1) = _ends(df, "class_separation", compare_lam)
    return [
        _never_falls(f"classes do not merge: separation never falls by more than {NO_MERGE_SHARE:.0%}", df,
                     "class_separation", lam, NO_MERGE_SHARE * start,
                     f"{NO_MERGE_SHARE:.0%} of generation 1's separation (claims.NO_MERGE_SHARE)", tests),
        difference(f"at the last generation classes are better separated than at lam = {compare_lam:g}",
                   sep_b - sep_1, float(np.hypot(se_b, se_1)),
                   f"separation lam={lam:g}: {sep_b:.3f}±{se_b:.3f}, lam={compare_lam:g}: {sep_1:.3f}±{se_1:.3f}",
                   tests),
        _moves("each class collapses onto itself: its spread falls", df, "class_spread", lam, -1, tests),
    ]


def _some(name: str, parts: list[Check]) -> Check:
    """"Some setting shows it": supported when any part is (each judged at the level divided by the parts, as the
    caller sets), contradicted when every part is, undecided otherwise."""
    outcomes = [p.outcome for p in parts]
    outcome = (SUPPORTED if SUPPORTED in outcomes else CONTRADICTED if set(outcomes) == {CONTRADICTED}
               else UNDECIDED)
    decide = _decisive([p.decide for p in parts if p.decide], every=False) if outcome == UNDECIDED else ""
    return Check(name, outcome, "; ".join(f"[{p.outcome}] {p.evidence}" for p in parts), parts[0].rule, decide)


def check_fig09(df: pd.DataFrame) -> list[Check]:
    lams = sorted(df["lam"].unique())
    biased = [lam for lam in lams if lam < 1.0]
    tests = 4  # 4 checks; "for every lam" and "some lam" checks also divide by their number of lams
    last = {m: {lam: _ends(df, m, lam)[1] for lam in lams} for m in ("fid", "precision", "recall")}
    text = lambda m: ", ".join(f"lam={lam:g}: {v[0]:.3f}±{v[1]:.3f}" for lam, v in last[m].items())  # noqa: E731

    def above(metric: str, a: float, b: float, sign: int = +1) -> tuple[float, float]:
        (ma, sa), (mb, sb) = last[metric][a], last[metric][b]
        return sign * (ma - mb), float(np.hypot(sa, sb))

    best = min(biased, key=lambda lam: last["fid"][lam][0])  # the mitigating candidate: lowest FID among lam < 1
    return [
        all_of("FID rises for every lam", [_moves("FID rises", df, "fid", lam, +1, tests * len(lams))
                                           for lam in lams]),
        _some("some lam < 1 ends with higher precision than lam = 1",
              [difference(f"lam={lam:g}", *above("precision", lam, 1.0), f"lam={lam:g} vs 1 at the last generation",
                          tests * len(biased)) for lam in biased]),
        difference(f"recall falls further at lam = {min(biased):g} than at lam = 1", *above("recall", 1.0, min(biased)),
                   f"last-generation recall {text('recall')}", tests),
        difference("some lam < 1 mitigates best: the lowest last-generation FID, below lam = 1's",
                   *above("fid", 1.0, best), f"last-generation FID {text('fid')}; best lam < 1: {best:g}",
                   tests * len(biased)),  # the best lam < 1 is picked from the data: Bonferroni over the candidates
    ]


def check_fig10_ddpm(df: pd.DataFrame) -> list[Check]:
    """Fig. 10's DDPM panel (rows fid per generation and fid_limit with its window; see Fig. 10 above): has the FID
    converged, and is its limit the same for every n_ini? A limit's SE is the spread of its window's generations
    (ddpm_studies.limits): Student t on window - 1."""
    limits = _at(df, "fid_limit")
    if limits.empty:
        return []
    if "window" not in limits or limits["window"].isna().any():
        raise ValueError("claims: the DDPM panel's fid_limit rows need a window column (ddpm_studies.limits)")
    tests = _fig10_tests(df)  # 2 checks per panel x the most chains or pairs of n_ini a check runs over
    window = int(limits["window"].iloc[0])
    first = [_one(df, "fid", n_ini=n, generation=1)[0] for n in sorted(limits["n_ini"])]
    start = "generation-1 FIDs: " + ", ".join(f"{m:.1f}" for m in first)
    converged = _ddpm_converged(df, window, float(limits["mean"].mean()), tests)
    return _panel_checks("DDPM: same FID limit for every n_ini", converged, limits, 2, start, tests, window - 1)


def _ddpm_converged(df: pd.DataFrame, window: int, limit: float, tests: int) -> Check:
    """No drift of the FID over the last `window` generations of any n_ini chain (slopes from window_slopes)."""
    tails = [g.sort_values("generation").iloc[-window:] for _, g in _at(df, "fid").groupby("n_ini")]
    keys = [float(t["n_ini"].iloc[0]) for t in tails]
    generations = tails[0]["generation"].to_numpy(float)
    if len(generations) < window or any(not np.array_equal(t["generation"], generations) for t in tails):
        raise ValueError(f"claims: every DDPM chain needs FID rows at the same last {window} generations")
    name = f"DDPM: the FID has converged (no drift over the last {window} generations of any n_ini)"
    slopes, ses, dof = window_slopes(generations, [t["mean"] for t in tails], [t["sem"] for t in tails])
    if dof < 1:
        return Check(name, UNDECIDED, f"a window of {window} generations leaves no residual degrees of freedom to "
                                      "test it for a drift", "", "a window of at least 3 generations")
    how = (f"drift = the least-squares FID slope over generations {generations[0]:g}-{generations[-1]:g} x {window}/2; "
           "slopes " + ", ".join(f"n_ini={k:g}: {b:+.2f}±{e:.2f}" for k, b, e in zip(keys, slopes, ses)))
    return _converged(name, keys, slopes * window / 2, ses * window / 2, limit, tests, dof, how)


# "Reach zero" is read as falling below this value (a precision or recall of 0 is only approached with noise).
ZERO = 0.05


def check_fig16(df: pd.DataFrame, zero: float = ZERO) -> list[Check]:
    tests = 2  # 2 checks; the first covers precision and recall (x2)
    lams = sorted(df["lam"].unique())
    recall_last = {lam: _ends(df, "recall", lam)[1] for lam in lams}
    (r1, s1), (rb, sb) = recall_last[1.0], recall_last[lams[0]]
    return [
        all_of(f"lam = 1: precision and recall eventually reach zero (below {zero})",
               [reaches(f"{metric} reaches zero", _chain(df, metric, 1.0), zero, 2 * tests, label=f"{metric} ")
                for metric in ("precision", "recall")]),
        difference(f"recall at the last generation is lower at lam = {lams[0]:g} than at lam = 1", r1 - rb,
                   float(np.hypot(s1, sb)), ", ".join(f"lam={lam:g}: {m:.3f}±{s:.3f}"
                                                      for lam, (m, s) in recall_last.items()), tests),
    ]


def check_fig26(df: pd.DataFrame) -> list[Check]:
    tests = 2  # 2 checks
    return [_moves("digits become illegible: LeNet reads fewer samples as the class they were drawn for", df,
                   "lenet_agreement", 1.0, -1, tests),
            _moves("samples drift from real digits: FID rises", df, "fid", 1.0, +1, tests)]


def check_fig27(df: pd.DataFrame) -> list[Check]:
    tests = 2  # 2 checks
    lam = float(df["lam"].min())
    return [_moves("each class collapses: the spread of its samples falls", df, "class_spread", lam, -1, tests),
            _moves("fewer real digits are covered: recall falls", df, "recall", lam, -1, tests)]


# GAN figures (1, 8, 13, 23-25; the GAN rows of 4 and 6 are above) ---------------------------------------------------
def check_fig01(df: pd.DataFrame) -> list[Check]:
    """The paper's claim is that artifacts are amplified: the samples' high-frequency energy in excess of the real
    images' (high_freq_ratio - 1) grows over the generations. The spectral distance, which also grows when the samples
    get smoother, is the second check."""
    tests = 2  # 2 checks
    return [_moves("the artifacts are amplified: the high-frequency excess of the samples over real images grows",
                   df, "high_freq_ratio", 1.0, +1, tests),
            _moves("the spectral fingerprint grows: synthetic spectra move away from the real one", df,
                   "spectral_distance", 1.0, +1, tests)]


def check_fig08(df: pd.DataFrame) -> list[Check]:
    tests = 4  # 4 checks
    pool = df[df["variant"] == "synthetic_augmentation"]
    full = df[df["variant"] == "fully_synthetic"]
    common = min(int(pool["generation"].max()), int(full["generation"].max()))
    (_, _), (fid_pool, se_pool) = _ends(pool, "fid", 1.0, common)
    (_, _), (fid_full, se_full) = _ends(full, "fid", 1.0, common)
    return [
        _moves("growing pool: FID rises", pool, "fid", 1.0, +1, tests),
        _moves("growing pool: precision falls", pool, "precision", 1.0, -1, tests),
        _moves("growing pool: recall falls", pool, "recall", 1.0, -1, tests),
        difference("more slowly than the fully synthetic loop: lower FID at the same generation", fid_full - fid_pool,
                   float(np.hypot(se_full, se_pool)), f"FID at t={common}: growing pool {fid_pool:.2f}±{se_pool:.2f}, "
                   f"fully synthetic {fid_full:.2f}±{se_full:.2f}", tests),
    ]


def check_fig13(df: pd.DataFrame) -> list[Check]:
    tests = 3  # 3 checks
    return [_moves("FID rises monotonically", df, "fid", 1.0, +1, tests, monotone=True),
            _moves("precision falls monotonically", df, "precision", 1.0, -1, tests, monotone=True),
            _moves("recall falls monotonically", df, "recall", 1.0, -1, tests, monotone=True)]


def check_fig23(df: pd.DataFrame) -> list[Check]:
    tests = 2  # 2 checks
    lam = float(df["lam"].min())
    return [_moves("diversity shrinks: recall falls", df, "recall", lam, -1, tests),
            _moves("diversity shrinks: coverage falls", df, "coverage", lam, -1, tests)]


# Fig. 17 -----------------------------------------------------------------------------------------------------------
# The tail measure is the share of samples with |x1| beyond P_r's 99th percentile of |x1| (the far ends of the
# banana's arms; 0.01 under P_r). Its SE is binomial (one chain) or between chains (several, never below the
# binomial SE of their mean), as chains.run_chains writes it. (The share outside P_r's 99% highest-density region,
# tail_r2, also counts samples that leave the ridge sideways, which is not a tail of P_r; the figure shows it, the
# claim does not use it.)
def _kept_share(df: pd.DataFrame, metric: str, lam: float) -> tuple[float, float]:
    """last / first of a metric and its delta-method SE, sqrt((sb/a)^2 + (b sa / a^2)^2), which stays positive when
    the last value is 0. NaN when generation 1 has no tail at all (nothing to keep: the share is undefined, and a
    comparison with it stays undecided)."""
    (a, sa), (b, sb) = _ends(df, metric, lam)
    if not a > 0:
        return float("nan"), float("nan")
    return b / a, float(np.hypot(sb / a, b * sa / a**2))


def check_fig17(df: pd.DataFrame, metric: str = "tail_x1") -> list[Check]:
    """"Regardless of the presence of sampling bias, the resulting distribution after 16 generations loses the tails
    of the reference distribution ... more pronounced when sampling bias is present" (App. B)."""
    lams = sorted(df["lam"].unique())
    count = _replicates(df)
    dof = count - 1 if count > 1 else np.inf  # one chain: binomial SEs, normal quantiles
    tests = 2 * len(lams) + 1  # 2 checks per lam + 1
    checks = [_moves(f"lam={lam:g}: the tails are lost (the tail share falls over the generations)", df, metric, lam,
                     -1, tests) for lam in lams]
    for lam in lams:
        _, (last, se) = _ends(df, metric, lam)
        checks.append(difference(f"lam={lam:g}: at the last generation the tail share is below P_r's 0.01",
                                 0.01 - last, se, f"lam={lam:g}: {metric} = {last:.4f}±{se:.4f} at the last generation",
                                 tests, dof))
    kept = {lam: _kept_share(df, metric, lam) for lam in lams}
    biased = [lam for lam in lams if lam < 1.0]
    name = "faster with lam < 1: a smaller share of generation 1's tail is left at the last generation"
    shares = "last/first tail share: " + ", ".join(f"lam={lam:g} {k:.3f}±{s:.3f}" for lam, (k, s) in kept.items())
    if not biased or 1.0 not in kept:
        checks.append(Check(name, UNDECIDED, shares + " (no lam = 1 and lam < 1 pair)", "",
                            "chains at lam = 1 and at some lam < 1"))
        return checks
    parts = [difference(f"lam={lam:g}", kept[1.0][0] - kept[lam][0], float(np.hypot(kept[1.0][1], kept[lam][1])),
                        f"{shares}; lam=1 minus lam={lam:g}", tests * len(biased), dof)  # a NaN share: undecided
             for lam in biased]
    checks.append(all_of(name, parts))
    return checks


# Figs. 14 and 15 (GMM) ---------------------------------------------------------------------------------------------
# A chain-level statistic (modes lost, a rank correlation) has one value per independent chain; its mean is judged
# with Student's t on (chains - 1) degrees of freedom, since a handful of chains estimates its own SE poorly.
def _chain_mean(df: pd.DataFrame, metric: str) -> tuple[float, float, int]:
    row = _at(df, metric)
    if len(row) != 1:
        raise ValueError(f"claims: expected one row of {metric}, found {len(row)}")
    count = int(row["replicates"].iloc[0]) if "replicates" in row else 1
    return float(row["mean"].iloc[0]), float(row["sem"].iloc[0]), count


def _positive(name: str, metric: str, df: pd.DataFrame, text: str, tests: int) -> Check:
    """Rule 1 on the mean over independent chains of a chain-level statistic (Student t on chains - 1; one chain, or
    an undefined value, leaves it undecided)."""
    mean, sem, count = _chain_mean(df, metric)
    if not np.isfinite(mean):
        return Check(name, UNDECIDED, f"{text}: undefined over {count} chains (some chain has no value, e.g. a "
                                      "constant metric)", "", "chains in which the statistic is defined")
    if count < 2 or not np.isfinite(sem):
        return Check(name, UNDECIDED, f"{text}: {mean:.3f} from {count} chain(s): no SE between chains", "",
                     "two or more chains (an SE between them)")
    return difference(name, mean, sem, f"{text}: {mean:.3f}±{sem:.3f} over {count} chains", tests, count - 1,
                      unit="chains")


def check_fig14(df: pd.DataFrame) -> list[Check]:
    """"The fully synthetic loop gradually reduces the number of modes covered" (App. B); caption: "the modes are
    lost asymptotically"."""
    tests = 2  # 2 checks
    covered = df[df["metric"] == "modes_covered"].sort_values("generation")
    first, last = covered.iloc[0], covered.iloc[-1]
    lost = _positive("modes are lost: fewer modes covered at the last iteration than at the first", "modes_lost", df,
                     f"modes covered at t=1: {first['mean']:.1f}, at t={int(last['generation'])}: {last['mean']:.1f}; "
                     "modes lost per chain", tests)
    gradual = trend("gradually: the modes covered fall over the iterations (slope over every iteration; no step up "
                    "beyond noise)", covered, -1, tests, monotone=True, label="modes covered (mean over chains) ",
                    unit="chains")
    return [lost, gradual]


def check_fig15(df: pd.DataFrame) -> list[Check]:
    """"The overall variance does not reflect the loss of modes ... as smoothly as recall and average modal variance"
    (Fig. 15's caption): each tracks the modes covered (Spearman correlation over the iterations, per chain), and
    total variance tracks them less than each (the difference of the two correlations, paired per chain)."""
    tests = 4  # 4 checks
    checks = []
    for metric, name in (("recall", "recall"), ("modal_variance", "average modal variance")):
        checks.append(_positive(f"{name} tracks the loss of modes (positive rank correlation with modes covered)",
                                f"track_{metric}", df, "Spearman correlation over the iterations", tests))
    total, _, _ = _chain_mean(df, "track_total_variance")
    for metric, name in (("recall", "recall"), ("modal_variance", "average modal variance")):
        checks.append(_positive(f"total variance tracks it less than {name} (smaller rank correlation, paired per "
                                "chain)", f"track_gap_{metric}", df,
                                f"correlation of {name} minus that of total variance ({total:.3f})", tests))
    return checks


# Fig. X1 (beyond the paper: replace, accumulate, accumulate-subsample) ------------------------------------------------
X1_LATE_RISE = 0.10  # accumulate: WD may rise over the second half by at most this share of its midpoint value
X1_BOUND = 2.0  # accumulate: the last WD at most this multiple of generation 1's


def check_figX1(df: pd.DataFrame) -> list[Check]:
    """Three claims on the WD to P_r, per model (column ``model``) and loop (column ``loop``): "replace" diverges,
    "accumulate" stays bounded, "accumulate-subsample" lies in between. T is a model's last generation and H = T // 2
    its midpoint (the ``wd_late_rise`` rows: WD at T minus WD at H, paired within each replicate). Each check (one claim
    of one model) has up to two parts, every part a one-sided test at ALPHA / tests with tests = 3 claims x models x 2
    parts (Bonferroni over the figure), Student t on (replicates - 1) degrees of freedom (the fewer replicates of the
    sides for a comparison between loops, whose chains are independent: the hypot of their SEs).

    1. Replace diverges (rule 1): its WD still rises over the second half (mean late rise > 0). For the Gaussian with
       lam = 1, E|mu_t - mu_r|^2 = t tr(Sigma_r) / N grows without bound and the log-eigenvalues of Sigma_t
       random-walk apart, so the WD keeps growing. Where d = 1 (column ``d``, Gaussian rows) also: the log variance
       kept falls from generation 1 to T (the hypot of the two SEs: the two are positively correlated within a
       replicate, so it overstates the SE of their difference). Theory gives E log(sigma_T^2 / sigma_1^2) = (T - 1)
       [psi((N - 1) / 2) + ln(2 / (N - 1))], about -(T - 1) / (N - 1) = -1 at N = T = 100, with a spread of about 1.4
       per replicate, which the default preset's replicates resolve. Not tested elsewhere: at d = 100 the trace sums
       100 directions and the same drift is about d times smaller, beyond reach; the GMM's total variance follows no
       such law (and does not track its collapse, Fig. 15). The mean E[tr Sigma_t] itself stays constant at lam = 1
       (a martingale).
    2. Accumulate stays bounded (rule 2, one-sided margins: non-inferiority). The fit on the pool moves at generation
       k by a fresh sampling error divided by k, so squared errors add up as sum 1/k^2 <= pi^2 / 6 (Gerstgrasser et
       al. 2024; Dey & Donoho 2024): about 1.28 times generation 1's error in RMS for all time, and between H and T
       only by the terms k in (H, T], under 1% for H >= 25; replace's squared error of the mean doubles from H to T
       (+41% in RMS). So (a) the late rise minus X1_LATE_RISE (10%) of the WD at H is below 0 (the margin: a tenth of
       the WD, ten times what the theory allows, and a quarter of replace's +41%), and (b) the WD at T minus X1_BOUND
       (2) times generation 1's is below 0 (room for the nonlinearity of WD and for the GMM, for which we prove
       nothing; the theory's 1.28). Supported only when the upper confidence bound lies below the margin, so too few
       replicates leave it undecided; contradicted when the excess is significantly positive. The SE of a mean minus a
       multiple of another mean is taken as the sum of the SEs (valid whatever their correlation).
    3. Accumulate-subsample lies in between at T (rule 1, both parts): its WD is above accumulate's (its fit uses N
       points of the pool, so it carries the sampling error of a generation-1 fit on top of the pool's, while
       accumulate fits the whole pool) and below replace's (the pool keeps it anchored to the real data).

    The fresh data loop is drawn for reference; the paper's claims on it are checked in Figs. 10-12.
    """
    models = list(dict.fromkeys(df["model"]))
    tests = 3 * len(models) * 2  # 3 claims x models x 2 parts
    diverges, bounded, between = [], [], []
    for model in models:
        part = df[df["model"] == model]
        diverges.append(_x1_diverges(part, model, tests, with_variance=_x1_is_d1(df, model)))
        bounded.append(_x1_bounded(part, model, tests))
        between.append(_x1_between(part, model, tests))
    return diverges + bounded + between


def _x1_is_d1(df: pd.DataFrame, model: str) -> bool:
    rows = df[df["model"] == model]
    return "d" in rows and bool(np.all(rows["d"] == 1))


def _x1_row(part: pd.DataFrame, loop: str, metric: str, generation: float | None = None) -> tuple[float, float, int]:
    """mean, SE and replicates of one row of one loop (generation None: the summary row of a metric)."""
    rows = part[(part["loop"] == loop) & (part["metric"] == metric)]
    rows = rows[rows["generation"].isna()] if generation is None else rows[rows["generation"] == generation]
    if len(rows) != 1:
        raise ValueError(f"claims: expected one {metric} row of loop {loop!r} at generation {generation}, found "
                         f"{len(rows)}")
    row = rows.iloc[0]
    return float(row["mean"]), float(row["sem"]), int(row["replicates"])


def _x1_last(part: pd.DataFrame) -> int:
    return int(part["generation"].max())


def _x1_diverges(part: pd.DataFrame, model: str, tests: int, with_variance: bool) -> Check:
    rise, se, count = _x1_row(part, "replace", "wd_late_rise")
    last = _x1_last(part)
    name = f"{model}: replace diverges (WD still rises over the second half"
    parts = [difference("late rise", rise, se, f"WD rise from generation {last // 2} to {last}: {rise:.4g}±{se:.2g}",
                        tests, count - 1)]
    if with_variance:
        (a, sa, n1), (b, sb, n2) = (_x1_row(part, "replace", "log_variance_kept", g) for g in (1, last))
        parts.append(difference("variance falls", a - b, float(np.hypot(sa, sb)),
                                f"log variance kept {a:.3f}±{sa:.3f} at generation 1, {b:.3f}±{sb:.3f} at {last}",
                                tests, min(n1, n2) - 1))
        name += "; the log variance kept falls"
    return all_of(name + ")", parts)


def _x1_bounded(part: pd.DataFrame, model: str, tests: int) -> Check:
    last = _x1_last(part)
    rise, rise_se, count = _x1_row(part, "accumulate", "wd_late_rise")
    first, first_se, _ = _x1_row(part, "accumulate", "wd", 1)
    middle, middle_se, _ = _x1_row(part, "accumulate", "wd", last // 2)
    final, final_se, _ = _x1_row(part, "accumulate", "wd", last)
    name = (f"{model}: accumulate stays bounded (WD rises by less than {X1_LATE_RISE:.0%} over the second half and "
            f"stays below {X1_BOUND:g}x generation 1's)")
    curve = (f"WD at generations 1, {last // 2}, {last}: {first:.4g}±{first_se:.2g}, {middle:.4g}±{middle_se:.2g}, "
             f"{final:.4g}±{final_se:.2g}")
    parts = [
        equivalence("late rise", rise - X1_LATE_RISE * middle, rise_se + X1_LATE_RISE * middle_se, -np.inf, 0.0,
                    f"the rise over the second half at most {X1_LATE_RISE:.0%} of the WD at generation {last // 2} "
                    "(claims.X1_LATE_RISE; see check_figX1)",
                    f"{curve}; rise over the second half {rise:.3g}±{rise_se:.2g} minus {X1_LATE_RISE:.0%} of the WD "
                    f"at {last // 2}", tests, count - 1),
        equivalence("bound", final - X1_BOUND * first, final_se + X1_BOUND * first_se, -np.inf, 0.0,
                    f"the WD at {last} at most {X1_BOUND:g}x generation 1's (claims.X1_BOUND; see check_figX1)",
                    f"WD at {last} minus {X1_BOUND:g}x generation 1's: {final - X1_BOUND * first:.4g}", tests,
                    count - 1),
    ]
    return all_of(name, parts)


def _x1_between(part: pd.DataFrame, model: str, tests: int) -> Check:
    last = _x1_last(part)
    (r, sr, nr), (s, ss, ns), (a, sa, na) = (_x1_row(part, loop, "wd", last)
                                             for loop in ("replace", "accumulate-subsample", "accumulate"))
    text = (f"WD at generation {last}: replace {r:.4g}±{sr:.2g}, accumulate-subsample {s:.4g}±{ss:.2g}, "
            f"accumulate {a:.4g}±{sa:.2g}")
    return all_of(f"{model}: accumulate-subsample lies in between (its last WD above accumulate's, below replace's)",
                  [difference("above accumulate", s - a, float(np.hypot(ss, sa)), f"{text}; subsample minus accumulate",
                              tests, min(ns, na) - 1),
                   difference("below replace", r - s, float(np.hypot(sr, ss)), "replace minus subsample", tests,
                              min(nr, ns) - 1)])


# Fig. X2 (beyond the paper: each model's own sampling bias) -----------------------------------------------------------
X2_KEEP = 0.95  # issue 17's criterion: an image model at nominal lam = 1 keeps at least this share per generation
X2_IMAGE_MODELS = ("DDPM", "style GAN", "WGAN-GP")


def check_figX2(df: pd.DataFrame) -> list[Check]:
    """One check per image model (column ``model``): at nominal lam = 1 its effective lam (the ``effective_lam`` row:
    the geometric mean over generations of the LeNet-feature dispersion kept against each generation's own training
    set) is at least X2_KEEP. Rule 1 on the log scale: d = log_mean - log(X2_KEEP) with the row's ``log_sem`` on its
    ``dof`` (over the generations of the one chain, each a freshly trained model, or over replicates), tests = the
    number of image models. Supported: the model keeps at least 95% per generation; contradicted: it keeps
    significantly less, so its lam = 1 loop is a biased loop."""
    rows = df[(df["metric"] == "effective_lam") & np.isclose(df["lam"], 1.0)]
    tests = len(X2_IMAGE_MODELS)
    checks = []
    for model in X2_IMAGE_MODELS:
        name = f"{model}: keeps at least {X2_KEEP:.0%} of its training data's spread per generation at lam = 1"
        row = rows[rows["model"] == model]
        if row.empty:
            checks.append(Check(name, UNDECIDED, "no effective_lam row at lam = 1 for this model",
                                _rule_text("difference", tests, np.inf), "a run with its lam = 1 chain"))
            continue
        row = row.iloc[0]
        evidence = (f"effective lam {row['mean']:.3f}±{row['sem']:.2g} (geometric mean of the dispersion kept over "
                    f"generations {row['from_generation']:g}-{row['to_generation']:g}, {row['replicates']:g} "
                    f"replicate(s)); log effective lam minus log {X2_KEEP:g}")
        checks.append(difference(name, row["log_mean"] - np.log(X2_KEEP), row["log_sem"], evidence, tests,
                                 row["dof"], unit="generations (or chains)"))
    return checks


CHECKS: dict[str, Callable[[pd.DataFrame], list[Check]]] = {
    "fig01_gan_fingerprint": check_fig01,
    "fig08_gan_growing_pool": check_fig08,
    "fig13_wgan_fully_synthetic": check_fig13,
    "fig23_gan_biased_samples": check_fig23,
    "fig04_ddpm_fully_synthetic": check_fig04,
    "fig05_ddpm_tsne": check_fig05,
    "fig06_ddpm_biased": check_fig06,
    "fig07_ddpm_tsne_biased": check_fig07,
    "fig09_ddpm_augmentation": check_fig09,
    "fig16_ddpm_more_generations": check_fig16,
    "fig17_flow_rosenbrock": check_fig17,
    "fig26_ddpm_samples": check_fig26,
    "fig27_ddpm_samples_biased": check_fig27,
    "figS1_gaussian_collapse": check_figS1,
    "fig10_fresh_data_limit": check_fig10,
    "fig11_admissible_nr_ns": check_fig11,
    "fig12_admissible_lam_ns": check_fig12,
    "fig30_memory": check_fig30,
    "fig31_real_fraction": check_fig31,
    "fig14_gmm_densities": check_fig14,
    "fig15_gmm_diversity": check_fig15,
    "figX1_replace_accumulate": check_figX1,
    "figX2_sampling_bias": check_figX2,
}


NOT_ASSESSED = ("the smoke preset only proves that the code runs: its sizes are too small to judge the claim; run "
                "the default preset (`make figures`) for a verdict")


class ClaimsFileError(ValueError):
    """A claims.json that cannot be read as this version's table (damaged, truncated, or from another version)."""


def judge(stem: str, df: pd.DataFrame | None) -> tuple[list[Check], str]:
    """The figure's checks on its tidy data as the data file stores it (tidy.csv_bytes: so a verdict recomputed from
    paper_figures/data is the same to the last digit), and the SHA-256 of that file's bytes ("" without data)."""
    if stem not in CHECKS or df is None:
        return [], ""
    data = tidy.csv_bytes(df)
    return CHECKS[stem](pd.read_csv(io.BytesIO(data))), hashlib.sha256(data).hexdigest()


def check(stem: str, df: pd.DataFrame, out: presets.Output) -> dict:
    """Evaluate the figure's claim on its tidy data and record it, with what the run was made with (preset, seed,
    overrides, madlib version) and the hash of the data it judged, in <out.folder>/claims.json."""
    checks, digest = judge(stem, df)
    result = entry(stem, checks, digest, {**out.provenance()}, out.preset)
    record(stem, result, out.folder)
    return result


def entry(stem: str, checks: list[Check], digest: str, provenance: dict, preset: str) -> dict:
    """One figure's claims.json entry."""
    figure = presets.FIGURES[stem]
    result = {"figure": figure.number, "title": figure.title, "claim": figure.claim, **provenance, "format": FORMAT,
              "data_sha256": digest, "verdict": NOT_ASSESSED_VERDICT if checks and preset == "smoke" else
              verdict(checks), "checks": [asdict(c) for c in checks]}
    if result["verdict"] == NOT_ASSESSED_VERDICT:
        result["reason"] = NOT_ASSESSED
    elif result["verdict"] == INCONCLUSIVE:
        result["reason"] = "undecided: " + "; ".join(c.name for c in checks if c.outcome == UNDECIDED)
        result["paper_scale"] = presets.paper_scale(stem)
    return result


SIZE_NAMES = {"replicates": "replicates", "n_eval": "evaluation samples", "generations": "generations"}


def scale_text(result: dict) -> str:
    """What the `paper` preset brings to an inconclusive figure, against its undecided checks' "about N x" (or "")."""
    scale = result.get("paper_scale") or {}
    if not scale:
        return ""
    return "the paper preset runs " + ", ".join(f"{v:.3g}x the {SIZE_NAMES[k]}" for k, v in scale.items()) + \
        " of default"


def rejudge(folder: str | Path) -> dict:
    """Recompute every verdict of <folder>/claims.json from the data files beside it (<folder>/data/<stem>.csv),
    keeping what each run was made with; write the table and return it. No chain is read or computed."""
    folder = Path(folder)
    try:
        table = load(folder / "claims.json")
    except ClaimsFileError:  # another format's verdicts: judge anew, keeping what each run was made with
        table = {stem: result for stem, result in json.loads((folder / "claims.json").read_text()).items()
                 if stem in presets.FIGURES}
    for stem, old in table.items():
        data = folder / "data" / f"{stem}.csv"
        df = pd.read_csv(data) if data.exists() else None
        checks, digest = judge(stem, df)
        provenance = {k: old[k] for k in ("preset", "seed", "overrides", "madlib") if k in old}
        table[stem] = entry(stem, checks, digest, provenance, old.get("preset", "default"))
    _write(folder / "claims.json", table)
    return table


def record(stem: str, result: dict, folder: Path) -> None:
    """Set the figure's entry of <folder>/claims.json; a file lock makes concurrent notebooks' updates safe. Entries
    of another claims.json format are dropped (they are another version's verdicts)."""
    from filelock import FileLock

    path = Path(folder) / "claims.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        table = load(path, migrate=True)
        table[stem] = result
        _write(path, table)


def _write(path: Path, table: dict) -> None:
    atomic_write_bytes(path, (json.dumps(table, indent=1, sort_keys=True, default=_plain) + "\n").encode())


def _plain(value):
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def load(path: str | Path, migrate: bool = False) -> dict:
    """The claims table at `path` ({} when there is none). A damaged or truncated file raises ClaimsFileError saying
    what to do; so does one written by another version, unless `migrate`, which drops its entries."""
    path = Path(path)
    if not path.exists():
        return {}
    redo = f"rerun `madlib figures` (or `madlib claims --rejudge` where the data files are there) to rewrite it"
    try:
        table = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ClaimsFileError(f"{path} is not a readable claims table ({error.msg if hasattr(error, 'msg') else error}"
                              f"; truncated or damaged?): {redo}") from None
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ClaimsFileError(f"{path} is not a claims table (a JSON object of figures): {redo}")
    stale = [stem for stem, result in table.items()
             if result.get("format") != FORMAT or stem not in presets.FIGURES or result.get("verdict") not in VERDICTS]
    if stale and not migrate:
        raise ClaimsFileError(f"{path} holds verdicts of another madlib version (claims format "
                              f"{table[stale[0]].get('format', 1)}, this version reads {FORMAT}; e.g. {stale[0]}): "
                              f"{redo}")
    return {stem: result for stem, result in table.items() if stem not in stale}


MARKS = {SUPPORTED: "+", CONTRADICTED: "-", UNDECIDED: "?"}


def show(result: dict) -> str:
    """A short text of one figure's verdict and evidence (for the notebook's last cell and `madlib claims`)."""
    claim = result["claim"] or "nothing to check (a diagram or sample pictures)"
    lines = [f"Fig. {result['figure']}: {result['verdict'].upper()} — {claim}"]
    if result.get("reason"):
        lines.append(f"  ({result['reason']})")
    if scale_text(result):
        lines.append(f"  ({scale_text(result)})")
    if result.get("overrides") or result.get("seed") not in (None, presets.PRESET_SEED):
        lines.append(f"  run with preset {result['preset']}, seed {result.get('seed')}, overrides "
                     f"{result.get('overrides') or 'none'}")
    for c in result["checks"]:
        lines.append(f"  [{MARKS[c['outcome']]}] {c['outcome']}: {c['name']}: {c['evidence']}")
        if c.get("decide"):
            lines.append(f"      would decide it: {c['decide']}")
    return "\n".join(lines)
