"""One tiny network worked by hand: sizes [2, 2, 1], sigmoid, quadratic cost.

Every number below was worked out from the equations (docs/BACKPROP.md) with
sigma(z) = 1 / (1 + e^-z) and sigma'(z) = sigma(z) (1 - sigma(z)); the
assertions hold fastbp to them to 1e-9.

Parameters, input and target::

    W^1 = [[0.5, -0.5],      b^1 = [0.0, -0.5]
           [0.25, 1.0]]
    W^2 = [[1.0, -1.0]]      b^2 = [0.5]
    x   = [1.0, 2.0]         y   = [1.0]
"""
import numpy as np
import pytest

import fastbp

W1 = [[0.5, -0.5], [0.25, 1.0]]
B1 = [0.0, -0.5]
W2 = [[1.0, -1.0]]
B2 = [0.5]
X = np.array([[1.0, 2.0]])
Y = np.array([[1.0]])

# Forward pass.
# z^1 = W^1 x + b^1 = [0.5*1 - 0.5*2 + 0.0,  0.25*1 + 1.0*2 - 0.5] = [-0.5, 1.75]
Z1 = [-0.5, 1.75]
# a^1 = sigma(z^1) = [1/(1+e^0.5), 1/(1+e^-1.75)] = [1/2.6487213, 1/1.1737739]
A1 = [0.3775406688, 0.8519528020]
# z^2 = W^2 a^1 + b^2 = 0.3775406688 - 0.8519528020 + 0.5 = 0.0255878668
Z2 = [0.0255878668]
# a^2 = sigma(0.0255878668) = 0.5063966177
A2 = [0.5063966177]
# C = 1/2 (a^2 - y)^2 = 1/2 (-0.4936033823)^2 = 1/2 * 0.2436442990 = 0.1218221495
COST = 0.1218221495

# BP1: delta^2 = (a^2 - y) sigma'(z^2)
#      sigma'(z^2) = a^2 (1 - a^2) = 0.5063966177 * 0.4936033823 = 0.2499590833
#      delta^2 = -0.4936033823 * 0.2499590833 = -0.1233806489
DELTA2 = [-0.1233806489]
# BP2: delta^1 = (W^2)^T delta^2 (.) sigma'(z^1)
#      (W^2)^T delta^2 = [1.0 * -0.1233806489, -1.0 * -0.1233806489] = [-0.1233806489, 0.1233806489]
#      sigma'(z^1) = [0.3775406688 * 0.6224593312, 0.8519528020 * 0.1480471980]
#                  = [0.2350037122, 0.1261292252]
#      delta^1 = [-0.1233806489 * 0.2350037122, 0.1233806489 * 0.1261292252]
#              = [-0.0289949105, 0.0155619057]
DELTA1 = [-0.0289949105, 0.0155619057]

# BP3: dC/db^l = delta^l.
# BP4: dC/dW^l = delta^l (a^{l-1})^T, an outer product, no further factor:
#      dC/dW^2 = -0.1233806489 * [0.3775406688, 0.8519528020] = [[-0.0465812127, -0.1051144896]]
#      dC/dW^1 = [-0.0289949105, 0.0155619057]^T [1.0, 2.0]
#              = [[-0.0289949105, -0.0579898210],
#                 [ 0.0155619057,  0.0311238113]]
NABLA_W2 = [[-0.0465812127, -0.1051144896]]
NABLA_W1 = [[-0.0289949105, -0.0579898210], [0.0155619057, 0.0311238113]]

# One SGD step on this single example (m = 1), eta = 2.0: p <- p - 2.0 dC/dp.
#   W^2 <- [1.0 - 2(-0.0465812127), -1.0 - 2(-0.1051144896)] = [1.0931624254, -0.7897710208]
#   b^2 <- 0.5 - 2(-0.1233806489) = 0.7467612979
#   W^1 <- [[0.5 + 0.0579898210, -0.5 + 0.1159796421],   = [[0.5579898210, -0.3840203579],
#           [0.25 - 0.0311238113, 1.0 - 0.0622476226]]      [0.2188761887,  0.9377523774]]
#   b^1 <- [0.0 + 0.0579898210, -0.5 - 0.0311238113] = [0.0579898210, -0.5311238113]
STEP_W2 = [[1.0931624254, -0.7897710208]]
STEP_B2 = [0.7467612979]
STEP_W1 = [[0.5579898210, -0.3840203579], [0.2188761887, 0.9377523774]]
STEP_B1 = [0.0579898210, -0.5311238113]

# The same step with L2, lmbda = 0.1 and n = 1 (network2.py):
#   W <- (1 - eta lmbda / n) W - eta dC/dW = 0.8 W - 2 dC/dW; biases as before.
#   W^2 <- [0.8 + 0.0931624254, -0.8 + 0.2102289792] = [0.8931624254, -0.5897710208]
#   W^1 <- [[0.4 + 0.0579898210, -0.4 + 0.1159796421],   = [[0.4579898210, -0.2840203579],
#           [0.2 - 0.0311238113, 0.8 - 0.0622476226]]      [0.1688761887,  0.7377523774]]
L2_W2 = [[0.8931624254, -0.5897710208]]
L2_W1 = [[0.4579898210, -0.2840203579], [0.1688761887, 0.7377523774]]

HAND = 1e-9  # the numbers above carry 10 decimals


@pytest.fixture
def net():
    n = fastbp.Network([2, 2, 1], activation="sigmoid", cost="quadratic", seed=0)
    n.weights = [W1, W2]
    n.biases = [B1, B2]
    return n


def test_forward_pass_by_hand(net):
    tr = net.trace(X, Y)
    np.testing.assert_allclose(tr["z"][0][0], Z1, atol=HAND)
    np.testing.assert_allclose(tr["a"][1][0], A1, atol=HAND)
    np.testing.assert_allclose(tr["z"][1][0], Z2, atol=HAND)
    np.testing.assert_allclose(tr["a"][2][0], A2, atol=HAND)
    np.testing.assert_allclose(net.feedforward(X[0]), A2, atol=HAND)
    assert net.cost(X, Y) == pytest.approx(COST, abs=HAND)


def test_deltas_by_hand(net):
    tr = net.trace(X, Y)
    np.testing.assert_allclose(tr["delta"][1][0], DELTA2, atol=HAND)  # BP1
    np.testing.assert_allclose(tr["delta"][0][0], DELTA1, atol=HAND)  # BP2


def test_gradients_by_hand(net):
    nabla_b, nabla_w = net.gradients(X, Y)
    np.testing.assert_allclose(nabla_b[1], DELTA2, atol=HAND)  # BP3
    np.testing.assert_allclose(nabla_b[0], DELTA1, atol=HAND)
    np.testing.assert_allclose(nabla_w[1], NABLA_W2, atol=HAND)  # BP4
    np.testing.assert_allclose(nabla_w[0], NABLA_W1, atol=HAND)


def test_one_sgd_step_by_hand(net):
    net.fit(X, Y, epochs=1, batch_size=1, eta=2.0, shuffle=False)
    np.testing.assert_allclose(net.weights[1], STEP_W2, atol=HAND)
    np.testing.assert_allclose(net.biases[1], STEP_B2, atol=HAND)
    np.testing.assert_allclose(net.weights[0], STEP_W1, atol=HAND)
    np.testing.assert_allclose(net.biases[0], STEP_B1, atol=HAND)


def test_one_l2_step_by_hand(net):
    net.fit(X, Y, epochs=1, batch_size=1, eta=2.0, lmbda=0.1, shuffle=False)
    np.testing.assert_allclose(net.weights[1], L2_W2, atol=HAND)
    np.testing.assert_allclose(net.weights[0], L2_W1, atol=HAND)
    np.testing.assert_allclose(net.biases[1], STEP_B2, atol=HAND)  # biases unregularised
    np.testing.assert_allclose(net.biases[0], STEP_B1, atol=HAND)


def test_a_mini_batch_step_averages_the_examples(net):
    """Two copies of the example in one mini-batch: the mean gradient, so the same step."""
    net.fit(np.vstack([X, X]), np.vstack([Y, Y]), epochs=1, batch_size=2, eta=2.0, shuffle=False)
    np.testing.assert_allclose(net.weights[1], STEP_W2, atol=HAND)
    np.testing.assert_allclose(net.weights[0], STEP_W1, atol=HAND)
