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

from madlib import claims, presets, tidy
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
def figS1(result: tidy.FigureData):
    """A few replicates' random walks of the mean (frame ``walks``), E[tr Sigma_t] against lam^(t-1) tr Sigma_1, and
    the collapse of log tr Sigma_t, per (lam, n_s)."""
    df, walks = result.data, result.frames["walks"]
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
    _caption(fig, result.caption)
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
def fig10(result: tidy.FigureData):
    """Gaussian panels (WD, one per lam; rows with model "Gaussian") and, when the data has them, the MNIST DDPM panel
    (FID, one line per n_ini; model "DDPM")."""
    df = result.data[result.data["model"] == "Gaussian"]
    ddpm_df = result.data[result.data["model"] == "DDPM"]
    ddpm_df = ddpm_df if len(ddpm_df) else None
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
    _caption(fig, result.caption)
    return fig


# DDPM figures (4, 5, 6, 7, 9, 16, 26, 27) ----------------------------------------------------------------------------
SCORE_LABELS = {"fid": "FID (LeNet features)", "precision": "precision (k=5)", "recall": "recall (k=5)",
                "class_separation": "class separation (silhouette)", "class_spread": "class spread / real",
                "lenet_agreement": "LeNet reads the drawn class",
                "spectral_distance": "spectral distance to real",
                "high_freq_ratio": "high-freq. energy, synthetic / real", "coverage": "coverage (k=5)"}


def _caption(fig, text: str) -> None:
    """A small italic note under the whole figure (wrapped to its width)."""
    if text:
        width = int(fig.get_figwidth() * 16)
        fig.text(0.5, 0.0, textwrap.fill(text, width), ha="center", va="top", fontsize=8, style="italic")


def score_panels(df: pd.DataFrame, hue: str = "lam", metrics=("fid", "precision", "recall"), title: str = "",
                 caption: str = ""):
    """One panel per metric against generation, a line per value of ``hue``, +-2 SE bands (evaluation noise)."""
    return score_rows({"": df}, hue, metrics, title, caption)


def score_rows(rows: dict[str, pd.DataFrame], hue: str = "lam", metrics=("fid", "precision", "recall"),
               title: str = "", caption: str = ""):
    """score_panels with one row per model (e.g. the DDPM and GAN rows of Figs. 4 and 6); rows are labelled by their
    key."""
    style()
    fig, axes = plt.subplots(len(rows), len(metrics), figsize=(4.8 * len(metrics), 3.6 * len(rows) + 0.3),
                             squeeze=False)
    for row_axes, (label, df) in zip(axes, rows.items()):
        for ax, metric in zip(row_axes, metrics):
            metric_lines(ax, df, metric, hue, f"{hue}={{}}", palette="rocket")
            ax.set(ylabel=f"{label}\n{SCORE_LABELS.get(metric, metric)}" if label else
                   SCORE_LABELS.get(metric, metric))
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


SHORT_LABELS = {"fid": "FID", "recall": "recall", "precision": "precision", "class_spread": "spread",
                "lenet_agreement": "LeNet agrees"}


def sample_grids(grids: dict[int, np.ndarray], title: str = "", caption: str = "", numbers: pd.DataFrame | None = None):
    """One mosaic per generation: a row per class, its samples side by side (white ink on black). ``numbers`` (one
    row per generation: ``generation`` and metric columns, as ddpm_studies.numbers makes) are written under each
    generation's samples."""
    style()
    fig, axes = plt.subplots(1, len(grids), figsize=(2.6 * len(grids), 3.6 if numbers is None else 3.8), squeeze=False)
    for ax, (generation, grid) in zip(axes[0], sorted(grids.items())):
        rows = [np.concatenate(list(np.nan_to_num(row, nan=-1.0)), axis=1) for row in grid]
        ax.imshow(np.concatenate(rows, axis=0), cmap="gray", vmin=-1, vmax=1)
        ax.set(title=f"generation {generation}", xticks=[], yticks=[])
        ax.set_xlabel(_numbers_text(numbers, generation), fontsize=9)
        ax.grid(False)
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


def _numbers_text(numbers: pd.DataFrame | None, generation: int) -> str:
    """One generation's row of ``numbers`` as "<label> <value>, ..." ('' without one)."""
    if numbers is None:
        return ""
    row = numbers[numbers["generation"] == generation]
    metrics = [c for c in numbers.columns if c != "generation" and not c.endswith("_se")]
    if row.empty:
        return ""
    return ", ".join(f"{SHORT_LABELS.get(m, m)} {float(row[m].iloc[0]):.3g}" for m in metrics)


def _model_rows(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A tidy table's rows by its ``model`` column, in order (one unlabelled row without that column)."""
    if "model" not in df or df["model"].isna().all():
        return {"": df}
    return {name: rows for name, rows in df.groupby("model", sort=False)}


def fig04(result: tidy.FigureData):
    """Fig. 4: FID, precision and recall of the lam = 1 fully synthetic loop, a row per model (DDPM, GAN)."""
    return score_rows(_model_rows(result.data), title="Fully synthetic loop, lam = 1", caption=result.caption)


def fig06(result: tidy.FigureData):
    """Fig. 6: as Fig. 4 with the biased chains beside the lam = 1 ones."""
    return score_rows(_model_rows(result.data), title="Fully synthetic loop with sampling bias",
                      caption=result.caption)


def _tsne_figure(result: tidy.FigureData):
    points = result.frames["tsne"]
    lam = float(points["lam"].iloc[0])
    return tsne_panels(points, result.data, title=f"t-SNE of LeNet features, DDPM fully synthetic loop, lam = {lam:g}",
                       caption=result.caption)


def fig05(result: tidy.FigureData):
    """Fig. 5: t-SNE maps of the lam = 1 chain and its class separation."""
    return _tsne_figure(result)


def fig07(result: tidy.FigureData):
    """Fig. 7: t-SNE maps of the biased chain; its class separation beside the unbiased chain's."""
    return _tsne_figure(result)


def fig09(result: tidy.FigureData):
    """Fig. 9: FID, precision and recall of the synthetic augmentation loop, a line per lam."""
    return score_panels(result.data, title="DDPM, synthetic augmentation loop", caption=result.caption)


def fig16(result: tidy.FigureData):
    """Fig. 16: every fully synthetic chain, with the class statistics."""
    return score_panels(result.data, metrics=("fid", "precision", "recall", "class_separation", "class_spread"),
                        title="DDPM, fully synthetic loop, every lam", caption=result.caption)


def _ddpm_samples(result: tidy.FigureData):
    grids = dict(zip((int(g) for g in result.arrays["grid_generations"]), result.arrays["grids"]))
    lam = float(result.data["lam"].iloc[0])
    return sample_grids(grids, title=f"DDPM samples, lam = {lam:g}", caption=result.caption,
                        numbers=result.frames.get("numbers"))


def fig26(result: tidy.FigureData):
    """Fig. 26: samples of the lam = 1 chain at the shown generations, LeNet agreement and FID under each."""
    return _ddpm_samples(result)


def fig27(result: tidy.FigureData):
    """Fig. 27: samples of the biased chain at the shown generations, class spread and recall under each."""
    return _ddpm_samples(result)


def mosaic(images: np.ndarray) -> np.ndarray:
    """Images (n, s, s) or (n, c, s, s) in [-1, 1] tiled into one square-ish picture ((H, W) or (H, W, c))."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    n = len(images)
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    blank = np.full((rows * columns - n, *images.shape[1:]), -1.0, dtype=images.dtype)
    tiles = np.concatenate([images, blank]).reshape(rows, columns, *images.shape[1:])
    return np.concatenate([np.concatenate(list(row), axis=1) for row in tiles], axis=0)


def _show_images(ax, images: np.ndarray, title: str) -> None:
    picture = mosaic(images)
    if picture.ndim == 2:
        ax.imshow(picture, cmap="gray", vmin=-1, vmax=1)
    else:
        ax.imshow((picture + 1.0) / 2.0)
    ax.set(title=title, xticks=[], yticks=[])
    ax.grid(False)


def image_mosaics(grids: dict[int, np.ndarray], title: str = "", caption: str = ""):
    """One mosaic of unconditional samples per generation."""
    style()
    fig, axes = plt.subplots(1, len(grids), figsize=(3.2 * len(grids), 3.6), squeeze=False)
    for ax, (generation, grid) in zip(axes[0], sorted(grids.items())):
        _show_images(ax, grid, f"generation {generation}")
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


# GAN figures (1, 8, 13, 18-25, 28-29) ---------------------------------------------------------------------------------
def _gan_grids(result: tidy.FigureData) -> dict[int, np.ndarray]:
    """The sample grid of each shown generation (arrays ``shown`` and ``grids`` of a GAN sample figure)."""
    return {int(g): grid for g, grid in zip(result.arrays["shown"], result.arrays["grids"])}


def _gan_loop(data: pd.DataFrame) -> str:
    """'fully synthetic loop, lam = 1' or 'growing synthetic pool, lam = 1' from a one-chain GAN table."""
    variant = data["variant"].iloc[0]
    loop = "growing synthetic pool" if variant == "synthetic_augmentation" else variant.replace("_", " ") + " loop"
    return f"{loop}, lam = {float(data['lam'].iloc[0]):g}"


def gan_samples(result: tidy.FigureData):
    """Figs. 18-22, 23-25 and 28-29: one mosaic of random samples per shown generation, their scores below."""
    return image_mosaics(_gan_grids(result), title=f"GAN analogue, {_gan_loop(result.data)}: random samples",
                         caption=result.caption)


def fig01(result: tidy.FigureData):
    """Fig. 1: sample mosaics per shown generation (top); below, the radially averaged power spectra of those
    generations against the real images', and the fingerprint statistics over all generations."""
    style()
    grids, spectra, scores = _gan_grids(result), result.frames["spectra"], result.data
    columns = max(len(grids), 3)
    fig = plt.figure(figsize=(3.2 * columns, 7.4))
    top = fig.add_gridspec(2, columns, height_ratios=[1.0, 1.0])
    for i, (generation, grid) in enumerate(sorted(grids.items())):
        _show_images(fig.add_subplot(top[0, i]), grid, f"generation {generation}")
    bottom = top[1, :].subgridspec(1, 3, wspace=0.35)
    ax = fig.add_subplot(bottom[0, 0])
    shown = sorted(g for g in spectra["generation"].unique() if g > 0)
    colors = sns.color_palette("rocket", len(shown))
    spectra = spectra[spectra["radius"] > 0]  # radius 0 is the (subtracted) image mean
    real = spectra[spectra["generation"] == 0]
    ax.plot(real["radius"], real["power"], color="k", linestyle="--", label="real")
    for generation, color in zip(shown, colors):
        g = spectra[spectra["generation"] == generation]
        ax.plot(g["radius"], g["power"], color=color, label=f"t={generation}")
    ax.set(yscale="log", xlabel="frequency (cycles per image)", ylabel="mean power",
           title="radial power spectrum")
    ax.legend(fontsize=7)
    for position, metric in ((1, "spectral_distance"), (2, "high_freq_ratio")):
        ax = fig.add_subplot(bottom[0, position])
        metric_lines(ax, scores, metric, "lam", "lam={}", palette="rocket")
        ax.set(ylabel=SCORE_LABELS.get(metric, metric))
        if metric == "high_freq_ratio":
            ax.axhline(1.0, color="k", linestyle=":", linewidth=1)
    fig.suptitle(f"GAN analogue, {_gan_loop(scores)}: samples and spectral fingerprint")
    _caption(fig, result.caption)
    return fig


def fig08(result: tidy.FigureData):
    """Fig. 8: FID, precision and recall of the growing-pool loop and the fully synthetic loop."""
    lam = ", ".join(f"{v:g}" for v in sorted(result.data["lam"].unique()))
    return score_panels(result.data, hue="variant", caption=result.caption,
                        title=f"GAN analogue: growing synthetic pool vs fully synthetic, lam = {lam}")


def fig13(result: tidy.FigureData):
    """Fig. 13: FID, precision and recall of the WGAN-GP's fully synthetic loop."""
    lam = ", ".join(f"{v:g}" for v in sorted(result.data["lam"].unique()))
    return score_panels(result.data, title=f"WGAN-GP, fully synthetic loop, lam = {lam}", caption=result.caption)


# Figs. 11 and 12 ---------------------------------------------------------------------------------------------------
def admissibility_map(result: tidy.FigureData):
    """Figs. 11 and 12: n_e / n_r over (row, n_s), blue where synthetic data helps (n_e >= n_r), red where it hurts,
    with the edge of the admissible region (frame ``edge``: its first column names the row setting, n_r or lam)."""
    df, edge = result.data, result.frames["edge"]
    row = edge.columns[0]
    fixed = "lam" if row == "n_r" else "n_r"
    title = f"n_e / n_r, Gaussian fresh data loop, {fixed}={df[fixed].iloc[0]:g}"
    thresholds = dict(zip(edge[row], edge["largest_admissible_n_s"]))
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
    _caption(fig, result.caption)
    return fig


def _threshold_line(ax, table: pd.DataFrame, thresholds: dict):
    """The edge of the admissible region, placed on the categorical n_s axis by log-interpolation."""
    cols = np.log(table.columns.to_numpy(float))
    xs, ys = [], []
    for i, key in enumerate(table.index):
        t = next((v for k, v in thresholds.items() if np.isclose(k, key)), np.nan)
        x = table.shape[1] if np.isinf(t) else (0 if t <= 0 else np.interp(np.log(t), cols, np.arange(len(cols))) + 0.5)
        xs += [x, x]
        ys += [i, i + 1]
    ax.plot(xs, ys, color="k", lw=2.5, label="edge of n_e >= n_r")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)


# Fig. 30 -----------------------------------------------------------------------------------------------------------
def fig30(result: tidy.FigureData):
    """n_e / n_r against the memory K (+-2 SE)."""
    df = result.data
    style()
    rows = df[df["metric"] == "n_e_over_n_r"].sort_values("memory")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.errorbar(rows["memory"], rows["mean"], yerr=2 * rows["sem"], marker="o", capsize=3)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    n_r, n_s, lam = rows[["n_r", "n_s", "lam"]].iloc[0]
    ax.set(xlabel="memory K (synthetic data from the last K models)", ylabel="n_e / n_r",
           title=f"Gaussian fresh data loop, n_r={n_r:g}, n_s={n_s:g}, lam={lam:g}")
    fig.tight_layout()
    _caption(fig, result.caption)
    return fig


# Fig. 31 -----------------------------------------------------------------------------------------------------------
def fig31(result: tidy.FigureData):
    """Limit WD against n: several real fractions p at lam = 1 (left), several lam at p = p_fixed (right; the data's
    ``p_fixed`` column)."""
    df = result.data
    p_fixed = float(df["p_fixed"].iloc[0])
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
    _caption(fig, result.caption)
    return fig


# Fig. 17 -----------------------------------------------------------------------------------------------------------
ROSENBROCK_EXTENT = (-3.6, 3.6, -2.5, 12.5)  # x1 and x2 limits shared by every density panel
FLOW_LABELS = {"tail_x1": "tail share: |x1| > 2.576", "range_x1": "x1 range (0.5% to 99.5%)",
               "tail_r2": "share outside P_r's 99% region"}


def _rosenbrock_region(ax, r2: float) -> None:
    """The boundary of P_r's highest-density region {x1² + 2 (x2 - x1²)² <= r2} (dashed)."""
    x1 = np.linspace(-np.sqrt(r2), np.sqrt(r2), 400)
    half = np.sqrt(np.clip((r2 - x1**2) / 2.0, 0.0, None))
    ax.plot(np.r_[x1, x1[::-1], x1[:1]], np.r_[x1**2 + half, (x1**2 - half)[::-1], x1[:1] ** 2 + half[:1]],
            "k--", linewidth=0.8)


def _density_panel(ax, points: pd.DataFrame, title: str, r2: float, color) -> None:
    ax.scatter(points["x1"], points["x2"], s=1.5, alpha=0.35, color=color, rasterized=True)
    _rosenbrock_region(ax, r2)
    ax.set(xlim=ROSENBROCK_EXTENT[:2], ylim=ROSENBROCK_EXTENT[2:], title=title)
    ax.tick_params(labelsize=7)


def fig17(result: tidy.FigureData, title: str = "Glow flow on the Rosenbrock density, fully synthetic loop"):
    """A row of sample panels per lam (real data, then the stored samples of each shown generation, on one common
    extent, with the boundary of P_r's 99% highest-density region dashed) beside three panels over generations:
    the tail share (|x1| beyond P_r's 99th percentile), the x1 range and the share outside P_r's 99% region (one
    line per lam, +-2 SE bands; dotted: the value under P_r). Reads flow_studies.fig17's FigureData: data, frame
    ``points``, arrays ``r2_tail`` and ``x1_range``, caption."""
    style()
    points, df, caption = result.frames["points"], result.data, result.caption
    r2, real_range = float(result.arrays["r2_tail"]), float(result.arrays["x1_range"])
    lams = sorted(points["lam"].dropna().unique(), reverse=True)
    shown = sorted(g for g in points["generation"].unique() if g > 0)
    columns = len(shown) + 1
    fig = plt.figure(figsize=(2.3 * columns + 5.0, 2.9 * max(len(lams), 2) + 0.4))
    grid = fig.add_gridspec(max(len(lams), 2), columns + 2, width_ratios=[1] * columns + [0.15, 2.2])
    colors = dict(zip(sorted(lams), sns.color_palette("rocket", len(lams))))
    real = points[points["generation"] == 0]
    for row, lam in enumerate(lams):
        _density_panel(fig.add_subplot(grid[row, 0]), real, "real P_r", r2, "grey")
        for col, g in enumerate(shown, start=1):
            part = points[(points["generation"] == g) & np.isclose(points["lam"], lam)]
            _density_panel(fig.add_subplot(grid[row, col]), part, f"lam={lam:g}, t={g}", r2, colors[lam])
    right = grid[:, columns + 1].subgridspec(3, 1, hspace=0.15)
    for row, (metric, reference) in enumerate((("tail_x1", 0.01), ("range_x1", real_range), ("tail_r2", 0.01))):
        ax = fig.add_subplot(right[row])
        metric_lines(ax, df, metric, "lam", "lam={}", palette="rocket")
        if reference is not None:
            ax.axhline(reference, color="k", linestyle=":", linewidth=1, label="P_r")
        ax.set(ylabel=FLOW_LABELS[metric], xlabel="generation t" if row == 2 else "")
        ax.yaxis.label.set_size(8)
        ax.tick_params(labelbottom=row == 2)
        if row == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    _caption(fig, caption)
    return fig


# Figs. 14 and 15 (GMM) ---------------------------------------------------------------------------------------------
GMM_LABELS = {"total_variance": "total variance (tr Cov)", "modal_variance": "average modal variance",
              "recall": "recall (k=5)", "modes_covered": "modes covered (of 25)"}


def gmm_densities(result: tidy.FigureData, replicate: int = 0):
    """Fig. 14: the fitted density (log scale) of one chain at each shown generation, with the real mode centres
    and the fitted components' means (dot area proportional to weight) marked. Reads gmm_studies.fig14's FigureData:
    arrays ``density`` (chains, shown, y, x), ``grid_x``, ``grid_y``, ``shown``, ``mode_means``; frames
    ``components`` and ``covered``; caption."""
    style()
    arrays = result.arrays
    shown, mode_means = [int(g) for g in arrays["shown"]], arrays["mode_means"]
    components = result.frames["components"]
    components = components[components["replicate"] == replicate]
    own = result.frames["covered"]
    covered = own[own["replicate"] == replicate].set_index("generation")["modes_covered"]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.6 * len(shown), 4.6), squeeze=False)
    x, y = np.meshgrid(arrays["grid_x"], arrays["grid_y"])
    for ax, g, values in zip(axes[0], shown, arrays["density"][replicate]):
        ax.pcolormesh(x, y, np.log10(np.maximum(values, 1e-6)), cmap="magma", vmin=-3, shading="auto",
                      rasterized=True)
        ax.scatter(mode_means[:, 0], mode_means[:, 1], s=40, facecolors="none", edgecolors="c", lw=1)
        fit = components[components["generation"] == g]  # collapsed components are narrower than a pixel: mark them
        ax.scatter(fit["mean_x"], fit["mean_y"], s=600 * fit["weight"], color="orange", alpha=0.8, lw=0)
        ax.set(title=f"iteration {g}: {covered.get(g, np.nan):g} of 25 modes covered",
               aspect="equal", xticks=[-4, -2, 0, 2, 4], yticks=[-4, -2, 0, 2, 4])
        ax.grid(False)
    axes[0][0].set_ylabel(f"chain {replicate}: log10 of the fitted density")
    fig.suptitle("Fitted GMM densities along a fully synthetic loop (cyan circles: the 25 real modes; orange dots: "
                 "the fitted components, area proportional to weight)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _caption(fig, result.caption)
    return fig


def gmm_diversity(result: tidy.FigureData):
    """Fig. 15: total variance, average modal variance, recall and modes covered against the iteration (+-2 SE
    bands between chains), with the real distribution's values (frame ``real``: metric, value) as dashed lines.
    Reads gmm_studies.fig15's FigureData."""
    style()
    df, caption = result.data, result.caption
    real = dict(zip(result.frames["real"]["metric"], result.frames["real"]["value"])) if "real" in result.frames else {}
    metrics = ["total_variance", "modal_variance", "recall", "modes_covered"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.9))
    for ax, metric in zip(axes, metrics):
        g = df[df["metric"] == metric].sort_values("generation")
        band(ax, g["generation"], g["mean"], g["sem"].fillna(0.0), color="C0")
        ax.set(xlabel="iteration t", title=GMM_LABELS[metric])
        if metric in (real or {}):
            ax.axhline(real[metric], color="k", lw=0.8, ls="--", label="real distribution")
            ax.legend(loc="lower left", fontsize=8)
    axes[1].set_yscale("log")
    track = df[df["metric"].str.startswith("track_") & ~df["metric"].str.startswith("track_gap")]
    for ax, metric in zip(axes, metrics[:3]):
        row = track[track["metric"] == f"track_{metric}"]
        if len(row):
            ax.text(0.97, 0.95, f"rank corr. with modes covered: {row['mean'].iloc[0]:.2f}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=8,
                    bbox=dict(boxstyle="round", fc="white", alpha=0.8))
    fig.tight_layout()
    _caption(fig, caption)
    return fig


# Fig. X1 (beyond the paper) ----------------------------------------------------------------------------------------
X1_LOOP_COLORS = {"replace": "#d62728", "accumulate-subsample": "#ff7f0e", "accumulate": "#1f77b4",
                  "fresh data": "#2ca02c"}
X1_PANELS = [("mean_error", "error of the mean |mu_t - mu_r|", "log"),
             ("log_variance_kept", "E log(tr Sigma_t / tr Sigma_r)", "linear"),
             ("wd", "WD to P_r", "log")]


def figX1(result: tidy.FigureData):
    """Fig. X1: one row per model (column ``model``), one column per metric (error of the mean, log variance kept,
    WD), one line per loop with a +-2 SE band over replicates. Reads beyond_studies.figX1's FigureData."""
    style()
    df = result.data[result.data["generation"].notna()]
    models = list(dict.fromkeys(df["model"]))
    fig, axes = plt.subplots(len(models), len(X1_PANELS), figsize=(4.6 * len(X1_PANELS), 3.3 * len(models)),
                             squeeze=False)
    for row, model in zip(axes, models):
        part = df[df["model"] == model]
        wd_label = "MW2 (mixture W2) to P_r" if "GMM" in model else "WD (W2) to P_r"
        for ax, (metric, label, scale) in zip(row, X1_PANELS):
            for loop, color in X1_LOOP_COLORS.items():
                g = part[(part["metric"] == metric) & (part["loop"] == loop)].sort_values("generation")
                if len(g):
                    band(ax, g["generation"], g["mean"], g["sem"].fillna(0.0), label=loop, color=color)
            if metric == "log_variance_kept":
                ax.axhline(0.0, color="k", lw=0.8, ls="--")
            if metric == "wd" and "GMM" not in model:  # W2 from N(0, I_d) to a point mass at 0 is sqrt(d)
                ax.axhline(np.sqrt(part["d"].iloc[0]), color="k", lw=0.8, ls=":", label="all variance lost")
            ax.set(yscale=scale, xlabel="generation t", title=f"{model}: {wd_label if metric == 'wd' else label}")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    _caption(fig, result.caption)
    return fig


# Fig. X2 (beyond the paper) ----------------------------------------------------------------------------------------
X2_MODELS = ["Gaussian", "GMM", "flow", "DDPM", "style GAN", "WGAN-GP"]
X2_LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3))]  # one per lam, 1 first


def figX2(result: tidy.FigureData):
    """Fig. X2: (a) dispersion kept against each generation's own training set at nominal lam = 1, per model, with the
    line at the claim's criterion (claims.X2_KEEP); (b) dispersion kept against the real data for every model and
    lam, beside the unbiased Gaussian's exact expectation lam^t; (c) each model's effective lam against its nominal
    lam. Reads beyond_studies.figX2's FigureData."""
    keep = claims.X2_KEEP
    style()
    df = result.data
    models = [m for m in X2_MODELS if m in set(df["model"])] + sorted(set(df["model"]) - set(X2_MODELS))
    colors = dict(zip(models, sns.color_palette("tab10", len(models))))
    lam_styles = dict(zip(sorted(df["lam"].unique(), reverse=True), X2_LINE_STYLES))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    per_generation = df[df["generation"].notna()]
    for model in models:
        for lam, g in per_generation[per_generation["model"] == model].groupby("lam"):
            train = g[g["metric"] == "dispersion_train"].sort_values("generation")
            real = g[g["metric"] == "dispersion_real"].sort_values("generation")
            label = f"{model}, lam={lam:g}"
            if np.isclose(lam, 1.0):
                band(axes[0], train["generation"], train["mean"], train["sem"].fillna(0.0), label=model,
                     color=colors[model], marker="o", ms=3)
            band(axes[1], real["generation"], real["mean"], real["sem"].fillna(0.0), label=label,
                 color=colors[model], ls=lam_styles[lam])
    last = per_generation["generation"].max()
    t = np.arange(1, last + 1)
    for lam, ls in lam_styles.items():
        axes[1].plot(t, lam**t, color="k", lw=0.8, ls=ls)
    axes[0].axhline(1.0, color="k", lw=0.8)
    axes[0].axhline(keep, color="k", lw=0.8, ls="--", label=f"criterion {keep:g}")
    axes[0].set(title="(a) dispersion kept vs its own training set, lam = 1", xlabel="generation t",
                ylabel="spread(samples) / spread(training set)")
    axes[0].legend(fontsize=8)
    axes[1].set(yscale="log", title="(b) dispersion kept vs the real data (black: lam^t)", xlabel="generation t",
                ylabel="spread(samples) / spread(real)")
    axes[1].legend(fontsize=7, ncol=2)
    effective = df[df["metric"] == "effective_lam"]
    for i, model in enumerate(models):
        rows = effective[effective["model"] == model]
        offset = (i - (len(models) - 1) / 2) * 0.006
        axes[2].errorbar(rows["lam"] + offset, rows["mean"], yerr=2 * rows["sem"].fillna(0.0), fmt="o",
                         color=colors[model], label=model, capsize=3)
    lams = np.linspace(effective["lam"].min() - 0.05, 1.02, 10) if len(effective) else np.linspace(0.4, 1.02, 10)
    axes[2].plot(lams, lams, color="k", lw=0.8, label="effective = nominal")
    axes[2].axhline(keep, color="k", lw=0.8, ls="--")
    axes[2].set(title="(c) effective lam (geometric mean over generations)", xlabel="nominal lam",
                ylabel="effective lam")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    _caption(fig, result.caption)
    return fig


# saving ------------------------------------------------------------------------------------------------------------
def save(fig, stem: str, out: presets.Output) -> None:
    """<out.folder>/<stem>.png and .pdf (out from presets.output), each written whole or not at all."""
    folder = out.folder
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, bbox_inches="tight", metadata=_metadata(ext))
        atomic_write_bytes(folder / f"{stem}.{ext}", buffer.getvalue())


def _metadata(ext: str) -> dict:
    """No creation dates, so regenerated figures differ only when their content does."""
    return {"CreationDate": None} if ext == "pdf" else {"Software": None}


def save_data(result: tidy.FigureData, stem: str, out: presets.Output) -> None:
    """The figure's data files (tidy CSV, further tables, arrays) under <out.folder>/data/."""
    result.save(out.folder / "data", stem)
