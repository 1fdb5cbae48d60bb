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
# # Fig. 14 — GMMs in a fully synthetic loop lose the modes of the 25-mode grid
#
# The real distribution is the 25-mode grid of the GAN mode-collapse literature: 25 equally likely isotropic
# Gaussians with standard deviation 0.05 centred on {-4, -2, 0, 2, 4}^2 (`madlib.data.grid25`). Generation 1 fits a
# 25-component, full-covariance Gaussian mixture (scikit-learn, EM from a k-means start) to `n_ini` real samples;
# every later generation fits a fresh mixture to `n_s` samples of the previous one, without sampling bias
# (lam = 1). The panels show the fitted density of one chain (log scale; real mode centres as cyan circles, fitted
# components as orange dots of area proportional to their weight) at iterations 1, 200 and 2000. A mode counts as
# covered when at least 1% of 1,000 samples of the mixture fall within 3 standard deviations (0.15) of its centre.
# Two things lose modes: the weights drift (a mode that draws no sample in one iteration is gone for good), and EM
# now and then parks one component between two modes, whose samples then fall between the modes.
#
# **The paper's claim.** Iterating the fully synthetic loop gradually loses modes of the distribution: after 2,000
# iterations the mixture covers clearly fewer modes than the first one.
#
# **Setting.** The paper gives neither the number of samples per iteration nor the fitting details. We use
# n_ini = n_s = 2,000 samples per iteration: large enough that the first mixture finds all 25 modes, small enough
# that modes visibly get lost within the paper's 2,000 iterations. `default` runs 10 independent chains
# (the figure draws the first; the claim uses all of them), `paper` 20. Each chain's seed is derived from the
# master `seed`, the setting and the chain's index, so Fig. 15 reads the very same chains from the run store. The saved
# data hold every chain's fitted components and density (on the plotted grid) at the shown iterations.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"replicates": 5, "shown": [1, 100, 1000]}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig14_gmm_densities"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.gmm_densities(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
