"""The fast path is the default; a scope switches to the readable NumPy kernels and back."""

from kernel_cases import run_python

import minconvbert
from minconvbert.backend import kernels
from minconvbert.kernels import fast, reference


def test_default_backend_is_numba():
    result = run_python("import minconvbert; print(minconvbert.get_backend())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numba"


def test_scope_switches_and_restores():
    outer = kernels()
    with minconvbert.backend("numpy"):
        assert kernels() is reference and minconvbert.get_backend() == "numpy"
        with minconvbert.backend("numba"):
            assert kernels() is fast
        assert kernels() is reference
    assert kernels() is outer
