"""Data and parameter helpers shared by the drop-in tests (network.py and network2.py)."""
import numpy as np

SIZES = [6, 5, 4, 3]
TOL = 1e-10


def make_data(n, seed, sizes=SIZES, labels=False):
    """A list of (x (n_in, 1), y) tuples: y one-hot (n_out, 1), or an int label."""
    r = np.random.default_rng(seed)
    data = []
    for _ in range(n):
        x = r.uniform(-1.0, 1.0, size=(sizes[0], 1))
        k = int(r.integers(0, sizes[-1]))
        if labels:
            data.append((x, k))
        else:
            y = np.zeros((sizes[-1], 1))
            y[k] = 1.0
            data.append((x, y))
    return data


def copy_params(net):
    return [W.copy() for W in net.weights], [b.copy() for b in net.biases]


def assert_params_close(net, weights, biases, tol=TOL):
    assert len(net.weights) == len(weights)
    for W, Wr in zip(net.weights, weights):
        np.testing.assert_allclose(W, Wr, rtol=0, atol=tol)
    for b, br in zip(net.biases, biases):
        np.testing.assert_allclose(b, br, rtol=0, atol=tol)
