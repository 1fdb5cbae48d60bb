"""The perturbations of benchmarks/metric_sensitivity.py: each leaves images unchanged at its identity strength, keeps
pixels in [0, 1] and the shape, and moves the pixels further the stronger it is. No LeNet, no data set: random
stroke-like images, well under a second."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "metric_sensitivity.py"
spec = importlib.util.spec_from_file_location("metric_sensitivity", SCRIPT)
metric_sensitivity = importlib.util.module_from_spec(spec)
sys.modules.setdefault("metric_sensitivity", metric_sensitivity)  # dataclasses look their module up there
spec.loader.exec_module(metric_sensitivity)

PERTURBATIONS = {p.name: p for p in metric_sensitivity.PERTURBATIONS}


def digits_like(count: int = 4, size: int = 28) -> np.ndarray:
    """Black images (count, 1, size, size) with a few bright, 3-pixel-wide bars and soft edges, in [0, 1]."""
    rng = np.random.default_rng(0)
    images = np.zeros((count, 1, size, size))
    for image in images:
        for _ in range(3):
            row, column = rng.integers(4, size - 8, size=2)
            image[0, row:row + 3, column:column + 8] = 1.0
            image[0, row - 1, column:column + 8] = np.maximum(image[0, row - 1, column:column + 8], 0.5)
    return images


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_identity_strength_returns_the_input(name):
    perturbation, images = PERTURBATIONS[name], digits_like()
    out = perturbation.apply(images, perturbation.identity, np.random.default_rng(1))
    np.testing.assert_array_equal(out, images)
    assert out is not images


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_stronger_moves_pixels_further(name):
    perturbation, images = PERTURBATIONS[name], digits_like()
    changes = []
    for strength in perturbation.strengths:
        out = perturbation.apply(images, strength, np.random.default_rng(1))
        assert out.shape == images.shape
        assert out.min() >= 0.0 and out.max() <= 1.0
        changes.append(np.abs(out - images).mean())
    assert 0 < changes[0] < changes[1] < changes[2], changes


def test_checkerboard_is_the_pixel_grid_and_erosion_does_not_drift():
    grid = metric_sensitivity.checker_pattern(28, 28)
    np.testing.assert_allclose(grid, (-1.0) ** np.add.outer(np.arange(28), np.arange(28)), atol=1e-12)
    # two 2 x 2 erosions make one centred 3 x 3 erosion: a 5 x 5 square around pixel (4, 4) becomes the 3 x 3 square
    # around the same pixel
    square = np.zeros((1, 1, 9, 9))
    square[0, 0, 2:7, 2:7] = 1.0
    expected = np.zeros_like(square)
    expected[0, 0, 3:6, 3:6] = 1.0
    np.testing.assert_array_equal(metric_sensitivity.erode(square, 2), expected)
