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
# # Fig. 4 — Conditional DDPM on MNIST, fully synthetic loop without bias (lam = 1)
#
# Generation 1 trains a class-conditional DDPM on real digits; every later generation trains a fresh one only on
# `n_s` class-balanced samples of the previous generation (each sample keeps the class it was drawn for). Each
# generation is scored on `n_eval` of its own samples against held-out real digits, in the 84-dimensional feature
# space of a LeNet-5 trained on the real training digits: FID (squared Frechet distance of Gaussian fits), and
# precision and recall of Kynkaanniemi et al. with k = 5. Bands: +-2 SE of one evaluation (binomial for the rates,
# bootstrap for FID); a single chain, so training noise between generations shows as wiggles.
#
# **The paper's claim.** Without sampling bias the FID rises and both precision and recall fall over generations.
#
# **Setting vs the paper.** The paper trains a pixel-space DDPM (T = 500) on the 60k MNIST digits. The `default`
# preset runs on a 2-core CPU: a DDPM over a 32-dimensional whitened PCA code of the digits with an MLP denoiser
# (same T = 500 schedule, same guidance), trained on the 4,000 offline `mnist-5k` training digits (n_ini = 4,000,
# then n_s = 2,000 synthetic digits per generation, 10 generations), scored against the 1,000 held-out digits.
# The `paper` preset runs the UNet on the full MNIST. **GAN row (an analogue):** the paper's second row is StyleGAN2
# on FFHQ-128 (70k images); here it is the style-based GAN of Fig. 1 on the same digits (`default`: 4,000 `mnist-5k`
# digits, n_s = 4,000, 9 generations), read from the run store when Fig. 1 has run.

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed of the chain
overrides = {}  # e.g. {"generations": 15}, {"model": {...}} (madlib.models.ddpm.DDPMModel) or {"gan": {...}}

# %%
import pandas as pd

from madlib import claims, ddpm_studies, gan_studies, plotting, presets

STEM = "fig04_ddpm_fully_synthetic"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, **overrides)
settings

# %%
gan_settings = settings.pop("gan")
ddpm, _ = ddpm_studies.fully_synthetic(**settings)
gan, _ = gan_studies.fully_synthetic(seed=seed, **gan_settings)
data = pd.concat([ddpm.assign(model="DDPM"), gan.assign(model="GAN")], ignore_index=True)
caption = (ddpm_studies.describe(settings["model"], n_ini=settings["n_ini"], n_s=settings["n_s"]) + " GAN row: "
           + gan_studies.describe(gan_settings["model"], n_ini=gan_settings["n_ini"], n_s=gan_settings["n_s"]))
fig = plotting.score_rows({"DDPM": ddpm, "GAN": gan}, title="Fully synthetic loop, lam = 1", caption=caption)
plotting.save(fig, STEM, preset)
plotting.save_data(data, STEM, preset)

# %%
print(claims.show(claims.check(STEM, data, preset)))
