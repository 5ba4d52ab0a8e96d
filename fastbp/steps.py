"""One training step, compiled whole, and the drivers that run a segment of an epoch's steps.

A step is backprop.py's equations followed by optimizers.py's update. For a
small mini-batch (one chunk) they are interleaved layer by layer from the
top, so each layer's weight gradient is formed in L1 and applied at once
(:func:`minibatch_step`); a larger one sums the gradients chunk by chunk and
then steps (:func:`chunked_minibatch_step`). engine.py calls the drivers.
"""
import math

from ._numba_options import jit, jit_inline
from .activations import multiply_by_layer_fprime
from .backprop import (FUSED_UPDATE_ROWS, bias_sums, forward_pass, gather_rows, gradient_sums,
                       weight_gradient_rows)
from .blas import gemm_nn, gemm_tn
from .costs import chunk_cost, output_delta
from .layout import layer_block, matrix_view, weights_of
from .optimizers import (apply_update, finiteness_check, record_weight_norm, state_slice,
                         step_rule, update_biases, update_block, update_layer, uses_lars)

# Status codes returned by the drivers.
OK = 0
DIVERGED = 1
#: Positions of hidden, output and cost in the drivers' arguments (compiled as literals).
DRIVER_LITERALS = (7, 8, 9)


@jit_inline
def fused_layer_step(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper, options, work):
    """:func:`layer_step_from_deltas` for a small mini-batch without LARS (the same arguments and results).

    Two rows of the weight gradient at a time go into the first two rows of
    the layer's block of G, an L1 buffer, and their step is applied at once.
    """
    n_in = layout[l, 0]
    n_out = layout[l, 1]
    w0 = layout[l, 2]
    b0 = layout[l, 3]
    bias_sums(D, G[b0:b0 + n_out], False)
    record_weight_norm(l, theta, layout, hyper, options)
    check = 0.0
    buf = matrix_view(G, w0, min(2, n_out), n_in)  # not a constant 2: see matrix_view
    for i in range(0, n_out, 2):
        two = i + 1 < n_out
        weight_gradient_rows(D, A_prev, i, two, buf)
        lo = w0 + i * n_in
        hi = lo + (2 if two else 1) * n_in
        check += update_block(theta[lo:hi], G[w0:w0 + hi - lo],
                              state_slice(v1, lo, hi), state_slice(v2, lo, hi),
                              rule[1], rule[2], rule[3], rule)
    return check + update_biases(l, theta, G, v1, v2, layout, rule)


@jit_inline
def layer_step_from_deltas(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper, options,
                           work):
    """BP4/BP3 for layer l from its Delta and A^{l-1}, and the layer's step, in place.

    Returns a sum that is 0 iff all new values are finite. G (theta's layout)
    is scratch: a small batch uses two rows of the layer's block as the L1
    buffer (:func:`fused_layer_step`), a large one (or LARS, which needs the
    whole gradient's norm) the whole block; for a large batch with plain SGD
    the step is folded into the gradient's GEMM (beta = 1 - eta l2,
    alpha = -eta / m) and G is not used.
    """
    lars = uses_lars(hyper, rule)
    if rows <= FUSED_UPDATE_ROWS and not lars:
        return fused_layer_step(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper,
                                options, work)
    n_out = layout[l, 1]
    w0 = layout[l, 2]
    b0 = layout[l, 3]
    bias_sums(D, G[b0:b0 + n_out], False)
    plain_sgd = rule[4] == 0.0 and not rule[6] and rule[3] == 0.0 and not lars  # L2 or none
    if not plain_sgd:
        # The whole layer's gradient, then the step (LARS needs its norm).
        gemm_tn(1.0, D, A_prev, 0.0, weights_of(G, layout, l))
        return update_layer(l, theta, G, v1, v2, layout, rule, hyper, options)
    # Plain SGD on a large batch: the step is one GEMM into W,
    # W <- (1 - eta l2) W - (eta / m) (Delta^l)^T A^{l-1}.
    record_weight_norm(l, theta, layout, hyper, options)
    gemm_tn(-rule[1] * rule[0], D, A_prev, 1.0 - rule[1] * rule[2],
            weights_of(theta, layout, l))
    return finiteness_check(theta[w0:b0]) + update_biases(l, theta, G, v1, v2, layout, rule)


@jit_inline
def minibatch_step(X, Y, index, start, stop, x_scale, hidden, output, cost, eta, theta, v1, v2,
                   G, hyper, options, arch, work):
    """One SGD step on the rows index[start:stop] (at most one chunk), in place; returns (cost sum, finite).

    See :func:`one_chunk_step`, which it runs with :func:`layer_step_from_deltas`.
    """
    return one_chunk_step(layer_step_from_deltas, X, Y, index, start, stop, x_scale, hidden,
                          output, cost, eta, theta, v1, v2, G, hyper, options, arch, work)


@jit_inline
def small_minibatch_step(X, Y, index, start, stop, x_scale, hidden, output, cost, eta, theta, v1,
                         v2, G, hyper, options, arch, work):
    """:func:`minibatch_step` for at most FUSED_UPDATE_ROWS rows and no LARS, with :func:`fused_layer_step` only."""
    return one_chunk_step(fused_layer_step, X, Y, index, start, stop, x_scale, hidden, output,
                          cost, eta, theta, v1, v2, G, hyper, options, arch, work)


@jit_inline
def one_chunk_step(layer_step, X, Y, index, start, stop, x_scale, hidden, output, cost, eta, theta,
                   v1, v2, G, hyper, options, arch, work):
    """One SGD step on the rows index[start:stop] (one chunk), in place; returns (cost sum, finite).

    Forward, BP1, then layer by layer from the top: BP2 into the layer below
    (with the weights before their step), then the layer's BP4/BP3 and its
    step. The cost is checked before any parameter is written: a non-finite
    cost leaves everything untouched; a non-finite new parameter returns
    finite=False with the step partly applied (the driver restores its
    snapshot).
    """
    layout, codes, functions = arch
    X0, Y0, Zbuf, Abuf, Dbuf = work
    cmax = X0.shape[0]
    rows = stop - start
    gather_rows(X, Y, index, start, rows, x_scale, work)
    forward_pass(rows, theta, arch, work, hidden, output)
    total = chunk_cost(rows, cost, arch, work)
    if not math.isfinite(total):
        return total, False
    output_delta(rows, output, cost, arch, work)
    rule = step_rule(hyper, options, 1.0 / rows, eta)
    check = 0.0
    for l in range(layout.shape[0] - 1, -1, -1):
        D = layer_block(Dbuf, layout, l, rows, cmax)
        A_prev = X0[:rows] if l == 0 else layer_block(Abuf, layout, l - 1, rows, cmax)
        if l > 0:
            D_below = layer_block(Dbuf, layout, l - 1, rows, cmax)
            gemm_nn(1.0, D, weights_of(theta, layout, l), 0.0, D_below)
            multiply_by_layer_fprime(D_below, layer_block(Zbuf, layout, l - 1, rows, cmax),
                                     A_prev, hidden, codes, functions, l - 1)
        check += layer_step(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper, options,
                            work)
    return total, check == 0.0


@jit
def chunked_minibatch_step(X, Y, index, start, stop, x_scale, hidden, output, cost, eta, theta,
                           v1, v2, G, hyper, options, arch, work):
    """minibatch_step for a mini-batch of any size: the gradient sums chunk by chunk, then the step."""
    total = gradient_sums(X, Y, index, start, stop, x_scale, hidden, output, cost, theta, arch,
                          work, G)
    if not math.isfinite(total):
        return total, False
    return total, apply_update(theta, G, v1, v2, arch[0], 1.0 / (stop - start), eta, hyper,
                               options)


@jit
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
def run_minibatches(step, X, Y, order, batch_size, first_batch, stop_batch, x_scale, hidden,
                    output, cost, batch_etas, hyper, options, theta, v1, v2, G, snapshot, arch,
                    work):
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
        batch_cost, finite = step(X, Y, order, start, min(start + batch_size, n), x_scale, hidden,
                                  output, cost, batch_etas[k], theta, v1, v2, G, hyper, options,
                                  arch, work)
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
def sgd_minibatches(X, Y, order, batch_size, first_batch, stop_batch, x_scale, hidden,
                    output, cost, batch_etas, hyper, options, theta, v1, v2, G, snapshot, arch,
                    work):
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
    last finite step. ``hidden``, ``output`` and ``cost`` are the network's
    codes (backprop.py); the engine compiles a driver with them as literals
    (positions DRIVER_LITERALS), so it holds only its network's activations
    and cost.

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
                           x_scale, hidden, output, cost, batch_etas, hyper, options, theta, v1,
                           v2, G, snapshot, arch, work)


@jit
def sgd_small_minibatches(X, Y, order, batch_size, first_batch, stop_batch, x_scale, hidden,
                          output, cost, batch_etas, hyper, options, theta, v1, v2, G, snapshot,
                          arch, work):
    """:func:`sgd_minibatches` for mini-batches of at most FUSED_UPDATE_ROWS rows, without LARS.

    The same arguments and results, bit for bit; its step compiles only the
    small-batch layer step (:func:`fused_layer_step`), which is what a first
    fit with small mini-batches waits for.
    """
    return run_minibatches(small_minibatch_step, X, Y, order, batch_size, first_batch,
                           stop_batch, x_scale, hidden, output, cost, batch_etas, hyper, options, theta, v1,
                           v2, G, snapshot, arch, work)


@jit
def sgd_minibatches_chunked(X, Y, order, batch_size, first_batch, stop_batch, x_scale, hidden,
                            output, cost, batch_etas, hyper, options, theta, v1, v2, G, snapshot,
                            arch, work):
    """:func:`sgd_minibatches` for mini-batches larger than one chunk (same arguments and results).

    A separate compiled driver, so that a fit compiles only the step it runs.
    """
    return run_minibatches(chunked_minibatch_step, X, Y, order, batch_size, first_batch,
                           stop_batch, x_scale, hidden, output, cost, batch_etas, hyper, options, theta, v1,
                           v2, G, snapshot, arch, work)
