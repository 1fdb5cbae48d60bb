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
# # Figs. 28-29 — Random samples of the GAN analogue's growing-pool augmentation loop, lam = 1, generations 3 and 6
#
# Random samples of the growing-pool chain of Fig. 8 (read from the run store): each generation trained on the fixed
# real images plus every earlier synthetic set. Below each mosaic: its FID, recall and spectral distance. Generation 1
# trains the GAN of Figs. 18-22 on as many real images, but with the pool chain's own seed (derived from the master
# seed and the chain's setting), so its samples differ from those of Fig. 18.
#
# **The paper's claim.** None beyond the pictures (the paper's Appendix F shows the artifacts appearing less often
# than in the fully synthetic loop; Fig. 8's notebook compares the two loops with numbers).
#
# **Setting vs the paper — an analogue.** The paper shows StyleGAN2 on FFHQ-128 with a pool of (t - 1) x 70k synthetic
# and 70k real images; here the style-based GAN of Fig. 1 on MNIST (`default`: n_r = n_s = 4,000).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": [2, 4, 6]}; with papermill: -y 'overrides: {shown: [2, 4, 6]}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig28_gan_pool_samples"
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
