"""fastbp.fast_math's vexp / vsigmoid vs math.exp in a jitted loop over 1e6 elements.

asv: ``TimeExp.time_exp`` per (function, dtype). Run directly
(``python -m benchmarks.bench_fast_math``) to print ns per element.
The loops are compiled with fastbp's jit_reduction options (reassoc,
contract), without the disk cache (it would not notice a change in the
inlined fast_math functions), and warmed in setup.
"""
import math
import time

import numba
import numpy as np

from fastbp._numba_options import REDUCTION_JIT_OPTIONS
from fastbp.fast_math import vexp, vsigmoid

_OPTIONS = dict(REDUCTION_JIT_OPTIONS, cache=False)
#: 1e6 elements (8 MB per float64 array: partly memory-bound) and 4096 (in
#: L1/L2, like one layer's rows in the kernels: compute-bound).
SIZES = [4096, 1_000_000]


@numba.njit(**_OPTIONS)
def _loop_vexp(x, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


@numba.njit(**_OPTIONS)
def _loop_math_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i])


@numba.njit(**_OPTIONS)
def _loop_vsigmoid(x, out):
    for i in range(x.shape[0]):
        out[i] = vsigmoid(x[i])


@numba.njit(**_OPTIONS)
def _loop_math_sigmoid(x, out):
    # the plain math.exp form (activations.activate_row uses vsigmoid)
    for i in range(x.shape[0]):
        out[i] = 1.0 / (1.0 + math.exp(-x[i]))


LOOPS = {"vexp": _loop_vexp, "math.exp": _loop_math_exp,
         "vsigmoid": _loop_vsigmoid, "math.exp sigmoid": _loop_math_sigmoid}


def _data(dtype, n):
    rng = np.random.default_rng(0)
    x = rng.uniform(-10.0, 10.0, n).astype(dtype)
    return x, np.empty_like(x)


class TimeExp:
    """One pass of ``out[i] = f(x[i])`` over n elements, x uniform in [-10, 10]."""

    params = [list(LOOPS), ["float32", "float64"], SIZES]
    param_names = ["function", "dtype", "n"]
    timeout = 300

    def setup(self, function, dtype, n):
        self.x, self.out = _data(dtype, n)
        self.loop = LOOPS[function]
        self.loop(self.x, self.out)  # JIT warm-up

    def time_exp(self, function, dtype, n):
        self.loop(self.x, self.out)


def main(repeats=30):
    """Print the best-of-``repeats`` ns per element of each loop."""
    for n in SIZES:
        for dtype in ("float32", "float64"):
            x, out = _data(dtype, n)
            inner = max(1, 1_000_000 // n)  # time about 1e6 elements per sample
            for name, loop in LOOPS.items():
                loop(x, out)
                best = math.inf
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    for _ in range(inner):
                        loop(x, out)
                    best = min(best, (time.perf_counter() - t0) / inner)
                print("n=%-8d %-8s %-17s %6.2f ns/element" % (n, dtype, name, best / n * 1e9))


if __name__ == "__main__":
    main()
