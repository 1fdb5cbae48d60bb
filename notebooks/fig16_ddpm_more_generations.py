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
# # Fig. 16 — Conditional DDPM, fully synthetic loop: all generations and lam side by side
#
# The fully synthetic chains of Figs. 4, 6 and 7 (lam = 1, 0.8, 0.5) together, read from the run store, with the
# class statistics beside FID, precision and recall.
#
# **The paper's claim.** At lam = 1 precision and recall eventually reach zero; a smaller lam loses recall faster.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: 10 generations of the autoencoder-latent MLP DDPM on the 4,000
# `mnist-5k` digits; the `paper` preset runs the UNet on the full MNIST).
#
# **Finding at `default`: precision does not reach zero, and lam = 0.5 keeps more recall in the end.** At lam = 1
# recall reaches 0.02 by generation 10 but precision stays at 0.95 (Fig. 4). Smaller lam loses recall faster at first
# (generation 2: 0.27 at lam = 0.5, 0.57 at 0.8, 0.70 at 1), and lam = 0.8 reaches 0.000 by generation 10; but lam = 0.5
# levels off near 0.08 while lam = 1 keeps falling, so at the last generation lam = 0.5 is not the lowest.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"generations": 20}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig16_ddpm_more_generations"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig16(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
