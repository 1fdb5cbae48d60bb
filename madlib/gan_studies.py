"""The GAN experiments behind Figs. 1, 4 and 6 (GAN rows), 8, 13, 18-25 and 28-29, as tidy tables.

The paper trains StyleGAN2 on FFHQ-128 (and WGAN-GP on MNIST for Fig. 13). Here the StyleGAN figures use an
analogue that runs on a CPU: :class:`madlib.models.gan.GANModel` with the ``"style"`` architecture (a mapping network
to a style space, truncation psi = lam toward the mean style, a convolutional generator with upsampling) trained on
MNIST digits by default or on any image folder. Every chain is one run of the loop engine through the run store, so
figures that show the same chain (1, 4 and 18-22 read the lam = 1 chain; 6 and 23-25 the lam = 0.7 chain; 8 and
28-29 the growing-pool chain) compute it once. As with the DDPM, the ``sem`` of a score is its evaluation noise at
that generation (binomial for rates, bootstrap for the others).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from madlib import loops, runs, tidy
from madlib.models import gan

SCORES = ("fid", "precision", "recall", "density", "coverage", "spectral_distance", "high_freq_ratio")


def chain(variant: str, lam: float, generations: int, n_ini: int, n_s: int, n_r: int = 0, accumulate: bool = False,
          seed: int = 0, model: dict[str, Any] | None = None) -> tuple[loops.LoopSpec, list[loops.Metrics]]:
    """One GAN loop (spec and per-generation metrics), from the store when it has it."""
    spec = loops.LoopSpec(variant, generations=generations, n_ini=n_ini, n_r=n_r, n_s=n_s, lam=lam,
                          accumulate=accumulate, seed=seed)
    return spec, runs.run_or_load(spec, gan.for_spec(spec, **(model or {})))


def fully_synthetic(lam_values: Iterable[float], generations: int | Iterable[int], n_ini: int, n_s: int,
                    seed: int = 0, model: dict | None = None) -> tuple[pd.DataFrame, dict[float, list[loops.Metrics]]]:
    """Fully synthetic chains for each lam (``generations``: one length for all, or one per lam): the tidy scores and
    each chain's history (for samples and spectra)."""
    lam_values = list(lam_values)
    lengths = [generations] * len(lam_values) if isinstance(generations, int) else list(generations)
    if len(lengths) != len(lam_values):
        raise ValueError(f"generations: give one length, or one per lam ({len(lam_values)}); got {generations!r}")
    frames, histories = [], {}
    for lam, length in zip(lam_values, lengths):
        spec, history = chain("fully_synthetic", lam, length, n_ini, n_s, seed=seed, model=model)
        frames.append(tidy.evaluation_rows(spec, history, SCORES))
        histories[lam] = history
    return pd.concat(frames, ignore_index=True), histories


def growing_pool(generations: int, n_r: int, n_s: int, lam: float = 1.0, seed: int = 0,
                 model: dict | None = None) -> tuple[pd.DataFrame, list[loops.Metrics]]:
    """The paper's StyleGAN synthetic augmentation loop: generation t trains on the fixed n_r real images (generation
    1's data) plus every synthetic set drawn so far, (t - 1) * n_s images."""
    spec, history = chain("synthetic_augmentation", lam, generations, n_r, n_s, n_r=n_r, accumulate=True,
                          seed=seed, model=model)
    return tidy.evaluation_rows(spec, history, SCORES), history


def grids(history: list[loops.Metrics], shown: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored sample grid of each shown generation."""
    return {g: history[g - 1]["grid"] for g in shown}


def spectra(history: list[loops.Metrics], shown: Iterable[int], model: dict | None = None) -> pd.DataFrame:
    """Radially averaged power spectra of the shown generations' samples and of the held-out real images
    (generation 0). Columns: generation, radius, power."""
    radii, real = gan.GANModel(**(model or {})).real_spectrum()
    blocks = [(0, real)] + [(g, history[g - 1]["spectrum"]) for g in shown]
    return pd.DataFrame([{"generation": g, "radius": float(r), "power": float(p)}
                         for g, power in blocks for r, p in zip(radii, np.asarray(power))])


def describe(model: dict | None = None, **sizes) -> str:
    """A one-line caption saying which GAN ran, on what, and what the bands mean."""
    m = gan.GANModel(**(model or {}))
    if m.architecture == "style":
        net = (f"style-based GAN analogue of StyleGAN2 (mapping {m.mapping_layers} layers to a {m.w_dim}-d style "
               f"space, truncation psi = lam)")
    else:
        net = "WGAN-GP (latent truncation z -> lam z)"
    size_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return (f"{net}, {m.train_steps} training steps per generation, data {m.dataset} at {m.image_size} px; "
            f"{size_text}; one chain per setting, bands +-2 evaluation SE on {m.n_eval} samples.")


def sample_caption(data: pd.DataFrame, shown: Iterable[int]) -> str:
    """Under a sample figure: each shown generation's FID, recall and spectral distance (from the figure's data)."""
    def value(generation: int, metric: str) -> float:
        rows = data[(data["generation"] == generation) & (data["metric"] == metric)]
        return float(rows["mean"].iloc[0])

    parts = [f"t={g}: FID {value(g, 'fid'):.1f}, recall {value(g, 'recall'):.2f}, spectral distance "
             f"{value(g, 'spectral_distance'):.3f}" for g in shown]
    return "Random samples (not picked). " + "; ".join(parts) + "."
