"""Shared fixtures: small seeded random data, networks paired with the NumPy reference.

Every fixture draws from ``np.random.default_rng(seed)`` with an explicit seed;
nothing seeds NumPy's global state.
"""
import math
import os
import sys

import numpy as np
import pytest

# tests/reference.py is imported as ``reference`` by the test modules; make
# that work whatever pytest's import mode or the current directory.
_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import fastbp  # noqa: E402
from reference import ReferenceNetwork  # noqa: E402


@pytest.fixture(autouse=True)
def _kernel_specialisation(request, monkeypatch):
    """Compile the kernels for each network's codes only in tests marked ``slow`` or ``specialised``.

    A fit compiles its kernels for the network's activations and cost
    (fastbp._numba_options.SPECIALISE), so each combination compiles anew.
    The fast suite tries dozens of combinations; it runs them on the kernels
    compiled for any codes (FASTBP_SPECIALISE=0), and tests marked
    ``specialised`` (tests/test_specialised.py, the kernel tests) prove the
    specialised kernels bit-identical to those, per activation and cost. The
    slow suite, and every subprocess, runs the default.
    """
    from fastbp import _numba_options
    marked = (request.node.get_closest_marker("slow") is not None
              or request.node.get_closest_marker("specialised") is not None)
    monkeypatch.setattr(_numba_options, "SPECIALISE", marked)


def _softplus(z):
    return math.log1p(math.exp(z))


def _logistic(z):
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture(scope="session")
def softplus():
    """A custom activation, f(z) = ln(1 + e^z), f'(z) = 1 / (1 + e^{-z})."""
    return fastbp.Activation("softplus", _softplus, _logistic)


@pytest.fixture
def rng():
    """A fresh seeded generator for each test."""
    return np.random.default_rng(20240611)


def targets_for(cost, output_activation, n, n_out, rng, kind="onehot"):
    """Targets of shape (n, n_out) a network with this cost and output can fit.

    kind "onehot": one-hot rows of random classes; "soft": values in (0, 1)
    for sigmoid outputs, (-1, 1) for tanh, N(0, 1) for linear or custom
    outputs (quadratic cost); "labels": integer class labels of shape (n,).
    """
    labels = rng.integers(0, n_out, size=n)
    if kind == "labels":
        return labels
    if kind == "onehot" or cost == "log_likelihood":
        Y = np.zeros((n, n_out))
        Y[np.arange(n), labels] = 1.0
        return Y
    if cost == "cross_entropy" or output_activation in ("sigmoid", "relu"):
        return rng.uniform(0.05, 0.95, size=(n, n_out))
    if output_activation == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, n_out))
    return rng.standard_normal((n, n_out))


@pytest.fixture
def make_data():
    """Factory: ``make_data(n, sizes, cost="quadratic", output="sigmoid", kind="onehot", seed=0)``.

    Returns X of shape (n, sizes[0]), uniform in [-1, 1), and targets from
    :func:`targets_for`, all float64.
    """
    def make(n, sizes, cost="quadratic", output="sigmoid", kind="onehot", seed=0):
        r = np.random.default_rng(seed)
        X = r.uniform(-1.0, 1.0, size=(n, sizes[0]))
        return X, targets_for(cost, output, n, sizes[-1], r, kind)
    return make


@pytest.fixture
def small_data():
    """X of shape (13, 4) and one-hot Y of shape (13, 3): a [4, ..., 3] network's data."""
    r = np.random.default_rng(7)
    X = r.uniform(-1.0, 1.0, size=(13, 4))
    Y = np.zeros((13, 3))
    Y[np.arange(13), r.integers(0, 3, size=13)] = 1.0
    return X, Y


@pytest.fixture
def pair():
    """Factory: ``pair(sizes, activation, output_activation, cost, dtype, seed)`` -> (net, ref).

    A fastbp.Network and a ReferenceNetwork with the same (copied) parameters.
    """
    def make(sizes, activation="sigmoid", output_activation=None, cost="quadratic",
             dtype=np.float64, seed=0, init="default"):
        net = fastbp.Network(sizes, activation=activation, output_activation=output_activation,
                             cost=cost, dtype=dtype, init=init, seed=seed)
        return net, ReferenceNetwork.from_fastbp(net)
    return make
