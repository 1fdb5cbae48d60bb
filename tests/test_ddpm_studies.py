"""The DDPM figures' plans and build functions: each plan names the chains its figure reads (computing nothing),
figures that show the same chain name the same store entry, and each build function, once its plan was computed,
reads those chains only and returns everything its plot needs (tiny settings, on the CPU)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from madlib import chains, claims, ddpm_studies, plotting, presets, tidy  # noqa: E402
from madlib.models import ddpm  # noqa: E402
from support import quiet_one_thread_store  # noqa: E402

STEMS = ["fig04_ddpm_fully_synthetic", "fig05_ddpm_tsne", "fig06_ddpm_biased", "fig07_ddpm_tsne_biased",
         "fig09_ddpm_augmentation", "fig16_ddpm_more_generations", "fig26_ddpm_samples", "fig27_ddpm_samples_biased"]
# the fully synthetic DDPM chain of each lam and the figures that show it
SHARED = {1.0: ["fig04_ddpm_fully_synthetic", "fig05_ddpm_tsne", "fig06_ddpm_biased", "fig07_ddpm_tsne_biased",
                "fig16_ddpm_more_generations", "fig26_ddpm_samples"],
          0.8: ["fig07_ddpm_tsne_biased", "fig16_ddpm_more_generations", "fig27_ddpm_samples_biased"],
          0.5: ["fig06_ddpm_biased", "fig16_ddpm_more_generations"]}


def keys_by_lam(stem: str, preset: str, family: str = "ddpm", seed=None) -> dict[float, str]:
    return {c.spec.lam: c.key() for c in chains.plan(stem, preset, seed=seed) if c.family == family}


@pytest.fixture
def nothing_trained_or_loaded(monkeypatch, tmp_path):
    """An empty store, and a DDPM that fails on any training, data loading or evaluation."""
    def refuse(*args, **kwargs):
        raise AssertionError("planning trained, loaded data or evaluated")

    for name in ("fit", "real_pool", "reference", "evaluate", "sample"):
        monkeypatch.setattr(ddpm.DDPMModel, name, refuse)
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    return tmp_path


# Plans --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["smoke", "default"])
@pytest.mark.parametrize("stem", STEMS)
def test_every_plan_is_non_empty_and_computes_nothing(stem, preset, nothing_trained_or_loaded):
    plan = chains.plan(stem, preset)
    settings = presets.resolve(stem, preset)
    ddpm_chains = [c for c in plan if c.family == "ddpm"]
    assert ddpm_chains and all(c.key() for c in plan)
    assert len({c.key() for c in plan}) == len(plan)  # no chain twice
    lams = settings["ddpm"]["lam_values"] if "ddpm" in settings else settings.get("lam_values", [settings.get("lam")])
    assert sorted(c.spec.lam for c in ddpm_chains) == sorted(set(lams) | ({settings["compare_lam"]}
                                                                          if "compare_lam" in settings else set()))
    assert not any(nothing_trained_or_loaded.iterdir())  # nothing written to the store


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_figures_that_show_the_same_chain_read_one_store_entry(preset, nothing_trained_or_loaded):
    keys = {stem: keys_by_lam(stem, preset) for stem in set(sum(SHARED.values(), []))}
    for lam, stems in SHARED.items():
        assert len({keys[stem][lam] for stem in stems}) == 1, (lam, {stem: keys[stem][lam] for stem in stems})
    specs = {lam: next(c.spec for c in chains.plan("fig16_ddpm_more_generations", preset) if c.spec.lam == lam)
             for lam in SHARED}
    assert len({spec.seed for spec in specs.values()}) == 3  # each setting draws its own stream


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_the_gan_rows_are_the_chains_of_figs_1_and_23(preset, nothing_trained_or_loaded):
    fig01 = set(keys_by_lam("fig01_gan_fingerprint", preset, "gan").values())
    fig23 = set(keys_by_lam("fig23_gan_biased_samples", preset, "gan").values())
    assert set(keys_by_lam("fig04_ddpm_fully_synthetic", preset, "gan").values()) == fig01
    assert set(keys_by_lam("fig06_ddpm_biased", preset, "gan").values()) == fig01 | fig23


def test_the_master_seed_changes_every_chain(nothing_trained_or_loaded):
    for stem in ("fig04_ddpm_fully_synthetic", "fig16_ddpm_more_generations", "fig09_ddpm_augmentation"):
        first, other = keys_by_lam(stem, "smoke", seed=0), keys_by_lam(stem, "smoke", seed=1)
        assert first.keys() == other.keys() and not set(first.values()) & set(other.values())


def test_the_augmentation_chain_keeps_generation_1s_digits_as_its_real_set():
    (chain,) = ddpm_studies.augmentation_chains([0.8], generations=3, n_r=60, n_s=40, seed=0)
    assert (chain.spec.variant, chain.spec.n_ini, chain.spec.n_r, chain.spec.n_s) == ("synthetic_augmentation", 60,
                                                                                     60, 40)


def test_fresh_data_chains_differ_only_in_n_ini():
    chain_list = ddpm_studies.fresh_data_chains([40, 100], lam=1.0, generations=3, n_r=40, n_s=40, seed=0)
    assert [c.spec.n_ini for c in chain_list] == [40, 100]
    assert {(c.spec.variant, c.spec.n_r, c.spec.n_s, c.spec.lam) for c in chain_list} == {("fresh_data", 40, 40, 1.0)}
    assert chain_list[0].spec.seed != chain_list[1].spec.seed


# Build functions (tiny) ---------------------------------------------------------------------------------------------
TINY = dict(timesteps=20, train_steps=30, hidden=32, blocks=1, latent_dim=8, codec_epochs=5, codec_channels=8,
            n_eval=40, feature_keep=10,
            grid_per_class=2, lenet_epochs=1, device="cpu")
SIZES = dict(generations=2, n_ini=60, n_s=40)
TINY_GAN = dict(lam_values=[1.0], generations=[2], n_ini=60, n_s=40,
                model={**presets.GAN_MODEL["smoke"], "train_steps": 10, "device": "cpu"})
SETTINGS = {
    "fig04_ddpm_fully_synthetic": dict(ddpm=dict(lam_values=[1.0], **SIZES, model=TINY), gan=TINY_GAN, seed=0),
    "fig05_ddpm_tsne": dict(lam=1.0, shown=2, **SIZES, seed=0, model=TINY),
    "fig07_ddpm_tsne_biased": dict(lam=0.8, compare_lam=1.0, shown=2, **SIZES, seed=0, model=TINY),
    "fig09_ddpm_augmentation": dict(lam_values=[1.0, 0.8], generations=2, n_r=60, n_s=40, seed=0, model=TINY),
    "fig16_ddpm_more_generations": dict(lam_values=[1.0, 0.8], **SIZES, seed=0, model=TINY),
    "fig26_ddpm_samples": dict(lam=1.0, shown=2, **SIZES, seed=0, model=TINY),
    "fig27_ddpm_samples_biased": dict(lam=0.8, shown=2, **SIZES, seed=0, model=TINY),
}
PLOTS = {"fig04_ddpm_fully_synthetic": plotting.fig04, "fig05_ddpm_tsne": plotting.fig05,
         "fig07_ddpm_tsne_biased": plotting.fig07, "fig09_ddpm_augmentation": plotting.fig09,
         "fig16_ddpm_more_generations": plotting.fig16, "fig26_ddpm_samples": plotting.fig26,
         "fig27_ddpm_samples_biased": plotting.fig27}


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """A store holding the union of the tiny figures' plans, computed as `madlib run` does."""
    with quiet_one_thread_store(tmp_path_factory.mktemp("ddpm_studies_store")) as folder:
        plan = sum((chains.plan_settings(stem, settings) for stem, settings in SETTINGS.items()), [])
        assert len(chains.unique(plan)) == 5  # fully synthetic lam = 1 and 0.8, two augmentation chains, the GAN
        chains.compute(plan, jobs=1, progress=False)
        yield folder


@pytest.fixture
def built(computed, monkeypatch, request):
    """The figure's data, built without training anything (its plan is in the store)."""
    def refuse(*args, **kwargs):
        raise AssertionError("building the figure trained a model although its plan was computed")

    from madlib.models import gan

    monkeypatch.setattr(ddpm.DDPMModel, "fit", refuse)
    monkeypatch.setattr(gan.GANModel, "fit", refuse)
    stem = request.param
    result = chains.figure(stem, SETTINGS[stem])
    assert isinstance(result, tidy.FigureData) and result.caption
    return stem, result


def check_round_trip(stem, result, tmp_path):
    """The plot and the claim check work on the data read back from files (no store needed)."""
    result.save(tmp_path, stem)
    loaded = tidy.FigureData.load(tmp_path, stem)
    assert loaded.frames.keys() == result.frames.keys() and loaded.arrays.keys() == result.arrays.keys()
    for name, array in result.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array)
    plt.close(PLOTS[stem](loaded))
    assert claims.CHECKS[stem](loaded.data)


@pytest.mark.parametrize("built", ["fig05_ddpm_tsne", "fig07_ddpm_tsne_biased"], indirect=True)
def test_tsne_figures_hold_the_points_and_the_real_features(built, tmp_path):
    stem, result = built
    settings = SETTINGS[stem]
    points = result.frames["tsne"]
    assert points.groupby("generation").size().to_dict() == {0: 10, 1: 10, 2: 10}
    assert set(points["lam"]) == {settings["lam"]} and np.isfinite(points[["x", "y"]].to_numpy()).all()
    assert result.arrays["real_features"].shape == (10, 84) and result.arrays["real_labels"].shape == (10,)
    assert set(result.data["lam"]) == {settings["lam"], settings.get("compare_lam", settings["lam"])}
    assert set(result.data["replicates"]) == {1}
    check_round_trip(stem, result, tmp_path)


@pytest.mark.parametrize("built", ["fig26_ddpm_samples", "fig27_ddpm_samples_biased"], indirect=True)
def test_sample_figures_hold_the_grids_and_their_numbers(built, tmp_path):
    stem, result = built
    assert result.arrays["grids"].shape == (2, 10, 2, 28, 28)
    assert result.arrays["grid_generations"].tolist() == [1, 2]
    metrics = ddpm_studies.SAMPLE_NUMBERS[stem]
    assert result.frames["numbers"].columns.tolist() == ["generation", *metrics, *(f"{m}_se" for m in metrics)]
    assert result.frames["numbers"]["generation"].tolist() == [1, 2]
    check_round_trip(stem, result, tmp_path)


@pytest.mark.parametrize("built", ["fig04_ddpm_fully_synthetic", "fig09_ddpm_augmentation",
                                   "fig16_ddpm_more_generations"], indirect=True)
def test_score_figures_hold_every_chain(built, tmp_path):
    stem, result = built
    data = result.data
    if stem == "fig04_ddpm_fully_synthetic":
        assert data["model"].unique().tolist() == ["DDPM", "GAN"]
        assert "GAN row" in result.caption
    expected = {"fig04_ddpm_fully_synthetic": 2, "fig09_ddpm_augmentation": 2, "fig16_ddpm_more_generations": 2}
    assert data.groupby(["variant", "lam"] + (["model"] if "model" in data else [])).ngroups == expected[stem]
    assert set(data["generation"]) == {1, 2}
    check_round_trip(stem, result, tmp_path)
