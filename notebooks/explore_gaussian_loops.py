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
# # Explorer — the Gaussian loops, one setting at a time
#
# Not a figure of the paper: a playground for its Gaussian model (Sec. 3.1 and 5). Pick a loop and its sizes; the
# loop is simulated in memory through the library's engine with the exact Gaussian model (the sufficient statistics
# are drawn directly, so `n_s = 10^6` costs what `n_s = 10` does) and redrawn in about a second at d = 100.
# **Nothing is written**: neither the run store nor `paper_figures/` is touched.
#
# **The loop.** Generation 1 fits N(mu_1, Sigma_1) (unbiased mean and covariance, eq. 1) to `n_ini` real samples of
# P_r = N(0, I_d). Every later generation fits a fresh model to `n_s` synthetic samples drawn from earlier fits with
# sampling bias `lam` (from N(mu, lam Sigma); `lam = 1` is unbiased), and
#
# * **fully synthetic**: nothing else (`n_r` is not used);
# * **synthetic augmentation**: plus the same `n_r` real samples every generation (generation 1's own when
#   `n_ini = n_r`);
# * **fresh data**: plus `n_r` newly drawn real samples every generation.
#
# **memory K** draws each synthetic sample from one of the last K fits; **accumulate** keeps every earlier synthetic
# set in the training pool.
#
# **The panels.** WD (the unsquared 2-Wasserstein distance) of each fit to P_r; the squared error of the mean
# |mu_t|^2; the variance kept, tr Sigma_t / d, beside the typical variance (the geometric mean of the fitted
# variances Sigma_t[i,i] over replicates and coordinates); and the effective sample size `n_e`: the number of real
# samples whose fit is on average as far from P_r as generation t's mean WD (the paper's eq. 4, here read at every
# generation; the fresh data loop is "admissible" while `n_e >= n_r`). Colour: mean ± 2 SE over the replicates.
#
# **The closed forms (black), where they hold.**
#
# * Memory 1, no accumulate, every loop: E tr Sigma_t and E |mu_t|^2 follow an exact linear recursion
#   (`madlib.explore.expected_moments`). In the fully synthetic loop it is E tr Sigma_t = lam^(t-1) d, the
#   supermartingale of Sec. 3.1, and E |mu_t|^2 = d/n_ini + (d/n_s)(lam + ... + lam^(t-1)), the mean's random walk.
# * Fully synthetic, memory 1, no accumulate: each fitted variance is a product of independent factors,
#   Sigma_t[i,i] = lam^(t-1) · chi2_(n_ini-1)/(n_ini-1) · Π_(s=2..t) chi2_(n_s-1)/(n_s-1), so its typical path is
#   exp E log Sigma_t[i,i] = exp(g(n_ini)) · exp((t-1) g(n_s)) · lam^(t-1) with g(n) = psi((n-1)/2) + ln(2/(n-1)) < 0,
#   in any dimension d. Even unbiased (`lam = 1`), where E tr Sigma_t stays d, the typical variance decays
#   geometrically: the expectation is carried by rarer and rarer paths.
#
# With `n_s <= d` every synthetic fit is singular (rank `n_s - 1`), which costs WD at once. `n_e` is missing where
# the WD lies outside what fits on 2 to 10^7 real samples give.

# %% tags=["parameters"]
variant = "fully_synthetic"  # "fully_synthetic", "synthetic_augmentation" or "fresh_data"
accumulate = False  # keep every earlier synthetic set in the training pool
memory = 1  # K: each synthetic sample comes from one of the last K fits
lam = 1.0  # sampling bias in [0, 1]; 1 = unbiased
n_ini = 100  # real samples of generation 1
n_r = 100  # real samples per later generation (not used by the fully synthetic loop)
n_s = 100  # synthetic samples per later generation
d = 100  # dimension
generations = 40
replicates = 10  # independent loops, batched in one run
seed = 0

# %%
from madlib import explore

settings = dict(variant=variant, accumulate=accumulate, memory=memory, lam=lam, n_ini=n_ini, n_r=n_r, n_s=n_s, d=d,
                generations=generations, replicates=replicates, seed=seed)
result = explore.redraw(**settings)  # simulated in memory, nothing written

# %% [markdown]
# The numbers behind the figure at the last generation (`result.data` holds every generation; `closed_form` is empty
# where none holds):

# %%
result.data.loc[result.data["generation"] == generations, ["metric", "mean", "sem", "closed_form"]]

# %% [markdown]
# ## Explore
#
# Run the cell below (in JupyterLab, `make lab`) for the controls; each change redraws the figure (sliders when
# released). Redraws take about a second at d = 100 on one core, longer for more generations, replicates, a larger
# d or a longer memory; the first redraw at a new d also computes its `n_e` reference curve.

# %%
explore.widget(**settings)
