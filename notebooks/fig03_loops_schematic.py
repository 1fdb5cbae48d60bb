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
# # Fig. 3 — The three autophagous loops and the sampling bias lam
#
# A schematic (no experiment). Generation 1 is trained on `n_ini` real samples; every later generation is trained from
# scratch on synthetic samples drawn, with sampling bias `lam`, from earlier generations, and
#
# * **fully synthetic loop**: nothing else;
# * **synthetic augmentation loop**: plus the same fixed set of `n_r` real samples each generation;
# * **fresh data loop**: plus `n_r` newly drawn real samples each generation.
#
# In `madlib` the three are one `LoopSpec(variant=...)`; `memory` (sample from the last K models) and `accumulate`
# (keep all earlier synthetic sets in the pool) generalise where the synthetic data come from.
#
# **The paper's claim.** None: this figure defines the loops.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"

# %%
from madlib import claims, plotting, presets

STEM = "fig03_loops_schematic"
preset = preset or presets.default_preset()
out = presets.output(preset)  # paper_figures/ only in `madlib figures`
fig = plotting.fig03()
plotting.save(fig, STEM, out)

# %%
print(claims.show(claims.check(STEM, None, out)))
