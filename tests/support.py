"""Shared test scaffolding (not a test module)."""

import contextlib

import numpy as np
import pytest
import torch
from PIL import Image
from threadpoolctl import threadpool_limits

from madlib.models.gaussian import GaussianModel


@contextlib.contextmanager
def quiet_one_thread_store(folder):
    """Use ``folder`` as the run store, without progress bars and with one thread for torch and numpy's BLAS: the
    networks and matrices in the tests are tiny, and two threads on a busy 2-core machine are many times slower."""
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch, threadpool_limits(1):
        patch.setenv("MADLIB_STORE", str(folder))
        patch.setenv("MADLIB_PROGRESS", "0")
        torch.set_num_threads(1)
        try:
            yield folder
        finally:
            torch.set_num_threads(threads)


def write_folder(root, count: int = 20, size: int = 12) -> None:
    """An image folder of `count` random RGB images of `size` x `size` pixels in two class sub-folders."""
    rng = np.random.default_rng(0)
    for index in range(count):
        folder = root / f"class_{index % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)).save(folder / f"{index}.png")


@pytest.fixture
def gaussian_fits(monkeypatch):
    """Counts GaussianModel's fits in place (a subclass is another class, whose code is part of its run key, so it
    could not resume a run that a child process started with GaussianModel): the list's length is the count."""
    fits, fit = [], GaussianModel.fit

    def counting_fit(self, data, rng=None):
        fits.append(1)
        return fit(self, data, rng)

    monkeypatch.setattr(GaussianModel, "fit", counting_fit)
    return fits
