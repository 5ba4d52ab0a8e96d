"""fastbp.fast_math against NumPy references, in loops compiled with fastbp's options.

Each function is called the way the kernels will call it: inlined into a
plain loop compiled with fastbp's ``jit`` options (no fastmath) and with its
``jit_reduction`` options (``reassoc``, ``contract``), in float32 and float64.
References: float64 NumPy for float32 results, long double (80-bit on x86)
for float64 results. Errors are in units of eps (2**-23 / 2**-52).
"""
import platform
import re

import numba
import numpy as np
import pytest

from fastbp._numba_options import JIT_OPTIONS, REDUCTION_JIT_OPTIONS
from fastbp.fast_math import vexp, vsigmoid, vtanh

DTYPES = [np.float32, np.float64]
# cache=False: Numba's cache does not notice a change in an inlined callee.
OPTIONS = {"jit": dict(JIT_OPTIONS, cache=False),
           "jit_reduction": dict(REDUCTION_JIT_OPTIONS, cache=False)}

#: Guaranteed bounds on the max relative error, in eps (measured: vexp 0.67 / 0.71,
#: vsigmoid 1.24 / 1.32, vtanh 1.17 / 1.16, float32 / float64).
BOUND_EPS = {"vexp": 2.0, "vsigmoid": 2.5, "vtanh": 2.5}

FUNCTIONS = {"vexp": vexp, "vsigmoid": vsigmoid, "vtanh": vtanh}
_LOOPS = {}


def _loop(options, name):
    """``out[i] = f(x[i])`` for f = FUNCTIONS[name], compiled with OPTIONS[options].

    One small loop per function (a loop holding all three compiles slower).
    """
    key = (options, name)
    if key not in _LOOPS:
        f = FUNCTIONS[name]

        def loop(x, out):
            for i in range(x.shape[0]):
                out[i] = f(x[i])
        _LOOPS[key] = numba.njit(**OPTIONS[options])(loop)
    return _LOOPS[key]


def _run(options, x, names=("vexp", "vsigmoid", "vtanh")):
    """The outputs of the loops of ``names`` on x, in that order."""
    outs = []
    for name in names:
        out = np.empty_like(x)
        _loop(options, name)(x, out)
        outs.append(out)
    return outs


def _wide(dtype):
    return np.float64 if dtype == np.float32 else np.longdouble


def _rel_eps(got, ref, dtype):
    got = got.astype(ref.dtype)
    return float(np.max(np.abs(got - ref) / np.abs(ref)) / np.finfo(dtype).eps)


# ln of the largest float, of the smallest normal and of the smallest subnormal.
LIMITS = {np.float32: (88.72283905206835, -87.33654475055310, -103.27892990343185),
          np.float64: (709.782712893384, -708.3964185322641, -744.4400719213812)}


def _grid(dtype, n=200_001):
    hi, lo_normal, _ = LIMITS[dtype]
    rng = np.random.default_rng(7)
    return np.concatenate([
        np.linspace(lo_normal + 1e-3, hi - 1e-3, n),
        rng.uniform(lo_normal, hi, n),
        rng.uniform(-1.0, 1.0, n),           # the range the networks use most
        np.array([0.0, -0.0, 1e-30, -1e-30, 0.5 * np.log(2), -0.5 * np.log(2)]),
    ]).astype(dtype)


@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_vexp_accuracy(options, dtype):
    x = _grid(dtype)
    e, = _run(options, x, ["vexp"])
    assert e.dtype == dtype
    ref = np.exp(x.astype(_wide(dtype)))
    assert _rel_eps(e, ref, dtype) <= BOUND_EPS["vexp"]
    assert e[x == 0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_vexp_edges(dtype):
    hi, lo_normal, lo_sub = LIMITS[dtype]
    nan, inf = np.nan, np.inf
    x = np.array([nan, inf, -inf, 0.0, 1e4, -1e4, hi + 0.01, lo_sub - 0.8, -800.0, 800.0],
                 dtype=dtype)
    for options in OPTIONS:
        e, = _run(options, x, ["vexp"])
        assert np.isnan(e[0])
        assert e[1] == inf and e[2] == 0.0 and e[3] == 1.0
        assert e[4] == inf and e[5] == 0.0 and e[6] == inf and e[7] == 0.0
        assert e[8] == 0.0 and e[9] == inf

    # Overflow threshold: consecutive floats around ln(max) give inf exactly
    # where the correctly rounded result does, up to one float each side.
    steps = np.arange(-20, 21).astype(dtype)
    x = dtype(hi) + steps * np.spacing(dtype(hi))
    e, = _run("jit", x, ["vexp"])
    with np.errstate(over="ignore"):  # inf once the rounded result overflows
        ref = np.exp(x.astype(_wide(dtype))).astype(dtype)
    mismatch = np.isinf(e) != np.isinf(ref)
    assert mismatch.sum() <= 1, x[mismatch]
    assert np.all(np.isfinite(e[x < hi - 1e-4]))

    # Subnormal range: within one unit of the last subnormal place (absolute).
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.linspace(lo_sub - 0.5, lo_normal + 0.5, 20_001).astype(dtype)
    e, = _run("jit", x, ["vexp"])
    ref = np.exp(x.astype(_wide(dtype)))
    assert float(np.max(np.abs(e.astype(ref.dtype) - ref))) <= 1.0 * tiny
    assert np.all(e >= 0)


# vsigmoid and vtanh under fastbp's plain ``jit`` options only (the kernels'
# activation loops use them): each compile costs about a second, and
# reassociation's effect on their exponential is covered by the vexp tests.
@pytest.mark.parametrize("options", ["jit"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_vsigmoid_vtanh_accuracy(options, dtype):
    rng = np.random.default_rng(11)
    z = np.concatenate([
        np.linspace(-60.0, 60.0, 100_001),
        rng.uniform(-4.0, 4.0, 100_000),
        np.logspace(-30, 1.5, 20_000),
        np.linspace(0.6, 0.65, 2001),        # vtanh's switch at |z| = 0.625
    ]).astype(dtype)
    z = np.concatenate([z, -z, np.array([0.0, -0.0], dtype)])
    s, t = _run(options, z, ["vsigmoid", "vtanh"])
    assert s.dtype == dtype and t.dtype == dtype
    zw = z.astype(_wide(dtype))

    ref_s = 1.0 / (1.0 + np.exp(-zw))
    assert _rel_eps(s, ref_s, dtype) <= BOUND_EPS["vsigmoid"]
    assert float(np.max(np.abs(s - ref_s))) <= np.finfo(dtype).eps

    ref_t = np.tanh(zw)
    nz = ref_t != 0
    assert _rel_eps(t[nz], ref_t[nz], dtype) <= BOUND_EPS["vtanh"]
    assert float(np.max(np.abs(t - ref_t))) <= np.finfo(dtype).eps
    assert np.signbit(t[-1]) and t[-1] == 0.0 and t[-2] == 0.0 and not np.signbit(t[-2])
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_vsigmoid_vtanh_edges(dtype):
    z = np.array([np.nan, np.inf, -np.inf, 1e4, -1e4, 800.0, -800.0], dtype=dtype)
    for options in ["jit"]:
        s, t = _run(options, z, ["vsigmoid", "vtanh"])
        assert np.isnan(s[0]) and np.isnan(t[0])
        assert s[1:].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
        assert t[1:].tolist() == [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]


def test_python_calls_and_types():
    # Numba boxes a float32 result as a Python float holding the float32 value.
    e32 = vexp(np.float32(1.0))
    assert e32 == pytest.approx(np.e, rel=2e-7) and float(np.float32(e32)) == e32
    assert vexp(1.0) == pytest.approx(np.e, rel=1e-15)
    assert isinstance(vexp(1.0), float)
    with pytest.raises(numba.core.errors.TypingError):
        vexp(1)  # integers are refused: convert first


def _has_avx2_fma():
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    import llvmlite.binding as llvm
    features = llvm.get_host_cpu_features()
    return bool(features.get("avx2")) and bool(features.get("fma"))


@pytest.mark.skipif(not _has_avx2_fma(), reason="needs an x86-64 CPU with AVX2 and FMA")
@pytest.mark.parametrize("dtype", DTYPES)
def test_loop_is_vectorised(dtype):
    """With jit_reduction's "contract", the loop is packed FMA on ymm and calls no exp."""
    x = np.linspace(-5, 5, 64).astype(dtype)
    _run("jit_reduction", x, ["vexp"])
    loop = _LOOPS["jit_reduction", "vexp"]
    sig = [s for s in loop.signatures if s[0].dtype == numba.from_dtype(np.dtype(dtype))][0]
    asm = loop.inspect_asm(sig)
    suffix = "ps" if dtype == np.float32 else "pd"
    assert re.search(r"\bvfmadd\d*%s\s+[^\n]*ymm" % suffix, asm), "no packed FMA on ymm"
    assert re.search(r"\bvroundp[sd]\s+[^\n]*ymm", asm)
    calls = [line for line in asm.splitlines() if re.search(r"\bcall", line)]
    assert not [c for c in calls if re.search(r"exp|tanh", c)], calls
