"""benchmarks/ddpm_sources.py at tiny sizes: the codec loop trains pass 1 on the real digits and each later pass on
the previous reconstructions, the denoiser loop trains generation 1 on the real codes and hands each generation's
re-encoded samples on, and every table row holds finite, positive ratios. A fixed random projection of the pixels
stands in for LeNet, so no network has to be trained for the features (a few seconds on one CPU thread)."""

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from madlib.models import ddpm
from support import quiet_one_thread_store

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "ddpm_sources.py"
spec = importlib.util.spec_from_file_location("ddpm_sources", SCRIPT)
ddpm_sources = importlib.util.module_from_spec(spec)
sys.modules.setdefault("ddpm_sources", ddpm_sources)  # dataclasses look their module up there
spec.loader.exec_module(ddpm_sources)

TINY = dict(timesteps=20, train_steps=30, hidden=32, blocks=1, latent_dim=8, codec_epochs=1, codec_channels=4,
            device="cpu")


@pytest.fixture(scope="module", autouse=True)
def store(tmp_path_factory):
    with quiet_one_thread_store(tmp_path_factory.mktemp("sources_store")) as folder:
        yield folder


@pytest.fixture(scope="module")
def model():
    return ddpm.DDPMModel(**TINY)


@pytest.fixture(scope="module")
def real(model):
    return model.draw_real(200, np.random.default_rng(0))


@pytest.fixture(scope="module")
def reference(model):
    """A stand-in for the LeNet reference set: 16 random projections of the pixels, and 100 held-out digits."""
    projection = torch.randn(28 * 28, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    embed = lambda images: (torch.as_tensor(images).reshape(len(images), -1).double() @ projection).numpy()  # noqa
    held_out = model.draw_real(100, np.random.default_rng(1)).images
    return SimpleNamespace(embed=embed, images=held_out, features=embed(held_out))


def ratios_are_finite_and_positive(*pairs):
    for ratio, se in pairs:
        assert np.isfinite(ratio) and ratio > 0 and np.isfinite(se) and se > 0


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def test_codec_loop_trains_pass_one_on_the_real_digits_and_later_passes_on_reconstructions(model, real, reference,
                                                                                          monkeypatch):
    trained_on = []
    fit_codec = model.fit_codec

    def recording(images, generator):
        trained_on.append(images)
        return fit_codec(images, generator)

    monkeypatch.setattr(model, "fit_codec", recording)
    passes = list(ddpm_sources.codec_loop(model, real, reference, 2, np.random.default_rng(2)))
    assert [p.index for p in passes] == [1, 2] and len(trained_on) == 2
    assert torch.equal(trained_on[0], real.images) and passes[0].inputs is real.images
    assert torch.equal(trained_on[1], passes[0].reconstructions) and not torch.equal(trained_on[1], real.images)
    assert passes[1].reconstructions.shape == real.images.shape
    for p in passes:
        ratios_are_finite_and_positive(p.pixel_input, p.pixel_real, p.lenet_input, p.lenet_real)
        assert np.isfinite(p.fid) and p.fid >= 0
    assert passes[0].pixel_input == passes[0].pixel_real  # pass 1's input is the real digits
    header = ddpm_sources.CODEC_HEADER.splitlines()
    assert all(len(cells(line)) == 7 for line in header + [ddpm_sources.codec_row(p) for p in passes])


def test_denoiser_loop_trains_on_real_codes_then_on_reencoded_samples(model, real, reference):
    codec = model.fit_codec(real.images, torch.Generator().manual_seed(3))
    generations = list(ddpm_sources.denoiser_loop(model, real, reference, codec, 2, 40, np.random.default_rng(4)))
    assert [g.index for g in generations] == [0, 1, 2]
    real_codes = codec.encode(real.images)
    assert torch.equal(generations[1].training_codes, real_codes)
    first = generations[1]
    assert first.latents.shape == (40, TINY["latent_dim"])
    assert np.bincount(first.labels.numpy(), minlength=10).tolist() == [4] * 10
    assert torch.allclose(generations[2].training_codes, codec.encode(codec.decode(first.latents)))
    for g in generations[1:]:
        ratios_are_finite_and_positive(g.latent_train, g.latent_real, g.round_trip, g.pixel_train, g.pixel_real,
                                       g.lenet_train, g.lenet_real)
        assert np.isfinite(g.final_loss) and np.isfinite(g.fid)
    assert first.latent_train == first.latent_real  # generation 1 trains on the real codes
    rows = [ddpm_sources.denoiser_row(g) for g in generations]
    assert all(len(cells(line)) == 11 for line in ddpm_sources.DENOISER_HEADER.splitlines() + rows)
    assert cells(rows[0])[3] == "-" and "±" in cells(rows[1])[3]
