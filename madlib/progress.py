"""Progress of long computations: the one place that decides how it shows, and that keeps it to one bar.

Where it shows ($MADLIB_PROGRESS unset or 1: chosen as below; 0: nothing at all; ``lines``: plain lines anywhere):

* ``widget``: a notebook cell run from a front end (JupyterLab, Notebook 7; the kernel's current request carries the
  cell's id) with ipywidgets installed: a tqdm widget bar;
* ``bar``: a terminal (stderr is a TTY): a tqdm text bar;
* ``lines``: anything else: a kernel driven by papermill, nbclient or nbval (their requests carry no cell id), a CI
  log, ``madlib run`` with stderr sent to a file, or a front end without ipywidgets. Plain single lines on stderr
  (``chains: 3/12 chain  elapsed 40 s  eta 2.5 min``), at most one every LINE_INTERVAL seconds and a last one when the
  work ends, if it took that long; never a carriage return or a cursor move.

One bar. Work nests: a figure reads chains, a chain computes generations, a generation trains a model, each a
:func:`task`. Only the outermost task open in a thread displays; the tasks open inside it appear as a short status
after its counts (``fresh lam=0.5 3/10 · DDPM training 1200/2000``). A task opened with ``collect=True`` also counts
what the tasks directly inside it count (and what :func:`advance` credits: generations read from the store), so a
figure cell shows one bar over every generation of every chain it reads. A collecting task inside a collecting task
only passes its counts on.

``enabled=False`` hides a task and everything inside it (its counts still reach a collecting task around it).

``madlib figures`` runs the notebooks' kernels with MADLIB_PROGRESS=0 (it reports per notebook itself), so the
committed notebooks carry no progress output; papermill run by hand prints plain lines. This code reads clocks only,
never a random generator: results are the same with progress on or off.
"""

from __future__ import annotations

import os
import sys
import threading
import time

MODES = ("off", "widget", "bar", "lines")
LINE_INTERVAL = 30.0  # seconds between two plain lines
REFRESH_INTERVAL = 0.5  # seconds between two redraws of a bar

_local = threading.local()


def mode() -> str:
    """How progress shows here and now: one of MODES (see the module docstring)."""
    setting = os.environ.get("MADLIB_PROGRESS", "").strip().lower() or "1"
    if setting == "0":
        return "off"
    if setting == "lines":
        return "lines"
    if setting != "1":
        raise ValueError(f"MADLIB_PROGRESS: must be 1 (automatic, the default), 0 (no progress) or lines (plain "
                         f"lines); got {setting!r}")
    if _front_end_cell():
        return "widget" if _has_widgets() else "lines"
    if _kernel() is not None:
        return "lines"
    return "bar" if _is_terminal(sys.stderr) else "lines"


def enabled() -> bool:
    """Whether progress shows at all (it does unless $MADLIB_PROGRESS is 0)."""
    return mode() != "off"


def _kernel():
    """The IPython kernel this code runs in, or None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None)


def _front_end_cell() -> bool:
    """Whether the kernel's current request comes from a notebook front end's cell (JupyterLab and Notebook send the
    cell's id with each execute request; papermill, nbclient and nbval do not)."""
    kernel = _kernel()
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent("shell")
    except (AttributeError, LookupError, TypeError):
        return False
    return bool((parent or {}).get("metadata", {}).get("cellId"))


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _stack() -> list[Task]:
    """The tasks open in this thread, outermost first."""
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def task(desc: str, total: int | None = None, *, unit: str = "it", initial: int = 0, enabled: bool | None = None,
         collect: bool = False, eta: bool = True, leave: bool = False) -> Task | _Silent:
    """Open a task, as a context manager (``with task(...) as done:``, so that it closes whatever happens; a task
    left open would hide every later one in its thread): ``done.update(n)`` counts n more units done.

    ``total``: units in all (None: unknown); ``initial``: units already done; ``enabled=False``: hidden, with all
    inside it; ``collect``: also count the units of the tasks directly inside (see the module docstring); ``eta``:
    show the time left from the rate so far (off where the caller sets its own estimate with ``set_note``);
    ``leave``: keep the finished bar on screen.
    """
    current = mode()
    if current == "off":
        return _Silent()
    return Task(desc, total, unit, initial, enabled is not False, collect, eta, leave, current)


def advance(n: int) -> None:
    """Credit n units finished elsewhere (e.g. generations read from the store) to the innermost open task when it
    collects (else nothing)."""
    stack = _stack()
    if n and stack and stack[-1].collect:
        stack[-1].update(n, credited=True)


class Task:
    """One open piece of work (see :func:`task`)."""

    def __init__(self, desc, total, unit, initial, enabled, collect, eta, leave, mode):
        stack = _stack()
        self.parent = stack[-1] if stack else None
        self.desc, self.total, self.unit = desc, total, unit
        self.initial = self.n = int(initial)
        self.collect, self.eta, self.note, self.closed = collect, eta, "", False
        self.visible = enabled and (self.parent is None or self.parent.visible)
        # shown as a status on the outermost bar: a visible inner task, unless it only passes counts on
        self.shown_inside = self.parent is not None and self.visible and not (collect and self.parent.collect)
        self.root = self if self.parent is None else self.parent.root
        self.start = time.monotonic()
        self.display = None
        if self.parent is None and self.visible:
            self.display = _LineDisplay() if mode == "lines" else _TqdmDisplay(self, mode == "widget", leave)
        stack.append(self)

    def update(self, n: int = 1, credited: bool = False) -> None:
        """n more units done, also counted by the collecting tasks around it; ``credited``: done elsewhere (read, not
        computed), so they do not speed up the estimated rate."""
        task = self
        while True:
            task.n += n
            task.initial += n if credited else 0
            if task.parent is None or not task.parent.collect:
                break
            task = task.parent
        self.root.draw()

    def set_note(self, text: str) -> None:
        """A text shown after the counts (e.g. the caller's own estimate of the time left)."""
        self.note = text
        self.root.draw()

    def status(self) -> str:
        return f"{self.desc} {self.n}/{self.total}" if self.total is not None else f"{self.desc} {self.n}"

    def line(self, status: str) -> str:
        """This task as one plain line."""
        elapsed = time.monotonic() - self.start
        text = f"{self.desc}: {self.n}" + (f"/{self.total}" if self.total is not None else "") + f" {self.unit}"
        text += f"  elapsed {duration(elapsed)}"
        done = self.n - self.initial
        if self.eta and self.total is not None and done > 0 and self.n < self.total:
            text += f"  eta {duration(elapsed * (self.total - self.n) / done)}"
        return text + (f"  ({status})" if status else "")

    def draw(self, final: bool = False) -> None:
        """Redraw the bar (called on the outermost task; throttled unless final)."""
        if self.display is None or not self.display.due(final):
            return
        stack = _stack()
        inner = stack[stack.index(self) + 1:] if self in stack else []
        parts = [self.note] + [t.status() for t in inner if t.shown_inside]
        self.display.draw(self, " · ".join(p for p in parts if p), final)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        stack = _stack()
        if self in stack:
            stack.remove(self)
        if self.display is not None:
            self.draw(final=True)
            self.display.close()
        elif not self.root.closed:
            self.root.draw()

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Silent:
    """What :func:`task` opens when progress is off: does nothing."""

    n = 0
    collect = False

    def update(self, n: int = 1, credited: bool = False) -> None:
        self.n += n

    def set_note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc) -> None:
        pass


class _TqdmDisplay:
    """The outermost task as a tqdm bar: a widget in a notebook front end, text on stderr in a terminal."""

    def __init__(self, task: Task, widget: bool, leave: bool):
        if widget:
            from tqdm.notebook import tqdm
        else:
            from tqdm.std import tqdm
        timing = "{elapsed}<{remaining}" if task.eta else "{elapsed}"
        self.bar = tqdm(total=task.total, initial=task.n, desc=task.desc, unit=task.unit, leave=leave, smoothing=0,
                        file=None if widget else sys.stderr,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} {unit} [" + timing + "{postfix}]")
        self.last = time.monotonic()

    def due(self, final: bool) -> bool:
        return final or time.monotonic() - self.last >= REFRESH_INTERVAL

    def draw(self, task: Task, status: str, final: bool) -> None:
        self.last = time.monotonic()
        self.bar.n, self.bar.initial = task.n, task.initial
        self.bar.set_postfix_str(status, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


class _LineDisplay:
    """The outermost task as plain lines on stderr, at most one every LINE_INTERVAL seconds."""

    def __init__(self):
        self.start = self.last = time.monotonic()
        self.printed = False

    def due(self, final: bool) -> bool:
        now = time.monotonic()
        if final:  # the last line, unless the work was short and printed none
            return self.printed or now - self.start >= LINE_INTERVAL
        return now - self.last >= LINE_INTERVAL

    def draw(self, task: Task, status: str, final: bool) -> None:
        self.last, self.printed = time.monotonic(), True
        print(task.line(status), file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def duration(seconds: float) -> str:
    """Seconds as a short text: "40 s", "2.5 min"."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
