"""The DDPM experiments behind the MNIST figures (4-7, 9, 10 right, 16, 26, 27), as tidy tables.

Every chain is one run of the loop engine through the run store, so figures that show the same chain (4, 5, 16, 26
read the lam = 1 fully synthetic chain) compute it once. A chain is a single run (training a DDPM is the expensive
part), so the ``sem`` of a metric is its evaluation noise at that generation: a binomial SE for rates, a bootstrap
SE over the evaluated samples for FID and the class statistics.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from madlib import loops, runs, tidy
from madlib.models import ddpm

SCORES = ("fid", "precision", "recall", "density", "coverage", "class_separation", "class_spread",
          "lenet_agreement", "train_loss")


def chain(variant: str, lam: float, generations: int, n_ini: int, n_s: int, n_r: int = 0, seed: int = 0,
          model: dict[str, Any] | None = None) -> tuple[loops.LoopSpec, list[loops.Metrics]]:
    """One DDPM loop (spec and per-generation metrics), from the store when it has it."""
    spec = loops.LoopSpec(variant, generations=generations, n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam, seed=seed)
    return spec, runs.run_or_load(spec, ddpm.for_spec(spec, **(model or {})))


def scores_frame(spec: loops.LoopSpec, history: list[loops.Metrics], metrics: Iterable[str] = SCORES) -> pd.DataFrame:
    """Tidy rows of one chain: each score per generation, with its evaluation SE as ``sem``."""
    return tidy.evaluation_rows(spec, history, metrics)


def fully_synthetic(lam_values: Iterable[float], generations: int, n_ini: int, n_s: int, seed: int = 0,
                    model: dict | None = None) -> tuple[pd.DataFrame, dict[float, list[loops.Metrics]]]:
    """Fully synthetic chains for each lam: the tidy scores and each chain's history (for t-SNE and samples)."""
    frames, histories = [], {}
    for lam in lam_values:
        spec, history = chain("fully_synthetic", lam, generations, n_ini, n_s, seed=seed, model=model)
        frames.append(scores_frame(spec, history))
        histories[lam] = history
    return pd.concat(frames, ignore_index=True), histories


def augmentation(lam_values: Iterable[float], generations: int, n_r: int, n_s: int, seed: int = 0,
                 model: dict | None = None) -> pd.DataFrame:
    """Synthetic augmentation chains (a fixed set of n_r real digits, the first generation's data) for each lam."""
    return pd.concat([scores_frame(*chain("synthetic_augmentation", lam, generations, n_r, n_s, n_r, seed, model))
                      for lam in lam_values], ignore_index=True)


def fresh_data(n_ini_values: Iterable[int], lam: float, generations: int, n_r: int, n_s: int, seed: int = 0,
               model: dict | None = None) -> pd.DataFrame:
    """Fresh data chains (n_r new real digits each generation) for each n_ini."""
    return pd.concat([scores_frame(*chain("fresh_data", lam, generations, n_ini, n_s, n_r, seed, model))
                      for n_ini in n_ini_values], ignore_index=True)


def limits(df: pd.DataFrame, by: str, metric: str = "fid", window: int = 3) -> pd.DataFrame:
    """Each chain's limit of a metric: the mean over its last ``window`` generations; the SE is the spread of those
    generations (it includes the training noise between generations, which one evaluation's SE does not)."""
    rows = []
    for key, g in df[df["metric"] == metric].groupby(by):
        tail = g.sort_values("generation")["mean"].to_numpy()[-window:]
        rows.append(tidy.summary_row(g.iloc[0].reindex(tidy.SETTING_COLUMNS).to_dict(), f"{metric}_limit", tail))
    return tidy.frame(rows)


def pick_generations(generations: int, count: int) -> list[int]:
    """About ``count`` generations spread evenly from the first to the last."""
    return sorted({int(round(g)) for g in np.linspace(1, generations, min(count, generations))})


def tsne_frame(history: list[loops.Metrics], real_features: np.ndarray, real_labels: np.ndarray,
               shown: Iterable[int], seed: int = 0) -> pd.DataFrame:
    """A 2-D t-SNE of the real features and the stored synthetic features of the shown generations, computed
    jointly (one embedding, so positions are comparable across generations). Columns: x, y, label, generation
    (0 = real)."""
    from sklearn.manifold import TSNE

    shown = list(shown)
    blocks = [(0, real_features, real_labels)] + [(g, history[g - 1]["features"], history[g - 1]["feature_labels"])
                                                  for g in shown]
    stacked = np.concatenate([np.asarray(b[1], dtype=np.float64) for b in blocks])
    perplexity = float(min(30.0, (len(stacked) - 1) / 3.0))
    xy = TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(stacked)
    generation = np.concatenate([np.full(len(b[1]), b[0]) for b in blocks])
    labels = np.concatenate([np.asarray(b[2]).astype(int) for b in blocks])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": labels, "generation": generation})


def real_features(model: dict | None = None, keep: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """The LeNet features and labels of the first ``keep`` held-out real digits (the real side of the t-SNE)."""
    reference = ddpm.DDPMModel(**(model or {})).reference()
    return reference["features"][:keep].numpy(), reference["labels"][:keep].numpy()


def grids(history: list[loops.Metrics], shown: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored sample grid (10 classes x per class x 28 x 28) of each shown generation."""
    return {g: history[g - 1]["grid"] for g in shown}


def describe(model: dict | None = None, **sizes) -> str:
    """A one-line caption saying which DDPM ran, on what, and what the bands mean."""
    m = ddpm.DDPMModel(**(model or {}))
    if m.backbone == "latent-mlp":
        net = f"PCA-latent ({m.latent_dim} dims) MLP denoiser ({m.blocks} blocks x {m.hidden})"
    else:
        net = f"pixel-space UNet (base {m.unet_base} channels)"
    size_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return (f"Conditional DDPM: {net}, T={m.timesteps}, {m.train_steps} training steps per generation, data "
            f"{m.dataset}; {size_text}; one chain per setting, bands +-2 evaluation SE on {m.n_eval} samples.")
