"""Notebook conventions: one notebook per catalogued figure, a jupytext twin in sync, a markdown header, a
`parameters` cell whose preset defaults to $MADLIB_PRESET. (nbval executes them: `pytest --nbval-lax notebooks`.)
Explorers (explore_*.ipynb, not figures) keep the twin, thin-code and clean-output rules; tests/test_explore.py checks
their layout."""

from pathlib import Path

import jupytext
import nbformat
import pytest

from madlib import presets

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
STEMS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
FIGURE_STEMS = [s for s in STEMS if not s.startswith("explore_")]  # explore_*: interactive explorers, not figures


def test_every_figure_has_a_notebook_and_every_notebook_a_figure():
    assert sorted(presets.FIGURES) == FIGURE_STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_jupytext_twin_is_in_sync(stem):
    twin = NOTEBOOKS / f"{stem}.py"
    assert twin.exists(), f"{stem}.ipynb has no jupytext twin: run `jupytext --sync notebooks/{stem}.ipynb`"
    from_ipynb = jupytext.writes(jupytext.read(NOTEBOOKS / f"{stem}.ipynb"), fmt="py:percent")
    from_py = jupytext.writes(jupytext.read(twin), fmt="py:percent")
    assert from_ipynb == from_py, f"{stem}: .ipynb and .py differ: run `jupytext --sync notebooks/{stem}.ipynb`"


@pytest.mark.parametrize("stem", FIGURE_STEMS)
def test_notebook_layout(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "claim" in nb.cells[0].source
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "preset = None" in parameters[0].source
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("stem", STEMS)
def test_notebooks_stay_thin(stem):
    """Logic lives in madlib: notebooks define no functions or classes and have no loops or branches."""
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4).cells
                     if c.cell_type == "code")
    for keyword in ("def ", "class ", "for ", "while ", "if "):
        assert not any(line.lstrip().startswith(keyword) for line in code.splitlines()), keyword


def _output_texts(output) -> list[str]:
    """The texts of one output: a stream's text, an error's traceback, the text mimetypes of a display (not images)."""
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return [output.ename, output.evalue, *output.traceback]
    return ["".join(value) if isinstance(value, list) else str(value)
            for mime, value in output.get("data", {}).items() if not mime.startswith("image/")]


@pytest.mark.parametrize("stem", STEMS)
def test_committed_outputs_carry_no_warnings_or_progress_junk(stem):
    """No stderr block (warnings, progress lines) and no terminal bar debris in a committed notebook's outputs:
    `madlib figures` writes them with progress off (madlib.progress)."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert not (output.output_type == "stream" and output.name == "stderr"), \
                f"{stem} cell {index}: stderr output {output.text[:200]!r}"
            for text in _output_texts(output):
                for junk in ("Warning", "\r", "\x1b"):
                    assert junk not in text, f"{stem} cell {index}: {junk!r} in {text[:200]!r}"
