"""Networks pickle and deep-copy (needed by scikit-learn's clone, joblib and multiprocessing)."""
import copy
import math
import pickle

import numpy as np

import fastbp


def softplus(z):
    return math.log1p(math.exp(z))


def logistic(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_pickle_round_trip_keeps_outputs_and_is_independent():
    rng = np.random.default_rng(0)
    X = rng.random((6, 3))
    net = fastbp.Network([3, 5, 2], activation="tanh", output_activation="softmax",
                         cost="log_likelihood", dtype=np.float32, seed=1, input_scale=0.5)
    net.fit(X, [0, 1, 0, 1, 1, 0], 1, 2, 0.1, seed=0)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert other.dtype == np.float32 and other.input_scale == 0.5
        np.testing.assert_array_equal(other.feedforward(X), net.feedforward(X))
        assert other.history_ == net.history_
        other.weights[0][0, 0] += 1.0
        assert not np.array_equal(other.feedforward(X), net.feedforward(X))


def test_pickle_custom_activation_defined_at_module_level():
    act = fastbp.Activation("softplus", softplus, logistic)
    net = fastbp.Network([2, 3, 1], activation=act, output_activation="linear", seed=2)
    X = np.array([[0.1, -0.4], [1.0, 2.0]])
    other = pickle.loads(pickle.dumps(net))
    assert other.activations[0].name == "softplus"
    np.testing.assert_array_equal(other.feedforward(X), net.feedforward(X))
