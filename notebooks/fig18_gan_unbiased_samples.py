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
# # Figs. 18-22 — Random samples of the GAN analogue's fully synthetic loop, lam = 1, at generations 1, 3, 5, 7, 9
#
# Random samples (not picked) of the chain of Fig. 1, read from the run store: one mosaic per generation, with the
# generation's FID, recall and spectral distance printed below.
#
# **The paper's claim.** None beyond the pictures (the paper's Appendix C shows them to let the reader see the
# artifacts grow; Fig. 1's notebook checks that with a number).
#
# **Setting vs the paper — an analogue.** The paper shows StyleGAN2 samples on FFHQ-128; here the style-based GAN of
# Fig. 1 on MNIST digits (`default`: 4,000 `mnist-5k` digits, n_s = 4,000).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": [1, 5, 9]}; with papermill: -y 'overrides: {shown: [1, 5, 9]}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig18_gan_unbiased_samples"
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
