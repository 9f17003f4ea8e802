"""The vectorisable float32 exp, normal cdf and normal pdf: accurate over the whole float32 range, and
float64 still goes to libm."""

import math

import numpy as np
import pytest
from numba import njit

from minconvbert.kernels import vecmath
from minconvbert.kernels.vecmath import exp, normal_cdf, normal_pdf


@njit
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp(x[i])


@njit
def _cdf_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = normal_cdf(x[i])


@njit
def _pdf_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = normal_pdf(x[i])


def run(loop, x):
    out = np.empty_like(x)
    loop(x, out)
    return out


def exact_cdf(x):
    return np.array([0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in x])


def test_exp_float32_accuracy():
    x = np.linspace(-87.3, 88.7, 400_001).astype(np.float32)
    got = run(_exp_loop, x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(got - exact) / exact) < 2e-7


def test_exp_float32_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72, 88.73, 1e30, -1e30, -95.0, -103.0, -104.0, -1e-30],
                 dtype=np.float32)  # fmt: skip
    got = run(_exp_loop, x)
    with np.errstate(over="ignore", under="ignore"):
        exact = np.exp(x.astype(np.float64)).astype(np.float32)  # correctly rounded to float32, 0 and inf included
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:6], exact[1:6])
    assert got[6] == np.inf and got[7] == np.inf and got[8] == 0.0
    np.testing.assert_allclose(got[9:], exact[9:], rtol=1e-6, atol=3e-45)  # subnormals: within one subnormal step


def test_normal_cdf_and_pdf_float32_accuracy():
    x = np.linspace(-13.0, 13.0, 200_001).astype(np.float32)
    cdf = run(_cdf_loop, x).astype(np.float64)
    exact = exact_cdf(x)
    assert np.max(np.abs(cdf - exact) / exact) < 5e-7  # relative, even in the far left tail
    pdf = run(_pdf_loop, x).astype(np.float64)
    exact_pdf = np.exp(-0.5 * x.astype(np.float64) ** 2) / math.sqrt(2.0 * math.pi)
    assert np.max(np.abs(pdf - exact_pdf) / exact_pdf) < 3e-7


def test_normal_cdf_float32_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 30.0, -30.0], dtype=np.float32)
    got = run(_cdf_loop, x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [1.0, 0.0, 0.5, 1.0, 0.0])


def test_erfc_fit_is_as_documented():
    z = np.linspace(0.0, 10.0, 20_001)
    t = 1.0 / (1.0 + z / 2.0)
    q = np.polynomial.polynomial.polyval(t, vecmath.ERFC_COEFFS)
    exact = np.array([math.erfc(v) for v in z])
    assert np.max(np.abs(t * np.exp(-z * z + q) - exact) / exact) < 5e-8


@pytest.mark.parametrize("loop, expected", [(_exp_loop, np.exp), (_cdf_loop, exact_cdf)])
def test_float64_stays_accurate(loop, expected):
    x = np.linspace(-30.0, 30.0, 1001)
    np.testing.assert_allclose(run(loop, x), expected(x), rtol=1e-12, atol=0.0)


def test_plain_python_meaning():
    """What NUMBA_DISABLE_JIT=1 runs agrees with the compiled float32 versions."""
    x = np.linspace(-9.0, 9.0, 101).astype(np.float32)
    plain_exp = np.array([exp(v) for v in x], dtype=np.float32)
    plain_cdf = np.array([normal_cdf(v) for v in x], dtype=np.float32)
    plain_pdf = np.array([normal_pdf(v) for v in x], dtype=np.float32)
    np.testing.assert_allclose(run(_exp_loop, x), plain_exp, rtol=3e-7)
    np.testing.assert_allclose(run(_cdf_loop, x), plain_cdf, rtol=5e-7, atol=1e-30)
    np.testing.assert_allclose(run(_pdf_loop, x), plain_pdf, rtol=3e-7)
