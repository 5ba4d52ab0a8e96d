"""Where one small mini-batch step spends its time: a per-stage profile.

Each stage of fastbp's training step (steps.minibatch_step) is run many
times in a compiled loop on the same mini-batch and timed from Python; the
whole step is timed over consecutive mini-batches of a shuffled epoch, and
"bookkeeping" is what the whole step takes beyond the sum of its stages
(loop control, calls, the stages' interaction through the caches; it can be
negative when a stage timed alone misses the cache more than in the step).

    python benchmarks/profile_step.py                       # S and M, float64 and float32
    python benchmarks/profile_step.py --configs S --dtypes float32 --rows 20000

Figures are ns per step and GFLOP/s of the stage's matrix products (2 flops per
multiply-add). Run it with nothing else on the machine.
"""
import argparse
import platform
import time

import numba
import numpy as np

import fastbp
from fastbp._numba_options import call_with_literals
from fastbp.activations import activate_layer, multiply_by_layer_fprime
from fastbp.backprop import backward_pass, forward_pass, gather_rows, weight_gradient_rows
from fastbp.blas import gemm_nn, gemm_nt
from fastbp.costs import chunk_cost, output_delta
from fastbp.engine import Trainer, kernel_view
from fastbp.layout import biases_of, layer_block, matrix_view, weights_of
from fastbp.optimizers import SGD, step_rule
from fastbp.steps import layer_step_from_deltas, minibatch_step

CONFIGS = {"S": ([784, 30, 10], "quadratic"), "M": ([784, 100, 10], "cross_entropy")}
BATCH = 10


@numba.njit
def _gather(X, Y, order, reps, work):
    n_batches = order.shape[0] // BATCH
    for r in range(reps):
        gather_rows(X, Y, order, (r % n_batches) * BATCH, BATCH, 1.0, work)


@numba.njit
def _forward_products(rows, theta, arch, work, reps):
    layout = arch[0]
    X0 = work[0]
    cmax = X0.shape[0]
    for r in range(reps):
        A_prev = X0[:rows]
        for l in range(layout.shape[0]):
            Z = layer_block(work[2], layout, l, rows, cmax)
            gemm_nt(1.0, A_prev, weights_of(theta, layout, l), 0.0, Z)
            A_prev = layer_block(work[3], layout, l, rows, cmax)


@numba.njit
def _bias_activation(rows, theta, arch, work, hidden, output, reps):
    layout, codes, functions = arch
    cmax = work[0].shape[0]
    last = layout.shape[0] - 1
    for r in range(reps):
        for l in range(layout.shape[0]):
            Z = layer_block(work[2], layout, l, rows, cmax)
            A = layer_block(work[3], layout, l, rows, cmax)
            # Z += b then f: on a copy of Z's values kept stable across repetitions
            b = biases_of(theta, layout, l) * 0.0
            if l == last:
                activate_layer(Z, b, A, output, codes, functions, l)
            else:
                activate_layer(Z, b, A, hidden, codes, functions, l)


@numba.njit
def _cost_bp1(rows, output, cost, arch, work, reps):
    s = 0.0
    for r in range(reps):
        s += chunk_cost(rows, cost, arch, work)
        output_delta(rows, output, cost, arch, work)
    return s


@numba.njit
def _bp2(rows, theta, arch, work, hidden, reps):
    layout, codes, functions = arch
    cmax = work[0].shape[0]
    for r in range(reps):
        for l in range(layout.shape[0] - 1, 0, -1):
            D = layer_block(work[4], layout, l, rows, cmax)
            D_below = layer_block(work[4], layout, l - 1, rows, cmax)
            gemm_nn(1.0, D, weights_of(theta, layout, l), 0.0, D_below)
            multiply_by_layer_fprime(D_below, layer_block(work[2], layout, l - 1, rows, cmax),
                                     layer_block(work[3], layout, l - 1, rows, cmax), hidden,
                                     codes, functions, l - 1)


@numba.njit
def _weight_gradients(rows, arch, work, G, reps):
    layout = arch[0]
    X0 = work[0]
    cmax = X0.shape[0]
    for r in range(reps):
        for l in range(layout.shape[0]):
            D = layer_block(work[4], layout, l, rows, cmax)
            A_prev = X0[:rows] if l == 0 else layer_block(work[3], layout, l - 1, rows, cmax)
            buf = matrix_view(G, layout[l, 2], min(2, layout[l, 1]), layout[l, 0])
            for i in range(0, layout[l, 1], 2):
                weight_gradient_rows(D, A_prev, i, i + 1 < layout[l, 1], buf)


@numba.njit
def _fused_step_layers(rows, theta, v1, v2, G, hyper, options, arch, work, reps):
    layout = arch[0]
    X0 = work[0]
    cmax = X0.shape[0]
    for r in range(reps):
        rule = step_rule(hyper, options, 1.0 / rows, 1e-30)
        for l in range(layout.shape[0] - 1, -1, -1):
            D = layer_block(work[4], layout, l, rows, cmax)
            A_prev = X0[:rows] if l == 0 else layer_block(work[3], layout, l - 1, rows, cmax)
            layer_step_from_deltas(l, rows, D, A_prev, theta, G, v1, v2, layout, rule, hyper,
                                   options, work)


@numba.njit
def _whole_steps(X, Y, order, hidden, output, cost, theta, v1, v2, G, hyper, options, arch, work,
                 n_steps):
    for k in range(n_steps):
        minibatch_step(X, Y, order, k * BATCH, (k + 1) * BATCH, 1.0, hidden, output, cost, 1e-30,
                       theta, v1, v2, G, hyper, options, arch, work)


def _median_ns(fn, args, reps, repeats=5, literal=()):
    """Median ns per repetition of fn(*args, reps); the args at positions ``literal`` are compiled as constants, as a fit does."""
    run = lambda n: call_with_literals(fn, literal, *args, n)  # noqa: E731
    run(1)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(reps)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) / reps * 1e9


def profile(config, dtype, n_rows, reps, seed=0):
    """Per-stage ns per step (dict) for one config and dtype."""
    sizes, cost = CONFIGS[config]
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    X = rng.random((n_rows, sizes[0])).astype(dtype)
    Y = np.zeros((n_rows, sizes[-1]), dtype)
    Y[np.arange(n_rows), rng.integers(0, sizes[-1], n_rows)] = 1
    net = fastbp.Network(sizes, cost=cost, dtype=dtype, seed=seed)
    trainer = Trainer(net, SGD(), BATCH)  # plain SGD, no penalty
    kv = kernel_view(net)
    work, arch, theta, G = trainer.work, kv.arch, kv.theta, trainer.G
    st = trainer.state
    hyper, options, v1, v2 = st.hyper, st.options, st.v1, st.v2
    hidden, output, code = kv.kinds
    order = rng.permutation(n_rows).astype(np.int64)
    gather_rows(X, Y, order, 0, BATCH, 1.0, work)
    call_with_literals(forward_pass, (4, 5), BATCH, theta, arch, work, hidden, output)
    call_with_literals(output_delta, (1, 2), BATCH, output, code, arch, work)
    call_with_literals(backward_pass, (4,), BATCH, theta, arch, work, hidden)
    ns = {}
    ns["gather rows"] = _median_ns(lambda r: _gather(X, Y, order, r, work), (), reps)
    ns["forward products"] = _median_ns(_forward_products, (BATCH, theta, arch, work), reps)
    ns["bias + activation"] = _median_ns(_bias_activation, (BATCH, theta, arch, work, hidden,
                                                           output), reps, literal=(4, 5))
    call_with_literals(forward_pass, (4, 5), BATCH, theta, arch, work, hidden, output)
    ns["cost + BP1"] = _median_ns(_cost_bp1, (BATCH, output, code, arch, work), reps,
                                  literal=(1, 2))
    ns["BP2 (product + f')"] = _median_ns(_bp2, (BATCH, theta, arch, work, hidden), reps,
                                          literal=(4,))
    bp4 = _median_ns(_weight_gradients, (BATCH, arch, work, G), reps)
    ns["BP4 rows + BP3 + step (fused)"] = _median_ns(
        _fused_step_layers, (BATCH, theta.copy(), v1, v2, G, hyper, options, arch, work),
        reps)
    n_steps = n_rows // BATCH
    whole = []
    whole_steps = lambda order, n: call_with_literals(  # noqa: E731
        _whole_steps, (3, 4, 5), X, Y, order, hidden, output, code, theta, v1, v2, G, hyper,
        options, arch, work, n)
    whole_steps(order, 2)
    for _ in range(3):
        order = rng.permutation(n_rows).astype(np.int64)
        t = time.perf_counter()
        whole_steps(order, n_steps)
        whole.append((time.perf_counter() - t) / n_steps * 1e9)
    step = float(np.median(whole))
    ns["bookkeeping"] = step - sum(ns.values())
    ns["whole step"] = step
    ns["(of the fused stage: BP4 rows alone)"] = bp4
    return ns, sizes


def flops(stage, sizes):
    pairs = list(zip(sizes[:-1], sizes[1:]))
    macs = sum(a * b for a, b in pairs)
    return 2 * BATCH * {"forward products": macs, "BP2 (product + f')": macs - pairs[0][0] * pairs[0][1],
                        "(of the fused stage: BP4 rows alone)": macs, "whole step": 3 * macs - pairs[0][0] * pairs[0][1]
                        }.get(stage, 0)


def main(argv=None):
    # The kernels are called directly here, outside fastbp's own warning scope.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="S,M")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--rows", type=int, default=60000, help="rows of the synthetic data set")
    parser.add_argument("--reps", type=int, default=2000, help="repetitions of each stage")
    args = parser.parse_args(argv)
    print(f"fastbp {fastbp.__version__}, numba {numba.__version__}, {platform.processor() or platform.machine()}, "
          f"NUMBA_CPU_NAME={numba.config.CPU_NAME or 'host'}, batch {BATCH}, {args.rows} rows")
    for config in args.configs.split(","):
        for dtype in args.dtypes.split(","):
            ns, sizes = profile(config, dtype, args.rows, args.reps)
            print(f"\n{config} {sizes} {dtype}")
            print(f"| stage | ns per step | GFLOP/s |\n|---|---|---|")
            for stage, v in ns.items():
                f = flops(stage, sizes)
                rate = f"{f / v:.1f}" if f and v > 0 else ""
                print(f"| {stage} | {v:,.0f} | {rate} |")


if __name__ == "__main__":
    main()
