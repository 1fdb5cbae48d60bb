"""GAN figure claims (1, 4 and 6 GAN rows, 8, 13, 23-25), the GAN presets and the GAN figures' plans: each image check
is supported on data showing the claim, contradicted on data showing the opposite beyond its noise and undecided when
the same effect lies within the noise; figures that show one chain plan the same chain."""

import inspect

import pandas as pd
import pytest

from madlib import chains, claims, gan_studies, presets
from madlib.metrics import image_scores
from test_ddpm_claims import (MAD, REVERSED, assert_three_outcomes, chain_rows, fig06_frame, frame, one_part,
                              outcomes, ramp)

# The GAN checks built of "X rises/falls" parts only (claims._moves): figure -> (check, lam, moves in check order)
GAN_MOVES = {
    "fig01": (claims.check_fig01, 1.0, {"high_freq_ratio": +1, "spectral_distance": +1}),
    "fig13": (claims.check_fig13, 1.0, {"fid": +1, "precision": -1, "recall": -1}),
    "fig23": (claims.check_fig23, 0.7, {"recall": -1, "coverage": -1}),
}


@pytest.mark.parametrize("figure", GAN_MOVES)
def test_moving_checks_are_supported_contradicted_or_undecided(figure):
    assert_three_outcomes(*GAN_MOVES[figure])


def fingerprint(distance, ratio, sem=0.005):
    return frame(1.0, {"high_freq_ratio": ratio, "spectral_distance": distance}, sem)


def test_fig01_the_high_frequency_excess_must_grow():
    """The spectra move away from the real one because the samples get smoother (less high-frequency energy than
    before): no artifact is amplified, so the claim is contradicted (the committed data's case)."""
    smoother = claims.check_fig01(fingerprint(ramp(0.1, 0.5), ramp(1.2, 0.8)))
    assert outcomes(smoother) == ["contradicted", "supported"] and claims.verdict(smoother) == "contradicted"
    assert "high_freq_ratio" in smoother[0].evidence and "spectral_distance" in smoother[1].evidence
    assert outcomes(claims.check_fig01(fingerprint(ramp(0.1, 0.5), ramp(1.0, 1.4)))) == ["supported"] * 2


def test_fig01_a_rise_at_the_end_alone_is_not_a_steady_trend():
    jump = [0.3, 0.1, 0.5, 0.05, 0.4, 0.1, 0.45, 0.05, 0.35]  # last > first beyond noise, no slope
    check = claims.check_fig01(fingerprint(jump, ramp(1.0, 1.4, 9)))[1]
    assert check.outcome == "undecided" and one_part(check, "supported") and check.decide


def test_figs_4_and_6_check_each_model_row_separately():
    ddpm = frame(1.0, MAD, 0.01).assign(model="DDPM")
    gan = frame(1.0, REVERSED, 0.01).assign(model="GAN")
    checks = claims.check_fig04(pd.concat([ddpm, gan]))
    assert [c.name.split(":")[0] for c in checks] == ["DDPM"] * 3 + ["GAN"] * 3
    assert outcomes(checks) == ["supported"] * 3 + ["contradicted"] * 3
    claim = {"fid": ramp(12, 40), "precision": [0.885] * 8, "recall": ramp(0.4, 0.05)}
    opposite = {"fid": ramp(40, 12), "precision": ramp(0.885, 0.6), "recall": ramp(0.4, 0.38)}
    both = pd.concat([fig06_frame(claim, sem=0.002).assign(model="DDPM"),
                      fig06_frame(opposite, sem=0.002).assign(model="GAN")])
    checks = claims.check_fig06(both)
    assert [c.name.split(":")[0] for c in checks] == ["DDPM"] * 3 + ["GAN"] * 3
    assert outcomes(checks) == ["supported"] * 3 + ["contradicted"] * 3


def test_fig06_compares_recall_up_to_the_generations_both_chains_have():
    """lam = 1 has 10 generations, lam = 0.7 has 8: the recall kept is read at generation 8 (lam = 1's last two
    values, 0.01, would reverse the comparison)."""
    unbiased = frame(1.0, {"fid": ramp(10, 30, 10), "precision": ramp(0.8, 0.4, 10),
                           "recall": ramp(0.6, 0.3) + [0.01, 0.01]}, 0.01)
    biased = frame(0.7, {"fid": ramp(12, 40), "precision": [0.9] * 8, "recall": ramp(0.4, 0.05)}, 0.002)
    checks = claims.check_fig06(pd.concat([unbiased, biased]))
    assert outcomes(checks) == ["supported"] * 3
    assert "by t=8" in checks[2].evidence


def pool_and_full(pool, full_fid, sem=0.01):
    """Fig. 8's table: the growing pool's chain (pool: its FID, precision and recall) and the fully synthetic chain."""
    pool = frame(1.0, dict(zip(("fid", "precision", "recall"), pool)), sem, variant="synthetic_augmentation")
    full = frame(1.0, {"fid": full_fid, "precision": ramp(0.8, 0.3), "recall": ramp(0.6, 0.1)}, sem)
    return pd.concat([pool, full], ignore_index=True)


SLOWER = (ramp(10, 20), ramp(0.8, 0.6), ramp(0.6, 0.4))  # the pool degrades, less than the fully synthetic loop


def test_fig08_same_symptoms_but_slower():
    assert outcomes(claims.check_fig08(pool_and_full(SLOWER, ramp(10, 40)))) == ["supported"] * 4
    healing = (ramp(60, 50), ramp(0.6, 0.8), ramp(0.4, 0.6))  # the pool improves, from an FID above the full loop's
    assert outcomes(claims.check_fig08(pool_and_full(healing, ramp(10, 40)))) == ["contradicted"] * 4
    faster = (ramp(10, 60), ramp(0.8, 0.6), ramp(0.6, 0.4))
    assert outcomes(claims.check_fig08(pool_and_full(faster, ramp(10, 40)))) == ["supported"] * 3 + ["contradicted"]
    for check in claims.check_fig08(pool_and_full(SLOWER, ramp(10, 40), sem=20.0)):
        assert check.outcome == "undecided" and check.decide


def fig13_frame(fid, fid_sem=0.5):
    n = len(fid)
    return frame(1.0, {"fid": fid, "precision": ramp(0.9, 0.3, n), "recall": ramp(0.6, 0.05, n)},
                 {"fid": fid_sem, "precision": 0.01, "recall": 0.01})


def test_fig13_a_significant_step_against_the_trend_contradicts_monotonically():
    """The FID rises by 5 a generation but drops by 8 (11 SEs of a step) from generation 6 to 7: the endpoints and the
    slope support a rise, the step contradicts "monotonically"."""
    fid = [10, 15, 20, 25, 30, 35, 27, 32, 37, 42, 47, 52]
    df = fig13_frame(fid)
    assert claims._endpoints("rises", df, "fid", 1.0, +1, tests=6).outcome == "supported"
    assert claims.trend("rises", claims._chain(df, "fid", 1.0), +1, tests=6).outcome == "supported"
    checks = claims.check_fig13(df)
    assert outcomes(checks) == ["contradicted", "supported", "supported"]
    assert "most adverse step t=6->7" in checks[0].evidence
    wobble = [10, 15, 20, 25, 30, 35, 34.5, 40, 45, 50, 55, 60]  # a step down of 0.5 (0.7 SE): within the noise
    assert outcomes(claims.check_fig13(fig13_frame(wobble))) == ["supported"] * 3


def test_fig13_a_zigzag_is_no_monotone_rise_and_flat_scores_are_undecided():
    zigzag = chain_rows(1.0, {"fid": [10, 60, 12, 55, 11, 58, 13, 50, 12, 52, 11, 30],
                              "precision": [0.9] * 12, "recall": [0.6] * 12})
    assert outcomes(claims.check_fig13(zigzag)) == ["contradicted", "undecided", "undecided"]


def test_fig23_reads_the_biased_chain():
    unbiased = frame(1.0, {"recall": ramp(0.4, 0.6), "coverage": ramp(0.6, 0.8)}, 0.01)  # improves: not read
    shrinking = frame(0.7, {"recall": ramp(0.4, 0.1), "coverage": ramp(0.6, 0.3)}, 0.01)
    checks = claims.check_fig23(pd.concat([unbiased, shrinking]))
    assert outcomes(checks) == ["supported"] * 2 and "lam=0.7" in checks[0].evidence


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
