"""Presets: every figure resolves at every preset; bad input gets one error naming the field."""

import pytest

from madlib import presets


@pytest.mark.parametrize("stem", list(presets.FIGURES))
@pytest.mark.parametrize("preset", presets.PRESETS)
def test_every_figure_resolves_at_every_preset(stem, preset):
    assert isinstance(presets.resolve(stem, preset), dict)


def test_default_preset_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MADLIB_PRESET", "smoke")
    assert presets.resolve("fig10_fresh_data_limit") == presets.FIGURES["fig10_fresh_data_limit"].presets["smoke"]


def test_overrides_replace_settings_without_touching_the_catalogue():
    settings = presets.resolve("fig10_fresh_data_limit", "smoke", lam_values=[0.5])
    assert settings["lam_values"] == [0.5]
    assert presets.FIGURES["fig10_fresh_data_limit"].presets["smoke"]["lam_values"] != [0.5]


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: presets.resolve("fig99_nothing", "smoke"), "figure"),
        (lambda: presets.resolve("fig10_fresh_data_limit", "huge"), "preset"),
        (lambda: presets.resolve("fig10_fresh_data_limit", "smoke", colour="red"), "colour"),
        (lambda: presets.resolve("fig10_fresh_data_limit", "smoke", lam_values=[1.5]), "lam_values"),
        (lambda: presets.resolve("fig31_real_fraction", "smoke", p_fixed=-0.1), "p_fixed"),
        (lambda: presets.resolve("fig10_fresh_data_limit", "smoke", replicates=0), "replicates"),
        (lambda: presets.resolve("fig11_admissible_nr_ns", "smoke", n_s_values=[10, 2.5]), "n_s_values"),
    ],
)
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


def test_smoke_output_never_lands_in_paper_figures(monkeypatch):
    monkeypatch.delenv("MADLIB_OUT", raising=False)
    assert presets.output_dir("smoke").parts[-2:] == ("build", "smoke")
    assert presets.output_dir("default").name == "paper_figures"


def test_default_preset_uses_the_papers_gaussian_sizes():
    fig10 = presets.resolve("fig10_fresh_data_limit", "default")
    assert (fig10["d"], fig10["n_r"], fig10["n_s"]) == (100, 100, 900)
    assert min(fig10["n_ini_values"]) == 100 and max(fig10["n_ini_values"]) == 10_000
    assert any(lam < 1 for lam in fig10["lam_values"]) and 1.0 in fig10["lam_values"]
    fig30 = presets.resolve("fig30_memory", "default")
    assert (fig30["d"], fig30["n_r"], fig30["n_s"], fig30["lam"]) == (100, 1000, 10_000, 1.0)
