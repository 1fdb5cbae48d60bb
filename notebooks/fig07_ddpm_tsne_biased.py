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
# of both the biased chain and the unbiased one of Fig. 5.
#
# **The paper's claim.** With bias the classes do not merge: each collapses onto itself, into tight clusters that
# stay apart.
#
# **Setting vs the paper.** As in Fig. 4 (`default`: PCA-latent MLP DDPM on the 4,000 `mnist-5k` digits).

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chains (and of the t-SNE)
overrides = {}  # e.g. {"lam": 0.6}

# %%
from madlib import claims, ddpm_studies, plotting, presets

STEM = "fig07_ddpm_tsne_biased"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
shown = ddpm_studies.pick_generations(settings["generations"], settings.pop("shown"))
lam, compare_lam = settings.pop("lam"), settings.pop("compare_lam")
data, histories = ddpm_studies.fully_synthetic(lam_values=[lam, compare_lam], **settings)
real, real_labels = ddpm_studies.real_features(settings["model"], keep=settings["model"]["feature_keep"])
points = ddpm_studies.tsne_frame(histories[lam], real, real_labels, shown, seed=seed)
caption = ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"])
fig = plotting.tsne_panels(points, data, title=f"t-SNE of LeNet features, DDPM fully synthetic loop, lam = {lam:g}",
                           caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset, lam=lam, compare_lam=compare_lam)))
