"""The run store: loads what it has, recomputes what is missing or broken, resumes a killed run exactly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from madlib import loops, runs
from madlib.models.gaussian import GaussianModel
from support import gaussian_fits  # noqa: F401 (a fixture)

SPECS = {
    "fresh_memory": loops.LoopSpec("fresh_data", 12, n_ini=30, n_r=20, n_s=40, lam=0.9, memory=2, seed=3),
    "augment_pool": loops.LoopSpec("synthetic_augmentation", 12, n_ini=25, n_r=20, n_s=15, accumulate=True, seed=4),
}


class CountingModel(GaussianModel):
    fits = 0

    def fit(self, data, rng=None):
        CountingModel.fits += 1
        return super().fit(data, rng)


def wd(history):
    return np.stack([h["wd"] for h in history])


@pytest.mark.parametrize("name", list(SPECS))
def test_store_equals_plain_run_and_loads_without_refitting(tmp_path, name):
    spec, model = SPECS[name], CountingModel(d=5, replicates=3)
    plain = wd(loops.run(spec, model))
    CountingModel.fits = 0
    first = wd(runs.run_or_load(spec, model, store=tmp_path, progress=False))
    assert CountingModel.fits == spec.generations and np.array_equal(first, plain)
    again = wd(runs.run_or_load(spec, model, store=tmp_path, progress=False))
    assert CountingModel.fits == spec.generations and np.array_equal(again, plain)


def test_a_changed_spec_or_model_is_a_different_run(tmp_path):
    spec, model = SPECS["fresh_memory"], GaussianModel(d=5, replicates=3)
    keys = {runs.run_key(spec, model), runs.run_key(loops.LoopSpec(**{**spec.asdict(), "lam": 0.8}), model),
            runs.run_key(loops.LoopSpec(**{**spec.asdict(), "seed": 9}), model),
            runs.run_key(spec, GaussianModel(d=5, replicates=3, method="direct"))}
    assert len(keys) == 4


@pytest.mark.parametrize("broken, refits", [(12, 1), (7, 12)])
def test_a_corrupt_generation_is_recomputed_not_used(tmp_path, broken, refits):
    """The last generation is redone alone; an older one takes every later generation with it, and with no
    checkpoint before it (generation 7 < CHECKPOINT_EVERY) the run restarts from scratch (to the same numbers)."""
    assert broken == 12 or broken <= runs.CHECKPOINT_EVERY
    spec, model = SPECS["fresh_memory"], CountingModel(d=5, replicates=3)
    good = wd(runs.run_or_load(spec, model, store=tmp_path, progress=False))
    folder = tmp_path / runs.run_key(spec, model)
    (folder / f"gen_{broken:04d}" / "metrics.npz").write_bytes(b"PK\x03\x04 truncated")
    CountingModel.fits = 0
    again = wd(runs.run_or_load(spec, model, store=tmp_path, progress=False))
    assert np.array_equal(again, good) and CountingModel.fits == refits


def test_models_are_kept_for_the_memory_window_and_the_checkpoints(tmp_path):
    """The last memory + 1 models (to redo the newest generation) and the `memory` models ending at each multiple of
    CHECKPOINT_EVERY (to resume from there)."""
    every = runs.CHECKPOINT_EVERY
    spec = loops.LoopSpec(**{**SPECS["fresh_memory"].asdict(), "generations": 2 * every + 5})
    model = GaussianModel(d=2, replicates=1)
    runs.run_or_load(spec, model, store=tmp_path, progress=False)
    kept = {int(p.parent.name[4:]) for p in (tmp_path / runs.run_key(spec, model)).glob("gen_*/model.state")}
    last = set(range(spec.generations - spec.memory, spec.generations + 1))
    windows = {c - back for c in (every, 2 * every) for back in range(spec.memory)}
    assert kept == last | windows


def test_clean_empties_the_store(tmp_path):
    runs.run_or_load(SPECS["fresh_memory"], GaussianModel(d=5, replicates=3), store=tmp_path / "s", progress=False)
    runs.clean(tmp_path / "s")
    assert not (tmp_path / "s").exists()


CHILD = """
import sys, time
from madlib import loops, runs
from madlib.models.gaussian import GaussianModel

fit = GaussianModel.fit

def slow_fit(self, data, rng=None):  # slowed in place: a subclass would be another class, with another run key
    time.sleep(0.15)
    return fit(self, data, rng)

GaussianModel.fit = slow_fit
spec = loops.LoopSpec(**eval(sys.argv[2]))
runs.run_or_load(spec, GaussianModel(d=5, replicates=3), store=sys.argv[1], progress=False)
"""


def kill_mid_run(child_code: str, store: Path, spec: loops.LoopSpec, model) -> Path:
    """Run child_code (computing spec into store) in a child process and SIGKILL it once 4 generations are stored;
    return the run's folder."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    child = subprocess.Popen([sys.executable, "-c", child_code, str(store), repr(spec.asdict())], env=env)
    folder = store / runs.run_key(spec, model)
    deadline = time.time() + 60
    while len(list(folder.glob("gen_*"))) < 4 and time.time() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert 4 <= len(list(folder.glob("gen_*"))) < spec.generations, "the child was not killed mid-run"
    return folder


@pytest.mark.parametrize("name", list(SPECS))
def test_a_killed_run_resumes_to_the_same_numbers(tmp_path, name, gaussian_fits):
    spec = loops.LoopSpec(**{**SPECS[name].asdict(), "generations": 40})
    store = tmp_path / "killed"
    folder = kill_mid_run(CHILD, store, spec, GaussianModel(d=5, replicates=3))
    finished = len(list(folder.glob("gen_*")))
    resumed = wd(runs.run_or_load(spec, GaussianModel(d=5, replicates=3), store=store, progress=False))
    assert len(gaussian_fits) == spec.generations - finished
    assert not list(folder.glob(".tmp_*")), "the killed child's temporary folder was not cleaned"
    uninterrupted = wd(runs.run_or_load(spec, GaussianModel(d=5, replicates=3), store=tmp_path / "fresh",
                                        progress=False))
    assert np.array_equal(resumed, uninterrupted)


# Accumulate-subsample: the pool is stored, the draw from it is replayed from its own stream ---------------------------
SUBSAMPLE_SPEC = loops.LoopSpec("synthetic_augmentation", 40, n_ini=20, n_r=20, n_s=20, accumulate=True,
                                pool_size=20, seed=5)

CHILD_DIRECT = CHILD.replace("GaussianModel(d=5, replicates=3)", "GaussianModel(d=5, replicates=3, method='direct')")


def test_a_killed_accumulate_subsample_run_resumes_to_the_same_numbers(tmp_path, gaussian_fits):
    store = tmp_path / "killed"
    folder = kill_mid_run(CHILD_DIRECT, store, SUBSAMPLE_SPEC, GaussianModel(d=5, replicates=3, method="direct"))
    finished = len(list(folder.glob("gen_*")))
    resumed = wd(runs.run_or_load(SUBSAMPLE_SPEC, GaussianModel(d=5, replicates=3, method="direct"), store=store,
                                  progress=False))
    assert len(gaussian_fits) == SUBSAMPLE_SPEC.generations - finished
    uninterrupted = wd(loops.run(SUBSAMPLE_SPEC, GaussianModel(d=5, replicates=3, method="direct")))
    assert np.array_equal(resumed, uninterrupted)


def test_the_exact_gaussian_path_refuses_to_subsample(tmp_path):
    with pytest.raises(ValueError, match="^method: drawing a training set from the pool"):
        runs.run_or_load(SUBSAMPLE_SPEC, GaussianModel(d=5, replicates=3), store=tmp_path, progress=False)


def test_a_spec_without_pool_size_keeps_its_store_key():
    """The key of a spec written before pool_size existed, from a literal copy of the fields it had then."""
    import hashlib
    import json

    import madlib
    from madlib import codehash

    spec, model = SPECS["augment_pool"], GaussianModel(d=5, replicates=3)
    then = {"variant": "synthetic_augmentation", "generations": 12, "n_ini": 25, "n_r": 20, "n_s": 15, "lam": 1.0,
            "memory": 1, "accumulate": True, "p_real": None, "n": None, "seed": 4}
    record = {"spec": then, "model": model.config(), "madlib": madlib.__version__, "threads": runs.CHAIN_THREADS,
              "code": codehash.code_record(GaussianModel)}
    assert runs.run_key(spec, model) == hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:20]
    subsampled = loops.LoopSpec(**then, pool_size=30)
    assert runs.run_key(subsampled, model) != runs.run_key(spec, model)
