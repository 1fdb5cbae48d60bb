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
# # Figs. 23-25 — Random samples of the GAN analogue's fully synthetic loop with truncation lam = 0.7, generations 1, 3, 5
#
# Every generation samples with truncation psi = lam = 0.7: each style vector is pulled 30% of the way toward the
# average style before it drives the generator. Random samples of the chain (the lam = 0.7 row of Fig. 6, read from
# the run store), one mosaic per shown generation, with its FID, recall and spectral distance below.
#
# **The paper's claim.** With truncation the artifacts spread less but the diversity of the samples shrinks visibly;
# checked here by recall and coverage (the share of real digits whose neighbourhood holds a sample) falling.
#
# **Setting vs the paper — an analogue.** The paper shows StyleGAN2 on FFHQ-128 with lam = 0.7; here the style-based
# GAN of Fig. 1 on MNIST digits (`default`: 4,000 `mnist-5k` digits, n_s = 4,000, 5 generations).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": [1, 5]}; with papermill: -y 'overrides: {shown: [1, 5]}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig23_gan_biased_samples"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.gan_samples(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
