"""The GAN family: shapes, truncation as the sampling bias, determinism, checkpoints, WGAN-GP's penalty, learning,
the image-folder path, two generations of a fully synthetic loop through the run store, and the GAN figures' builds
(madlib.gan_studies; tiny, on the CPU)."""

import numpy as np
import pytest
import torch

import matplotlib.pyplot as plt
import pandas as pd

from madlib import chains, gan_studies, plotting, presets, runs, tidy
from support import quiet_one_thread_store, write_folder
from madlib.metrics.precision_recall import default_device
from madlib.models import gan

TINY = dict(width=8, z_dim=8, w_dim=8, mapping_layers=2, batch_size=8, train_steps=3, n_critic=2, n_eval=20, k=3,
            grid_count=4, lenet_epochs=1, device="cpu")
SCALARS = ("fid", "precision", "recall", "density", "coverage", "spectral_distance", "high_freq_ratio", "g_loss",
           "d_loss")


@pytest.fixture(scope="module", autouse=True)
def store(tmp_path_factory):
    """A temporary run store for the module (the evaluation's LeNet is trained into it once), quiet, one thread."""
    with quiet_one_thread_store(tmp_path_factory.mktemp("gan_store")) as folder:
        yield folder


def random_images(n: int, size: int = 28, channels: int = 1, seed: int = 0) -> gan.Images:
    generator = torch.Generator().manual_seed(seed)
    return gan.Images(torch.rand(n, channels, size, size, generator=generator) * 2 - 1)


@pytest.fixture(scope="module", params=gan.ARCHITECTURES)
def fitted(request):
    model = gan.GANModel(architecture=request.param, **TINY)
    return model, model.fit(random_images(16), np.random.default_rng(0))


def test_fit_and_sample_shapes(fitted):
    model, fit = fitted
    images = model.sample(fit, 5, 1.0, np.random.default_rng(1))
    assert isinstance(images, gan.Images) and len(images) == 5
    assert images.images.shape == (5, 1, 28, 28) and images.images.dtype == torch.float32
    assert images.images.abs().max() <= 1.0
    assert model.sample(fit, 0, 0.5, np.random.default_rng(1)).images.shape == (0, 1, 28, 28)
    joined = model.join([images, model.sample(fit, 0, 1.0, np.random.default_rng(2)), images])
    assert len(joined) == 10


def pixel_spread(model, fit, lam: float) -> float:
    """Mean over pixels of the variance across 200 samples drawn with bias lam (same latents for every lam)."""
    return float(model.sample(fit, 200, lam, np.random.default_rng(3)).images.var(0).mean())


def test_smaller_lam_gives_smaller_spread_and_lam_0_one_image(fitted):
    model, fit = fitted
    spreads = [pixel_spread(model, fit, lam) for lam in (1.0, 0.5, 0.0)]
    assert spreads[0] > spreads[1] > spreads[2]
    assert spreads[2] < 1e-10
    same = model.sample(fit, 10, 0.0, np.random.default_rng(4)).images
    assert torch.allclose(same, same[:1].expand_as(same), atol=1e-6)


def test_style_truncation_pulls_w_toward_its_average():
    model = gan.GANModel(architecture="style", **TINY)
    fit = model.fit(random_images(16), np.random.default_rng(0))
    z = model.latents(500, np.random.default_rng(5))
    with torch.no_grad():
        w = fit.generator.styles(z)
        assert torch.allclose(w.mean(0), fit.generator.w_avg, atol=0.1 * w.std(0).max().item())  # w_avg estimated
        for psi in (0.7, 0.3):
            truncated = fit.generator.styles(z, psi)
            torch.testing.assert_close(truncated - fit.generator.w_avg, psi * (w - fit.generator.w_avg))


def test_lam_outside_0_1_is_refused(fitted):
    model, fit = fitted
    for lam in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"^lam: .*\[0, 1\]"):
            model.sample(fit, 3, lam, np.random.default_rng(0))


def test_settings_are_checked():
    with pytest.raises(ValueError, match="architecture"):
        gan.GANModel(architecture="biggan")
    with pytest.raises(ValueError, match="image_size"):
        gan.GANModel(image_size=32)  # digits are 28 x 28
    with pytest.raises(ValueError, match="image_size"):
        gan.GANModel(dataset="/nowhere", image_size=24)
    assert gan.base_resolution(28) == (7, 2) and gan.base_resolution(128) == (4, 5)


@pytest.mark.parametrize("architecture", gan.ARCHITECTURES)
def test_same_rng_same_samples(architecture):
    model = gan.GANModel(architecture=architecture, **TINY)
    data = random_images(16)
    first = model.sample(model.fit(data, np.random.default_rng(7)), 6, 0.9, np.random.default_rng(8)).images
    second = model.sample(model.fit(data, np.random.default_rng(7)), 6, 0.9, np.random.default_rng(8)).images
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_checkpoints_round_trip_and_garbage_is_refused(fitted, tmp_path):
    model, fit = fitted
    path = str(tmp_path / "model.state")
    model.save(fit, path)
    torch.load(path, weights_only=True)  # plain tensors and dicts only
    loaded = model.load(path)
    assert (loaded.g_loss, loaded.d_loss) == (fit.g_loss, fit.d_loss)
    before = model.sample(fit, 4, 0.8, np.random.default_rng(9)).images
    torch.testing.assert_close(model.sample(loaded, 4, 0.8, np.random.default_rng(9)).images, before)
    images = random_images(3)
    model.save(images, str(tmp_path / "images.state"))
    torch.testing.assert_close(model.load(str(tmp_path / "images.state")).images, images.images)
    (tmp_path / "garbage.state").write_bytes(b"not a checkpoint at all")
    with pytest.raises(runs.UNREADABLE):
        model.load(str(tmp_path / "garbage.state"))
    torch.save({"kind": "something else"}, tmp_path / "other.state")
    with pytest.raises(ValueError, match="not a GAN checkpoint"):
        model.load(str(tmp_path / "other.state"))


def test_gradient_penalty_matches_a_hand_computation():
    critic = lambda x: (x ** 2).sum(dim=(1, 2, 3))  # gradient 2 x
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    mix = torch.tensor([0.0, 0.25, 0.5, 1.0])
    x_hat = mix.view(-1, 1, 1, 1) * real + (1 - mix.view(-1, 1, 1, 1)) * fake
    by_hand = ((2 * x_hat).flatten(1).norm(dim=1) - 1).pow(2).mean()
    torch.testing.assert_close(gan.gradient_penalty(critic, real, fake, mix), by_hand)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 1))
    expected = (linear[1].weight.norm() - 1) ** 2  # constant gradient: the weights
    torch.testing.assert_close(gan.gradient_penalty(linear, real, fake, mix), expected)


def test_the_gan_learns_the_mean_digit():
    """After 60 steps on real digits the samples' mean image is much closer to the real one than at the start
    (the untrained generator gives grey noise around 0; digits are mostly black background)."""
    model = gan.GANModel(**{**TINY, "train_steps": 60, "batch_size": 16})
    digits = model.draw_real(300, np.random.default_rng(0))
    target = digits.images.mean(0)

    def error(steps: int) -> float:
        model.train_steps = steps
        fit = model.fit(digits, np.random.default_rng(1))
        return float((model.sample(fit, 200, 1.0, np.random.default_rng(2)).images.mean(0) - target).abs().mean())

    assert error(60) < 0.5 * error(1)


def test_draw_real_gives_distinct_training_digits():
    model = gan.GANModel(**TINY)
    drawn = model.draw_real(50, np.random.default_rng(0)).images
    assert drawn.shape == (50, 1, 28, 28)
    assert len(torch.unique(drawn.flatten(1), dim=0)) == 50
    with pytest.raises(ValueError, match="n: asked for"):
        model.draw_real(10**6, np.random.default_rng(0))


def test_image_folder_data_set(tmp_path):
    write_folder(tmp_path / "pictures")
    model = gan.GANModel(dataset=str(tmp_path / "pictures"), image_size=8, channels=3, **{**TINY, "k": 2})
    assert len(model.real_pool()) == 16 and len(model.reference_images()) == 4  # 20% held out
    fit = model.fit(model.draw_real(10, np.random.default_rng(0)), np.random.default_rng(1))
    metrics = model.evaluate(fit, 1.0, np.random.default_rng(2))
    assert metrics["grid"].shape == (4, 3, 8, 8)
    assert all(np.isfinite(metrics[name]).all() for name in ("fid", "precision", "recall", "spectral_distance"))
    radii, real = model.real_spectrum()
    assert metrics["spectrum"].shape == real.shape == radii.shape


def test_device_code_path_runs_on_the_cpu():
    assert gan.GANModel(**{**TINY, "device": None}).device == default_device()
    model = gan.GANModel(**{**TINY, "device": torch.device("cpu")})
    fit = model.fit(random_images(8), np.random.default_rng(0))
    assert {p.device.type for p in fit.generator.parameters()} == {"cpu"}
    assert model.sample(fit, 3, 1.0, np.random.default_rng(1)).images.device.type == "cpu"


@pytest.mark.parametrize("architecture", gan.ARCHITECTURES)
def test_two_generation_fully_synthetic_loop_through_the_store(architecture, tmp_path):
    chain = chains.make("gan", 1, model=dict(architecture=architecture, **TINY), variant="fully_synthetic",
                        generations=2, n_ini=40, n_s=30, lam=0.8)
    model = chain.build()
    assert "lam_eval" not in model.config()  # the model is the same whatever the run's lam
    history = runs.run_or_load(chain.spec, model, store=tmp_path)
    assert len(history) == 2
    for metrics in history:
        for name in SCALARS:
            assert metrics[name].shape == (1,) and f"{name}_se" in metrics
        assert np.isfinite(metrics["fid"]).all() and 0 <= metrics["precision"][0] <= 1
        assert metrics["grid"].shape == (4, 28, 28) and np.abs(metrics["grid"]).max() <= 1
        assert metrics["spectrum"].shape == model.real_spectrum()[1].shape
        for name in ("dispersion_train", "dispersion_real", "pixel_dispersion_train", "pixel_dispersion_real"):
            assert 0 < metrics[name][0] < 5 and metrics[f"{name}_se"][0] > 0, name
    again = runs.run_or_load(chain.spec, chain.build(), store=tmp_path)
    np.testing.assert_array_equal(again[1]["fid"], history[1]["fid"])


# The GAN figures' builds at a tiny size (madlib.gan_studies) ----------------------------------------------------------
TINY_SIZES = dict(n_ini=40, n_s=30)


def tiny_settings(stem: str, **changes) -> dict:
    """The smoke settings of a GAN figure with the tiny model and sizes."""
    model = {**TINY, "architecture": "wgan-gp" if stem.startswith("fig13") else "style"}
    if stem == "fig08_gan_growing_pool":
        overrides = {"pool": {"generations": 2, "n_r": 40, "n_s": 30, "model": model},
                     "fully_synthetic": {**TINY_SIZES, "generations": [2], "model": model}}
    elif stem == "fig28_gan_pool_samples":
        overrides = {"generations": 2, "n_r": 40, "n_s": 30, "model": model, "shown": [1, 2]}
    else:
        overrides = {**TINY_SIZES, "generations": 2 if stem.startswith("fig13") else [2], "model": model}
        if not stem.startswith("fig13"):
            overrides["shown"] = [1, 2]
    return presets.resolve(stem, "smoke", overrides={**overrides, **changes})


def check_sample_arrays(result: tidy.FigureData) -> None:
    assert result.arrays["shown"].tolist() == [1, 2]
    assert result.arrays["grids"].shape == (2, 4, 28, 28) and np.abs(result.arrays["grids"]).max() <= 1


def test_fig01_build_has_scores_spectra_and_grids(tmp_path):
    settings = tiny_settings("fig01_gan_fingerprint")
    result = chains.figure("fig01_gan_fingerprint", settings)
    assert set(result.data["metric"]) == set(gan_studies.SCORES) and set(result.data["generation"]) == {1, 2}
    assert (result.data["replicates"] == 1).all() and (result.data["lam"] == 1.0).all()
    check_sample_arrays(result)
    spectra = result.frames["spectra"]
    assert list(spectra.columns) == ["generation", "radius", "power"] and set(spectra["generation"]) == {0, 1, 2}
    assert (spectra["power"] > 0).all()
    assert "style-based GAN" in result.caption and "n_ini=40" in result.caption
    # one chain: the SE is the evaluation SE the model stored, as before the chain runner
    (chain,) = chains.plan_settings("fig01_gan_fingerprint", settings)
    history = chains.load([chain])[0]
    fid = result.data[result.data["metric"] == "fid"].sort_values("generation")
    np.testing.assert_allclose(fid["sem"], [h["fid_se"][0] for h in history])
    np.testing.assert_allclose(fid["mean"], [h["fid"][0] for h in history])
    figure = plotting.fig01(result)
    assert len(figure.axes) == 5
    result.save(tmp_path, "fig01_gan_fingerprint")  # and the figure again from the files alone
    assert len(plotting.fig01(tidy.FigureData.load(tmp_path, "fig01_gan_fingerprint")).axes) == 5
    plt.close("all")


@pytest.mark.parametrize("stem", ["fig18_gan_unbiased_samples", "fig23_gan_biased_samples"])
def test_sample_figures_build_grids_and_caption(stem):
    result = chains.figure(stem, tiny_settings(stem))
    check_sample_arrays(result)
    assert result.caption.startswith("Random samples") and "t=2: FID" in result.caption
    assert len(plotting.gan_samples(result).axes) == 2
    plt.close("all")


def test_sample_figures_refuse_generations_the_chain_does_not_have():
    with pytest.raises(ValueError, match="shown"):
        chains.figure("fig18_gan_unbiased_samples", tiny_settings("fig18_gan_unbiased_samples", shown=[1, 3]))


def test_fig08_and_fig28_read_the_same_pool_chain():
    result = chains.figure("fig08_gan_growing_pool", tiny_settings("fig08_gan_growing_pool"))
    assert set(result.data["variant"]) == {"synthetic_augmentation", "fully_synthetic"}
    assert "n_r=40" in result.caption
    assert len(plotting.fig08(result).axes) == 3
    samples = chains.figure("fig28_gan_pool_samples", tiny_settings("fig28_gan_pool_samples"))
    check_sample_arrays(samples)
    pool = result.data[result.data["variant"] == "synthetic_augmentation"].reset_index(drop=True)
    pd.testing.assert_frame_equal(samples.data, pool)
    assert len(plotting.gan_samples(samples).axes) == 2
    plt.close("all")


def test_fig13_build_is_the_wgan_chain():
    result = chains.figure("fig13_wgan_fully_synthetic", tiny_settings("fig13_wgan_fully_synthetic"))
    assert set(result.data["generation"]) == {1, 2} and "WGAN-GP" in result.caption
    assert len(plotting.fig13(result).axes) == 3
    plt.close("all")


# ------------------------------------------------------------------------------------------- the generator's average


def test_move_average_is_the_exponential_moving_average_of_the_weights():
    torch.manual_seed(0)
    average, trained = nn_pair()
    start = [p.clone() for p in average.parameters()]
    history = []
    for _ in range(5):
        with torch.no_grad():
            for p in trained.parameters():
                p.add_(torch.randn_like(p))
        history.append([p.clone() for p in trained.parameters()])
        gan.move_average(average, trained, 0.9)
    # closed form: 0.9^5 * start + sum_k 0.1 * 0.9^(4 - k) * trained_k
    for i, kept in enumerate(average.parameters()):
        expected = 0.9**5 * start[i] + sum(0.1 * 0.9 ** (4 - k) * history[k][i] for k in range(5))
        torch.testing.assert_close(kept, expected)


def nn_pair():
    first = torch.nn.Linear(3, 2)
    second = torch.nn.Linear(3, 2)
    second.load_state_dict(first.state_dict())
    return first, second


def test_ema_generator_differs_from_the_last_one_and_is_a_key():
    data = random_images(16)
    plain = gan.GANModel(architecture="style", **{**TINY, "train_steps": 6})
    averaged = gan.GANModel(architecture="style", **{**TINY, "train_steps": 6}, ema=0.5)
    assert averaged.config() != plain.config() and "ema" not in plain.config()
    first = plain.fit(data, np.random.default_rng(7)).generator
    second = averaged.fit(data, np.random.default_rng(7)).generator
    assert not second.training and not any(p.requires_grad for p in second.parameters())
    differences = [float((a - b).abs().max()) for a, b in zip(first.parameters(), second.parameters())]
    assert max(differences) > 1e-4  # same training noise: only the averaging differs
    for bad in (1.0, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="ema: the decay"):
            gan.GANModel(ema=bad)
