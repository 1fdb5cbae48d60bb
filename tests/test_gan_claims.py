"""GAN figure claims (1, 4 and 6 GAN rows, 8, 13, 23-25), the GAN presets and the GAN figures' plans: each check holds
on data showing the claim and fails on data showing the opposite; figures that show one chain plan the same chain."""

import inspect

import numpy as np
import pandas as pd
import pytest

from madlib import chains, claims, gan_studies, presets
from madlib.metrics import image_scores
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


GAN_FIGURES = ("fig01_gan_fingerprint", "fig08_gan_growing_pool", "fig13_wgan_fully_synthetic",
               "fig18_gan_unbiased_samples", "fig23_gan_biased_samples", "fig28_gan_pool_samples")


def planned(stem, preset):
    """The store keys of a figure's plan, by (variant, lam)."""
    return {(c.spec.variant, c.spec.lam): c.key() for c in chains.plan(stem, preset)}


@pytest.mark.parametrize("preset", presets.PRESETS)
@pytest.mark.parametrize("stem", GAN_FIGURES)
def test_preset_keys_are_the_build_arguments_and_the_plan_is_not_empty(stem, preset):
    plan, build = chains._studies()[stem]
    settings = presets.resolve(stem, preset)
    assert set(inspect.signature(build).parameters) == set(settings) == set(inspect.signature(plan).parameters)
    assert chains.plan(stem, preset)


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_gan_figures_share_their_chains(preset):
    """Figures showing the same chain plan identical chains (same store key), so the store computes it once."""
    unbiased = planned("fig01_gan_fingerprint", preset)[("fully_synthetic", 1.0)]
    biased = planned("fig23_gan_biased_samples", preset)[("fully_synthetic", 0.7)]
    pool = planned("fig28_gan_pool_samples", preset)[("synthetic_augmentation", 1.0)]
    assert planned("fig01_gan_fingerprint", preset) == {("fully_synthetic", 1.0): unbiased}
    assert planned("fig18_gan_unbiased_samples", preset) == {("fully_synthetic", 1.0): unbiased}
    assert planned("fig08_gan_growing_pool", preset) == {("fully_synthetic", 1.0): unbiased,
                                                         ("synthetic_augmentation", 1.0): pool}
    assert len({unbiased, biased, pool, *planned("fig13_wgan_fully_synthetic", preset).values()}) == 4
    # the GAN rows of Figs. 4 and 6: their settings give fully_synthetic_chains the same chains
    rows = {}
    for stem in ("fig04_ddpm_fully_synthetic", "fig06_ddpm_biased"):
        settings = presets.resolve(stem, preset)
        rows[stem] = {c.spec.lam: c.key() for c in gan_studies.fully_synthetic_chains(**settings["gan"],
                                                                                     seed=settings["seed"])}
        in_plan = {c.key() for c in chains.plan(stem, preset)}
        assert not in_plan or set(rows[stem].values()) <= in_plan  # once the DDPM study plans them
    assert rows == {"fig04_ddpm_fully_synthetic": {1.0: unbiased},
                    "fig06_ddpm_biased": {0.7: biased, 1.0: unbiased}}


def test_a_new_master_seed_gives_new_chains_and_settings_stay_apart():
    first = chains.plan("fig01_gan_fingerprint", "smoke")[0]
    other = chains.plan("fig01_gan_fingerprint", "smoke", seed=1)[0]
    assert other.spec.seed != first.spec.seed and other.key() != first.key()
    pool = chains.plan("fig28_gan_pool_samples", "smoke")[0]
    assert pool.spec.seed != first.spec.seed


def test_planning_builds_no_data_and_trains_nothing(monkeypatch):
    """Chain.key() builds the GANModel: that must not load a data set or train the evaluation network."""
    def refuse(*args, **kwargs):
        raise AssertionError("planning built the evaluation's reference set")

    monkeypatch.setattr(image_scores, "reference_set", refuse)
    for stem in GAN_FIGURES:
        for chain in chains.plan(stem, "default"):
            chain.key()
            model = chain.build()
            assert model._pools is None and model._real_power is None


def test_fully_synthetic_wants_one_length_or_one_per_lam():
    with pytest.raises(ValueError, match="generations"):
        gan_studies.fully_synthetic([1.0, 0.7], [3, 4, 5], n_ini=10, n_s=10)
    chain_list = gan_studies.fully_synthetic_chains([1.0, 0.7], 3, n_ini=10, n_s=10, seed=0, model=None)
    assert [(c.spec.lam, c.spec.generations) for c in chain_list] == [(1.0, 3), (0.7, 3)]
    chain_list = gan_studies.fully_synthetic_chains([1.0, 0.7], [3, 5], n_ini=10, n_s=10, seed=0, model=None)
    assert [c.spec.generations for c in chain_list] == [3, 5]


def test_sample_figures_show_one_chain():
    settings = presets.resolve("fig18_gan_unbiased_samples", "smoke", overrides={"lam_values": [1.0, 0.7],
                                                                                 "generations": [3, 3]})
    with pytest.raises(ValueError, match="lam_values"):
        chains.plan_settings("fig18_gan_unbiased_samples", settings)


def test_sample_caption_reads_the_figure_data():
    data = chain_rows(1.0, {"fid": [10, 20], "recall": [0.5, 0.25], "spectral_distance": [0.1, 0.2]})
    text = gan_studies.sample_caption(data, [2])
    assert "t=2: FID 20.0, recall 0.25, spectral distance 0.200" in text
