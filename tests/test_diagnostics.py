"""NotLearningWarning: a fit that learns nothing says so, once; normal fits stay silent.

The bad runs are the ones a new user met (tracker: "What a new user met in the
first hour"): ``fastbp train --eta 1e6`` with sigmoid units and the quadratic
cost, with ReLU units, and with a softmax output and the log-likelihood cost.
The good runs are the book's chapter 1 and 3 settings and the README's recipe.
"""
import warnings

import numpy as np
import pytest

import fastbp
from fastbp import diagnostics
from fastbp.activations import ACTIVATIONS

pytest.importorskip("sklearn")  # digits come with scikit-learn


@pytest.fixture(scope="module")
def digits():
    from fastbp.datasets import load_digits
    return load_digits(dtype=np.float64)


def fit_warnings(net, X, y, epochs, batch_size, eta, **kw):
    """The NotLearningWarning messages of one fit (every warning recorded)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(X, y, epochs, batch_size, eta, seed=0, **kw)
    return [str(w.message) for w in caught if w.category is fastbp.NotLearningWarning]


BAD = {  # activation, output activation, cost; all with eta = 1e6
    "sigmoid-quadratic": ("sigmoid", None, "quadratic"),
    "relu-quadratic": ("relu", None, "quadratic"),
    "sigmoid-log_likelihood": ("sigmoid", "softmax", "log_likelihood"),
}


@pytest.mark.parametrize("name", BAD)
def test_eta_1e6_warns_once_naming_what_was_seen_and_what_to_try(digits, name):
    X, y, _, _ = digits
    act, out, cost = BAD[name]
    net = fastbp.Network([64, 30, 10], activation=act, output_activation=out, cost=cost, seed=0)
    messages = fit_warnings(net, X, y, 6, 10, 1e6)
    assert len(messages) == 1, messages  # once per fit, though every epoch is as bad
    message = messages[0]
    assert message.startswith("the network is not learning after 3 epochs: ")
    assert "Try a smaller eta (now 1e6), e.g. 10000." in message
    assert "constant output" in message  # the cost sign is seen in all three
    if act == "sigmoid":
        assert "hidden units are saturated" in message
    if cost != "log_likelihood":
        assert "chance level for 10 classes" in message
    assert issubclass(fastbp.NotLearningWarning, UserWarning)


def test_warning_points_at_the_callers_fit(digits):
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    with pytest.warns(fastbp.NotLearningWarning) as record:
        net.fit(X, y, 3, 10, 1e6, seed=0)
    assert record[0].filename == __file__


def test_a_one_epoch_fit_is_judged_after_its_epoch(digits):
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    messages = fit_warnings(net, X, y, 1, 10, 1e6)
    assert len(messages) == 1 and "after 1 epoch:" in messages[0]


def test_too_small_an_eta_is_told_to_grow(digits):
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    messages = fit_warnings(net, X, y, 3, 10, 0.01)
    assert len(messages) == 1
    assert "try a larger eta (now 0.01) or more epochs" in messages[0]


def test_unscaled_inputs_are_named(digits):
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    messages = fit_warnings(net, X * 255, y, 3, 10, 1e6)
    assert "scale the inputs to about [0, 1] (they reach 255" in messages[0]


GOOD = {  # activation, output, cost, eta, epochs, batch size, extra fit options
    "chapter 1": ("sigmoid", None, "quadratic", 3.0, 30, 10, {}),
    "chapter 3": ("sigmoid", "sigmoid", "cross_entropy", 0.5, 30, 10, {"lmbda": 5.0}),
    "tanh": ("tanh", "sigmoid", "cross_entropy", 0.1, 10, 10, {}),
    "relu softmax": ("relu", "softmax", "log_likelihood", 0.1, 10, 10, {}),
    "recipe": ("relu", "softmax", "log_likelihood", 1e-3, 10, 64,
               {"optimizer": "adam", "lr_schedule": "cosine", "lmbda": 1.0}),
    "momentum": ("sigmoid", "sigmoid", "cross_entropy", 0.1, 10, 10, {"momentum": 0.9}),
}


@pytest.mark.parametrize("name", GOOD)
def test_normal_runs_on_digits_stay_silent(digits, name):
    X, y, Xt, yt = digits
    act, out, cost, eta, epochs, bs, kw = GOOD[name]
    net = fastbp.Network([64, 30, 10], activation=act, output_activation=out, cost=cost, seed=0)
    assert fit_warnings(net, X, y, epochs, bs, eta, evaluation_data=(Xt, yt), **kw) == []
    assert net.accuracy(Xt, yt) > 0.6  # the recipe's Adam 1e-3 is slow on 1,500 digits


def test_a_converged_network_fit_again_stays_silent(digits):
    """Fine-tuning: the cost barely moves, but the network is far from useless."""
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], cost="cross_entropy", seed=0)
    net.fit(X, y, 30, 10, 0.5, seed=0)
    assert fit_warnings(net, X, y, 10, 10, 1e-4) == []


def test_regression_targets_stay_silent_when_learning():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 3))
    Y = np.tanh(X @ rng.standard_normal((3, 2)))
    net = fastbp.Network([3, 8, 2], activation="tanh", output_activation="linear", seed=0)
    assert fit_warnings(net, X, Y, 10, 10, 0.05) == []


def test_the_monitor_does_not_change_training(digits, monkeypatch):
    X, y, _, _ = digits
    a = fastbp.Network([64, 30, 10], seed=0)
    fit_warnings(a, X, y, 4, 10, 3.0)
    monkeypatch.setattr(diagnostics.LearningMonitor, "after_epoch", lambda self, history: None)
    b = fastbp.Network([64, 30, 10], seed=0)
    fit_warnings(b, X, y, 4, 10, 3.0)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    assert a.history_["train_cost"] == b.history_["train_cost"]


def test_warning_can_be_silenced(digits):
    X, y, _, _ = digits
    net = fastbp.Network([64, 30, 10], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=fastbp.NotLearningWarning)
        net.fit(X, y, 3, 10, 1e6, seed=0)


# ------------------------------------------------------------------ the pieces
def test_constant_prediction_cost():
    Y = np.eye(10)[np.arange(100) % 10]
    assert diagnostics.constant_prediction_cost("quadratic", Y) == pytest.approx(0.45)
    assert diagnostics.constant_prediction_cost("log_likelihood", Y) == pytest.approx(np.log(10))
    assert diagnostics.constant_prediction_cost("cross_entropy", Y) == pytest.approx(
        -10 * (0.1 * np.log(0.1) + 0.9 * np.log(0.9)))
    Z = np.array([[1.0, 2.0], [3.0, 2.0]])
    assert diagnostics.constant_prediction_cost("quadratic", Z) == pytest.approx(0.5)


def test_cost_not_falling():
    assert not diagnostics.cost_not_falling([1.0])
    assert diagnostics.cost_not_falling([1.0, 1.0, 1.0])
    assert diagnostics.cost_not_falling([1.0, 0.5, 1.2])
    assert not diagnostics.cost_not_falling([1.0, 1.2, 0.9])
    assert diagnostics.cost_not_falling([1.0, float("nan")])


def test_chance_accuracy():
    Y = np.eye(4)[[0, 0, 0, 1, 2, 3]]
    outputs = np.eye(4)[[0, 0, 0, 0, 0, 0]]
    accuracy, chance = diagnostics.chance_accuracy(outputs, Y)
    assert accuracy == pytest.approx(0.5) and chance == pytest.approx(0.5)
    assert diagnostics.chance_accuracy(outputs, Y * 0.9) == (None, None)  # soft labels
    assert diagnostics.chance_accuracy(outputs[:, :1], Y[:, :1]) == (None, None)


def test_stuck_units():
    acts = [ACTIVATIONS["sigmoid"], ACTIVATIONS["relu"], ACTIVATIONS["tanh"], ACTIVATIONS["sigmoid"]]
    zs = [np.array([[20.0, 0.1], [-30.0, 0.2]]),   # 1 of 2 saturated (sign may change)
          np.array([[-1.0, 0.0, 1.0], [-2.0, -0.1, -1.0]]),  # 2 of 3 dead
          np.array([[1.0], [9.0]]),                # 0 of 1 (tanh(1) is not saturated)
          np.array([[50.0], [50.0]])]              # the output layer is not judged
    stuck, judged, kinds = diagnostics.stuck_units(acts, zs)
    assert (stuck, judged, kinds) == (3, 6, {"sigmoid", "relu"})


def test_sample_rows_draws_no_random_numbers():
    np.testing.assert_array_equal(diagnostics.sample_rows(5, rows=10), np.arange(5))
    idx = diagnostics.sample_rows(10_000)
    assert idx.size == diagnostics.SAMPLE_ROWS and idx[0] == 0 and idx[-1] == 9_999


# --------------------------------------------------------------- Fashion-MNIST
@pytest.fixture(scope="module")
def fashion():
    from fastbp.datasets import load_fashion_mnist
    try:
        return load_fashion_mnist(download=False)
    except (OSError, ValueError, TypeError) as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")


FASHION_GOOD = {  # sizes, activation, output, cost, eta, batch size, dtype, extra
    "chapter 1": ([784, 30, 10], "sigmoid", None, "quadratic", 3.0, 10, np.float64, {}),
    "chapter 3": ([784, 100, 10], "sigmoid", "sigmoid", "cross_entropy", 0.1, 10, np.float64,
                  {"lmbda": 5.0}),
    "recipe": ([784, 256, 10], "relu", "softmax", "log_likelihood", 1e-3, 64, np.float32,
               {"optimizer": "adam", "lr_schedule": "cosine", "lmbda": 1.0}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", FASHION_GOOD)
def test_the_readmes_fashion_mnist_runs_stay_silent(fashion, name):
    X, y, Xt, yt = fashion
    sizes, act, out, cost, eta, bs, dtype, kw = FASHION_GOOD[name]
    net = fastbp.Network(sizes, activation=act, output_activation=out, cost=cost, dtype=dtype,
                         seed=0, input_scale=1 / 255)
    assert fit_warnings(net, X, y, 4, bs, eta, **kw) == []  # judged after epochs 3 and 4
    assert net.accuracy(Xt, yt) > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("name", BAD)
def test_eta_1e6_on_fashion_mnist_warns(fashion, name):
    X, y, _, _ = fashion
    act, out, cost = BAD[name]
    net = fastbp.Network([784, 30, 10], activation=act, output_activation=out, cost=cost, seed=0,
                         input_scale=1 / 255)
    messages = fit_warnings(net, X[:10_000], y[:10_000], 3, 10, 1e6)
    assert len(messages) == 1 and "Try a smaller eta (now 1e6), e.g. 10000." in messages[0]


@pytest.mark.parametrize("cost,output", [("quadratic", None), ("cross_entropy", "sigmoid"),
                                         ("log_likelihood", "softmax")])
def test_mean_cost_is_the_networks_cost(cost, output):
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (50, 4)), np.eye(3)[rng.integers(0, 3, 50)]
    net = fastbp.Network([4, 5, 3], output_activation=output, cost=cost, seed=0)
    trace = net.trace(X, Y)
    assert diagnostics.mean_cost(cost, trace["z"][-1], trace["a"][-1], Y) == pytest.approx(
        net.cost(X, Y), rel=1e-12)


def test_checks_are_few_per_fit():
    assert [e for e in range(1, 31) if diagnostics.is_check_epoch(e, 30)] == [3, 6, 12, 24, 30]
    assert [e for e in range(1, 3) if diagnostics.is_check_epoch(e, 2)] == [2]
