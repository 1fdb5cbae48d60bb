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
# # Fig. 27 — Random DDPM samples per generation, fully synthetic loop, lam = 0.8
#
# Samples of the lam = 0.8 chain of Fig. 7 (read from the run store): a row per class, drawn for that class. Under
# each generation's samples, two numbers: the spread of each class around its centroid (relative to real digits) and
# the recall.
#
# **The paper's claim.** With bias each class collapses onto a few images.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: autoencoder-latent MLP DDPM on the 4,000 `mnist-5k` digits).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": 10}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig27_ddpm_samples_biased"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig27(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
