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
# It reads the chain of Fig. 4 from the run store.
#
# **The paper's claim.** Over generations the synthetic classes drift away from the real ones and merge.
#
# **Setting vs the paper.** As in Fig. 4 (PCA-latent MLP DDPM on the 4,000 `mnist-5k` digits at `default`).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chain (and of the t-SNE)
overrides = {}  # e.g. {"shown": 5}

# %%
from madlib import claims, ddpm_studies, plotting, presets

STEM = "fig05_ddpm_tsne"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
shown = ddpm_studies.pick_generations(settings["generations"], settings.pop("shown"))
data, histories = ddpm_studies.fully_synthetic(lam_values=[settings.pop("lam")], **settings)
real, real_labels = ddpm_studies.real_features(settings["model"], keep=settings["model"]["feature_keep"])
points = ddpm_studies.tsne_frame(histories[1.0], real, real_labels, shown, seed=seed)
caption = ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"])
fig = plotting.tsne_panels(points, data, title="t-SNE of LeNet features, DDPM fully synthetic loop, lam = 1",
                           caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
