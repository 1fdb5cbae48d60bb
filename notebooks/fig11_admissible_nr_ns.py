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
# # Fig. 11 — Fresh data loop: how much synthetic data is admissible as real data grows
#
# For each (`n_r`, `n_s`) a Gaussian fresh data loop (d = 100, bias `lam`) runs to its limit, read as the time
# average of the WD after a burn-in of several forgetting times (about (n_r + n_s) / n_r generations each); the
# `drift_z` column of the data compares the two halves of the averaging window, a check that the burn-in sufficed.
# The effective sample size n_e (eq. 4) is the number of real samples whose fitted model is on average as far from
# P_r as that limit, read off a Monte-Carlo curve of E[WD] for models fit on n real samples. Blue cells
# (n_e >= n_r) are admissible: there the synthetic data act like extra real data. The black line is the edge.
#
# **The paper's claim.** As `n_r` grows, the largest admissible `n_s` stops growing: synthetic data is only likely
# to help when real data is scarce.
#
# **Setting.** d = 100 as in the paper; the paper does not state its lam for this figure, we use lam = 0.9. Grid:
# n_r from 10^2 to 2x10^3, n_s from 10^2 to 10^4.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"lam": 0.8, "n_r_values": [100, 1000]}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig11_admissible_nr_ns"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.admissibility_map(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
