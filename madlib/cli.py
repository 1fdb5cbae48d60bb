"""Command line: `madlib run` (compute the chains), `madlib figures` (run the notebooks), `madlib claims`, `madlib clean`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import weakref
from pathlib import Path

import nbformat

from madlib import chains, claims, gallery, presets, runs

NOTEBOOKS = presets.ROOT / "notebooks"
BUILD = presets.ROOT / "build"


class NotebooksInterrupted(KeyboardInterrupt):
    """`madlib figures` was stopped by Ctrl-C after `finished` of its `total` notebooks."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"interrupted after {finished} of {total} notebooks")
        self.finished, self.total = finished, total


class CommandError(ValueError):
    """Bad input to a command (an option, or the environment it reads): main() prints ``madlib <command>: <message>``
    on one line and returns 2; any other exception is a bug and keeps its traceback."""


def select(only: list[str] | None) -> list[str]:
    """Figure stems named by --only: a stem, its prefix (fig10) or its number (10, S1); all when None."""
    stems = list(presets.FIGURES)
    if not only:
        return stems
    chosen = []
    for name in only:
        key = name.lower().removeprefix("fig")
        matches = [s for s in stems if s == name or s.lower().removeprefix("fig").split("_")[0].lstrip("0") ==
                   key.lstrip("0")]
        if not matches:
            raise CommandError(f"--only: unknown figure {name!r}; choose from {', '.join(stems)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def run_notebook(stem: str, preset: str) -> Path:
    """Execute notebooks/<stem>.ipynb with papermill into build/<preset>/; return the executed copy."""
    import papermill

    out = BUILD / preset / f"{stem}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{stem}.ipynb"), str(out), parameters={"preset": preset}, kernel_name="python3",
        cwd=str(NOTEBOOKS), progress_bar=sys.stderr.isatty(), kernel_manager_class=kernel_manager_class(),
    )
    return out


# The kernels started by run_notebook: they run in a session of their own, so Ctrl-C in the terminal does not reach
# them; on Ctrl-C `madlib figures` ends them itself (end_kernels).
_KERNELS: weakref.WeakSet = weakref.WeakSet()


def kernel_manager_class() -> type:
    """The notebooks' kernel manager: jupyter_client's, with CurveZMQ transport encryption where the installed
    jupyter_client and pyzmq offer it (ipykernel >= 7.4 otherwise warns at every kernel start that it runs over TCP
    without encryption: one line of noise per notebook in the batch log); each one is listed in _KERNELS."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    encrypt = zmq.has("curve") and AsyncKernelManager.class_traits().get("transport_encryption")

    class BatchKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if encrypt:
                self.transport_encryption = "auto"  # encrypted when the kernelspec declares support (ipykernel's does)
            _KERNELS.add(self)

    return BatchKernelManager


def end_kernels() -> None:
    """Kill every kernel process run_notebook has started that is still running (papermill then fails its notebook
    within about a second)."""
    for manager in list(_KERNELS):
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()


def write_back(executed: Path, stem: str) -> None:
    """Store the executed outputs in notebooks/<stem>.ipynb (without papermill's injected cell and metadata), so the
    committed notebook shows the default preset's figure; its source, and so its jupytext twin, is unchanged."""
    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    nb.metadata.pop("papermill", None)
    target = NOTEBOOKS / f"{stem}.ipynb"
    runs.atomic_write_bytes(target, (nbformat.writes(nb) + "\n").encode())


# What the notebooks' kernels inherit: no tqdm bars (this command reports progress instead), no $MADLIB_PRESET (the
# preset is passed as a parameter), $MADLIB_PUBLISH=1 (this batch run, and only it, writes presets.output_dir:
# paper_figures/ at default), and one thread for BLAS, OpenMP and torch, so that a figure's numbers (t-SNE
# included) do not depend on the machine and several notebooks can run side by side.
KERNEL_ENVIRONMENT = {"MADLIB_PROGRESS": "0", "MADLIB_PRESET": None, presets.PUBLISH_ENV: "1",
                      "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def kernel_environment():
    """Set KERNEL_ENVIRONMENT (None: unset) for the kernels started inside; restore the caller's environment after."""
    saved = {key: os.environ.get(key) for key in KERNEL_ENVIRONMENT}
    try:
        for key, value in KERNEL_ENVIRONMENT.items():
            _set_env(key, value)
        yield
    finally:
        for key, value in saved.items():
            _set_env(key, value)


def _set_env(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def figures(preset: str, only: list[str] | None, jobs: int | None = 1) -> int:
    writable_store()
    with kernel_environment():
        return _run_figures(preset, select(only), jobs)


def _run_one(stem: str, preset: str) -> float:
    """Execute one notebook (and keep its default outputs); return its time; raise papermill's error."""
    start = time.time()
    executed = run_notebook(stem, preset)
    if preset == "default":
        write_back(executed, stem)
    return time.time() - start


def _run_figures(preset: str, stems: list[str], jobs: int = 1) -> int:
    """Run the notebooks, `jobs` at a time (each in its own kernel process), in the paper's order. Ctrl-C ends the
    running notebooks' kernels and raises NotebooksInterrupted."""
    from concurrent.futures import ThreadPoolExecutor, wait

    jobs = chains.worker_count(jobs)
    start = time.time()
    timings, failed, stopping = {}, [], []

    def one(stem: str) -> None:
        if failed or stopping:
            return  # after a failure or Ctrl-C, start no further notebook
        try:
            timings[stem] = _run_one(stem, preset)
        except Exception as error:  # papermill's error carries the failing cell's traceback
            if stopping:
                return  # Ctrl-C ended its kernel
            failed.append(stem)
            print(f"FAILED: {stem}: {type(error).__name__}: {error}", file=sys.stderr)
            print(f"the executed copy is {BUILD / preset / (stem + '.ipynb')}", file=sys.stderr)
            return
        print(f"[{len(timings)}/{len(stems)}] {stem} ({preset}) done in {timings[stem]:.0f} s", flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = [pool.submit(one, stem) for stem in stems]
        try:
            wait(running)
        except KeyboardInterrupt:
            stopping.append(True)
            logging.getLogger("papermill").setLevel(logging.CRITICAL)  # not "Kernel died ..." for each one ended
            pool.shutdown(wait=False, cancel_futures=True)
            while unfinished := [future for future in running if not future.done()]:
                end_kernels()  # again until every notebook has stopped: a kernel may have been starting
                wait(unfinished, timeout=0.5)
            raise NotebooksInterrupted(len(timings), len(stems)) from None
    if failed:
        return 1
    if preset != "smoke":
        print(f"gallery: {gallery.write(preset)}")
    print("\n".join(f"{timings[s]:7.0f} s  {s}" for s in stems))
    print(f"{sum(timings.values()):7.0f} s  notebooks' total; {time.time() - start:.0f} s wall time on {jobs} job(s)")
    return 0


def planned_chains(stems: list[str], preset: str, seed: int = presets.PRESET_SEED) -> list:
    """The chains the figures' notebooks read when run at `preset` with master seed `seed` (the notebooks' `seed`
    parameter, passed to presets.resolve), each store key once, longest first. A figure without a seed setting (a
    diagram) gets none."""
    planned = []
    for stem in stems:
        has_seed = "seed" in presets.FIGURES[stem].presets[preset]
        planned += chains.plan(stem, preset, seed=seed if has_seed else None)
    return chains.unique(planned)


def run_chains(preset: str, only: list[str] | None, jobs: int | None, scheduler: str | None,
               seed: int = presets.PRESET_SEED) -> int:
    """Compute every chain the selected figures read (each store key once, longest first), in parallel."""
    stems = select(only)
    store = writable_store()
    todo = planned_chains(stems, preset, seed)
    where = f"scheduler {scheduler}" if scheduler else f"{chains.worker_count(jobs)} one-thread worker process(es)"
    seeded = "" if seed == presets.PRESET_SEED else f", seed {seed}"
    print(f"{len(todo)} distinct chains for {len(stems)} figure(s) at preset {preset}{seeded}, on {where}; store "
          f"{store}", flush=True)
    start = time.time()
    try:
        chains.compute(todo, jobs=jobs, scheduler=scheduler, progress=True)
    except chains.SchedulerError as error:
        raise CommandError(f"--{error}") from None  # its message starts with "scheduler:"
    print(f"{len(todo)} chains ready in {time.time() - start:.0f} s", flush=True)
    return 0


def writable_store() -> Path:
    """The run store folder, created if missing; CommandError naming $MADLIB_STORE when it cannot be written."""
    import tempfile

    folder = runs.store_path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        named = "MADLIB_STORE" if os.environ.get("MADLIB_STORE") else "the run store (set MADLIB_STORE to choose it)"
        raise CommandError(f"{named}: must be a folder this user can write (created if missing); {folder} is not "
                           f"({error.strerror or error})") from None
    return folder


def claims_table(preset: str, rejudge: bool = False) -> int:
    """Print the claims table of a preset's output folder; with rejudge, first recompute it from the data files."""
    folder = presets.output_dir(preset)
    try:
        table = claims.rejudge(folder) if rejudge else claims.load(folder / "claims.json")
    except claims.ClaimsFileError as error:
        raise CommandError(str(error)) from None
    if not table:
        print(f"no claims recorded yet for preset {preset}: run `madlib figures --preset {preset}`")
        return 1
    for stem in presets.FIGURES:
        if stem in table:
            print(claims.show(table[stem]))
    if rejudge:
        print(f"gallery: {gallery.write(preset)}")
        if preset == "default":
            refreshed = [stem for stem, result in table.items() if refresh_claim_output(stem, result)]
            print(f"claim cells refreshed in {len(refreshed)} committed notebook(s)")
    return 0


CLAIM_CELL = "claims.show(claims.check("


def refresh_claim_output(stem: str, result: dict) -> bool:
    """Set the output of notebooks/<stem>.ipynb's claim cell to what that cell prints for `result` (the verdict just
    recomputed from the same data), so the committed notebook agrees with claims.json; False when it has none."""
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        return False
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and CLAIM_CELL in c.source]
    if len(cells) != 1:
        return False
    cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=claims.show(result) + "\n")]
    runs.atomic_write_bytes(path, (nbformat.writes(nb) + "\n").encode())
    return True


def _count(text: str) -> int:
    """argparse type of --jobs: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return value


def _seed(text: str) -> int:
    """argparse type of --seed: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 (the master seed of every figure); got {text!r}")
    return value


def _scheduler(text: str) -> str:
    """argparse type of --scheduler: 'local' or an address (scheme://host:port, e.g. tcp://host:8786)."""
    scheme, _, rest = text.partition("://")
    host, _, port = (rest if rest else text).rpartition(":")
    if text != "local" and not (host and port.isdigit() and (not rest or scheme.isalnum())):
        raise argparse.ArgumentTypeError(f"must be 'local' or the address of a running Dask scheduler, e.g. "
                                         f"tcp://host:8786; got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the command, the option, what is allowed) instead of the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _interrupted(command: str, stop: KeyboardInterrupt) -> int:
    """The line printed when Ctrl-C stops a command; its exit status (130, as a shell reports SIGINT)."""
    if isinstance(stop, chains.Interrupted):
        done = f" after {stop.finished} of {stop.total} chains"
    elif isinstance(stop, NotebooksInterrupted):
        done = f" after {stop.finished} of {stop.total} notebooks"
    else:
        done = ""
    again = {"run": "; the store keeps every finished generation: rerunning the same command resumes where it stopped",
             "figures": "; rerunning the same command runs the notebooks again, reading the chains they stored"}
    print(f"madlib {command}: interrupted{done}{again.get(command, '')}", file=sys.stderr, flush=True)
    return 130


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="madlib", description="Reproduce the figures of 'Self-Consuming Generative Models Go MAD'.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compute every chain the figures read, in parallel (before `madlib figures`)")
    run.add_argument("--preset", choices=presets.PRESETS, default="default")
    run.add_argument("--only", nargs="+", metavar="FIGURE", help="e.g. fig10 fig11 S1 (default: all)")
    run.add_argument("--jobs", type=_count, default=None,
                     help="local worker processes, one thread each (default: the number of cores)")
    run.add_argument("--scheduler", metavar="ADDRESS", type=_scheduler, default=None,
                     help="run on Dask instead: 'local' (a LocalCluster of --jobs workers) or tcp://host:8786")
    run.add_argument("--seed", type=_seed, default=presets.PRESET_SEED,
                     help="master seed: compute the chains the notebooks read when run with this `seed` parameter "
                     f"(default: the presets' seed, {presets.PRESET_SEED})")
    fig = sub.add_parser("figures", help="run the figure notebooks with papermill and refresh paper_figures/")
    fig.add_argument("--preset", choices=presets.PRESETS, default="default")
    fig.add_argument("--only", nargs="+", metavar="FIGURE", help="e.g. fig10 fig11 S1 (default: all)")
    fig.add_argument("--jobs", type=_count, default=None,
                     help="notebooks run side by side, one thread each (default: the number of cores)")
    cl = sub.add_parser("claims", help="print the claims table (the paper's claim, our verdict, the evidence)")
    cl.add_argument("--preset", choices=presets.PRESETS, default="default")
    cl.add_argument("--rejudge", action="store_true",
                    help="recompute every verdict from the data files beside claims.json (no chain is read) and "
                    "rewrite claims.json, the gallery and, at default, the committed notebooks' claim cells")
    sub.add_parser("clean", help="empty the run store")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run_chains(args.preset, args.only, args.jobs, args.scheduler, args.seed)
        if args.command == "figures":
            return figures(args.preset, args.only, args.jobs)
        if args.command == "claims":
            return claims_table(args.preset, args.rejudge)
        print(f"emptied {runs.clean()}")
        return 0
    except CommandError as error:
        print(f"madlib {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        return _interrupted(args.command, stop)


if __name__ == "__main__":
    sys.exit(main())
