"""The interactive explorer of the Gaussian loops (notebooks/explore_gaussian_loops): simulate one loop, draw it with
the closed forms that hold for it, and build the widgets that redraw it.

The loop runs through the engine (:func:`madlib.loops.run`) with the exact Gaussian model
(:class:`madlib.models.gaussian.GaussianModel`, all replicates batched in one run), in memory only: exploring writes
nothing, neither to the run store nor to ``paper_figures/``.

Statistics per generation t (generation 1 is fit on ``n_ini`` real samples of P_r = N(0, I_d)):

* ``wd``: WD (unsquared W2) of the fit N(mu_t, Sigma_t) to P_r;
* ``mean_error``: the squared error of the mean |mu_t|^2;
* ``variance_kept``: tr Sigma_t / d, the arithmetic mean of the fitted variances Sigma_t[i, i];
* ``log_typical_variance``: the mean of log Sigma_t[i, i] over the d coordinates; its mean over replicates is the
  log of the geometric mean of the fitted variances (the variance of a typical path, drawn as its exponential);
* ``n_e``: the effective sample size of generation t, the number of real samples whose fit is on average as far
  from P_r as generation t's mean WD (eq. 4 read at every generation rather than only at the fresh data loop's limit).

Closed forms (derived in :func:`expected_moments` and :func:`typical_log_variance`):

* with memory 1 and without accumulate, in every variant, E tr Sigma_t and E |mu_t|^2 follow an exact linear
  recursion; in the fully synthetic loop it reduces to E tr Sigma_t = lam^(t-1) d and
  E |mu_t|^2 = d / n_ini + (d / n_s) (lam + ... + lam^(t-1));
* in the fully synthetic loop with memory 1 and without accumulate, each fitted variance is a product of independent
  factors, Sigma_t[i, i] = lam^(t-1) (chi2_{n_ini-1} / (n_ini-1)) prod_{s=2..t} chi2_{n_s-1} / (n_s-1), so
  E log Sigma_t[i, i] = g(n_ini) + (t-1) [g(n_s) + ln lam] with g(n) = psi((n-1)/2) + ln(2/(n-1)), whatever d is:
  the typical path exp E log Sigma_t[i, i] = exp(g(n_ini)) exp((t-1) g(n_s)) lam^(t-1). The first factor (about
  exp(-1/(n_ini-1))) is generation 1's own fit; it would be 1 only if generation 1 were P_r itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import digamma

from madlib import loops, plotting, tidy
from madlib.models.gaussian import GaussianModel

# The explorer's starting point: the unbiased fully synthetic loop at d = 100, where E tr Sigma_t stays d while the
# typical path of each variance visibly decays within the generations shown; one redraw takes about a second on one
# thread (benchmarks/explore_redraw.py).
DEFAULTS = {
    "variant": "fully_synthetic",
    "accumulate": False,
    "memory": 1,
    "lam": 1.0,
    "n_ini": 100,
    "n_r": 100,
    "n_s": 100,
    "d": 100,
    "generations": 40,
    "replicates": 10,
    "seed": 0,
}
SIZES = (2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**4, 10**5, 10**6)  # sample-size choices
CONTROLS = {  # the widgets' choices and ranges (the function itself takes any value LoopSpec and GaussianModel accept)
    "variant": loops.VARIANTS,
    "memory": (1, 10),
    "lam": (0.0, 1.0),
    "n_ini": SIZES,
    "n_r": SIZES,
    "n_s": (0,) + SIZES,
    "d": (1, 2, 5, 10, 20, 50, 100, 200),
    "generations": (2, 200),
    "replicates": (2, 100),
}
METRICS = ("wd", "mean_error", "variance_kept", "log_typical_variance", "n_e")
CURVE_POINTS = 40  # sample sizes of the n_e reference curve, from 2 to 10^7


@dataclass
class Exploration:
    """One redraw: the figure and the tidy table behind it (columns of madlib.tidy plus d, replicates, accumulate
    and ``closed_form``, NaN where no closed form holds)."""

    figure: plt.Figure
    data: pd.DataFrame


# simulation --------------------------------------------------------------------------------------------------------
def loop_spec(variant, accumulate, memory, lam, n_ini, n_r, n_s, generations, seed) -> loops.LoopSpec:
    """The engine's LoopSpec (which checks every field); the fully synthetic loop ignores n_r."""
    n_r = 0 if variant == "fully_synthetic" else n_r
    return loops.LoopSpec(variant=variant, generations=generations, n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam,
                          memory=memory, accumulate=accumulate, seed=seed)


def simulate(spec: loops.LoopSpec, d: int, replicates: int) -> dict[str, np.ndarray]:
    """The per-replicate statistics of the module docstring (all but n_e), each (replicates, generations)."""
    model = GaussianModel(d=d, replicates=replicates, method="exact")
    columns = {name: [] for name in ("mean_error", "log_typical_variance")}

    def record(state: loops.LoopState, metrics: loops.Metrics) -> None:
        fit = state.models[-1]
        variances = np.diagonal(fit.sigma, axis1=1, axis2=2)
        log_variances = np.log(np.maximum(variances, np.finfo(float).tiny))  # lam = 0 collapses them to 0
        columns["mean_error"].append(np.sum(fit.mu**2, axis=1))
        columns["log_typical_variance"].append(log_variances.mean(axis=1))

    history = loops.run(spec, model, on_generation=record)
    stats = {name: np.stack(values, axis=1) for name, values in columns.items()}
    stats["wd"] = np.stack([h["wd"] for h in history], axis=1)
    stats["variance_kept"] = np.stack([h["trace"] for h in history], axis=1) / d
    return stats


# closed forms ------------------------------------------------------------------------------------------------------
def log_chi2_mean(n) -> np.ndarray:
    """E log(chi2_{n-1} / (n-1)), the mean log of one variance estimated from n samples of a unit-variance normal:
    psi((n-1)/2) + ln(2/(n-1))."""
    k = np.asarray(n, dtype=float) - 1.0
    return digamma(k / 2) + np.log(2 / k)


def typical_log_variance(spec: loops.LoopSpec) -> np.ndarray | None:
    """E log Sigma_t[i, i] for t = 1..generations, for any coordinate i and any d, in the fully synthetic loop with
    memory 1 and without accumulate (None otherwise).

    Given the past, Sigma_t[i, i] = lam Sigma_{t-1}[i, i] chi2_{n_s-1} / (n_s-1), with a chi-square independent of
    the past (the i-th diagonal entry of L W L^T, W ~ Wishart(I, n_s-1), is |row i of L|^2 times a chi2_{n_s-1}), and
    Sigma_1[i, i] = chi2_{n_ini-1} / (n_ini-1).
    """
    if spec.variant != "fully_synthetic" or spec.memory != 1 or spec.accumulate:
        return None
    steps = np.arange(spec.generations, dtype=float)  # t - 1
    with np.errstate(divide="ignore", invalid="ignore"):  # lam = 0: log 0 = -inf from generation 2 on
        per_step = np.where(steps > 0, steps * (log_chi2_mean(max(spec.n_s, 2)) + np.log(spec.lam)), 0.0)
    return log_chi2_mean(spec.n_ini) + per_step


def expected_moments(spec: loops.LoopSpec, d: int) -> dict[str, np.ndarray] | None:
    """E tr Sigma_t / d (``variance_kept``) and E |mu_t|^2 (``mean_error``) for t = 1..generations, with memory 1
    and without accumulate (None otherwise), every variant.

    Generation t >= 2 pools n_r real samples (mean m, scatter S_r with E tr S_r = (n_r-1) d) with n_s synthetic ones
    drawn from N(mu_{t-1}, lam Sigma_{t-1}) (mean m_s with E|m_s - mu_{t-1}|^2 = lam T_{t-1} / n_s, where T = E tr
    Sigma). The pooled scatter adds (n_r n_s / n) |m - m_s|^2 to the two scatters (n = n_r + n_s), so with
    q = E|mu_{t-1} - m|^2

        (n - 1) T_t = (n_r - 1) d + (n_s - 1) lam T_{t-1} + (n_r n_s / n) (q + lam T_{t-1} / n_s)

    (an empty part adds nothing), and mu_t - m = (n_s / n)(m_s - m). Fresh data (m independent, E|m|^2 = d / n_r):
    q = M_{t-1} + d / n_r and M_t = E|mu_t|^2 = (n_r d + n_s^2 M_{t-1} + n_s lam T_{t-1}) / n^2, which with n_r = 0 is
    the fully synthetic loop. Synthetic augmentation (the same m every generation): q = e_{t-1} with
    e_t = E|mu_t - m|^2 = (n_s / n)^2 (e_{t-1} + lam T_{t-1} / n_s) and c_t = E[m . (mu_t - m)] = (n_s / n) c_{t-1},
    M_t = d / n_r + e_t + 2 c_t; generation 1 is fit on the fixed set itself when n_ini == n_r (e_1 = c_1 = 0), on
    an independent set otherwise (e_1 = d / n_ini + d / n_r, c_1 = -d / n_r).
    """
    if spec.memory != 1 or spec.accumulate:
        return None
    lam, n_r, n_s = spec.lam, spec.n_r, spec.n_s
    n = n_r + n_s
    fixed = spec.variant == "synthetic_augmentation" and n_r > 0  # with n_r = 0 it is the fully synthetic loop
    trace, mean_error = float(d), d / spec.n_ini
    if fixed:
        e, c = (0.0, 0.0) if spec.n_ini == n_r else (d / spec.n_ini + d / n_r, -d / n_r)
    traces, mean_errors = [trace], [mean_error]
    for _ in range(spec.generations - 1):
        q = e if fixed else mean_error + (d / n_r if n_r else 0.0)
        spread = q + lam * trace / n_s if n_s else 0.0  # E|m - m_s|^2
        scatter = max(n_r - 1, 0) * d + max(n_s - 1, 0) * lam * trace + n_r * n_s / n * spread
        if fixed:
            e, c = (n_s / n) ** 2 * e + n_s * lam * trace / n**2, n_s / n * c
            mean_error = d / n_r + e + 2 * c
        else:
            mean_error = (n_r * d + n_s**2 * mean_error + n_s * lam * trace) / n**2
        trace = scatter / (n - 1)
        traces.append(trace)
        mean_errors.append(mean_error)
    return {"variance_kept": np.array(traces) / d, "mean_error": np.array(mean_errors)}


def closed_forms(spec: loops.LoopSpec, d: int) -> dict[str, np.ndarray]:
    """Every closed form that holds for the loop, by metric name (possibly none)."""
    forms = expected_moments(spec, d) or {}
    typical = typical_log_variance(spec)
    if typical is not None:
        forms["log_typical_variance"] = typical
    return forms


# effective sample size ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def real_fit_curve(d: int):
    """The reference curve n -> E[WD(fit on n real samples, P_r)] of eq. (4) in R^d, kept in memory per d (its
    draws do not depend on the loop's seed). Fits per size: about 1% relative SE on the curve (the spread of WD
    shrinks as d grows, so fewer fits are needed), i.e. about 2% on n_e."""
    from madlib.gaussian_studies import RealFitCurve

    return RealFitCurve.compute(d, max(16, round(4000 / d**1.5)), seed=0, points=CURVE_POINTS)


def effective_sizes(wd_mean: np.ndarray, wd_sem: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """n_e per generation from the mean WD, and its SE: half the spread of n_e over mean WD -+ 1 SE (NaN outside the
    curve's range of 2 to 10^7 samples)."""
    curve = real_fit_curve(d)
    n_e = np.array([_n_e(curve, w) for w in wd_mean])
    spread = np.array([_n_e(curve, w - s) - _n_e(curve, w + s) for w, s in zip(wd_mean, wd_sem)])
    return n_e, spread / 2


def _n_e(curve, wd: float) -> float:
    try:
        return curve.n_e(wd)
    except ValueError:  # outside the curve (or NaN)
        return np.nan


# the tidy table and the figure -------------------------------------------------------------------------------------
def table(spec: loops.LoopSpec, d: int, replicates: int) -> pd.DataFrame:
    """Simulate the loop and return its tidy table (mean and SE over replicates per generation and metric, with the
    closed form where one holds)."""
    stats = simulate(spec, d, replicates)
    forms = closed_forms(spec, d)
    summary = {name: tidy.mean_sem(values) for name, values in stats.items()}
    summary["n_e"] = effective_sizes(*summary["wd"], d)
    setting = {**tidy.setting_of(spec), "accumulate": spec.accumulate, "d": d, "replicates": replicates}
    generations = np.arange(1, spec.generations + 1)
    frames = [pd.DataFrame({**setting, "generation": generations, "metric": name, "mean": summary[name][0],
                            "sem": summary[name][1], "closed_form": forms.get(name, np.nan)})
              for name in METRICS]
    return tidy.frame(pd.concat(frames, ignore_index=True))


def redraw(variant=DEFAULTS["variant"], accumulate=DEFAULTS["accumulate"], memory=DEFAULTS["memory"],
           lam=DEFAULTS["lam"], n_ini=DEFAULTS["n_ini"], n_r=DEFAULTS["n_r"], n_s=DEFAULTS["n_s"], d=DEFAULTS["d"],
           generations=DEFAULTS["generations"], replicates=DEFAULTS["replicates"],
           seed=DEFAULTS["seed"]) -> Exploration:
    """Simulate one Gaussian loop (see the module docstring) and draw it; nothing is written anywhere."""
    spec = loop_spec(variant, accumulate, memory, lam, n_ini, n_r, n_s, generations, seed)
    data = table(spec, d, replicates)
    return Exploration(figure(data, spec), data)


PANELS = ("WD to P_r", "squared error of the mean |mu_t|^2", "variance kept", "effective sample size n_e")


def figure(data: pd.DataFrame, spec: loops.LoopSpec) -> plt.Figure:
    """Four panels: WD, |mu_t|^2, variance kept (arithmetic and typical) and n_e over generations; simulation as
    mean +- 2 SE over replicates, closed forms in black where they hold."""
    plotting.style()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.2))
    rows = {name: g.sort_values("generation") for name, g in data.groupby("metric")}
    wd, mean_error, variance, n_e = axes.flat
    _simulated(wd, rows["wd"], "WD")
    _simulated(mean_error, rows["mean_error"], "|mu_t|^2")
    _closed(mean_error, rows["mean_error"], "--", "E |mu_t|^2")
    _simulated(variance, rows["variance_kept"], "tr Sigma_t / d")
    _closed(variance, rows["variance_kept"], "--", "E tr Sigma_t / d")
    typical = rows["log_typical_variance"]
    plotting.band(variance, typical["generation"], np.exp(typical["mean"]), 0.0, color="C1",
                  label="geometric mean of Sigma_t[i,i]")
    variance.fill_between(typical["generation"], np.exp(typical["mean"] - 2 * typical["sem"]),
                          np.exp(typical["mean"] + 2 * typical["sem"]), color="C1", alpha=0.2, linewidth=0)
    _closed(variance, typical.assign(closed_form=np.exp(typical["closed_form"])), ":", "exp E log Sigma_t[i,i]")
    _simulated(n_e, rows["n_e"], "n_e")
    n_e.axhline(spec.n_ini, color="0.4", lw=1, ls="--", label=f"n_ini = {spec.n_ini}")
    if spec.variant != "fully_synthetic":
        n_e.axhline(spec.n_r, color="C3", lw=1, ls="--", label=f"n_r = {spec.n_r} (admissible: n_e >= n_r)")
    for ax, title, ylabel in zip(axes.flat, PANELS, ("WD", "|mu_t|^2", "fitted variance", "real samples")):
        ax.set(title=title, xlabel="generation t", ylabel=ylabel, yscale="linear" if ax is wd else "log",
               xlim=(1, max(spec.generations, 2)))
        ax.legend(fontsize=8)
    fig.suptitle(_title(spec, data), fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.07, top=0.91, wspace=0.22, hspace=0.3)  # tight_layout: 0.5 s
    plotting._caption(fig, _caption(data))
    return fig


def _simulated(ax, rows: pd.DataFrame, label: str) -> None:
    plotting.band(ax, rows["generation"], rows["mean"], rows["sem"], color="C0", label=label)


def _closed(ax, rows: pd.DataFrame, style: str, what: str) -> None:
    """The closed form `what` in black where it holds for this loop; otherwise a legend line saying it does not (the
    caption says where each holds)."""
    if rows["closed_form"].notna().any():
        ax.plot(rows["generation"], rows["closed_form"], color="k", lw=1.2, ls=style, label=f"{what} (closed form)")
    else:
        ax.plot([], [], " ", label=f"{what}: no closed form here")


def _title(spec: loops.LoopSpec, data: pd.DataFrame) -> str:
    real = "" if spec.variant == "fully_synthetic" else f", n_r={spec.n_r}"
    return (f"Gaussian {spec.variant.replace('_', ' ')} loop in R^{int(data['d'].iloc[0])}: lam={spec.lam:g}, "
            f"n_ini={spec.n_ini}{real}, n_s={spec.n_s}, memory K={spec.memory}, accumulate={spec.accumulate}, "
            f"seed={spec.seed}")


def _caption(data: pd.DataFrame) -> str:
    return (f"Simulation (colour): mean +-2 SE over {int(data['replicates'].iloc[0])} replicates, simulated exactly "
            "through the sufficient statistics; typical variance: exp of the mean of log Sigma_t[i,i] over "
            "replicates and coordinates. Closed forms (black): E |mu_t|^2 and E tr Sigma_t, in every loop with "
            "memory 1 and no accumulate (fully synthetic: E tr Sigma_t / d = lam^(t-1)); exp E log Sigma_t[i,i] = "
            "exp(g(n_ini) + (t-1) g(n_s)) lam^(t-1) with g(n) = psi((n-1)/2) + ln(2/(n-1)), in the fully synthetic "
            "loop with memory 1 and no accumulate. n_e: the number of real samples whose fit is on average as far "
            "from P_r as the generation's mean WD (eq. 4; its SE propagated from the mean WD's), missing outside 2 to "
            "10^7 samples.")


# widgets -----------------------------------------------------------------------------------------------------------
def show(**settings) -> None:
    """Redraw and display the figure (the widgets' callback); a bad combination prints its ValueError instead."""
    from IPython.display import display

    try:
        result = redraw(**settings)
    except ValueError as error:
        print(f"Not drawn: {error}")
        return
    display(result.figure)
    plt.close(result.figure)


def controls(**values) -> dict:
    """One ipywidgets control per argument of :func:`redraw`, starting at `values` (else DEFAULTS); sliders redraw
    only when released. Sizes move on the choices of SIZES (a starting value off them is added)."""
    widgets = _ipywidgets()
    values = {**DEFAULTS, **values}
    common = {"continuous_update": False, "style": {"description_width": "initial"}}

    def choices(name, label):
        options = sorted(set(CONTROLS[name]) | {values[name]})
        return widgets.SelectionSlider(options=options, value=values[name], description=label, **common)

    def integers(name, label):
        low, high = CONTROLS[name]
        return widgets.IntSlider(value=values[name], min=min(low, values[name]), max=max(high, values[name]),
                                 description=label, **common)

    return {
        "variant": widgets.Dropdown(options=[(v.replace("_", " "), v) for v in CONTROLS["variant"]],
                                    value=values["variant"], description="loop", style=common["style"]),
        "accumulate": widgets.Checkbox(value=values["accumulate"], description="accumulate synthetic sets"),
        "memory": integers("memory", "memory K"),
        "lam": widgets.FloatSlider(value=values["lam"], min=CONTROLS["lam"][0], max=CONTROLS["lam"][1], step=0.01,
                                   description="lam", **common),
        "n_ini": choices("n_ini", "n_ini"),
        "n_r": choices("n_r", "n_r (not in fully synthetic)"),
        "n_s": choices("n_s", "n_s"),
        "d": choices("d", "d"),
        "generations": integers("generations", "generations"),
        "replicates": integers("replicates", "replicates"),
        "seed": widgets.BoundedIntText(value=values["seed"], min=0, max=2**31 - 1, description="seed",
                                       style=common["style"]),
    }


def layout(boxes: dict, draw=show):
    """The controls in two columns above the output that `draw(**values)` fills on every change."""
    widgets = _ipywidgets()
    names = list(boxes)
    half = (len(names) + 1) // 2
    columns = widgets.HBox([widgets.VBox([boxes[n] for n in names[:half]]),
                            widgets.VBox([boxes[n] for n in names[half:]])])
    return widgets.VBox([columns, widgets.interactive_output(draw, boxes)])


def widget(**values):
    """The explorer: :func:`controls` starting at `values`, laid out above the figure of :func:`redraw`."""
    return layout(controls(**values))


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:  # madlib itself works without it
        raise ImportError("the explorer's widgets need ipywidgets: pip install 'mad-companion[lab]' "
                          "(or pip install ipywidgets)") from error
    return ipywidgets
