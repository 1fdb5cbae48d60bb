"""GAN figure claims (1, 4 and 6 GAN rows, 8, 13, 23-25) and the GAN presets: each check holds on data showing the
claim and fails on data showing the opposite."""

import numpy as np
import pandas as pd
import pytest

from madlib import claims, gan_studies, presets
from test_ddpm_claims import HEALTHY, MAD, chain_rows

RISING = list(np.linspace(0.1, 0.5, 9))
FLAT_NOISY = [0.30, 0.28, 0.31, 0.29, 0.30, 0.31, 0.28, 0.30, 0.29]


def fingerprint(distance, ratio=None):
    return chain_rows(1.0, {"spectral_distance": distance, "high_freq_ratio": ratio or [1.0] * len(distance)})


def test_fig01_needs_a_growing_spectral_distance():
    assert [c.holds for c in claims.check_fig01(fingerprint(RISING))] == [True]
    assert [c.holds for c in claims.check_fig01(fingerprint(RISING[::-1]))] == [False]


def test_fig01_a_rise_at_the_end_alone_is_not_a_steady_trend():
    jump = [0.3, 0.1, 0.5, 0.05, 0.4, 0.1, 0.45, 0.05, 0.35]  # last > first beyond noise, ranks uncorrelated
    check = claims.check_fig01(fingerprint(jump, ))[0]
    assert not check.holds and "Spearman" in check.evidence


def test_figs_4_and_6_check_each_model_row_separately():
    ddpm = chain_rows(1.0, MAD).assign(model="DDPM")
    gan = chain_rows(1.0, HEALTHY).assign(model="GAN")
    checks = claims.check_fig04(pd.concat([ddpm, gan]))
    assert [c.name.split(":")[0] for c in checks] == ["DDPM"] * 3 + ["GAN"] * 3
    assert [c.holds for c in checks] == [True] * 3 + [False] * 3


def test_fig06_compares_recall_up_to_the_generations_both_chains_have():
    unbiased = chain_rows(1.0, {"fid": [10, 12, 14, 16, 30], "precision": [0.8, 0.7, 0.6, 0.5, 0.4],
                                "recall": [0.6, 0.5, 0.4, 0.3, 0.01]})
    biased = chain_rows(0.7, {"fid": [12, 20, 30], "precision": [0.9, 0.92, 0.95], "recall": [0.4, 0.2, 0.05]})
    checks = claims.check_fig06(pd.concat([unbiased, biased]))
    assert [c.holds for c in checks] == [True, True, True]
    assert "t=3" in checks[2].evidence  # the lam = 1 chain's fifth generation (recall 0.01) is not used


def pool_and_full(pool_fid, full_fid):
    pool = chain_rows(1.0, {"fid": pool_fid, "precision": [0.8, 0.7, 0.6], "recall": [0.6, 0.5, 0.4]},
                      variant="synthetic_augmentation")
    full = chain_rows(1.0, {"fid": full_fid, "precision": [0.8, 0.5, 0.3], "recall": [0.6, 0.3, 0.1]})
    return pd.concat([pool, full])


def test_fig08_same_symptoms_but_slower():
    assert all(c.holds for c in claims.check_fig08(pool_and_full([10, 12, 14], [10, 20, 40])))
    checks = claims.check_fig08(pool_and_full([10, 25, 45], [10, 20, 40]))
    assert [c.holds for c in checks] == [True, True, True, False]


def test_fig13_needs_steady_trends():
    steady = chain_rows(1.0, {"fid": list(np.linspace(10, 60, 12)), "precision": list(np.linspace(0.9, 0.3, 12)),
                              "recall": list(np.linspace(0.6, 0.05, 12))})
    assert all(c.holds for c in claims.check_fig13(steady))
    zigzag = chain_rows(1.0, {"fid": [10, 60, 12, 55, 11, 58, 13, 50, 12, 52, 11, 30],
                              "precision": [0.9] * 12, "recall": [0.6] * 12})
    assert not any(c.holds for c in claims.check_fig13(zigzag))


def test_fig23_needs_recall_and_coverage_to_fall():
    shrinking = chain_rows(0.7, {"recall": [0.4, 0.2, 0.1], "coverage": [0.6, 0.4, 0.3]})
    assert all(c.holds for c in claims.check_fig23(shrinking))
    assert not any(c.holds for c in claims.check_fig23(chain_rows(0.7, {"recall": [0.4] * 3,
                                                                        "coverage": [0.6] * 3})))


def test_figures_run_and_are_listed_in_the_papers_order():
    numbers = [f.number for f in presets.FIGURES_LIST]
    assert numbers[0].startswith("S1") and numbers[1] == "1"
    assert numbers.index("1") < numbers.index("4") < numbers.index("18-22")  # Fig. 1 computes what 4 and 18 read


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_gan_figures_share_their_chains(preset):
    """Figures showing the same chain ask for identical settings, so the store computes it once."""
    def chain_of(stem, key=None):
        settings = presets.resolve(stem, preset)
        settings = settings[key] if key else settings
        return {k: settings[k] for k in ("n_ini", "n_s", "model")}, dict(zip(settings["lam_values"],
                                                                             settings["generations"]))

    fig01 = chain_of("fig01_gan_fingerprint")
    assert chain_of("fig04_ddpm_fully_synthetic", "gan") == fig01 == chain_of("fig18_gan_unbiased_samples")
    assert chain_of("fig08_gan_growing_pool", "fully_synthetic") == fig01
    fig06_sizes, fig06_lengths = chain_of("fig06_ddpm_biased", "gan")
    fig23_sizes, fig23_lengths = chain_of("fig23_gan_biased_samples")
    assert fig06_sizes == fig23_sizes and fig06_lengths[0.7] == fig23_lengths[0.7]
    assert fig06_lengths[1.0] == fig01[1][1.0]
    pool = presets.resolve("fig28_gan_pool_samples", preset)
    assert {k: pool[k] for k in ("generations", "n_r", "n_s", "model")} == \
        presets.resolve("fig08_gan_growing_pool", preset)["pool"]


def test_fully_synthetic_wants_one_length_or_one_per_lam():
    with pytest.raises(ValueError, match="generations"):
        gan_studies.fully_synthetic([1.0, 0.7], [3, 4, 5], n_ini=10, n_s=10)


def test_sample_caption_reads_the_figure_data():
    data = chain_rows(1.0, {"fid": [10, 20], "recall": [0.5, 0.25], "spectral_distance": [0.1, 0.2]})
    text = gan_studies.sample_caption(data, [2])
    assert "t=2: FID 20.0, recall 0.25, spectral distance 0.200" in text
