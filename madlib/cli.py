"""Command line: `madlib run` (compute the chains), `madlib figures` (run the notebooks), `madlib claims`, `madlib clean`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import nbformat

from madlib import chains, claims, gallery, presets, runs

NOTEBOOKS = presets.ROOT / "notebooks"
BUILD = presets.ROOT / "build"


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
            raise SystemExit(f"--only: unknown figure {name!r}; choose from {', '.join(stems)}")
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


def kernel_manager_class() -> type:
    """The notebooks' kernel manager: with CurveZMQ transport encryption where the installed jupyter_client and pyzmq
    offer it (ipykernel >= 7.4 otherwise warns at every kernel start that it runs over TCP without encryption: one
    line of noise per notebook in the batch log), else jupyter_client's default."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    if not zmq.has("curve") or not AsyncKernelManager.class_traits().get("transport_encryption"):
        return AsyncKernelManager

    class EncryptedKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport_encryption = "auto"  # encrypted when the kernelspec declares support (ipykernel's does)

    return EncryptedKernelManager


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
    """Run the notebooks, `jobs` at a time (each in its own kernel process), in the paper's order."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = chains.worker_count(jobs)
    start = time.time()
    timings, failed = {}, []

    def one(stem: str) -> None:
        if failed:
            return  # after a failure, start no further notebook
        try:
            timings[stem] = _run_one(stem, preset)
        except Exception as error:  # papermill's error carries the failing cell's traceback
            failed.append(stem)
            print(f"FAILED: {stem}: {type(error).__name__}: {error}", file=sys.stderr)
            print(f"the executed copy is {BUILD / preset / (stem + '.ipynb')}", file=sys.stderr)
            return
        print(f"[{len(timings)}/{len(stems)}] {stem} ({preset}) done in {timings[stem]:.0f} s", flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, stems))
    if failed:
        return 1
    if preset != "smoke":
        print(f"gallery: {gallery.write(preset)}")
    print("\n".join(f"{timings[s]:7.0f} s  {s}" for s in stems))
    print(f"{sum(timings.values()):7.0f} s  notebooks' total; {time.time() - start:.0f} s wall time on {jobs} job(s)")
    return 0


def run_chains(preset: str, only: list[str] | None, jobs: int | None, scheduler: str | None) -> int:
    """Compute every chain the selected figures read (each store key once, longest first), in parallel."""
    stems = select(only)
    planned = [chain for stem in stems for chain in chains.plan(stem, preset)]
    todo = chains.unique(planned)
    where = f"scheduler {scheduler}" if scheduler else f"{chains.worker_count(jobs)} one-thread worker process(es)"
    print(f"{len(todo)} distinct chains for {len(stems)} figure(s) at preset {preset}, on {where}; store "
          f"{runs.store_path()}", flush=True)
    start = time.time()
    chains.compute(todo, jobs=jobs, scheduler=scheduler, progress=True)
    print(f"{len(todo)} chains ready in {time.time() - start:.0f} s", flush=True)
    return 0


def claims_table(preset: str) -> int:
    table = claims.load(presets.output_dir(preset) / "claims.json")
    if not table:
        print(f"no claims recorded yet for preset {preset}: run `madlib figures --preset {preset}`")
        return 1
    for stem in presets.FIGURES:
        if stem in table:
            print(claims.show(table[stem]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="madlib", description="Reproduce the figures of 'Self-Consuming "
                                     "Generative Models Go MAD'.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compute every chain the figures read, in parallel (before `madlib figures`)")
    run.add_argument("--preset", choices=presets.PRESETS, default="default")
    run.add_argument("--only", nargs="+", metavar="FIGURE", help="e.g. fig10 fig11 S1 (default: all)")
    run.add_argument("--jobs", type=int, default=None,
                     help="local worker processes, one thread each (default: the number of cores)")
    run.add_argument("--scheduler", metavar="ADDRESS", default=None,
                     help="run on Dask instead: 'local' (a LocalCluster of --jobs workers) or tcp://host:8786")
    fig = sub.add_parser("figures", help="run the figure notebooks with papermill and refresh paper_figures/")
    fig.add_argument("--preset", choices=presets.PRESETS, default="default")
    fig.add_argument("--only", nargs="+", metavar="FIGURE", help="e.g. fig10 fig11 S1 (default: all)")
    fig.add_argument("--jobs", type=int, default=None,
                     help="notebooks run side by side, one thread each (default: the number of cores)")
    cl = sub.add_parser("claims", help="print the claims table (the paper's claim, our verdict, the evidence)")
    cl.add_argument("--preset", choices=presets.PRESETS, default="default")
    sub.add_parser("clean", help="empty the run store")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_chains(args.preset, args.only, args.jobs, args.scheduler)
    if args.command == "figures":
        return figures(args.preset, args.only, args.jobs)
    if args.command == "claims":
        return claims_table(args.preset)
    print(f"emptied {runs.clean()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
