"""The fast path is the default; a scope switches to the readable NumPy kernels and back."""

from kernel_cases import run_python

import minconvbert
from minconvbert.backend import active_kernels
from minconvbert.kernels import fast, reference


def test_default_backend_is_numba():
    result = run_python("import minconvbert; print(minconvbert.get_backend())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numba"


def test_scope_switches_and_restores():
    outer = active_kernels()
    with minconvbert.backend("numpy"):
        assert active_kernels() is reference and minconvbert.get_backend() == "numpy"
        with minconvbert.backend("numba"):
            assert active_kernels() is fast
        assert active_kernels() is reference
    assert active_kernels() is outer
