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
# # Fig. 31 (Appendix G, experiment 2) — A fixed real fraction p of a growing data set
#
# Each generation of a Gaussian fresh data loop trains on n samples, of which n_r = p n are fresh real samples and
# n_s = (1 - p) n are drawn from the previous model with bias `lam` (`LoopSpec(p_real=p, n=n)`). For each n the
# loop runs to its limit; the plot shows the limit WD against n (log-log, +-2 SE).
#
# **The paper's claim.** Without bias the WD falls as n grows, but more slowly and to higher values when p < 1. With
# bias (lam < 1) the decrease flattens: beyond some n more data barely helps.
#
# **Setting.** d = 100; the paper does not give its grid of n and p, we use n from 10^2 to 10^6 and p from 1 to
# 0.25, and the right panel at p = 0.5.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"p_fixed": 0.75}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig31_real_fraction"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig31(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
