"""The run store: loop results on disk, keyed by the run's spec, written generation by generation.

The key follows the code. A run's key is a SHA-256 over its record (:func:`run_record`, stored as run.json): the loop
spec, the model's config, the madlib version, the thread count, and the fingerprint of the model's code
(:func:`madlib.codehash.code_record`): one hash over the source files of the module that defines the model class and of
every madlib module it imports, directly or not (models, metrics, loops, data, ...; found by parsing import
statements), and, for a model class of the user's outside madlib, of the file that defines it. So an edit of a
family's fitting, sampling or evaluation code, or of a metric it reports, gives its chains new keys and they are
computed anew, while an edit of what no model imports (plotting, claims, presets, the notebooks) keeps every key. The
store's own code (this module) and the progress bars are not hashed: see ``codehash.NOT_FOLLOWED`` for why. The
fingerprint is computed once per process (a few tens of milliseconds) and cached.

Layout of one run (``<store>/<key>/``):

    <key>.lock          the run's lock file (beside the run folder, which may be deleted and recreated)
    <key>/run.json      the run record: what the key was made of (its "code" lists the modules hashed)
    <key>/gen_0001/     one folder per finished generation, created under a temporary name and renamed
      metrics.npz       (the rename is atomic, so a folder either exists whole or not at all)
      model.state       the fitted model, kept where a resume may read it (see "Resuming" below)
      synthetic.state   the generation's synthetic set (only with accumulate, from generation 2 on; always kept)
      fixed_real.state  the fixed real set (generation 1 of the synthetic augmentation loop)

Many writers. :func:`run_or_load` holds an exclusive lock on ``<key>.lock`` (``filelock.FileLock``, an OS lock that
dies with its process, so a killed writer leaves no stale lock) while it checks run.json, cleans, reads, resumes and
computes. Another process, or another machine on the same filesystem, asking for the same run waits, then reads what
the first one wrote: no generation is ever computed twice. Reading a finished run holds the lock only while its
metrics are read. Runs with different keys never wait for each other.

One thread per chain. A chain is computed with one BLAS thread (threadpoolctl) and one torch thread, whatever the
caller has set (restored afterwards), so it gives the same numbers on every machine. The thread count
(``CHAIN_THREADS``) is part of the key and of run.json, so a resumed chain never mixes thread counts.

Stale temporary files. Under the lock no other writer of the run is alive, so every ``.tmp_gen_XXXX_<pid>`` folder and
every ``.<name>.<pid>.tmp`` file (from :func:`atomic_write_bytes`) in the run folder was left by a killed process;
they are deleted each time the run is opened.

Resuming. A finished run (every generation's metrics readable) is returned as it is: no model or data set is read.
Otherwise the run resumes after generation g, the largest g >= 0 such that

* generations 1..g all have readable metrics, and, as the loop needs them, readable ``synthetic.state`` files
  (accumulate: generations 2..g) and a readable ``fixed_real.state`` (synthetic augmentation: generation 1);
* the fitted models of generations max(1, g - memory + 1)..g are readable.

Generation folders after g are deleted and recomputed; since every generation draws from its own seeded stream
(:func:`madlib.loops.generation_rng`), the result equals an uninterrupted run bit for bit. To leave such a g, the
store keeps the models of the last ``memory`` + 1 generations (a killed or damaged newest generation is redone alone)
and of the ``memory`` generations that end at every multiple of ``CHECKPOINT_EVERY`` (the checkpoints); the other
models are deleted. So damage to generation t (its metrics or data files) resumes after the newest checkpoint before
t; only damage to the newest generation resumes right before it. The run falls back to generation 1 (g = 0,
everything recomputed) when generation 1's metrics or fixed real set are damaged, when the damage lies at or before
generation ``CHECKPOINT_EVERY`` (no checkpoint before it) and not in the newest generation, or when every kept model
window before the damage is itself damaged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from filelock import FileLock
from threadpoolctl import threadpool_limits

import madlib
from madlib import codehash, loops
from madlib import progress as report

DEFAULT_STORE = Path(__file__).resolve().parent.parent / ".madlib_store"
# What reading a damaged file can raise (numpy, zip, torch); such a generation is recomputed.
UNREADABLE = (OSError, ValueError, KeyError, EOFError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError)
CHAIN_THREADS = 1  # BLAS and torch threads of a chain computation; part of the run key
CHECKPOINT_EVERY = 10  # the models ending at every such generation are kept, so damage need not restart a run


def store_path(store: str | os.PathLike | None = None) -> Path:
    """The store folder: the argument, else $MADLIB_STORE, else .madlib_store/ in the checkout."""
    return Path(store or os.environ.get("MADLIB_STORE") or DEFAULT_STORE)


def run_record(spec: loops.LoopSpec, model: loops.LoopModel) -> dict[str, Any]:
    """What identifies a run: its spec, the model's config, the madlib version, the thread count and the fingerprint
    of the model's code (see "The key follows the code" in the module docstring)."""
    return {"spec": spec.asdict(), "model": model.config(), "madlib": madlib.__version__, "threads": CHAIN_THREADS,
            "code": codehash.code_record(type(model))}


def run_key(spec: loops.LoopSpec, model: loops.LoopModel) -> str:
    text = json.dumps(run_record(spec, model), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the body with CHAIN_THREADS BLAS/OpenMP threads and torch threads; restore the caller's settings after.

    torch is only touched when it is already imported: every model that uses torch imports it with its module.
    """
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(CHAIN_THREADS):
        if torch is not None:
            torch.set_num_threads(CHAIN_THREADS)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def run_or_load(
    spec: loops.LoopSpec,
    model: loops.LoopModel,
    store: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> list[loops.Metrics]:
    """Metrics of every generation of the run: read from the store, computing (and storing) what is missing.

    Progress over generations shows (madlib.progress) unless progress is False or $MADLIB_PROGRESS is 0; the
    generations read from the store count as done for a task collecting around this call (chains.load's).
    """
    folder = store_path(store) / run_key(spec, model)
    with _run_lock(folder):
        _check_record(folder, spec, model)
        _remove_stale_tmp(folder)
        history, state = _resume(folder, spec, model)
        report.advance(state.generation)
        if state.generation == spec.generations:
            return history
        _compute(folder, spec, model, history, state, progress)
    return history


def _run_lock(folder: Path) -> FileLock:
    folder.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder.with_name(folder.name + ".lock")))


def _compute(folder: Path, spec, model, history: list, state: loops.LoopState, progress: bool | None) -> None:
    """Run the loop on from `state`, storing each generation as it finishes and appending its metrics to history."""
    with report.task(f"{spec.variant} lam={spec.lam}", spec.generations, unit="generation", initial=state.generation,
                     enabled=progress) as generations:

        def commit(state: loops.LoopState, metrics: loops.Metrics) -> None:
            _write_generation(folder, spec, model, state, metrics)
            history.append(metrics)
            generations.update()

        with one_thread():
            loops.run(spec, model, state=state, on_generation=commit)


def _check_record(folder: Path, spec, model) -> None:
    record = run_record(spec, model)
    path = folder / "run.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError:
            stored = None
        if stored == json.loads(json.dumps(record)):
            return
        shutil.rmtree(folder)  # unreadable, or (vanishingly unlikely) another spec under this key
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(record, indent=1, sort_keys=True).encode())


def _remove_stale_tmp(folder: Path) -> None:
    """Delete the temporary folders and files of killed writers (call only under the run's lock)."""
    for path in folder.glob(".tmp_*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    for path in [*folder.glob(".*.tmp"), *folder.glob("gen_*/.*.tmp")]:
        path.unlink(missing_ok=True)


def _generation_dir(folder: Path, generation: int) -> Path:
    return folder / f"gen_{generation:04d}"


def _write_generation(folder: Path, spec, model, state: loops.LoopState, metrics: loops.Metrics) -> None:
    final = _generation_dir(folder, state.generation)
    tmp = folder / f".tmp_{final.name}_{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with open(tmp / "metrics.npz", "wb") as handle:
        np.savez(handle, **{k: np.asarray(v, dtype=float) for k, v in metrics.items()})
    model.save(state.models[-1], str(tmp / "model.state"))
    if spec.accumulate and state.generation > 1:
        model.save(state.pool[-1], str(tmp / "synthetic.state"))
    if state.generation == 1 and state.fixed_real is not None:
        model.save(state.fixed_real, str(tmp / "fixed_real.state"))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    _drop_old_model(folder, spec, state.generation - spec.memory - 1)


def _in_checkpoint_window(generation: int, memory: int) -> bool:
    """Whether a resume after some checkpoint (a multiple of CHECKPOINT_EVERY) needs this generation's model: the
    checkpoint lies in generation..generation + memory - 1."""
    last_of_window = generation + memory - 1
    return last_of_window // CHECKPOINT_EVERY * CHECKPOINT_EVERY >= generation


def _drop_old_model(folder: Path, spec, generation: int) -> None:
    """Free the space of a fitted model no resume will read: the newest generation still keeps the models of the
    last `memory` + 1 generations, and the checkpoint windows are kept for good."""
    if generation >= 1 and not _in_checkpoint_window(generation, spec.memory):
        (_generation_dir(folder, generation) / "model.state").unlink(missing_ok=True)


def _resume(folder: Path, spec, model) -> tuple[list[loops.Metrics], loops.LoopState]:
    """The metrics of the generations kept and the loop state after the last of them (see "Resuming" in the module
    docstring); generation folders after it are deleted."""
    history = _read_metrics(folder, spec.generations)
    if len(history) == spec.generations:
        return history, loops.LoopState(generation=spec.generations)
    state = _read_data(folder, spec, model, len(history))
    state.models = []
    while state.generation > 0:
        first = max(1, state.generation - spec.memory + 1)
        models = _read_models(folder, model, range(first, state.generation + 1))
        if models is not None:
            state.models = models
            break
        state.generation -= 1
    state.pool = state.pool[: max(0, state.generation - 1)]
    if state.generation == 0:
        state.fixed_real = None
    _discard_from(folder, state.generation + 1)
    return history[: state.generation], state


def _read_metrics(folder: Path, generations: int) -> list[loops.Metrics]:
    """The metrics of generations 1, 2, ... up to the first missing or unreadable one."""
    history = []
    for generation in range(1, generations + 1):
        try:
            with np.load(_generation_dir(folder, generation) / "metrics.npz") as z:
                history.append({k: z[k] for k in z.files})
        except UNREADABLE:
            break
    return history


def _read_data(folder: Path, spec, model, generations: int) -> loops.LoopState:
    """The fixed real set and the synthetic pool of generations 1..n, for the largest n <= generations whose files
    are all readable; the state's generation is that n."""
    state = loops.LoopState()
    for generation in range(1, generations + 1):
        gen_dir = _generation_dir(folder, generation)
        try:
            if spec.accumulate and generation > 1:
                state.pool.append(model.load(str(gen_dir / "synthetic.state")))
            if generation == 1 and spec.variant == "synthetic_augmentation":
                state.fixed_real = model.load(str(gen_dir / "fixed_real.state"))
        except UNREADABLE:
            break
        state.generation = generation
    return state


def _read_models(folder: Path, model, generations: range) -> list | None:
    """The fitted models of these generations, or None when one of them is missing or unreadable."""
    paths = [_generation_dir(folder, g) / "model.state" for g in generations]
    if not all(path.is_file() for path in paths):
        return None
    try:
        return [model.load(str(path)) for path in paths]
    except UNREADABLE:
        return None


def _discard_from(folder: Path, generation: int) -> None:
    for gen_dir in folder.glob("gen_*"):
        if int(gen_dir.name[4:]) >= generation:
            shutil.rmtree(gen_dir)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file so that readers see either the old or the new content, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_torch_state(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """A checkpoint (a dict of tensors and plain values) written with torch.save, atomically."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_torch_state(path: str | os.PathLike, kinds: tuple[str, ...], family: str) -> dict[str, Any]:
    """A checkpoint written by write_torch_state, loaded with ``weights_only=True``; ValueError naming the path when it
    is not a dict whose "kind" is one of ``kinds`` (a foreign or damaged file)."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("kind") not in kinds:
        raise ValueError(f"{path}: not a {family} checkpoint")
    return state


def clean(store: str | os.PathLike | None = None) -> Path:
    """Delete every stored run; return the folder that was emptied."""
    folder = store_path(store)
    shutil.rmtree(folder, ignore_errors=True)
    return folder
