"""One visual style for every figure, the figures' panels, and saving them (atomically) where the preset says."""

from __future__ import annotations

import io
import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import TwoSlopeNorm

from madlib import presets
from madlib.runs import atomic_write_bytes

PALETTE = "viridis"


def style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold"})


def band(ax, x, mean, sem, label=None, color=None, **kwargs):
    """A line with a +-2 SE band."""
    line = ax.plot(x, mean, label=label, color=color, **kwargs)[0]
    ax.fill_between(x, mean - 2 * sem, mean + 2 * sem, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def metric_lines(ax, df: pd.DataFrame, metric: str, hue: str, label_fmt: str = "{}", palette=PALETTE):
    rows = df[df["metric"] == metric]
    keys = sorted(rows[hue].unique())
    colors = sns.color_palette(palette, len(keys))
    for key, color in zip(keys, colors):
        g = rows[rows[hue] == key].sort_values("generation")
        band(ax, g["generation"], g["mean"], g["sem"], label=label_fmt.format(key), color=color)
    ax.set_xlabel("generation t")


# Fig. S1 -----------------------------------------------------------------------------------------------------------
def figS1(df: pd.DataFrame, walks: pd.DataFrame):
    style()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    lam0, ns0 = walks["lam"].max(), walks["n_s"].min()
    shown = walks[(walks["lam"] == lam0) & (walks["n_s"] == ns0)]
    for _, g in shown.groupby("replicate"):
        axes[0].plot(g["generation"], g["mean_1"], lw=1)
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set(title=f"random walk of the mean (lam={lam0:g}, n_s={ns0})", xlabel="generation t",
                ylabel="first coordinate of mu_t")
    colors = dict(zip(sorted(df["lam"].unique()), sns.color_palette(PALETTE, df["lam"].nunique())))
    styles = dict(zip(sorted(df["n_s"].unique()), ["-", "--", ":", "-."]))
    trace = df[df["metric"] == "trace"]
    for (lam, n_s), g in trace.groupby(["lam", "n_s"]):
        g = g.sort_values("generation")
        band(axes[1], g["generation"], g["mean"], g["sem"], color=colors[lam], ls=styles[n_s],
             label=f"lam={lam:g}, n_s={n_s}")
        expected = g["mean"].iloc[0] * lam ** (g["generation"] - 1.0)
        axes[1].plot(g["generation"], expected, color="k", lw=0.8, ls=styles[n_s])
    axes[1].set(yscale="log", title="E[tr Sigma_t]: Monte Carlo (colour) vs lam^(t-1) tr Sigma_1 (black)",
                xlabel="generation t", ylabel="tr Sigma_t")
    for (lam, n_s), g in df[df["metric"] == "log_trace"].groupby(["lam", "n_s"]):
        g = g.sort_values("generation")
        band(axes[2], g["generation"], g["mean"] - g["mean"].iloc[0], g["sem"], color=colors[lam], ls=styles[n_s],
             label=f"lam={lam:g}, n_s={n_s}")
    axes[2].set(title="collapse: E[log tr Sigma_t] - log tr Sigma_1", xlabel="generation t", ylabel="log ratio")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


# Fig. 3 ------------------------------------------------------------------------------------------------------------
def fig03():
    """The three loops: each model's biased samples (and, in two loops, real data) train the next generation."""
    style()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    loops = [("fully synthetic", None), ("synthetic augmentation", "fixed real set D_r\n(the same every generation)"),
             ("fresh data", "fresh real set D_r^t ~ P_r\n(new every generation)")]
    for ax, (name, real) in zip(axes, loops):
        ax.set(xlim=(0, 10), ylim=(0, 10), title=f"{name} loop")
        ax.axis("off")
        _box(ax, 1.6, 6.5, "model\nG^t", "#cfe2f3")
        _box(ax, 8.2, 6.5, "training\ndata D^(t+1)", "#fce5cd")
        _arrow(ax, (3.0, 7.6), (6.6, 7.6), "#b45f06", "sample n_s with bias lam", above=True)
        _arrow(ax, (6.6, 5.4), (3.0, 5.4), "#555555", "train G^(t+1) from scratch", above=False)
        if real:
            _box(ax, 8.2, 1.6, real, "#d9ead3", small=True)
            _arrow(ax, (8.2, 2.6), (8.2, 5.2), "#38761d")
    fig.text(0.5, 0.01, "lam = 1: unbiased sampling; lam < 1: samples pulled toward the modes (quality up, diversity "
             "down). Generation 1 trains on n_ini real samples.", ha="center", fontsize=10)
    return fig


def _box(ax, x, y, text, color, small=False):
    ax.text(x, y, text, ha="center", va="center", fontsize=9 if small else 11,
            bbox=dict(boxstyle="round,pad=0.6", fc=color, ec="#444"))


def _arrow(ax, start, end, color, label="", above=True):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", lw=2, color=color))
    if label:
        x, y = (start[0] + end[0]) / 2, start[1] + (0.5 if above else -0.5)
        ax.text(x, y, label, ha="center", va="bottom" if above else "top", fontsize=9, color=color)


# Fig. 10 -----------------------------------------------------------------------------------------------------------
def fig10(df: pd.DataFrame, ddpm_df: pd.DataFrame | None = None, ddpm_caption: str = ""):
    """Gaussian panels (WD, one per lam) and, when given, the MNIST DDPM panel (FID, one line per n_ini)."""
    style()
    lams = sorted(df["lam"].unique(), reverse=True)
    panels = len(lams) + (ddpm_df is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    for ax, lam in zip(axes[0], lams):
        metric_lines(ax, df[df["lam"] == lam], "wd", "n_ini", "n_ini={}")
        ax.set(yscale="log", title=f"Gaussian fresh data loop, lam={lam:g}", ylabel="WD to P_r")
        ax.legend()
    if ddpm_df is not None:
        ax = axes[0][-1]
        metric_lines(ax, ddpm_df, "fid", "n_ini", "n_ini={}")
        ax.set(title="MNIST DDPM fresh data loop", ylabel="FID (LeNet features)")
        ax.legend()
    fig.tight_layout()
    _caption(fig, ddpm_caption)
    return fig


# DDPM figures (4, 5, 6, 7, 9, 16, 26, 27) ----------------------------------------------------------------------------
SCORE_LABELS = {"fid": "FID (LeNet features)", "precision": "precision (k=5)", "recall": "recall (k=5)",
                "class_separation": "class separation (silhouette)", "class_spread": "class spread / real",
                "lenet_agreement": "LeNet reads the drawn class"}


def _caption(fig, text: str) -> None:
    """A small italic note under the whole figure (wrapped to its width)."""
    if text:
        width = int(fig.get_figwidth() * 16)
        fig.text(0.5, 0.0, textwrap.fill(text, width), ha="center", va="top", fontsize=8, style="italic")


def score_panels(df: pd.DataFrame, hue: str = "lam", metrics=("fid", "precision", "recall"), title: str = "",
                 caption: str = ""):
    """One panel per metric against generation, a line per value of ``hue``, +-2 SE bands (evaluation noise)."""
    style()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 3.9), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        metric_lines(ax, df, metric, hue, f"{hue}={{}}", palette="rocket")
        ax.set(ylabel=SCORE_LABELS.get(metric, metric))
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


def tsne_panels(points: pd.DataFrame, scores: pd.DataFrame, title: str = "", caption: str = ""):
    """t-SNE maps (real digits grey, synthetic ones coloured by the class they were drawn for), one per shown
    generation, and a last panel with the class separation of the synthetic features over all generations."""
    style()
    shown = sorted(g for g in points["generation"].unique() if g > 0)
    fig, axes = plt.subplots(1, len(shown) + 1, figsize=(3.6 * (len(shown) + 1), 3.8), squeeze=False)
    real = points[points["generation"] == 0]
    colors = sns.color_palette("tab10", 10)
    for ax, generation in zip(axes[0], shown):
        ax.scatter(real["x"], real["y"], s=4, color="0.8", label="real")
        fake = points[points["generation"] == generation]
        ax.scatter(fake["x"], fake["y"], s=5, c=[colors[int(c)] for c in fake["label"]])
        ax.set(title=f"generation {generation}", xticks=[], yticks=[])
    ax = axes[0][-1]
    metric_lines(ax, scores, "class_separation", "lam", "lam={}", palette="rocket")
    ax.set(ylabel=SCORE_LABELS["class_separation"])
    ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


def sample_grids(grids: dict[int, np.ndarray], title: str = "", caption: str = ""):
    """One mosaic per generation: a row per class, its samples side by side (white ink on black)."""
    style()
    fig, axes = plt.subplots(1, len(grids), figsize=(2.6 * len(grids), 3.6), squeeze=False)
    for ax, (generation, grid) in zip(axes[0], sorted(grids.items())):
        rows = [np.concatenate(list(np.nan_to_num(row, nan=-1.0)), axis=1) for row in grid]
        ax.imshow(np.concatenate(rows, axis=0), cmap="gray", vmin=-1, vmax=1)
        ax.set(title=f"generation {generation}", xticks=[], yticks=[])
        ax.grid(False)
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


# Figs. 11 and 12 ---------------------------------------------------------------------------------------------------
def admissibility_map(df: pd.DataFrame, row: str, title: str, thresholds: dict | None = None):
    """n_e / n_r over (row, n_s): blue where synthetic data helps (n_e >= n_r), red where it hurts."""
    style()
    table = df[df["metric"] == "n_e_over_n_r"].pivot(index=row, columns="n_s", values="mean")
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(table) + 2.5))
    ratio = table.to_numpy()
    low, high = min(np.nanmin(ratio), 0.5), max(np.nanmax(ratio), 2.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=np.log2(low), vmax=np.log2(high))
    mesh = ax.pcolormesh(np.log2(ratio), cmap="RdBu", norm=norm, edgecolors="white", linewidth=0.5)
    for (i, j), v in np.ndenumerate(ratio):
        dark = abs(norm(np.log2(v)) - 0.5) > 0.3
        ax.text(j + 0.5, i + 0.5, f"{v:.2f}", ha="center", va="center", fontsize=8,
                color="white" if dark else "black", fontweight="bold" if v >= 1 else "normal")
    ax.set_xticks(np.arange(table.shape[1]) + 0.5, [f"{c:g}" for c in table.columns])
    ax.set_yticks(np.arange(table.shape[0]) + 0.5, [f"{r:g}" for r in table.index])
    ax.set(xlabel="n_s (synthetic samples per generation)", ylabel=row, title=title)
    bar = fig.colorbar(mesh, ax=ax, label="n_e / n_r")
    ticks = [t for t in [0.125, 0.25, 0.5, 1, 2, 4, 8] if low <= t <= high]
    bar.set_ticks(np.log2(ticks), labels=[f"{t:g}" for t in ticks])
    if thresholds:
        _threshold_line(ax, table, thresholds)
    fig.tight_layout()
    return fig


def _threshold_line(ax, table: pd.DataFrame, thresholds: dict):
    """The edge of the admissible region, placed on the categorical n_s axis by log-interpolation."""
    cols = np.log(table.columns.to_numpy(float))
    xs, ys = [], []
    for i, key in enumerate(table.index):
        t = thresholds.get(key, np.nan)
        x = table.shape[1] if np.isinf(t) else (0 if t <= 0 else np.interp(np.log(t), cols, np.arange(len(cols))) + 0.5)
        xs += [x, x]
        ys += [i, i + 1]
    ax.plot(xs, ys, color="k", lw=2.5, label="edge of n_e >= n_r")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)


# Fig. 30 -----------------------------------------------------------------------------------------------------------
def fig30(df: pd.DataFrame):
    style()
    rows = df[df["metric"] == "n_e_over_n_r"].sort_values("memory")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.errorbar(rows["memory"], rows["mean"], yerr=2 * rows["sem"], marker="o", capsize=3)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    n_r, n_s, lam = rows[["n_r", "n_s", "lam"]].iloc[0]
    ax.set(xlabel="memory K (synthetic data from the last K models)", ylabel="n_e / n_r",
           title=f"Gaussian fresh data loop, n_r={n_r:g}, n_s={n_s:g}, lam={lam:g}")
    fig.tight_layout()
    return fig


# Fig. 31 -----------------------------------------------------------------------------------------------------------
def fig31(df: pd.DataFrame, p_fixed: float):
    style()
    wd = df[df["metric"] == "wd_limit"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    panels = [(axes[0], wd[np.isclose(wd["lam"], 1.0)], "p_real", "p={:g}", "lam=1, several real fractions p"),
              (axes[1], wd[np.isclose(wd["p_real"], p_fixed)], "lam", "lam={:g}", f"p={p_fixed:g}, several lam")]
    for ax, rows, hue, fmt, title in panels:
        keys = sorted(rows[hue].unique(), reverse=True)
        for key, color in zip(keys, sns.color_palette(PALETTE, len(keys))):
            g = rows[np.isclose(rows[hue], key)].sort_values("n")
            ax.errorbar(g["n"], g["mean"], yerr=2 * g["sem"], marker="o", ms=4, color=color, label=fmt.format(key))
        ax.set(xscale="log", yscale="log", xlabel="total samples per generation n", title=title)
        ax.legend()
    axes[0].set_ylabel("limit WD to P_r")
    fig.tight_layout()
    return fig


# saving ------------------------------------------------------------------------------------------------------------
def save(fig, stem: str, preset: str) -> None:
    """<output>/<stem>.png and .pdf, each written whole or not at all."""
    folder = presets.output_dir(preset)
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, bbox_inches="tight", metadata=_metadata(ext))
        atomic_write_bytes(folder / f"{stem}.{ext}", buffer.getvalue())


def _metadata(ext: str) -> dict:
    """No creation dates, so regenerated figures differ only when their content does."""
    return {"CreationDate": None} if ext == "pdf" else {"Software": None}


def save_data(df: pd.DataFrame, stem: str, preset: str) -> None:
    folder = presets.output_dir(preset) / "data"
    atomic_write_bytes(folder / f"{stem}.csv", df.to_csv(index=False, float_format="%.6g").encode())

