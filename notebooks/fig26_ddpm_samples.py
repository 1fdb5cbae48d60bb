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
# # Fig. 26 — Random DDPM samples per generation, fully synthetic loop, lam = 1
#
# Samples of the chain of Fig. 4 (read from the run store): a row per class, drawn for that class. Beside the
# pictures, two numbers per generation: how often LeNet reads a sample as the class it was drawn for, and the FID.
#
# **The paper's claim.** Without bias the digits drift and become illegible.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: PCA-latent MLP DDPM on the 4,000 `mnist-5k` digits).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chain
overrides = {}  # e.g. {"shown": 10}

# %%
from madlib import claims, ddpm_studies, plotting, presets

STEM = "fig26_ddpm_samples"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
shown = ddpm_studies.pick_generations(settings["generations"], settings.pop("shown"))
lam = settings.pop("lam")
data, histories = ddpm_studies.fully_synthetic(lam_values=[lam], **settings)
caption = ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"])
fig = plotting.sample_grids(ddpm_studies.grids(histories[lam], shown), title=f"DDPM samples, lam = {lam:g}",
                            caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)
data[data["metric"].isin(["lenet_agreement", "fid"])].pivot(index="generation", columns="metric", values="mean")

# %%
print(claims.show(claims.check(STEM, data, preset)))
