"""Exponential, sigmoid and tanh that LLVM vectorises inside jitted loops.

Numba (0.62+, no SVML) lowers ``math.exp`` to a scalar libm call, and a loop
holding a call is not vectorised. The functions here are plain arithmetic,
selects and two small LLVM intrinsics (round-to-integer, and 2^n built from
the exponent bits), so a loop such as::

    for i in range(n):
        out[i] = vexp(x[i])

compiled with fastbp's ``jit`` or ``jit_reduction`` options becomes packed
AVX2 code on ymm registers with no call to ``exp``: ``vfmadd...ps/pd`` under
``jit_reduction`` ("contract"), ``vmulps/vaddps`` (pd) under ``jit``, whose
IEEE semantics forbid fusing.

They are type-generic: float32 in, float32 out, computed in float32; float64
in, float64 out. Any other argument type (an integer, say) is refused at
typing time: convert it first. Each implementation is compiled once per dtype
(``error_model="numpy"``) and LLVM inlines it into the calling loop, which it
then vectorises; inlining them in Numba's IR instead (``inline="always"``, as
before) typed and lowered them again at every call site, about half a second
of a cold first fit each. Under fastbp's ``jit_reduction`` options
(``{"reassoc", "contract"}``) the loop uses FMA; the errors below hold under
both option sets (tested); "nnan"/"ninf" are never needed and would break the
NaN/inf handling. From Python they can be called on a scalar (they compile
once).

Numba's disk cache keys a cached function on its own source file only: a
cached kernel that calls these functions keeps the old code after an edit
here until its cache is cleared (or its own file changes).

Method (exp), after Cody and Waite and Cephes (S. L. Moshier):

1. Clamp x to [lo, hi] with selects (NaN, which fails every comparison,
   becomes hi here and is restored at the end).
2. n = rint(x / ln 2); r = (x - n c1) - n c2, where c1 + c2 = ln 2 and c1 has
   few significant bits, so n c1 is exact: |r| <= ln(2)/2.
3. e^r by a polynomial: float32, Cephes ``expf`` (1 + r + r^2 P5(r), P5 a
   minimax fit of degree 5, Horner); float64, Taylor series to degree 13
   (truncation below 4e-18 relative on |r| <= ln(2)/2, i.e. < 0.04 ulp),
   evaluated by Estrin's scheme (shorter dependency chain than Horner).
4. e^x = e^r 2^n1 2^n2 with n1 = n >> 1, n2 = n - n1: each factor is a
   normal number built by bit-casting (n_k + bias) << mantissa_bits, so the
   result underflows gradually into the subnormals and overflows to +inf by
   the multiplication itself, with no branch.
5. Selects: NaN -> NaN. +inf -> +inf and -inf -> 0 follow from the clamp.

Measured maximum relative error (Numba 0.68, x86-64 AVX2; references: NumPy
in long double; 6e6 random samples over the whole normal-result range plus
the tests' dense grids), with eps = 2**-23 (float32) or 2**-52 (float64):

=========  =====================  =====================
function   float32                float64
=========  =====================  =====================
vexp       8.0e-8  (0.67 eps)     1.6e-16 (0.71 eps)
vsigmoid   1.5e-7  (1.22 eps)     2.9e-16 (1.30 eps)
vtanh      1.4e-7  (1.17 eps)     2.6e-16 (1.16 eps)
=========  =====================  =====================

The same under fastbp's ``jit`` (no fastmath) and ``jit_reduction``
(reassoc, contract) options. tests/test_fast_math.py asserts 2 eps for vexp
and 2.5 eps for vsigmoid and vtanh.

Subnormal results (x between ln of the smallest normal, about -87.34 in
float32 / -708.40 in float64, and ln of the smallest subnormal, -103.28 /
-744.44) are computed by two roundings, so they are within one unit of the
last subnormal place (absolute; measured 1.0), not correctly rounded; below
lo (-104 / -746) the result is exactly 0. Overflow: +inf for x above
ln(max) (88.7228 / 709.7827).
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ._numba_options import OVERLOAD_JIT_OPTIONS, jit_inline

__all__ = ["select", "vexp", "vsigmoid", "vtanh"]


# --------------------------------------------------------------------------
# LLVM intrinsics: exact integer types, no Numba promotion to int64, no libm.


def _llvm_unary(builder, name, value):
    fnty = ir.FunctionType(value.type, [value.type])
    fn = cgutils.get_or_insert_function(builder.module, fnty,
                                        "llvm.%s.%s" % (name, "f32" if value.type == ir.FloatType()
                                                        else "f64"))
    return builder.call(fn, [value])


@intrinsic
def _rint(typingctx, x):
    """Round to the nearest integer (ties to even), as a float: ``llvm.rint`` (vroundps/pd)."""
    if x not in (types.float32, types.float64):
        return None

    def codegen(context, builder, sig, args):
        return _llvm_unary(builder, "rint", args[0])
    return x(x), codegen


@intrinsic
def select(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM ``select`` (vblendvps/pd in a vectorised loop).

    A Python conditional expression becomes branches in Numba's IR, which an
    IR-level inline into a caller's loop turns into warnings from Numba's SSA
    check; a select has no branch.
    """
    if cond != types.boolean or a != b or a not in (types.float32, types.float64):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(args[0], args[1], args[2])
    return a(cond, a, b), codegen


@intrinsic
def _scale_pow2(typingctx, p, n):
    """``p * 2**n`` for an integral float ``n`` with 2 * (min normal exponent) <= n <= 2 * max.

    2^n is applied as two factors 2^(n>>1) and 2^(n - (n>>1)), each built by
    bit-casting ``(k + bias) << mantissa_bits`` into a float: each is a normal
    number, and the product rounds (under- or overflows) like the true result.
    n is converted to int32 (vcvttps2dq / vcvttpd2dq exist in AVX2, a 64-bit
    conversion does not) and widened to int64 for float64.
    """
    if p not in (types.float32, types.float64) or n != p:
        return None

    def codegen(context, builder, sig, args):
        pv, nv = args
        i32 = ir.IntType(32)
        if pv.type == ir.FloatType():
            ity, bias, shift = i32, 127, 23
        else:
            ity, bias, shift = ir.IntType(64), 1023, 52
        k = builder.fptosi(nv, i32)
        k1 = builder.ashr(k, ir.Constant(i32, 1))
        k2 = builder.sub(k, k1)
        if ity is not i32:
            k1 = builder.sext(k1, ity)
            k2 = builder.sext(k2, ity)
        s1 = builder.bitcast(builder.shl(builder.add(k1, ir.Constant(ity, bias)),
                                         ir.Constant(ity, shift)), pv.type)
        s2 = builder.bitcast(builder.shl(builder.add(k2, ir.Constant(ity, bias)),
                                         ir.Constant(ity, shift)), pv.type)
        return builder.fmul(builder.fmul(pv, s1), s2)
    return p(p, n), codegen


# --------------------------------------------------------------------------
# Constants. float32 ones are np.float32 so that the float32 code never
# promotes to float64 (a Python float literal is float64 in Numba).

_F32 = dict(
    lo=np.float32(-104.0),     # 2^rint(lo/ln2) = 2^-150: rounds to 0
    hi=np.float32(89.0),       # > ln(FLT_MAX) = 88.7228: overflows to inf
    log2e=np.float32(1.44269504088896341),
    c1=np.float32(0.693359375),        # Cephes expf: 355/512 (9 bits), n*c1 exact
    c2=np.float32(-2.12194440e-4),     # ln2 - c1
    # Cephes expf: e^r ~ 1 + r + r^2 (p0 r^5 + ... + p5), |r| <= ln2/2
    p0=np.float32(1.9875691500e-4), p1=np.float32(1.3981999507e-3),
    p2=np.float32(8.3334519073e-3), p3=np.float32(4.1665795894e-2),
    p4=np.float32(1.6666665459e-1), p5=np.float32(5.0000001201e-1),
    one=np.float32(1.0), two=np.float32(2.0), zero=np.float32(0.0),
    # Cephes tanhf, |x| < 0.625: tanh x ~ x + x z T(z), z = x^2
    t0=np.float32(-5.70498872745e-3), t1=np.float32(2.06390887954e-2),
    t2=np.float32(-5.37397155531e-2), t3=np.float32(1.33314422036e-1),
    t4=np.float32(-3.33332819422e-1),
    small=np.float32(0.625),
)

# Taylor coefficients 1/k!, k = 13 .. 2, rounded to float64.
_INV_FACT = tuple(1.0 / float(np.prod(np.arange(1, k + 1, dtype=np.float64)))
                  for k in range(13, 1, -1))

_F64 = dict(
    lo=-746.0,                 # 2^rint(lo/ln2) = 2^-1076: rounds to 0
    hi=710.0,                  # > ln(DBL_MAX) = 709.7827: overflows to inf
    log2e=1.4426950408889634074,
    c1=6.93145751953125e-1,    # Cephes exp: 22 significant bits, n*c1 exact
    c2=1.42860682030941723212e-6,  # ln2 - c1
    one=1.0, two=2.0, zero=0.0,
    # Cephes tanh, |x| < 0.625: tanh x ~ x + x z P(z)/Q(z), z = x^2
    tp0=-9.64399179425052238628e-1, tp1=-9.92877231001918586564e1,
    tp2=-1.61468768441708447952e3,
    tq1=1.12811678491632931402e2, tq2=2.23548839060100448583e3,
    tq3=4.84406305325125486048e3,
    small=0.625,
)


def _exp32_impl(x):
    K = _F32
    lo, hi, log2e, c1, c2 = K["lo"], K["hi"], K["log2e"], K["c1"], K["c2"]
    p0, p1, p2, p3, p4, p5 = K["p0"], K["p1"], K["p2"], K["p3"], K["p4"], K["p5"]
    one = K["one"]

    def impl(x):
        xc = select(x < hi, x, hi)          # NaN -> hi (restored below)
        xc = select(xc > lo, xc, lo)
        n = _rint(xc * log2e)
        r = (xc - n * c1) - n * c2
        q = p0 * r + p1
        q = q * r + p2
        q = q * r + p3
        q = q * r + p4
        q = q * r + p5
        e = (q * (r * r) + r) + one
        y = _scale_pow2(e, n)
        return select(x != x, x, y)
    return impl


def _exp64_impl(x):
    K = _F64
    lo, hi, log2e, c1, c2, one = K["lo"], K["hi"], K["log2e"], K["c1"], K["c2"], K["one"]
    (a13, a12, a11, a10, a9, a8, a7, a6, a5, a4, a3, a2) = _INV_FACT

    def impl(x):
        xc = select(x < hi, x, hi)          # NaN -> hi (restored below)
        xc = select(xc > lo, xc, lo)
        n = _rint(xc * log2e)
        r = (xc - n * c1) - n * c2
        # Estrin's scheme: a dependency chain of 5 multiply-adds, not 11.
        r2 = r * r
        r4 = r2 * r2
        b0 = a3 * r + a2
        b1 = a5 * r + a4
        b2 = a7 * r + a6
        b3 = a9 * r + a8
        b4 = a11 * r + a10
        b5 = a13 * r + a12
        d0 = b1 * r2 + b0
        d1 = b3 * r2 + b2
        d2 = b5 * r2 + b4
        q = (d2 * r4 + d1) * r4 + d0
        e = (q * r2 + r) + one
        y = _scale_pow2(e, n)
        return select(x != x, x, y)
    return impl


def _vexp(x):
    """Typing stub of :func:`vexp` (jitted code only)."""


@overload(_vexp, jit_options=OVERLOAD_JIT_OPTIONS)
def _vexp_overload(x):
    if x == types.float32:
        return _exp32_impl(x)
    if x == types.float64:
        return _exp64_impl(x)
    return None


def _vsigmoid(z):
    """Typing stub of :func:`vsigmoid` (jitted code only)."""


@overload(_vsigmoid, jit_options=OVERLOAD_JIT_OPTIONS)
def _vsigmoid_overload(z):
    if z not in (types.float32, types.float64):
        return None
    one = _F32["one"] if z == types.float32 else 1.0

    def impl(z):
        return one / (one + _vexp(-z))
    return impl


def _vtanh(z):
    """Typing stub of :func:`vtanh` (jitted code only)."""


@overload(_vtanh, jit_options=OVERLOAD_JIT_OPTIONS)
def _vtanh_overload(z):
    if z == types.float32:
        K = _F32
        one, two, small, zero = K["one"], K["two"], K["small"], K["zero"]
        t0, t1, t2, t3, t4 = K["t0"], K["t1"], K["t2"], K["t3"], K["t4"]

        def impl(z):
            a = select(z >= zero, z, -z)                   # NaN stays NaN
            big = one - two / (_vexp(a + a) + one)    # inf -> 1, NaN -> NaN
            big = select(z >= zero, big, -big)
            s = z * z
            q = t0 * s + t1
            q = q * s + t2
            q = q * s + t3
            q = q * s + t4
            poly = (q * s) * z + z
            y = select(a < small, poly, big)
            return select(a != zero, y, z)      # keeps the sign of -0.0
        return impl
    if z == types.float64:
        K = _F64
        one, two, small, zero = K["one"], K["two"], K["small"], K["zero"]
        tp0, tp1, tp2 = K["tp0"], K["tp1"], K["tp2"]
        tq1, tq2, tq3 = K["tq1"], K["tq2"], K["tq3"]

        def impl(z):
            a = select(z >= zero, z, -z)
            big = one - two / (_vexp(a + a) + one)
            big = select(z >= zero, big, -big)
            s = z * z
            num = (tp0 * s + tp1) * s + tp2
            den = ((s + tq1) * s + tq2) * s + tq3
            poly = z * (s * num / den) + z
            y = select(a < small, poly, big)
            return select(a != zero, y, z)      # keeps the sign of -0.0
        return impl
    return None


# --------------------------------------------------------------------------
# Public entry points: callable from Python (one compile per dtype); in jitted
# callers these thin wrappers are inlined and call the implementations above.


@jit_inline
def vexp(x):
    """e**x, vectorisable: float32 -> float32, float64 -> float64.

    Parameters
    ----------
    x : float32 or float64
        Argument. Integers are refused: convert them first.

    Returns
    -------
    float32 or float64
        e**x in x's type. +inf for x > ln(max float) (and x = +inf), 0 for
        x < lo (-104 / -746; and x = -inf), NaN for NaN; subnormal results are
        within one subnormal unit. Max relative error for normal results:
        8.0e-8 (float32), 1.6e-16 (float64). See the module docstring.
    """
    return _vexp(x)


@jit_inline
def vsigmoid(z):
    """Logistic sigmoid 1 / (1 + e**-z), vectorisable, in z's float type.

    Parameters
    ----------
    z : float32 or float64

    Returns
    -------
    float32 or float64
        In [0, 1]: exactly 0 for z below about -88.7 / -709.8 (e**-z
        overflows), 1 once e**-z < eps/2, NaN for NaN. Max relative error
        1.5e-7 (float32), 2.9e-16 (float64).
    """
    return _vsigmoid(z)


@jit_inline
def vtanh(z):
    """Hyperbolic tangent, vectorisable, in z's float type.

    ``|z| < 0.625``: Cephes' odd approximation (float32: x + x z T(z) with T
    of degree 4 in z = x^2, from ``tanhf``; float64: x + x z P(z)/Q(z), from
    ``tanh``), so small arguments keep full relative precision and
    tanh(-0.0) = -0.0. Otherwise ``sign(z) (1 - 2 / (e^(2|z|) + 1))``, which
    saturates to +-1 without overflow trouble. Both branches are computed and
    one selected. NaN -> NaN, +-inf -> +-1. z and the result are float32 or
    float64 (one type); max relative error 1.4e-7 (float32), 2.6e-16 (float64).
    """
    return _vtanh(z)
