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
# # Fig. 6 — Conditional DDPM, fully synthetic loop with sampling bias
#
# As Fig. 4, but every generation samples with classifier-free guidance w = 1/lam - 1 (lam = 0.5: w = 1), which
# trades diversity for quality. The lam = 1 chain of Fig. 4 is drawn beside it for comparison (read from the store).
#
# **The paper's claim.** With bias, precision does not decay (it may even rise), recall decays faster than without
# bias, and the FID still rises.
#
# **Setting vs the paper.** The paper's DDPM row uses lam = 0.5; the model and data are as in Fig. 4 (`default`:
# PCA-latent MLP DDPM on the 4,000 `mnist-5k` digits). The GAN analogue row (lam = 0.7) comes with the GAN issue.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chains
overrides = {}  # e.g. {"lam_values": [0.5, 0.8, 1.0]}

# %%
from madlib import claims, ddpm_studies, plotting, presets

STEM = "fig06_ddpm_biased"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
data, histories = ddpm_studies.fully_synthetic(**settings)
caption = ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"])
fig = plotting.score_panels(data, title="DDPM, fully synthetic loop with sampling bias", caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
