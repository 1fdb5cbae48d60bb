"""The loop engine: spec validation, what each loop trains on, determinism."""

import numpy as np
import pytest

from madlib import loops


class RecordingModel:
    """A fake LoopModel whose data are lists of (source, index) tags, so the tests can see what each generation
    trained on. Fitted models are the generation number."""

    def __init__(self):
        self.trained_on, self.sampled_from, self.real_draws, self.evaluated_with = [], [], 0, []

    def config(self):
        return {"model": "recording"}

    def draw_real(self, n, rng):
        self.real_draws += 1
        return [("real", self.real_draws)] * n

    def fit(self, data, rng):
        self.trained_on.append(list(data))
        return len(self.trained_on)

    def sample(self, fitted, n, lam, rng):
        self.sampled_from.append((fitted, n, lam))
        return [("synthetic", fitted)] * n

    def join(self, parts):
        return [x for part in parts for x in part]

    def evaluate(self, fitted, lam, rng):
        self.evaluated_with.append((fitted, lam))
        return {"size": np.array([len(self.trained_on[-1])])}

    def save(self, obj, path):
        raise NotImplementedError

    def load(self, path):
        raise NotImplementedError


def run(**fields):
    model = RecordingModel()
    spec = loops.LoopSpec(**{"generations": 4, "n_ini": 10, **fields})
    loops.run(spec, model)
    return model


def count(data, source):
    return sum(1 for tag, _ in data if tag == source)


def test_fully_synthetic_trains_on_the_previous_model_only():
    model = run(variant="fully_synthetic", n_s=7)
    assert [len(d) for d in model.trained_on] == [10, 7, 7, 7]
    assert all(count(d, "real") == 0 for d in model.trained_on[1:])
    assert model.sampled_from == [(1, 7, 1.0), (2, 7, 1.0), (3, 7, 1.0)]


def test_sample_and_evaluate_receive_the_runs_lam():
    model = run(variant="fresh_data", n_r=3, n_s=4, lam=0.6)
    assert model.evaluated_with == [(g, 0.6) for g in (1, 2, 3, 4)]
    assert {lam for _, _, lam in model.sampled_from} == {0.6}


@pytest.mark.parametrize("lam, positive", [(-0.1, False), (1.01, False), (float("nan"), False), (True, False),
                                           ("1", False), (None, False), (0.0, True), (np.float32(0.0), True)])
def test_check_lam_refuses_a_bias_out_of_range(lam, positive):
    interval = r"\(0, 1\]" if positive else r"\[0, 1\]"
    with pytest.raises(ValueError, match=rf"^lam: the sampling bias must be a number in {interval} \(1 = unbiased; "
                                         rf"why\); got"):
        loops.check_lam(lam, positive=positive, why="; why")


def test_check_lam_returns_a_float():
    for lam, positive in [(0, False), (np.float32(0.5), True), (np.int64(1), True), (1.0, False)]:
        value = loops.check_lam(lam, positive=positive)
        assert type(value) is float and value == float(lam)


def test_synthetic_augmentation_reuses_one_fixed_real_set():
    model = run(variant="synthetic_augmentation", n_r=10, n_s=5)
    real_sets = {tuple(x for x in d if x[0] == "real") for d in model.trained_on}
    assert len(real_sets) == 1 and model.real_draws == 1  # generation 1's data is the fixed set (n_ini == n_r)
    assert [count(d, "synthetic") for d in model.trained_on] == [0, 5, 5, 5]


def test_synthetic_augmentation_with_a_different_n_ini_draws_its_fixed_set_apart():
    model = run(variant="synthetic_augmentation", n_ini=20, n_r=6, n_s=5)
    assert len(model.trained_on[0]) == 20 and [count(d, "real") for d in model.trained_on[1:]] == [6, 6, 6]


def test_fresh_data_draws_new_real_data_each_generation():
    model = run(variant="fresh_data", n_r=3, n_s=5)
    draws = [{i for tag, i in d if tag == "real"} for d in model.trained_on]
    assert draws == [{1}, {2}, {3}, {4}]
    assert [len(d) for d in model.trained_on] == [10, 8, 8, 8]


def test_memory_samples_from_the_last_k_models_uniformly():
    model = run(variant="fully_synthetic", n_s=3000, memory=2, generations=5)
    per_generation = [model.sampled_from[i : i + 2] for i in (1, 3, 5)]  # generation 2 has one model to use
    assert model.sampled_from[0] == (1, 3000, 1.0)
    for pair, expected in zip(per_generation, [(1, 2), (2, 3), (3, 4)]):
        assert tuple(m for m, _, _ in pair) == expected
        counts = [k for _, k, _ in pair]
        assert sum(counts) == 3000 and abs(counts[0] - 1500) < 4 * np.sqrt(3000 * 0.25)  # binomial SE


def test_accumulate_keeps_every_earlier_synthetic_set():
    model = run(variant="synthetic_augmentation", n_r=10, n_s=4, accumulate=True)
    assert [count(d, "synthetic") for d in model.trained_on] == [0, 4, 8, 12]
    assert [count(d, "real") for d in model.trained_on] == [10, 10, 10, 10]


def test_real_fraction_form():
    spec = loops.LoopSpec("fresh_data", 3, n_ini=100, p_real=0.25, n=1001)
    assert (spec.n_r, spec.n_s) == (250, 751)


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(variant="fresh_loop"), "variant"),
        (dict(generations=0), "generations"),
        (dict(n_ini=1), "n_ini"),
        (dict(lam=1.2), "lam"),
        (dict(lam=-0.1), "lam"),
        (dict(memory=0), "memory"),
        (dict(variant="fully_synthetic", n_r=0, n_s=0), "n_s"),
        (dict(variant="fully_synthetic", n_r=5, n_s=10), "n_r"),
        (dict(p_real=1.5, n=100), "p_real"),
        (dict(p_real=0.5), "p_real and n"),
        (dict(n_s=2.5), "n_s"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_specs_name_the_field(fields, field):
    base = dict(variant="fresh_data", generations=3, n_ini=10, n_r=5, n_s=5)
    with pytest.raises(ValueError, match=f"^{field}"):
        loops.LoopSpec(**{**base, **fields})


def test_generation_streams_are_reproducible_and_distinct():
    a = loops.generation_rng(7, 3, loops.SYNTHETIC).standard_normal(4)
    assert np.array_equal(a, loops.generation_rng(7, 3, loops.SYNTHETIC).standard_normal(4))
    for other in [(8, 3, loops.SYNTHETIC), (7, 4, loops.SYNTHETIC), (7, 3, loops.REAL)]:
        assert not np.array_equal(a, loops.generation_rng(*other).standard_normal(4))


# Accumulate-subsample (LoopSpec.pool_size) -------------------------------------------------------------------------
class LabelledModel:
    """A LoopModel whose samples are unique labels (origin, generation drawn for, index), with a subsample method, so
    the tests can see which samples of the pool each generation trained on."""

    def __init__(self):
        self.trained_on = []

    def config(self):
        return {"model": "labelled"}

    def draw_real(self, n, rng):
        return [("real", 1, i) for i in range(n)]

    def fit(self, data, rng):
        self.trained_on.append(list(data))
        return len(self.trained_on)

    def sample(self, fitted, n, lam, rng):
        return [("synthetic", fitted + 1, i) for i in range(n)]  # memory 1: model t - 1 draws generation t's set

    def join(self, parts):
        return [x for part in parts for x in part]

    def subsample(self, data, n, rng):
        return [data[i] for i in rng.choice(len(data), size=n, replace=False)]

    def evaluate(self, fitted, lam, rng):
        return {"size": np.array([len(self.trained_on[-1])])}


def hypergeometric_z(counts, successes, totals, draws):
    """z-score of the summed counts against independent hypergeometric draws (exact mean and variance)."""
    counts, successes, totals = (np.asarray(a, dtype=float) for a in (counts, successes, totals))
    p = successes / totals
    mean, variance = draws * p, draws * p * (1 - p) * (totals - draws) / (totals - 1)
    return (counts.sum() - mean.sum()) / np.sqrt(variance.sum())


def test_accumulate_subsample_trains_on_pool_size_samples_drawn_from_the_pool_without_replacement():
    n, draws, generations = 50, 40, 30
    model = LabelledModel()
    spec = loops.LoopSpec("synthetic_augmentation", generations, n_ini=n, n_r=n, n_s=n, accumulate=True,
                          pool_size=draws, seed=11)
    loops.run(spec, model)
    assert len(model.trained_on[0]) == n  # generation 1: the real set itself
    real_counts, newest_counts = [], []
    for t, data in enumerate(model.trained_on[1:], start=2):
        pool = {("real", 1, i) for i in range(n)} | {("synthetic", g, i) for g in range(2, t + 1) for i in range(n)}
        assert len(data) == draws and len(set(data)) == draws and set(data) <= pool
        real_counts.append(sum(origin == "real" for origin, _, _ in data))
        newest_counts.append(sum(g == t and origin == "synthetic" for origin, g, _ in data))
    totals = n * np.arange(2, generations + 1)  # the pool of generation t holds t n samples, n of each origin
    assert abs(hypergeometric_z(real_counts, n, totals, draws)) < 4
    assert abs(hypergeometric_z(newest_counts, n, totals, draws)) < 4
    assert real_counts[0] not in (0, draws)  # generation 2 mixes both origins (P(all one origin) ~ 1e-13)


def test_accumulate_subsample_in_the_other_loops():
    """Fully synthetic: the pool is every synthetic set (no real data kept); fresh data: the fresh real draw joins."""
    model = LabelledModel()
    loops.run(loops.LoopSpec("fully_synthetic", 5, n_ini=20, n_s=10, accumulate=True, pool_size=8), model)
    assert [len(d) for d in model.trained_on] == [20, 8, 8, 8, 8]
    assert all(origin == "synthetic" for d in model.trained_on[1:] for origin, _, _ in d)
    model = LabelledModel()
    loops.run(loops.LoopSpec("fresh_data", 5, n_ini=20, n_r=4, n_s=10, accumulate=True, pool_size=12), model)
    assert [len(d) for d in model.trained_on] == [20, 12, 12, 12, 12]


def test_the_subsample_draw_has_its_own_stream():
    """Appended after the existing purposes, so every existing run draws exactly what it drew before."""
    purposes = (loops.REAL, loops.SYNTHETIC, loops.FIT, loops.EVALUATE, loops.FIXED_REAL, loops.SUBSAMPLE)
    assert purposes == tuple(range(6))
    spec = dict(variant="synthetic_augmentation", generations=6, n_ini=30, n_r=30, n_s=30, accumulate=True)
    first, again, other = LabelledModel(), LabelledModel(), LabelledModel()
    loops.run(loops.LoopSpec(**spec, pool_size=20, seed=3), first)
    loops.run(loops.LoopSpec(**spec, pool_size=20, seed=3), again)
    loops.run(loops.LoopSpec(**spec, pool_size=20, seed=4), other)
    assert first.trained_on == again.trained_on and first.trained_on != other.trained_on


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(accumulate=False, pool_size=5), "needs accumulate=True"),
        (dict(pool_size=1), "an integer from 2 to 10"),
        (dict(pool_size=11), "an integer from 2 to 10"),
        (dict(pool_size=5.0), "an integer from 2 to 10"),
        (dict(pool_size=True), "an integer from 2 to 10"),
        (dict(pool_size="5"), "an integer from 2 to 10"),
    ],
)
def test_a_bad_pool_size_names_the_field(fields, message):
    base = dict(variant="fresh_data", generations=3, n_ini=10, n_r=5, n_s=5, accumulate=True)
    with pytest.raises(ValueError, match=f"^pool_size: .*{message}"):
        loops.LoopSpec(**{**base, **fields})


def test_a_model_without_subsample_is_refused_before_anything_runs():
    model = RecordingModel()
    spec = loops.LoopSpec("synthetic_augmentation", 3, n_ini=10, n_r=10, n_s=5, accumulate=True, pool_size=6)
    with pytest.raises(ValueError, match="^pool_size: RecordingModel cannot draw a training set"):
        loops.run(spec, model)
    assert model.trained_on == []


def test_pool_size_keeps_the_keys_of_existing_specs():
    """The run store keys chains by spec.asdict(): a spec without pool_size must give today's dict exactly, or every
    stored chain would be recomputed (and chain seeds, made from the same fields, would change)."""
    spec = loops.LoopSpec("synthetic_augmentation", 12, n_ini=25, n_r=20, n_s=15, accumulate=True, seed=4)
    assert spec.asdict() == {"variant": "synthetic_augmentation", "generations": 12, "n_ini": 25, "n_r": 20,
                             "n_s": 15, "lam": 1.0, "memory": 1, "accumulate": True, "p_real": None, "n": None,
                             "seed": 4}
    subsampled = loops.LoopSpec(**spec.asdict(), pool_size=np.int64(20))
    assert subsampled.asdict() == {**spec.asdict(), "pool_size": 20} and type(subsampled.pool_size) is int
    assert loops.LoopSpec(**subsampled.asdict()) == subsampled
