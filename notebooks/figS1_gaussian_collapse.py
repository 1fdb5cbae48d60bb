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
# # Fig. S1 (Sec. 3.1) — Gaussian fully synthetic loop: random walk and collapse
#
# Each generation fits a Gaussian (unbiased mean and covariance, eq. 1) to `n_s` samples drawn from the previous
# generation's fit with sampling bias `lam`, i.e. from N(mu_{t-1}, lam * Sigma_{t-1}). Generation 1 is fit on `n_ini`
# real samples of P_r = N(0, I_d).
#
# **The paper's claim.** The mean is a martingale (E[mu_t] = mu_{t-1}: a random walk) and the covariance a
# supermartingale (E[tr Sigma_t] = lam^(t-1) tr Sigma_1) that collapses to 0 almost surely, faster for smaller `lam`
# and slower for larger `n_s`.
#
# **Setting.** The paper states the result (Sec. 3.1, Appendix A) without a figure; this one is ours. d = 100 as in the
# paper's Gaussian experiments. The loop is simulated through the exact distribution of the sufficient statistics
# (normal mean, Wishart scatter), which is the same in distribution as drawing the samples (see the tests).
# The black lines of the middle panel are the exact expectation lam^(t-1) E[tr Sigma_1].

# %% tags=["parameters"]
preset = None  # None: $MADLIB_PRESET, else "default"
seed = 0  # master seed: every chain's seed is derived from it and the chain's setting
overrides = {}  # e.g. {"lam_values": [1.0, 0.5], "generations": 500}; with papermill: -y 'overrides: {...}'

# %%
from madlib import chains, claims, plotting, presets

STEM = "figS1_gaussian_collapse"
preset = preset or presets.default_preset()
settings = presets.resolve(STEM, preset, seed=seed, overrides=overrides)
out = presets.output(preset, seed=seed, overrides=overrides)  # paper_figures/ only in `madlib figures`
settings

# %%
result = chains.figure(STEM, settings)  # reads the chains from the run store, computing what is missing
fig = plotting.figS1(result)
plotting.save(fig, STEM, out)
plotting.save_data(result, STEM, out)

# %%
print(claims.show(claims.check(STEM, result.data, out)))
