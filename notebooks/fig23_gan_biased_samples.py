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
seed = 0  # master seed of the chain
overrides = {}  # e.g. {"shown": [1, 5]}

# %%
from madlib import claims, gan_studies, plotting, presets

STEM = "fig23_gan_biased_samples"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
shown = settings.pop("shown")
data, histories = gan_studies.fully_synthetic(**settings)
fig = plotting.image_mosaics(gan_studies.grids(histories[0.7], shown),
                             title="GAN analogue, fully synthetic loop, lam = 0.7: random samples",
                             caption=gan_studies.sample_caption(data, shown))
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
