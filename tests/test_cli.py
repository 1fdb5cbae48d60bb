"""The batch runner: figure selection, write-back, gallery, and stopping on a failing notebook."""

import os

import nbformat
import pytest

from madlib import cli, gallery, presets


def test_select_accepts_stems_prefixes_and_numbers():
    assert cli.select(None) == list(presets.FIGURES)
    assert cli.select(["fig10", "11", "S1"]) == ["fig10_fresh_data_limit", "fig11_admissible_nr_ns",
                                                "figS1_gaussian_collapse"]
    assert cli.select(["fig03_loops_schematic", "3"]) == ["fig03_loops_schematic"]


def test_select_rejects_unknown_figures_naming_the_choices():
    with pytest.raises(SystemExit, match="--only: unknown figure 'fig99'.*fig10_fresh_data_limit"):
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
    text = gallery.render({"fig10_fresh_data_limit": {"verdict": "holds", "preset": "default", "checks": [
        {"name": "same limit", "holds": True, "evidence": "max |z| = 1.0"}]}}, "default")
    for stem in presets.FIGURES:
        assert f"[{stem}](../notebooks/{stem}.ipynb)" in text
    assert "**holds** (default)" in text and "max \\|z\\| = 1.0" in text
    assert "| 2 | LAION-5B" in text


def test_the_project_readme_gallery_block_is_replaced_in_place(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text(f"intro\n{gallery.START}\nstale row\n{gallery.END}\noutro\n")
    monkeypatch.setattr(presets, "ROOT", tmp_path)
    gallery._update_project_readme(gallery.summary({"fig30_memory": {"verdict": "holds"}}))
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale row" not in text
    assert '<img src="paper_figures/fig30_memory.png"' in text and "**holds**" in text


def test_the_readme_gallery_links_notebooks_and_names_failed_checks():
    text = gallery.summary({"fig30_memory": {"verdict": "holds", "checks": [
        {"name": "grows with K", "holds": True, "evidence": "z = 5"}]},
        "fig13_wgan_fully_synthetic": {"verdict": "does not hold", "checks": [
            {"name": "FID rises", "holds": True, "evidence": "z = 4"},
            {"name": "precision falls", "holds": False, "evidence": "z = -2"}]}})
    assert "[30](notebooks/fig30_memory.ipynb)" in text and "[13](notebooks/fig13_wgan_fully_synthetic.ipynb)" in text
    row = next(line for line in text.splitlines() if line.startswith("| [13]"))
    assert row.split(" | ")[-1] == "**does not hold**<br>failed checks: precision falls |"
    assert "failed" not in next(line for line in text.splitlines() if line.startswith("| [30]"))


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
    with pytest.raises(SystemExit):
        cli.main(["run", "--only", "fig99"])
