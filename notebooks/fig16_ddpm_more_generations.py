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
# # Fig. 16 — Conditional DDPM, fully synthetic loop: all generations and lam side by side
#
# The fully synthetic chains of Figs. 4, 6 and 7 (lam = 1, 0.8, 0.5) together, read from the run store, with the
# class statistics beside FID, precision and recall.
#
# **The paper's claim.** At lam = 1 precision and recall eventually reach zero; a smaller lam loses recall faster.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: 10 generations of the PCA-latent MLP DDPM on the 4,000
# `mnist-5k` digits; the `paper` preset runs the UNet on the full MNIST).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chains
overrides = {}  # e.g. {"generations": 20}

# %%
from madlib import claims, ddpm_studies, plotting, presets

STEM = "fig16_ddpm_more_generations"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
data, histories = ddpm_studies.fully_synthetic(**settings)
caption = ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"])
fig = plotting.score_panels(data, metrics=("fid", "precision", "recall", "class_separation", "class_spread"),
                            title="DDPM, fully synthetic loop, every lam", caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
