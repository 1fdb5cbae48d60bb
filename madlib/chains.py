"""Chains as jobs: what chains a figure needs (its plan), one seed scheme, one way to read them into a tidy table, and
one runner that computes many chains in parallel (local one-thread processes or a Dask cluster).

A *chain* is one run of the loop engine: a model family, a :class:`madlib.loops.LoopSpec` and the model's keyword
arguments. Its store key (``runs.run_key``) is all that identifies it, so figures that need the same chain share it.

Seeds. A chain's seed comes from the figure's master seed, the chain's setting (family and every spec field except
``seed`` and ``generations``) and its replicate index: distinct settings draw independent streams (so, e.g., two
fresh data loops started from different n_ini never share their noise), the same setting in two figures is the same
chain, and a longer chain of the same setting begins with the shorter one's generations.

Standard errors. A setting's chains (its replicates; a Gaussian chain also batches replicates inside one run) give
the mean of each metric per generation and its SE between replicates. When a model stores an evaluation SE
(``<metric>_se``), the evaluation noise of the mean, sqrt(mean(se^2) / chains), is a floor under that SE (a few
replicates can agree by chance) and is the SE itself when there is one replicate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from madlib import loops, runs, tidy
from madlib import progress as report

# family -> (module, class of its LoopModel); the model is built from the chain's model arguments alone (the engine
# hands the run's lam to sample and evaluate)
FAMILIES = {
    "gaussian": ("madlib.models.gaussian", "GaussianModel"),
    "gmm": ("madlib.models.gmm", "GMMModel"),
    "flow": ("madlib.models.flow", "FlowModel"),
    "ddpm": ("madlib.models.ddpm", "DDPMModel"),
    "gan": ("madlib.models.gan", "GANModel"),
}


@dataclass(frozen=True, eq=False)
class Chain:
    """One loop run: ``family`` (a key of FAMILIES, or "package.module:Class" naming a user's own LoopModel), its
    spec, the model's keyword arguments, and ``labels``: extra columns of its tidy rows (e.g. {"model": "GAN"}) that
    are not part of what it computes."""

    family: str
    spec: loops.LoopSpec
    model: dict = dataclasses.field(default_factory=dict)
    labels: dict = dataclasses.field(default_factory=dict)
    replicate: int = 0

    def __post_init__(self):
        if self.family not in FAMILIES and self.family.count(":") != 1:
            raise ValueError(f"family: must be one of {', '.join(FAMILIES)} or 'package.module:Class' (your own "
                             f"LoopModel); got {self.family!r}")

    def build(self) -> loops.LoopModel:
        """A fresh LoopModel of this chain."""
        module, name = FAMILIES[self.family] if self.family in FAMILIES else self.family.split(":")
        return getattr(importlib.import_module(module), name)(**self.model)

    def key(self) -> str:
        return runs.run_key(self.spec, self.build())

    def setting(self) -> str:
        """What the chain's replicates share: everything but the seed (a JSON text, used to group rows)."""
        spec = {k: v for k, v in self.spec.asdict().items() if k != "seed"}
        return json.dumps({"family": self.family, "spec": spec, "model": self.model, "labels": self.labels},
                          sort_keys=True, default=str)

    def cost(self) -> float:
        """A rough estimate of the chain's compute time in seconds at one thread (only its order matters: the runner
        starts the longest chains first)."""
        return self.spec.generations * _cost_per_generation(self)


def _cost_per_generation(chain: Chain) -> float:
    spec, model = chain.spec, chain.model
    size = max(spec.n_ini, spec.n_r + spec.n_s * (1 if not spec.accumulate else spec.generations / 2))
    if chain.family == "ddpm":
        steps = model.get("train_steps", 2000)
        return 28.0 * steps / 1000 * (1.7 if spec.lam < 1 else 1.0)
    if chain.family == "gan":
        return 27.0 * model.get("train_steps", 500) / 500 * (1 + size / 20000)
    if chain.family == "flow":
        return 10.0 * model.get("epochs", 20) / 20 * size / 10000
    if chain.family == "gmm":
        return 0.15 * size / 2000
    d = model.get("d", 100)
    return 1.5e-9 * model.get("replicates", 1) * d**3  # measured: 0.018 s a generation at d = 100, 12 replicates


def chain_seed(master: int, family: str, spec_fields: dict, replicate: int = 0) -> int:
    """The seed of one chain: a function of the master seed, the setting (family and spec fields other than seed and
    generations) and the replicate index (see the module docstring)."""
    setting = {k: v for k, v in spec_fields.items() if k not in ("seed", "generations")}
    text = json.dumps({"family": family, "spec": setting}, sort_keys=True, default=float)
    digest = hashlib.sha256(text.encode()).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return int(np.random.SeedSequence([int(master), *words, int(replicate)]).generate_state(1)[0])


def make(family: str, seed: int, replicate: int = 0, model: dict | None = None, labels: dict | None = None,
         **spec_fields) -> Chain:
    """A chain of `family` with the given LoopSpec fields; its seed is chain_seed(seed, family, fields, replicate)."""
    probe = loops.LoopSpec(**spec_fields)  # validates the fields and resolves p_real / n
    fields = {k: v for k, v in probe.asdict().items() if k != "seed"}
    spec = dataclasses.replace(probe, seed=chain_seed(seed, family, fields, replicate))
    return Chain(family, spec, dict(model or {}), dict(labels or {}), replicate)


def replicates(family: str, seed: int, count: int, model: dict | None = None, labels: dict | None = None,
               **spec_fields) -> list[Chain]:
    """`count` independent chains of one setting (replicates 0 .. count-1)."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"replicates: must be an integer >= 1; got {count!r}")
    return [make(family, seed, r, model, labels, **spec_fields) for r in range(int(count))]


# Reading chains -----------------------------------------------------------------------------------------------------
def load(chains: Sequence[Chain], store=None, progress: bool | None = None) -> list[list[loops.Metrics]]:
    """Every chain's per-generation metrics, from the store, computing (one thread each) what is missing. Progress:
    one bar over all their generations (madlib.progress)."""
    chains = list(chains)
    with report.task(f"{len(chains)} chains", generations(chains), unit="generation", enabled=progress, collect=True):
        return [runs.run_or_load(c.spec, c.build(), store=store, progress=progress) for c in chains]


def generations(chains: Iterable[Chain]) -> int:
    """How many generations the chains have in all."""
    return sum(chain.spec.generations for chain in chains)


def tidy_frame(chains: Sequence[Chain], histories: Sequence[list[loops.Metrics]], metrics: Iterable[str]) -> pd.DataFrame:
    """One row per setting x generation x metric: mean and SE (see the module docstring), ``replicates`` = how many
    values the mean is over, and the chains' labels as columns."""
    groups: dict[str, list[int]] = {}
    for i, chain in enumerate(chains):
        groups.setdefault(chain.setting(), []).append(i)
    rows = []
    for members in groups.values():
        first = chains[members[0]]
        setting = {**tidy.setting_of(first.spec), **first.labels}
        for metric in metrics:
            values = np.concatenate([per_replicate(histories[i], metric) for i in members])
            mean, sem = tidy.mean_sem(values)
            if f"{metric}_se" in histories[members[0]][0]:
                floor = np.sqrt(np.mean(np.concatenate([per_replicate(histories[i], f"{metric}_se") ** 2
                                                        for i in members]), axis=0) / len(members))
                sem = floor if len(values) == 1 else np.fmax(sem, floor)
            rows += [{**setting, "generation": g + 1, "metric": metric, "mean": float(mean[g]),
                      "sem": float(sem[g]), "replicates": len(values)} for g in range(values.shape[1])]
    return tidy.frame(rows)


def per_replicate(history: list[loops.Metrics], metric: str) -> np.ndarray:
    """(replicates, generations) array of one scalar-per-replicate metric of one chain."""
    if metric not in history[0]:
        raise ValueError(f"metric: {metric!r} is not stored by this chain; it stores {', '.join(history[0])}")
    return np.stack([np.atleast_1d(np.asarray(h[metric], dtype=float)) for h in history], axis=1)


def run_chains(chains: Sequence[Chain], metrics: Iterable[str], store=None,
               progress: bool | None = None) -> tuple[pd.DataFrame, list[list[loops.Metrics]]]:
    """Load (or compute) the chains; return their tidy frame and their histories (for plotted arrays)."""
    histories = load(chains, store, progress)
    return tidy_frame(chains, histories, metrics), histories


# Figures' studies ----------------------------------------------------------------------------------------------------
# figure stem -> (plan, build): both take the figure's resolved settings as keyword arguments; plan returns the chains
# the figure reads (computing nothing), build returns its tidy.FigureData (reading, or computing, those chains).
STUDIES: dict[str, tuple[Callable, Callable]] = {}
STUDY_MODULES = ("madlib.gaussian_studies", "madlib.gmm_studies", "madlib.flow_studies", "madlib.ddpm_studies",
                 "madlib.gan_studies", "madlib.beyond_studies")


def study(*stems: str, plan: Callable) -> Callable:
    """Decorator of a figure's build function in a study module: ``@chains.study("fig04_...", plan=fig04_plan)``.
    The build function must read exactly the chains its plan returns (build them by calling the plan)."""
    def wrap(build: Callable) -> Callable:
        for stem in stems:
            STUDIES[stem] = (plan, build)
        return build
    return wrap


def _studies() -> dict[str, tuple[Callable, Callable]]:
    for module in STUDY_MODULES:
        importlib.import_module(module)
    return STUDIES


def plan(stem: str, preset: str | None = None, seed: int | None = None, overrides=None) -> list[Chain]:
    """The chains figure `stem` reads at a preset (with the notebook's seed and overrides), without computing any."""
    from madlib import presets

    return plan_settings(stem, presets.resolve(stem, preset, seed=seed, overrides=overrides))


def plan_settings(stem: str, settings: dict) -> list[Chain]:
    """The chains of a figure given its resolved settings ([] for a diagram)."""
    studies = _studies()
    return studies[stem][0](**settings) if stem in studies else []


def figure(stem: str, settings: dict) -> tidy.FigureData:
    """A figure's data from its resolved settings: reads its chains from the store, computing what is missing.
    Progress: one bar over every generation of the chains its plan names."""
    studies = _studies()
    if stem not in studies:
        raise ValueError(f"figure: {stem!r} has no study (a diagram?); figures with one: {', '.join(studies)}")
    plan, build = studies[stem]
    with report.task(stem, generations(plan(**settings)), unit="generation", collect=True):
        return build(**settings)


def unique(chains: Iterable[Chain]) -> list[Chain]:
    """Each store key once, longest (estimated) first."""
    by_key = {}
    for chain in chains:
        by_key.setdefault(chain.key(), chain)
    return sorted(by_key.values(), key=lambda c: -c.cost())


# The runner -----------------------------------------------------------------------------------------------------------
def _compute(chain: Chain, store: str) -> str:
    """Worker task: compute (or find) one chain in the store; return its key. In this process (jobs=1) its progress
    shows inside the runner's bar; workers run with MADLIB_PROGRESS=0."""
    runs.run_or_load(chain.spec, chain.build(), store=store)
    return chain.key()


def _setup_worker() -> None:
    """Initializer of a worker process: one BLAS and one torch thread for its whole life, and no progress bars of
    its own (the runner shows one bar over chains)."""
    from threadpoolctl import threadpool_limits

    os.environ["MADLIB_PROGRESS"] = "0"
    threadpool_limits(1)
    import torch

    torch.set_num_threads(1)


def compute(chains: Sequence[Chain], jobs: int | None = None, scheduler: str | None = None, store=None,
            progress: bool | None = None) -> list[str]:
    """Compute every distinct chain (longest first) and return their keys in the order they finished.

    ``scheduler`` None: ``jobs`` local worker processes (default: the number of cores), each with one thread;
    jobs=1 computes in this process. ``scheduler`` "local": a ``distributed.LocalCluster`` of ``jobs`` one-thread
    workers; any other value: the address of a running Dask scheduler (e.g. tcp://host:8786), whose workers must
    see the same store folder (a shared filesystem).
    Ctrl-C (KeyboardInterrupt) stops the workers and raises :class:`Interrupted`, which says how many chains were
    done; what they stored is kept, so computing the same chains again resumes where they stopped.
    """
    todo = unique(chains)
    store = str(runs.store_path(store))
    jobs = _check_jobs(jobs)
    with _Progress(todo, progress) as reporter:
        try:
            if scheduler is not None:
                return _compute_dask(todo, jobs, scheduler, store, reporter)
            if jobs == 1 or len(todo) <= 1:
                with runs.one_thread():
                    return [reporter.done(_compute(c, store), c) for c in todo]
            return _compute_processes(todo, jobs, store, reporter)
        except KeyboardInterrupt:
            raise Interrupted(reporter.finished, len(todo)) from None


class Interrupted(KeyboardInterrupt):
    """compute() was stopped by Ctrl-C after `finished` of its `total` distinct chains were done."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"interrupted after {finished} of {total} chains")
        self.finished, self.total = finished, total


class SchedulerError(ValueError):
    """The ``scheduler`` argument of compute() names no Dask scheduler that can be used (bad address, nothing answers
    there, or Dask's `distributed` package is missing)."""


SCHEDULER_TIMEOUT = 5  # seconds to wait for a Dask scheduler to answer before giving up


def worker_count(jobs: int | None = None) -> int:
    """The number of local workers: `jobs`, else the number of cores this process may use."""
    return _check_jobs(jobs)


def _check_jobs(jobs) -> int:
    if jobs is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"jobs: must be an integer >= 1 (worker processes); got {jobs!r}")
    return int(jobs)


def _compute_processes(todo: list[Chain], jobs: int, store: str, reporter) -> list[str]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    keys = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_setup_process_worker) as pool:
        pending = {pool.submit(_compute, chain, store): chain for chain in todo}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    keys.append(reporter.done(future.result(), pending.pop(future)))
        except KeyboardInterrupt:
            # Stop now rather than let the pool finish every chain: drop the queued ones and end the workers (the
            # store is made to survive killed writers; a rerun resumes after each chain's last finished generation).
            pool.shutdown(wait=False, cancel_futures=True)
            for worker in multiprocessing.active_children():
                worker.terminate()
            raise
    return keys


def _setup_process_worker() -> None:
    """Initializer of a local worker process: _setup_worker, and Ctrl-C ignored (it reaches the whole process group
    from a terminal): the runner, which gets it too, ends the workers itself, without a traceback from each."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _setup_worker()


def _compute_dask(todo: list[Chain], jobs: int, scheduler: str, store: str, reporter) -> list[str]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as error:
        raise SchedulerError("scheduler: needs Dask's `distributed` package: pip install -e \".[dask]\"") from error
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None) \
        if scheduler == "local" else None
    client = Client(cluster) if cluster is not None else _connect(Client, scheduler)
    try:
        client.run(_setup_worker)
        futures = {client.submit(_compute, chain, store, key=f"chain-{chain.key()}", pure=False,
                                 priority=round(chain.cost())): chain for chain in todo}
        return [reporter.done(future.result(), futures[future]) for future in as_completed(futures)]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(client_class, scheduler: str):
    """A Dask client of the scheduler at address `scheduler`; SchedulerError when it is not an address or nothing
    answers there within SCHEDULER_TIMEOUT seconds (Dask's own default waits 30 s)."""
    try:
        return client_class(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, ValueError, TypeError) as error:  # OSError: nothing answered; the others: not an address
        reason = (f"no Dask scheduler answered there within {SCHEDULER_TIMEOUT} s" if isinstance(error, OSError)
                  else f"not an address: {error}")
        raise SchedulerError(f"scheduler: cannot use {scheduler!r} ({reason}); give 'local' or the address of a "
                             "running Dask scheduler, e.g. tcp://host:8786") from None


def store_fingerprint(store=None) -> str:
    """A SHA-256 over every file of a run store (lock files aside): the members of zip containers (npz files, torch
    checkpoints), whose own bytes carry write times, and the bytes of everything else. Two stores holding the same
    results bit for bit have the same fingerprint."""
    import zipfile

    folder = runs.store_path(store)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")):
        digest.update(str(path.relative_to(folder)).encode())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    digest.update(member.encode() + archive.read(member))
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


class _Progress:
    """The runner's progress over chains (madlib.progress: a bar, or plain lines in a log), with the last chain done
    and an ETA that weighs the chains by their estimated cost (the longest run first, so a count-based ETA would be
    far too long)."""

    def __init__(self, todo: Sequence[Chain], enabled: bool | None):
        self.start = time.time()
        self.cost_total, self.cost_done = sum(c.cost() for c in todo), 0.0
        self.finished = 0  # chains done (computed or found in the store)
        self.task = report.task("chains", len(todo), unit="chain", enabled=enabled, eta=False, leave=True)

    def done(self, key: str, chain: Chain) -> str:
        self.cost_done += chain.cost()
        self.finished += 1
        elapsed = time.time() - self.start
        eta = elapsed * (self.cost_total - self.cost_done) / max(self.cost_done, 1e-9)
        last = f"{chain.family} {chain.spec.variant} lam={chain.spec.lam}"
        self.task.set_note(f"last {last}, eta {report.duration(eta)}")
        self.task.update()
        return key

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.task.close()
