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
# # Fig. 12 — Fresh data loop: sampling bias shrinks the admissible amount of synthetic data
#
# As Fig. 11, with `n_r` fixed and the sampling bias `lam` varied: for each (`lam`, `n_s`) a Gaussian fresh data loop
# (d = 100) runs to its limit, whose effective sample size n_e (eq. 4) is compared with `n_r`. Blue cells
# (n_e >= n_r) are admissible; the black line is the edge of that region.
#
# **The paper's claim.** More sampling bias (smaller `lam`) lowers the largest admissible `n_s`; as lam -> 1 every
# `n_s` appears admissible.
#
# **Setting.** d = 100 as in the paper; the paper does not state its n_r for this figure, we use n_r = 1000.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"n_r": 200}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig12_admissible_lam_ns"
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
