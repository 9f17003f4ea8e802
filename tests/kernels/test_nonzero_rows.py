"""nonzero_rows (which rows of a gradient carry anything): fast == reference, NaN and -0.0, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import dtypes, seeds

from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)


@given(rows=st.integers(0, 40), cols=st.integers(0, 9), dtype=dtypes, seed=seeds)
def test_fast_equals_reference(rows, cols, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)).astype(dtype)
    x[rng.random(rows) < 0.6] = 0.0  # most rows zero, as in a masked-LM gradient
    x[rng.random((rows, cols)) < 0.1] = 0.0  # zeros inside the other rows too
    got, expected = fast.nonzero_rows(x), reference.nonzero_rows(x)
    assert got.dtype == expected.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_nan_counts_and_negative_zero_does_not():
    x = np.zeros((4, 3), np.float32)
    x[1, 2], x[2, 0], x[3, 1] = np.nan, -0.0, np.inf
    for module in (fast, reference):
        np.testing.assert_array_equal(module.nonzero_rows(x), [1, 3])
        np.testing.assert_array_equal(module.nonzero_rows(x[:, ::2]), [1])  # strided: the inf column dropped


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    with pytest.raises(ValueError, match=r"nonzero_rows: expected x \(R, N\), got shape \(2, 3, 4\)"):
        module.nonzero_rows(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="nonzero_rows: x must be a floating-point array"):
        module.nonzero_rows(np.zeros((2, 3), dtype=int))
