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
# # Fig. 30 (Appendix G, experiment 1) — Sampling synthetic data from the last K models
#
# Gaussian fresh data loop in which each synthetic sample comes from one of the last `K` generations' models, chosen
# uniformly at random (`memory=K` in `madlib`). For each K the loop runs to its limit and the effective sample size
# n_e (eq. 4) is divided by n_r. Error bars: +-2 SE (limit and reference curve are both Monte Carlo).
#
# **The paper's claim.** n_e / n_r grows with K, but each further model helps less (diminishing returns).
#
# **Setting.** The paper's: d = 100, n_r = 10^3, n_s = 10^4, lam = 1.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"memory_values": [1, 2, 4, 8, 16, 32]}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig30_memory"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig30(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
