"""Code fingerprints: which source files a model's numbers depend on, and one SHA-256 over them.

The run store (:mod:`madlib.runs`) puts a model's fingerprint into every run key, so a stored chain is served only to
the code that computed it. For a model class defined in madlib, the fingerprint covers the module that defines it and
every madlib module reachable from there through ``import`` / ``from ... import`` statements, function-local imports
included (found by parsing the files with :mod:`ast`; nothing is imported), plus the ``__init__.py`` of every package
on the way, since importing a submodule runs them. For a user's own class outside madlib (a ``"package.module:Class"``
chain family, a test's subclass) it also covers that class's module file, and the madlib closure of what that file
imports. The fingerprint hashes each file's raw bytes, prefixed by its module name (never its path, so a checkout in
another folder or a Dask worker on another machine gets the same key), in module-name order.

Two madlib modules are left out, and not followed: :mod:`madlib.runs` and :mod:`madlib.progress` (see
``NOT_FOLLOWED``). Every other madlib module a model reaches is in, whether or not the model uses the part of it that
changed: a needless recomputation costs time, a stale result costs correctness.

Limits. Fingerprints are computed once per process and cached (an edit of madlib's files takes effect, for the store
as for the code, in a new process; don't rely on ``%autoreload`` with the store). Imports named by a string
(``importlib.import_module``) are not seen; madlib's model modules use none. Of a user's code only the module that
defines the model class is hashed, not other user modules it imports; a class without a source file (defined in
``python -c``) is keyed by its name alone, with a warning.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

PACKAGE = "madlib"
ROOT = Path(__file__).resolve().parent  # the madlib package folder whose files are hashed (tests point it at a copy)

# Not part of any fingerprint, and their imports are not followed:
# * madlib.runs is the store itself. Its contract is to hand back exactly what loops.run computes (the store tests
#   check resumed chains against uninterrupted ones bit for bit), and what of it does shape a chain's numbers (the
#   thread count) is written into the run record explicitly. Hashing it would throw away every stored chain (hours of
#   DDPM and GAN training) at each edit of the store, and the models reach it only for its file helpers
#   (atomic_write_bytes, write_torch_state, read_torch_state), which store bytes and compute nothing.
# * madlib.progress draws progress bars; it never touches a number.
NOT_FOLLOWED = frozenset({"madlib.runs", "madlib.progress"})


def code_record(model_class: type) -> dict[str, Any]:
    """The fingerprint of a model class's code: ``{"fingerprint": sha256 hex, "modules": [module names hashed]}``."""
    record = _code_record(model_class, str(ROOT))
    return {"fingerprint": record["fingerprint"], "modules": list(record["modules"])}  # a copy: the cached one stays


def clear_cache() -> None:
    """Forget every cached parse and fingerprint (tests that edit the hashed files call it; a new process starts
    empty anyway)."""
    _code_record.cache_clear()
    _madlib_imports.cache_clear()
    _closure.cache_clear()
    _read.cache_clear()


@functools.lru_cache(maxsize=None)
def _code_record(model_class: type, root: str) -> dict[str, Any]:
    starts = {c.__module__ for c in model_class.__mro__ if _in_package(c.__module__)}
    own: list[tuple[str, bytes]] = []  # (label, content) of the user's class outside madlib
    module_name = model_class.__module__
    if not _in_package(module_name):
        content, label = _user_source(model_class)
        own.append((label, content))
        if content:
            tree = ast.parse(textwrap.dedent(content.decode()))  # dedent: the source of a class nested in a block
            starts |= _imports_of(tree, module_name, is_package=False, root=Path(root))
    modules = _closure(tuple(sorted(starts)), root)
    files = tuple((name, str(_module_file(name, Path(root)))) for name in modules)
    digest = hashlib.sha256()
    for label, content in [*((name, _read(path)) for name, path in files), *own]:
        digest.update(f"{len(label)}:{label}:{len(content)}:".encode())
        digest.update(content)
    return {"fingerprint": digest.hexdigest(), "modules": (*modules, *(label for label, _ in own))}


@functools.lru_cache(maxsize=None)
def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _user_source(model_class: type) -> tuple[bytes, str]:
    """The source that defines a class outside madlib, and its label: the module's file, else the class's own source
    (a notebook cell), else nothing (the class's name alone; warns)."""
    module = sys.modules.get(model_class.__module__)
    path = getattr(module, "__file__", None)
    if path and Path(path).suffix == ".py" and Path(path).is_file():
        return _read(str(Path(path).resolve())), model_class.__module__
    label = f"{model_class.__module__}.{model_class.__qualname__}"
    try:
        return inspect.getsource(model_class).encode(), label
    except (OSError, TypeError):
        warnings.warn(f"{label}: no source file, so the run store cannot see edits to this class; define it in a "
                      f"module file to have them change its run key")
        return b"", label


def _in_package(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _module_file(name: str, root: Path) -> Path | None:
    """The file of a madlib module (a package's __init__.py), or None when there is none."""
    parts = name.split(".")[1:]
    base = root.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py") if parts else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _closure(starts: tuple[str, ...], root: str) -> tuple[str, ...]:
    """Every madlib module the start modules reach (themselves, the packages above them and their imports, followed
    transitively; NOT_FOLLOWED aside), sorted."""
    seen: set[str] = set()
    todo = [m for s in starts for m in _with_parents(s)]
    while todo:
        name = todo.pop()
        if name in seen or name in NOT_FOLLOWED or _module_file(name, Path(root)) is None:
            continue
        seen.add(name)
        todo.extend(_madlib_imports(name, root))
    return tuple(sorted(seen))


@functools.lru_cache(maxsize=None)
def _madlib_imports(name: str, root: str) -> frozenset[str]:
    """The madlib modules (and the packages above them) that one madlib module imports anywhere in its file."""
    path = _module_file(name, Path(root))
    tree = ast.parse(_read(str(path)), filename=str(path))  # the cached bytes: the ones hashed
    return frozenset(_imports_of(tree, name, is_package=path.name == "__init__.py", root=Path(root)))


def _imports_of(tree: ast.AST, name: str, is_package: bool, root: Path) -> set[str]:
    """The madlib modules (with the packages above them) that a parsed file imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            if base is None:
                continue
            found.add(base)
            # `from madlib.metrics import features` imports the submodule madlib.metrics.features
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if alias.name != "*" and _module_file(f"{base}.{alias.name}", root) is not None)
    return {parent for module in found if _in_package(module) for parent in _with_parents(module)}


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str | None:
    """The absolute module name of a ``from ... import`` (relative ones resolved against the importing module)."""
    if not node.level:
        return node.module
    package = name if is_package else name.rpartition(".")[0]
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
