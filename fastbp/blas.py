"""Row-major GEMM on SciPy's BLAS, callable from Numba kernels and cacheable.

``np.dot`` inside Numba always overwrites its output. The kernels need the
full ``C <- alpha op(A) op(B) + beta C`` of BLAS: ``beta = 1`` accumulates the
weight gradients chunk by chunk (BP4) and transposes cost nothing. The BLAS
routines are SciPy's (``scipy.linalg.cython_blas``), registered with LLVM
under fixed symbol names so that kernels calling them can be cached on disk.
"""
import llvmlite.binding as llvm
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic, overload

from ._numba_options import jit, jit_inline, jit_reduction
from .layout import element_pointer

for _name in ("dgemm", "sgemm"):
    llvm.add_symbol("fastbp_" + _name,
                    get_cython_function_address("scipy.linalg.cython_blas", _name))



def _gemm_signature(scalar):
    """?gemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), every argument by reference.

    Typed pointers, so that an argument of the wrong kind (an int where a
    float array goes, say) fails to compile instead of corrupting memory.
    """
    char, integer, real = (types.CPointer(t) for t in (types.uint8, types.int32, scalar))
    return types.void(char, char, integer, integer, integer, real, real, integer, real, integer,
                      real, real, integer)


_dgemm = types.ExternalFunction("fastbp_dgemm", _gemm_signature(types.float64))
_sgemm = types.ExternalFunction("fastbp_sgemm", _gemm_signature(types.float32))

_N = 78  # ord("N")
_T = 84  # ord("T")

#: Products with m*n*k at most this run as plain loops: for tiny matrices
#: BLAS's call, checks and packing cost more than the arithmetic.
SMALL_GEMM_WORK = 8192
#: Mini-batches of at most this many rows use the loops below for the forward
#: product (few rows of A) and the weight gradient (a short sum over rows):
#: there BLAS spends more on packing than on arithmetic, and its threads
#: (started above about 2.6e5 multiply-adds) cost more than they save.
FEW_ROWS = 32


def zero_of(arr):
    """A zero of ``arr``'s dtype (jitted code only): float32 loops then accumulate in float32."""


@overload(zero_of, inline="always")
def _zero_of_overload(arr):
    dtype = arr.dtype

    def impl(arr):
        return dtype(0)
    return impl


def as_type_of(arr, x):
    """The scalar x in ``arr``'s dtype (jitted code only): float32 loops stay in float32."""


@overload(as_type_of, inline="always")
def _as_type_of_overload(arr, x):
    dtype = arr.dtype

    def impl(arr, x):
        return dtype(x)
    return impl


@jit_inline
def _store(C, i, j, s, alpha, beta):
    if beta == 0.0:
        C[i, j] = alpha * s
    else:
        C[i, j] = alpha * s + beta * C[i, j]


@jit_reduction
def _gemm_nt_few_rows(alpha, A, B, beta, C):
    """C <- alpha A B^T + beta C for A with few rows, in register blocks of 2 rows x 4 columns.

    Each block keeps 8 independent dot products over k in flight (vectorised
    by LLVM, accumulated in C's dtype): 6 loads feed 8 multiply-adds. The
    loop over rows of A runs inside the loop over rows of B, so each row of B
    (a row of W, in the forward pass) is read from memory once, and the few
    rows of A stay in cache.
    """
    m, k = A.shape
    n = B.shape[0]
    zero = zero_of(C)
    j = 0
    while j < n:
        four = j + 3 < n
        i = 0
        while i < m:
            two = i + 1 < m
            i1 = i + 1 if two else i  # a single last row is computed twice, stored once
            if four:
                s00 = zero
                s01 = zero
                s02 = zero
                s03 = zero
                s10 = zero
                s11 = zero
                s12 = zero
                s13 = zero
                for p in range(k):
                    a0 = A[i, p]
                    a1 = A[i1, p]
                    b0 = B[j, p]
                    b1 = B[j + 1, p]
                    b2 = B[j + 2, p]
                    b3 = B[j + 3, p]
                    s00 += a0 * b0
                    s01 += a0 * b1
                    s02 += a0 * b2
                    s03 += a0 * b3
                    s10 += a1 * b0
                    s11 += a1 * b1
                    s12 += a1 * b2
                    s13 += a1 * b3
                _store(C, i, j, s00, alpha, beta)
                _store(C, i, j + 1, s01, alpha, beta)
                _store(C, i, j + 2, s02, alpha, beta)
                _store(C, i, j + 3, s03, alpha, beta)
                if two:
                    _store(C, i1, j, s10, alpha, beta)
                    _store(C, i1, j + 1, s11, alpha, beta)
                    _store(C, i1, j + 2, s12, alpha, beta)
                    _store(C, i1, j + 3, s13, alpha, beta)
            else:
                s0 = zero
                s1 = zero
                for p in range(k):
                    b = B[j, p]
                    s0 += A[i, p] * b
                    s1 += A[i1, p] * b
                _store(C, i, j, s0, alpha, beta)
                if two:
                    _store(C, i1, j, s1, alpha, beta)
            i += 2
        j += 4 if four else 1


@jit_inline
def _scale_rows(C, i0, i1, beta):
    for i in range(i0, i1):
        if beta == 0.0:
            for j in range(C.shape[1]):
                C[i, j] = 0.0
        elif beta != 1.0:
            for j in range(C.shape[1]):
                C[i, j] *= beta


@jit_reduction
def _gemm_tn_short(alpha, A, B, beta, C):
    """C <- alpha A^T B + beta C for a short sum over the k rows of A and B.

    Two rows of C at a time take four rows of B per pass, so each load of B
    feeds two multiply-adds and each row of C is read and written k/4 times.
    """
    k = A.shape[0]
    m = C.shape[0]
    n = C.shape[1]
    i = 0
    while i < m:
        pair = i + 1 < m
        _scale_rows(C, i, i + 2 if pair else i + 1, beta)
        p = 0
        while p < k:
            q = min(4, k - p)
            a00 = alpha * A[p, i]
            a01 = alpha * A[p + 1, i] if q > 1 else 0.0
            a02 = alpha * A[p + 2, i] if q > 2 else 0.0
            a03 = alpha * A[p + 3, i] if q > 3 else 0.0
            if q == 4:
                if pair:
                    a10 = alpha * A[p, i + 1]
                    a11 = alpha * A[p + 1, i + 1]
                    a12 = alpha * A[p + 2, i + 1]
                    a13 = alpha * A[p + 3, i + 1]
                    for j in range(n):
                        b0 = B[p, j]
                        b1 = B[p + 1, j]
                        b2 = B[p + 2, j]
                        b3 = B[p + 3, j]
                        C[i, j] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3
                        C[i + 1, j] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3
                else:
                    for j in range(n):
                        C[i, j] += (a00 * B[p, j] + a01 * B[p + 1, j] + a02 * B[p + 2, j]
                                    + a03 * B[p + 3, j])
            else:
                for r in range(i, i + 2 if pair else i + 1):
                    for pp in range(p, p + q):
                        a = alpha * A[pp, r]
                        for j in range(n):
                            C[r, j] += a * B[pp, j]
            p += q
        i += 2


@jit_reduction
def _small_gemm(trans_a, trans_b, alpha, A, B, beta, C):
    m = C.shape[0]
    n = C.shape[1]
    k = A.shape[0] if trans_a else A.shape[1]
    for i in range(m):
        for j in range(n):
            C[i, j] = beta * C[i, j] if beta != 0.0 else 0.0
    if trans_b:  # C[i, j] += alpha * dot(op(A)[i, :], B[j, :])
        for i in range(m):
            for j in range(n):
                s = 0.0
                for p in range(k):
                    s += (A[p, i] if trans_a else A[i, p]) * B[j, p]
                C[i, j] += alpha * s
    else:  # C[i, :] += alpha * op(A)[i, p] * B[p, :], p in order
        for p in range(k):
            for i in range(m):
                a = alpha * (A[p, i] if trans_a else A[i, p])
                for j in range(n):
                    C[i, j] += a * B[p, j]


def _xgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """dgemm or sgemm, chosen when compiling by the arrays' dtype (jitted code only)."""


@overload(_xgemm, inline="always")
def _xgemm_overload(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    routine = _dgemm if c.dtype == types.float64 else _sgemm

    def impl(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        routine(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return impl


@intrinsic
def _by_reference(typingctx, value):
    """A pointer to a copy of ``value`` on the stack of the calling function (Fortran's by-reference scalars)."""
    def codegen(context, builder, signature, args):
        return cgutils.alloca_once_value(builder, args[0])
    return types.CPointer(value)(value), codegen


@jit
def gemm(trans_a, trans_b, alpha, A, B, beta, C):
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

    Notes
    -----
    The kernels call :func:`gemm_nt`, :func:`gemm_nn` and :func:`gemm_tn`,
    each of which compiles only its own loops; this entry point (for Python
    callers and tests) takes the same path as they do. Shapes are not
    checked here; the Python layer validates them.
    """
    if trans_b and not trans_a:
        gemm_nt(alpha, A, B, beta, C)
    elif trans_a and not trans_b:
        gemm_tn(alpha, A, B, beta, C)
    else:
        _gemm_loops_or_blas(trans_a, trans_b, alpha, A, B, beta, C)


@jit
def _gemm_loops_or_blas(trans_a, trans_b, alpha, A, B, beta, C):
    """:func:`gemm` by plain loops for a tiny product, else by BLAS.

    A row-major (m, n) array is the column-major (n, m) array of its transpose,
    so the BLAS call computes C.T = op(B).T op(A).T in column-major terms.
    """
    m = C.shape[0]
    n = C.shape[1]
    k = A.shape[0] if trans_a else A.shape[1]
    if m == 0 or n == 0:
        return
    if m * n * k <= SMALL_GEMM_WORK:
        _small_gemm(trans_a, trans_b, alpha, A, B, beta, C)
        return
    _xgemm(_by_reference(np.uint8(_T if trans_b else _N)),
           _by_reference(np.uint8(_T if trans_a else _N)),
           _by_reference(np.int32(n)), _by_reference(np.int32(m)), _by_reference(np.int32(k)),
           _by_reference(as_type_of(C, alpha)),
           element_pointer(B, 0), _by_reference(np.int32(B.shape[1])),
           element_pointer(A, 0), _by_reference(np.int32(A.shape[1])),
           _by_reference(as_type_of(C, beta)),
           element_pointer(C, 0), _by_reference(np.int32(C.shape[1])))


# The transpose flags are computed at run time (they are always the same
# values), so one compiled _gemm_loops_or_blas serves every call site instead
# of one specialisation per combination of literal flags; each wrapper adds
# only its own small-matrix loop, so a fit compiles the loops its products use
# (a small-batch step never calls gemm_tn).
@jit_inline
def gemm_nt(alpha, A, B, beta, C):
    """C <- alpha A B^T + beta C (A with few rows: register-blocked loops)."""
    m = C.shape[0]
    no = m < 0
    if 0 < m <= FEW_ROWS and C.shape[1] > 0 and m * C.shape[1] * A.shape[1] > SMALL_GEMM_WORK:
        _gemm_nt_few_rows(alpha, A, B, beta, C)
    else:
        _gemm_loops_or_blas(no, not no, alpha, A, B, beta, C)


@jit_inline
def gemm_nn(alpha, A, B, beta, C):
    """C <- alpha A B + beta C."""
    no = C.shape[0] < 0
    _gemm_loops_or_blas(no, no, alpha, A, B, beta, C)


@jit_inline
def gemm_tn(alpha, A, B, beta, C):
    """C <- alpha A^T B + beta C (a short sum over A's rows: loops)."""
    k = A.shape[0]
    no = k < 0
    if (0 < k <= FEW_ROWS and C.shape[0] > 0 and C.shape[1] > 0
            and C.shape[0] * C.shape[1] * k > SMALL_GEMM_WORK):
        _gemm_tn_short(alpha, A, B, beta, C)
    else:
        _gemm_loops_or_blas(not no, no, alpha, A, B, beta, C)
