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
seed = 0  # master seed: every generation and replicate draws from streams split off it
overrides = {}  # e.g. {"n_r": 200}

# %%
from madlib import claims, gaussian_studies, plotting, presets

STEM = "fig12_admissible_lam_ns"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
data = gaussian_studies.admissibility_lam_ns(**settings)
edge = claims.thresholds(data, "lam")
fig = plotting.admissibility_map(data, "lam", f"n_e / n_r, Gaussian fresh data loop, n_r={settings['n_r']}", edge)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
