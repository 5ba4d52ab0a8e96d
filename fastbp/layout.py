"""Where each layer's numbers live: the flat parameter vector and the chunk buffers.

Shared argument conventions of the compiled kernels (backprop.py, steps.py)
---------------------------------------------------------------------------
theta : ndarray of shape (P,)
    All parameters, flat: layer l's W^l (n_out, n_in, row-major) then b^l.
arch : tuple (layout, codes, functions)
    layout, int64 of shape (L, 5): per layer n_in, n_out, offset of W in theta,
    offset of b in theta, and the sum of n_out over the layers before it
    (:func:`parameter_layout`). codes, int64 of shape (L,): activation code
    (activations.py). functions, int64 of shape (L, 2): for a custom
    activation, the addresses of the layer's compiled f and f'
    (activations.function_addresses), else 0. Arrays only, so that a call
    from Python types its arguments in microseconds.
work : tuple (X0, Y0, Zbuf, Abuf, Dbuf) (:func:`workspace`)
    X0 of shape (cmax, n_0), Y0 of shape (cmax, n_L): gathered input and
    target rows of one chunk. Zbuf, Abuf, Dbuf of shape (cmax * sum n_out,):
    the z, a and delta of every layer for one chunk; layer l's block starts at
    cmax * layout[l, 4]. cmax, the chunk size, is X0.shape[0]: activation
    memory is bounded by it.

Kernels take arrays and scalars only, write into caller-provided buffers and
never validate: the Python layer checks every shape and dtype first.
"""
import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from ._numba_options import jit, jit_inline


def parameter_layout(sizes):
    """The int64 (L, 5) layout table of a network with layer widths ``sizes`` and its parameter count.

    Returns
    -------
    layout : ndarray of int64, shape (L, 5)
        n_in, n_out, offset of W^l, offset of b^l, sum of n_out of the layers before.
    n_parameters : int
    """
    n_layers = len(sizes) - 1
    layout = np.zeros((n_layers, 5), dtype=np.int64)
    offset = 0
    widths_before = 0
    for l in range(n_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        layout[l] = (n_in, n_out, offset, offset + n_in * n_out, widths_before)
        offset += n_in * n_out + n_out
        widths_before += n_out
    return layout, offset


def workspace(sizes, dtype, chunk_rows):
    """The ``work`` tuple (X0, Y0, Zbuf, Abuf, Dbuf) for chunks of at most ``chunk_rows`` rows."""
    total = int(chunk_rows) * int(sum(sizes[1:]))
    return (np.empty((chunk_rows, sizes[0]), dtype), np.empty((chunk_rows, sizes[-1]), dtype),
            np.empty(total, dtype), np.empty(total, dtype), np.empty(total, dtype))


@intrinsic
def element_pointer(typingctx, arr, index):
    """Typed pointer to the element ``index`` places from the start of ``arr``'s data (no bounds check)."""
    sig = types.CPointer(arr.dtype)(arr, index)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.gep(ary.data, [args[1]])
    return sig, codegen


@jit
def matrix_view(buf, start, rows, cols):
    """The (rows, cols) row-major block of the flat ``buf`` starting at ``start``.

    Built from a pointer, without ``reshape``'s checks (whose error messages
    alone cost seconds of compile time): the Python layer sizes every buffer.
    Compiled once and called (LLVM inlines it), not inlined in Numba's IR at
    each of a step's views. Callers pass no constant int (a Numba literal),
    which would compile a second specialisation.
    The view does not keep ``buf`` alive, so it must not outlive the kernel
    call; Python code uses :func:`numpy_matrix_view` instead.
    """
    return numba.carray(element_pointer(buf, start), (rows, cols))


def numpy_matrix_view(buf, start, rows, cols):
    """matrix_view for Python callers: a NumPy view that keeps ``buf`` alive."""
    return buf[start:start + rows * cols].reshape(rows, cols)


def layer_weights(theta, layout, l):
    """W^{l+1} of shape (n_out, n_in), a NumPy view into theta (for Python callers)."""
    return numpy_matrix_view(theta, layout[l, 2], layout[l, 1], layout[l, 0])


def layer_biases(theta, layout, l):
    """b^{l+1} of shape (n_out,), a NumPy view into theta (for Python callers)."""
    return theta[layout[l, 3]:layout[l, 3] + layout[l, 1]]


def layer_rows(buf, layout, l, rows, cmax):
    """Layer l's (rows, n_out) block of a Z/A/Delta buffer, a NumPy view (for Python callers)."""
    return numpy_matrix_view(buf, cmax * layout[l, 4], rows, layout[l, 1])


@jit_inline
def weights_of(theta, layout, l):
    """W^{l+1} of shape (n_out, n_in), a view into theta."""
    return matrix_view(theta, layout[l, 2], layout[l, 1], layout[l, 0])


@jit_inline
def biases_of(theta, layout, l):
    """b^{l+1} of shape (n_out,), a view into theta."""
    start = layout[l, 3]
    return theta[start:start + layout[l, 1]]


@jit_inline
def layer_block(buf, layout, l, rows, cmax):
    """Layer l's (rows, n_out) block of a flat Z/A/Delta buffer."""
    return matrix_view(buf, cmax * layout[l, 4], rows, layout[l, 1])
