"""fastbp.blas.gemm against NumPy's matmul, on every path (tiny loops, few-row loops, BLAS)."""
import numpy as np
import pytest

from fastbp import blas


def _gemm(ta, tb, alpha, A, B, beta, C):
    """C <- alpha op(A) op(B) + beta C through fastbp.blas.gemm (the one place that calls it)."""
    blas.gemm(ta, tb, alpha, A, B, beta, C)


SHAPES = [  # (m, n, k) chosen to hit each branch of gemm
    (1, 1, 1), (3, 4, 5),                   # tiny: plain loops
    (10, 30, 784), (7, 100, 784), (5, 784, 9), (10, 784, 30), (3, 64, 64),  # few rows / short sums
    (33, 50, 60), (64, 64, 64), (40, 17, 300),  # BLAS
    (0, 5, 5), (5, 0, 5), (4, 5, 0),        # empty
]


def _boundary_shapes():
    """(m, n, k) just inside and just outside each threshold of gemm, derived from its constants.

    SMALL_GEMM_WORK: m*n*k at the limit (plain loops) and one step above it.
    FEW_ROWS: m (rows of A for A B^T) and k (the short sum of A^T B) at the
    limit and one above; odd m and n not a multiple of 4 reach the loops'
    remainder code (a single last row, a last column, a sum of k % 4 terms).
    """
    work, few = blas.SMALL_GEMM_WORK, blas.FEW_ROWS
    shapes = []
    for m, n in [(2, 4), (few, 8), (few + 1, 8), (3, 5)]:
        k = work // (m * n)
        shapes += [(m, n, k), (m, n, k + 1)]
    for m in (few - 1, few, few + 1):           # A B^T: few rows of A, or BLAS
        shapes += [(m, 42, 50), (m, 43, 51)]
    for k in (few - 1, few, few + 1):           # A^T B: a short sum over k, or BLAS
        shapes += [(41, 50, k), (40, 51, k)]
    return shapes


def _check_gemm(dtype, m, n, k, trans_a, trans_b, alpha, beta, rng, nan_output=False):
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C = np.full((m, n), np.nan, dtype) if nan_output else rng.standard_normal((m, n)).astype(dtype)
    C0 = np.zeros((m, n)) if beta == 0.0 else C.astype(np.float64)  # beta = 0: C is not read
    _gemm(trans_a, trans_b, alpha, A, B, beta, C)
    opA = (A.T if trans_a else A).astype(np.float64)
    opB = (B.T if trans_b else B).astype(np.float64)
    expected = alpha * opA @ opB + beta * C0
    # float64: a sum of k products rounds to about k * eps relative to the
    # sum of magnitudes; float32 likewise with its eps (1.2e-7).
    eps = np.finfo(dtype).eps
    scale = np.abs(alpha) * np.abs(opA) @ np.abs(opB) + np.abs(beta * C0) + 1.0
    bad = ~(np.abs(C - expected) <= 4 * (k + 2) * eps * scale)  # NaN counts as bad
    assert not bad.any(), (f"{int(bad.sum())} of {m * n} entries wrong, e.g. "
                           f"{C[bad][:3]} instead of {expected[bad][:3]}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_matches_numpy(dtype, m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    for alpha, beta in [(1.0, 0.0), (1.5, 1.0), (-0.25, 0.5)]:
        _check_gemm(dtype, m, n, k, trans_a, trans_b, alpha, beta, rng)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,n,k", _boundary_shapes())
@pytest.mark.parametrize("trans_a,trans_b", [(False, True), (True, False), (False, False),
                                             (True, True)])
def test_gemm_matches_numpy_on_both_sides_of_each_threshold(dtype, m, n, k, trans_a, trans_b):
    """The loop paths and the BLAS path agree with NumPy where gemm switches between them."""
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    for alpha, beta in [(1.0, 0.0), (0.75, 1.0), (-1.5, -0.5)]:
        _check_gemm(dtype, m, n, k, trans_a, trans_b, alpha, beta, rng)
    # beta = 0: the old contents of C (here NaN) never reach the result, on any path
    _check_gemm(dtype, m, n, k, trans_a, trans_b, 1.25, 0.0, rng, nan_output=True)


def test_beta_zero_ignores_nan_in_output():
    """With beta = 0, C's old contents (even NaN) must not leak into the result."""
    rng = np.random.default_rng(0)
    for m, n, k in [(3, 4, 5), (10, 30, 784), (64, 64, 64)]:
        A, B = rng.standard_normal((m, k)), rng.standard_normal((n, k))
        C = np.full((m, n), np.nan)
        _gemm(False, True, 1.0, A, B, 0.0, C)
        np.testing.assert_allclose(C, A @ B.T, rtol=1e-12, atol=1e-12)
