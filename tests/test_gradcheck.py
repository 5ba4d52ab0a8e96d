"""Central-difference gradient checks: the arbiter of BP1-BP4 for every activation x cost.

Two independent checks for each allowed combination:

1. ``fastbp.gradcheck``: the library's own central differences of ``net.cost``
   against ``net.gradients``;
2. central differences computed here on the NumPy reference's cost, against
   both the reference's backprop and ``net.gradients``.

Combinations the library must refuse (softmax without log-likelihood,
cross-entropy without a sigmoid output, ...) raise ValueError.
"""
import decimal
import math

import numpy as np
import pytest

import fastbp
from reference import ReferenceNetwork

HIDDEN = ["sigmoid", "tanh", "relu", "linear", "softplus"]
OUTPUTS = ["sigmoid", "tanh", "relu", "linear", "softplus", "softmax"]
COSTS = ["quadratic", "cross_entropy", "log_likelihood"]


def allowed(output, cost):
    """The output activation each cost accepts (docs/BACKPROP.md, README)."""
    if cost == "quadratic":
        return output != "softmax"  # softmax's Jacobian is not diagonal
    if cost == "cross_entropy":
        return output == "sigmoid"
    return output == "softmax"  # log_likelihood


VALID = [(o, c) for o in OUTPUTS for c in COSTS if allowed(o, c)]
INVALID = [(o, c) for o in OUTPUTS for c in COSTS if not allowed(o, c)]


def resolve(name, softplus):
    return softplus if name == "softplus" else name


def targets(cost, output, n, n_out, rng):
    """One-hot rows for softmax/cross-entropy, values in the output's range otherwise."""
    if cost != "quadratic":
        Y = np.zeros((n, n_out))
        Y[np.arange(n), rng.integers(0, n_out, size=n)] = 1.0
        return Y
    if output in ("sigmoid", "relu", "softplus"):
        return rng.uniform(0.05, 0.95, size=(n, n_out))
    if output == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, n_out))
    return rng.standard_normal((n, n_out))


def inputs_away_from_kinks(ref, n, rng, margin=1e-3):
    """n input rows whose z^l stay at least ``margin`` from relu's kink at 0.

    A central difference across the kink of max(z, 0) is not a derivative; a
    step of 1e-6 in one weight moves z by at most ~1e-6, far below the margin.
    """
    relu_layers = [l for l, spec in enumerate(ref.activation_specs) if spec == "relu"]
    rows = []
    while len(rows) < n:
        x = rng.uniform(-1.0, 1.0, size=ref.sizes[0])
        zs, _ = ref.forward(x)
        if all(np.min(np.abs(zs[l])) > margin for l in relu_layers):
            rows.append(x)
    return np.array(rows)


def reference_numeric_gradient(ref, X, Y, h=1e-6):
    """Central differences (C(p + h) - C(p - h)) / 2h of the reference's mean cost, flat."""
    params = [(ref.weights, l) for l in range(ref.L)] + [(ref.biases, l) for l in range(ref.L)]
    numeric = {}
    for plist, l in params:
        P = plist[l]
        grad = np.empty_like(P)
        for idx in np.ndindex(P.shape):
            saved = P[idx]
            P[idx] = saved + h
            plus = ref.total_cost(X, Y)
            P[idx] = saved - h
            minus = ref.total_cost(X, Y)
            P[idx] = saved
            grad[idx] = (plus - minus) / (2 * h)
        numeric[(plist is ref.weights, l)] = grad
    return ([numeric[(False, l)].ravel() for l in range(ref.L)],
            [numeric[(True, l)] for l in range(ref.L)])


# fastbp.gradcheck reports the worst layer-wise ||analytic - numeric|| /
# max(||analytic|| + ||numeric||, floor). The numeric derivatives carry an
# absolute rounding error of about 1e-16 C / eps = 1e-10 (eps = 1e-6) and a
# truncation error of about eps^2 |C'''| / 6 = 1e-13; measured against gradients
# of norm ~1e-2 or more, right gradients give ~1e-8 and we allow 1e-6. A wrong
# gradient gives 1e-2 (a derivative 2% off) to O(1) (see the tests below). The
# element-wise checks below, with an absolute floor, are the sharper ones.
FLOAT64_GRADCHECK_TOL = 1e-6


def check_all(net, X, Y, fastbp_tol=FLOAT64_GRADCHECK_TOL):
    """Both gradient checks on one float64 network."""
    assert fastbp.gradcheck(net, X, Y) < fastbp_tol
    ref = ReferenceNetwork.from_fastbp(net)
    num_b, num_w = reference_numeric_gradient(ref, X, Y)
    ref_b, ref_w = ref.gradients(X, Y)
    net_b, net_w = net.gradients(X, Y)
    for l in range(ref.L):
        # The reference's backprop against its own cost's central differences
        # (truncation ~h^2 = 1e-12, rounding ~1e-16 / h = 1e-10) ...
        np.testing.assert_allclose(ref_b[l], num_b[l], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ref_w[l], num_w[l], rtol=1e-6, atol=1e-8)
        # ... and fastbp's gradients against them, and against the reference exactly.
        np.testing.assert_allclose(net_b[l], num_b[l], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(net_w[l], num_w[l], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(net_b[l], ref_b[l], rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(net_w[l], ref_w[l], rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("output,cost", VALID)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_cost_combination(hidden, output, cost, softplus):
    rng = np.random.default_rng([HIDDEN.index(hidden), OUTPUTS.index(output), COSTS.index(cost)])
    net = fastbp.Network([3, 4, 3], activation=resolve(hidden, softplus),
                         output_activation=resolve(output, softplus), cost=cost, seed=1)
    ref = ReferenceNetwork.from_fastbp(net)
    X = inputs_away_from_kinks(ref, 6, rng)
    check_all(net, X, targets(cost, output, 6, 3, rng))


@pytest.mark.parametrize("output,cost", INVALID)
def test_invalid_output_cost_combinations_raise(output, cost, softplus):
    with pytest.raises(ValueError, match="cost|softmax"):
        fastbp.Network([3, 4, 3], output_activation=resolve(output, softplus), cost=cost)


@pytest.mark.parametrize("cost", COSTS)
def test_softmax_in_a_hidden_layer_raises(cost):
    with pytest.raises(ValueError, match="softmax"):
        fastbp.Network([3, 4, 3], activation=["softmax", "softmax"], cost=cost)


def test_custom_activation_named_like_a_builtin_is_not_taken_for_it():
    fake = fastbp.Activation("sigmoid", lambda z: math.tanh(z), lambda z: 1.0 - math.tanh(z) ** 2)
    with pytest.raises(ValueError):
        fastbp.Network([3, 4, 2], output_activation=fake, cost="cross_entropy")


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("hidden,output,cost", [
    ("tanh", "sigmoid", "cross_entropy"),
    ("relu", "softmax", "log_likelihood"),
    ("softplus", "linear", "quadratic"),
])
def test_depths_one_to_four_hidden_layers(depth, hidden, output, cost, softplus):
    rng = np.random.default_rng(100 + depth)
    sizes = [3] + [5 - (k % 2) for k in range(depth)] + [3]
    net = fastbp.Network(sizes, activation=resolve(hidden, softplus), output_activation=output,
                         cost=cost, seed=depth)
    ref = ReferenceNetwork.from_fastbp(net)
    X = inputs_away_from_kinks(ref, 5, rng)
    check_all(net, X, targets(cost, output, 5, 3, rng))


def test_all_linear_network():
    """f(z) = z everywhere: delta^L = a - y (quadratic), delta^l = (W^{l+1})^T delta^{l+1}."""
    rng = np.random.default_rng(3)
    net = fastbp.Network([4, 3, 5, 2], activation="linear", seed=4)
    X = rng.standard_normal((7, 4))
    Y = rng.standard_normal((7, 2))
    check_all(net, X, Y)
    tr = net.trace(X, Y)
    np.testing.assert_allclose(tr["delta"][2], tr["a"][3] - Y, rtol=1e-13)
    np.testing.assert_allclose(tr["delta"][1], tr["delta"][2] @ net.weights[2], rtol=1e-12)
    np.testing.assert_allclose(tr["delta"][0], tr["delta"][1] @ net.weights[1], rtol=1e-12)


def test_integer_labels_gradcheck():
    rng = np.random.default_rng(8)
    net = fastbp.Network([5, 6, 4], activation="tanh", output_activation="softmax",
                         cost="log_likelihood", seed=2)
    X = rng.uniform(-1, 1, size=(9, 5))
    y = rng.integers(0, 4, size=9)
    assert fastbp.gradcheck(net, X, y) < 1e-6
    assert fastbp.gradcheck(net, X, y, max_parameters=10, seed=1) < 1e-6


def test_gradcheck_detects_a_wrong_gradient(monkeypatch):
    """The check can fail: doubling one layer's analytic gradient is caught."""
    rng = np.random.default_rng(9)
    net = fastbp.Network([3, 4, 2], seed=0)
    X, Y = rng.uniform(-1, 1, size=(5, 3)), rng.uniform(0, 1, size=(5, 2))
    assert fastbp.gradcheck(net, X, Y) < 1e-6
    true_gradients = fastbp.Network.gradients

    def doubled(self, X, Y, chunk_size=None):
        nb, nw = true_gradients(self, X, Y, chunk_size)
        nw[0] = 2 * nw[0]
        return nb, nw

    monkeypatch.setattr(fastbp.Network, "gradients", doubled)
    assert fastbp.gradcheck(net, X, Y) > 0.1


# Float32: the forward pass runs in float32 (unit roundoff u = 6e-8) and
# gradcheck's step is eps = 1e-2, so each numeric derivative has an absolute
# rounding error of ~u C / eps ~ 6e-6 (C ~ 1) plus a truncation error of
# ~eps^2 |C'''| / 6 ~ 1e-5; relative to a layer's gradient norm (~1e-1) that is
# ~1e-4 (measured: up to 3e-5 on digits); we allow 1e-3, still ten times below
# what a derivative 2% off gives (1e-2). The sharper float32 check compares the
# analytic float32 gradients with the float64 reference at the same
# (float32-rounded) parameters and inputs.
FLOAT32_GRADCHECK_TOL = 1e-3


@pytest.mark.parametrize("hidden,output,cost", [
    ("sigmoid", "sigmoid", "quadratic"),
    ("tanh", "sigmoid", "cross_entropy"),
    ("relu", "softmax", "log_likelihood"),
    ("softplus", "tanh", "quadratic"),
])
def test_float32_gradients(hidden, output, cost, softplus):
    rng = np.random.default_rng(21)
    net = fastbp.Network([4, 5, 3], activation=resolve(hidden, softplus), output_activation=output,
                         cost=cost, dtype=np.float32, seed=5)
    ref = ReferenceNetwork.from_fastbp(net)
    X = inputs_away_from_kinks(ref, 6, rng, margin=0.05).astype(np.float32)
    Y = targets(cost, output, 6, 3, rng).astype(np.float32)
    assert fastbp.gradcheck(net, X, Y) < FLOAT32_GRADCHECK_TOL
    nb, nw = net.gradients(X, Y)
    rb, rw = ref.gradients(X.astype(np.float64), Y.astype(np.float64))
    for l in range(2):
        assert nb[l].dtype == np.float32 and nw[l].dtype == np.float32
        # float32 products through two layers: ~10 roundings of u = 6e-8 each.
        np.testing.assert_allclose(nb[l], rb[l], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(nw[l], rw[l], rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------
# Activation probing.
# ---------------------------------------------------------------------------


def test_custom_activation_reaches_the_kernels(softplus):
    """The Network really uses the user's f: its output is softplus of z."""
    net = fastbp.Network([2, 3], activation=softplus, seed=0)
    x = np.array([0.3, -0.7])
    z = net.weights[0] @ x + net.biases[0]
    np.testing.assert_allclose(net.feedforward(x), np.log1p(np.exp(z)), rtol=1e-14)


def test_uncompilable_activation_raises_type_error_naming_it():
    def to_decimal(z):  # Numba cannot compile the decimal module
        return float(decimal.Decimal(z) * 2)

    with pytest.raises(TypeError, match="to_decimal") as info:
        fastbp.Activation("dec", to_decimal, lambda z: 2.0)
    assert "dec" in str(info.value)

    def good(z):
        return 2.0 * z

    def bad_prime(z):
        return float(decimal.Decimal(z))

    with pytest.raises(TypeError, match="fprime.*bad_prime|bad_prime.*fprime"):
        fastbp.Activation("dec2", good, bad_prime)


def test_non_callable_activation_raises_type_error():
    with pytest.raises(TypeError, match="callable"):
        fastbp.Activation("x", 3.0, math.cos)


def test_wrong_derivative_warns():
    with pytest.warns(RuntimeWarning, match="fprime"):
        fastbp.Activation("square", lambda z: z * z, lambda z: z)  # f' should be 2z


def test_right_derivative_does_not_warn(recwarn):
    fastbp.Activation("square", lambda z: z * z, lambda z: 2.0 * z)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ---------------------------------------------------------------------------
# Real data: scikit-learn's digits, the README's kind of input.
# ---------------------------------------------------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _sigmoid_prime(z):
    s = 1.0 / (1.0 + math.exp(-z))
    return s * (1.0 - s)


def _tanh_prime(z):
    return 1.0 - math.tanh(z) ** 2


def _softplus_f(z):
    return math.log1p(math.exp(z))


def _off(fprime):
    """fprime, 2% too large everywhere: a plausible slip in a hand-written derivative."""
    import numba
    inner = numba.njit(fprime)

    def wrong(z):
        return 1.02 * inner(z)
    return wrong


# name -> (f, fprime); custom Activation objects, so the derivative can be made wrong.
CUSTOM = {"sigmoid": (_sigmoid, _sigmoid_prime), "tanh": (math.tanh, _tanh_prime),
          "softplus": (_softplus_f, _sigmoid)}
DIGITS_ROWS = 200
CHECKED = 300  # parameters sampled out of 2,260


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    return X[:DIGITS_ROWS] / 16.0, y[:DIGITS_ROWS]


def _custom(name, wrong=False):
    f, fprime = CUSTOM[name]
    fprime = _off(fprime) if wrong else fprime
    return fastbp.Activation(name + ("-2%" if wrong else ""), f, fprime, check=False)


COMBOS = [("sigmoid", "quadratic", None), ("tanh", "cross_entropy", "sigmoid"),
          ("softplus", "log_likelihood", "softmax")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden,cost,output", COMBOS + [("relu", "log_likelihood", "softmax")])
def test_right_gradients_on_digits_give_a_small_error(digits, hidden, cost, output, dtype):
    """Built-in and custom activations, fresh [64, 30, 10] networks, X / 16 (many zero pixels)."""
    X, y = digits
    act = hidden if hidden in ("relu", "sigmoid", "tanh") else _custom(hidden)
    net = fastbp.Network([64, 30, 10], activation=act, output_activation=output, cost=cost,
                         dtype=dtype, seed=0)
    X = X.astype(dtype)
    # The data has what made the element-wise measure cry wolf: exactly zero gradients.
    assert np.count_nonzero(net.gradients(X, y)[1][0] == 0) > 100
    err = fastbp.gradcheck(net, X, y, max_parameters=CHECKED)
    if dtype == np.float64:
        assert err < FLOAT64_GRADCHECK_TOL
    elif hidden == "relu":
        # eps = 1e-2 moves some z across ReLU's kink: measured 2e-3 .. 7e-3.
        assert err < 2e-2
        assert fastbp.gradcheck(net, X, y, eps=1e-3, max_parameters=CHECKED) < 5e-3
    else:
        assert err < FLOAT32_GRADCHECK_TOL


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden,cost,output", COMBOS)
def test_a_derivative_two_percent_off_gives_a_large_error(digits, hidden, cost, output, dtype):
    X, y = digits
    X = X.astype(dtype)
    right = fastbp.Network([64, 30, 10], activation=_custom(hidden), output_activation=output,
                           cost=cost, dtype=dtype, seed=0)
    wrong = fastbp.Network([64, 30, 10], activation=_custom(hidden, wrong=True),
                           output_activation=output, cost=cost, dtype=dtype, seed=0)
    good = fastbp.gradcheck(right, X, y, max_parameters=120)
    bad = fastbp.gradcheck(wrong, X, y, max_parameters=120)
    # 0.02 / 2.02 = 9.9e-3 in the layers below the wrong derivative (measured)
    assert bad > 5e-3
    assert bad > 5 * good
    assert good < (FLOAT64_GRADCHECK_TOL if dtype == np.float64 else FLOAT32_GRADCHECK_TOL)


@pytest.mark.slow
def test_all_parameters_on_digits_with_zero_gradients(digits):
    """Every parameter, the README's network: hundreds of exactly zero gradients, still small."""
    X, y = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    assert fastbp.gradcheck(net, X, y) < FLOAT64_GRADCHECK_TOL


def test_a_vanishing_gradient_is_not_reported():
    """All gradients ~0 (outputs saturated at their targets): the floor keeps this at 0-ish."""
    net = fastbp.Network([3, 2], activation="sigmoid", seed=0)
    net.weights[0] = np.zeros((2, 3))
    net.biases[0] = np.array([40.0, -40.0])
    X = np.random.default_rng(0).uniform(-1, 1, size=(4, 3))
    Y = np.tile([1.0, 0.0], (4, 1))
    assert fastbp.gradcheck(net, X, Y) < 1e-6
