"""The GAN experiments behind Figs. 1, 4 and 6 (GAN rows), 8, 13, 18-25 and 28-29: chains, plans and figure data.

The paper trains StyleGAN2 on FFHQ-128 (and WGAN-GP on MNIST for Fig. 13). Here the StyleGAN figures use an
analogue that runs on a CPU: :class:`madlib.models.gan.GANModel` with the ``"style"`` architecture (a mapping network
to a style space, truncation psi = lam toward the mean style, a convolutional generator with upsampling) trained on
MNIST digits by default or on any image folder.

Every chain is a :class:`madlib.chains.Chain` of family ``"gan"`` (``model`` = GANModel's keyword arguments without
lam; the chain passes its spec's lam), made by :func:`madlib.chains.make`, so its seed is derived from the figure's
master seed and the chain's setting. Figures that show the same chain build identical chains and so read one store
entry: 1, 4 and 18-22 the lam = 1 fully synthetic chain; 6 and 23-25 the lam = 0.7 one; 8 and 28-29 the growing-pool
chain (8 also the lam = 1 chain). A chain is one run (one replicate), so the ``sem`` of a score is its evaluation noise
at that generation (binomial for rates, bootstrap for the others), as :func:`madlib.chains.run_chains` reads it.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from madlib import chains, loops, tidy
from madlib.models import gan

SCORES = ("fid", "precision", "recall", "density", "coverage", "spectral_distance", "high_freq_ratio")


# Chains ------------------------------------------------------------------------------------------------------------
def _lengths(lam_values: list[float], generations: int | Iterable[int]) -> list[int]:
    """One chain length per lam: ``generations`` is one length for all, or one per lam."""
    if isinstance(generations, (int, np.integer)) and not isinstance(generations, bool):
        return [int(generations)] * len(lam_values)
    lengths = list(generations)
    if len(lengths) != len(lam_values):
        raise ValueError(f"generations: give one length, or one per lam ({len(lam_values)}); got {generations!r}")
    return lengths


def fully_synthetic_chains(lam_values: Iterable[float], generations: int | Iterable[int], n_ini: int, n_s: int,
                           seed: int, model: dict | None) -> list[chains.Chain]:
    """One fully synthetic GAN chain per lam (``generations``: one length for all, or one per lam)."""
    lam_values = list(lam_values)
    return [chains.make("gan", seed, model=model, variant="fully_synthetic", generations=length, n_ini=n_ini,
                        n_s=n_s, lam=lam)
            for lam, length in zip(lam_values, _lengths(lam_values, generations))]


def fully_synthetic(lam_values: Iterable[float], generations: int | Iterable[int], n_ini: int, n_s: int,
                    seed: int = 0, model: dict | None = None) -> tuple[pd.DataFrame, dict[float, list[loops.Metrics]]]:
    """The fully synthetic chains of :func:`fully_synthetic_chains`, read from the store (computing what is missing):
    their tidy scores and each chain's history by lam (for samples and spectra)."""
    lam_values = list(lam_values)
    data, histories = chains.run_chains(fully_synthetic_chains(lam_values, generations, n_ini, n_s, seed, model),
                                        SCORES)
    return data, dict(zip(lam_values, histories))


def growing_pool_chain(generations: int, n_r: int, n_s: int, lam: float = 1.0, seed: int = 0,
                       model: dict | None = None) -> chains.Chain:
    """The paper's StyleGAN synthetic augmentation loop: generation t trains on the fixed n_r real images (generation
    1's data) plus every synthetic set drawn so far, (t - 1) * n_s images."""
    return chains.make("gan", seed, model=model, variant="synthetic_augmentation", generations=generations,
                       n_ini=n_r, n_r=n_r, n_s=n_s, lam=lam, accumulate=True)


# What the figures plot -----------------------------------------------------------------------------------------------
def grids(history: list[loops.Metrics], shown: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored sample grid of each shown generation."""
    return {g: history[g - 1]["grid"] for g in shown}


def spectra(chain: chains.Chain, history: list[loops.Metrics], shown: Iterable[int]) -> pd.DataFrame:
    """Radially averaged power spectra of the shown generations' samples and of the held-out real images
    (generation 0) of one chain. Columns: generation, radius, power."""
    radii, real = chain.build().real_spectrum()
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


def _check_shown(shown: Iterable[int], length: int) -> list[int]:
    shown = [int(g) for g in shown]
    bad = [g for g in shown if not 1 <= g <= length]
    if not shown or bad:
        raise ValueError(f"shown: generations to show must lie in 1..{length} (the chain's length); got {shown}")
    return shown


def _sample_arrays(history: list[loops.Metrics], shown: list[int]) -> dict[str, np.ndarray]:
    """The plotted sample grids: ``grids`` (shown, grid_count, ...) and ``shown`` (the generations)."""
    return {"grids": np.stack([np.asarray(history[g - 1]["grid"]) for g in shown]), "shown": np.asarray(shown)}


def _one_lam(lam_values: Iterable[float], stem: str) -> list[float]:
    lam_values = list(lam_values)
    if len(lam_values) != 1:
        raise ValueError(f"lam_values: {stem} shows the samples of one chain; give one lam, got {lam_values!r}")
    return lam_values


# Figs. 1, 18-22 and 23-25: one fully synthetic chain, its samples (and Fig. 1 its spectra) ---------------------------
def one_chain_plan(lam_values: list[float], generations: int | list[int], n_ini: int, n_s: int, shown: list[int],
                   seed: int, model: dict) -> list[chains.Chain]:
    """The one fully synthetic chain of Figs. 1, 18-22 and 23-25."""
    return fully_synthetic_chains(_one_lam(lam_values, "this figure"), generations, n_ini, n_s, seed, model)


def _one_chain(lam_values, generations, n_ini, n_s, shown, seed, model):
    plan = one_chain_plan(lam_values, generations, n_ini, n_s, shown, seed, model)
    shown = _check_shown(shown, plan[0].spec.generations)
    data, histories = chains.run_chains(plan, SCORES)
    return plan[0], data, histories[0], shown


@chains.study("fig01_gan_fingerprint", plan=one_chain_plan)
def fig01(lam_values: list[float], generations: int | list[int], n_ini: int, n_s: int, shown: list[int], seed: int,
          model: dict) -> tidy.FigureData:
    """Fig. 1: the chain's scores, the sample grids and power spectra of the shown generations (and the real one)."""
    chain, data, history, shown = _one_chain(lam_values, generations, n_ini, n_s, shown, seed, model)
    return tidy.FigureData(data, frames={"spectra": spectra(chain, history, shown)},
                           arrays=_sample_arrays(history, shown), caption=describe(model, n_ini=n_ini, n_s=n_s))


@chains.study("fig18_gan_unbiased_samples", "fig23_gan_biased_samples", plan=one_chain_plan)
def samples(lam_values: list[float], generations: int | list[int], n_ini: int, n_s: int, shown: list[int], seed: int,
            model: dict) -> tidy.FigureData:
    """Figs. 18-22 and 23-25: the chain's scores and the sample grids of the shown generations, captioned with
    their FID, recall and spectral distance."""
    _, data, history, shown = _one_chain(lam_values, generations, n_ini, n_s, shown, seed, model)
    return tidy.FigureData(data, arrays=_sample_arrays(history, shown), caption=sample_caption(data, shown))


# Fig. 8: the growing pool beside the fully synthetic lam = 1 chain; Figs. 28-29: the pool's samples ------------------
def fig08_plan(pool: dict, fully_synthetic: dict, seed: int) -> list[chains.Chain]:
    """The growing-pool chain and the fully synthetic chain(s) of Fig. 8."""
    return [growing_pool_chain(seed=seed, **pool), *fully_synthetic_chains(seed=seed, **fully_synthetic)]


@chains.study("fig08_gan_growing_pool", plan=fig08_plan)
def fig08(pool: dict, fully_synthetic: dict, seed: int) -> tidy.FigureData:
    """Fig. 8: both loops' scores in one table (column ``variant`` tells them apart)."""
    data, _ = chains.run_chains(fig08_plan(pool, fully_synthetic, seed), SCORES)
    return tidy.FigureData(data, caption=describe(pool["model"], n_r=pool["n_r"], n_s=pool["n_s"]))


def pool_samples_plan(generations: int, n_r: int, n_s: int, shown: list[int], seed: int,
                      model: dict) -> list[chains.Chain]:
    """The growing-pool chain of Figs. 28-29 (the one of Fig. 8)."""
    return [growing_pool_chain(generations, n_r, n_s, seed=seed, model=model)]


@chains.study("fig28_gan_pool_samples", plan=pool_samples_plan)
def pool_samples(generations: int, n_r: int, n_s: int, shown: list[int], seed: int, model: dict) -> tidy.FigureData:
    """Figs. 28-29: the pool chain's scores and the sample grids of the shown generations."""
    plan = pool_samples_plan(generations, n_r, n_s, shown, seed, model)
    shown = _check_shown(shown, generations)
    data, histories = chains.run_chains(plan, SCORES)
    return tidy.FigureData(data, arrays=_sample_arrays(histories[0], shown), caption=sample_caption(data, shown))


# Fig. 13: WGAN-GP, fully synthetic -------------------------------------------------------------------------------------
def fig13_plan(lam_values: list[float], generations: int | list[int], n_ini: int, n_s: int, seed: int,
               model: dict) -> list[chains.Chain]:
    """The WGAN-GP fully synthetic chain(s) of Fig. 13."""
    return fully_synthetic_chains(lam_values, generations, n_ini, n_s, seed, model)


@chains.study("fig13_wgan_fully_synthetic", plan=fig13_plan)
def fig13(lam_values: list[float], generations: int | list[int], n_ini: int, n_s: int, seed: int,
          model: dict) -> tidy.FigureData:
    """Fig. 13: the WGAN-GP chain's scores."""
    data, _ = chains.run_chains(fig13_plan(lam_values, generations, n_ini, n_s, seed, model), SCORES)
    return tidy.FigureData(data, caption=describe(model, n_ini=n_ini, n_s=n_s))
