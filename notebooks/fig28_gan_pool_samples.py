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
# is the same model as in Figs. 18-22.
#
# **The paper's claim.** None beyond the pictures (the paper's Appendix F shows the artifacts appearing less often
# than in the fully synthetic loop; Fig. 8's notebook compares the two loops with numbers).
#
# **Setting vs the paper — an analogue.** The paper shows StyleGAN2 on FFHQ-128 with a pool of (t - 1) x 70k synthetic
# and 70k real images; here the style-based GAN of Fig. 1 on MNIST (`default`: n_r = n_s = 4,000).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chain
overrides = {}  # e.g. {"shown": [2, 4, 6]}

# %%
from madlib import claims, gan_studies, plotting, presets

STEM = "fig28_gan_pool_samples"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
shown = settings.pop("shown")
data, history = gan_studies.growing_pool(**settings)
fig = plotting.image_mosaics(gan_studies.grids(history, shown),
                             title="GAN analogue, growing synthetic pool, lam = 1: random samples",
                             caption=gan_studies.sample_caption(data, shown))
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
