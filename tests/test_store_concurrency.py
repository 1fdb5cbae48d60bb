"""The run store with many writers and damaged files: one lock per run key, one thread per chain, stale temporary
files cleaned, and a damaged older generation resumed from the newest intact checkpoint to the same numbers."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from filelock import FileLock
from threadpoolctl import threadpool_info, threadpool_limits

from madlib import loops, runs
from madlib.models import flow
from madlib.models.gaussian import GaussianModel

ROOT = Path(__file__).resolve().parent.parent
EVERY = runs.CHECKPOINT_EVERY


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("MADLIB_PROGRESS", "0")


class CountingModel(GaussianModel):
    """A Gaussian model that counts its fits."""

    fits = 0

    def fit(self, data, rng=None):
        CountingModel.fits += 1
        return super().fit(data, rng)


def same_metrics(a, b):
    """Bit for bit (a metric a model leaves undefined is NaN in both)."""
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x) for x, y in zip(a, b))


def run_folder(store, spec, model):
    return Path(store) / runs.run_key(spec, model)


# ------------------------------------------------------------------------------------------------ many writers

WRITER = """
import os, sys, time
import numpy as np
from madlib import loops, runs
from madlib.models.gaussian import GaussianModel

store, log, ready, go, out, fields = sys.argv[1:7]

class Logged(GaussianModel):
    def fit(self, data, rng=None):
        with open(log, "a") as handle:  # one short append per fit: lines from several processes do not mix
            handle.write(f"{os.getpid()}\\n")
        time.sleep(0.02)
        return super().fit(data, rng)

open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
history = runs.run_or_load(loops.LoopSpec(**eval(fields)), Logged(d=4, replicates=2), store=store, progress=False)
np.save(out, np.stack([h["wd"] for h in history]))
"""


def start_writers(tmp_path, spec, count):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MADLIB_PROGRESS": "0"}
    return [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "store"), str(tmp_path / "fits.log"),
                              str(tmp_path / f"ready_{i}"), str(tmp_path / "go"), str(tmp_path / f"out_{i}.npy"),
                              repr(spec.asdict())], env=env) for i in range(count)]


def release_together(tmp_path, writers):
    """Let the writers into run_or_load at the same moment, once all of them have imported everything."""
    deadline = time.time() + 60
    while sum((tmp_path / f"ready_{i}").exists() for i in range(len(writers))) < len(writers):
        assert time.time() < deadline and all(w.poll() is None for w in writers), "a writer did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()


def test_three_processes_on_one_chain_compute_each_generation_once(tmp_path):
    spec = loops.LoopSpec("fresh_data", 15, n_ini=20, n_r=10, n_s=20, memory=2, seed=11)
    writers = start_writers(tmp_path, spec, 3)
    release_together(tmp_path, writers)
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    results = [np.load(tmp_path / f"out_{i}.npy") for i in range(3)]
    plain = np.stack([h["wd"] for h in loops.run(spec, GaussianModel(d=4, replicates=2))])
    assert all(np.array_equal(result, plain) for result in results)
    fits = (tmp_path / "fits.log").read_text().split()
    assert len(fits) == spec.generations, f"{len(fits)} fits for {spec.generations} generations"


def call_in_thread(function, *args, **kwargs):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, result


def test_a_held_key_makes_its_run_wait_and_no_other(tmp_path):
    spec, model = loops.LoopSpec("fully_synthetic", 5, n_ini=20, n_s=20, seed=1), GaussianModel(d=3, replicates=2)
    other = loops.LoopSpec(**{**spec.asdict(), "seed": 2})
    lock_path = tmp_path / f"{runs.run_key(spec, model)}.lock"
    with FileLock(str(lock_path)):
        free, _ = call_in_thread(runs.run_or_load, other, model, store=tmp_path, progress=False)
        free.join(timeout=30)
        assert not free.is_alive(), "a run waited on another key's lock"
        held, result = call_in_thread(runs.run_or_load, spec, model, store=tmp_path, progress=False)
        held.join(timeout=0.5)
        assert held.is_alive() and not run_folder(tmp_path, spec, model).exists(), "a run ignored its key's lock"
    held.join(timeout=30)
    assert not held.is_alive() and same_metrics(result["value"], loops.run(spec, model))


# ------------------------------------------------------------------------------------------------ stale files


def test_stale_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    spec, model = loops.LoopSpec("fully_synthetic", 4, n_ini=20, n_s=20, seed=1), GaussianModel(d=3, replicates=2)
    first = runs.run_or_load(spec, model, store=tmp_path, progress=False)
    folder = run_folder(tmp_path, spec, model)
    stale_dir = folder / ".tmp_gen_0003_999999"
    stale_dir.mkdir()
    (stale_dir / "metrics.npz").write_bytes(b"half written")
    stale_file = folder / ".run.json.999999.tmp"
    stale_file.write_bytes(b"{")
    again = runs.run_or_load(spec, model, store=tmp_path, progress=False)
    assert not stale_dir.exists() and not stale_file.exists()
    assert same_metrics(first, again)


# ------------------------------------------------------------------------------------------------ resuming


def truncate(path):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def newest_checkpoint_before(generation):
    return (generation - 1) // EVERY * EVERY


DAMAGE = {
    # name: (spec, files to truncate as (generation, file name), the generation the run resumes after)
    "metrics, memory 1": (
        loops.LoopSpec("fully_synthetic", 2 * EVERY + 5, n_ini=20, n_s=20, lam=0.9, seed=5),
        [(EVERY + 7, "metrics.npz")], newest_checkpoint_before(EVERY + 7)),
    "pool, memory 2, unfinished run": (
        loops.LoopSpec("synthetic_augmentation", 2 * EVERY + 5, n_ini=20, n_r=15, n_s=10, memory=2,
                       accumulate=True, seed=6),
        [(2 * EVERY + 2, "synthetic.state"), (2 * EVERY + 5, "metrics.npz")], newest_checkpoint_before(2 * EVERY + 2)),
    "metrics and the checkpoint model before them": (
        loops.LoopSpec("fresh_data", 2 * EVERY + 5, n_ini=20, n_r=10, n_s=20, seed=7),
        [(2 * EVERY + 3, "metrics.npz"), (2 * EVERY, "model.state")], newest_checkpoint_before(2 * EVERY)),
    "metrics before the first checkpoint": (
        loops.LoopSpec("fully_synthetic", EVERY + 5, n_ini=20, n_s=20, seed=8),
        [(EVERY - 1, "metrics.npz")], 0),
    "the fixed real set, unfinished run": (
        loops.LoopSpec("synthetic_augmentation", EVERY + 5, n_ini=20, n_r=20, n_s=10, seed=9),
        [(1, "fixed_real.state"), (EVERY + 5, "metrics.npz")], 0),
    "the pool of a finished run (not needed)": (
        loops.LoopSpec("fresh_data", EVERY + 5, n_ini=20, n_r=10, n_s=20, accumulate=True, seed=10),
        [(EVERY + 2, "synthetic.state")], EVERY + 5),
}


def mark_generations(folder):
    """Put a marker file in every generation folder; a recomputed generation is a new folder, without it."""
    for gen_dir in folder.glob("gen_*"):
        (gen_dir / "untouched").touch()


def untouched_generations(folder):
    return {int(p.parent.name[4:]) for p in folder.glob("gen_*/untouched")}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damage_resumes_from_the_newest_intact_checkpoint(tmp_path, name):
    spec, damage, resume_after = DAMAGE[name]
    model = CountingModel(d=3, replicates=2)
    good = runs.run_or_load(spec, model, store=tmp_path, progress=False)
    folder = run_folder(tmp_path, spec, model)
    mark_generations(folder)
    for generation, file in damage:
        truncate(folder / f"gen_{generation:04d}" / file)
    CountingModel.fits = 0
    again = runs.run_or_load(spec, model, store=tmp_path, progress=False)
    assert CountingModel.fits == spec.generations - resume_after
    assert untouched_generations(folder) == set(range(1, resume_after + 1))
    assert same_metrics(again, good) and same_metrics(again, loops.run(spec, GaussianModel(d=3, replicates=2)))


# ------------------------------------------------------------------------------------------------ threads

TINY_FLOW = dict(steps=2, hidden=16, epochs=2, batch_size=128, n_eval=400, n_ot=100, n_keep=50, device="cpu")


class ThreadRecordingFlow(flow.FlowModel):
    """A flow that notes the torch and BLAS thread counts it is fitted under."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self.seen = []

    def fit(self, points, rng):
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        self.seen.append((torch.get_num_threads(), max(blas, default=1)))
        return super().fit(points, rng)


def test_the_thread_count_is_part_of_the_record(tmp_path):
    spec, model = loops.LoopSpec("fully_synthetic", 2, n_ini=20, n_s=20), GaussianModel(d=3, replicates=2)
    assert runs.run_record(spec, model)["threads"] == runs.CHAIN_THREADS == 1
    runs.run_or_load(spec, model, store=tmp_path, progress=False)
    assert json.loads((run_folder(tmp_path, spec, model) / "run.json").read_text())["threads"] == 1


def test_a_chain_runs_on_one_thread_whatever_the_caller_set(tmp_path):
    spec = loops.LoopSpec("fully_synthetic", 2, n_ini=200, n_s=200, lam=0.8, seed=5)
    caller = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        model = ThreadRecordingFlow(**TINY_FLOW)
        stored = runs.run_or_load(spec, model, store=tmp_path, progress=False)
        assert torch.get_num_threads() == 2, "the caller's thread count was not restored"
        assert model.seen == [(1, 1)] * spec.generations
        torch.set_num_threads(1)
        with threadpool_limits(1):
            reference = loops.run(spec, flow.FlowModel(**TINY_FLOW))
    finally:
        torch.set_num_threads(caller)
    assert same_metrics(stored, reference)
