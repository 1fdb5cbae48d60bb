"""The batch runner: figure selection, write-back, gallery, and stopping on a failing notebook."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest

from madlib import cli, gallery, presets


def test_select_accepts_stems_prefixes_and_numbers():
    assert cli.select(None) == list(presets.FIGURES)
    assert cli.select(["fig10", "11", "S1"]) == ["fig10_fresh_data_limit", "fig11_admissible_nr_ns",
                                                "figS1_gaussian_collapse"]
    assert cli.select(["fig03_loops_schematic", "3"]) == ["fig03_loops_schematic"]


def test_select_rejects_unknown_figures_naming_the_choices():
    with pytest.raises(cli.CommandError, match="^--only: unknown figure 'fig99'.*fig10_fresh_data_limit"):
        cli.select(["fig99"])


def test_write_back_drops_papermill_traces(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"x": 1}, "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("preset = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('preset = "default"', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("1 + 1", metadata={"papermill": {"duration": 1.0}, "execution": {}}),
    ]
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    monkeypatch.setattr(cli, "NOTEBOOKS", tmp_path)
    cli.write_back(executed, "figX")
    back = nbformat.read(tmp_path / "figX.ipynb", as_version=4)
    assert [c.source for c in back.cells] == ["preset = None", "1 + 1"]
    assert back.cells[1].metadata == {} and "papermill" not in back.metadata


def test_gallery_lists_every_figure_and_the_missing_ones():
    text = gallery.render({"fig10_fresh_data_limit": {"verdict": "inconclusive", "preset": "default", "checks": [
        {"name": "same limit", "outcome": "supported", "evidence": "max |z| = 1.0"},
        {"name": "converged", "outcome": "undecided", "evidence": "slope", "decide": "about 3.0x the replicates"}]}},
        "default")
    for stem in presets.FIGURES:
        assert f"[{stem}](../notebooks/{stem}.ipynb)" in text
    assert "**inconclusive** (default)" in text and "✔ supported: same limit: max \\|z\\| = 1.0" in text
    assert "? undecided: converged: slope" in text and "would decide it: about 3.0x the replicates" in text
    assert "| 2 | LAION-5B" in text


def test_the_project_readme_gallery_block_is_replaced_in_place(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text(f"intro\n{gallery.START}\nstale row\n{gallery.END}\noutro\n")
    monkeypatch.setattr(presets, "ROOT", tmp_path)
    gallery._update_project_readme(gallery.summary({"fig30_memory": {"verdict": "holds"}}))
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale row" not in text
    assert '<img src="paper_figures/fig30_memory.png"' in text and "**holds**" in text


def test_the_readme_gallery_names_contradicted_and_undecided_checks():
    text = gallery.summary({"fig30_memory": {"verdict": "holds", "checks": [
        {"name": "grows with K", "outcome": "supported", "evidence": "z = 5"}]},
        "fig13_wgan_fully_synthetic": {"verdict": "contradicted", "checks": [
            {"name": "FID rises", "outcome": "supported", "evidence": "z = 4"},
            {"name": "precision falls", "outcome": "contradicted", "evidence": "z = -3"}]},
        "fig09_ddpm_augmentation": {"verdict": "inconclusive", "checks": [
            {"name": "FID rises", "outcome": "undecided", "evidence": "z = 1", "decide": "about 4.0x the replicates"},
            {"name": "recall falls", "outcome": "supported", "evidence": "z = 9"}]}})
    assert "[30](notebooks/fig30_memory.ipynb)" in text and "[13](notebooks/fig13_wgan_fully_synthetic.ipynb)" in text
    row = lambda number: next(line for line in text.splitlines() if line.startswith(f"| [{number}]"))  # noqa: E731
    assert row(13).split(" | ")[-1] == "**contradicted**<br>contradicted: precision falls |"
    assert row(9).split(" | ")[-1] == "**inconclusive**<br>undecided: FID rises (about 4.0x the replicates) |"
    assert row(30).split(" | ")[-1] == "**holds** |"


def test_batch_kernels_start_without_the_unencrypted_transport_warning(tmp_path, monkeypatch, capfd):
    """Each notebook's kernel gets CurveZMQ keys, so ipykernel does not print its TCP warning into the batch log."""
    monkeypatch.setattr(cli, "BUILD", tmp_path)
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path / "out"))
    executed = cli.run_notebook("fig03_loops_schematic", "smoke")
    assert executed.exists()
    assert "without encryption" not in capfd.readouterr().err


def test_a_failing_notebook_stops_the_run_with_its_error(tmp_path, monkeypatch, capsys):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("preset = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise ValueError('lam: the sampling bias must lie in [0, 1]')")]
    nbformat.write(nb, tmp_path / "fig30_memory.ipynb")
    monkeypatch.setattr(cli, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(cli, "BUILD", tmp_path / "build")
    monkeypatch.setenv("MADLIB_PRESET", "smoke")
    assert cli.figures("smoke", ["fig30", "fig31"]) == 1
    assert os.environ["MADLIB_PRESET"] == "smoke"  # the caller's environment is left as it was
    err = capsys.readouterr().err
    assert "FAILED: fig30_memory" in err and "lam: the sampling bias must lie in [0, 1]" in err
    assert (tmp_path / "build" / "smoke" / "fig30_memory.ipynb").exists()


def test_run_computes_every_planned_chain_once(tmp_path, monkeypatch, capsys):
    from madlib import chains

    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    assert cli.main(["run", "--preset", "smoke", "--only", "fig30", "S1", "--jobs", "2"]) == 0
    planned = chains.unique(chains.plan("fig30_memory", "smoke") + chains.plan("figS1_gaussian_collapse", "smoke"))
    assert f"{len(planned)} distinct chains for 2 figure(s)" in capsys.readouterr().out
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {c.key() for c in planned}
    assert cli.main(["run", "--only", "fig99"]) == 2
    assert capsys.readouterr().err.startswith("madlib run: --only: unknown figure 'fig99'; choose from")


# --seed ---------------------------------------------------------------------------------------------------------------
def test_run_with_a_seed_computes_what_the_notebooks_read_with_that_seed(tmp_path, monkeypatch, capsys):
    """A notebook run with seed = 3 reads chains.plan(stem, preset, seed=3) (presets.resolve with its seed); `madlib
    run --seed 3` must store exactly those chains, none of seed 0's."""
    from madlib import chains

    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    stem = "figS1_gaussian_collapse"
    assert cli.main(["run", "--preset", "smoke", "--only", "S1", "fig03", "--seed", "3", "--jobs", "1"]) == 0
    assert ", seed 3," in capsys.readouterr().out
    notebook = {c.key() for c in chains.plan_settings(stem, presets.resolve(stem, "smoke", seed=3))}
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == notebook
    assert notebook.isdisjoint(c.key() for c in chains.plan(stem, "smoke", seed=0))


def test_the_default_seed_plans_the_notebooks_own_chains():
    stems = ["figS1_gaussian_collapse", "fig10_fresh_data_limit", "fig03_loops_schematic"]
    keys = {c.key() for c in cli.planned_chains(stems, "smoke")}
    assert keys == {c.key() for stem in stems for c in chains_of(stem, seed=presets.PRESET_SEED)}
    assert keys == {c.key() for stem in stems for c in chains_of(stem, seed=None)}


def chains_of(stem, seed):
    from madlib import chains

    return chains.plan(stem, "smoke", seed=seed) if "seed" in presets.resolve(stem, "smoke") else []


# Bad input: one line naming the option and what it allows, exit status 2, no traceback --------------------------------
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "--jobs", "0"], "madlib run: argument --jobs: must be an integer >= 1; got '0'"),
        (["run", "--jobs", "-2"], "madlib run: argument --jobs: must be an integer >= 1; got '-2'"),
        (["run", "--jobs", "two"], "madlib run: argument --jobs: must be an integer >= 1; got 'two'"),
        (["figures", "--jobs", "0"], "madlib figures: argument --jobs: must be an integer >= 1; got '0'"),
        (["run", "--seed", "-1"], "madlib run: argument --seed: must be an integer >= 0 (the master seed"),
        (["run", "--seed", "1.5"], "madlib run: argument --seed: must be an integer >= 0 (the master seed"),
        (["run", "--scheduler", "nowhere"], "madlib run: argument --scheduler: must be 'local' or the address of a "
                                            "running Dask scheduler, e.g. tcp://host:8786; got 'nowhere'"),
        (["run", "--preset", "huge"], "madlib run: argument --preset: invalid choice: 'huge'"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(argv, expected, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["run", "figures"])
@pytest.mark.parametrize("where", ["/proc/madlib-store", "under-a-file"])
def test_a_store_that_cannot_be_written_is_one_line_naming_madlib_store(command, where, tmp_path, monkeypatch, capsys):
    if where == "under-a-file":
        (tmp_path / "a-file").write_text("")
        where = str(tmp_path / "a-file" / "store")
    monkeypatch.setenv("MADLIB_STORE", where)
    assert cli.main([command, "--preset", "smoke", "--only", "S1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"madlib {command}: MADLIB_STORE: must be a folder this user can write (created if "
                          f"missing); {where} is not (")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_unreachable_scheduler_fails_fast_naming_the_option(tmp_path, monkeypatch, capsys):
    from madlib import chains

    with socket.socket() as probe:  # a port nothing listens on (bound a moment ago, closed again)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    monkeypatch.setattr(chains, "SCHEDULER_TIMEOUT", 1)
    start = time.time()
    assert cli.main(["run", "--preset", "smoke", "--only", "S1", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.time() - start < 20  # Dask's own default waits 30 s
    err = capsys.readouterr().err
    assert err == (f"madlib run: --scheduler: cannot use 'tcp://127.0.0.1:{port}' (no Dask scheduler answered there "
                   "within 1 s); give 'local' or the address of a running Dask scheduler, e.g. tcp://host:8786\n")


# Ctrl-C ---------------------------------------------------------------------------------------------------------------
def start_interruptible(argv, env):
    """`madlib <argv>` in a session of its own (so SIGINT can go to the whole group, as Ctrl-C in a terminal does),
    with Python's SIGINT handler even when this test process was started with SIGINT ignored (a background job)."""
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from madlib import cli; sys.exit(cli.main(sys.argv[1:]))")
    return start_code(code, argv, env)


def start_code(code, argv, env):
    return subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "MADLIB_PROGRESS": "0", **env}, start_new_session=True)


def interrupt(process, timeout=60):
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=timeout)


def test_ctrl_c_during_run_is_one_line_saying_a_rerun_resumes(tmp_path):
    process = start_interruptible(["run", "--preset", "smoke", "--only", "fig10", "--jobs", "2"],
                                  {"MADLIB_STORE": str(tmp_path)})
    header = process.stdout.readline()  # printed once the chains are planned, just before they start
    assert header.startswith("6 distinct chains"), header
    time.sleep(1)  # the smoke chains of Fig. 10 take about 10 s on 2 workers
    start = time.time()
    out, err = interrupt(process)
    assert process.returncode == 130 and time.time() - start < 15
    assert err == ("madlib run: interrupted after 0 of 6 chains; the store keeps every finished generation: rerunning "
                   "the same command resumes where it stopped\n"), err
    assert "Traceback" not in out + err


def test_ctrl_c_during_figures_ends_the_kernels_and_is_one_line(tmp_path):
    """The notebook's kernel runs in a session of its own (Ctrl-C does not reach it): `madlib figures` ends it."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("preset = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(120)")]
    nbformat.write(nb, notebooks / "fig30_memory.ipynb")
    nbformat.write(nb, notebooks / "fig31_real_fraction.ipynb")
    code = textwrap.dedent(f"""
        import signal, sys
        from pathlib import Path
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from madlib import cli
        cli.NOTEBOOKS, cli.BUILD = Path({str(notebooks)!r}), Path({str(tmp_path / 'build')!r})
        sys.exit(cli.main(["figures", "--preset", "smoke", "--only", "fig30", "fig31", "--jobs", "1"]))
    """)
    process = start_code(code, [], {"MADLIB_STORE": str(tmp_path / "store"), "MADLIB_OUT": str(tmp_path / "out")})
    deadline = time.time() + 60
    while not (notebooks / "started").exists():
        assert time.time() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.2)
    start = time.time()
    out, err = interrupt(process)
    assert process.returncode == 130 and time.time() - start < 15  # not the 120 s the cell sleeps
    assert err == ("madlib figures: interrupted after 0 of 2 notebooks; rerunning the same command runs the notebooks "
                   "again, reading the chains they stored\n"), err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("content, says", [
    ('{"fig04_ddpm_fully_synthetic": {"verdi', "is not a readable claims table"),
    ('{"fig04_ddpm_fully_synthetic": {"verdict": "does not hold", "checks": []}}', "another madlib version"),
])
def test_a_damaged_or_foreign_claims_file_is_one_line(content, says, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    (tmp_path / "claims.json").write_text(content)
    assert cli.main(["claims"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"madlib claims: {tmp_path / 'claims.json'}") and says in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_claims_file_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MADLIB_OUT", str(tmp_path))
    assert cli.main(["claims"]) == 1
    assert "run `madlib figures --preset default`" in capsys.readouterr().out
