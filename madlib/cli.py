"""Command line: `madlib figures`, `madlib claims`, `madlib clean`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import nbformat

from madlib import claims, gallery, presets, runs

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
        cwd=str(NOTEBOOKS), progress_bar=sys.stderr.isatty(),
    )
    return out


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


@contextlib.contextmanager
def kernel_environment():
    """What the notebooks' kernels inherit: no tqdm bars (this loop reports progress instead) and no
    $MADLIB_PRESET (the preset is passed as a parameter). The caller's environment is restored afterwards."""
    saved = {key: os.environ.get(key) for key in ("MADLIB_PROGRESS", "MADLIB_PRESET")}
    os.environ["MADLIB_PROGRESS"] = "0"
    os.environ.pop("MADLIB_PRESET", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def figures(preset: str, only: list[str] | None) -> int:
    with kernel_environment():
        return _run_figures(preset, select(only))


def _run_figures(preset: str, stems: list[str]) -> int:
    timings = []
    for i, stem in enumerate(stems, 1):
        print(f"[{i}/{len(stems)}] {stem} ({preset}) ...", flush=True)
        start = time.time()
        try:
            executed = run_notebook(stem, preset)
        except Exception as error:  # papermill's error carries the failing cell's traceback
            print(f"FAILED: {stem}: {type(error).__name__}: {error}", file=sys.stderr)
            print(f"the executed copy is {BUILD / preset / (stem + '.ipynb')}", file=sys.stderr)
            return 1
        if preset == "default":
            write_back(executed, stem)
        timings.append((stem, time.time() - start))
        print(f"      done in {timings[-1][1]:.0f} s", flush=True)
    if preset != "smoke":
        print(f"gallery: {gallery.write(preset)}")
    print("\n".join(f"{t:7.0f} s  {s}" for s, t in timings))
    print(f"{sum(t for _, t in timings):7.0f} s  total")
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
    fig = sub.add_parser("figures", help="run the figure notebooks with papermill and refresh paper_figures/")
    fig.add_argument("--preset", choices=presets.PRESETS, default="default")
    fig.add_argument("--only", nargs="+", metavar="FIGURE", help="e.g. fig10 fig11 S1 (default: all)")
    cl = sub.add_parser("claims", help="print the claims table (the paper's claim, our verdict, the evidence)")
    cl.add_argument("--preset", choices=presets.PRESETS, default="default")
    sub.add_parser("clean", help="empty the run store")
    args = parser.parse_args(argv)
    if args.command == "figures":
        return figures(args.preset, args.only)
    if args.command == "claims":
        return claims_table(args.preset)
    print(f"emptied {runs.clean()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
