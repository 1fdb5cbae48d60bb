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
# # Fig. 7 — t-SNE of real and synthetic digits over generations with bias (DDPM, lam = 0.8)
#
# As Fig. 5, for the chain sampled with guidance w = 1/0.8 - 1 = 0.25. The last panel shows the class separation
# of both the biased chain and the unbiased one of Fig. 5 (the chains of Figs. 27 and 5, from the run store). The
# t-SNE's random state is derived from the master `seed`, as every chain's seed is.
#
# **The paper's claim.** With bias the classes do not merge: each collapses onto itself, into tight clusters that
# stay apart.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: autoencoder-latent MLP DDPM on the 4,000 `mnist-5k` digits).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"lam": 0.6}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "fig07_ddpm_tsne_biased"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.fig07(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
