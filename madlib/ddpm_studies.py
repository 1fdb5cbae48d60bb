"""The DDPM experiments behind the MNIST figures (4-7, 9, 10 right, 16, 26, 27): their chains, and each figure's data.

Every chain is one run of the loop engine (:func:`madlib.chains.make`), so figures that show the same chain read one
store entry: Figs. 4, 5, 16 and 26 read the lam = 1 fully synthetic chain, 7, 16 and 27 the lam = 0.8 one, 6 and 16
the lam = 0.5 one (same sizes, model and master seed give the same chain). A chain's seed is derived from the
figure's master seed and the chain's setting (see madlib.chains). One chain per setting (training a DDPM is the
expensive part), so the ``sem`` of a metric is its evaluation noise at that generation: a binomial SE for rates, a
bootstrap SE over the evaluated samples for FID and the class statistics.

Each figure has a planner (``<name>_plan(**settings) -> list[Chain]``, computes nothing) and a build function
registered with :func:`madlib.chains.study` that reads the same chains and returns a :class:`madlib.tidy.FigureData`
with everything the figure plots: the tidy scores (``data``), t-SNE points (frame ``tsne``) with the real features
they embed (arrays ``real_features``, ``real_labels``), sample grids (arrays ``grids``, ``grid_generations``) and the
numbers shown beside them (frame ``numbers``), and the caption.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from madlib import chains, gan_studies, loops, tidy
from madlib.models import ddpm

SCORES = ("fid", "precision", "recall", "density", "coverage", "class_separation", "class_spread",
          "lenet_agreement", "train_loss")
FAMILY = "ddpm"
TSNE_PURPOSE = 1  # names the t-SNE's random stream among the draws derived from a master seed (not a chain's)
# the two numbers beside each generation's samples (Figs. 26 and 27)
SAMPLE_NUMBERS = {"fig26_ddpm_samples": ("lenet_agreement", "fid"), "fig27_ddpm_samples_biased": ("class_spread",
                                                                                                   "recall")}


# Chains ---------------------------------------------------------------------------------------------------------------
def fully_synthetic_chains(lam_values: Iterable[float], generations: int, n_ini: int, n_s: int, seed: int = 0,
                           model: dict[str, Any] | None = None) -> list[chains.Chain]:
    """One fully synthetic chain per lam (model: DDPMModel keyword arguments without lam)."""
    return [chains.make(FAMILY, seed, model=model, variant="fully_synthetic", generations=generations, n_ini=n_ini,
                        n_s=n_s, lam=float(lam)) for lam in lam_values]


def augmentation_chains(lam_values: Iterable[float], generations: int, n_r: int, n_s: int, seed: int = 0,
                        model: dict[str, Any] | None = None) -> list[chains.Chain]:
    """One synthetic augmentation chain per lam: a fixed set of n_r real digits (generation 1's data, n_ini = n_r)
    plus n_s samples of the previous generation."""
    return [chains.make(FAMILY, seed, model=model, variant="synthetic_augmentation", generations=generations,
                        n_ini=n_r, n_r=n_r, n_s=n_s, lam=float(lam)) for lam in lam_values]


def fresh_data_chains(n_ini_values: Iterable[int], lam: float, generations: int, n_r: int, n_s: int, seed: int = 0,
                      model: dict[str, Any] | None = None) -> list[chains.Chain]:
    """One fresh data chain (n_r new real digits each generation) per n_ini."""
    return [chains.make(FAMILY, seed, model=model, variant="fresh_data", generations=generations, n_ini=int(n_ini),
                        n_r=n_r, n_s=n_s, lam=float(lam)) for n_ini in n_ini_values]


def scores(chain_list: list[chains.Chain], metrics: Iterable[str] = SCORES
           ) -> tuple[pd.DataFrame, list[list[loops.Metrics]]]:
    """The chains' tidy scores and histories (read from the store, computing what is missing)."""
    return chains.run_chains(chain_list, metrics)


def fully_synthetic(lam_values: Iterable[float], generations: int, n_ini: int, n_s: int, seed: int = 0,
                    model: dict | None = None) -> tuple[pd.DataFrame, dict[float, list[loops.Metrics]]]:
    """Fully synthetic chains for each lam: the tidy scores and each chain's history by lam (for t-SNE and
    samples)."""
    chain_list = fully_synthetic_chains(lam_values, generations, n_ini, n_s, seed, model)
    df, histories = scores(chain_list)
    return df, {c.spec.lam: h for c, h in zip(chain_list, histories)}


def augmentation(lam_values: Iterable[float], generations: int, n_r: int, n_s: int, seed: int = 0,
                 model: dict | None = None) -> pd.DataFrame:
    """The tidy scores of the synthetic augmentation chains."""
    return scores(augmentation_chains(lam_values, generations, n_r, n_s, seed, model))[0]


def fresh_data(n_ini_values: Iterable[int], lam: float, generations: int, n_r: int, n_s: int, seed: int = 0,
               model: dict | None = None) -> pd.DataFrame:
    """The tidy scores of the fresh data chains (one per n_ini)."""
    return scores(fresh_data_chains(n_ini_values, lam, generations, n_r, n_s, seed, model))[0]


# Tables and arrays --------------------------------------------------------------------------------------------------
def limits(df: pd.DataFrame, by: str, metric: str = "fid", window: int = 3) -> pd.DataFrame:
    """Each chain's limit of a metric: the mean over its last ``window`` generations (column ``window``, which the
    claim's test of that window for a trend reads); the SE is the spread of those generations (it includes the
    training noise between generations, which one evaluation's SE does not)."""
    rows = []
    for key, g in df[df["metric"] == metric].groupby(by):
        tail = g.sort_values("generation")["mean"].to_numpy()[-window:]
        setting = {**g.iloc[0].reindex(tidy.SETTING_COLUMNS).to_dict(), "window": window}
        rows.append(tidy.summary_row(setting, f"{metric}_limit", tail))
    return tidy.frame(rows)


def pick_generations(generations: int, count: int) -> list[int]:
    """About ``count`` generations spread evenly from the first to the last."""
    return sorted({int(round(g)) for g in np.linspace(1, generations, min(count, generations))})


def derived_state(seed: int, purpose: int) -> int:
    """A 32-bit seed for a draw that is not a chain's (e.g. the t-SNE), derived from the master seed."""
    return int(np.random.default_rng(np.random.SeedSequence([int(seed), int(purpose)])).integers(2**31 - 1))


def tsne_frame(history: list[loops.Metrics], real_features: np.ndarray, real_labels: np.ndarray,
               shown: Iterable[int], seed: int = 0) -> pd.DataFrame:
    """A 2-D t-SNE of the real features and the stored synthetic features of the shown generations, computed
    jointly (one embedding, so positions are comparable across generations); ``seed`` is the t-SNE's random state.
    Columns: x, y, label, generation (0 = real)."""
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


def real_features(model: dict | None = None, keep: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The LeNet features and labels of the first ``keep`` held-out real digits (the real side of the t-SNE;
    default: as many as the model keeps of each generation's samples, its ``feature_keep``)."""
    m = ddpm.DDPMModel(**(model or {}))
    keep = m.feature_keep if keep is None else keep
    reference = m.reference()
    return reference.features[:keep], reference.labels[:keep]


def grids(history: list[loops.Metrics], shown: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored sample grid (10 classes x per class x 28 x 28) of each shown generation."""
    return {g: history[g - 1]["grid"] for g in shown}


def numbers(df: pd.DataFrame, metrics: Iterable[str], shown: Iterable[int]) -> pd.DataFrame:
    """Metrics of the shown generations, one row per generation: a ``<metric>`` and a ``<metric>_se`` column each."""
    metrics, shown = list(metrics), list(shown)
    rows = df[df["metric"].isin(metrics) & df["generation"].isin(shown)]
    mean = rows.pivot(index="generation", columns="metric", values="mean")[metrics]
    sem = rows.pivot(index="generation", columns="metric", values="sem")[metrics].add_suffix("_se")
    return pd.concat([mean, sem], axis=1).reset_index().rename_axis(columns=None)


def describe(model: dict | None = None, **sizes) -> str:
    """A one-line caption saying which DDPM ran, on what, and what the bands mean."""
    m = ddpm.DDPMModel(**(model or {}))
    if m.backbone == "latent-mlp":
        code = "PCA" if m.codec == "pca" else "autoencoder"
        net = f"{code}-latent ({m.latent_dim} dims) MLP denoiser ({m.blocks} blocks x {m.hidden})"
    else:
        net = f"pixel-space UNet (base {m.unet_base} channels)"
    size_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return (f"Conditional DDPM: {net}, T={m.timesteps}, {m.train_steps} training steps per generation, data "
            f"{m.dataset}; {size_text}; one chain per setting, bands +-2 evaluation SE on {m.n_eval} samples.")


# Figures --------------------------------------------------------------------------------------------------------------
def with_gan_plan(ddpm: dict, gan: dict, seed: int) -> list[chains.Chain]:
    """Figs. 4 and 6: the DDPM fully synthetic chains (``ddpm``: the arguments of :func:`fully_synthetic` but the
    seed) and the GAN row's (``gan``: those of gan_studies.fully_synthetic but the seed, as in Figs. 1 and 23)."""
    return fully_synthetic_chains(seed=seed, **ddpm) + gan_studies.fully_synthetic_chains(seed=seed, **gan)


@chains.study("fig04_ddpm_fully_synthetic", "fig06_ddpm_biased", plan=with_gan_plan)
def with_gan(ddpm: dict, gan: dict, seed: int) -> tidy.FigureData:
    """Figs. 4 and 6: the DDPM and GAN rows' scores in one table (column ``model``: "DDPM", "GAN")."""
    ddpm_df, _ = fully_synthetic(seed=seed, **ddpm)
    gan_df, _ = gan_studies.fully_synthetic(seed=seed, **gan)
    caption = (describe(ddpm["model"], n_ini=ddpm["n_ini"], n_s=ddpm["n_s"]) + " GAN row: "
               + gan_studies.describe(gan["model"], n_ini=gan["n_ini"], n_s=gan["n_s"]))
    return tidy.FigureData(tidy.merge_models({"DDPM": ddpm_df, "GAN": gan_df}), caption=caption)


def tsne_plan(lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int, model: dict,
              compare_lam: float | None = None) -> list[chains.Chain]:
    """Figs. 5 and 7: the lam chain, and the compare_lam chain whose class separation is drawn beside it."""
    lams = [lam] + ([compare_lam] if compare_lam is not None and compare_lam != lam else [])
    return fully_synthetic_chains(lams, generations, n_ini, n_s, seed, model)


@chains.study("fig05_ddpm_tsne", "fig07_ddpm_tsne_biased", plan=tsne_plan)
def tsne(lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int, model: dict,
         compare_lam: float | None = None) -> tidy.FigureData:
    """Figs. 5 and 7: the scores of the chains, one joint t-SNE of the real features and the lam chain's features
    at ``shown`` generations spread over the chain (frame ``tsne``, with a ``lam`` column), and the real features
    it embeds (arrays ``real_features``, ``real_labels``). The t-SNE's random state comes from the master seed."""
    chain_list = tsne_plan(lam, shown, generations, n_ini, n_s, seed, model, compare_lam)
    df, histories = scores(chain_list)
    real, real_labels = real_features(model)
    picked = pick_generations(generations, shown)
    points = tsne_frame(histories[0], real, real_labels, picked, seed=derived_state(seed, TSNE_PURPOSE))
    return tidy.FigureData(df, frames={"tsne": points.assign(lam=float(lam))},
                           arrays={"real_features": np.asarray(real, dtype=np.float32),
                                   "real_labels": np.asarray(real_labels).astype(np.int64)},
                           caption=describe(model, n_ini=n_ini, n_s=n_s))


def fully_synthetic_plan(lam_values: list[float], generations: int, n_ini: int, n_s: int, seed: int,
                         model: dict) -> list[chains.Chain]:
    """Fig. 16: the fully synthetic chains of every lam."""
    return fully_synthetic_chains(lam_values, generations, n_ini, n_s, seed, model)


@chains.study("fig16_ddpm_more_generations", plan=fully_synthetic_plan)
def fully_synthetic_figure(lam_values: list[float], generations: int, n_ini: int, n_s: int, seed: int,
                           model: dict) -> tidy.FigureData:
    df, _ = fully_synthetic(lam_values, generations, n_ini, n_s, seed, model)
    return tidy.FigureData(df, caption=describe(model, n_ini=n_ini, n_s=n_s))


def augmentation_plan(lam_values: list[float], generations: int, n_r: int, n_s: int, seed: int,
                      model: dict) -> list[chains.Chain]:
    """Fig. 9: the synthetic augmentation chains of every lam."""
    return augmentation_chains(lam_values, generations, n_r, n_s, seed, model)


@chains.study("fig09_ddpm_augmentation", plan=augmentation_plan)
def augmentation_figure(lam_values: list[float], generations: int, n_r: int, n_s: int, seed: int,
                        model: dict) -> tidy.FigureData:
    df = augmentation(lam_values, generations, n_r, n_s, seed, model)
    return tidy.FigureData(df, caption=describe(model, n_r=n_r, n_s=n_s))


def samples_plan(lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int,
                 model: dict) -> list[chains.Chain]:
    """Figs. 26 and 27: the lam chain."""
    return fully_synthetic_chains([lam], generations, n_ini, n_s, seed, model)


def _samples(stem: str, lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int,
             model: dict) -> tidy.FigureData:
    """The chain's scores, the sample grids of ``shown`` generations spread over it (array ``grids``: generations x
    10 classes x per class x 28 x 28, at generations ``grid_generations``) and two numbers per shown generation
    (frame ``numbers``)."""
    df, (history,) = scores(samples_plan(lam, shown, generations, n_ini, n_s, seed, model))
    picked = pick_generations(generations, shown)
    stacked = np.stack(list(grids(history, picked).values())).astype(np.float32)
    return tidy.FigureData(df, frames={"numbers": numbers(df, SAMPLE_NUMBERS[stem], picked)},
                           arrays={"grids": stacked, "grid_generations": np.asarray(picked, dtype=np.int64)},
                           caption=describe(model, n_ini=n_ini, n_s=n_s))


@chains.study("fig26_ddpm_samples", plan=samples_plan)
def samples_unbiased(lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int,
                     model: dict) -> tidy.FigureData:
    """Fig. 26: beside the samples, LeNet's agreement with the drawn class and the FID."""
    return _samples("fig26_ddpm_samples", lam, shown, generations, n_ini, n_s, seed, model)


@chains.study("fig27_ddpm_samples_biased", plan=samples_plan)
def samples_biased(lam: float, shown: int, generations: int, n_ini: int, n_s: int, seed: int,
                   model: dict) -> tidy.FigureData:
    """Fig. 27: beside the samples, the class spread and the recall."""
    return _samples("fig27_ddpm_samples_biased", lam, shown, generations, n_ini, n_s, seed, model)
