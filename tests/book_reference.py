"""The book's algorithm, one example at a time, in plain NumPy: the reference for the drop-ins.

Written from the equations (docs/BACKPROP.md), in Nielsen's notation: column
vectors, weights[l] of shape (n_out, n_in), biases[l] of shape (n_out, 1),
sigmoid neurons. Deliberately slow and literal, so that it is easy to check
by eye; fastbp.network and fastbp.network2 must agree with it.

Per example x with desired output y::

    z^l = W^l a^{l-1} + b^l,  a^l = sigmoid(z^l)          (a^0 = x)
    delta^L = (a^L - y) * sigmoid'(z^L)   quadratic cost
    delta^L =  a^L - y                    cross-entropy cost
    delta^l = (W^{l+1})^T delta^{l+1} * sigmoid'(z^l)
    dC/db^l = delta^l,  dC/dW^l = delta^l (a^{l-1})^T

Step on a mini-batch of m examples out of n::

    W <- (1 - eta lmbda / n) W - (eta / m) sum_x dC_x/dW
    b <- b - (eta / m) sum_x dC_x/db
"""
import contextlib
import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def init_parameters(sizes, scale):
    """The book's initialisers, drawing from the global np.random in its order.

    scale "large": W, b ~ N(0, 1); "default": W ~ N(0, 1 / n_in), b ~ N(0, 1).
    All biases are drawn first (layer by layer), then all weights.
    """
    biases = []
    for n_out in sizes[1:]:
        biases.append(np.random.randn(n_out, 1))
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = np.random.randn(n_out, n_in)
        if scale == "default":
            W = W / np.sqrt(n_in)
        weights.append(W)
    return weights, biases


def feedforward(weights, biases, a):
    for W, b in zip(weights, biases):
        a = sigmoid(W @ a + b)
    return a


def backprop(weights, biases, x, y, cost="quadratic"):
    """(nabla_b, nabla_w): the gradient of C_x for the one example (x, y)."""
    activations = [x]
    zs = []
    for W, b in zip(weights, biases):
        z = W @ activations[-1] + b
        zs.append(z)
        activations.append(sigmoid(z))
    L = len(weights)
    nabla_b = [None] * L
    nabla_w = [None] * L
    if cost == "quadratic":
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    elif cost == "cross_entropy":
        delta = activations[-1] - y
    else:
        raise ValueError(cost)
    for l in range(L - 1, -1, -1):
        if l < L - 1:
            delta = (weights[l + 1].T @ delta) * sigmoid_prime(zs[l])
        nabla_b[l] = delta
        nabla_w[l] = delta @ activations[l].T  # the outer product delta^l (a^{l-1})^T
    return nabla_b, nabla_w


def update_mini_batch(weights, biases, mini_batch, eta, cost="quadratic", lmbda=0.0, n=1):
    """New (weights, biases) after one step on the list of (x, y) tuples ``mini_batch``."""
    sum_b = [np.zeros_like(b) for b in biases]
    sum_w = [np.zeros_like(W) for W in weights]
    for x, y in mini_batch:
        nabla_b, nabla_w = backprop(weights, biases, x, y, cost)
        for l in range(len(weights)):
            sum_b[l] = sum_b[l] + nabla_b[l]
            sum_w[l] = sum_w[l] + nabla_w[l]
    m = len(mini_batch)
    new_w = [(1.0 - eta * lmbda / n) * W - (eta / m) * gw for W, gw in zip(weights, sum_w)]
    new_b = [b - (eta / m) * gb for b, gb in zip(biases, sum_b)]
    return new_w, new_b


def sgd(weights, biases, training_data, epochs, mini_batch_size, eta, cost="quadratic",
        lmbda=0.0, after_epoch=None, shuffle=random.shuffle):
    """The book's SGD loop: each epoch shuffle ``training_data`` in place, then step per slice.

    ``after_epoch(j, weights, biases)`` is called after each epoch. Returns the
    final (weights, biases).
    """
    n = len(training_data)
    for j in range(epochs):
        shuffle(training_data)
        for k in range(0, n, mini_batch_size):
            weights, biases = update_mini_batch(weights, biases, training_data[k:k + mini_batch_size],
                                                eta, cost, lmbda, n)
        if after_epoch is not None:
            after_epoch(j, weights, biases)
    return weights, biases


def evaluate(weights, biases, test_data):
    """Number of (x, label) pairs whose largest output is the label."""
    return sum(int(np.argmax(feedforward(weights, biases, x)) == y) for x, y in test_data)


def cost_of(a, y, cost):
    if cost == "quadratic":
        return 0.5 * float(np.sum((a - y) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))))


def total_cost(weights, biases, data, lmbda, cost, n_classes=10):
    """Mean cost over (x, y) pairs (y a vector, or an int label made one-hot) + the L2 term."""
    total = 0.0
    for x, y in data:
        if np.ndim(y) == 0:
            onehot = np.zeros((n_classes, 1))
            onehot[int(y)] = 1.0
            y = onehot
        total += cost_of(feedforward(weights, biases, x), y, cost)
    penalty = 0.5 * lmbda / len(data) * sum(float(np.sum(W * W)) for W in weights)
    return total / len(data) + penalty


@contextlib.contextmanager
def global_random_state(seed):
    """Seed ``random`` and ``np.random`` (what the book's scripts use), restore them after.

    The book's code draws from these global generators, so testing that the
    drop-ins draw the same numbers needs them; the previous states come back
    on exit, so no other test sees the seeding.
    """
    saved_random, saved_np = random.getstate(), np.random.get_state()
    try:
        random.seed(seed)
        np.random.set_state(np.random.RandomState(seed).get_state())
        yield
    finally:
        random.setstate(saved_random)
        np.random.set_state(saved_np)


def random_states_equal(state_a, state_b):
    """True if two (random.getstate(), np.random.get_state()) pairs are the same."""
    (ra, na), (rb, nb) = state_a, state_b
    return (ra == rb and na[0] == nb[0] and np.array_equal(na[1], nb[1])
            and tuple(na[2:]) == tuple(nb[2:]))


def random_states():
    return random.getstate(), np.random.get_state()
