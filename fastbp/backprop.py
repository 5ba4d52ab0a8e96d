"""The equations of backpropagation, in matrix (Hadamard) form (docs/BACKPROP.md).

Rows are examples. For a chunk of c rows and layers l = 1..L::

    forward     Z^l = A^{l-1} (W^l)^T + 1 (b^l)^T,    A^l = f_l(Z^l)   forward_pass
    BP1         Delta^L = grad_A C (.) f_L'(Z^L)                       costs.output_delta
    BP2         Delta^l = (Delta^{l+1} W^{l+1}) (.) f_l'(Z^l)          backward_pass
    BP4         grad W^l += (Delta^l)^T A^{l-1}                        accumulate_gradients,
                                                                       weight_gradient_rows
    BP3         grad b^l += column sums of Delta^l                     bias_sums

The element-wise f and f' are in activations.py, the costs and BP1 in
costs.py; the arguments theta, arch and work are described in layout.py.
``hidden``, ``output`` and ``cost`` are the codes of the hidden layers'
activation (activations.MIXED if they differ), the output layer's and the
cost: given as literals (:func:`fastbp._numba_options.call_with_literals`)
they compile only the branches the network takes.
"""
from . import _numba_options
from ._numba_options import compiled_with_literals, jit, jit_inline, jit_reduction
from .activations import activate_layer, multiply_by_layer_fprime
from .blas import FEW_ROWS, gemm_nn, gemm_nt, gemm_tn, zero_of
from .costs import chunk_cost, output_delta
from .layout import biases_of, layer_block, layer_rows, matrix_view, weights_of

#: Mini-batches of at most this many rows compute each layer's weight
#: gradient two rows at a time and apply the step to those rows at once,
#: while the rows are in L1 (the gradient matrix is never written whole).
FUSED_UPDATE_ROWS = FEW_ROWS
#: Positions of hidden, output and cost in :func:`gradient_sums`'s arguments.
GRADIENT_SUMS_LITERALS = (6, 7, 8)


@jit
def gather_rows(X, Y, index, start, rows, x_scale, work):
    """X0[i] <- x_scale * X[index[start + i]], Y0[i] <- Y[index[start + i]] for i < rows.

    X may be of another dtype than the work buffers (uint8 images, say): it is
    converted row by row, so the data set is never copied whole.
    """
    X0 = work[0]
    Y0 = work[1]
    for i in range(rows):
        r = index[start + i]
        for j in range(X.shape[1]):
            X0[i, j] = X[r, j] * x_scale
        if Y.shape[0] > 0:
            for j in range(Y.shape[1]):
                Y0[i, j] = Y[r, j]


@jit
def forward_pass(rows, theta, arch, work, hidden, output):
    """Z^l and A^l of every layer for the first ``rows`` rows of work's X0."""
    layout, codes, functions = arch
    X0, Y0, Zbuf, Abuf, Dbuf = work
    cmax = X0.shape[0]
    last = layout.shape[0] - 1
    A_prev = X0[:rows]
    for l in range(layout.shape[0]):
        W = weights_of(theta, layout, l)
        Z = layer_block(Zbuf, layout, l, rows, cmax)
        A = layer_block(Abuf, layout, l, rows, cmax)
        gemm_nt(1.0, A_prev, W, 0.0, Z)
        b = biases_of(theta, layout, l)
        if l == last:
            activate_layer(Z, b, A, output, codes, functions, l)
        else:
            activate_layer(Z, b, A, hidden, codes, functions, l)
        A_prev = A


@jit_inline
def backward_pass(rows, theta, arch, work, hidden):
    """BP2: Delta^l = (Delta^{l+1} W^{l+1}) (.) f'(Z^l) for l = L-1 .. 1."""
    layout, codes, functions = arch
    X0, Y0, Zbuf, Abuf, Dbuf = work
    cmax = X0.shape[0]
    for l in range(layout.shape[0] - 1, 0, -1):
        W = weights_of(theta, layout, l)
        D_next = layer_block(Dbuf, layout, l, rows, cmax)
        D = layer_block(Dbuf, layout, l - 1, rows, cmax)
        gemm_nn(1.0, D_next, W, 0.0, D)
        multiply_by_layer_fprime(D, layer_block(Zbuf, layout, l - 1, rows, cmax),
                                 layer_block(Abuf, layout, l - 1, rows, cmax), hidden, codes,
                                 functions, l - 1)


@jit_inline
def accumulate_gradients(rows, accumulate, arch, work, G):
    """BP4 and BP3: grad W^l (+)= (Delta^l)^T A^{l-1}, grad b^l (+)= column sums of Delta^l.

    G has theta's layout. With ``accumulate`` False the sums overwrite G.
    """
    layout, codes, functions = arch
    X0, Y0, Zbuf, Abuf, Dbuf = work
    cmax = X0.shape[0]
    beta = 1.0 if accumulate else 0.0
    A_prev = X0[:rows]
    for l in range(layout.shape[0]):
        D = layer_block(Dbuf, layout, l, rows, cmax)
        if rows <= FUSED_UPDATE_ROWS and not accumulate:  # the sums minibatch_step forms
            n_in = layout[l, 0]
            n_out = layout[l, 1]
            for i in range(0, n_out, 2):
                weight_gradient_rows(D, A_prev, i, i + 1 < n_out,
                                     matrix_view(G, layout[l, 2] + i * n_in, min(2, n_out), n_in))
        else:
            gemm_tn(1.0, D, A_prev, beta, weights_of(G, layout, l))
        bias_sums(D, biases_of(G, layout, l), accumulate)
        A_prev = layer_block(Abuf, layout, l, rows, cmax)


@jit_inline
def bias_sums(D, gb, accumulate):
    """BP3: gb (+)= column sums of D (the batch sum of delta^l); with ``accumulate`` False they overwrite gb."""
    if not accumulate:
        for j in range(gb.shape[0]):
            gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            gb[j] += D[i, j]


@jit_reduction
def weight_gradient_rows(D, A, i, two, out):
    """out[r] <- sum_p D[p, i + r] A[p] for r = 0 and, if ``two``, r = 1.

    One or two rows of BP4's (Delta^l)^T A^{l-1}, for a short sum over the k
    rows of D and A (a small mini-batch); ``out`` is written in its first row
    only unless ``two``. The sum runs four rows of A at a time (indices past
    k - 1 are clamped and weighted by zero, which adds exact zeros), so each
    element of out is written once and updated ceil(k / 4) - 1 times while it
    sits in L1.
    """
    k = D.shape[0]
    n = A.shape[1]
    i1 = i + 1 if two else i
    zero = zero_of(out)
    out0 = out[0]
    out1 = out[1] if two else out[0]
    for p in range(0, k, 4):
        q1 = min(p + 1, k - 1)
        q2 = min(p + 2, k - 1)
        q3 = min(p + 3, k - 1)
        c00 = D[p, i]
        c01 = D[q1, i] if p + 1 < k else zero
        c02 = D[q2, i] if p + 2 < k else zero
        c03 = D[q3, i] if p + 3 < k else zero
        c10 = D[p, i1]
        c11 = D[q1, i1] if p + 1 < k else zero
        c12 = D[q2, i1] if p + 2 < k else zero
        c13 = D[q3, i1] if p + 3 < k else zero
        a0 = A[p]
        a1 = A[q1]
        a2 = A[q2]
        a3 = A[q3]
        if not two:
            if p == 0:
                for j in range(n):
                    out0[j] = c00 * a0[j] + c01 * a1[j] + c02 * a2[j] + c03 * a3[j]
            else:
                for j in range(n):
                    out0[j] += c00 * a0[j] + c01 * a1[j] + c02 * a2[j] + c03 * a3[j]
        elif p == 0:
            for j in range(n):
                x0 = a0[j]
                x1 = a1[j]
                x2 = a2[j]
                x3 = a3[j]
                out0[j] = c00 * x0 + c01 * x1 + c02 * x2 + c03 * x3
                out1[j] = c10 * x0 + c11 * x1 + c12 * x2 + c13 * x3
        else:
            for j in range(n):
                x0 = a0[j]
                x1 = a1[j]
                x2 = a2[j]
                x3 = a3[j]
                out0[j] += c00 * x0 + c01 * x1 + c02 * x2 + c03 * x3
                out1[j] += c10 * x0 + c11 * x1 + c12 * x2 + c13 * x3


@jit_inline
def gradient_sums(X, Y, index, start, stop, x_scale, hidden, output, cost, theta, arch, work,
                  G):
    """Sum over the rows index[start:stop] of dC_x/dtheta, into G, chunk by chunk.

    Returns the sum of the per-example costs C_x over those rows. Activation
    memory is bounded by the chunk size (work's cmax) whatever stop - start is.
    """
    cmax = work[0].shape[0]
    total_cost = 0.0
    first = True
    for c0 in range(start, stop, cmax):
        rows = min(cmax, stop - c0)
        gather_rows(X, Y, index, c0, rows, x_scale, work)
        forward_pass(rows, theta, arch, work, hidden, output)
        total_cost += chunk_cost(rows, cost, arch, work)
        output_delta(rows, output, cost, arch, work)
        backward_pass(rows, theta, arch, work, hidden)
        accumulate_gradients(rows, not first, arch, work, G)
        first = False
    if first:
        for p in range(G.shape[0]):
            G[p] = 0.0
    return total_cost


def forward_outputs(X, Y, index, x_scale, hidden, output, cost, theta, arch, work, out):
    """A^L for the rows of X named by index, into out; the cost sum if Y has rows.

    out has shape (len(index), n_L). Y of shape (0, n_L) means no targets.
    A Python loop over chunks of the compiled stages a fit uses (gather_rows,
    forward_pass and chunk_cost, specialised to the codes as a fit's driver
    is), so a prediction after a fit compiles nothing more; a call costs
    some tens of microseconds per chunk on top of the arithmetic.
    """
    rows = min(work[0].shape[0], index.shape[0])
    forward = forward_kernel(forward_pass, (4, 5), theta.dtype, rows, theta, arch, work, hidden,
                             output)
    cost_of = (forward_kernel(chunk_cost, (1,), theta.dtype, rows, cost, arch, work)
               if Y.shape[0] > 0 else None)
    layout = arch[0]
    cmax = work[0].shape[0]
    last = layout.shape[0] - 1
    n = index.shape[0]
    total_cost = 0.0
    for c0 in range(0, n, cmax):
        rows = min(cmax, n - c0)
        gather_rows(X, Y, index, c0, rows, x_scale, work)
        forward(rows, theta, arch, work, hidden, output)
        if cost_of is not None:
            total_cost += cost_of(rows, cost, arch, work)
        out[c0:c0 + rows] = layer_rows(work[3], layout, last, rows, cmax)
    return total_cost


# The compiled forward_pass and chunk_cost that forward_outputs calls, by
# (kernel, dtype, codes): their arguments are fastbp's own arrays (theta, the
# arch tuple, a workspace), whose Numba types follow from the dtype alone, so
# the entry point is looked up once (call_with_literals's typeof of every
# argument would cost more than a one-example prediction).
_FORWARD_KERNELS = {}


def forward_kernel(kernel, literal, dtype, *args):
    """``compiled_with_literals(kernel, literal, *args)``, looked up once per kernel, codes and dtype (see above)."""
    key = (kernel, tuple(args[i] for i in literal), dtype.str, _numba_options.SPECIALISE)
    entry = _FORWARD_KERNELS.get(key)
    if entry is None:
        entry = _FORWARD_KERNELS[key] = compiled_with_literals(kernel, literal, *args)
    return entry
