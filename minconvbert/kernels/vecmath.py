"""exp and the normal distribution's cdf and pdf, written so that numba can vectorise float32 loops.

Why: a loop that calls libm (`math.exp`, `math.erfc`) runs one element at a time, because LLVM
cannot see inside the call. Written as plain arithmetic instead, the same loop runs 8 or 16 float32
lanes per instruction: on this machine (one core) exp drops from ~2.3 ns to ~0.4 ns per element,
the normal cdf from ~12 ns (libm's erfcf) to ~1.3 ns.

    exp(x)          e^x
    normal_cdf(x)   Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2
    normal_pdf(x)   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

Each is a plain Python function (what NUMBA_DISABLE_JIT=1 runs) with a numba overload that picks
the implementation by the argument's type inside compiled code: float64 keeps libm (correct to
~1 ulp, for the float64 gradient checks), float32 uses the arithmetic versions below: relative
error at most 1e-7 (exp), 4.2e-7 (cdf), 1.9e-7 (pdf) over the whole float32 range.

Note: numba's cache (cache=True in fast.py) does not notice edits to this file; delete
minconvbert/kernels/__pycache__/*.nb[ic] after changing it.
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
LN2_HI = 0.693145751953125  # ln 2 to 16 significant bits (0xb172 / 2**16)
LN2_LO = LN2 - LN2_HI
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
ERFC_T_SCALE = 0.5 * INV_SQRT2  # t = 1 / (1 + z/2) with z = a / sqrt 2
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
def _scaled_exp(r, n):
    """e^r * 2^n as a float32, for a float32 |r| <= ln(2)/2 and an int32 n in [-150, 128].

    e^r by its Taylor series to r^7 (truncation < 6e-9); 2^n applied in two halves, so that each
    factor is a normal float32 and results in the subnormal range round correctly.
    """
    f = np.float32
    p = f(1.0) + r * (f(1.0) + r * (f(1 / 2) + r * (f(1 / 6) + r * (f(1 / 24) + r * (
        f(1 / 120) + r * (f(1 / 720) + r * f(1 / 5040)))))))  # fmt: skip
    half = n >> np.int32(1)
    return p * _two_to(half) * _two_to(n - half)


@njit(inline="always")
def _exp_float32_sum(high, low):
    """e^(high + low) as a float32, for float32 `high` and a correction `low` (|low| < 2).

    e^x = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2. ln 2 is split in two (Cody and Waite):
    LN2_HI has 16 significant bits, so n * LN2_HI and high - n * LN2_HI are exact in float32; low joins
    r only after that subtraction, so high + low itself never needs to be rounded to a float32.
    """
    f = np.float32
    x = high + low  # only to pick n and the special cases
    if x != x:
        return x  # NaN
    if x > f(FLOAT32_EXP_MAX):
        return f(np.inf)
    if x < f(FLOAT32_EXP_MIN):
        return f(0.0)
    n = np.floor(x * f(LOG2E) + f(0.5))
    r = ((high - n * f(LN2_HI)) - n * f(LN2_LO)) + low
    return _scaled_exp(r, np.int32(n))


@njit(inline="always")
def _exp_float32(x):
    """e^x for a float32 x."""
    return _exp_float32_sum(x, np.float32(0.0))


@njit(inline="always")
def _exp_minus_half_square(a, low):
    """e^(-a^2/2 + low) for a float32 0 <= a <= 16, keeping a^2/2 exact.

    Rounded to a float32, a^2/2 would carry an error of up to a^2/2 * 6e-8, which exp turns into a
    relative error of the same size (1e-5 at a = 13). So a = a_high + a_low with a_high a multiple
    of 1/16 (a_high^2 is exact in float32, a_low = a - a_high too), and
    a^2/2 = a_high^2/2 + a_low (a + a_high)/2, the second term small.
    """
    f = np.float32
    a_high = np.floor(a * f(16.0) + f(0.5)) * f(1 / 16)
    a_low = a - a_high
    return _exp_float32_sum(-f(0.5) * a_high * a_high, low - f(0.5) * a_low * (a + a_high))


@njit(inline="always")
def _normal_cdf_float32(x):
    """Phi(x) = 1 - Phi(-|x|) for x >= 0; Phi(-a) = erfc(a / sqrt 2) / 2 by the fitted form above."""
    f = np.float32
    a = abs(x)
    if a > f(16.0):
        a = f(16.0)  # Phi(-a) < 1e-45 from a = 14.1 (z = 10, the end of the fit): float32 zero
    t = f(1.0) / (f(1.0) + f(ERFC_T_SCALE) * a)  # 1 / (1 + z/2), z = a / sqrt 2
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
    lower_tail = f(0.5) * t * _exp_minus_half_square(a, q)  # Phi(-a) = t exp(-z^2 + q) / 2
    return lower_tail if x < f(0.0) else f(1.0) - lower_tail


@njit(inline="always")
def _normal_pdf_float32(x):
    f = np.float32
    a = abs(x)
    if a > f(16.0):
        a = f(16.0)  # phi(16) is below the smallest float32 already
    return _exp_minus_half_square(a, f(0.0)) * f(INV_SQRT_2PI)


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
