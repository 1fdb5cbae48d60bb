"""The DDPM's autoencoder code: standardised codes, better reconstructions than PCA of the same size, a faithful
save/load round trip, per-dimension time embedding shared within a step, and the store keys of PCA runs unchanged."""

import numpy as np
import pytest
import torch

from madlib.metrics import features as lenet_features
from madlib.models import ddpm

LATENT = 8


@pytest.fixture(scope="module")
def digits():
    train_set, test_set = lenet_features.TRAINING_DATA["mnist-5k"]
    train_images, _ = train_set()
    test_images, _ = test_set()
    return train_images[:1500], test_images[:300]


@pytest.fixture(scope="module")
def codec(digits):
    torch.set_num_threads(1)
    return ddpm.AutoencoderCodec.fit(digits[0], LATENT, channels=16, epochs=10, generator=torch.Generator().manual_seed(0))


def test_codes_are_standardised_on_the_training_digits(codec, digits):
    codes = codec.encode(digits[0])
    assert codes.shape == (len(digits[0]), LATENT)
    # mean 0 and sd 1 per dimension by construction (up to float32 rounding)
    assert torch.allclose(codes.mean(0), torch.zeros(LATENT), atol=1e-4)
    assert torch.allclose(codes.std(0), torch.ones(LATENT), atol=1e-3)


def test_autoencoder_reconstructs_held_out_digits_better_than_pca_of_the_same_size(codec, digits):
    train, held_out = digits
    pca = ddpm.PCACodec.fit(train, LATENT)
    error = lambda c: float(((c.decode(c.encode(held_out)) - held_out) ** 2).mean())  # noqa: E731
    assert error(codec) < 0.95 * error(pca)
    decoded = codec.decode(codec.encode(held_out))
    assert decoded.shape == held_out.shape and decoded.min() >= -1.0 and decoded.max() <= 1.0


def test_empty_code_decodes_to_no_images(codec):
    assert codec.decode(torch.empty(0, LATENT)).shape == (0, 1, 28, 28)


def test_save_and_load_give_the_same_decoder(codec, tmp_path, monkeypatch):
    monkeypatch.setenv("MADLIB_STORE", str(tmp_path))
    model = ddpm.DDPMModel(timesteps=10, train_steps=2, hidden=16, blocks=1, latent_dim=LATENT, codec_channels=16,
                           codec_epochs=1, n_eval=20, device="cpu")
    network = model.new_network()
    path = str(tmp_path / "model.state")
    model.save(ddpm.FittedDDPM(codec, network.eval(), 0.5), path)
    loaded = model.load(path)
    z = torch.randn(6, LATENT, generator=torch.Generator().manual_seed(1))
    assert torch.equal(loaded.codec.decode(z), codec.decode(z))


def test_latent_mlp_time_condition_does_not_depend_on_the_other_rows():
    torch.manual_seed(0)
    network = ddpm.LatentMLP(latent_dim=4, hidden=16, blocks=1).eval()
    z = torch.randn(3, 4)
    labels = torch.tensor([1, 2, ddpm.NULL_CLASS])
    together = network(z, torch.tensor([5, 5, 9]), labels)
    alone = torch.cat([network(z[i:i + 1], torch.tensor([t]), labels[i:i + 1]) for i, t in enumerate([5, 5, 9])])
    assert torch.allclose(together, alone, atol=1e-6)


def test_codec_settings_are_part_of_the_key_and_checked():
    base = dict(timesteps=10, train_steps=2, latent_dim=LATENT, device="cpu")
    autoencoder = ddpm.DDPMModel(**base).config()
    assert autoencoder["codec"] == "autoencoder"
    assert ddpm.DDPMModel(**base, codec_epochs=3).config() != autoencoder
    assert ddpm.DDPMModel(**base, codec_channels=4).config() != autoencoder
    pca = ddpm.DDPMModel(**base, codec="pca").config()
    assert "codec" not in pca and "codec_epochs" not in pca  # the keys PCA runs were stored under before
    with pytest.raises(ValueError, match="codec: must be one of 'autoencoder', 'pca'"):
        ddpm.DDPMModel(**base, codec="vae")
    with pytest.raises(ValueError, match="codec_epochs"):
        ddpm.DDPMModel(**base, codec_epochs=0)
