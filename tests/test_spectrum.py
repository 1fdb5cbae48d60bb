"""Radial power spectra: white noise is flat, a checkerboard sits at the highest radius, the FFT matches numpy's
by hand, and the two scores are 0 for equal sets and grow with added high-frequency noise."""

import numpy as np
import pytest
import torch

from madlib.metrics import spectrum


def smooth_images(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Random images with little high-frequency energy: white noise averaged over 5 x 5 neighbourhoods."""
    noise = rng.normal(size=(n, size + 4, size + 4))
    out = np.zeros((n, size, size))
    for dy in range(5):
        for dx in range(5):
            out += noise[:, dy:dy + size, dx:dx + size] / 25
    return out


def test_white_noise_has_a_flat_radial_spectrum():
    rng = np.random.default_rng(0)
    size = 32
    radii, power = spectrum.radial_power_spectrum(rng.normal(size=(300, size, size)))
    assert radii[0] == 0 and power[0] == pytest.approx(0.0, abs=1e-9)  # the mean is removed
    # E|F(u, v)|^2 = H W sigma^2 at every frequency but (0, 0); each bin averages >= 4 frequencies x 300 images
    relative = power[1:] / size**2
    assert np.all(np.abs(relative - 1.0) < 0.15), relative


def test_a_checkerboard_puts_its_energy_at_the_highest_radius():
    size = 16
    board = (-1.0) ** np.add.outer(np.arange(size), np.arange(size))
    radii, power = spectrum.radial_power_spectrum(board[None])
    assert radii[-1] == round(np.sqrt(2) * size / 2)
    assert np.argmax(power) == len(power) - 1
    assert power[:-1].sum() == pytest.approx(0.0, abs=1e-9)
    assert spectrum.high_frequency_share(spectrum.power_maps(board[None])[0]) == pytest.approx(1.0)


def test_power_and_radial_bins_match_a_hand_computation_with_numpy():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(3, 2, 6, 6))  # two channels: power is averaged over them
    expected_maps = np.stack([np.mean([np.abs(np.fft.fft2(ch - ch.mean())) ** 2 for ch in image], axis=0)
                              for image in images])
    np.testing.assert_allclose(spectrum.power_maps(images), expected_maps, rtol=1e-10)
    mean_map = expected_maps.mean(0)
    by_radius = {}
    for i in range(6):
        for j in range(6):
            u, v = (i if i < 3 else i - 6), (j if j < 3 else j - 6)
            by_radius.setdefault(int(np.rint(np.hypot(u, v))), []).append(mean_map[i, j])
    radii, power = spectrum.radial_power_spectrum(torch.as_tensor(images))
    assert list(radii) == sorted(by_radius)
    np.testing.assert_allclose(power, [np.mean(by_radius[r]) for r in radii], rtol=1e-10)


def test_scores_are_neutral_for_equal_sets_and_grow_with_high_frequency_noise():
    rng = np.random.default_rng(2)
    real = smooth_images(100, 16, rng)
    assert spectrum.spectral_distance(real, real) == 0.0
    assert spectrum.high_frequency_ratio(real, real) == pytest.approx(1.0)
    distances, ratios = [], []
    for amplitude in (0.02, 0.1, 0.5):
        noisy = real + amplitude * rng.normal(size=real.shape)
        distances.append(spectrum.spectral_distance(noisy, real))
        ratios.append(spectrum.high_frequency_ratio(noisy, real))
    assert 0 < distances[0] < distances[1] < distances[2]
    assert 1 < ratios[0] < ratios[1] < ratios[2]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="images"):
        spectrum.power_maps(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="size"):
        spectrum.spectral_distance(np.zeros((2, 8, 8)), np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="cutoff"):
        spectrum.high_frequency_ratio(np.ones((2, 8, 8)), np.ones((2, 8, 8)), cutoff=2.0)
