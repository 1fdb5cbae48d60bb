"""Exploring never damages the committed results: only the batch regeneration (`madlib figures`, which sets
$MADLIB_PUBLISH=1) writes paper_figures/; every other run writes build/explore/<preset>/ (or $MADLIB_OUT), and every
claims.json entry records the preset, seed, overrides and madlib version it came from."""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

import madlib
from madlib import claims, cli, presets

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture
def unset_outputs(monkeypatch):
    monkeypatch.delenv("MADLIB_OUT", raising=False)
    monkeypatch.delenv(presets.PUBLISH_ENV, raising=False)


def test_interactive_runs_write_under_build_and_say_so(unset_outputs, capsys):
    out = presets.output("default")
    assert out.folder == presets.ROOT / "build" / "explore" / "default" and not out.published
    assert "build/explore/default/" in capsys.readouterr().out


@pytest.mark.parametrize("seed, overrides", [(0, {"generations": 5}), (3, None), (None, '{"d": 2}')])
def test_overrides_or_another_seed_never_publish(unset_outputs, monkeypatch, seed, overrides):
    monkeypatch.setenv(presets.PUBLISH_ENV, "1")
    out = presets.output("default", seed=seed, overrides=overrides)
    assert out.folder == presets.exploring_dir("default") and not out.published


def test_only_the_batch_run_at_the_presets_own_settings_publishes(unset_outputs, monkeypatch, capsys):
    monkeypatch.setenv(presets.PUBLISH_ENV, "1")
    out = presets.output("default", seed=0, overrides={})
    assert out.folder == presets.ROOT / "paper_figures" and out.published
    assert presets.output("smoke").folder == presets.ROOT / "build" / "smoke"
    assert "paper_figures/" in capsys.readouterr().out


def test_madlib_out_wins_everywhere(unset_outputs, monkeypatch, tmp_path):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    assert presets.output("default").folder == tmp_path
    monkeypatch.setenv(presets.PUBLISH_ENV, "1")
    assert presets.output("default").folder == tmp_path


def test_the_batch_runner_sets_publish_for_its_kernels_only(unset_outputs):
    with cli.kernel_environment():
        assert os.environ[presets.PUBLISH_ENV] == "1"
    assert presets.PUBLISH_ENV not in os.environ


def test_every_figure_uses_the_preset_seed():
    """output() treats seed PRESET_SEED as the preset's own; true only while every figure's seed setting is it."""
    seeds = {s["seed"] for f in presets.FIGURES_LIST for s in f.presets.values() if "seed" in s}
    assert seeds == {presets.PRESET_SEED}


def test_bad_preset_is_one_clear_error():
    with pytest.raises(ValueError, match="preset: unknown 'fast'; choose one of smoke, default, paper"):
        presets.output("fast")


def test_claims_record_where_they_came_from(unset_outputs, monkeypatch, tmp_path):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    out = presets.output("default", seed=2, overrides={"generations": 5})
    result = claims.check("fig03_loops_schematic", pd.DataFrame(), out)
    entry = claims.load(tmp_path / "claims.json")["fig03_loops_schematic"]
    assert entry == result
    assert (entry["preset"], entry["seed"], entry["overrides"], entry["madlib"]) == \
        ("default", 2, {"generations": 5}, madlib.__version__)
    assert "overrides {'generations': 5}" in claims.show(result)


def test_not_assessed_says_why(unset_outputs, monkeypatch, tmp_path):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    df = pd.DataFrame({"metric": ["trace"], "mean": [1.0], "sem": [0.1]})
    monkeypatch.setitem(claims.CHECKS, "figS1_gaussian_collapse", lambda df: [claims.Check("x", "supported", "e")])
    result = claims.check("figS1_gaussian_collapse", df, presets.output("smoke"))
    assert result["verdict"] == "not assessed"
    text = claims.show(result)
    assert "NOT ASSESSED" in text and "smoke preset only proves that the code runs" in text


def _snapshot(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_a_notebook_run_with_overrides_leaves_paper_figures_alone(unset_outputs, monkeypatch, tmp_path):
    """The issue's case: a papermill run with overrides (and no MADLIB_OUT) must not touch paper_figures/."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path / "store"))
    committed = presets.ROOT / "paper_figures"
    before = _snapshot(committed)
    papermill.execute_notebook(str(NOTEBOOKS / "figS1_gaussian_collapse.ipynb"), str(tmp_path / "run.ipynb"),
                               parameters={"preset": "smoke", "overrides": {"generations": 2}},
                               kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    assert _snapshot(committed) == before
    entry = claims.load(presets.exploring_dir("smoke") / "claims.json")["figS1_gaussian_collapse"]
    assert entry["overrides"] == {"generations": 2} and entry["preset"] == "smoke"
    assert (presets.exploring_dir("smoke") / "figS1_gaussian_collapse.png").exists()
