"""Bad input gets one clear ValueError that starts with the field's name; the good forms next to it still work."""

import dataclasses
import json

import numpy as np
import pytest

from madlib import loops, presets, runs
from madlib.models import gaussian

BASE = dict(variant="fresh_data", generations=3, n_ini=10, n_r=5, n_s=5)
FIG10 = "fig10_fresh_data_limit"


def spec(**fields):
    return loops.LoopSpec(**{**BASE, **fields})


# LoopSpec -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["no", "False", 0, 1, None])
def test_accumulate_must_be_a_bool(value):
    with pytest.raises(ValueError, match=r"^accumulate: must be True or False"):
        spec(accumulate=value)


def test_accumulate_takes_numpy_bools_as_plain_bools():
    made = spec(accumulate=np.True_)
    assert made.accumulate is True and json.dumps(made.asdict())


@pytest.mark.parametrize("n", [100.5, "100", 100.0, np.float64(100), True, -1])
def test_real_fraction_n_must_be_an_integer(n):
    with pytest.raises(ValueError, match=r"^n: must be an integer >= 0"):
        loops.LoopSpec("fresh_data", 3, n_ini=10, p_real=0.5, n=n)


@pytest.mark.parametrize("lam", [True, False, np.True_])
def test_lam_rejects_bools(lam):
    with pytest.raises(ValueError, match=r"^lam: the sampling bias must be a number in \[0, 1\]"):
        spec(lam=lam)


@pytest.mark.parametrize("lam", [float("nan"), np.float32("nan"), "0.5", None])
def test_lam_rejects_nan_and_non_numbers(lam):
    with pytest.raises(ValueError, match=r"^lam: .*\[0, 1\]"):
        spec(lam=lam)


@pytest.mark.parametrize("p_real", [float("nan"), True, "0.5"])
def test_p_real_rejects_nan_bools_and_non_numbers(p_real):
    with pytest.raises(ValueError, match=r"^p_real: .*\[0, 1\]"):
        loops.LoopSpec("fresh_data", 3, n_ini=10, p_real=p_real, n=100)


@pytest.mark.parametrize("fields, field", [(dict(n_r=7), "n_r"), (dict(n_s=7), "n_s"), (dict(n_r=50, n_s=7), "n_s")])
def test_explicit_sizes_that_contradict_the_real_fraction_form_are_an_error(fields, field):
    with pytest.raises(ValueError, match=rf"^{field}: the real-fraction form \(p_real=0.5, n=100\) sets n_r = 50"):
        loops.LoopSpec("fresh_data", 3, n_ini=10, p_real=0.5, n=100, **fields)


def test_explicit_sizes_equal_to_the_real_fraction_form_are_accepted():
    made = loops.LoopSpec("fresh_data", 3, n_ini=10, p_real=0.25, n=1001, n_r=250, n_s=751)
    assert (made.n_r, made.n_s) == (250, 751)


def test_replace_on_a_real_fraction_spec_works():
    sizes = loops.LoopSpec("fresh_data", 1, n_ini=2, p_real=0.25, n=1001)
    longer = dataclasses.replace(sizes, generations=40, n_ini=sizes.n_r + sizes.n_s)  # as gaussian_studies does
    assert (longer.generations, longer.n_ini, longer.n_r, longer.n_s) == (40, 1001, 250, 751)
    assert (longer.p_real, longer.n) == (0.25, 1001)
    with pytest.raises(ValueError, match=r"^n_r: .*n_r=0, n_s=0"):
        dataclasses.replace(sizes, p_real=0.5)  # the old derived sizes no longer fit: the message says what to do
    changed = dataclasses.replace(sizes, p_real=0.5, n_r=0, n_s=0)
    assert (changed.n_r, changed.n_s) == (500, 501)


@pytest.mark.parametrize("lam", [np.float32(0.5), np.float64(0.5), np.float32(0.8), np.float16(0.75)])
def test_numpy_real_lam_is_accepted_and_stored_as_a_float(lam):
    made = spec(lam=lam)
    assert type(made.lam) is float and made.lam == float(str(lam))
    assert runs.run_key(made, gaussian.GaussianModel(d=2)) == runs.run_key(spec(lam=float(str(lam))),
                                                                           gaussian.GaussianModel(d=2))


def test_numpy_integers_and_reals_become_plain_python_scalars():
    made = loops.LoopSpec("fresh_data", np.int64(3), n_ini=np.int32(10), memory=np.int64(2), seed=np.uint8(4),
                          p_real=np.float32(0.5), n=np.int64(100), lam=np.float64(0.9))
    fields = made.asdict()
    assert all(type(v) in (str, int, float, bool) for v in fields.values())
    assert fields == loops.LoopSpec("fresh_data", 3, n_ini=10, memory=2, seed=4, p_real=0.5, n=100, lam=0.9).asdict()
    json.dumps(fields)  # the run key is JSON


def test_numpy_floats_are_still_not_integers():
    with pytest.raises(ValueError, match=r"^n_s: must be an integer >= 0"):
        spec(n_s=np.float64(5.0))


# simulate_loop -------------------------------------------------------------------------------------------------------
def test_simulate_loop_checks_the_metric_before_running(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the loop ran before the metric was checked")

    monkeypatch.setattr(loops, "run", never)
    with pytest.raises(ValueError, match=r"^metric: must be one of wd, trace, log_trace, mean_norm, mean_1"):
        gaussian.simulate_loop("fresh_data", d=2, n_ini=10, n_r=5, n_s=5, generations=3, metric="foo")


def test_the_metric_names_are_what_evaluate_returns():
    model = gaussian.GaussianModel(d=3, replicates=2)
    fitted = model.fit(model.draw_real(10, np.random.default_rng(0)))
    assert tuple(model.evaluate(fitted)) == gaussian.METRICS


def test_simulate_loop_with_a_good_metric_still_runs():
    trace = gaussian.simulate_loop("fresh_data", d=2, n_ini=10, n_r=5, n_s=5, generations=3, metric="trace")
    assert trace.shape == (1, 3)


# resolve -------------------------------------------------------------------------------------------------------------
def test_seed_given_twice_is_one_error():
    with pytest.raises(ValueError, match=r"^seed: given both as the seed argument \(1\) and in overrides \(2\)"):
        presets.resolve(FIG10, "smoke", seed=1, overrides={"seed": 2})
    with pytest.raises(ValueError, match=r"^seed: given both"):
        presets.resolve(FIG10, "smoke", seed=1, overrides='{"seed": 2}')


def test_seed_replaces_the_presets_seed():
    assert presets.resolve(FIG10, "smoke", seed=7)["seed"] == 7
    assert presets.resolve(FIG10, "smoke", seed=None)["seed"] == 0
    assert presets.resolve(FIG10, "smoke", overrides={"seed": 3})["seed"] == 3


def test_seed_for_a_figure_without_one_is_an_error():
    with pytest.raises(ValueError, match=r"^seed: fig03_loops_schematic has no seed setting"):
        presets.resolve("fig03_loops_schematic", "smoke", seed=0)


@pytest.mark.parametrize("seed", [-1, "3", 1.5, True])
def test_seed_must_be_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=r"^seed: must be an integer >= 0"):
        presets.resolve(FIG10, "smoke", seed=seed)


@pytest.mark.parametrize("overrides", ["generations=5", "[1, 2]", "5", [("generations", 5)], 5, "{generations: [5"])
def test_overrides_that_are_not_a_mapping_point_to_papermills_yaml_form(overrides):
    with pytest.raises(ValueError, match=r"^overrides: .*-y 'overrides: \{generations: 5\}'"):
        presets.resolve(FIG10, "smoke", overrides=overrides)


def test_overrides_as_json_and_yaml_strings_work():
    expected = presets.resolve(FIG10, "smoke", overrides={"generations": 5, "ddpm": {"lam": 0.5}})
    assert presets.resolve(FIG10, "smoke", overrides='{"generations": 5, "ddpm": {"lam": 0.5}}') == expected
    assert presets.resolve(FIG10, "smoke", overrides="{generations: 5, ddpm: {lam: 0.5}}") == expected
    assert presets.resolve(FIG10, "smoke", overrides="generations: 5\nddpm:\n  lam: 0.5\n") == expected
    assert expected["generations"] == 5 and expected["ddpm"]["lam"] == 0.5


@pytest.mark.parametrize("empty", [None, "", "  ", "null", {}])
def test_empty_overrides_change_nothing(empty):
    assert presets.resolve(FIG10, "smoke", overrides=empty) == presets.resolve(FIG10, "smoke")


def test_keyword_overrides_still_work_and_merge_with_overrides():
    settings = presets.resolve(FIG10, "smoke", overrides={"replicates": 2}, lam_values=[0.5])
    assert (settings["replicates"], settings["lam_values"]) == (2, [0.5])
    with pytest.raises(ValueError, match=r"^replicates: given both in overrides"):
        presets.resolve(FIG10, "smoke", overrides={"replicates": 2}, replicates=3)


def test_nested_override_changes_only_that_key():
    before = presets.resolve(FIG10, "smoke")
    after = presets.resolve(FIG10, "smoke", overrides={"ddpm": {"lam": 0.5}})
    assert after["ddpm"]["lam"] == 0.5
    assert {k: v for k, v in after["ddpm"].items() if k != "lam"} == {
        k: v for k, v in before["ddpm"].items() if k != "lam"}
    assert {k: v for k, v in after.items() if k != "ddpm"} == {k: v for k, v in before.items() if k != "ddpm"}
    assert presets.FIGURES[FIG10].presets["smoke"]["ddpm"]["lam"] == 1.0  # the catalogue is untouched


def test_unknown_nested_key_names_the_dotted_path():
    with pytest.raises(ValueError, match=rf"^ddpm\.lamb: not a setting of {FIG10}; its ddpm settings are .*lam"):
        presets.resolve(FIG10, "smoke", overrides={"ddpm": {"lamb": 0.5}})


def test_a_group_must_be_overridden_with_a_mapping():
    with pytest.raises(ValueError, match=r"^ddpm: a group of settings"):
        presets.resolve(FIG10, "smoke", ddpm=5)


def test_model_groups_take_new_keyword_arguments():
    settings = presets.resolve(FIG10, "smoke", overrides={"ddpm": {"model": {"lr": 1e-3, "hidden": 8}}})
    model = settings["ddpm"]["model"]
    assert model["lr"] == 1e-3 and model["hidden"] == 8
    assert model["timesteps"] == presets.FIGURES[FIG10].presets["smoke"]["ddpm"]["model"]["timesteps"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"window": 0}, "window"),
        ({"window": -3}, "window"),
        ({"window": 16}, "window"),  # smoke generations = 15
        ({"window": 2.5}, "window"),
        ({"generations": 4}, "window"),  # window 5 > 4 generations
        ({"ddpm": {"window": 0}}, r"ddpm\.window"),
        ({"ddpm": {"window": 5}}, r"ddpm\.window"),  # smoke ddpm generations = 4
    ],
)
def test_window_lies_in_one_to_generations(overrides, field):
    with pytest.raises(ValueError, match=rf"^{field}: the number of last generations averaged must be an integer in"):
        presets.resolve(FIG10, "smoke", overrides=overrides)


def test_window_equal_to_generations_is_fine():
    settings = presets.resolve(FIG10, "smoke", overrides={"window": 15, "ddpm": {"window": 4}})
    assert (settings["window"], settings["ddpm"]["window"]) == (15, 4)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ddpm": {"lam": 1.5}}, r"ddpm\.lam: must be a number in \[0, 1\]; got 1\.5"),
        ({"ddpm": {"lam": True}}, r"ddpm\.lam: must be a number in \[0, 1\]; got True"),
        ({"ddpm": {"n_ini_values": [40, 0]}}, r"ddpm\.n_ini_values: values must be positive integers; got \[0\]"),
        ({"ddpm": {"generations": 0}}, r"ddpm\.generations: must be a positive integer; got 0"),
        ({"lam_values": [True]}, r"lam_values: values must be numbers in \[0, 1\]; got \[True\]"),
        ({"lam_values": [float("nan")]}, r"lam_values: values must be numbers in \[0, 1\]; got \[nan\]"),
    ],
)
def test_nested_settings_are_validated_by_dotted_path(overrides, message):
    with pytest.raises(ValueError, match=rf"^{message} in {FIG10}$"):
        presets.resolve(FIG10, "smoke", overrides=overrides)


@pytest.mark.parametrize(
    "figure, overrides, message",
    [
        (FIG10, {"lam_values": []}, r"lam_values: must be a non-empty list of numbers in \[0, 1\]; got \[\]"),
        (FIG10, {"n_ini_values": []}, r"n_ini_values: must be a non-empty list of positive integers; got \[\]"),
        (FIG10, {"ddpm": {"n_ini_values": []}},
         r"ddpm\.n_ini_values: must be a non-empty list of positive integers; got \[\]"),
        ("fig31_real_fraction", {"p_values": []}, r"p_values: must be a non-empty list of numbers in \[0, 1\]"),
        ("fig01_gan_fingerprint", {"generations": []}, r"generations: must be a non-empty list of positive integers"),
    ],
)
def test_an_empty_list_of_settings_is_an_error_naming_it(figure, overrides, message):
    with pytest.raises(ValueError, match=rf"^{message}"):
        presets.resolve(figure, "smoke", overrides=overrides)


def test_a_single_value_error_does_not_speak_of_values():
    with pytest.raises(ValueError) as error:
        presets.resolve(FIG10, "smoke", overrides={"replicates": 0})
    assert str(error.value) == f"replicates: must be a positive integer; got 0 in {FIG10}"


def test_numpy_scalars_pass_the_presets_checks():
    settings = presets.resolve(FIG10, "smoke", lam_values=[np.float32(0.5)], replicates=np.int64(4))
    assert settings["replicates"] == 4
