"""The kernels compiled for a network's codes equal the kernels compiled for any codes, bit for bit.

fastbp compiles a fit's kernels for the network's hidden and output
activations and its cost (fastbp._numba_options.call_with_literals), so
only their branches are compiled; a network whose hidden layers differ, or
FASTBP_SPECIALISE=0, runs the kernels that read the codes at run time. Both
come from the same source lines. Here every activation (built-in and
custom) and every cost is run both ways through fit, predict, gradients and
trace, and the results must be identical.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastbp
from fastbp import _numba_options
from fastbp.activations import MIXED
from fastbp.engine import kernel_view

pytestmark = [pytest.mark.specialised,
              pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")]

# (hidden activation(s), output activation, cost): each hidden code, each
# output activation and each cost at least once, "softplus" the custom one.
COMBINATIONS = [
    ("sigmoid", "sigmoid", "quadratic"),
    ("tanh", "sigmoid", "cross_entropy"),
    ("relu", "softmax", "log_likelihood"),
    ("linear", "linear", "quadratic"),
    ("softplus", "tanh", "quadratic"),
    (("tanh", "relu"), "relu", "quadratic"),
    ("sigmoid", "softplus", "quadratic"),
]


def network(hidden, output, cost, softplus, dtype="float64"):
    custom = lambda name: softplus if name == "softplus" else name  # noqa: E731
    hidden = hidden if isinstance(hidden, tuple) else (hidden, hidden)
    return fastbp.Network([5, 6, 6, 3], activation=[custom(h) for h in hidden] + [custom(output)],
                          cost=cost, dtype=dtype, seed=4)


def data(cost, output, n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    if cost != "quadratic" or output in ("sigmoid", "softmax"):
        return X, rng.integers(0, 3, n)  # labels: one-hot targets
    return X, rng.uniform(0.1, 0.9, size=(n, 3))


def everything(net, X, Y, **fit_options):
    """What a user computes: a fit's parameters and history, then predict, gradients and trace."""
    history = net.fit(X, Y, epochs=2, eta=0.05, seed=1, **fit_options)
    nabla_b, nabla_w = net.gradients(X[:7], Y[:7])
    trace = net.trace(X[:4], Y[:4])
    return ([net.get_parameters(), np.array(history["train_cost"]), net.feedforward(X)]
            + nabla_b + nabla_w + trace["z"] + trace["a"] + trace["delta"])


def run_both_ways(monkeypatch, make, X, Y, **fit_options):
    results = []
    for specialise in (True, False):
        monkeypatch.setattr(_numba_options, "SPECIALISE", specialise)
        results.append(everything(make(), X, Y, **fit_options))
    for a, b in zip(*results):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("hidden,output,cost", COMBINATIONS,
                         ids=["-".join(map(str, c)).replace("'", "") for c in COMBINATIONS])
def test_small_batch_fit_predict_gradients_trace_match(monkeypatch, softplus, hidden, output, cost):
    X, Y = data(cost, output)
    run_both_ways(monkeypatch, lambda: network(hidden, output, cost, softplus), X, Y,
                  batch_size=4)


@pytest.mark.parametrize("fit_options", [dict(batch_size=40, momentum=0.9),
                                         dict(batch_size=40, chunk_size=16, optimizer="adam"),
                                         dict(batch_size=4, dtype="float32")],
                         ids=["one-chunk-driver", "chunked-driver", "float32"])
def test_other_drivers_and_float32_match(monkeypatch, softplus, fit_options):
    options = dict(fit_options)
    dtype = options.pop("dtype", "float64")
    X, Y = data("log_likelihood", "softmax", n=90)
    run_both_ways(monkeypatch, lambda: network("relu", "softmax", "log_likelihood", softplus,
                                               dtype), X, Y, **options)


def test_kinds_of_a_network(softplus):
    """kernel_view(net).kinds: the shared hidden code (MIXED when they differ), the output's, the cost's."""
    from fastbp.activations import CUSTOM, RELU, SIGMOID, SOFTMAX, TANH
    from fastbp.costs import LOG_LIKELIHOOD, QUADRATIC
    assert kernel_view(network("relu", "softmax", "log_likelihood", softplus)).kinds == (
        RELU, SOFTMAX, LOG_LIKELIHOOD)
    assert kernel_view(network(("tanh", "relu"), "softplus", "quadratic", softplus)).kinds == (
        MIXED, CUSTOM, QUADRATIC)
    assert kernel_view(network(("tanh", "tanh"), "sigmoid", "quadratic", softplus)).kinds == (
        TANH, SIGMOID, QUADRATIC)


@pytest.mark.parametrize("value,expected", [("0", False), ("1", True), (None, True)])
def test_environment_switch(value, expected):
    """FASTBP_SPECIALISE=0 turns specialisation off when fastbp is imported."""
    env = {k: v for k, v in os.environ.items() if k != "FASTBP_SPECIALISE"}
    if value is not None:
        env["FASTBP_SPECIALISE"] = value
    out = subprocess.run([sys.executable, "-c", "import fastbp._numba_options as o; "
                          "print(o.SPECIALISE)"], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(expected)
