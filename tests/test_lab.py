"""JupyterLab as `make lab` serves it: a real server on a free local port, rooted at a throw-away folder holding the
shipped notebooks/jupytext.toml and one notebook pair, with the shipped .jupyter/ folder on Jupyter's config path.
Through the REST API: a `.py` twin is served as a notebook, a save through either file rewrites both, and a `.py`
twin's default viewer is the notebook (Jupytext Notebook)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("jupyter_server", reason="the Lab tests need jupyter_server (pip install -e '.[lab,test]')")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LAB_CONFIG = ROOT / ".jupyter"
STEM = "fig03_loops_schematic"  # a small notebook pair
TOKEN = uuid.uuid4().hex
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, root: Path, port: int, process: subprocess.Popen):
        self.root, self.port, self.process = root, port, process

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {TOKEN}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    root.mkdir()
    for name in ("jupytext.toml", f"{STEM}.ipynb", f"{STEM}.py"):
        shutil.copy2(NOTEBOOKS / name, root / name)
    # the user's own Jupyter settings stay out of it; the environment's (the jupytext server extension) and the
    # shipped .jupyter/ folder are read, as under `make lab`
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(LAB_CONFIG), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces")}
    port = free_port()
    log = open(base / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        served = Server(root, port, process)
        wait_until_up(served, base / "server.log")
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the Jupyter server exited ({server.process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            server.request("GET", "/api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"the Jupyter server did not answer within {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def sources(cells) -> list[tuple[str, str]]:
    return [(cell["cell_type"], cell["source"]) for cell in cells]


def test_a_py_twin_is_served_as_the_notebook(server):
    model = server.request("GET", f"/api/contents/{STEM}.py")
    assert model["type"] == "notebook"
    expected = nbformat.read(NOTEBOOKS / f"{STEM}.ipynb", as_version=4)
    assert sources(model["content"]["cells"]) == sources(expected.cells)
    # the outputs come from the paired .ipynb
    assert any(cell.get("outputs") for cell in model["content"]["cells"] if cell["cell_type"] == "code")


@pytest.mark.parametrize("saved", [".ipynb", ".py"])
def test_saving_either_file_rewrites_both(server, saved):
    model = server.request("GET", f"/api/contents/{STEM}{saved}")
    marker = f"Saved through the {saved} file, check {uuid.uuid4().hex}"
    model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "source": marker})
    answer = server.request("PUT", f"/api/contents/{STEM}{saved}",
                            {"type": "notebook", "format": "json", "content": model["content"]})
    assert answer["type"] == "notebook"
    for suffix in (".ipynb", ".py"):
        assert marker in (server.root / f"{STEM}{suffix}").read_text(), f"the save did not reach {STEM}{suffix}"
    notebook = nbformat.read(server.root / f"{STEM}.ipynb", as_version=4)
    assert notebook.cells[-1].source == marker


def test_a_py_twin_opens_as_a_notebook_by_default(server):
    settings = server.request("GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("python") == "Jupytext Notebook"


def test_make_lab_puts_the_shipped_lab_folder_on_the_config_path():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    stamp = os.path.relpath(ROOT / ".venv" / ".installed", ROOT)
    recipe = subprocess.run([make, "-s", "-n", "-o", stamp, "lab"], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={**os.environ, "JUPYTER_CONFIG_PATH": ""}).stdout.strip()
    command = recipe.splitlines()[-1]
    assert command.endswith("jupyter lab notebooks"), command
    # the environment `make lab` gives JupyterLab: its command with `jupyter lab notebooks` swapped for printenv
    probe = re.sub(r"\S*jupyter lab notebooks$", "printenv JUPYTER_CONFIG_PATH", command)
    printed = subprocess.run(["sh", "-c", probe], capture_output=True, text=True,
                             check=True, env={**os.environ, "JUPYTER_CONFIG_PATH": ""}).stdout.strip()
    assert printed.split(os.pathsep)[0] == str(LAB_CONFIG)
    overrides = json.loads((LAB_CONFIG / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
