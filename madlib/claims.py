"""The paper's claims as checks over a figure's tidy data (madlib.tidy), with the numbers that decide them.

A claim holds when every one of its checks holds. Differences are judged against Monte-Carlo standard errors
(|z| < Z_SAME for "equal", z > Z_DIFFERENT for "larger"). At the smoke preset the checks still run (so CI
exercises them) but the verdict is recorded as "not assessed": smoke sizes cannot resolve the claims.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from madlib import presets
from madlib.runs import atomic_write_bytes

Z_SAME = 4.0  # |z| below this: no difference resolved
Z_DIFFERENT = 2.0  # z above this: a difference in the stated direction


@dataclass
class Check:
    name: str
    holds: bool
    evidence: str

    def __post_init__(self):
        self.holds = bool(self.holds)


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
def check_figS1(df: pd.DataFrame) -> list[Check]:
    settings = df[["lam", "n_s"]].drop_duplicates().itertuples(index=False)
    last = int(df["generation"].max())
    probe = [t for t in (10, 50) if t <= last] or [last]  # short explored runs: the last generation
    walk_z, trace_z, shrink = [], [], []
    for lam, n_s in settings:
        m, s = _one(df, "mean_1", lam=lam, n_s=n_s, generation=last)
        walk_z.append(m / s)
        t1, s1 = _one(df, "trace", lam=lam, n_s=n_s, generation=1)
        for t in probe:
            tt, st = _one(df, "trace", lam=lam, n_s=n_s, generation=t)
            trace_z.append(_z(tt, st, lam ** (t - 1) * t1, lam ** (t - 1) * s1))
        a, sa = _one(df, "log_trace", lam=lam, n_s=n_s, generation=1)
        b, sb = _one(df, "log_trace", lam=lam, n_s=n_s, generation=last)
        shrink.append(_z(a, sa, b, sb))
    lam_order, ns_order = _collapse_orderings(df, last)
    return [
        Check("E[mu_t] = mu_0: the mean wanders without drift", max(map(abs, walk_z)) < Z_SAME,
              f"max |z| of the replicate mean of mu_t[0] at t={last}: {max(map(abs, walk_z)):.2f}"),
        Check("E[tr Sigma_t] = lam^(t-1) E[tr Sigma_1]", max(map(abs, trace_z)) < Z_SAME,
              f"max |z| over settings at t in {probe}: {max(map(abs, trace_z)):.2f}"),
        Check("Sigma_t shrinks (E[log tr Sigma_t] falls) in every setting", min(shrink) > Z_DIFFERENT,
              f"smallest z of log tr Sigma_1 - log tr Sigma_{last}: {min(shrink):.1f}"),
        Check("faster for smaller lam", lam_order[0], lam_order[1]),
        Check("slower for larger n_s", ns_order[0], ns_order[1]),
    ]


def _collapse_orderings(df: pd.DataFrame, last: int):
    final = _at(df, "log_trace", generation=last)
    def increasing(key, fixed):
        groups = [(value, g.sort_values(key)) for value, g in final.groupby(fixed)]
        zs = [_z(b.mean, b.sem, a.mean, a.sem) for _, g in groups for a, b in zip(g.itertuples(), g.iloc[1:].itertuples())]
        text = "; ".join(f"{fixed}={value:g}: " + ", ".join(f"{key}={r[key]:g} -> {r['mean']:.2f}" for _, r in g.iterrows())
                         for value, g in groups)
        return min(zs) > Z_DIFFERENT, f"E[log tr Sigma_{last}] ({text}); smallest step z = {min(zs):.1f}"

    return increasing("lam", "n_s"), increasing("n_s", "lam")


# Fig. 10 -----------------------------------------------------------------------------------------------------------
# Each panel (a Gaussian lam, the DDPM) is judged in two steps: have its loops converged, and do their limits agree?
# A limit is the mean over a chain's last `window` generations, which follow a burn-in (presets: Fig. 10's windows).
# Converged: no chain of the panel shows a trend over its window, at the family-wise level TREND_ALPHA (two-sided
# Student t, Bonferroni over the panel's chains). A Gaussian chain's trend statistic is its drift_z (the window's
# first half minus its second, a t statistic over the batched replicates; gaussian_studies.fresh_limit). A DDPM
# chain is one run per n_ini, so its statistic is the least-squares slope of the FID over its window over the slope's
# SE, from the residual variance pooled over the panel's chains (never below the evaluation variance). A panel that
# has not converged fails its agreement check too: a limit read off a moving window is no limit.
TREND_ALPHA = 0.05


def _pairwise_abs_z(rows) -> list[float]:
    """|z| of the difference of every pair of estimates (rows with mean and sem)."""
    return [abs(_z(a.mean, a.sem, b.mean, b.sem)) for i, a in enumerate(rows) for b in rows[i + 1 :]]


def trend_critical(dof: float, chains: int) -> float:
    """|t| beyond which one of `chains` chains shows a trend: two-sided Student t on `dof` degrees of freedom at
    TREND_ALPHA / chains (Bonferroni: the panel's family-wise level is TREND_ALPHA)."""
    from scipy import stats

    return float(stats.t.ppf(1 - TREND_ALPHA / (2 * chains), dof))


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


def _panel_checks(name: str, converged: Check, limits: pd.DataFrame, digits: int, start_text: str) -> list[Check]:
    """The panel's convergence check and its agreement check `name` (the same limit for every n_ini: |z| < Z_SAME;
    it fails as "not converged" when the first does not hold)."""
    rows = list(limits.sort_values("n_ini").itertuples())
    zs = _pairwise_abs_z(rows)
    text = ", ".join(f"n_ini={r.n_ini:g}: {r.mean:.{digits}f}±{r.sem:.{digits}f}" for r in rows)
    evidence = f"limits {text}; max |z| = {max(zs):.2f} ({start_text})"
    if not converged.holds:
        evidence = "does not hold: not converged; " + evidence
    return [converged, Check(name, converged.holds and max(zs) < Z_SAME, evidence)]


def _gaussian_converged(lam: float, limits: pd.DataFrame) -> Check:
    """No drift over the window in any n_ini chain of a Gaussian panel (its wd_limit rows: drift_z, replicates)."""
    window = int(limits["window"].iloc[0])
    name = f"lam={lam:g}: the WD has converged (no trend over the last {window} generations of any n_ini)"
    drift = limits.sort_values("n_ini")["drift_z"].to_numpy(float) if "drift_z" in limits else np.array([np.nan])
    dof = int(limits["replicates"].min()) - 1 if "replicates" in limits else 0
    if dof < 1 or not np.all(np.isfinite(drift)):
        return Check(name, False, "not converged: no finite drift z-score to test the window with (one replicate, "
                                  "or data without a drift_z column)")
    critical = trend_critical(dof, len(drift))
    text = ", ".join(f"n_ini={n:g}: {z:+.2f}" for n, z in zip(sorted(limits["n_ini"]), drift))
    return Check(name, bool(np.max(np.abs(drift)) < critical),
                 f"drift z (the window's first half minus its second, over {dof + 1} replicates) {text}; a trend "
                 f"if some |z| > {critical:.2f} (two-sided {TREND_ALPHA:g} over {len(drift)} chains)")


def check_fig10(df: pd.DataFrame) -> list[Check]:
    checks = []
    for lam, part in _at(df, "wd_limit").groupby("lam"):
        first = [_one(df, "wd", lam=lam, n_ini=n, generation=1) for n in sorted(part["n_ini"])]
        start = f"at generation 1 the extremes differ by |z| = {abs(_z(*first[0], *first[-1])):.0f}"
        checks += _panel_checks(f"lam={lam:g}: same limit for every n_ini", _gaussian_converged(lam, part), part, 4,
                                start)
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


def check_fig11(df: pd.DataFrame) -> list[Check]:
    thr = thresholds(df, "n_r")
    n_r = np.array(sorted(thr))
    t = np.array([thr[k] for k in n_r])
    finite = np.isfinite(t) & (t > 0)
    evidence = f"largest admissible n_s: {_fmt(thr, 'n_r')}"
    if finite.sum() < 3:
        return [Check("the admissible n_s levels off as n_r grows", False, evidence + " (too few finite thresholds)")]
    x, y = np.log(n_r[finite]), np.log(t[finite])
    upper = slice(len(x) // 2, None)
    slope = np.polyfit(x[upper], y[upper], 1)[0]
    share = t[finite] / n_r[finite]
    return [
        Check("the admissible share n_s / n_r shrinks as n_r grows", bool(np.all(np.diff(share) < 0)),
              evidence + "; n_s/n_r at the threshold: " + ", ".join(f"{v:.2f}" for v in share)),
        Check("the admissible n_s levels off: log-log slope against n_r below 0.5 over the upper half of n_r",
              slope < 0.5, f"slope = {slope:.2f}"),
    ]


def check_fig12(df: pd.DataFrame) -> list[Check]:
    thr = thresholds(df, "lam")
    lams = sorted(thr)
    t = np.array([thr[k] for k in lams])
    grows = all(b >= a for a, b in zip(t, t[1:])) and t[-1] > t[0]  # inf >= inf: both admit every n_s
    evidence = f"largest admissible n_s: {_fmt(thr, 'lam')}"
    checks = [Check("smaller lam gives a smaller admissible n_s", grows, evidence)]
    if np.isclose(lams[-1], 1.0):
        checks.append(Check("lam = 1 admits every n_s tried", bool(np.isinf(t[-1])), evidence))
    return checks


# Fig. 30 -----------------------------------------------------------------------------------------------------------
def check_fig30(df: pd.DataFrame) -> list[Check]:
    rows = _at(df, "n_e_over_n_r").sort_values("memory")
    k, m, s = rows["memory"].to_numpy(float), rows["mean"].to_numpy(), rows["sem"].to_numpy()
    step_z = [_z(m[i + 1], s[i + 1], m[i], s[i]) for i in range(len(m) - 1)]
    first_gain, last_gain = (m[1] - m[0]) / (k[1] - k[0]), (m[-1] - m[-2]) / (k[-1] - k[-2])
    gain_se = np.hypot(s[1], s[0]) / (k[1] - k[0]) + np.hypot(s[-1], s[-2]) / (k[-1] - k[-2])
    values = ", ".join(f"K={int(a)}: {b:.3f}" for a, b in zip(k, m))
    return [
        Check("n_e / n_r grows with K (no step down beyond noise, overall rise)",
              min(step_z) > -Z_DIFFERENT and _z(m[-1], s[-1], m[0], s[0]) > Z_DIFFERENT,
              f"{values}; smallest step z = {min(step_z):.1f}"),
        Check("diminishing returns: gain per unit K falls from the first step to the last",
              first_gain - last_gain > Z_DIFFERENT * gain_se,
              f"gain per unit K: first {first_gain:.3f}, last {last_gain:.3f} (SE about {gain_se:.3f})"),
    ]


# Fig. 31 -----------------------------------------------------------------------------------------------------------
def check_fig31(df: pd.DataFrame, lam_panel: float = 1.0, p_panel: float | None = None) -> list[Check]:
    wd = _at(df, "wd_limit")
    left = wd[np.isclose(wd["lam"], lam_panel)]
    checks = []
    falls = []
    for p, g in left.groupby("p_real"):
        g = g.sort_values("n")
        falls.append(min(_z(a.mean, a.sem, b.mean, b.sem) for a, b in zip(g.itertuples(), g.iloc[1:].itertuples())))
    checks.append(Check("lam=1: WD falls as n grows, for every p", min(falls) > Z_DIFFERENT,
                        f"smallest z of a step down in WD along n: {min(falls):.1f}"))
    full = left[np.isclose(left["p_real"], 1.0)].set_index("n")
    above = [_z(r.mean, r.sem, full.loc[r.n, "mean"], full.loc[r.n, "sem"])
             for r in left[~np.isclose(left["p_real"], 1.0)].itertuples() if r.n in full.index]
    checks.append(Check("lam=1: WD is larger when p < 1 than with p = 1, at every n", min(above) > Z_DIFFERENT,
                        f"smallest z of WD(p<1) - WD(p=1): {min(above):.1f}"))
    if p_panel is None:  # the right panel's real fraction: the data's p_fixed column (gaussian_studies.fig31)
        p_panel = float(df["p_fixed"].iloc[0]) if "p_fixed" in df else float(wd["p_real"].min())
    right = wd[np.isclose(wd["p_real"], p_panel)]
    slopes = {lam: _end_slope(g) for lam, g in right.groupby("lam")}
    text = ", ".join(f"lam={k:g}: {v[0]:.3f}±{v[1]:.3f}" for k, v in sorted(slopes.items()))
    unbiased = slopes[1.0]
    flatter = [_z(*v, *unbiased) for k, v in slopes.items() if k < 1.0]
    checks.append(Check(f"p={p_panel:g}: with lam < 1 the WD flattens (log-log slope at the largest n nearer 0 "
                        "than at lam = 1)", min(flatter) > Z_DIFFERENT,
                        f"slope of log WD against log n over the two largest n: {text}; smallest z against lam=1: "
                        f"{min(flatter):.1f}"))
    return checks


def _end_slope(g: pd.DataFrame) -> tuple[float, float]:
    """Slope of log WD against log n between the two largest n, and its SE (from the SEs of the two WDs)."""
    g = g.sort_values("n").iloc[-2:]
    mean, sem, n = g["mean"].to_numpy(float), g["sem"].to_numpy(float), g["n"].to_numpy(float)
    step = np.log(n[1]) - np.log(n[0])
    return float((np.log(mean[1]) - np.log(mean[0])) / step), float(np.hypot(*(sem / mean)) / step)


# DDPM figures (4-7, 9, 10 right, 16, 26, 27) -----------------------------------------------------------------------
# One chain per setting: a value's SE is its evaluation noise (binomial or bootstrap), not the training noise
# between chains, so these z-scores say the change is larger than the measurement error of one chain.
def _ends(df: pd.DataFrame, metric: str, lam: float, upto: float = np.inf) -> tuple[tuple[float, float], tuple[float, float]]:
    """(mean, SE) of a metric at the first and at the last generation (at most ``upto``) of the lam chain."""
    rows = _at(df, metric, lam=lam).sort_values("generation")
    rows = rows[rows["generation"] <= upto]
    if rows.empty:
        raise ValueError(f"claims: no {metric} rows at lam={lam}")
    first, last = rows.iloc[0], rows.iloc[-1]
    return (float(first["mean"]), float(first["sem"])), (float(last["mean"]), float(last["sem"]))


def _last_generation(df: pd.DataFrame, metric: str, lam: float) -> int:
    return int(_at(df, metric, lam=lam)["generation"].max())


def _change(df: pd.DataFrame, metric: str, lam: float, direction: int, upto: float = np.inf) -> tuple[float, str]:
    """z of the change of a metric from the first to the last generation (at most ``upto``), signed so that positive
    means the stated direction (+1 rise, -1 fall), and a text with both values."""
    (a, sa), (b, sb) = _ends(df, metric, lam, upto)
    z = direction * _z(b, sb, a, sa)
    last = min(_last_generation(df, metric, lam), upto)
    return z, f"{metric} {a:.3f}±{sa:.3f} at t=1 -> {b:.3f}±{sb:.3f} at t={last:g} (z={z:.1f})"


def _trend_check(df, metric, lam, direction, name) -> Check:
    z, text = _change(df, metric, lam, direction)
    return Check(name, z > Z_DIFFERENT, f"lam={lam:g}: {text}")


def _steady_trend_check(df, metric, lam, direction, name) -> Check:
    """The change from first to last generation is beyond noise (z > Z_DIFFERENT) and the whole chain moves that way:
    Spearman's rank correlation of the metric with the generation has the stated sign at the 5% level."""
    from scipy.stats import spearmanr

    z, text = _change(df, metric, lam, direction)
    rows = _at(df, metric, lam=lam)
    flat = np.ptp(rows["mean"].to_numpy()) == 0  # no trend at all (and no defined rank correlation)
    rho, p_value = (0.0, 1.0) if flat else spearmanr(rows["generation"], rows["mean"])
    steady = direction * rho > 0 and p_value < 0.05
    return Check(name, z > Z_DIFFERENT and steady,
                 f"lam={lam:g}: {text}; Spearman rho={rho:.2f} (p={p_value:.2g}) over {len(rows)} generations")


def per_model(df: pd.DataFrame, checks_of: Callable[[pd.DataFrame], list[Check]]) -> list[Check]:
    """A figure's checks run on each model's rows (column ``model``, e.g. the DDPM and GAN rows of Figs. 4 and 6),
    each check named after its model; a table without that column is one model."""
    if "model" not in df or df["model"].isna().all():
        return checks_of(df)
    return [Check(f"{model}: {c.name}", c.holds, c.evidence)
            for model, rows in df.groupby("model", sort=False) for c in checks_of(rows)]


def check_fig04(df: pd.DataFrame) -> list[Check]:
    return per_model(df, lambda rows: [_trend_check(rows, "fid", 1.0, +1, "FID rises"),
                                       _trend_check(rows, "precision", 1.0, -1, "precision falls"),
                                       _trend_check(rows, "recall", 1.0, -1, "recall falls")])


def check_fig05(df: pd.DataFrame) -> list[Check]:
    return [_trend_check(df, "class_separation", 1.0, -1,
                         "synthetic classes merge: their separation (silhouette) falls"),
            _trend_check(df, "fid", 1.0, +1, "synthetic features drift from the real ones: FID rises")]


def _relative_drop(df: pd.DataFrame, metric: str, lam: float, upto: float = np.inf) -> tuple[float, float]:
    """last / first of a metric (last: at most generation ``upto``) and its SE (delta method); NaN when the first
    value is 0 (no ratio: a check on it does not hold)."""
    (a, sa), (b, sb) = _ends(df, metric, lam, upto)
    if a == 0:
        return float("nan"), float("nan")
    ratio = b / a
    return ratio, abs(ratio) * float(np.hypot(sa / a, sb / max(abs(b), 1e-12)))


def check_fig06(df: pd.DataFrame) -> list[Check]:
    return per_model(df, _fig06_checks)


def _fig06_checks(df: pd.DataFrame) -> list[Check]:
    biased = float(df["lam"].min())
    common = min(_last_generation(df, "recall", biased), _last_generation(df, "recall", 1.0))
    z_precision, precision_text = _change(df, "precision", biased, +1)
    kept_b, se_b = _relative_drop(df, "recall", biased, common)
    kept_1, se_1 = _relative_drop(df, "recall", 1.0, common)
    z_recall = _z(kept_1, se_1, kept_b, se_b)
    return [
        _trend_check(df, "fid", biased, +1, "FID rises"),
        Check("precision does not decay (no fall beyond noise)", z_precision > -Z_DIFFERENT,
              f"lam={biased:g}: {precision_text}"),
        Check("recall decays faster than at lam = 1 (smaller last/first ratio)", z_recall > Z_DIFFERENT,
              f"recall kept by t={common}: lam={biased:g} {kept_b:.3f}±{se_b:.3f}, lam=1 {kept_1:.3f}±{se_1:.3f} "
              f"(z={z_recall:.1f})"),
    ]


def check_fig07(df: pd.DataFrame, lam: float | None = None, compare_lam: float | None = None) -> list[Check]:
    """lam: the biased chain (default: the smallest lam in the table); compare_lam: the other (default: the
    largest)."""
    lam = float(df["lam"].min()) if lam is None else lam
    compare_lam = float(df["lam"].max()) if compare_lam is None else compare_lam
    z_kept, kept_text = _change(df, "class_separation", lam, +1)
    (_, _), (sep_b, se_b) = _ends(df, "class_separation", lam)
    (_, _), (sep_1, se_1) = _ends(df, "class_separation", compare_lam)
    z_versus = _z(sep_b, se_b, sep_1, se_1)
    return [
        Check("classes do not merge: separation does not fall beyond noise", z_kept > -Z_DIFFERENT,
              f"lam={lam:g}: {kept_text}"),
        Check(f"at the last generation classes are better separated than at lam = {compare_lam:g}",
              z_versus > Z_DIFFERENT,
              f"separation lam={lam:g}: {sep_b:.3f}±{se_b:.3f}, lam={compare_lam:g}: {sep_1:.3f}±{se_1:.3f} "
              f"(z={z_versus:.1f})"),
        _trend_check(df, "class_spread", lam, -1, "each class collapses onto itself: its spread falls"),
    ]


def check_fig09(df: pd.DataFrame) -> list[Check]:
    lams = sorted(df["lam"].unique())
    rises = {lam: _change(df, "fid", lam, +1) for lam in lams}
    last = {m: {lam: _ends(df, m, lam)[1] for lam in lams} for m in ("fid", "precision", "recall")}
    biased = [lam for lam in lams if lam < 1.0]
    z_precision = {lam: _z(*last["precision"][lam], *last["precision"][1.0]) for lam in biased}
    z_recall = _z(*last["recall"][1.0], *last["recall"][min(biased)])
    best = min(lams, key=lambda lam: last["fid"][lam][0])
    z_best = _z(*last["fid"][1.0], *last["fid"][best]) if best < 1.0 else 0.0
    text = lambda m: ", ".join(f"lam={lam:g}: {v[0]:.3f}±{v[1]:.3f}" for lam, v in last[m].items())  # noqa: E731
    return [
        Check("FID rises for every lam", min(z for z, _ in rises.values()) > Z_DIFFERENT,
              "; ".join(f"lam={lam:g}: {t}" for lam, (_, t) in rises.items())),
        Check("some lam < 1 ends with higher precision than lam = 1", max(z_precision.values()) > Z_DIFFERENT,
              f"last-generation precision {text('precision')}"),
        Check(f"recall falls further at lam = {min(biased):g} than at lam = 1", z_recall > Z_DIFFERENT,
              f"last-generation recall {text('recall')} (z={z_recall:.1f})"),
        Check("some lam < 1 mitigates best: the lowest last-generation FID, below lam = 1's",
              best < 1.0 and z_best > Z_DIFFERENT, f"last-generation FID {text('fid')}; best lam={best:g}"),
    ]


def check_fig10_ddpm(df: pd.DataFrame) -> list[Check]:
    """Fig. 10's DDPM panel (rows fid per generation and fid_limit with its window; see Fig. 10 above): has the FID
    converged, and is its limit the same for every n_ini?"""
    limits = _at(df, "fid_limit")
    if limits.empty:
        return []
    if "window" not in limits or limits["window"].isna().any():
        raise ValueError("claims: the DDPM panel's fid_limit rows need a window column (ddpm_studies.limits)")
    first = [_one(df, "fid", n_ini=n, generation=1)[0] for n in sorted(limits["n_ini"])]
    start = "generation-1 FIDs: " + ", ".join(f"{m:.1f}" for m in first)
    converged = _ddpm_converged(df, int(limits["window"].iloc[0]))
    return _panel_checks("DDPM: same FID limit for every n_ini", converged, limits, 2, start)


def _ddpm_converged(df: pd.DataFrame, window: int) -> Check:
    """No trend in the FID over the last `window` generations of any n_ini chain (slopes from window_slopes)."""
    tails = [g.sort_values("generation").iloc[-window:] for _, g in _at(df, "fid").groupby("n_ini")]
    keys = [float(t["n_ini"].iloc[0]) for t in tails]
    generations = tails[0]["generation"].to_numpy(float)
    if len(generations) < window or any(not np.array_equal(t["generation"], generations) for t in tails):
        raise ValueError(f"claims: every DDPM chain needs FID rows at the same last {window} generations")
    slopes, ses, dof = window_slopes(generations, [t["mean"] for t in tails], [t["sem"] for t in tails])
    span = f"generations {generations[0]:g}-{generations[-1]:g}"
    name = f"DDPM: the FID has converged (no trend over the last {window} generations of any n_ini)"
    if dof < 1:
        return Check(name, False, f"not converged: a window of {window} generations leaves no residual degrees of "
                                  "freedom to test it for a trend")
    t = slopes / ses
    critical = trend_critical(dof, len(keys))
    text = ", ".join(f"n_ini={k:g}: {b:+.2f}±{e:.2f} (t={v:+.1f})" for k, b, e, v in zip(keys, slopes, ses, t))
    return Check(name, bool(np.max(np.abs(t)) < critical),
                 f"FID slope per generation over {span}: {text}; a trend if some |t| > {critical:.2f} (two-sided "
                 f"{TREND_ALPHA:g} over {len(keys)} chains, {dof} residual df)")


def check_fig16(df: pd.DataFrame, zero: float = 0.05) -> list[Check]:
    (_, _), (precision, se_p) = _ends(df, "precision", 1.0)
    (_, _), (recall, se_r) = _ends(df, "recall", 1.0)
    last = int(df["generation"].max())
    lams = sorted(df["lam"].unique())
    recall_last = {lam: _ends(df, "recall", lam)[1] for lam in lams}
    z_order = _z(*recall_last[1.0], *recall_last[lams[0]])
    return [
        Check(f"lam = 1: precision and recall reach zero (below {zero}) by the last generation",
              precision < zero and recall < zero,
              f"at t={last}: precision {precision:.3f}±{se_p:.3f}, recall {recall:.3f}±{se_r:.3f}"),
        Check(f"recall at the last generation is lower at lam = {lams[0]:g} than at lam = 1", z_order > Z_DIFFERENT,
              ", ".join(f"lam={lam:g}: {m:.3f}±{s:.3f}" for lam, (m, s) in recall_last.items())
              + f" (z={z_order:.1f})"),
    ]


def check_fig26(df: pd.DataFrame) -> list[Check]:
    return [_trend_check(df, "lenet_agreement", 1.0, -1,
                         "digits become illegible: LeNet reads fewer samples as the class they were drawn for"),
            _trend_check(df, "fid", 1.0, +1, "samples drift from real digits: FID rises")]


def check_fig27(df: pd.DataFrame) -> list[Check]:
    lam = float(df["lam"].min())
    return [_trend_check(df, "class_spread", lam, -1, "each class collapses: the spread of its samples falls"),
            _trend_check(df, "recall", lam, -1, "fewer real digits are covered: recall falls")]


# GAN figures (1, 8, 13, 23-25; the GAN rows of 4 and 6 are above) ---------------------------------------------------
def check_fig01(df: pd.DataFrame) -> list[Check]:
    (h1, s1), (h2, s2) = _ends(df, "high_freq_ratio", 1.0)
    check = _steady_trend_check(df, "spectral_distance", 1.0, +1,
                                "the spectral fingerprint grows: synthetic spectra move away from the real one")
    check.evidence += f"; high-frequency energy synthetic/real {h1:.3f}±{s1:.3f} -> {h2:.3f}±{s2:.3f}"
    return [check]


def check_fig08(df: pd.DataFrame) -> list[Check]:
    pool = df[df["variant"] == "synthetic_augmentation"]
    full = df[df["variant"] == "fully_synthetic"]
    common = min(int(pool["generation"].max()), int(full["generation"].max()))
    (_, _), (fid_pool, se_pool) = _ends(pool, "fid", 1.0, common)
    (_, _), (fid_full, se_full) = _ends(full, "fid", 1.0, common)
    z_slower = _z(fid_full, se_full, fid_pool, se_pool)
    return [
        _trend_check(pool, "fid", 1.0, +1, "growing pool: FID rises"),
        _trend_check(pool, "precision", 1.0, -1, "growing pool: precision falls"),
        _trend_check(pool, "recall", 1.0, -1, "growing pool: recall falls"),
        Check("more slowly than the fully synthetic loop: lower FID at the same generation", z_slower > Z_DIFFERENT,
              f"FID at t={common}: growing pool {fid_pool:.2f}±{se_pool:.2f}, fully synthetic "
              f"{fid_full:.2f}±{se_full:.2f} (z={z_slower:.1f})"),
    ]


def check_fig13(df: pd.DataFrame) -> list[Check]:
    return [_steady_trend_check(df, "fid", 1.0, +1, "FID rises steadily"),
            _steady_trend_check(df, "precision", 1.0, -1, "precision falls steadily"),
            _steady_trend_check(df, "recall", 1.0, -1, "recall falls steadily")]


def check_fig23(df: pd.DataFrame) -> list[Check]:
    lam = float(df["lam"].min())
    return [_trend_check(df, "recall", lam, -1, "diversity shrinks: recall falls"),
            _trend_check(df, "coverage", lam, -1, "diversity shrinks: coverage falls")]


# Fig. 17 -----------------------------------------------------------------------------------------------------------
# The tail measure is the share of samples with |x1| beyond P_r's 99th percentile of |x1| (the far ends of the
# banana's arms; 0.01 under P_r). Its SE is binomial (one chain) or between chains (several, never below the
# binomial SE of their mean), as chains.run_chains writes it. (The share outside P_r's 99% highest-density region,
# tail_r2, also counts samples that leave the ridge sideways, which is not a tail of P_r; the figure shows it, the
# claim does not use it.)
def _kept_share(df: pd.DataFrame, metric: str, lam: float) -> tuple[float, float]:
    """last / first of a metric and its delta-method SE, sqrt((sb/a)^2 + (b sa / a^2)^2), which stays positive when
    the last value is 0. NaN when generation 1 has no tail at all (nothing to keep: the share is undefined, and a
    comparison with it fails)."""
    (a, sa), (b, sb) = _ends(df, metric, lam)
    if not a > 0:
        return float("nan"), float("nan")
    return b / a, float(np.hypot(sb / a, b * sa / a**2))


def check_fig17(df: pd.DataFrame, metric: str = "tail_x1") -> list[Check]:
    lams = sorted(df["lam"].unique())
    checks = [_trend_check(df, metric, lam, -1, f"lam={lam:g}: the tails are lost (the tail share falls from "
                                                f"generation 1 to the last)") for lam in lams]
    for lam in lams:
        _, (last, se) = _ends(df, metric, lam)
        z = _z(0.01, 0.0, last, se)
        checks.append(Check(f"lam={lam:g}: at the last generation the tail share is below P_r's 0.01", z > Z_DIFFERENT,
                            f"{metric} = {last:.4f}±{se:.4f} (z={z:.1f})"))
    kept = {lam: _kept_share(df, metric, lam) for lam in lams}
    biased = [lam for lam in lams if lam < 1.0]
    z_faster = [_z(*kept[1.0], *kept[lam]) for lam in biased] if 1.0 in kept else []
    checks.append(Check("faster with lam < 1: a smaller share of generation 1's tail is left at the last generation",
                        bool(z_faster) and float(np.min(z_faster)) > Z_DIFFERENT,  # a NaN z fails
                        "last/first tail share: " + ", ".join(f"lam={lam:g} {k:.3f}±{s:.3f}"
                                                             for lam, (k, s) in kept.items())
                        + (f" (smallest z = {np.min(z_faster):.1f})" if z_faster
                           else " (no lam = 1 and lam < 1 pair)")))
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


def _significantly_positive(mean: float, sem: float, count: int) -> tuple[bool, str]:
    """Is the mean over `count` independent chains > 0 (two-sided 95% t test; one chain: only its sign)?"""
    from scipy import stats

    if not np.isfinite(mean):
        return False, f"undefined over {count} chains (some chain has no value, e.g. a constant metric)"
    if count < 2 or not np.isfinite(sem):
        return bool(mean > 0), f"{mean:.3f} (one chain: no SE, judged by its sign)"
    critical = float(stats.t.ppf(0.975, count - 1))
    t = mean / sem if sem > 0 else (np.inf if mean > 0 else -np.inf)
    return bool(t > critical), f"{mean:.3f}±{sem:.3f} over {count} chains (t={t:.1f}, needs > {critical:.2f})"


def check_fig14(df: pd.DataFrame) -> list[Check]:
    first, last = _at(df, "modes_covered", generation=1), df[df["metric"] == "modes_covered"]
    last = last[last["generation"] == last["generation"].max()]
    lost, sem, count = _chain_mean(df, "modes_lost")
    holds, text = _significantly_positive(lost, sem, count)
    return [Check("modes are lost: fewer modes covered at the last iteration than at the first", holds,
                  f"modes covered at t=1: {first['mean'].iloc[0]:.1f}, at t={int(last['generation'].iloc[0])}: "
                  f"{last['mean'].iloc[0]:.1f}; modes lost per chain {text}")]


def check_fig15(df: pd.DataFrame) -> list[Check]:
    checks = []
    for metric, name in (("recall", "recall"), ("modal_variance", "average modal variance")):
        holds, text = _significantly_positive(*_chain_mean(df, f"track_{metric}"))
        checks.append(Check(f"{name} tracks the loss of modes (positive rank correlation with modes covered)",
                            holds, f"Spearman correlation over the iterations {text}"))
    total, _, _ = _chain_mean(df, "track_total_variance")
    for metric, name in (("recall", "recall"), ("modal_variance", "average modal variance")):
        holds, text = _significantly_positive(*_chain_mean(df, f"track_gap_{metric}"))
        checks.append(Check(f"total variance tracks it less than {name} (smaller rank correlation, paired per "
                            "chain)", holds, f"correlation of {name} minus that of total variance ({total:.3f}): "
                            f"{text}"))
    return checks


# Fig. X1 (beyond the paper: replace, accumulate, accumulate-subsample) ------------------------------------------------
X1_ALPHA = 0.05  # family-wise level of each of the three claims (one-sided tests, Bonferroni within a claim)
X1_LATE_RISE = 0.10  # accumulate: WD may rise over the second half by at most this share of its midpoint value
X1_BOUND = 2.0  # accumulate: the last WD at most this multiple of generation 1's


def check_figX1(df: pd.DataFrame) -> list[Check]:
    """Three claims on the WD to P_r, per model (column ``model``) and loop (column ``loop``): "replace" diverges,
    "accumulate" stays bounded, "accumulate-subsample" lies in between. T is a model's last generation and H = T // 2
    its midpoint (the ``wd_late_rise`` rows: WD at T minus WD at H, paired within each replicate). Each claim is a
    family of one-sided tests at level X1_ALPHA with Bonferroni's correction, Student t on (replicates - 1) degrees of
    freedom (the fewer replicates of the two sides for a comparison between loops, whose chains are independent).

    1. Replace diverges: its WD still rises over the second half (mean late rise > 0). For the Gaussian with
       lam = 1, E|mu_t - mu_r|^2 = t tr(Sigma_r) / N grows without bound and the log-eigenvalues of Sigma_t
       random-walk apart, so the WD keeps growing. Where d = 1 (column ``d``, Gaussian rows) also: the log variance
       kept falls from generation 1 to T. Theory gives E log(sigma_T^2 / sigma_1^2) = (T - 1) [psi((N - 1) / 2) +
       ln(2 / (N - 1))], about -(T - 1) / (N - 1) = -1 at N = T = 100, with a spread of about 1.4 per replicate,
       which the default preset's replicates resolve. Not tested elsewhere: at d = 100 the trace sums 100 directions
       and the same drift is about d times smaller, beyond reach; the GMM's total variance follows no such law (and
       does not track its collapse, Fig. 15). The mean E[tr Sigma_t] itself stays constant at lam = 1 (a martingale).
    2. Accumulate stays bounded. The fit on the pool moves at generation k by a fresh sampling error divided by k,
       so squared errors add up as sum 1/k^2 <= pi^2 / 6 (Gerstgrasser et al. 2024; Dey & Donoho 2024): about 1.28
       times generation 1's error in RMS for all time, and between H and T only by the terms k in (H, T], under 1%
       for H >= 25; replace's squared error of the mean doubles from H to T (+41% in RMS). So (a) the late rise is
       below X1_LATE_RISE (10%) of the WD at H, and (b) the WD at T is below X1_BOUND (2) times generation 1's (room
       for the nonlinearity of WD and for the GMM, for which we prove nothing). Both are equivalence tests: they hold
       only when the upper confidence bound lies below the margin, so too few replicates fail them. The SE of a
       mean minus a multiple of another mean is taken as the sum of the SEs (valid whatever their correlation).
    3. Accumulate-subsample lies in between at T: its WD is above accumulate's (its fit uses N points of the pool,
       so it carries the sampling error of a generation-1 fit on top of the pool's, while accumulate fits the whole
       pool) and below replace's (the pool keeps it anchored to the real data).

    The fresh data loop is drawn for reference; the paper's claims on it are checked in Figs. 10-12.
    """
    models = list(dict.fromkeys(df["model"]))
    diverges, bounded, between = [], [], []
    variance_rows = [m for m in models if _x1_is_d1(df, m)]
    k1, k2, k3 = len(models) + len(variance_rows), 2 * len(models), 2 * len(models)
    for model in models:
        part = df[df["model"] == model]
        diverges.append(_x1_diverges(part, model, k1, with_variance=model in variance_rows))
        bounded.append(_x1_bounded(part, model, k2))
        between.append(_x1_between(part, model, k3))
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


def _x1_critical(tests: int, replicates: int) -> float:
    """One-sided Student t critical value at X1_ALPHA / tests on replicates - 1 degrees of freedom (inf with one)."""
    from scipy import stats

    return float(stats.t.ppf(1 - X1_ALPHA / tests, replicates - 1)) if replicates > 1 else np.inf


def _x1_last(part: pd.DataFrame) -> int:
    return int(part["generation"].max())


def _x1_diverges(part: pd.DataFrame, model: str, tests: int, with_variance: bool) -> Check:
    rise, se, count = _x1_row(part, "replace", "wd_late_rise")
    critical, last = _x1_critical(tests, count), _x1_last(part)
    t = rise / se if se > 0 else (np.inf if rise > 0 else -np.inf)
    holds = t > critical
    evidence = (f"WD rise from generation {last // 2} to {last}: {rise:.4g}±{se:.2g} (t={t:.1f}, needs > "
                f"{critical:.2f})")
    name = f"{model}: replace diverges (WD still rises over the second half"
    if with_variance:
        (a, sa, n1), (b, sb, _) = (_x1_row(part, "replace", "log_variance_kept", g) for g in (1, last))
        z = _z(a, sa, b, sb)
        holds = holds and z > _x1_critical(tests, n1)
        evidence += (f"; log variance kept {a:.3f}±{sa:.3f} at generation 1, {b:.3f}±{sb:.3f} at {last} (t={z:.1f}, "
                     f"needs > {_x1_critical(tests, n1):.2f})")
        name += "; the log variance kept falls"
    return Check(name + ")", holds, evidence)


def _x1_bounded(part: pd.DataFrame, model: str, tests: int) -> Check:
    last = _x1_last(part)
    rise, rise_se, count = _x1_row(part, "accumulate", "wd_late_rise")
    first, first_se, _ = _x1_row(part, "accumulate", "wd", 1)
    middle, middle_se, _ = _x1_row(part, "accumulate", "wd", last // 2)
    final, final_se, _ = _x1_row(part, "accumulate", "wd", last)
    critical = _x1_critical(tests, count)
    rise_upper = rise + critical * (rise_se + X1_LATE_RISE * middle_se)
    final_upper = final + critical * (final_se + X1_BOUND * first_se)
    holds = rise_upper < X1_LATE_RISE * middle and final_upper < X1_BOUND * first
    return Check(f"{model}: accumulate stays bounded (WD rises by less than {X1_LATE_RISE:.0%} over the second half "
                 f"and stays below {X1_BOUND:g}x generation 1's)", holds,
                 f"WD at generations 1, {last // 2}, {last}: {first:.4g}±{first_se:.2g}, "
                 f"{middle:.4g}±{middle_se:.2g}, "
                 f"{final:.4g}±{final_se:.2g}; rise over the second half {rise:.3g}±{rise_se:.2g}, upper bound "
                 f"{rise_upper:.3g} vs {X1_LATE_RISE * middle:.3g} allowed; upper bound at {last} {final_upper:.4g} "
                 f"vs {X1_BOUND * first:.4g} allowed (t quantile {critical:.2f})")


def _x1_between(part: pd.DataFrame, model: str, tests: int) -> Check:
    last = _x1_last(part)
    (r, sr, nr), (s, ss, ns), (a, sa, na) = (_x1_row(part, loop, "wd", last)
                                             for loop in ("replace", "accumulate-subsample", "accumulate"))
    above, below = _z(s, ss, a, sa), _z(r, sr, s, ss)
    critical = _x1_critical(tests, min(nr, ns, na))
    return Check(f"{model}: accumulate-subsample lies in between (its last WD above accumulate's, below replace's)",
                 above > critical and below > critical,
                 f"WD at generation {last}: replace {r:.4g}±{sr:.2g}, accumulate-subsample {s:.4g}±{ss:.2g}, "
                 f"accumulate {a:.4g}±{sa:.2g} (t={above:.1f} above accumulate, t={below:.1f} below replace; needs > "
                 f"{critical:.2f})")


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
}


NOT_ASSESSED = ("the smoke preset only proves that the code runs: its sizes are too small to judge the claim; run "
                "the default preset (`make figures`) for a verdict")


def check(stem: str, df: pd.DataFrame, out: presets.Output, **options) -> dict:
    """Evaluate the figure's claim on its tidy data and record it, with what the run was made with (preset, seed,
    overrides, madlib version), in <out.folder>/claims.json."""
    figure = presets.FIGURES[stem]
    checks = CHECKS[stem](df, **options) if stem in CHECKS else []
    result = {"figure": figure.number, "title": figure.title, "claim": figure.claim, **out.provenance(),
              "verdict": _verdict(checks, out.preset), "checks": [asdict(c) for c in checks]}
    if result["verdict"] == "not assessed":
        result["reason"] = NOT_ASSESSED
    record(stem, result, out.folder)
    return result


def _verdict(checks: list[Check], preset: str) -> str:
    if not checks:
        return "no claim"
    if preset == "smoke":
        return "not assessed"
    return "holds" if all(c.holds for c in checks) else "does not hold"


def record(stem: str, result: dict, folder: Path) -> None:
    """Set the figure's entry of <folder>/claims.json; a file lock makes concurrent notebooks' updates safe."""
    from filelock import FileLock

    path = Path(folder) / "claims.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        table = load(path)
        table[stem] = result
        atomic_write_bytes(path, (json.dumps(table, indent=1, sort_keys=True, default=_plain) + "\n").encode())


def _plain(value):
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def load(path: str | Path) -> dict:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def show(result: dict) -> str:
    """A short text of one figure's verdict and evidence (for the notebook's last cell)."""
    claim = result["claim"] or "nothing to check (a diagram or sample pictures)"
    lines = [f"Fig. {result['figure']}: {result['verdict'].upper()} — {claim}"]
    if result.get("reason"):
        lines.append(f"  ({result['reason']})")
    if result.get("overrides") or result.get("seed") not in (None, presets.PRESET_SEED):
        lines.append(f"  run with preset {result['preset']}, seed {result.get('seed')}, overrides "
                     f"{result.get('overrides') or 'none'}")
    for c in result["checks"]:
        lines.append(f"  [{'x' if c['holds'] else ' '}] {c['name']}: {c['evidence']}")
    return "\n".join(lines)
