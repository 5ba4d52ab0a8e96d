"""Costs: the name-keyed table, with the output delta (BP1) each one implies.

Per example, with output activations a = a^L and target y:

- ``quadratic``: C = 1/2 ||a - y||^2, delta^L = (a - y) (.) f'(z^L); any
  element-wise output activation.
- ``cross_entropy``: C = -sum[y ln a + (1 - y) ln(1 - a)], sigmoid output,
  delta^L = a - y (f' cancels).
- ``log_likelihood``: C = -sum y ln a (= -ln a_y for one-hot y), softmax
  output, delta^L = a - y.

The kernels compute cross-entropy and log-likelihood from z^L (log-sigmoid,
log-softmax), so saturated outputs give finite costs.
"""
import math

import numpy as np
from numba.extending import overload

from ._numba_options import OVERLOAD_JIT_OPTIONS, jit, jit_inline
from .activations import literal_code, multiply_by_layer_fprime
from .layout import layer_block

QUADRATIC = 0
CROSS_ENTROPY = 1
LOG_LIKELIHOOD = 2


class Cost:
    """A built-in cost: its name, kernel code, the output activation it needs and its targets' range."""

    def __init__(self, name, code, required_output, target_range=None):
        self.name = name
        self.code = code
        self.required_output = required_output
        self.target_range = target_range  # (low, high) every target value must lie in, or None

    def check_targets(self, Y, name="Y"):
        """ValueError when a target lies outside the cost's range (cross-entropy: [0, 1], ...)."""
        if self.target_range is None or Y.size == 0:
            return Y
        low, high = self.target_range
        if not (Y.min() >= low and Y.max() <= high):
            bound = f"[{low}, {high}]" if high != math.inf else f">= {low}"
            raise ValueError(f"{name}: the {self.name} cost needs targets {bound} (probabilities); "
                             f"found values in [{Y.min():g}, {Y.max():g}]")
        return Y

    def __repr__(self):
        return f"<cost {self.name!r}>"


#: The costs, by name. ``required_output`` is the output activation the cost
#: is defined with (None: any element-wise activation).
COSTS = {
    "quadratic": Cost("quadratic", QUADRATIC, None),
    "cross_entropy": Cost("cross_entropy", CROSS_ENTROPY, "sigmoid", (0.0, 1.0)),
    "log_likelihood": Cost("log_likelihood", LOG_LIKELIHOOD, "softmax", (0.0, math.inf)),
}
COST_ALIASES = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy",
                "log_loss": "log_likelihood", "mse": "quadratic"}


def get_cost(spec):
    """Return the Cost that ``spec`` names (a name or a Cost)."""
    if isinstance(spec, Cost):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"cost: expected a cost name (str), found {type(spec).__name__}")
    key = COST_ALIASES.get(spec, spec)
    if key not in COSTS:
        raise ValueError(f"cost: unknown cost {spec!r}; expected one of {sorted(COSTS)}")
    return COSTS[key]


# ------------------------------------------------- the compiled cost and BP1, by code
@jit_inline
def output_blocks(rows, arch, work):
    """(Z^L, A^L, Delta^L) of the chunk's first ``rows`` rows: views into work's buffers."""
    layout = arch[0]
    cmax = work[0].shape[0]
    last = layout.shape[0] - 1
    return (layer_block(work[2], layout, last, rows, cmax),
            layer_block(work[3], layout, last, rows, cmax),
            layer_block(work[4], layout, last, rows, cmax))


@jit
def chunk_cost(rows, cost, arch, work):
    """Sum over the chunk's rows of the per-example cost C_x (from Z^L, A^L and the targets Y0)."""
    Z, A, _ = output_blocks(rows, arch, work)
    return cost_sum(cost, rows, Z, A, work[1])


def cost_sum(cost, rows, Z, A, Y0):
    """Sum of C_x over the first ``rows`` rows (jitted code only); a literal ``cost`` compiles that cost only."""


@overload(cost_sum, prefer_literal=True, jit_options=OVERLOAD_JIT_OPTIONS)
def _cost_sum_overload(cost, rows, Z, A, Y0):
    code = literal_code(cost)
    if code is not None:
        def impl(cost, rows, Z, A, Y0):
            return cost_sum_by_code(code, rows, Z, A, Y0)
    else:
        def impl(cost, rows, Z, A, Y0):
            return cost_sum_by_code(cost, rows, Z, A, Y0)
    return impl


@jit_inline
def cost_sum_by_code(cost, rows, Z, A, Y0):
    """:func:`cost_sum` for the cost of code ``cost`` (its other branches are pruned when it is a constant)."""
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
def output_delta(rows, output, cost, arch, work):
    """BP1: Delta^L from A^L, Y0 and the cost, into the last layer's Delta block.

    ``output`` is the output layer's activation code (activations.MIXED: read it from arch).
    """
    layout, codes, functions = arch
    Z, A, D = output_blocks(rows, arch, work)
    Y0 = work[1]
    last = layout.shape[0] - 1
    for i in range(rows):
        for j in range(D.shape[1]):
            D[i, j] = A[i, j] - Y0[i, j]
    if cost == QUADRATIC:
        multiply_by_layer_fprime(D, Z, A, output, codes, functions, last)
