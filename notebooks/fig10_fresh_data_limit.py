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
# # Fig. 10 — Fresh data loop: the limit does not depend on the first model (Gaussian panel)
#
# Generation 1 is fit on `n_ini` real samples of P_r = N(0, I_d); every later generation on `n_r` fresh real samples
# plus `n_s` samples of the previous generation drawn with bias `lam`. The curves are the mean WD (unsquared
# 2-Wasserstein distance to P_r, closed form) over replicates, with +-2 SE bands. The limit of a run is its
# per-replicate average WD over the last `window` generations.
#
# **The paper's claim.** The WD converges to a value that depends on (`n_r`, `n_s`, `lam`) but not on `n_ini`, with
# and without sampling bias.
#
# **Setting.** The paper's: d = 100, n_r = 100, n_s = 900, n_ini from 10^2 to 10^4, lam = 1 and lam = 0.9.
# **The DDPM panel** (MNIST, n_r = n_s = 2k) is not here yet: it comes with the MNIST issue and will be added below
# as a second study on the same figure.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every generation and replicate draws from streams split off it
overrides = {}  # e.g. {"lam_values": [1.0, 0.7]}

# %%
from madlib import claims, gaussian_studies, plotting, presets

STEM = "fig10_fresh_data_limit"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
data = gaussian_studies.fresh_data_curves(**settings)
fig = plotting.fig10(data)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %% [markdown]
# ### DDPM panel (MNIST) — placeholder
# To be filled by the MNIST issue: a fresh data loop of the conditional DDPM with n_r = n_s = 2k and several n_ini,
# FID on LeNet features against generation.

# %%
print(claims.show(claims.check(STEM, data, preset)))
