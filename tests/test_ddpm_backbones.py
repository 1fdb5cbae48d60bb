"""The pixel-space UNet backbone (the paper preset's) runs the same interface on the CPU at toy sizes, and the
backbones' noise predictors keep the shapes the sampler relies on."""

import numpy as np
import pytest
import torch

from madlib.models import ddpm

TINY_UNET = dict(backbone="unet", timesteps=6, train_steps=3, batch_size=8, unet_base=8, n_eval=20, feature_keep=4,
                 grid_per_class=1, lenet_epochs=1, device="cpu")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    monkeypatch.setenv("MADLIB_PROGRESS", "0")


def test_unet_predicts_noise_of_the_image_shape():
    network = ddpm.UNet(base=8)
    x = torch.randn(5, 1, 28, 28)
    out = network(x, torch.arange(5), torch.tensor([0, 3, 9, ddpm.NULL_CLASS, 1]))
    assert out.shape == x.shape


def test_latent_mlp_predicts_noise_of_the_latent_shape():
    network = ddpm.LatentMLP(latent_dim=7, hidden=16, blocks=2)
    z = torch.randn(4, 7)
    assert network(z, torch.tensor([0, 1, 2, 3]), torch.tensor([0, 5, ddpm.NULL_CLASS, 9])).shape == z.shape


def test_unet_fits_samples_and_round_trips_on_cpu(store, tmp_path):
    model = ddpm.DDPMModel(**TINY_UNET)
    rng = np.random.default_rng(0)
    fitted = model.fit(model.draw_real(40, rng), rng)
    first = model.sample(fitted, 12, 0.8, np.random.default_rng(1))
    assert first.images.shape == (12, 1, 28, 28)
    assert first.images.min() >= -1.0 and first.images.max() <= 1.0
    path = str(tmp_path / "unet.state")
    model.save(fitted, path)
    again = model.sample(model.load(path), 12, 0.8, np.random.default_rng(1))
    assert torch.equal(first.images, again.images)
    assert model.config()["latent_dim"] is None  # the pixel backbone has no latent code
