"""The conditional DDPM: its schedule, guidance, PCA code, sampler and checkpoints behave as documented, it learns
the class of a digit, and it runs the three loops through the run store (tiny settings, on the CPU)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from madlib import chains, loops, runs
from support import quiet_one_thread_store
from madlib.models import ddpm

TINY = dict(timesteps=20, train_steps=30, hidden=32, blocks=1, latent_dim=8, codec_epochs=5, codec_channels=8,
            n_eval=40, feature_keep=10,
            grid_per_class=2, lenet_epochs=1, device="cpu")
METRIC_KEYS = {"fid", "precision", "recall", "density", "coverage", "class_separation", "lenet_agreement",
               "train_loss", "features", "feature_labels", "grid"}


@pytest.fixture(scope="module", autouse=True)
def store(tmp_path_factory):
    """One temporary run store for the module (the LeNet of the evaluation is trained into it once), quiet, one
    thread (the FID's eigendecompositions and the tiny networks are tens of times slower with two threads on a busy
    2-core machine)."""
    with quiet_one_thread_store(tmp_path_factory.mktemp("ddpm_store")) as folder:
        yield folder


@pytest.fixture(scope="module")
def model():
    return ddpm.DDPMModel(**TINY)


@pytest.fixture(scope="module")
def pool(model):
    return model.real_pool()


@pytest.fixture(scope="module")
def fitted(model):
    rng = np.random.default_rng(0)
    return model.fit(model.draw_real(100, rng), rng)


def class_counts(labels) -> np.ndarray:
    return np.bincount(np.asarray(labels), minlength=ddpm.NUM_CLASSES)


def rows(images: torch.Tensor) -> set:
    return {image.numpy().tobytes() for image in images}


# ----------------------------------------------------------------------------------------------------------- schedule


def test_schedule_quantities_are_in_range():
    schedule = ddpm.Schedule(500)
    abar = schedule.alpha_bars
    assert len(abar) == 500
    assert (abar > 0).all() and (abar < 1).all()
    assert (abar[1:] < abar[:-1]).all()
    assert (schedule.posterior_variance >= 0).all()
    assert schedule.posterior_variance[0] == 0  # the last reverse step adds no noise
    assert (schedule.posterior_variance <= schedule.betas + 1e-12).all()
    assert schedule.step_coefficients(0)[2] == 0.0 and schedule.step_coefficients(499)[2] > 0


def test_noising_at_the_first_step_keeps_the_image_and_at_the_last_destroys_it():
    schedule = ddpm.Schedule(500)
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand(64, 1, 28, 28, generator=generator) * 2 - 1
    noise = torch.randn(x0.shape, generator=generator)
    first = schedule.noised(x0, torch.zeros(64, dtype=torch.int64), noise)
    assert torch.allclose(first, x0, atol=0.06)  # sqrt(1 - abar_0) = 0.01, |noise| < 6
    assert not torch.equal(first, x0)
    last = schedule.noised(x0, torch.full((64,), 499), noise)
    correlation = torch.corrcoef(torch.stack([last.flatten(), x0.flatten()]))[0, 1]
    assert abs(float(correlation)) < 0.2


@pytest.mark.parametrize("t", [0, 3, 10, 19])
def test_noised_has_the_marginal_mean_and_variance_of_the_forward_process(t):
    """x_t | x_0 ~ N(sqrt(abar_t) x_0, (1 - abar_t) I): checked on many draws against standard errors."""
    schedule, n = ddpm.Schedule(20, beta_start=0.01, beta_end=0.2), 40_000
    generator = torch.Generator().manual_seed(t)
    steps = torch.full((n,), t)
    abar = float(schedule.alpha_bars[t])
    centred = schedule.noised(torch.zeros(n, 1), steps, torch.randn(n, 1, generator=generator)).double()
    variance = float(centred.var())
    assert abs(variance - (1 - abar)) < 5 * (1 - abar) * math.sqrt(2 / (n - 1))
    shifted = schedule.noised(torch.ones(n, 1), steps, torch.randn(n, 1, generator=generator)).double()
    assert abs(float(shifted.mean()) - math.sqrt(abar)) < 5 * math.sqrt((1 - abar) / n)


# ----------------------------------------------------------------------------------------------------------- guidance


@pytest.mark.parametrize("lam, w", [(1.0, 0.0), (0.5, 1.0), (0.8, 0.25), (0.25, 3.0)])
def test_guidance_weight(lam, w):
    assert ddpm.guidance_weight(lam) == pytest.approx(w)


@pytest.mark.parametrize("lam", [0.0, -0.1, 1.01, 2.0, float("nan")])
def test_guidance_weight_rejects_a_bias_outside_0_1(lam):
    with pytest.raises(ValueError, match=r"^lam"):
        ddpm.guidance_weight(lam)


# ------------------------------------------------------------------------------------------------------- constructor


@pytest.mark.parametrize("field, value", [
    ("backbone", "vae"), ("dataset", "cifar10"), ("train_steps", 0), ("train_steps", 2.5), ("train_steps", True),
    ("label_dropout", 1.0), ("label_dropout", -0.1), ("timesteps", 1), ("n_eval", 5),
])
def test_constructor_names_the_bad_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        ddpm.DDPMModel(**{**TINY, field: value})


def test_config_tells_runs_apart():
    base = ddpm.DDPMModel(**TINY).config()
    assert base["model"] == "ddpm" and base["device"] == "cpu"
    for change in (dict(timesteps=21), dict(latent_dim=9), dict(label_dropout=0.2)):
        assert ddpm.DDPMModel(**{**TINY, **change}).config() != base


# ----------------------------------------------------------------------------------------------------------- PCA code


def test_pca_code_of_the_training_data_is_whitened(pool):
    images = pool.images[:1500]
    codec = ddpm.PCACodec.fit(images, 16)
    codes = codec.encode(images).double()
    assert codes.shape == (1500, 16)
    assert codes.mean(0).abs().max() < 1e-4
    assert torch.allclose(codes.var(0), torch.ones(16, dtype=torch.float64), atol=1e-3)
    covariance = torch.cov(codes.T)
    assert (covariance - torch.diag(torch.diag(covariance))).abs().max() < 1e-3  # decorrelated too
    assert torch.allclose(codec.components @ codec.components.T, torch.eye(16), atol=1e-4)
    assert (codec.scale[1:] <= codec.scale[:-1]).all()  # leading components first


def test_pca_reconstruction_improves_with_the_latent_dimension(pool):
    train, held_out = pool.images[:1500], pool.images[1500:2000]
    errors = []
    for dim in (2, 8, 32, 128):
        codec = ddpm.PCACodec.fit(train, dim)
        errors.append(float(((codec.decode(codec.encode(held_out)) - held_out) ** 2).mean()))
    assert all(later < 0.9 * earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.05


def test_pca_decode_clamps_to_the_pixel_range(pool):
    codec = ddpm.PCACodec.fit(pool.images[:500], 8)
    wild = codec.decode(50 * torch.randn(20, 8, generator=torch.Generator().manual_seed(0)))
    assert wild.shape == (20, 1, 28, 28)
    assert wild.min() == -1.0 and wild.max() == 1.0


# ----------------------------------------------------------------------------------------------------------- data


@pytest.mark.parametrize("n", [0, 7, 100])
def test_balanced_labels(model, n):
    labels = model.balanced_labels(n, np.random.default_rng(n))
    assert labels.dtype == torch.int64 and len(labels) == n
    counts = class_counts(labels)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    if n == 7:
        assert list(counts) == [1] * 7 + [0] * 3
    if n == 100:
        assert not torch.equal(labels, torch.arange(100) % 10)  # in random order


def test_draw_real_draws_distinct_digits_with_their_labels(model, pool):
    assert len(rows(pool.images)) == len(pool)  # the pool itself holds no duplicates
    label_of = {image.numpy().tobytes(): int(label) for image, label in zip(pool.images, pool.labels)}
    drawn = model.draw_real(len(pool), np.random.default_rng(1))  # the whole pool: a permutation of it
    assert len(rows(drawn.images)) == len(pool)
    assert all(label_of[image.numpy().tobytes()] == int(label) for image, label in zip(drawn.images, drawn.labels))
    some = model.draw_real(50, np.random.default_rng(2))
    assert torch.equal(some.images, model.draw_real(50, np.random.default_rng(2)).images)
    assert not torch.equal(some.images, model.draw_real(50, np.random.default_rng(3)).images)


def test_draw_real_refuses_more_than_the_pool(model, pool):
    with pytest.raises(ValueError, match=r"^n"):
        model.draw_real(len(pool) + 1, np.random.default_rng(0))


def test_join_concatenates_and_skips_empty_parts(model):
    a = ddpm.Digits(torch.zeros(3, 1, 28, 28), torch.tensor([1, 2, 3]))
    empty = ddpm.Digits(torch.empty(0, 1, 28, 28), torch.empty(0, dtype=torch.int64))
    joined = model.join([empty, a, a])
    assert len(joined) == 6 and joined.labels.tolist() == [1, 2, 3, 1, 2, 3]
    assert len(model.join([empty])) == 0


# ----------------------------------------------------------------------------------------------------------- sampling


def test_samples_are_balanced_digits_in_range(model, fitted):
    for chunked in (model, ddpm.DDPMModel(**{**TINY, "sample_batch": 7})):
        digits = chunked.sample(fitted, 25, 1.0, np.random.default_rng(0))
        assert digits.images.shape == (25, 1, 28, 28) and digits.images.dtype == torch.float32
        assert digits.images.min() >= -1.0 and digits.images.max() <= 1.0
        assert torch.isfinite(digits.images).all()
        counts = class_counts(digits.labels)
        assert counts.max() - counts.min() <= 1


def test_zero_samples(model, fitted):
    digits = model.sample(fitted, 0, 1.0, np.random.default_rng(0))
    assert digits.images.shape == (0, 1, 28, 28) and len(digits.labels) == 0


def test_zero_guided_samples(model, fitted):
    digits = model.sample(fitted, 0, 0.8, np.random.default_rng(0))
    assert digits.images.shape == (0, 1, 28, 28)


def test_sampling_is_deterministic_for_a_seed(model, fitted):
    first = model.sample(fitted, 30, 1.0, np.random.default_rng(5))
    again = model.sample(fitted, 30, 1.0, np.random.default_rng(5))
    other = model.sample(fitted, 30, 1.0, np.random.default_rng(6))
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.images, other.images)


def test_guided_sampling_differs_from_plain_sampling(model, fitted, pool):
    # decoded through a PCA code (a linear map), so that a change of the sampled code shows in the pixels even though
    # the tiny autoencoder's decoder is nearly constant
    fitted = ddpm.FittedDDPM(ddpm.PCACodec.fit(pool.images[:100], TINY["latent_dim"]), fitted.network, fitted.final_loss)
    plain = model.sample(fitted, 30, 1.0, np.random.default_rng(5))
    guided = model.sample(fitted, 30, 0.5, np.random.default_rng(5))
    assert torch.equal(plain.labels, guided.labels)  # same labels and noise: only the guidance differs
    assert guided.images.min() >= -1.0 and guided.images.max() <= 1.0
    assert (guided.images - plain.images).abs().mean() > 1e-3


class Recorder(nn.Module):
    """Passes calls on to a network and keeps their inputs."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, x, t, labels):
        self.calls.append((x.clone(), t.clone(), labels.clone()))
        return self.inner(x, t, labels)


@pytest.mark.parametrize("lam", [1.0, 0.5])
def test_conditional_and_unconditional_passes_are_batched_together(model, fitted, lam):
    n = 6
    recorder = Recorder(fitted.network)
    digits = model.sample(ddpm.FittedDDPM(fitted.codec, recorder, fitted.final_loss), n, lam, np.random.default_rng(3))
    assert torch.equal(digits.images, model.sample(fitted, n, lam, np.random.default_rng(3)).images)
    assert len(recorder.calls) == model.timesteps  # one forward pass per step
    assert [int(t[0]) for _, t, _ in recorder.calls] == list(range(model.timesteps - 1, -1, -1))
    for x, t, labels in recorder.calls:
        if lam == 1.0:
            assert len(x) == n and torch.equal(labels, digits.labels)
        else:
            assert len(x) == len(t) == len(labels) == 2 * n
            assert torch.equal(labels[:n], digits.labels)
            assert (labels[n:] == ddpm.NULL_CLASS).all()
            assert torch.equal(x[:n], x[n:])
        assert (t == t[0]).all()


class Affine(nn.Module):
    """A stand-in noise predictor: eps = cond + slope z for class labels, uncond - slope z for the null class."""

    def __init__(self, cond: torch.Tensor, uncond: torch.Tensor, slope: float):
        super().__init__()
        self.cond, self.uncond, self.slope = cond, uncond, slope

    def forward(self, z, t, labels):
        null = (labels == ddpm.NULL_CLASS)[:, None]
        return torch.where(null, self.uncond - self.slope * z, self.cond + self.slope * z)


class IdentityCodec:
    def decode(self, z):
        return z


def test_guidance_combines_the_two_estimates_as_1_plus_w_cond_minus_w_uncond(model):
    """Sampling with guidance w equals plain sampling with eps = (1 + w) eps_cond - w eps_uncond."""
    generator = torch.Generator().manual_seed(0)
    cond, uncond, slope = 0.3 * torch.randn(8, generator=generator), 0.3 * torch.randn(8, generator=generator), 0.1
    lam = 0.8
    w = ddpm.guidance_weight(lam)
    guided = model.sample(ddpm.FittedDDPM(IdentityCodec(), Affine(cond, uncond, slope), 0.0), 12, lam,
                          np.random.default_rng(4))
    combined = Affine((1 + w) * cond - w * uncond, torch.zeros(8), slope * (1 + 2 * w))
    expected = model.sample(ddpm.FittedDDPM(IdentityCodec(), combined, 0.0), 12, 1.0, np.random.default_rng(4))
    unguided = model.sample(ddpm.FittedDDPM(IdentityCodec(), Affine(cond, uncond, slope), 0.0), 12, 1.0,
                            np.random.default_rng(4))
    assert guided.images.shape == (12, 8)
    assert torch.allclose(guided.images, expected.images, rtol=1e-4, atol=1e-5)
    assert (guided.images - unguided.images).abs().max() > 1e-2  # the check above can tell guidance apart


# ----------------------------------------------------------------------------------------------------------- training


def test_fit_is_deterministic_and_leaves_the_global_random_state_alone(model):
    digits = model.draw_real(60, np.random.default_rng(0))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = model.fit(digits, np.random.default_rng(7))
    assert torch.equal(torch.rand(3), expected)
    again = model.fit(digits, np.random.default_rng(7))
    other = model.fit(digits, np.random.default_rng(8))
    a, b, c = (f.network.state_dict() for f in (first, again, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert math.isfinite(first.final_loss) and first.final_loss > 0
    assert not first.network.training


def mean_ink(digits: ddpm.Digits, label: int) -> torch.Tensor:
    return digits.images[digits.labels == label].double().mean((1, 2, 3))


def ink_gap_z(digits: ddpm.Digits) -> tuple[float, float]:
    """Mean ink of zeros minus that of ones, and that gap in standard errors."""
    zeros, ones = mean_ink(digits, 0), mean_ink(digits, 1)
    gap = float(zeros.mean() - ones.mean())
    return gap, gap / math.sqrt(float(zeros.var() / len(zeros) + ones.var() / len(ones)))


def test_the_model_learns_what_each_class_looks_like(pool):
    """Trained on zeros and ones only, samples drawn for class 0 carry more ink than those drawn for class 1, as
    real zeros do, by many standard errors; with the labels shuffled before training, the gap vanishes. (This tests
    the denoiser's conditioning, so it runs on the PCA code, a fixed linear map; the autoencoder code's quality is
    measured by benchmarks/ddpm_dispersion.py and tests/test_ddpm_codec.py.)"""
    keep = pool.labels < 2
    digits = ddpm.Digits(pool.images[keep], pool.labels[keep])
    real_gap = float(mean_ink(digits, 0).mean() - mean_ink(digits, 1).mean())
    assert real_gap > 0.1
    model = ddpm.DDPMModel(timesteps=50, train_steps=300, hidden=64, blocks=2, latent_dim=16, codec="pca",
                           device="cpu")
    rng = np.random.default_rng(0)
    samples = model.sample(model.fit(digits, rng), 1000, 1.0, rng)
    gap, z = ink_gap_z(samples)
    assert z > 6, (gap, z)
    assert abs(gap - real_gap) < 0.3 * real_gap, (gap, real_gap)
    for c in (0, 1):
        assert abs(float(mean_ink(samples, c).mean() - mean_ink(digits, c).mean())) < 0.25 * real_gap
    shuffled = ddpm.Digits(digits.images, digits.labels[torch.randperm(len(digits),
                                                                       generator=torch.Generator().manual_seed(0))])
    rng = np.random.default_rng(0)
    _, z_shuffled = ink_gap_z(model.sample(model.fit(shuffled, rng), 1000, 1.0, rng))
    assert abs(z_shuffled) < 4, z_shuffled


# ------------------------------------------------------------------------------------------------------- checkpoints


def test_a_fitted_model_round_trips_to_identical_samples(model, fitted, tmp_path):
    path = str(tmp_path / "model.state")
    model.save(fitted, path)
    loaded = ddpm.DDPMModel(**TINY).load(path)  # a fresh model object, as a resumed run has
    assert isinstance(loaded, ddpm.FittedDDPM) and not loaded.network.training
    for lam in (1.0, 0.8):
        assert torch.equal(model.sample(loaded, 20, lam, np.random.default_rng(9)).images,
                           model.sample(fitted, 20, lam, np.random.default_rng(9)).images)
    assert loaded.final_loss == pytest.approx(fitted.final_loss, rel=1e-6)


def test_the_training_loss_round_trips_exactly(model, fitted, tmp_path):
    path = str(tmp_path / "model.state")
    model.save(fitted, path)
    assert model.load(path).final_loss == fitted.final_loss


def test_digits_round_trip(model, tmp_path):
    digits = model.draw_real(30, np.random.default_rng(0))
    path = str(tmp_path / "digits.state")
    model.save(digits, path)
    loaded = model.load(path)
    assert isinstance(loaded, ddpm.Digits)
    assert torch.equal(loaded.images, digits.images) and loaded.images.dtype == torch.float32
    assert torch.equal(loaded.labels, digits.labels) and loaded.labels.dtype == torch.int64


class Payload:
    """Not a tensor: a weights-only load must refuse to build it."""


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "pickled object", "missing kind"])
def test_load_refuses_what_is_not_a_checkpoint(model, fitted, tmp_path, damage):
    path = tmp_path / "model.state"
    model.save(fitted, str(path))
    if damage == "garbage":
        path.write_bytes(b"not a checkpoint" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "pickled object":
        torch.save({"kind": "digits", "images": Payload(), "labels": torch.zeros(1)}, path)
        assert isinstance(torch.load(path, weights_only=False)["images"], Payload)  # loadable without weights_only
    else:
        torch.save({"images": torch.zeros(1)}, path)
    with pytest.raises(runs.UNREADABLE):
        model.load(str(path))


# ----------------------------------------------------------------------------------------------------------- loops


def test_a_small_evaluation_either_works_or_is_refused_up_front(fitted):
    """n_eval must leave more samples than classes for the class separation (silhouette) score."""
    try:
        model = ddpm.DDPMModel(**{**TINY, "n_eval": 10})
    except ValueError as error:
        assert str(error).startswith("n_eval")
        return
    assert np.isfinite(model.evaluate(fitted, 1.0, np.random.default_rng(0))["fid"]).all()


DISPERSIONS = ("dispersion_train", "dispersion_real", "pixel_dispersion_train", "pixel_dispersion_real")


def metric_arrays(history):
    return [{k: np.asarray(v) for k, v in h.items()} for h in history]


def test_fully_synthetic_loop_through_the_store(monkeypatch):
    chain = chains.make("ddpm", 0, model=TINY, variant="fully_synthetic", generations=2, n_ini=60, n_s=40, lam=0.8)
    spec, model = chain.spec, chain.build()
    assert "lam_eval" not in model.config()  # the model is the same whatever the run's lam
    sampled_with = []
    sample = model.sample
    monkeypatch.setattr(model, "sample", lambda fitted, n, lam, rng: sampled_with.append(lam) or sample(fitted, n,
                                                                                                          lam, rng))
    history = runs.run_or_load(spec, model, progress=False)
    assert sampled_with == [0.8] * 3  # evaluate's samples (generations 1 and 2) and the loop's are drawn with lam
    assert len(history) == 2
    for metrics in history:
        assert METRIC_KEYS <= set(metrics)
        assert metrics["fid"].shape == (1,) and metrics["fid"][0] >= 0
        for name in ("precision", "recall", "coverage", "lenet_agreement"):
            assert 0.0 <= metrics[name][0] <= 1.0, name
        assert metrics["density"][0] >= 0 and -1.0 <= metrics["class_separation"][0] <= 1.0
        assert math.isfinite(metrics["train_loss"][0]) and metrics["train_loss"][0] > 0
        for name in DISPERSIONS:  # within-class, against the digits this generation trained on and the real ones
            assert 0 < metrics[name][0] < 5 and metrics[f"{name}_se"][0] > 0, name
        assert metrics["features"].shape == (TINY["feature_keep"], 84)
        assert metrics["feature_labels"].shape == (TINY["feature_keep"],)
        assert set(np.unique(metrics["feature_labels"])) <= set(range(10))
        grid = metrics["grid"]
        assert grid.shape == (10, TINY["grid_per_class"], 28, 28)
        assert np.isfinite(grid).all() and grid.min() >= -1.0 and grid.max() <= 1.0
    assert history[0]["fid"][0] != history[1]["fid"][0]

    def no_refit(*args, **kwargs):
        raise AssertionError("the DDPM was retrained although the store holds the run")

    monkeypatch.setattr(ddpm.DDPMModel, "fit", no_refit)
    again = runs.run_or_load(spec, chain.build(), progress=False)
    first, second = metric_arrays(history), metric_arrays(again)
    assert len(second) == 2
    for a, b in zip(first, second):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(np.asarray(a[key], dtype=float), b[key], err_msg=key)


class Recording(ddpm.DDPMModel):
    """The DDPM, keeping each generation's training set."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self.trained_on = []

    def fit(self, digits, rng):
        self.trained_on.append(digits)
        return super().fit(digits, rng)


@pytest.mark.parametrize("variant, n_r, lam", [("fresh_data", 40, 1.0), ("synthetic_augmentation", 60, 0.8)])
def test_loops_with_real_data(pool, variant, n_r, lam):
    spec = loops.LoopSpec(variant, generations=2, n_ini=60, n_r=n_r, n_s=30, lam=lam, seed=1)
    model = Recording(**TINY)
    history = runs.run_or_load(spec, model, progress=False)
    assert len(history) == 2 and all(METRIC_KEYS <= set(h) for h in history)
    assert all(np.isfinite(h["fid"]).all() and h["fid"][0] >= 0 for h in history)
    first, second = model.trained_on
    assert len(first) == 60 and len(second) == n_r + 30
    real_rows = rows(pool.images)
    real_part, synthetic_part = rows(second.images[:n_r]), rows(second.images[n_r:])
    assert real_part <= real_rows and not synthetic_part & real_rows
    if variant == "synthetic_augmentation":  # n_r == n_ini: the fixed real set is generation 1's data
        assert torch.equal(second.images[:n_r], first.images) and torch.equal(second.labels[:n_r], first.labels)
    else:
        assert real_part != rows(first.images)  # fresh digits
    counts = class_counts(second.labels[n_r:])
    assert counts.max() - counts.min() <= 1  # the synthetic part is class-balanced


def test_the_latent_backbone_refuses_fewer_digits_than_latent_dims(model):
    digits = model.draw_real(TINY["latent_dim"], np.random.default_rng(0))
    with pytest.raises(ValueError, match="^digits"):
        model.fit(digits, np.random.default_rng(0))


def test_the_sampling_chunk_size_is_part_of_the_store_key_when_changed():
    assert "sample_batch" not in ddpm.DDPMModel(**TINY).config()
    assert ddpm.DDPMModel(**TINY, sample_batch=7).config()["sample_batch"] == 7


def test_load_refuses_a_torch_file_that_is_not_a_checkpoint(model, tmp_path):
    path = tmp_path / "tensor.state"
    torch.save(torch.zeros(3), path)
    with pytest.raises(runs.UNREADABLE):
        model.load(str(path))
