"""benchmarks/calibration.py: the criterion of issue 17 judged on constructed rows, and the loop it measures at the
smoke sizes."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "calibration.py"
spec = importlib.util.spec_from_file_location("calibration_benchmark", SCRIPT)
calibration = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibration)


def row(generation, kept=0.97, pixels=0.96, fid=15.0, recall=0.9, seconds=60.0):
    return {"seed": 0, "generation": generation, "dispersion_train": kept, "dispersion_train_se": 0.01,
            "pixel_dispersion_train": pixels, "dispersion_real": kept, "fid": fid, "recall": recall,
            "seconds": seconds}


def test_the_criterion_at_its_edges():
    good = [row(1), row(2), row(3)]
    assert calibration.criterion_failures("ddpm", good) == []
    assert calibration.criterion_failures("ddpm", [row(1), row(2, kept=0.949), row(3)]) == \
        ["generation 2: kept 0.949 < 0.95"]
    assert len(calibration.criterion_failures("ddpm", [row(1, pixels=0.94, fid=20.5, recall=0.84), row(2)])) == 3
    assert calibration.criterion_failures("ddpm", [row(1, seconds=100), row(2, seconds=90)]) == \
        ["95 s per generation > 90"]
    assert calibration.criterion_failures("style", [row(1, fid=25.0, pixels=0.5, recall=0.1, seconds=500)]) == []
    assert calibration.criterion_failures("wgan-gp", [row(1, fid=61.0)]) == ["generation 1: FID 61.0 > 60"]
    assert calibration.criterion_failures("ddpm", [row(1, kept=float("nan"))])  # no measurement is no pass


def test_bad_model_is_refused():
    with pytest.raises(ValueError, match="^model: must be one of ddpm, style, wgan-gp"):
        calibration.model_settings("vae")


@pytest.mark.parametrize("model", ["ddpm", "style"])
def test_the_loop_at_smoke_sizes_gives_a_row_per_generation(model):
    settings = calibration.model_settings(model, quick=True, overrides={"n_eval": 40} if model == "style" else None)
    rows = calibration.measure(model, settings, calibration.loop_spec(model, 2, seed=3, quick=True))
    assert [r["generation"] for r in rows] == [1, 2] and all(r["seed"] == 3 for r in rows)
    for r in rows:
        assert np.isfinite([r["dispersion_train"], r["fid"], r["recall"], r["seconds"]]).all()
        assert r["dispersion_train"] > 0 and r["seconds"] > 0
    assert "| 3 | 2 |" in calibration.table(rows)
