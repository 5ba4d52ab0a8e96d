"""The compiled kernels of backpropagation, in matrix (Hadamard) form.

Rows are examples. For a chunk of c rows and layers l = 1..L::

    forward     Z^l = A^{l-1} (W^l)^T + 1 (b^l)^T,    A^l = f_l(Z^l)
    BP1         Delta^L = grad_A C (.) f_L'(Z^L)     (a - y for the matched costs)
    BP2         Delta^l = (Delta^{l+1} W^{l+1}) (.) f_l'(Z^l)
    BP4         grad W^l += (Delta^l)^T A^{l-1}       (batch sum of outer products)
    BP3         grad b^l += column sums of Delta^l

Kernels take arrays and scalars only, write into caller-provided buffers and
never validate: the Python layer (model.py) checks every shape and dtype first.

Shared argument conventions
---------------------------
theta : ndarray of shape (P,)
    All parameters, flat: layer l's W^l (n_out, n_in, row-major) then b^l.
arch : tuple (layout, codes, slots, fs, fprimes)
    layout, int64 of shape (L, 5): per layer n_in, n_out, offset of W in theta,
    offset of b in theta, and the sum of n_out over the layers before it.
    codes, int64 of shape (L,): activation code (activations.py).
    slots, int64 of shape (L,): for custom activations, the index into
    fs/fprimes of the layer's compiled f and f'.
work : tuple (X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch)
    X0 of shape (cmax, n_0), Y0 of shape (cmax, n_L): gathered input and
    target rows of one chunk. Zbuf, Abuf, Dbuf of shape (cmax * sum n_out,):
    the z, a and delta of every layer for one chunk; layer l's block starts at
    cmax * layout[l, 4]. Then the by-reference scratch of :func:`blas.gemm`.
    cmax, the chunk size, is X0.shape[0]: activation memory is bounded by it.
"""
import math

import numpy as np

import numba
from numba import types
from numba.extending import intrinsic

from ._numba_options import jit, jit_inline, jit_reduction
from .activations import CUSTOM, LINEAR, RELU, SIGMOID, SOFTMAX, TANH
from .blas import FEW_ROWS, as_type_of, gemm_nn, gemm_nt, gemm_tn, zero_of
from .costs import CROSS_ENTROPY, LOG_LIKELIHOOD, QUADRATIC
from .fast_math import select, vexp, vsigmoid, vtanh

# Status codes returned by the training driver.
OK = 0
DIVERGED = 1

#: Mini-batches of at most this many rows compute each layer's weight
#: gradient two rows at a time and apply the step to those rows at once,
#: while the rows are in L1 (the gradient matrix is never written whole).
FUSED_UPDATE_ROWS = FEW_ROWS


# Regularisation kinds (options[O_REG_KIND]).
REG_NONE = 0
REG_L2 = 1
REG_L1 = 2


@intrinsic
def _element_pointer(typingctx, arr, index):
    """Pointer to arr[index] (no bounds check)."""
    sig = types.CPointer(arr.dtype)(arr, index)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.gep(ary.data, [args[1]])
    return sig, codegen


@jit_inline
def matrix_view(buf, start, rows, cols):
    """The (rows, cols) row-major block of the flat ``buf`` starting at ``start``.

    Built from a pointer, without ``reshape``'s checks (whose error messages
    alone cost seconds of compile time): the Python layer sizes every buffer.
    The view does not keep ``buf`` alive, so it must not outlive the kernel
    call; Python code uses :func:`numpy_matrix_view` instead.
    """
    return numba.carray(_element_pointer(buf, start), (rows, cols))


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


@jit_inline
def activate_row(Z, b, A, i, code, f):
    """Row i: Z[i] <- Z[i] + b, A[i] <- f(Z[i]), the forward pass's element-wise step."""
    cols = Z.shape[1]
    if code == SOFTMAX:
        zmax = -np.inf
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            if z > zmax:
                zmax = z
        total = 0.0
        for j in range(cols):
            e = vexp(Z[i, j] - zmax)
            A[i, j] = e
            total += e
        for j in range(cols):
            A[i, j] = A[i, j] / total
    elif code == SIGMOID:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = vsigmoid(z)
    elif code == TANH:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = vtanh(z)
    elif code == RELU:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = z if z > 0.0 else 0.0
    elif code == CUSTOM:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = f(np.float64(z))
    else:  # LINEAR
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = z


@jit_inline
def fprime_row(D, Z, A, i, code, fprime):
    """Row i: D[i] <- D[i] (.) f'(Z[i]), the Hadamard product of BP1 and BP2.

    Sigmoid and tanh derivatives are taken from A = f(Z), which holds the same
    values and saves the exponential.
    """
    cols = D.shape[1]
    if code == SIGMOID:
        for j in range(cols):
            a = A[i, j]
            D[i, j] = D[i, j] * (a * (1.0 - a))
    elif code == TANH:
        for j in range(cols):
            a = A[i, j]
            D[i, j] = D[i, j] * (1.0 - a * a)
    elif code == RELU:
        for j in range(cols):
            if not Z[i, j] > 0.0:
                D[i, j] = 0.0
    elif code == CUSTOM:
        for j in range(cols):
            D[i, j] = D[i, j] * fprime(np.float64(Z[i, j]))
    # LINEAR: f' = 1, nothing to do. SOFTMAX never reaches here (see output_delta).


@jit
def add_bias_and_activate(Z, b, A, code, f):
    """Z <- Z + b (row-wise), A <- f(Z)."""
    for i in range(Z.shape[0]):
        activate_row(Z, b, A, i, code, f)


@jit
def multiply_by_fprime(D, Z, A, code, fprime):
    """D <- D (.) f'(Z), BP1/BP2's Hadamard product."""
    if code == LINEAR:
        return
    for i in range(D.shape[0]):
        fprime_row(D, Z, A, i, code, fprime)


@jit
def forward_pass(rows, theta, arch, work):
    """Z^l and A^l of every layer for the first ``rows`` rows of work's X0."""
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    A_prev = X0[:rows]
    for l in range(layout.shape[0]):
        W = weights_of(theta, layout, l)
        Z = layer_block(Zbuf, layout, l, rows, cmax)
        A = layer_block(Abuf, layout, l, rows, cmax)
        gemm_nt(1.0, A_prev, W, 0.0, Z, iscratch, cscratch, sscratch)
        add_bias_and_activate(Z, biases_of(theta, layout, l), A, codes[l], fs[slots[l]])
        A_prev = A


@jit
def chunk_cost(rows, cost, arch, work):
    """Sum over the chunk's rows of the per-example cost C_x (from Z^L, A^L, Y0)."""
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    last = layout.shape[0] - 1
    Z = layer_block(Zbuf, layout, last, rows, cmax)
    A = layer_block(Abuf, layout, last, rows, cmax)
    cols = Z.shape[1]
    total = 0.0
    if cost == QUADRATIC:
        for i in range(rows):
            for j in range(cols):
                d = A[i, j] - Y0[i, j]
                total += 0.5 * d * d
    elif cost == CROSS_ENTROPY:
        # -[y ln s(z) + (1-y) ln(1-s(z))] = y softplus(-z) + (1-y) softplus(z)
        for i in range(rows):
            for j in range(cols):
                z = np.float64(Z[i, j])
                y = Y0[i, j]
                sp_pos = max(z, 0.0) + math.log1p(math.exp(-abs(z)))  # softplus(z)
                total += y * (sp_pos - z) + (1.0 - y) * sp_pos
    else:  # LOG_LIKELIHOOD: -sum y ln softmax(z) = sum y (logsumexp(z) - z)
        for i in range(rows):
            zmax = -np.inf
            for j in range(cols):
                if Z[i, j] > zmax:
                    zmax = Z[i, j]
            s = 0.0
            for j in range(cols):
                s += math.exp(Z[i, j] - zmax)
            lse = zmax + math.log(s)
            for j in range(cols):
                if Y0[i, j] != 0.0:
                    total += Y0[i, j] * (lse - Z[i, j])
    return total


@jit
def output_delta(rows, cost, arch, work):
    """BP1: Delta^L from A^L, Y0 and the cost, into the last layer's Delta block."""
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    last = layout.shape[0] - 1
    Z = layer_block(Zbuf, layout, last, rows, cmax)
    A = layer_block(Abuf, layout, last, rows, cmax)
    D = layer_block(Dbuf, layout, last, rows, cmax)
    for i in range(rows):
        for j in range(D.shape[1]):
            D[i, j] = A[i, j] - Y0[i, j]
    if cost == QUADRATIC:
        multiply_by_fprime(D, Z, A, codes[last], fprimes[slots[last]])


@jit_inline
def backward_pass(rows, theta, arch, work):
    """BP2: Delta^l = (Delta^{l+1} W^{l+1}) (.) f'(Z^l) for l = L-1 .. 1."""
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    for l in range(layout.shape[0] - 1, 0, -1):
        W = weights_of(theta, layout, l)
        D_next = layer_block(Dbuf, layout, l, rows, cmax)
        D = layer_block(Dbuf, layout, l - 1, rows, cmax)
        gemm_nn(1.0, D_next, W, 0.0, D, iscratch, cscratch, sscratch)
        multiply_by_fprime(D, layer_block(Zbuf, layout, l - 1, rows, cmax),
                           layer_block(Abuf, layout, l - 1, rows, cmax),
                           codes[l - 1], fprimes[slots[l - 1]])


@jit_inline
def accumulate_gradients(rows, accumulate, arch, work, G):
    """BP4 and BP3: grad W^l (+)= (Delta^l)^T A^{l-1}, grad b^l (+)= column sums of Delta^l.

    G has theta's layout. With ``accumulate`` False the sums overwrite G.
    """
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    beta = 1.0 if accumulate else 0.0
    A_prev = X0[:rows]
    for l in range(layout.shape[0]):
        D = layer_block(Dbuf, layout, l, rows, cmax)
        if rows <= FUSED_UPDATE_ROWS and not accumulate:  # the sums minibatch_step forms
            n_in = layout[l, 0]
            for i in range(0, layout[l, 1], 2):
                weight_gradient_rows(D, A_prev, i, i + 1 < layout[l, 1],
                                     matrix_view(G, layout[l, 2] + i * n_in, 2, n_in))
        else:
            gemm_tn(1.0, D, A_prev, beta, weights_of(G, layout, l),
                    iscratch, cscratch, sscratch)
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


@jit_inline
def gradient_sums(X, Y, index, start, stop, x_scale, cost, theta, arch, work, G):
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
        forward_pass(rows, theta, arch, work)
        total_cost += chunk_cost(rows, cost, arch, work)
        output_delta(rows, cost, arch, work)
        backward_pass(rows, theta, arch, work)
        accumulate_gradients(rows, not first, arch, work, G)
        first = False
    if first:
        for p in range(G.shape[0]):
            G[p] = 0.0
    return total_cost


@jit
def forward_outputs(X, Y, index, x_scale, cost, theta, arch, work, out):
    """A^L for the rows of X named by index, into out; the cost sum if Y has rows.

    out has shape (len(index), n_L). Y of shape (0, n_L) means no targets.
    """
    layout = arch[0]
    cmax = work[0].shape[0]
    last = layout.shape[0] - 1
    n = index.shape[0]
    total_cost = 0.0
    for c0 in range(0, n, cmax):
        rows = min(cmax, n - c0)
        gather_rows(X, Y, index, c0, rows, x_scale, work)
        forward_pass(rows, theta, arch, work)
        if Y.shape[0] > 0:
            total_cost += chunk_cost(rows, cost, arch, work)
        A = layer_block(work[3], layout, last, rows, cmax)
        for i in range(rows):
            for j in range(A.shape[1]):
                out[c0 + i, j] = A[i, j]
    return total_cost


# Slots of the float64 ``hyper`` array read by the update (set by model.py).
H_REG = 0          # regularisation coefficient per step: lmbda / n (network2.py)
H_MOMENTUM = 1     # mu; 0 for plain SGD
H_BETA1 = 2        # Adam
H_BETA2 = 3
H_EPSILON = 4
H_STEP = 5         # Adam's step count t, advanced by the kernel
H_TRUST = 6        # LARS trust coefficient; 0 turns LARS off
H_WEIGHT_SQ_SUM = 7  # with O_REG_PER_BATCH: sum over steps of ||W||^2 before the step (loss reports)
N_HYPER = 8

# Slots of the int64 ``options`` array.
O_OPTIMIZER = 0    # OPT_SGD or OPT_ADAM
O_REG_KIND = 1     # REG_NONE, REG_L2 or REG_L1
O_NESTEROV = 2     # 1 for Nesterov momentum
O_REG_PER_BATCH = 3  # 1: the coefficient is divided by the mini-batch's size m (scikit-learn's alpha)
N_OPTIONS = 4

OPT_SGD = 0
OPT_ADAM = 1


@jit_reduction
def squared_norm(x):
    """sum(x**2), accumulated in float64."""
    total = 0.0
    for v in x:
        total += np.float64(v) * np.float64(v)
    return total


@jit_reduction
def finiteness_check(x):
    """A sum that is 0 iff every value of x is finite (x - x is NaN for inf and NaN)."""
    check = 0.0
    for v in x:
        check += v - v
    return check


@jit_reduction
def regularised_gradient_norm(w, g, inv_m, l2, l1):
    """||g * inv_m + l2 w + l1 sign(w)||, the step direction LARS scales by."""
    total = 0.0
    for p in range(w.shape[0]):
        x = w[p]
        d = g[p] * inv_m + l2 * x + l1 * ((x > 0.0) - (x < 0.0))
        total += d * d
    return math.sqrt(total)


@jit_inline
def step_rule(hyper, options, inv_m, eta):
    """The scalars of one step's update, read from hyper/options; advances Adam's step count.

    Returns the tuple (inv_m, eta, l2, l1, momentum, nesterov, adam, beta1,
    beta2, epsilon, adam_lr) that :func:`update_block` reads.
    """
    adam = options[O_OPTIMIZER] == OPT_ADAM
    nesterov = options[O_NESTEROV] == 1
    reg = hyper[H_REG] * (inv_m if options[O_REG_PER_BATCH] == 1 else 1.0)
    l2 = reg if options[O_REG_KIND] == REG_L2 else 0.0
    l1 = reg if options[O_REG_KIND] == REG_L1 else 0.0
    beta1 = hyper[H_BETA1]
    beta2 = hyper[H_BETA2]
    adam_lr = 0.0
    if adam:
        hyper[H_STEP] += 1.0
        t = hyper[H_STEP]
        adam_lr = eta * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    return (inv_m, eta, l2, l1, hyper[H_MOMENTUM], nesterov, adam, beta1, beta2,
            hyper[H_EPSILON], adam_lr)


@jit_inline
def sign_of(x, zero, one):
    """sgn(x) in x's dtype, as selects (no integer conversion, which AVX2 cannot vectorise)."""
    return select(x > zero, one, select(x < zero, -one, zero))


@jit_reduction
def update_block(w, g, v1, v2, eta, l2, l1, rule):
    """One block (rows of a layer's W, or its b) of the step, in place; returns a sum that is 0 iff all new values are finite.

    g_eff = g * inv_m + l2 w + l1 sign(w). SGD: w' = w - eta g_eff; momentum:
    v <- mu v - eta g_eff, w' = w + v (Nesterov: w' = w + mu v - eta g_eff);
    Adam (scikit-learn's form): m <- b1 m + (1-b1) g_eff, s <- b2 s + (1-b2) g_eff^2,
    w' = w - adam_lr m / (sqrt(s) + epsilon). In place: a separate output
    array that may alias w would cost LLVM's vectorisation of these loops.
    SGD and momentum compute in w's dtype (float32 networks in float32);
    Adam in float64, whose second moment g^2 can underflow float32.
    """
    inv_m, _, _, _, momentum, nesterov, adam, beta1, beta2, epsilon, adam_lr = rule
    zero = zero_of(w)
    one = as_type_of(w, 1.0)
    check = zero
    n = w.shape[0]
    if adam:
        for p in range(n):
            x = w[p]
            d = g[p] * inv_m + l2 * x + l1 * sign_of(x, zero, one)
            m1 = beta1 * v1[p] + (1.0 - beta1) * d
            m2 = beta2 * v2[p] + (1.0 - beta2) * d * d
            v1[p] = m1
            v2[p] = m2
            w[p] = x - adam_lr * m1 / (math.sqrt(m2) + epsilon)
            check += w[p] - w[p]
        return check
    c_inv_m = as_type_of(w, inv_m)
    c_eta = as_type_of(w, eta)
    c_l2 = as_type_of(w, l2)
    c_l1 = as_type_of(w, l1)
    mu = as_type_of(w, momentum)
    if momentum == 0.0:
        for p in range(n):
            x = w[p]
            y = x - c_eta * (g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one))
            w[p] = y
            check += y - y
    elif nesterov:
        for p in range(n):
            x = w[p]
            d = g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one)
            vel = mu * v1[p] - c_eta * d
            v1[p] = vel
            y = x + mu * vel - c_eta * d
            w[p] = y
            check += y - y
    else:
        for p in range(n):
            x = w[p]
            d = g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one)
            vel = mu * v1[p] - c_eta * d
            v1[p] = vel
            y = x + vel
            w[p] = y
            check += y - y
    return check


@jit_inline
def state_slice(v, lo, hi):
    """v[lo:hi], or v itself when the optimiser keeps no such state (v empty)."""
    return v[lo:hi] if v.shape[0] > 0 else v


@jit_inline
def uses_lars(hyper, rule):
    """LARS is on (a trust coefficient > 0) and applies (SGD, not Adam)."""
    return hyper[H_TRUST] > 0.0 and not rule[6]


@jit_inline
def record_weight_norm(l, theta, layout, hyper, options):
    """With O_REG_PER_BATCH, add ||W^l||^2 before the step to hyper[H_WEIGHT_SQ_SUM] (scikit-learn's loss report)."""
    if options[O_REG_PER_BATCH] == 1:
        hyper[H_WEIGHT_SQ_SUM] += squared_norm(theta[layout[l, 2]:layout[l, 3]])


@jit_inline
def update_biases(l, theta, G, v1, v2, layout, rule):
    """The step of layer l's biases (never regularised) from their gradient sums in G."""
    b0 = layout[l, 3]
    b1 = b0 + layout[l, 1]
    return update_block(theta[b0:b1], G[b0:b1], state_slice(v1, b0, b1),
                        state_slice(v2, b0, b1), rule[1], 0.0, 0.0, rule)


@jit_inline
def weight_step_size(theta, G, lo, hi, hyper, rule):
    """eta for a layer's weights: with LARS, eta * trust * ||W|| / ||g_eff|| (You et al. 2017; SGD only)."""
    inv_m, eta, l2, l1 = rule[0], rule[1], rule[2], rule[3]
    trust = hyper[H_TRUST]
    if uses_lars(hyper, rule):
        w_norm = math.sqrt(squared_norm(theta[lo:hi]))
        g_norm = regularised_gradient_norm(theta[lo:hi], G[lo:hi], inv_m, l2, l1)
        if w_norm > 0.0 and g_norm > 0.0:
            return eta * trust * w_norm / g_norm
    return eta


@jit_inline
def update_layer(l, theta, G, v1, v2, layout, rule, hyper, options):
    """Layer l's step from its gradient sums in G, in place (weights, then the unregularised biases)."""
    w0 = layout[l, 2]
    b0 = layout[l, 3]
    record_weight_norm(l, theta, layout, hyper, options)
    eta_w = weight_step_size(theta, G, w0, b0, hyper, rule)
    check = update_block(theta[w0:b0], G[w0:b0], state_slice(v1, w0, b0),
                         state_slice(v2, w0, b0), eta_w, rule[2], rule[3], rule)
    return check + update_biases(l, theta, G, v1, v2, layout, rule)


@jit_inline
def apply_update(theta, G, v1, v2, layout, inv_m, eta, hyper, options):
    """One optimisation step of theta, in place, layer by layer.

    Biases are never regularised. With LARS (hyper[H_TRUST] > 0) each layer's
    weights use eta * trust * ||W|| / ||g_eff|| (You et al. 2017; SGD only).
    v1, v2 have theta's layout (momentum velocity; Adam's moments); they may
    be empty when the optimiser does not use them. Returns False if any new
    value is not finite (theta then holds a partly applied step).
    """
    rule = step_rule(hyper, options, inv_m, eta)
    check = 0.0
    for l in range(layout.shape[0]):
        check += update_layer(l, theta, G, v1, v2, layout, rule, hyper, options)
    return check == 0.0


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
def layer_step_from_deltas(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper, options,
                           work):
    """BP4/BP3 for layer l from its Delta and A^{l-1}, and the layer's step, in place.

    Returns a sum that is 0 iff all new values are finite. G (theta's layout)
    is scratch: a small batch uses two rows of the layer's block as the L1
    buffer, a large one (or LARS, which needs the whole gradient's norm) the
    whole block; for a large batch with plain SGD the step is folded into the
    gradient's GEMM (beta = 1 - eta l2, alpha = -eta / m) and G is not used.
    """
    n_in = layout[l, 0]
    n_out = layout[l, 1]
    w0 = layout[l, 2]
    b0 = layout[l, 3]
    bias_sums(D, G[b0:b0 + n_out], False)
    lars = uses_lars(hyper, rule)
    fused = rows <= FUSED_UPDATE_ROWS and not lars
    plain_sgd = rule[4] == 0.0 and not rule[6] and rule[3] == 0.0 and not lars  # L2 or none
    if not (fused or plain_sgd):
        # The whole layer's gradient, then the step (LARS needs its norm).
        gemm_tn(1.0, D, A_prev, 0.0, weights_of(G, layout, l), work[5], work[6], work[7])
        return update_layer(l, theta, G, v1, v2, layout, rule, hyper, options)
    record_weight_norm(l, theta, layout, hyper, options)
    check = 0.0
    if fused:
        buf = matrix_view(G, w0, 2, n_in)
        for i in range(0, n_out, 2):
            two = i + 1 < n_out
            weight_gradient_rows(D, A_prev, i, two, buf)
            lo = w0 + i * n_in
            hi = lo + (2 if two else 1) * n_in
            check += update_block(theta[lo:hi], G[w0:w0 + hi - lo],
                                  state_slice(v1, lo, hi), state_slice(v2, lo, hi),
                                  rule[1], rule[2], rule[3], rule)
    else:
        # Plain SGD on a large batch: the step is one GEMM into W,
        # W <- (1 - eta l2) W - (eta / m) (Delta^l)^T A^{l-1}.
        gemm_tn(-rule[1] * rule[0], D, A_prev, 1.0 - rule[1] * rule[2],
                weights_of(theta, layout, l), work[5], work[6], work[7])
        check += finiteness_check(theta[w0:b0])
    return check + update_biases(l, theta, G, v1, v2, layout, rule)


@jit
def minibatch_step(X, Y, index, start, stop, x_scale, cost, eta, theta, v1, v2, G, hyper,
                   options, arch, work):
    """One SGD step on the rows index[start:stop] (at most one chunk), in place; returns (cost sum, finite).

    Forward, BP1, then layer by layer from the top: BP2 into the layer below
    (with the weights before their step), then the layer's BP4/BP3 and its
    step. The cost is checked before any parameter is written: a non-finite
    cost leaves everything untouched; a non-finite new parameter returns
    finite=False with the step partly applied (the driver restores its
    snapshot).
    """
    layout, codes, slots, fs, fprimes = arch
    X0, Y0, Zbuf, Abuf, Dbuf, iscratch, cscratch, sscratch = work
    cmax = X0.shape[0]
    rows = stop - start
    gather_rows(X, Y, index, start, rows, x_scale, work)
    forward_pass(rows, theta, arch, work)
    total = chunk_cost(rows, cost, arch, work)
    if not math.isfinite(total):
        return total, False
    output_delta(rows, cost, arch, work)
    rule = step_rule(hyper, options, 1.0 / rows, eta)
    check = 0.0
    for l in range(layout.shape[0] - 1, -1, -1):
        D = layer_block(Dbuf, layout, l, rows, cmax)
        A_prev = X0[:rows] if l == 0 else layer_block(Abuf, layout, l - 1, rows, cmax)
        if l > 0:
            D_below = layer_block(Dbuf, layout, l - 1, rows, cmax)
            gemm_nn(1.0, D, weights_of(theta, layout, l), 0.0, D_below, iscratch, cscratch,
                    sscratch)
            multiply_by_fprime(D_below, layer_block(Zbuf, layout, l - 1, rows, cmax), A_prev,
                               codes[l - 1], fprimes[slots[l - 1]])
        check += layer_step_from_deltas(l, rows, D, A_prev, theta, G, v1, v2, layout, rule,
                                        hyper, options, work)
    return total, check == 0.0


@jit
def chunked_minibatch_step(X, Y, index, start, stop, x_scale, cost, eta, theta, v1, v2, G,
                           hyper, options, arch, work):
    """minibatch_step for a mini-batch of any size: the gradient sums chunk by chunk, then the step."""
    total = gradient_sums(X, Y, index, start, stop, x_scale, cost, theta, arch, work, G)
    if not math.isfinite(total):
        return total, False
    return total, apply_update(theta, G, v1, v2, arch[0], 1.0 / (stop - start), eta, hyper,
                               options)


@jit_inline
def copy_into(dst, src):
    for p in range(src.shape[0]):  # a loop: slice assignment's checks cost compile time
        dst[p] = src[p]


@jit_inline
def save_snapshot(snapshot, theta, v1, v2, hyper):
    copy_into(snapshot[0], theta)
    copy_into(snapshot[1], v1)
    copy_into(snapshot[2], v2)
    copy_into(snapshot[3], hyper)


@jit_inline
def restore_snapshot(snapshot, theta, v1, v2, hyper):
    copy_into(theta, snapshot[0])
    copy_into(v1, snapshot[1])
    copy_into(v2, snapshot[2])
    copy_into(hyper, snapshot[3])


@jit_inline
def run_minibatches(step, X, Y, order, batch_size, first_batch, stop_batch, x_scale, cost,
                    batch_etas, hyper, options, theta, v1, v2, G, snapshot, arch, work):
    """The segment loop of the drivers: steps, snapshot, restore and replay (see sgd_minibatches)."""
    save_snapshot(snapshot, theta, v1, v2, hyper)
    n = order.shape[0]
    status = OK
    done = 0
    cost_sum = 0.0
    k = first_batch
    last = stop_batch
    while k < last:
        start = k * batch_size
        batch_cost, finite = step(X, Y, order, start, min(start + batch_size, n), x_scale, cost,
                                  batch_etas[k], theta, v1, v2, G, hyper, options, arch, work)
        if finite:
            done += 1
            cost_sum += batch_cost
            k += 1
            continue
        status = DIVERGED
        if not math.isfinite(batch_cost):
            break  # nothing was written
        restore_snapshot(snapshot, theta, v1, v2, hyper)  # then replay up to batch k
        last, k, done, cost_sum = k, first_batch, 0, 0.0
    return status, done, cost_sum


@jit
def sgd_minibatches(X, Y, order, batch_size, first_batch, stop_batch, x_scale, cost,
                    batch_etas, hyper, options, theta, v1, v2, G, snapshot, arch, work):
    """Run mini-batches first_batch .. stop_batch-1 of one epoch; the whole-epoch driver.

    Mini-batch k holds the rows order[k*batch_size : (k+1)*batch_size] (the
    last may be shorter), as network.py slices its shuffled list, and steps
    with learning rate batch_etas[k]. Each mini-batch must fit one chunk
    (batch_size <= work's cmax); :func:`sgd_minibatches_chunked` takes any.
    Steps are applied in place. A step whose result is not finite is never
    kept: the segment starts by copying theta, v1, v2 and hyper into
    ``snapshot`` (four arrays of their shapes); when a step's new parameters
    are not finite, they are restored and the segment's earlier steps
    replayed (deterministically, bit for bit), so theta always ends at the
    last finite step.

    Returns
    -------
    status : int
        OK, or DIVERGED when a step's cost or parameters were not finite.
    done : int
        Number of mini-batches completed (and applied).
    cost_sum : float
        Sum of C_x over the examples of the completed mini-batches, each
        evaluated at the parameters before its batch's step.
    """
    return run_minibatches(minibatch_step, X, Y, order, batch_size, first_batch, stop_batch,
                           x_scale, cost, batch_etas, hyper, options, theta, v1, v2, G, snapshot,
                           arch, work)


@jit
def sgd_minibatches_chunked(X, Y, order, batch_size, first_batch, stop_batch, x_scale, cost,
                            batch_etas, hyper, options, theta, v1, v2, G, snapshot, arch, work):
    """:func:`sgd_minibatches` for mini-batches larger than one chunk (same arguments and results).

    A separate compiled driver, so that a fit compiles only the step it runs.
    """
    return run_minibatches(chunked_minibatch_step, X, Y, order, batch_size, first_batch,
                           stop_batch, x_scale, cost, batch_etas, hyper, options, theta, v1, v2,
                           G, snapshot, arch, work)
