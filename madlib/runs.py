"""The run store: loop results on disk, keyed by the run's spec, written generation by generation.

Layout of one run (``<store>/<key>/``, key = hash of loop spec + model config + madlib version):

    run.json            the spec, the model config and the madlib version (what the key was made of)
    gen_0001/           one folder per finished generation, created under a temporary name and renamed
      metrics.npz       (the rename is atomic, so a folder either exists whole or not at all)
      model.state       the fitted model (kept for the last `memory` + 1 generations only: enough to resume)
      synthetic.state   the generation's synthetic set (only with accumulate)
      fixed_real.state  the fixed real set (generation 1 of the synthetic augmentation loop)

A killed run resumes after its last whole generation and, since every generation draws from its own seeded
stream, ends with the same numbers as an uninterrupted run. A generation folder that cannot be read is deleted
with everything after it and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import madlib
from madlib import loops

DEFAULT_STORE = Path(__file__).resolve().parent.parent / ".madlib_store"
# What reading a damaged file can raise (numpy, zip, torch); such a generation is recomputed.
UNREADABLE = (OSError, ValueError, KeyError, EOFError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError)


def store_path(store: str | os.PathLike | None = None) -> Path:
    """The store folder: the argument, else $MADLIB_STORE, else .madlib_store/ in the checkout."""
    return Path(store or os.environ.get("MADLIB_STORE") or DEFAULT_STORE)


def progress_enabled() -> bool:
    """Progress bars are on unless $MADLIB_PROGRESS is 0 (the batch runner and the tests turn them off)."""
    return os.environ.get("MADLIB_PROGRESS", "1") != "0"


def run_record(spec: loops.LoopSpec, model: loops.LoopModel) -> dict[str, Any]:
    return {"spec": spec.asdict(), "model": model.config(), "madlib": madlib.__version__}


def run_key(spec: loops.LoopSpec, model: loops.LoopModel) -> str:
    text = json.dumps(run_record(spec, model), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_or_load(
    spec: loops.LoopSpec,
    model: loops.LoopModel,
    store: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> list[loops.Metrics]:
    """Metrics of every generation of the run: read from the store, computing (and storing) what is missing.

    A progress bar over generations is shown unless progress is False or $MADLIB_PROGRESS is 0.
    """
    if progress is None:
        progress = progress_enabled()
    folder = store_path(store) / run_key(spec, model)
    _check_record(folder, spec, model)
    history, state = _resume(folder, spec, model)
    bar = tqdm(
        total=spec.generations, initial=state.generation, desc=f"{spec.variant} lam={spec.lam}",
        disable=not progress or state.generation == spec.generations, leave=False,
    )

    def commit(state: loops.LoopState, metrics: loops.Metrics) -> None:
        _write_generation(folder, spec, model, state, metrics)
        history.append(metrics)
        bar.update(1)

    loops.run(spec, model, state=state, on_generation=commit)
    bar.close()
    return history


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
    _drop_old_models(folder, state.generation - spec.memory - 1)


def _drop_old_models(folder: Path, last_unneeded: int) -> None:
    """Free the space of fitted models that no resume will read: resuming needs the last `memory` models, and one
    more in case the newest generation turns out unreadable."""
    if last_unneeded >= 1:
        stale = _generation_dir(folder, last_unneeded) / "model.state"
        stale.unlink(missing_ok=True)


def _resume(folder: Path, spec, model) -> tuple[list[loops.Metrics], loops.LoopState]:
    """Read the whole generations on disk (up to spec.generations) and rebuild the state after the last one."""
    history: list[loops.Metrics] = []
    state = loops.LoopState()
    for generation in range(1, spec.generations + 1):
        gen_dir = _generation_dir(folder, generation)
        if not gen_dir.is_dir():
            break
        try:
            with np.load(gen_dir / "metrics.npz") as z:
                history.append({k: z[k] for k in z.files})
            if spec.accumulate and generation > 1:
                state.pool.append(model.load(str(gen_dir / "synthetic.state")))
            if generation == 1 and spec.variant == "synthetic_augmentation":
                state.fixed_real = model.load(str(gen_dir / "fixed_real.state"))
        except UNREADABLE:
            _discard_from(folder, generation)
            break
        state.generation = generation
    try:
        first = max(1, state.generation - spec.memory + 1)
        state.models = [model.load(str(_generation_dir(folder, g) / "model.state")) for g in range(first, state.generation + 1)]
    except UNREADABLE:
        _discard_from(folder, 1)
        return [], loops.LoopState()
    return history, state


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
