"""madlib.progress: the display chosen for each environment, plain lines without terminal control characters, one
bar however deep the work nests, nothing at MADLIB_PROGRESS=0, the same numbers with progress on or off, and, in a
real kernel, one widget bar for a cell run from a front end and plain lines (no widget) under nbclient/papermill."""

from __future__ import annotations

import io
import sys
import types

import nbformat
import numpy as np
import pytest

from madlib import chains, progress

GAUSSIAN = dict(model=dict(d=3, replicates=4), variant="fresh_data", generations=4, n_ini=20, n_r=10, n_s=30)
FLOW = dict(model=dict(steps=2, hidden=16, epochs=2, batch_size=128, n_eval=300, n_ot=100, n_keep=100),
            variant="fully_synthetic", generations=2, n_ini=300, n_s=300)
CONTROL = ("\r", "\x1b")  # carriage return, escape (cursor moves such as "\x1b[A")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """A stand-in for the time module whose clock moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def fake_ipython(monkeypatch, parent: dict | None):
    """Make progress see an IPython kernel whose current request is `parent` (None: a terminal IPython)."""
    kernel = None if parent is None else types.SimpleNamespace(get_parent=lambda channel=None: parent)
    shell = types.SimpleNamespace(kernel=kernel) if kernel is not None else types.SimpleNamespace()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


@pytest.fixture
def auto(monkeypatch):
    """MADLIB_PROGRESS unset, stderr not a terminal, no IPython."""
    monkeypatch.delenv("MADLIB_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delitem(sys.modules, "IPython", raising=False)


def test_the_mode_follows_the_environment(auto, monkeypatch):
    assert progress.mode() == "lines"  # a log file, a CI job
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress.mode() == "bar"
    fake_ipython(monkeypatch, {"header": {"msg_id": "1"}, "metadata": {}})  # papermill, nbclient, nbval
    assert progress.mode() == "lines"
    fake_ipython(monkeypatch, {"header": {"msg_id": "2"}, "metadata": {"cellId": "c1"}})  # JupyterLab
    monkeypatch.setattr(progress, "_has_widgets", lambda: True)
    assert progress.mode() == "widget"
    monkeypatch.setattr(progress, "_has_widgets", lambda: False)
    assert progress.mode() == "lines"
    fake_ipython(monkeypatch, None)  # IPython in a terminal
    assert progress.mode() == "bar"
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    assert progress.mode() == "lines"
    monkeypatch.setenv("MADLIB_PROGRESS", "0")
    assert progress.mode() == "off" and not progress.enabled()


def test_a_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("MADLIB_PROGRESS", "yes")
    with pytest.raises(ValueError, match="MADLIB_PROGRESS"):
        progress.mode()


def nested_work() -> progress.Task:
    """A collecting task over 6 units: 2 credited (read from the store), 4 counted by a task inside it, each unit
    with a task inside that."""
    with progress.task("figure", 6, unit="generation", collect=True) as outer:
        progress.advance(2)
        with progress.task("run", 4, unit="generation") as run:
            for _ in range(4):
                with progress.task("training", 3, unit="step") as steps:
                    for _ in range(3):
                        steps.update()
                run.update()
    return outer


def test_plain_lines_are_single_lines_of_the_outer_task(monkeypatch, capsys):
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    monkeypatch.setattr(progress, "LINE_INTERVAL", 0.0)
    outer = nested_work()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert not any(c in err for c in CONTROL)
    assert lines and all(line.startswith("figure: ") for line in lines)
    assert any("(run 1/4 · training 2/3)" in line for line in lines)
    assert lines[-1].startswith("figure: 6/6 generation")
    assert outer.n == 6 and outer.initial == 2  # the credited units do not count towards the rate


def test_plain_lines_come_at_most_every_interval(monkeypatch, capsys):
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    clock = Clock()
    monkeypatch.setattr(progress, "time", clock)
    with progress.task("chains", 100, unit="chain") as done:
        for _ in range(100):
            clock.now += 1.0
            done.update()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ")[1] for line in lines] == ["30/100", "60/100", "90/100", "100/100"]
    assert "eta 10 s" in lines[2]  # 90 done in 90 s
    with progress.task("quick", 3) as done:  # shorter than LINE_INTERVAL: no line at all
        done.update(3)
    assert capsys.readouterr().err == ""


def test_nested_tasks_show_one_bar(auto, monkeypatch):
    from tqdm.std import tqdm

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(progress, "REFRESH_INTERVAL", 0.0)
    assert progress.mode() == "bar"
    bars = []
    with progress.task("figure", 2, collect=True) as outer:
        with progress.task("run", 2) as run:
            with progress.task("training", 5) as steps:
                steps.update(5)
                bars.append(len(tqdm._instances))
                shown = [t for t in progress._stack() if t.display is not None]
            run.update(2)
    assert bars == [1] and shown == [outer]
    text = terminal.getvalue()
    assert "\x1b[A" not in text and "\n" not in text.strip()  # one line redrawn in place, no bar below another
    assert "run 0/2 · training 5/5" in text


def test_hidden_task_hides_what_runs_inside(monkeypatch, capsys):
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    monkeypatch.setattr(progress, "LINE_INTERVAL", 0.0)
    with progress.task("outer", 1, enabled=False) as outer:
        with progress.task("inner", 3) as inner:
            inner.update(3)
        outer.update()
    assert capsys.readouterr().err == ""
    assert progress._stack() == []


def test_off_prints_nothing_and_the_numbers_do_not_depend_on_progress(tmp_path, monkeypatch, capsys):
    plan = chains.replicates("gaussian", 0, 2, **GAUSSIAN)
    monkeypatch.setenv("MADLIB_PROGRESS", "0")
    quiet = chains.load(plan, store=tmp_path / "quiet")
    assert capsys.readouterr() == ("", "")
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    monkeypatch.setattr(progress, "LINE_INTERVAL", 0.0)
    shown = chains.load(plan, store=tmp_path / "shown")
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("2 chains: 8/8 generation")
    for a, b in zip(quiet, shown):
        for x, y in zip(a, b):
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
    # read again from the store: the generations read count, so the one bar still ends full
    chains.load(plan, store=tmp_path / "shown")
    assert capsys.readouterr().err.splitlines()[-1].startswith("2 chains: 8/8 generation")
    assert progress._stack() == []


def test_model_training_shows_inside_the_chains_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(progress, "LINE_INTERVAL", 0.0)
    chains.load([chains.make("flow", 0, **FLOW)], store=tmp_path)
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("1 chains: ") for line in lines)
    assert any("fully_synthetic lam=1.0 0/2 · flow training 1/2" in line for line in lines)
    assert lines[-1].startswith("1 chains: 2/2 generation")


def test_a_failed_task_leaves_nothing_open(monkeypatch):
    monkeypatch.setenv("MADLIB_PROGRESS", "lines")
    with pytest.raises(RuntimeError):
        with progress.task("outer", 3):
            with progress.task("inner", 3):
                raise RuntimeError("interrupted")
    assert progress._stack() == []


# In a real kernel --------------------------------------------------------------------------------------------------
CELL = """
from madlib import chains, progress
plan = chains.replicates("gaussian", 0, 2, model=dict(d=3, replicates=4), variant="fresh_data", generations=4,
                         n_ini=20, n_r=10, n_s=30)
histories = chains.load(plan)
print(progress.mode(), sum(len(h) for h in histories))
"""
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets", reason="the widget bar needs ipywidgets (the lab extra)")
    monkeypatch.delenv("MADLIB_PROGRESS", raising=False)
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def test_a_cell_run_from_a_front_end_shows_one_widget_bar(kernel_env):
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        # what JupyterLab sends: the cell's id in the request's metadata
        request = client.session.msg("execute_request", {"code": CELL, "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False,
                                                         "stop_on_error": True}, metadata={"cellId": "cell-1"})
        client.shell_channel.send(request)
        outputs = []
        while True:
            message = client.get_iopub_msg(timeout=60)
            if message["parent_header"].get("msg_id") != request["header"]["msg_id"]:
                continue
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
            if message["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append(message)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert not [m for m in outputs if m["msg_type"] == "error"], outputs
    widgets = [m for m in outputs if m["msg_type"] == "display_data" and WIDGET in m["content"]["data"]]
    assert len(widgets) == 1
    streams = [m["content"] for m in outputs if m["msg_type"] == "stream"]
    assert [s["name"] for s in streams] == ["stdout"] and streams[0]["text"].strip() == "widget 8"


def test_a_papermill_kernel_gets_no_widget(kernel_env):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from madlib import progress\nprogress.LINE_INTERVAL = 0.0\n" + CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(kernel_env)}}
                   ).execute()
    outputs = notebook.cells[0].outputs
    assert not any(WIDGET in output.get("data", {}) for output in outputs)
    stdout = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert stdout.strip() == "lines 8"
    assert stderr.splitlines()[-1].startswith("2 chains: 8/8 generation")
    assert not any(c in stderr for c in CONTROL) and "Warning" not in stderr
