"""Where one large mini-batch step spends its time: each stage of a config-L step timed alone.

A plain measuring script (asv finds no benchmark here). From the repository root::

    python -m benchmarks.profile_large_step [--dtypes float32,float64] [--batch 1024] [--reps 20]

One step of config L ([784, 1024, 1024, 10], sigmoid, cross-entropy) on a
mini-batch of ``--batch`` synthetic rows, split into the stages the
chunked step runs (backprop.gradient_sums, then optimizers.apply_update):
gathering the rows, the forward products, bias + activation, cost + BP1, the
BP2 products, the Hadamard products with f', the BP4 products and the update.
Each stage is timed alone, ``--reps`` times after one warm-up call, with the
BLAS threads the environment gives (OPENBLAS_NUM_THREADS). The shares say
which stages are worth work; the milliseconds depend on the machine's load.
"""
import argparse
import time

import numpy as np

import fastbp
from fastbp import activations, backprop, costs, optimizers
from fastbp._numba_options import call_with_literals
from fastbp.blas import gemm_nn, gemm_nt, gemm_tn
from fastbp.engine import kernel_view
from fastbp.layout import layer_biases, layer_rows, layer_weights, workspace

SIZES = [784, 1024, 1024, 10]


def timed(call, reps):
    """Seconds per call, after one warm-up call."""
    call()
    t0 = time.perf_counter()
    for _ in range(reps):
        call()
    return (time.perf_counter() - t0) / reps


def profile(dtype, batch, reps):
    """{stage: seconds} for one step of config L on ``batch`` rows."""
    rng = np.random.default_rng(0)
    X = rng.random((batch, SIZES[0])).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], batch)]
    net = fastbp.Network(SIZES, cost="cross_entropy", dtype=dtype, seed=0)
    kv = kernel_view(net)
    work = workspace(SIZES, dtype, batch)
    index = np.arange(batch, dtype=np.int64)
    L = len(SIZES) - 1
    A = [work[0]] + [layer_rows(work[3], kv.layout, l, batch, batch) for l in range(L)]
    Z = [layer_rows(work[2], kv.layout, l, batch, batch) for l in range(L)]
    D = [layer_rows(work[4], kv.layout, l, batch, batch) for l in range(L)]
    W = [layer_weights(kv.theta, kv.layout, l) for l in range(L)]
    b = [layer_biases(kv.theta, kv.layout, l) for l in range(L)]
    codes, functions = kv.arch[1], kv.arch[2]
    G = np.empty_like(kv.theta)
    backprop.gather_rows(X, Y, index, 0, batch, kv.x_scale, work)
    hidden, output, cost = kv.kinds
    call_with_literals(backprop.forward_pass, (4, 5), batch, kv.theta, kv.arch, work, hidden,
                       output)
    call_with_literals(costs.output_delta, (1, 2), batch, output, cost, kv.arch, work)
    state = optimizers.OptimizerState(optimizers.SGD(), kv.theta)
    state.use(optimizers.SGD(), optimizers.Regularization())
    theta, zero_gradient = kv.theta.copy(), np.zeros_like(kv.theta)
    return {
        "gather rows": timed(lambda: backprop.gather_rows(X, Y, index, 0, batch, kv.x_scale,
                                                          work), reps),
        "forward products": sum(timed(lambda l=l: gemm_nt(1.0, A[l], W[l], 0.0, Z[l]), reps)
                                for l in range(L)),
        "bias + activation": sum(timed(lambda l=l: activations.add_bias_and_activate(
            Z[l], b[l], A[l + 1], codes[l], functions[l, 0]), reps) for l in range(L)),
        "cost + BP1": timed(lambda: (
            call_with_literals(costs.chunk_cost, (1,), batch, cost, kv.arch, work),
            call_with_literals(costs.output_delta, (1, 2), batch, output, cost, kv.arch, work)),
            reps),
        "BP2 products": sum(timed(lambda l=l: gemm_nn(1.0, D[l], W[l], 0.0, D[l - 1]), reps)
                            for l in range(1, L)),
        "f' (Hadamard)": sum(timed(lambda l=l: activations.multiply_by_fprime(
            D[l], Z[l], A[l + 1], codes[l], functions[l, 1]), reps) for l in range(L - 1)),
        "BP4 products": sum(timed(lambda l=l: gemm_tn(1.0, D[l], A[l][:batch], 0.0,
                                                      layer_weights(G, kv.layout, l)), reps)
                            for l in range(L)),
        "update": timed(lambda: optimizers.apply_update(theta, zero_gradient, state.v1, state.v2,
                                                        kv.layout, 1.0 / batch, 0.0,
                                                        state.hyper, state.options), reps),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args(argv)
    for name in args.dtypes.split(","):
        stages = profile(np.dtype(name), args.batch, args.reps)
        total = sum(stages.values())
        print(f"\nconfig L {SIZES} {name}, batch {args.batch}: {total * 1e3:.1f} ms a step")
        print("| stage | ms | share |\n|---|---|---|")
        for stage, seconds in stages.items():
            print(f"| {stage} | {seconds * 1e3:.2f} | {100 * seconds / total:.1f}% |")


if __name__ == "__main__":
    main()
