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
# # Fig. 1 — A GAN trained on its own samples: artifacts over generations (analogue of StyleGAN2 on FFHQ)
#
# A fully synthetic loop without sampling bias (lam = 1): generation 1 trains a style-based GAN on real digits, every
# later generation trains a fresh one only on `n_s` samples of the previous generation. Top: random samples of the
# shown generations. Bottom: the generator's *fingerprint* as numbers. For each generation we average the 2-D power
# spectrum of its samples over images and rings of equal spatial frequency (the radially averaged power spectrum) and
# compare it with the held-out real digits' spectrum: the spectral distance is the mean absolute difference of the two
# in log10 power, and the high-frequency ratio is the share of energy above half the Nyquist frequency, synthetic over
# real (1 = the real images' share). Bands: +-2 bootstrap SE over the evaluated samples.
#
# **The paper's claim.** Each generation amplifies the generator's artifacts (StyleGAN2's cross-hatching); here the
# claim is checked by numbers: the high-frequency excess of the samples over the real images (the high-frequency
# ratio above 1) grows over generations, and so does the spectral distance (a second check).
#
# **Finding at `default`: contradicted.** The spectral distance grows, but the samples' high-frequency energy falls
# relative to the real digits' over every generation: the images get smoother, not more cross-hatched. What grows
# here is blur, the opposite of the paper's amplified artifacts (the claim cell below gives the numbers).
#
# **Setting vs the paper — an analogue.** The paper trains StyleGAN2 on FFHQ at 128 x 128 with 70k images per
# generation; neither the data nor the compute is available here. The `default` preset trains a small style-based GAN
# (mapping network to a style space, convolutional generator with upsampling, see `madlib.models.gan`) on the 4,000
# offline `mnist-5k` digits, 9 generations of n_s = 4,000. Pass `overrides={"model": {..., "dataset": "<folder>"}}`
# to train it on your own images (e.g. FFHQ), and `preset="paper"` for the full MNIST on a GPU.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": [1, 5, 9]}; with papermill: -y 'overrides: {shown: [1, 5, 9]}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig01_gan_fingerprint"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig01(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
