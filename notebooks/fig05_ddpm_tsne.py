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
# # Fig. 5 — t-SNE of real and synthetic digits over generations (DDPM, lam = 1)
#
# The LeNet features of held-out real digits (grey) and of each shown generation's samples (coloured by the class
# they were drawn for) are embedded together by one t-SNE, so positions compare across panels. t-SNE distorts
# distances, so the last panel gives a number that does not depend on it: the class separation of the synthetic
# features (silhouette score by class, 1 = tight separate classes, 0 = merged) at every generation, +-2 bootstrap SE.
# It reads the chain of Fig. 4 from the run store. The t-SNE's random state is derived from the master `seed`, as every
# chain's seed is (from the seed and the chain's setting).
#
# **The paper's claim.** Over generations the synthetic classes drift away from the real ones and merge.
#
# **Setting vs the paper.** As in Fig. 4 (autoencoder-latent MLP DDPM on the 4,000 `mnist-5k` digits at `default`).
#
# **Finding at `default`: the classes do not merge; each shrinks onto itself.** The synthetic features drift
# away from the real ones (FID 14.5 -> 137), but their separation by class rises (silhouette 0.34 -> 0.51), because
# each class collapses (its spread falls, Fig. 26's chain) instead of blending into its neighbours.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"shown": 5}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig05_ddpm_tsne"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig05(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
