# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 4 — Conditional DDPM on MNIST, fully synthetic loop without bias (lam = 1)
#
# Generation 1 trains a class-conditional DDPM on real digits; every later generation trains a fresh one only on
# `n_s` class-balanced samples of the previous generation (each sample keeps the class it was drawn for). Each
# generation is scored on `n_eval` of its own samples against held-out real digits, in the 84-dimensional feature
# space of a LeNet-5 trained on the real training digits: FID (squared Frechet distance of Gaussian fits), and
# precision and recall of Kynkaanniemi et al. with k = 5. Bands: +-2 SE of one evaluation (binomial for the rates,
# bootstrap for FID); a single chain, so training noise between generations shows as wiggles.
#
# **The paper's claim.** Without sampling bias the FID rises and both precision and recall fall over generations.
#
# **Setting vs the paper.** The paper trains a pixel-space DDPM (T = 500) on the 60k MNIST digits. The `default`
# preset runs on a 2-core CPU: a DDPM over the 24-dimensional code of a small convolutional autoencoder with an MLP
# denoiser (both retrained every generation; same T = 500 schedule, same guidance), trained on the 4,000 offline `mnist-5k` training digits (n_ini = 4,000,
# then n_s = 2,000 synthetic digits per generation, 10 generations), scored against the 1,000 held-out digits.
# The `paper` preset runs the UNet on the full MNIST. **GAN row (an analogue):** the paper's second row is StyleGAN2
# on FFHQ-128 (70k images); here it is the style-based GAN of Fig. 1 on the same digits (`default`: 4,000 `mnist-5k`
# digits, n_s = 4,000, 9 generations), the same chain as Fig. 1's (one run store entry).
#
# **Seeds.** Every chain's seed is derived from the master `seed` and the chain's setting, so the figures that show
# a chain (this lam = 1 DDPM chain: Figs. 5, 16 and 26) read the same store entry.
#
# **Finding at `default`: precision does not fall.** With the calibrated models (generation-1 FID 14.5 for the
# DDPM, 19.0 for the GAN), the FID rises (DDPM 14.5 -> 137, GAN 19 -> 102) and recall collapses (0.89 -> 0.02,
# 0.81 -> 0.19), but precision stays where it started (0.96 -> 0.95, 0.90 -> 0.92): the samples stay inside the real
# digits' LeNet-feature manifold while covering less and less of it. The paper's falling precision is not reproduced
# by these models on 4,000 digits.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"ddpm": {"generations": 15}}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig04_ddpm_fully_synthetic"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig04(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
