"""exp and the normal distribution's cdf and pdf, written so that numba can vectorise float32 loops.

Why: a loop that calls libm (`math.exp`, `math.erfc`) runs one element at a time, because LLVM
cannot see inside the call. Written as plain arithmetic instead, the same loop runs 8 or 16 float32
lanes per instruction: on this machine exp drops from ~2.3 ns to ~0.3 ns per element.

    exp(x)          e^x
    normal_cdf(x)   Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2
    normal_pdf(x)   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

Each is a plain Python function (what NUMBA_DISABLE_JIT=1 runs) with a numba overload that picks
the implementation by the argument's type inside compiled code: float64 keeps libm (correct to
~1 ulp, for the float64 gradient checks), float32 uses the arithmetic versions below (within
~2e-7 relative of the exact value). Note: numba's cache (cache=True in fast.py) does not notice
edits to this file; delete minconvbert/kernels/__pycache__/*.nb[ic] after changing it.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

__all__ = ["exp", "normal_cdf", "normal_pdf", "ERFC_COEFFS"]

LOG2E = 1.0 / math.log(2.0)
LN2 = math.log(2.0)
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
FLOAT32_EXP_MAX = 88.72283905206835  # log(largest float32): above it e^x overflows to inf
FLOAT32_EXP_MIN = -103.97208372855555  # log(smallest subnormal float32 / 2): below it e^x rounds to 0

# erfc(z) = t * exp(-z^2 + q(t)) with t = 1 / (1 + z/2), for z >= 0; q(t) = sum_k ERFC_COEFFS[k] t^k.
# Fitted by least squares on 4000 Chebyshev nodes of t in [1/6, 1] (z in [0, 10]) against
# log(erfc(z) / t) + z^2 from math.erfc; the fitted form is within 4.9e-8 relative of erfc.
ERFC_COEFFS = (
    -1.2654479969021757, 0.9986327833481309, 0.3866404120689643, 0.03460280036184479,
    0.001267585406376063, -0.0802804305680527, -0.6962519005916473, 1.1567337581691803,
    -0.6808271781263768, 0.1449302137650389,
)  # fmt: skip


# ----- the plain Python meaning (also what runs under NUMBA_DISABLE_JIT) ------------------------
def exp(x):
    """e^x, in x's precision (NumPy's exp: no OverflowError, inf instead)."""
    return np.exp(x)


def normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, in float64; erfc keeps Phi accurate where it is tiny (x << 0)."""
    return 0.5 * math.erfc(-float(x) * INV_SQRT2)


def normal_pdf(x):
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi), in float64."""
    return math.exp(-0.5 * float(x) ** 2) * INV_SQRT_2PI


# ----- float32 arithmetic versions ---------------------------------------------------------------
@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 `bits` (a free reinterpretation in LLVM)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(inline="always")
def _two_to(n):
    """2^n as a float32, for integer n in [-126, 127]: exponent field n + 127, mantissa 0."""
    return _float32_from_bits((n + np.int32(127)) << np.int32(23))


@njit(inline="always")
def _exp_float32(x):
    """e^x as a float32, x a float32 or float64 (float64 keeps a large argument exact).

    e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2)/2: the range reduction in float64 (exact
    enough for |n| <= 150), e^r by its Taylor series to r^7 (truncation < 6e-9), and 2^n applied in
    two halves so that results in the subnormal range round correctly.
    """
    x = np.float64(x)
    if x != x:
        return np.float32(x)  # NaN
    if x > FLOAT32_EXP_MAX:
        return np.float32(np.inf)
    if x < FLOAT32_EXP_MIN:
        return np.float32(0.0)
    n = np.floor(x * LOG2E + 0.5)
    r = np.float32(x - n * LN2)
    f = np.float32
    p = f(1.0) + r * (f(1.0) + r * (f(1 / 2) + r * (f(1 / 6) + r * (f(1 / 24) + r * (
        f(1 / 120) + r * (f(1 / 720) + r * f(1 / 5040)))))))  # fmt: skip
    m = np.int32(n)
    half = m >> np.int32(1)
    return p * _two_to(half) * _two_to(m - half)


@njit(inline="always")
def _erfc_abs_float32(a):
    """erfc(a) for a >= 0 (float64 argument, float32 result), by the fitted form above."""
    f = np.float32
    t = f(1.0) / (f(1.0) + f(0.5) * f(a))
    c = ERFC_COEFFS
    q = f(c[9])
    q = q * t + f(c[8])
    q = q * t + f(c[7])
    q = q * t + f(c[6])
    q = q * t + f(c[5])
    q = q * t + f(c[4])
    q = q * t + f(c[3])
    q = q * t + f(c[2])
    q = q * t + f(c[1])
    q = q * t + f(c[0])
    return t * _exp_float32(-a * a + np.float64(q))  # -a^2 in float64: exact enough for large a


@njit(inline="always")
def _normal_cdf_float32(x):
    z = -np.float64(x) * INV_SQRT2  # Phi(x) = erfc(z) / 2
    e = _erfc_abs_float32(abs(z))
    if z < 0.0:
        e = np.float32(2.0) - e  # erfc(-a) = 2 - erfc(a)
    return np.float32(0.5) * e


@njit(inline="always")
def _normal_pdf_float32(x):
    x = np.float64(x)
    return _exp_float32(-0.5 * x * x) * np.float32(INV_SQRT_2PI)


# ----- numba: choose by the argument's type -----------------------------------------------------
@overload(exp, inline="always")
def _exp_overload(x):
    if x == types.float32:
        return lambda x: _exp_float32(x)
    return lambda x: math.exp(x)


@overload(normal_cdf, inline="always")
def _normal_cdf_overload(x):
    if x == types.float32:
        return lambda x: _normal_cdf_float32(x)
    return lambda x: 0.5 * math.erfc(-x * INV_SQRT2)


@overload(normal_pdf, inline="always")
def _normal_pdf_overload(x):
    if x == types.float32:
        return lambda x: _normal_pdf_float32(x)
    return lambda x: math.exp(-0.5 * x * x) * INV_SQRT_2PI
