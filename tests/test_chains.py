"""The chain runner: seeds, the tidy frame's SE policy, the parallel runner (local processes and Dask) and the plans."""

import json

import numpy as np
import pytest

from madlib import chains, loops, presets
from madlib.models.gaussian import GaussianModel

GAUSSIAN = dict(model=dict(d=4, replicates=8), variant="fresh_data", generations=6, n_ini=20, n_r=10, n_s=30)
FLOW = dict(model=dict(steps=2, hidden=16, epochs=2, batch_size=128, n_eval=300, n_ot=100, n_keep=100),
            variant="fully_synthetic", generations=2, n_ini=300, n_s=300)


def test_seed_depends_on_master_setting_and_replicate_but_not_length():
    base = chains.make("gaussian", 0, **GAUSSIAN).spec.seed
    assert chains.make("gaussian", 0, **GAUSSIAN).spec.seed == base
    assert chains.make("gaussian", 1, **GAUSSIAN).spec.seed != base
    assert chains.make("gaussian", 0, replicate=1, **GAUSSIAN).spec.seed != base
    assert chains.make("gaussian", 0, **{**GAUSSIAN, "n_ini": 21}).spec.seed != base
    assert chains.make("flow", 0, **{**GAUSSIAN, "model": {}}).spec.seed != base
    assert chains.make("gaussian", 0, **{**GAUSSIAN, "generations": 60}).spec.seed == base
    assert chains.make("gaussian", 0, **{**GAUSSIAN, "model": dict(d=4, replicates=9)}).spec.seed == base


def test_longer_chain_starts_with_the_shorter_one(tmp_path):
    short = chains.make("gaussian", 3, **GAUSSIAN)
    long = chains.make("gaussian", 3, **{**GAUSSIAN, "generations": 9})
    (_, [h_short]), (_, [h_long]) = chains.run_chains([short], ["wd"], tmp_path), \
        chains.run_chains([long], ["wd"], tmp_path)
    assert all(np.array_equal(a["wd"], b["wd"]) for a, b in zip(h_short, h_long[:6]))


class LamRecordingGaussian(GaussianModel):
    """A user's own model class: the built-in Gaussian, whose metrics also hold the lam its evaluate received."""

    def evaluate(self, fitted, lam, rng):
        return {**super().evaluate(fitted, lam, rng), "lam_seen": np.full(self.replicates, lam)}


def test_a_users_own_model_class_runs_as_a_chain(tmp_path):
    own = chains.make(f"{__name__}:LamRecordingGaussian", 0, **{**GAUSSIAN, "lam": 0.7})
    assert own.build().config() == GaussianModel(**GAUSSIAN["model"]).config()  # built from its model arguments only
    builtin = chains.make("gaussian", 0, **{**GAUSSIAN, "lam": 0.7})
    (df_own, [history]), (df_builtin, _) = chains.run_chains([own], ["wd", "lam_seen"], tmp_path), \
        chains.run_chains([builtin], ["wd"], tmp_path)
    assert all((metrics["lam_seen"] == 0.7).all() for metrics in history)  # the engine hands evaluate the run's lam
    assert own.spec.seed != builtin.spec.seed and len(df_builtin) == GAUSSIAN["generations"]
    assert len(df_own) == 2 * GAUSSIAN["generations"]


def test_bad_family_and_replicate_count():
    with pytest.raises(ValueError, match="family"):
        chains.make("vae", 0, **GAUSSIAN)
    with pytest.raises(ValueError, match="replicates"):
        chains.replicates("gaussian", 0, 0, **GAUSSIAN)
    with pytest.raises(ValueError, match="jobs"):
        chains.compute([], jobs=0)


def _fake(values, se=None):
    """A history of one chain: metric 'm' with one value per generation (and its evaluation SE)."""
    return [{"m": np.array([v]), **({"m_se": np.array([s])} if se is not None else {})}
            for v, s in zip(values, se if se is not None else values)]


def test_se_between_replicates_floored_by_evaluation_noise():
    group = chains.replicates("gaussian", 0, 3, **GAUSSIAN)
    values = np.array([[1.0, 2.0], [1.0, 2.2], [1.0, 2.4]])  # (replicates, generations): no spread at generation 1
    se = np.array([[0.3, 0.01], [0.3, 0.01], [0.3, 0.01]])
    df = chains.tidy_frame(group, [_fake(v, s) for v, s in zip(values, se)], ["m"]).sort_values("generation")
    between = values.std(axis=0, ddof=1) / np.sqrt(3)
    floor = np.sqrt((se**2).mean(axis=0) / 3)
    np.testing.assert_allclose(df["mean"], values.mean(axis=0))
    np.testing.assert_allclose(df["sem"], np.fmax(between, floor))
    assert (df["replicates"] == 3).all()
    single = chains.tidy_frame(group[:1], [_fake(values[0], se[0])], ["m"])
    np.testing.assert_allclose(single["sem"], se[0])


def test_settings_are_grouped_and_labelled():
    group = chains.replicates("gaussian", 0, 2, labels={"model": "A"}, **GAUSSIAN)
    other = chains.replicates("gaussian", 0, 2, labels={"model": "B"}, **GAUSSIAN)
    df = chains.tidy_frame(group + other, [_fake([1.0, 2.0])] * 4, ["m"])
    assert sorted(df["model"].unique()) == ["A", "B"] and len(df) == 4
    with pytest.raises(ValueError, match="metric"):
        chains.tidy_frame(group, [_fake([1.0])] * 2, ["nope"])


def _runner_chains():
    gaussian = [chains.make("gaussian", 0, **{**GAUSSIAN, "lam": lam}) for lam in (1.0, 0.8)]
    return gaussian + chains.replicates("flow", 0, 2, **{**FLOW, "lam": 0.9})


def test_runner_gives_identical_stores_for_any_job_count(tmp_path):
    todo = _runner_chains()
    chains.compute(todo, jobs=1, store=tmp_path / "one", progress=False)
    chains.compute(todo, jobs=2, store=tmp_path / "two", progress=False)
    files = [p for p in (tmp_path / "one").rglob("*") if p.is_file()]
    assert len(files) > 4 * len(todo)
    assert chains.store_fingerprint(tmp_path / "one") == chains.store_fingerprint(tmp_path / "two")
    metrics = next((tmp_path / "one").rglob("metrics.npz"))
    with np.load(metrics) as z:
        arrays = {k: z[k] for k in z.files}
    first = next(iter(arrays))
    arrays[first] = np.nextafter(arrays[first], np.inf)  # one ulp: the fingerprint sees it
    np.savez(metrics, **arrays)
    assert chains.store_fingerprint(tmp_path / "one") != chains.store_fingerprint(tmp_path / "two")
    records = [json.loads((tmp_path / "one" / c.key() / "run.json").read_text()) for c in todo]
    assert all(r["threads"] == 1 for r in records)


def test_runner_on_a_local_dask_cluster_matches(tmp_path):
    pytest.importorskip("distributed")
    todo = _runner_chains()
    chains.compute(todo, jobs=1, store=tmp_path / "one", progress=False)
    keys = chains.compute(todo, jobs=2, scheduler="local", store=tmp_path / "dask", progress=False)
    assert sorted(keys) == sorted(c.key() for c in todo)
    assert chains.store_fingerprint(tmp_path / "one") == chains.store_fingerprint(tmp_path / "dask")


def test_unique_keeps_each_key_once_longest_first():
    a = chains.make("gaussian", 0, **GAUSSIAN)
    b = chains.make("gaussian", 0, **{**GAUSSIAN, "generations": 60})
    todo = chains.unique([a, b, chains.make("gaussian", 0, **GAUSSIAN)])
    assert [c.key() for c in todo] == [b.key(), a.key()]


@pytest.mark.parametrize("stem", [s for s in presets.FIGURES])
def test_a_figure_reads_exactly_its_plan(stem, tmp_path, monkeypatch):
    """After the runner computed a figure's plan, building the figure computes nothing (every chain it reads is in
    the plan): the loop engine is made to fail if it is asked for a generation."""
    planned = chains.plan(stem, "smoke")
    if not planned:
        assert stem == "fig03_loops_schematic"
        return
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    chains.compute(planned, jobs=1, progress=False)

    def no_compute(*args, **kwargs):
        raise AssertionError(f"{stem} computed a generation that its plan does not contain")

    monkeypatch.setattr(loops, "step", no_compute)
    result = chains.figure(stem, presets.resolve(stem, "smoke"))
    assert len(result.data) > 0
