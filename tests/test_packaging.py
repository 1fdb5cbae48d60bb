"""The distribution's name and the conda environment: every requirement of pyproject.toml comes from conda-forge in
environment.yml (under its conda name) or, for the few not packaged there, from pip; pip installs the project."""

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11's tomllib")

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch", "pot": "pot"}  # PyPI name -> conda-forge name where they differ
PIP_ONLY = {"prdc"}  # not on conda-forge


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].strip().lower()


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_the_distribution_is_named_after_the_project_and_keeps_the_madlib_command():
    assert project()["name"] == "mad-companion"
    assert project()["scripts"]["madlib"] == "madlib.cli:main"


def test_environment_takes_every_requirement_from_conda_forge_or_pip():
    env = environment()
    assert env["channels"] == ["conda-forge"]
    conda = {requirement_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pip_names = {requirement_name(p) for p in pip if not p.startswith("-e")}
    assert any(p.startswith("-e") for p in pip), "pip installs the project itself"
    assert pip_names == PIP_ONLY
    wanted = project()["dependencies"] + project()["optional-dependencies"]["lab"] \
        + project()["optional-dependencies"]["test"]
    for requirement in wanted:
        name = requirement_name(requirement)
        if name in PIP_ONLY:
            continue
        assert CONDA_NAMES.get(name, name) in conda, f"{name} missing from environment.yml's conda-forge list"
