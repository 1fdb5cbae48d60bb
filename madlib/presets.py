"""The figures of the paper and their settings at three presets.

* ``smoke``: proves the code path in seconds (CI, nbval); nothing it writes lands in paper_figures/.
* ``default``: what paper_figures/ is made from on a 2-core CPU (`make figures` about 70 minutes), as near to the
  paper as that allows; the Gaussian figures use the paper's own sizes.
* ``paper``: the paper's settings where they are known, more replicates and generations otherwise.

``resolve(figure, preset, seed=None, overrides=None)`` returns a validated copy of one figure's settings (overrides: a dict,
or a JSON or YAML string of one; nested dicts merge key by key).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PRESETS = ("smoke", "default", "paper")
# The master seed of every figure at every preset, written only here: every chain's seed is derived from it
# (madlib.chains.chain_seed). A notebook's `seed` parameter or `madlib run --seed` replaces it for one run; output()
# treats it as the preset's own seed (a test checks that every figure uses it).
PRESET_SEED = 0
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    stem: str  # notebooks/<stem>.ipynb, paper_figures/<stem>.png, paper_figures/data/<stem>.csv
    number: str  # the paper's figure number (full version)
    title: str
    claim: str  # the paper's claim, in our words ("" for a diagram)
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)


def _limit_rule(burn_in_tau, window, max_generations):
    return {"burn_in_tau": burn_in_tau, "window": window, "max_generations": max_generations}


_NS_GRID = [100, 200, 500, 1000, 2000, 5000, 10000]

# The conditional DDPM at each preset (keyword arguments of madlib.models.ddpm.DDPMModel). smoke: a toy that only
# proves the code path. default: the latent MLP backbone over a 24-dimensional convolutional autoencoder code (both
# retrained every generation), T = 500, trained on the 4,000 offline mnist-5k digits, about a minute a generation on
# one CPU thread. paper: the pixel-space UNet on the 60k MNIST (needs the download and a GPU).
DDPM_MODEL = {
    "smoke": dict(backbone="latent-mlp", timesteps=20, train_steps=40, hidden=32, blocks=1, latent_dim=8,
                  codec="autoencoder", codec_epochs=1, codec_channels=4,
                  n_eval=60, feature_keep=30, grid_per_class=2, lenet_epochs=1),
    "default": dict(backbone="latent-mlp", timesteps=500, train_steps=2000, hidden=256, blocks=3, latent_dim=24,
                    codec="autoencoder", codec_epochs=10, codec_channels=32,
                    n_eval=1000, feature_keep=300, grid_per_class=8, lenet_epochs=15),
    "paper": dict(backbone="unet", timesteps=500, train_steps=30000, batch_size=128, lr=2e-4, dataset="mnist",
                  n_eval=10000, feature_keep=500, grid_per_class=8, lenet_epochs=15, sample_batch=5000),
}
# The fully synthetic chains that Figs. 4-7, 16, 26 and 27 share (same sizes, so the run store computes each once).
DDPM_CHAIN = {
    "smoke": dict(generations=3, n_ini=100, n_s=60),
    "default": dict(generations=10, n_ini=4000, n_s=2000),
    "paper": dict(generations=10, n_ini=60000, n_s=60000),
}


# The GAN analogue of the paper's StyleGAN2 (keyword arguments of madlib.models.gan.GANModel): a style-based
# generator with truncation, trained on the offline mnist-5k digits on the CPU (`default`) or on the 60k MNIST on a GPU
# (`paper`; a user's own images through {"dataset": "<image folder>"}). WGAN_MODEL is Fig. 13's WGAN-GP.
GAN_MODEL = {
    "smoke": dict(architecture="style", train_steps=20, batch_size=16, width=16, z_dim=16, w_dim=16, mapping_layers=2,
                  ema=0.9, n_eval=60, grid_count=16, lenet_epochs=1),
    "default": dict(architecture="style", train_steps=1000, width=32, batch_size=32, lr=2e-3, ema=0.995, n_eval=1000,
                    grid_count=64, lenet_epochs=15),
    "paper": dict(architecture="style", dataset="mnist", train_steps=20000, width=64, batch_size=64, lr=2e-3,
                  ema=0.995, n_eval=10000, grid_count=64, lenet_epochs=15),
}
# `default` budgets picked with benchmarks/gan.py on several seeds (generation 1, one thread): the style GAN, sampled
# from the moving average of its generator (ema = 0.995, as StyleGAN2), 1000 steps, about 48 s a generation, FID 7-21
# on seeds 0-4 and 6 (without the average its FID swung between 11 and 30 at every budget tried); WGAN-GP 700 steps
# at lr 2e-3, about 50 s, FID 21-45 on seeds 0-6 (the average made it worse).
# n_critic = 2 on the CPU: with the usual 5 the budget leaves too few generator steps to learn digits.
WGAN_MODEL = {
    "smoke": {**GAN_MODEL["smoke"], "architecture": "wgan-gp", "n_critic": 2},
    "default": dict(architecture="wgan-gp", train_steps=700, width=32, batch_size=32, lr=2e-3, n_critic=2,
                    n_eval=1000, grid_count=64, lenet_epochs=15),
    "paper": dict(architecture="wgan-gp", dataset="mnist", train_steps=20000, width=64, batch_size=64, lr=1e-4,
                  n_critic=5, n_eval=10000, grid_count=64, lenet_epochs=15),
}
# The GAN chains: sizes shared by every GAN figure, and each chain's length (a chain is stored under its full spec,
# generations included, so every figure asks for the same length and reads one stored run).
GAN_SIZES = {
    "smoke": dict(n_ini=100, n_s=100),
    "default": dict(n_ini=4000, n_s=4000),
    "paper": dict(n_ini=60000, n_s=60000),
}
GAN_GENERATIONS = {  # lam = 1 fully synthetic, lam = 0.7 fully synthetic, growing-pool augmentation, WGAN-GP
    "smoke": dict(unbiased=3, biased=3, pool=3, wgan=3),
    "default": dict(unbiased=9, biased=5, pool=6, wgan=12),
    "paper": dict(unbiased=10, biased=6, pool=6, wgan=100),
}


def _gan(preset: str, chains: list[str], lam_values: list[float], **settings) -> dict[str, Any]:
    """Settings of GAN fully synthetic chains: the shared sizes, each chain's stored length, the model. Its keys are
    the arguments of gan_studies.fully_synthetic (and fully_synthetic_chains) but ``seed`` (given by `settings`, or by
    the figure's own master seed), plus a GAN figure's own keys in `settings` (e.g. ``shown``)."""
    generations = [GAN_GENERATIONS[preset][c] for c in chains]
    return {**GAN_SIZES[preset], "lam_values": lam_values, "generations": generations, **settings,
            "model": copy.deepcopy(GAN_MODEL[preset])}


def _gan_pool(preset: str, **settings) -> dict[str, Any]:
    """Settings of the growing-pool chain of Figs. 8 and 28-29 (n_r = n_ini real images, lam = 1): the arguments of
    gan_studies.growing_pool_chain but ``seed``, plus `settings`."""
    sizes = GAN_SIZES[preset]
    return {"generations": GAN_GENERATIONS[preset]["pool"], "n_r": sizes["n_ini"], "n_s": sizes["n_s"], **settings,
            "model": copy.deepcopy(GAN_MODEL[preset])}


def _ddpm(preset: str, **settings) -> dict[str, Any]:
    """Settings of a fully synthetic DDPM figure (the arguments of its ddpm_studies planner and build function): the
    shared chain sizes, the model, the seed, and the figure's own."""
    return {**DDPM_CHAIN[preset], **settings, "seed": PRESET_SEED, "model": copy.deepcopy(DDPM_MODEL[preset])}


def _ddpm_figure(stem, number, title, claim, **settings) -> "Figure":
    return Figure(stem, number, title, claim, {p: _ddpm(p, **settings) for p in PRESETS})


def _ddpm_gan_figure(stem, number, title, claim, lam_values, gan_chains, gan_lam_values) -> "Figure":
    """Figs. 4 and 6: the DDPM chains (``ddpm``: ddpm_studies.fully_synthetic's arguments) and the GAN row's
    (``gan``: gan_studies.fully_synthetic's, the chains of Figs. 1 and 23), one master seed."""
    def settings(preset):
        ddpm = {key: value for key, value in _ddpm(preset, lam_values=lam_values).items() if key != "seed"}
        return {"ddpm": ddpm, "gan": _gan(preset, gan_chains, gan_lam_values), "seed": PRESET_SEED}

    return Figure(stem, number, title, claim, {p: settings(p) for p in PRESETS})

# The GMM chains that Figs. 14 and 15 share (the arguments of gmm_studies.gmm_chains; the same chains, so the run
# store computes them once; Fig. 14 adds `shown`). The paper gives no sample size per iteration; 2000 per iteration
# loses modes visibly within its 2000 iterations (see Fig. 14).
GMM_CHAIN = {
    "smoke": dict(n_ini=400, n_s=400, generations=6, replicates=2, seed=PRESET_SEED, model=dict(n_eval=300)),
    "default": dict(n_ini=2000, n_s=2000, generations=2000, replicates=10, seed=PRESET_SEED, model=dict(n_eval=1000)),
    "paper": dict(n_ini=2000, n_s=2000, generations=2000, replicates=20, seed=PRESET_SEED, model=dict(n_eval=2000)),
}


def _x2_sources(preset: str) -> list[dict]:
    """Where Fig. X2 finds each model's fully synthetic chains (beyond_studies.figX2_plan): the figure whose plan holds
    them at the preset, the family, and spec fields they must have."""
    largest_n_s = {"smoke": 100, "default": 200, "paper": 1000}[preset]  # Fig. S1's largest n_s
    return [dict(model="Gaussian", figure="figS1_gaussian_collapse", family="gaussian", where={"n_s": largest_n_s}),
            dict(model="GMM", figure="fig14_gmm_densities", family="gmm"),
            dict(model="flow", figure="fig17_flow_rosenbrock", family="flow"),
            dict(model="DDPM", figure="fig16_ddpm_more_generations", family="ddpm"),
            dict(model="style GAN", figure="fig06_ddpm_biased", family="gan"),
            dict(model="WGAN-GP", figure="fig13_wgan_fully_synthetic", family="gan")]


FIGURES_LIST = [
    Figure(
        "figS1_gaussian_collapse", "S1 (Sec. 3.1)",
        "Gaussian fully synthetic loop: the mean's random walk and the collapse of the covariance",
        "E[mu_t] = mu_{t-1} (a random walk), E[tr Sigma_t] = lam^(t-1) tr Sigma_1, and Sigma_t -> 0: faster for "
        "smaller lam, slower for larger n_s.",
        {
            "smoke": dict(d=10, n_ini=50, n_s_values=[20, 100], lam_values=[1.0, 0.8], generations=15,
                          replicates=16, seed=PRESET_SEED),
            "default": dict(d=100, n_ini=1000, n_s_values=[50, 200], lam_values=[1.0, 0.95, 0.8],
                            generations=300, replicates=64, seed=PRESET_SEED),
            "paper": dict(d=100, n_ini=1000, n_s_values=[50, 200, 1000], lam_values=[1.0, 0.95, 0.8],
                          generations=3000, replicates=256, seed=PRESET_SEED),
        },
    ),
    Figure(
        "fig01_gan_fingerprint", "1",
        "Style-based GAN analogue of StyleGAN2, fully synthetic loop, lam = 1: samples over generations and the "
        "generator's spectral fingerprint",
        "Training on its own samples amplifies the generator's artifacts: the samples' high-frequency energy in "
        "excess of the real images' grows over generations, and so does their spectral fingerprint (the distance "
        "between the radially averaged power spectra of synthetic and real images).",
        {p: _gan(p, ["unbiased"], [1.0], shown=[1, 2, 3] if p == "smoke" else [1, 3, 5, 7, 9], seed=PRESET_SEED)
         for p in PRESETS},
    ),
    Figure("fig03_loops_schematic", "3", "The three autophagous loops and the sampling bias lam (schematic)", "",
           {p: {} for p in PRESETS}),
    _ddpm_gan_figure(
        "fig04_ddpm_fully_synthetic", "4",
        "Conditional DDPM on MNIST, fully synthetic loop, lam = 1: FID, precision and recall over generations",
        "Without sampling bias the FID rises and both precision and recall fall over generations.",
        lam_values=[1.0], gan_chains=["unbiased"], gan_lam_values=[1.0],
    ),
    _ddpm_figure(
        "fig05_ddpm_tsne", "5",
        "t-SNE of LeNet features of real and synthetic digits over generations (DDPM, lam = 1)",
        "The synthetic classes drift away from the real ones and merge into each other.",
        lam=1.0, shown=4,
    ),
    _ddpm_gan_figure(
        "fig06_ddpm_biased", "6",
        "Conditional DDPM, fully synthetic loop with sampling bias: FID, precision and recall over generations",
        "With bias (guidance) precision does not decay, recall decays faster than at lam = 1, and the FID rises.",
        lam_values=[0.5, 1.0], gan_chains=["biased", "unbiased"], gan_lam_values=[0.7, 1.0],
    ),
    _ddpm_figure(
        "fig07_ddpm_tsne_biased", "7",
        "t-SNE of LeNet features of real and synthetic digits over generations (DDPM, lam = 0.8)",
        "With bias the classes do not merge: each collapses onto itself (tight, well separated clusters).",
        lam=0.8, shown=4, compare_lam=1.0,
    ),
    Figure(
        "fig08_gan_growing_pool", "8",
        "Style-based GAN analogue, synthetic augmentation loop with a growing synthetic pool vs the fully synthetic "
        "loop (lam = 1): FID, precision and recall",
        "Keeping the real data and every earlier synthetic set still raises the FID and lowers precision and "
        "recall, only more slowly than the fully synthetic loop.",
        {p: {"pool": _gan_pool(p), "fully_synthetic": _gan(p, ["unbiased"], [1.0]), "seed": PRESET_SEED}
         for p in PRESETS},
    ),
    Figure(
        "fig09_ddpm_augmentation", "9",
        "Conditional DDPM, synthetic augmentation loop (fixed real set plus synthetic data) for several lam",
        "The FID rises for every lam; with lam < 1 precision can rise while recall falls faster; some lam < 1 "
        "(0.8 in the paper) mitigates best.",
        {
            "smoke": dict(lam_values=[1.0, 0.8], generations=3, n_r=60, n_s=60, seed=PRESET_SEED,
                          model=copy.deepcopy(DDPM_MODEL["smoke"])),
            "default": dict(lam_values=[1.0, 0.8, 0.6], generations=5, n_r=2000, n_s=2000, seed=PRESET_SEED,
                            model=copy.deepcopy(DDPM_MODEL["default"])),
            "paper": dict(lam_values=[1.0, 0.9, 0.8, 0.7, 0.6], generations=10, n_r=60000, n_s=60000, seed=PRESET_SEED,
                          model=copy.deepcopy(DDPM_MODEL["paper"])),
        },
    ),
    # Fig. 10's windows (the last generations a limit averages), in forgetting times tau = (n_r + n_s) / n_r
    # generations (gaussian_studies.LimitRule): the default Gaussian panels run a burn-in of 5 tau and a window of
    # 3 tau (tau = 10: 50 + 30 = 80 generations; paper: 10 + 5 tau). The DDPM panel has tau = 2: the default rule asks
    # 10 + 6 = 16 generations, which `paper` runs; `default`'s budget of 8 generations (~1 min each, 3 chains) halves
    # it, so its burn-in and window get 2 tau each (4 + 4: a trend test needs at least 3 points per chain). Whether a
    # window is long enough after its burn-in is then the data's to say: claims.check_fig10 tests it for a trend.
    Figure(
        "fig10_fresh_data_limit", "10",
        "Fresh data loop: distance to P_r over generations for several n_ini (Gaussian and MNIST DDPM panels)",
        "The distance converges to a limit that does not depend on n_ini (Gaussian: lam = 1 and lam < 1; DDPM).",
        {
            "smoke": dict(d=10, n_ini_values=[20, 200], n_r=20, n_s=60, lam_values=[1.0, 0.8], generations=15,
                          replicates=32, window=5, seed=PRESET_SEED,
                          ddpm=dict(n_ini_values=[40, 100], lam=1.0, generations=4, n_r=40, n_s=40, window=3,
                                    model=copy.deepcopy(DDPM_MODEL["smoke"]))),
            "default": dict(d=100, n_ini_values=[100, 1000, 10000], n_r=100, n_s=900, lam_values=[1.0, 0.9],
                            generations=80, replicates=200, window=30, seed=PRESET_SEED,
                            ddpm=dict(n_ini_values=[250, 1000, 4000], lam=1.0, generations=8, n_r=2000, n_s=2000,
                                      window=4, model=copy.deepcopy(DDPM_MODEL["default"]))),
            "paper": dict(d=100, n_ini_values=[100, 300, 1000, 3000, 10000], n_r=100, n_s=900,
                          lam_values=[1.0, 0.9, 0.8], generations=150, replicates=1000, window=50, seed=PRESET_SEED,
                          ddpm=dict(n_ini_values=[2000, 10000, 60000], lam=1.0, generations=16, n_r=2000, n_s=2000,
                                    window=6, model=copy.deepcopy(DDPM_MODEL["paper"]))),
        },
    ),
    Figure(
        "fig11_admissible_nr_ns", "11",
        "Fresh data loop: n_e / n_r over (n_r, n_s) at a fixed lam < 1, and the admissible region n_e >= n_r",
        "The largest admissible n_s stops growing as n_r grows: synthetic data helps mainly when n_r is small.",
        {
            "smoke": dict(d=10, lam=0.9, n_r_values=[20, 80], n_s_values=[20, 200, 800], replicates=8,
                          curve_replicates=32, rule=_limit_rule(3, 10, 200), seed=PRESET_SEED),
            "default": dict(d=100, lam=0.9, n_r_values=[100, 200, 500, 1000, 2000], n_s_values=_NS_GRID,
                            replicates=12, curve_replicates=100, rule=_limit_rule(10, 100, 1200), seed=PRESET_SEED),
            "paper": dict(d=100, lam=0.9, n_r_values=[50, 100, 200, 500, 1000, 2000, 5000],
                          n_s_values=_NS_GRID + [20000, 50000], replicates=32, curve_replicates=400,
                          rule=_limit_rule(10, 200, 12000), seed=PRESET_SEED),
        },
    ),
    Figure(
        "fig12_admissible_lam_ns", "12",
        "Fresh data loop: n_e / n_r over (lam, n_s) at a fixed n_r, and the admissible region n_e >= n_r",
        "Smaller lam (more sampling bias) shrinks the largest admissible n_s; lam -> 1 admits every n_s tried.",
        {
            "smoke": dict(d=10, n_r=40, lam_values=[0.7, 1.0], n_s_values=[20, 200, 800], replicates=8,
                          curve_replicates=32, rule=_limit_rule(3, 10, 200), seed=PRESET_SEED),
            "default": dict(d=100, n_r=1000, lam_values=[0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0],
                            n_s_values=_NS_GRID, replicates=12, curve_replicates=100,
                            rule=_limit_rule(10, 100, 1200), seed=PRESET_SEED),
            "paper": dict(d=100, n_r=1000, lam_values=[0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0],
                          n_s_values=_NS_GRID + [20000, 50000], replicates=32, curve_replicates=400,
                          rule=_limit_rule(10, 200, 1200), seed=PRESET_SEED),
        },
    ),
    Figure(
        "fig14_gmm_densities", "14",
        "2-D GMM in a fully synthetic loop on the 25-mode grid: fitted densities after 1, 200 and 2000 iterations",
        "The fully synthetic loop gradually loses modes: the last mixture covers clearly fewer modes than the first.",
        {p: {**copy.deepcopy(GMM_CHAIN[p]), "shown": [1, 3, 6] if p == "smoke" else [1, 200, 2000]} for p in PRESETS},
    ),
    Figure(
        "fig15_gmm_diversity", "15",
        "Diversity metrics along the GMM loop of Fig. 14: total variance, average modal variance, recall",
        "Recall and average modal variance track the loss of modes; total variance does not (not as smoothly).",
        {p: copy.deepcopy(GMM_CHAIN[p]) for p in PRESETS},
    ),
    Figure(
        "fig13_wgan_fully_synthetic", "13",
        "WGAN-GP on MNIST, fully synthetic loop (lam = 1): FID, precision and recall over many generations",
        "The FID rises monotonically while precision and recall fall monotonically.",
        {p: {**GAN_SIZES[p], "lam_values": [1.0], "generations": GAN_GENERATIONS[p]["wgan"], "seed": PRESET_SEED,
             "model": copy.deepcopy(WGAN_MODEL[p])} for p in PRESETS},
    ),
    _ddpm_figure(
        "fig16_ddpm_more_generations", "16",
        "Conditional DDPM, fully synthetic loop: every generation and lam side by side",
        "At lam = 1 precision and recall eventually reach zero; smaller lam loses recall faster.",
        lam_values=[1.0, 0.8, 0.5],
    ),
    Figure(
        "fig17_flow_rosenbrock", "17",
        "Glow normalizing flow on the 2-D Rosenbrock density, fully synthetic loop, with and without sampling bias",
        "Over generations the flow's samples lose the tails of the density, with and without bias; faster with "
        "lam < 1.",
        {
            "smoke": dict(lam_values=[1.0, 0.8], generations=3, n=400, replicates=2, shown=[1, 3], seed=PRESET_SEED,
                          model=dict(steps=2, hidden=16, epochs=2, batch_size=128, n_eval=400, n_ot=200,
                                     n_keep=200)),
            # the paper's sizes; lam = 0.8 is our choice (the paper does not give its lam < 1)
            "default": dict(lam_values=[1.0, 0.8], generations=16, n=10000, replicates=1, shown=[1, 4, 8, 16],
                            seed=PRESET_SEED, model=dict(steps=8, hidden=64, epochs=20, batch_size=256, n_eval=10000,
                                               n_ot=2000, n_keep=2000)),
            "paper": dict(lam_values=[1.0, 0.8], generations=16, n=10000, replicates=5, shown=[1, 4, 8, 16],
                          seed=PRESET_SEED, model=dict(steps=8, hidden=64, epochs=20, batch_size=256, n_eval=10000,
                                             n_ot=2000, n_keep=2000)),
        },
    ),
    _ddpm_figure(
        "fig26_ddpm_samples", "26",
        "Random DDPM samples per generation, fully synthetic loop, lam = 1",
        "Without bias the digits drift and become illegible (LeNet reads fewer of them as their class).",
        lam=1.0, shown=5,
    ),
    _ddpm_figure(
        "fig27_ddpm_samples_biased", "27",
        "Random DDPM samples per generation, fully synthetic loop, lam = 0.8",
        "With bias each class collapses onto a few images (its samples spread less and less).",
        lam=0.8, shown=5,
    ),
    Figure(
        "fig18_gan_unbiased_samples", "18-22",
        "Style-based GAN analogue, fully synthetic loop, lam = 1: random samples at generations 1, 3, 5, 7 and 9",
        "",
        {p: _gan(p, ["unbiased"], [1.0], shown=[1, 2, 3] if p == "smoke" else [1, 3, 5, 7, 9], seed=PRESET_SEED)
         for p in PRESETS},
    ),
    Figure(
        "fig23_gan_biased_samples", "23-25",
        "Style-based GAN analogue, fully synthetic loop, lam = 0.7 (truncation): random samples at generations 1, 3 "
        "and 5",
        "With truncation the diversity of the samples shrinks visibly over generations (recall and coverage fall).",
        {p: _gan(p, ["biased"], [0.7], shown=[1, 2, 3] if p == "smoke" else [1, 3, 5], seed=PRESET_SEED)
         for p in PRESETS},
    ),
    Figure(
        "fig28_gan_pool_samples", "28-29",
        "Style-based GAN analogue, synthetic augmentation loop with a growing pool (lam = 1): random samples at "
        "generations 3 and 6",
        "",
        {p: {**_gan_pool(p), "shown": [2, 3] if p == "smoke" else [3, 6], "seed": PRESET_SEED} for p in PRESETS},
    ),
    Figure(
        "fig30_memory", "30",
        "Fresh data loop sampling from the last K models: n_e / n_r against the memory K",
        "n_e / n_r grows with K, with diminishing returns.",
        {
            "smoke": dict(d=10, n_r=50, n_s=500, lam=1.0, memory_values=[1, 2, 4], replicates=8,
                          curve_replicates=32, rule=_limit_rule(3, 10, 300), seed=PRESET_SEED),
            "default": dict(d=100, n_r=1000, n_s=10000, lam=1.0, memory_values=[1, 2, 3, 4, 6, 8, 12, 16],
                            replicates=12, curve_replicates=100, rule=_limit_rule(10, 100, 1200), seed=PRESET_SEED),
            "paper": dict(d=100, n_r=1000, n_s=10000, lam=1.0, memory_values=[1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20],
                          replicates=32, curve_replicates=400, rule=_limit_rule(10, 200, 2000), seed=PRESET_SEED),
        },
    ),
    Figure(
        "fig31_real_fraction", "31",
        "Fresh data loop with a real fraction p of n samples: WD against n for several p (lam = 1) and several lam",
        "WD falls as n grows, more slowly when p < 1; with lam < 1 the decrease flattens (sub-linear).",
        {
            "smoke": dict(d=10, n_values=[50, 200, 800], p_values=[1.0, 0.5], lam_values=[1.0, 0.9], p_fixed=0.5,
                          replicates=8, rule=_limit_rule(3, 10, 100), seed=PRESET_SEED),
            "default": dict(d=100, n_values=[100, 300, 1000, 3000, 10000, 30000, 100000, 300000, 1000000],
                            p_values=[1.0, 0.75, 0.5, 0.25], lam_values=[1.0, 0.99, 0.95, 0.9], p_fixed=0.5,
                            replicates=12, rule=_limit_rule(10, 100, 400), seed=PRESET_SEED),
            "paper": dict(d=100, n_values=sorted([10**k for k in range(2, 8)] + [3 * 10**k for k in range(2, 7)]),
                          p_values=[1.0, 0.9, 0.75, 0.5, 0.25, 0.1], lam_values=[1.0, 0.99, 0.95, 0.9, 0.8],
                          p_fixed=0.5, replicates=32, rule=_limit_rule(10, 200, 600), seed=PRESET_SEED),
        },
    ),
    # Beyond the paper (numbers X1, ...: ours, listed after the paper's figures). Fig. X1: N samples per generation
    # (the real set of generation 1 and each synthetic set); accumulate-subsample trains on N drawn from the pool.
    # default: 7 minutes of one-thread chain time (measured; GMM accumulate takes 5.4 of them: it refits the pool).
    Figure(
        "figX1_replace_accumulate", "X1",
        "Beyond the paper: replace, accumulate and accumulate-subsample beside the fresh data loop (Gaussian d = 1 "
        "and d = 100, 2-D GMM): error of the mean, variance kept and WD over generations",
        "Replacing the data by each generation's samples diverges; accumulating them beside the real data stays "
        "bounded (Gerstgrasser et al. 2024); drawing a fixed-size training set from that pool lies in between "
        "(Kazdan et al. 2024).",
        {
            "smoke": dict(gaussian=dict(d_values=[1, 4], n_values=[20, 20], replicate_values=[16, 4], generations=8),
                          gmm=dict(n=300, generations=4, replicates=2, model=dict(n_eval=200)), p_real=0.1,
                          seed=PRESET_SEED),
            "default": dict(gaussian=dict(d_values=[1, 100], n_values=[100, 200], replicate_values=[200, 10],
                                          generations=100),
                            gmm=dict(n=1000, generations=100, replicates=10, model=dict(n_eval=1000)), p_real=0.1,
                            seed=PRESET_SEED),
            "paper": dict(gaussian=dict(d_values=[1, 100], n_values=[100, 200], replicate_values=[1000, 40],
                                        generations=200),
                          gmm=dict(n=1000, generations=200, replicates=20, model=dict(n_eval=2000)), p_real=0.1,
                          seed=PRESET_SEED),
        },
    ),
    # Fig. X2 computes nothing of its own: it reads the fully synthetic chains of the figures named in its sources.
    Figure(
        "figX2_sampling_bias", "X2",
        "Beyond the paper: each model's own sampling bias. Dispersion kept per generation against its own training "
        "set and against the real data, at nominal lam = 1 and at the paper's biased settings, and the effective lam "
        "of every model",
        "At nominal lam = 1 the image models (DDPM, style GAN, WGAN-GP) keep at least 95% of their training data's "
        "spread per generation (effective lam >= 0.95: in LeNet features, within-class for the DDPM), so their lam = 1 "
        "loops can stand for the paper's unbiased loop.",
        {p: dict(sources=_x2_sources(p), preset=p, generations=16, seed=PRESET_SEED) for p in PRESETS},
    ),
]


def is_beyond_paper(figure: Figure) -> bool:
    """Figures numbered X1, X2, ...: ours, not the paper's (the gallery marks them and lists them last)."""
    return figure.number.startswith("X")


def _number_order(figure: Figure) -> tuple[int, int]:
    """Sort key of a figure number: the supplementary S1 first, then 1, 3, 4, ..., 18-22 by its first number, then
    ours (X1, X2, ...)."""
    text = figure.number
    digits = "".join(c for c in text.removeprefix("S").removeprefix("X").split()[0].split("-")[0] if c.isdigit())
    return (2 if is_beyond_paper(figure) else 0 if text.startswith("S") else 1, int(digits))


# The paper's order: the gallery lists figures in it and `madlib figures` runs them in it (so Fig. 1 computes the
# GAN chain that Figs. 4 and 18-22 then read from the store).
FIGURES_LIST.sort(key=_number_order)
FIGURES = {f.stem: f for f in FIGURES_LIST}


def default_preset() -> str:
    """$MADLIB_PRESET when set (nbval runs the smoke preset this way), else 'default'."""
    return os.environ.get("MADLIB_PRESET", "default")


SIZE_KEYS = ("replicates", "n_eval", "generations")  # what a power calculation's "more data" can mean


def paper_scale(figure: str) -> dict[str, float]:
    """How many times the `default` sizes the `paper` preset runs, per kind of size (SIZE_KEYS, wherever they sit in
    the figure's nested settings; the smallest ratio where a kind appears more than once), so that a reader can set
    an undecided check's "about N x the data" against what the paper preset would bring."""
    def sizes(settings: Any, found: dict[str, list]) -> dict[str, list]:
        for key, value in settings.items() if isinstance(settings, dict) else ():
            if key in SIZE_KEYS:
                found.setdefault(key, []).append(max(np.atleast_1d(value)))
            sizes(value, found)
        return found

    default, paper = sizes(resolve(figure, "default"), {}), sizes(resolve(figure, "paper"), {})
    return {key: float(min(b / a for a, b in zip(default[key], paper[key]))) for key in SIZE_KEYS if key in default}


def resolve(figure: str, preset: str | None = None, seed: int | None = None, overrides: Any = None,
            **more) -> dict[str, Any]:
    """One figure's settings at a preset, with overrides of existing settings; one clear error for bad input.

    `overrides` maps settings to new values: a dict, or a JSON or YAML string of one (papermill's
    ``-p overrides '{"generations": 5}'`` passes a string). Keyword arguments (`more`) are further overrides. A group
    of settings (a nested dict, e.g. ``{"ddpm": {"lam": 0.5}}``) is merged key by key, so only the keys given change;
    every key must be a setting already, except inside a ``model`` group (model keyword arguments, checked by the
    model's constructor). `seed`, when not None, replaces the figure's ``seed`` setting.
    """
    if figure not in FIGURES:
        raise ValueError(f"figure: unknown {figure!r}; choose one of {', '.join(FIGURES)}")
    preset = preset or default_preset()
    if preset not in PRESETS:
        raise ValueError(f"preset: unknown {preset!r}; choose one of {', '.join(PRESETS)}")
    changes = _parse_overrides(overrides)
    for key, value in more.items():
        if key in changes:
            raise ValueError(f"{key}: given both in overrides ({changes[key]!r}) and as a keyword argument "
                             f"({value!r}); give it once")
        changes[key] = value
    settings = copy.deepcopy(FIGURES[figure].presets[preset])
    if seed is not None:
        if "seed" in changes:
            raise ValueError(f"seed: given both as the seed argument ({seed!r}) and in overrides "
                             f"({changes['seed']!r}); give it once (a notebook passes its `seed` parameter: set that, "
                             f"e.g. papermill -p seed {changes['seed']!r})")
        if "seed" not in settings:
            raise ValueError(f"seed: {figure} has no seed setting (its settings are "
                             f"{', '.join(settings) or 'none'}); leave seed as None")
        changes["seed"] = seed
    _merge(figure, settings, changes)
    _validate(figure, settings)
    return settings


_OVERRIDES_HELP = ("pass a mapping of settings to new values (a dict, or a JSON or YAML string of one), or use "
                   "papermill's -y form, e.g. papermill nb.ipynb out.ipynb -y 'overrides: {generations: 5}'")


def _parse_overrides(overrides: Any) -> dict[str, Any]:
    """`overrides` as a dict: None is no override; a string is read as JSON, else as YAML (when PyYAML is there)."""
    from collections.abc import Mapping

    if overrides is None:
        return {}
    parsed = overrides
    if isinstance(overrides, str):
        parsed = _parse_text(overrides)
        if parsed is None:  # an empty string or a null
            return {}
    if not isinstance(parsed, Mapping):
        raise ValueError(f"overrides: must be a mapping, got {type(parsed).__name__} {overrides!r}; {_OVERRIDES_HELP}")
    bad = [key for key in parsed if not isinstance(key, str)]
    if bad:
        raise ValueError(f"overrides: setting names must be strings; got {bad}; {_OVERRIDES_HELP}")
    return dict(parsed)


def _parse_text(text: str) -> Any:
    import json

    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        json_error = error
    try:
        import yaml
    except ImportError:
        raise ValueError(f"overrides: cannot read {text!r} as JSON ({json_error}); {_OVERRIDES_HELP}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        problem += f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"overrides: cannot read {text!r} as JSON or YAML ({problem}); {_OVERRIDES_HELP}") from None


def _merge(figure: str, settings: dict[str, Any], changes: dict[str, Any], path: str = "", free: bool = False) -> None:
    """Apply `changes` to `settings` in place, merging nested groups key by key (`path`: the dotted prefix of
    `settings`; `free`: inside a ``model`` group, where new keys are allowed)."""
    from collections.abc import Mapping

    for key, value in changes.items():
        name = f"{path}{key}"
        if key not in settings:
            if free:
                settings[key] = copy.deepcopy(value)
                continue
            group = f"its {path[:-1]} settings" if path else "its settings"
            raise ValueError(f"{name}: not a setting of {figure}; {group} are {', '.join(settings) or 'none'}")
        current = settings[key]
        if isinstance(current, dict):
            if not isinstance(value, Mapping):
                example = next(iter(current), "...")
                raise ValueError(f"{name}: a group of settings ({', '.join(current) or 'none'}); override keys inside "
                                 f"it with a mapping, e.g. {{{key!r}: {{{example!r}: ...}}}}; got {value!r}")
            _merge(figure, current, dict(value), name + ".", free or key == "model")
        else:
            settings[key] = copy.deepcopy(value)


def _validate(figure: str, settings: dict[str, Any], path: str = "") -> None:
    """Check the settings and, walking nested groups, theirs (named by dotted path, e.g. ddpm.window)."""
    for key, value in settings.items():
        name = f"{path}{key}"
        if isinstance(value, dict):
            _validate(figure, value, name + ".")
        elif key.startswith("lam") or key.startswith("p_"):
            _check_each(figure, name, value, _is_unit, "a number in [0, 1]", "numbers in [0, 1]")
        elif key in ("d", "replicates", "generations", "curve_replicates") or key.endswith("_values"):
            _check_each(figure, name, value, lambda v: _is_int(v, 1), "a positive integer", "positive integers")
        elif key == "seed" and not _is_int(value, 0):
            raise ValueError(f"{name}: must be an integer >= 0; got {value!r} in {figure}")
    if "window" in settings:
        _validate_window(figure, settings, path)


def _check_each(figure: str, name: str, value: Any, good, one: str, many: str) -> None:
    """A single value must be `one`; a list of settings (e.g. lam_values) must be a non-empty list of `many`."""
    if not isinstance(value, list):
        if not good(value):
            raise ValueError(f"{name}: must be {one}; got {value!r} in {figure}")
        return
    if not value:
        raise ValueError(f"{name}: must be a non-empty list of {many}; got {value!r} in {figure}")
    bad = [v for v in value if not good(v)]
    if bad:
        raise ValueError(f"{name}: values must be {many}; got {bad} in {figure}")


def _validate_window(figure: str, settings: dict[str, Any], path: str) -> None:
    """`window` (the last generations a limit averages) lies in 1..generations of its own group (1..max_generations
    in a limit rule)."""
    window = settings["window"]
    bound_key = next((k for k in ("generations", "max_generations") if k in settings), None)
    bound = settings.get(bound_key)
    if isinstance(bound, list):
        bound = min(bound) if bound else None
    if not _is_int(bound, 1):
        bound = None
    if not _is_int(window, 1) or (bound is not None and window > bound):
        allowed = f"1..{bound} ({path}{bound_key} = {bound})" if bound is not None else ">= 1"
        raise ValueError(f"{path}window: the number of last generations averaged must be an integer in {allowed}; "
                         f"got {window!r} in {figure}")


def _is_int(value: Any, minimum: int) -> bool:
    """An integer (Python or numpy, not a bool) >= minimum."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum


def _is_unit(value: Any) -> bool:
    """A real number (Python or numpy, not a bool, not NaN) in [0, 1]; numpy bools are not numbers.Real."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 <= value <= 1.0


PUBLISH_ENV = "MADLIB_PUBLISH"  # set to 1 by `madlib figures` (the batch regeneration) for its notebooks' kernels


def output_dir(preset: str) -> Path:
    """Where the batch regeneration (`madlib figures`) writes a preset's figures, data and claims.json: $MADLIB_OUT,
    else paper_figures/ (default and paper presets) or build/smoke/ (smoke, so tests never overwrite the committed
    figures)."""
    if os.environ.get("MADLIB_OUT"):
        return Path(os.environ["MADLIB_OUT"])
    return ROOT / ("build/smoke" if preset == "smoke" else "paper_figures")


def exploring_dir(preset: str) -> Path:
    """Where any other run of a notebook writes (from Lab, papermill by hand, or with overrides or another seed):
    $MADLIB_OUT, else build/explore/<preset>/ (build/smoke/ for smoke, which is never published: tests write there)."""
    if os.environ.get("MADLIB_OUT"):
        return Path(os.environ["MADLIB_OUT"])
    return ROOT / "build" / ("smoke" if preset == "smoke" else f"explore/{preset}")


@dataclass(frozen=True)
class Output:
    """Where one notebook run writes its figure, data and claim, and what it ran with (recorded in claims.json)."""

    folder: Path
    preset: str
    seed: int | None = None
    overrides: dict = field(default_factory=dict)
    published: bool = False  # True only for the batch regeneration at the preset's own settings

    def provenance(self) -> dict[str, Any]:
        import madlib

        return {"preset": self.preset, "seed": self.seed, "overrides": self.overrides, "madlib": madlib.__version__}


def output(preset: str, seed: int | None = None, overrides: Any = None) -> Output:
    """Where a notebook run writes, printed so the reader knows. Only the batch regeneration (`madlib figures`, which
    sets $MADLIB_PUBLISH=1) running a preset's own settings (no overrides, the default seed) writes output_dir(preset),
    i.e. paper_figures/ at default; every other run (JupyterLab, papermill by hand, any override or seed) writes
    exploring_dir(preset), so exploring never changes the committed results."""
    if preset not in PRESETS:
        raise ValueError(f"preset: unknown {preset!r}; choose one of {', '.join(PRESETS)}")
    changes = _parse_overrides(overrides)
    own_settings = not changes and seed in (None, PRESET_SEED)
    published = os.environ.get(PUBLISH_ENV) == "1" and own_settings
    folder = output_dir(preset) if published else exploring_dir(preset)
    where = _relative(folder)
    if published:
        print(f"writing the figure, its data and its claim to {where}/ (batch regeneration)")
    else:
        print(f"writing the figure, its data and its claim to {where}/ (exploring: only `madlib figures` writes "
              "paper_figures/)")
    return Output(folder, preset, seed, changes, published)


def _relative(folder: Path) -> str:
    try:
        return str(Path(folder).resolve().relative_to(ROOT))
    except ValueError:
        return str(folder)
