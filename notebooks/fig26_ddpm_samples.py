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
# # Fig. 26 — Random DDPM samples per generation, fully synthetic loop, lam = 1
#
# Samples of the chain of Fig. 4 (read from the run store): a row per class, drawn for that class. Under each
# generation's samples, two numbers: how often LeNet reads a sample as the class it was drawn for, and the FID.
#
# **The paper's claim.** Without bias the digits drift and become illegible.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: autoencoder-latent MLP DDPM on the 4,000 `mnist-5k` digits).
#
# **Finding at `default`: the digits stay legible.** Over 10 generations the FID rises from 14.5 to 137 (the
# samples drift from the real digits and lose their variety), but LeNet still reads 90% of them as their class
# (0.92 at generation 1): the drift has not yet made them illegible.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": 10}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig26_ddpm_samples"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig26(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
