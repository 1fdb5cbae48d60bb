"""Shared test scaffolding (not a test module)."""

import contextlib

import pytest
import torch
from threadpoolctl import threadpool_limits


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
