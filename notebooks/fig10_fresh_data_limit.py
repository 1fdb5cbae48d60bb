# ---
# jupyter:
#   jupytext:
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
# # Fig. 10 — Fresh data loop: the limit does not depend on the first model
#
# Generation 1 is fit on `n_ini` real samples of P_r = N(0, I_d); every later generation on `n_r` fresh real samples
# plus `n_s` samples of the previous generation drawn with bias `lam`. The curves are the mean WD (unsquared
# 2-Wasserstein distance to P_r, closed form) over replicates, with +-2 SE bands. The limit of a run is its
# per-replicate average WD over the last `window` generations.
#
# **The paper's claim.** The WD converges to a value that depends on (`n_r`, `n_s`, `lam`) but not on `n_ini`, with
# and without sampling bias.
#
# **Setting.** Gaussian panels: the paper's, d = 100, n_r = 100, n_s = 900, n_ini from 10^2 to 10^4, lam = 1 and
# lam = 0.9. **DDPM panel** (right): the conditional DDPM of Fig. 4 in the fresh data loop, FID on LeNet features
# against generation for several n_ini, lam = 1. The paper: pixel-space DDPM on the 60k MNIST, n_r = n_s = 2k.
# `default`: n_r = n_s = 2,000 digits drawn each generation from the 4,000 offline `mnist-5k` training digits (so
# "fresh" draws overlap between generations), n_ini in {250, 1,000, 4,000}, 4 generations of the PCA-latent MLP
# DDPM on the CPU. Its limit is the mean FID over the last `window` generations, with the spread of those
# generations as its SE.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every generation and replicate draws from streams split off it
overrides = {}  # e.g. {"lam_values": [1.0, 0.7]}

# %%
import pandas as pd

from madlib import claims, ddpm_studies, gaussian_studies, plotting, presets

STEM = "fig10_fresh_data_limit"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
ddpm_settings = settings.pop("ddpm")
gaussian = gaussian_studies.fresh_data_curves(**settings)

# %%
window = ddpm_settings.pop("window")
ddpm = ddpm_studies.fresh_data(seed=seed, **ddpm_settings)
ddpm_limits = ddpm_studies.limits(ddpm, by="n_ini", metric="fid", window=window)
caption = ddpm_studies.describe(ddpm_settings["model"], n_r=ddpm_settings["n_r"], n_s=ddpm_settings["n_s"])
data = pd.concat([gaussian, ddpm, ddpm_limits], ignore_index=True)
fig = plotting.fig10(gaussian, ddpm, caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
