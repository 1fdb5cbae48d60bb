"""benchmarks/gpu_check.py (`make gpu-check`): its CPU smoke size runs end to end and reports every number, and without
a GPU the full check stops with one message."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
MODELS = ("DDPM", "GAN")
SCORES = ("fid", "fid_se", "precision", "precision_se", "recall", "recall_se")
TIMING = ("train_steps_per_s", "images_per_s", "fit_seconds", "sample_seconds")


def run_script(*args, store: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MADLIB_PROGRESS": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if store is not None:
        env["MADLIB_STORE"] = str(store)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def finite_numbers(value, path="report"):
    """Every number in a nested report, with where it is (bools are flags, not numbers)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from finite_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from finite_numbers(item, f"{path}[{index}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The --tiny check on the CPU in a throw-away store: (report, stdout)."""
    folder = tmp_path_factory.mktemp("gpu_check")
    result = run_script("--tiny", "--device", "cpu", "--store", str(folder / "store"), "--json",
                        str(folder / "report.json"), store=folder / "env_store")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((folder / "report.json").read_text()), result.stdout


def test_tiny_report_has_every_field_with_finite_numbers(tiny):
    report, _ = tiny
    assert report["size"] == "tiny"
    assert report["machine"]["device"] == "cpu" and report["machine"]["torch"] == torch.__version__
    assert set(report["models"]) == set(MODELS)
    for name in MODELS:
        model = report["models"][name]
        assert all(model["timing"][key] > 0 for key in TIMING), model["timing"]
        assert set(SCORES) <= set(model["generation_1"])
        assert [row["generation"] for row in model["loop"]["generations"]] == [1, 2]
        for row in model["loop"]["generations"]:
            assert set(SCORES) <= set(row)
            assert 0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0 and row["fid"] >= 0.0
        assert model["generation_1"] == model["loop"]["generations"][0]
        assert model["paper_generation"]["seconds"] > 0
        assert model["reduced"]["dataset"] == ["mnist", "mnist-5k"]  # the offline digits, never a download
    bad = [(where, value) for where, value in finite_numbers(report) if not math.isfinite(value)]
    assert not bad, bad
    assert report["total_seconds"] > 0 and isinstance(report["within_budget"], bool)


def test_tiny_keeps_the_paper_preset_where_it_may(tiny):
    from madlib import presets

    report, _ = tiny
    ddpm, gan = report["models"]["DDPM"]["settings"], report["models"]["GAN"]["settings"]
    assert ddpm["backbone"] == "unet" and ddpm["lr"] == presets.DDPM_MODEL["paper"]["lr"]
    assert gan["architecture"] == "style" and gan["lr"] == presets.GAN_MODEL["paper"]["lr"]
    # every change from the paper preset is listed: the settings equal the preset but for the listed keys
    for name, paper in (("DDPM", presets.DDPM_MODEL["paper"]), ("GAN", presets.GAN_MODEL["paper"])):
        model = report["models"][name]
        unlisted = {k: v for k, v in model["settings"].items() if k not in model["reduced"]}
        assert unlisted == {k: v for k, v in paper.items() if k not in model["reduced"]}


def test_tiny_loop_was_computed_once_then_read_from_the_store(tiny):
    report, _ = tiny
    for name in MODELS:
        calls = report["models"][name]["loop"]["calls"]
        assert calls["fit"] == 2 and calls["evaluate"] == 2, calls  # the first read computed both generations
    reread = report["reread"]
    assert reread["calls"] == {"fit": 0, "sample": 0, "evaluate": 0}
    assert reread["store_unchanged"] is True and reread["computed_nothing"] is True


def test_tiny_prints_a_readable_table(tiny):
    report, stdout = tiny
    assert "train steps/s" in stdout and "paper generation" in stdout
    assert "computed nothing" in stdout and "mnist -> mnist-5k" in stdout
    lines = stdout.splitlines()
    for name in MODELS:  # one row in the speed table and one per generation in the loop's table
        assert sum(line.startswith(f"{name} ") for line in lines) == 3, stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_without_a_gpu_the_full_check_stops_with_one_message(tmp_path):
    result = run_script("--store", str(tmp_path / "store"))
    assert result.returncode == 1
    assert "no CUDA device was found" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "store").exists()  # stopped before doing anything
