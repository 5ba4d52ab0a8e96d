"""The pieces of one mini-batch step: forward pass, delta recursion, weight gradients.

Through the public API (``Network.feedforward``, ``Network.gradients``) and
through the kernels of fastbp/backprop.py directly, on a chunk of 10 rows
(the mini-batch of configs S and M) or 1024 rows (config L's).
"""
import numpy as np

from fastbp import backprop
from fastbp._numba_options import literal_signature
from fastbp.engine import kernel_view

from .common import CONFIGS, DTYPES, Benchmark, kernel_state, make_network, synthetic

ROWS = [10, 1024]


class _Chunk(Benchmark):
    params = [list(CONFIGS), DTYPES, ROWS]
    param_names = ["config", "dtype", "rows"]

    def setup(self, config, dtype, rows):
        self.net = make_network(config, dtype, seed=0)
        self.X, _, self.Y = synthetic(rows, dtype)


class TimeFeedforward(_Chunk):
    """``net.feedforward(X)``: validation, then the forward pass of every layer."""

    def setup(self, config, dtype, rows):
        super().setup(config, dtype, rows)
        self.net.feedforward(self.X)  # JIT warm-up

    def time_feedforward(self, config, dtype, rows):
        self.net.feedforward(self.X)


class TimeGradients(_Chunk):
    """``net.gradients(X, Y)``: forward pass, BP1, BP2 (delta recursion), BP3 and BP4."""

    def setup(self, config, dtype, rows):
        super().setup(config, dtype, rows)
        self.net.gradients(self.X, self.Y)  # JIT warm-up

    def time_gradients(self, config, dtype, rows):
        self.net.gradients(self.X, self.Y)


class _Kernel(_Chunk):
    """The kernels alone, on a ``fastbp.layout.workspace`` (no validation, no allocation).

    These use fastbp's internal kernel signatures; if those change the
    benchmarks are skipped (see common.kernel_state), and the public-API
    ones above still measure the same work.
    """

    def setup(self, config, dtype, rows):
        super().setup(config, dtype, rows)
        # Fills the buffers and warms every kernel timed below.
        self.work, self.G = kernel_state(self.net, self.X, self.Y)
        self.rows = rows
        kv = kernel_view(self.net)
        self.theta = kv.theta
        self.arch = kv.arch
        hidden, output, _ = kv.kinds
        # As a fit runs them: compiled for the network's activations (literal codes).
        self.forward_pass = backprop.forward_pass.compile(literal_signature(
            (rows, self.theta, self.arch, self.work, hidden, output), (4, 5)))
        self.backward_pass = backprop.backward_pass.compile(literal_signature(
            (rows, self.theta, self.arch, self.work, hidden), (4,)))
        self.hidden, self.output = hidden, output


class TimeForwardPass(_Kernel):
    """backprop.forward_pass: Z^l = A^{l-1} W^T + b, A^l = f(Z^l) for every layer."""

    def time_forward_pass(self, config, dtype, rows):
        self.forward_pass(self.rows, self.theta, self.arch, self.work, self.hidden, self.output)


class TimeBackwardPass(_Kernel):
    """backprop.backward_pass: the delta recursion BP2 from the output layer down."""

    def time_backward_pass(self, config, dtype, rows):
        self.backward_pass(self.rows, self.theta, self.arch, self.work, self.hidden)


class TimeAccumulateGradients(_Kernel):
    """backprop.accumulate_gradients: BP4 (Delta^T A products) and BP3 (column sums)."""

    def time_accumulate_gradients(self, config, dtype, rows):
        backprop.accumulate_gradients(self.rows, False, self.arch, self.work, self.G)
