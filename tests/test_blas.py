"""fastbp.blas.gemm against NumPy's matmul, on every path (tiny loops, few-row loops, BLAS)."""
import numpy as np
import pytest

from fastbp import blas
from fastbp.blas import gemm

SHAPES = [  # (m, n, k) chosen to hit each branch of gemm
    (1, 1, 1), (3, 4, 5),                   # tiny: plain loops
    (10, 30, 784), (7, 100, 784), (5, 784, 9), (10, 784, 30), (3, 64, 64),  # few rows / short sums
    (33, 50, 60), (64, 64, 64), (40, 17, 300),  # BLAS
    (0, 5, 5), (5, 0, 5), (4, 5, 0),        # empty
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_matches_numpy(dtype, m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    for alpha, beta in [(1.0, 0.0), (1.5, 1.0), (-0.25, 0.5)]:
        C = rng.standard_normal((m, n)).astype(dtype)
        C0 = C.astype(np.float64)
        gemm(trans_a, trans_b, alpha, A, B, beta, C)
        opA = (A.T if trans_a else A).astype(np.float64)
        opB = (B.T if trans_b else B).astype(np.float64)
        expected = alpha * opA @ opB + beta * C0
        # float64: a sum of k products rounds to about k * eps relative to the
        # sum of magnitudes; float32 likewise with its eps (1.2e-7).
        eps = np.finfo(dtype).eps
        scale = np.abs(alpha) * np.abs(opA) @ np.abs(opB) + np.abs(beta * C0) + 1.0
        assert np.all(np.abs(C - expected) <= 4 * (k + 2) * eps * scale)


def test_beta_zero_ignores_nan_in_output():
    """With beta = 0, C's old contents (even NaN) must not leak into the result."""
    rng = np.random.default_rng(0)
    for m, n, k in [(3, 4, 5), (10, 30, 784), (64, 64, 64)]:
        A, B = rng.standard_normal((m, k)), rng.standard_normal((n, k))
        C = np.full((m, n), np.nan)
        gemm(False, True, 1.0, A, B, 0.0, C)
        np.testing.assert_allclose(C, A @ B.T, rtol=1e-12, atol=1e-12)


def test_thresholds_are_consistent():
    assert blas.SMALL_GEMM_WORK > 0 and blas.FEW_ROWS >= 4
