"""The run key follows the code: an edit of what a model family computes with gives its chains new keys (so the
store computes them anew), an edit of anything else keeps them (so the store serves what it has).

The edits are made in a copy of the madlib package (codehash.ROOT pointed at it); the running code stays the same,
only the files hashed change, as after an edit and a restart.
"""

import ast
import importlib
import json
import shutil
import sys
import textwrap
import time

import pytest

from madlib import chains, codehash, loops, runs
from madlib.models.gaussian import GaussianModel
from support import gaussian_fits  # noqa: F401 (a fixture)

SPEC = loops.LoopSpec("fresh_data", 3, n_ini=20, n_r=10, n_s=20, seed=2)
NEVER_HASHED = ("madlib.plotting", "madlib.claims", "madlib.gallery", "madlib.cli", "madlib.presets", "madlib.tidy",
                "madlib.chains", "madlib.explore", "madlib.runs", "madlib.progress")


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of the madlib package whose files the fingerprints hash from now on."""
    copy = tmp_path / "src" / "madlib"
    shutil.copytree(codehash.ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codehash, "ROOT", copy)
    codehash.clear_cache()
    yield copy
    codehash.clear_cache()


def edit_function(path, qualname):
    """Add a statement at the top of a function's body (``Class.method`` or ``function``), as an edit of it would;
    the file still parses."""
    text = path.read_text()
    nodes = ast.parse(text).body
    for part in qualname.split("."):
        nodes = next(n for n in nodes if getattr(n, "name", None) == part)
        target, nodes = nodes, nodes.body
    first = target.body[0]
    lines = text.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + "_edited = True\n")
    path.write_text("".join(lines))
    ast.parse(path.read_text())
    codehash.clear_cache()  # as a new process would


def append_comment(path):
    path.write_text(path.read_text() + "\n# an edit\n")
    codehash.clear_cache()


def family_class(family):
    module, name = chains.FAMILIES[family]
    return getattr(importlib.import_module(module), name)


def fingerprint(family):
    return codehash.code_record(family_class(family))["fingerprint"]


def test_the_copy_has_the_same_fingerprints_as_the_package(package, monkeypatch):
    """Module names and bytes are hashed, not paths: a checkout elsewhere (a worker on another machine) agrees."""
    copied = {family: fingerprint(family) for family in chains.FAMILIES}
    monkeypatch.undo()
    codehash.clear_cache()
    assert {family: fingerprint(family) for family in chains.FAMILIES} == copied


def test_an_edit_of_fit_makes_the_store_compute_the_chain_anew(package, tmp_path, gaussian_fits):
    store, model = tmp_path / "store", GaussianModel(d=2, replicates=2)
    first = runs.run_or_load(SPEC, model, store=store, progress=False)
    old_key = runs.run_key(SPEC, model)
    assert len(gaussian_fits) == SPEC.generations
    runs.run_or_load(SPEC, model, store=store, progress=False)
    assert len(gaussian_fits) == SPEC.generations, "an unchanged code did not get its stored run back"

    edit_function(package / "models" / "gaussian.py", "GaussianModel.fit")
    new_key = runs.run_key(SPEC, model)
    assert new_key != old_key
    again = runs.run_or_load(SPEC, model, store=store, progress=False)
    assert len(gaussian_fits) == 2 * SPEC.generations, "the chain of the old code was served to the new code"
    assert sorted(p.name for p in store.iterdir() if p.is_dir()) == sorted([old_key, new_key])
    assert all((a["wd"] == b["wd"]).all() for a, b in zip(first, again))  # the running code did not change
    old, new = (json.loads((store / key / "run.json").read_text())["code"] for key in (old_key, new_key))
    assert old["fingerprint"] != new["fingerprint"] and "madlib.models.gaussian" in new["modules"]


@pytest.mark.parametrize("file", ["plotting.py", "claims.py", "presets.py", "gallery.py", "cli.py", "chains.py",
                                  "tidy.py", "gaussian_studies.py", "runs.py", "progress.py"])
def test_an_unrelated_edit_keeps_the_key_and_the_stored_run_is_served(package, tmp_path, gaussian_fits, file):
    store, model = tmp_path / "store", GaussianModel(d=2, replicates=2)
    runs.run_or_load(SPEC, model, store=store, progress=False)
    key, others = runs.run_key(SPEC, model), {f: fingerprint(f) for f in chains.FAMILIES}
    append_comment(package / file)
    assert runs.run_key(SPEC, model) == key
    assert {f: fingerprint(f) for f in chains.FAMILIES} == others
    runs.run_or_load(SPEC, model, store=store, progress=False)
    assert len(gaussian_fits) == SPEC.generations, "an unrelated edit made the store recompute"
    assert [p.name for p in store.iterdir() if p.is_dir()] == [key]


# (file edited, families whose key it changes); the other families' keys stay
EDITS = [
    ("metrics/wasserstein.py", {"gaussian", "gmm", "flow", "ddpm", "gan"}),  # Gaussian WD; the others via metrics/
    ("metrics/image_scores.py", {"ddpm", "gan"}),
    ("metrics/features.py", {"ddpm", "gan"}),
    ("metrics/spectrum.py", {"gan"}),
    ("metrics/bootstrap.py", {"gmm", "flow", "ddpm", "gan"}),
    ("data.py", {"gmm", "flow", "ddpm", "gan"}),
    ("loops.py", set(chains.FAMILIES)),
    ("models/gmm.py", {"gmm"}),
    ("models/ddpm.py", {"ddpm"}),
    ("__init__.py", set(chains.FAMILIES)),
]


@pytest.mark.parametrize("file, changed", EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_of_code_a_family_uses_changes_its_key_only(package, file, changed):
    before = {family: fingerprint(family) for family in chains.FAMILIES}
    append_comment(package / file)
    after = {family: fingerprint(family) for family in chains.FAMILIES}
    assert {family for family in before if before[family] != after[family]} == changed


def test_an_edit_of_the_metric_the_gaussian_family_reports_makes_the_store_compute_anew(package, tmp_path,
                                                                                         gaussian_fits):
    store, model = tmp_path / "store", GaussianModel(d=2, replicates=2)
    runs.run_or_load(SPEC, model, store=store, progress=False)
    edit_function(package / "metrics" / "wasserstein.py", "w2_to_standard_normal_from_eigh")
    runs.run_or_load(SPEC, model, store=store, progress=False)
    assert len(gaussian_fits) == 2 * SPEC.generations
    assert len([p for p in store.iterdir() if p.is_dir()]) == 2


def test_function_local_imports_are_followed(package):
    """gaussian.py imports madlib.runs inside a function (not hashed); a function-local import of a metric is."""
    assert "madlib.metrics.spectrum" not in codehash.code_record(GaussianModel)["modules"]
    path = package / "models" / "gaussian.py"
    path.write_text(path.read_text() + "\n\ndef _later():\n    from madlib.metrics import spectrum\n")
    codehash.clear_cache()
    assert "madlib.metrics.spectrum" in codehash.code_record(GaussianModel)["modules"]
    before = codehash.code_record(GaussianModel)["fingerprint"]
    append_comment(package / "metrics" / "spectrum.py")
    assert codehash.code_record(GaussianModel)["fingerprint"] != before


@pytest.mark.parametrize("family", list(chains.FAMILIES))
def test_every_family_has_a_stable_fingerprint(family):
    cls = family_class(family)
    record = codehash.code_record(cls)
    assert len(record["fingerprint"]) == 64 and int(record["fingerprint"], 16) >= 0
    assert codehash.code_record(cls) == record
    codehash.clear_cache()
    assert codehash.code_record(cls) == record
    modules = record["modules"]
    assert {chains.FAMILIES[family][0], "madlib", "madlib.loops"} <= set(modules) and modules == sorted(modules)
    assert not set(NEVER_HASHED) & set(modules)


def test_fingerprinting_is_fast_and_cached():
    classes = [family_class(family) for family in chains.FAMILIES]
    codehash.clear_cache()
    start = time.perf_counter()
    for cls in classes:
        codehash.code_record(cls)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        runs.run_key(SPEC, GaussianModel(d=2))
    assert first < 2.0 and time.perf_counter() - start < 0.5


USER_MODULE = '''
from madlib.models.gaussian import GaussianModel


class MyModel(GaussianModel):
    def fit(self, data, rng=None):
        return super().fit(data, rng)
'''


def test_a_users_model_module_is_part_of_its_key(package, tmp_path, monkeypatch):
    """A "package.module:Class" family: its own file, and the madlib code it builds on, are in the key."""
    user = tmp_path / "user"
    user.mkdir()
    (user / "my_madlib_model.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(user))
    monkeypatch.delitem(sys.modules, "my_madlib_model", raising=False)
    chain = chains.make("my_madlib_model:MyModel", 0, variant="fully_synthetic", generations=2, n_ini=20, n_s=20,
                        model={"d": 2})
    record = runs.run_record(chain.spec, chain.build())["code"]
    assert "my_madlib_model" in record["modules"] and "madlib.models.gaussian" in record["modules"]
    keys = [chain.key()]
    edit_function(user / "my_madlib_model.py", "MyModel.fit")
    keys.append(chain.key())
    edit_function(package / "models" / "gaussian.py", "GaussianModel.fit")
    keys.append(chain.key())
    append_comment(package / "plotting.py")
    keys.append(chain.key())
    assert len(set(keys)) == 3 and keys[2] == keys[3]


def test_a_class_without_a_source_file_is_keyed_by_its_name_with_a_warning():
    namespace = {"GaussianModel": GaussianModel, "__name__": "sourceless_models"}
    exec(textwrap.dedent("""
        class Sourceless(GaussianModel):
            pass
    """), namespace)
    with pytest.warns(UserWarning, match="no source file"):
        record = codehash.code_record(namespace["Sourceless"])
    assert "sourceless_models.Sourceless" in record["modules"] and "madlib.models.gaussian" in record["modules"]
