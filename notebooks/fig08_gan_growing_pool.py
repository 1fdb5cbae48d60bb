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
# # Fig. 8 — Synthetic augmentation loop with a growing synthetic pool vs the fully synthetic loop (GAN analogue)
#
# Generation t of the *growing pool* loop trains a fresh GAN on the fixed real training set (generation 1's data,
# `n_r` images) plus every synthetic set drawn so far: (t - 1) x `n_s` samples, each set drawn without bias from the
# generation before it. The fully synthetic chain of Fig. 1 (same GAN, same sizes) is drawn beside it, read from the
# run store. Each chain's seed is derived from the master seed and the chain's setting, so the two loops are
# independent runs (their first generations are two draws of the same training). FID, precision and recall on LeNet
# features against held-out real digits; bands +-2 evaluation SE.
#
# **The paper's claim.** Keeping the real data and all earlier synthetic data does not stop the decline: FID still
# rises and precision and recall still fall, only more slowly than in the fully synthetic loop.
#
# **Setting vs the paper — an analogue.** The paper runs StyleGAN2 on FFHQ-128 with n_r = 70k real and (t - 1) x 70k
# synthetic images. `default`: the style-based GAN of Fig. 1 on the 4,000 `mnist-5k` digits, n_r = n_s = 4,000,
# 6 generations (so generation 6 trains on 4,000 real and 20,000 synthetic digits).
#
# **Finding at `default`: precision does not fall.** In the growing pool the FID rises (12.6 -> 21.1) and recall
# falls (0.91 -> 0.76), far more slowly than in the fully synthetic loop (FID 67 at t = 6), but precision stays flat
# (0.885 -> 0.896), as in every unbiased image loop here (Fig. 4).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"pool": {"generations": 4}}; with papermill: -y 'overrides: {pool: {generations: 4}}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig08_gan_growing_pool"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig08(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
