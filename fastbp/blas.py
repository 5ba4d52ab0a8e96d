"""Row-major GEMM on SciPy's BLAS, callable from Numba kernels and cacheable.

``np.dot`` inside Numba always overwrites its output. The kernels need the
full ``C <- alpha op(A) op(B) + beta C`` of BLAS: ``beta = 1`` accumulates the
weight gradients chunk by chunk (BP4) and transposes cost nothing. The BLAS
routines are SciPy's (``scipy.linalg.cython_blas``), registered with LLVM
under fixed symbol names so that kernels calling them can be cached on disk.
"""
import llvmlite.binding as llvm
from numba import types
from numba.extending import get_cython_function_address

from ._numba_options import jit

for _name in ("dgemm", "sgemm"):
    llvm.add_symbol("fastbp_" + _name,
                    get_cython_function_address("scipy.linalg.cython_blas", _name))

_GEMM_SIGNATURE = types.void(*([types.voidptr] * 13))
_dgemm = types.ExternalFunction("fastbp_dgemm", _GEMM_SIGNATURE)
_sgemm = types.ExternalFunction("fastbp_sgemm", _GEMM_SIGNATURE)

_N = 78  # ord("N")
_T = 84  # ord("T")


@jit
def gemm(trans_a, trans_b, alpha, A, B, beta, C, scratch_int, scratch_char, scratch_scalar):
    """C <- alpha op(A) op(B) + beta C for C-contiguous 2-D arrays of one dtype.

    Parameters
    ----------
    trans_a, trans_b : bool
        Use A.T (B.T) in place of A (B).
    alpha, beta : float
    A, B : ndarray
        ``op(A)`` of shape (m, k), ``op(B)`` of shape (k, n).
    C : ndarray of shape (m, n)
        Written in place. Must not alias A or B.
    scratch_int : ndarray of shape (6,), int32
    scratch_char : ndarray of shape (2,), uint8
    scratch_scalar : ndarray of shape (2,), C's dtype
        Reusable buffers for the by-reference arguments of Fortran BLAS.

    Notes
    -----
    A row-major (m, n) array is the column-major (n, m) array of its transpose,
    so the call computes C.T = op(B).T op(A).T in BLAS's column-major terms.
    Shapes are not checked here; the Python layer validates them.
    """
    m = C.shape[0]
    n = C.shape[1]
    k = A.shape[0] if trans_a else A.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        for i in range(m):
            for j in range(n):
                C[i, j] = beta * C[i, j] if beta != 0.0 else 0.0
        return
    scratch_int[0] = n
    scratch_int[1] = m
    scratch_int[2] = k
    scratch_int[3] = B.shape[1]
    scratch_int[4] = A.shape[1]
    scratch_int[5] = C.shape[1]
    scratch_char[0] = _T if trans_b else _N
    scratch_char[1] = _T if trans_a else _N
    scratch_scalar[0] = alpha
    scratch_scalar[1] = beta
    args = (scratch_char[0:].ctypes, scratch_char[1:].ctypes,
            scratch_int[0:].ctypes, scratch_int[1:].ctypes, scratch_int[2:].ctypes,
            scratch_scalar[0:].ctypes, B.ctypes, scratch_int[3:].ctypes,
            A.ctypes, scratch_int[4:].ctypes, scratch_scalar[1:].ctypes,
            C.ctypes, scratch_int[5:].ctypes)
    if C.itemsize == 8:
        _dgemm(*args)
    else:
        _sgemm(*args)
