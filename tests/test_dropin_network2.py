"""fastbp.network2 against the book's per-example algorithm (tests/book_reference.py).

Both costs, L2 regularisation (lmbda > 0), the monitors of SGD with their
printed lines and returned lists, the convert flags, and the book's JSON file.
"""
import json
import random

import numpy as np
import pytest

import book_reference as ref
from book_reference import global_random_state, random_states, random_states_equal
from dropin_helpers import SIZES, assert_params_close, copy_params, make_data
from fastbp import network2

COSTS = [(network2.QuadraticCost, "quadratic"), (network2.CrossEntropyCost, "cross_entropy")]


# ---------------------------------------------------------------- construction
@pytest.mark.parametrize("initializer", ["default", "large"])
def test_initializers_draw_like_the_book(initializer):
    with global_random_state(21):
        net = network2.Network(SIZES)  # the constructor draws with the default initialiser
        if initializer == "large":
            net.large_weight_initializer()
        after_net = random_states()
    with global_random_state(21):
        weights, biases = ref.init_parameters(SIZES, "default")
        if initializer == "large":
            weights, biases = ref.init_parameters(SIZES, "large")
        after_ref = random_states()
    assert_params_close(net, weights, biases, tol=0.0)
    assert random_states_equal(after_net, after_ref)


def test_default_initializer_redraws():
    with global_random_state(5):
        net = network2.Network(SIZES)
        first = copy_params(net)
        net.default_weight_initializer()
    with global_random_state(5):
        ref.init_parameters(SIZES, "default")
        weights, biases = ref.init_parameters(SIZES, "default")
    assert_params_close(net, weights, biases, tol=0.0)
    assert not np.array_equal(first[0][0], weights[0])


def test_surface_and_cost_attribute():
    net = network2.Network([7, 4, 2])
    assert net.cost is network2.CrossEntropyCost
    assert net.num_layers == 3 and net.sizes == [7, 4, 2]
    assert [b.shape for b in net.biases] == [(4, 1), (2, 1)]
    assert network2.Network([3, 2], cost=network2.QuadraticCost).core.cost_function.name == "quadratic"
    net.cost = network2.QuadraticCost
    assert net.cost is network2.QuadraticCost
    assert net.core.cost_function.name == "quadratic"
    with pytest.raises(ValueError, match="cost: expected network2.QuadraticCost"):
        network2.Network([3, 2], cost=object)
    with pytest.raises(ValueError, match="cost"):
        net.cost = "quadratic"


def test_cost_classes():
    a = np.array([[0.2], [0.9], [1.0]])
    y = np.array([[0.0], [1.0], [1.0]])
    z = np.array([[-1.0], [2.0], [40.0]])
    assert network2.QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.04 + 0.01))
    expected_ce = -np.log(0.8) - np.log(0.9)  # the third term is 0 ln 0 -> 0
    assert network2.CrossEntropyCost.fn(a, y) == pytest.approx(expected_ce, rel=1e-15)
    np.testing.assert_allclose(network2.QuadraticCost.delta(z, a, y),
                               (a - y) * ref.sigmoid_prime(z), rtol=1e-15)
    np.testing.assert_array_equal(network2.CrossEntropyCost.delta(z, a, y), a - y)


def test_vectorized_result_and_sigmoid():
    e = network2.vectorized_result(3)
    assert e.shape == (10, 1) and e.dtype == np.float64
    assert e[3, 0] == 1.0 and e.sum() == 1.0
    z = np.linspace(-5, 5, 7)
    np.testing.assert_allclose(network2.sigmoid(z), ref.sigmoid(z), rtol=1e-15)
    np.testing.assert_allclose(network2.sigmoid_prime(z), ref.sigmoid_prime(z), rtol=1e-15)


# ---------------------------------------------------------------- gradients and steps
@pytest.mark.parametrize("cost_class,cost", COSTS)
def test_backprop_matches_reference(cost_class, cost):
    net = network2.Network(SIZES, cost=cost_class)
    weights, biases = copy_params(net)
    for x, y in make_data(3, seed=1):
        nabla_b, nabla_w = net.backprop(x, y)
        rb, rw = ref.backprop(weights, biases, x, y, cost)
        for g, r in zip(nabla_b + nabla_w, rb + rw):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cost_class,cost", COSTS)
def test_update_mini_batch_sequence_with_l2_matches_reference(cost_class, cost):
    net = network2.Network(SIZES, cost=cost_class)
    weights, biases = copy_params(net)
    data = make_data(25, seed=2)
    n = len(data)
    for batch in [data[0:10], data[10:11], data[11:18], data[18:25], data[5:15]]:
        assert net.update_mini_batch(batch, 0.5, 2.0, n) is None
        weights, biases = ref.update_mini_batch(weights, biases, batch, 0.5, cost, 2.0, n)
        assert_params_close(net, weights, biases)


@pytest.mark.parametrize("cost_class,cost", COSTS)
def test_sgd_with_all_monitors_matches_reference(cost_class, cost, capsys):
    training_data = make_data(23, seed=3)
    evaluation_data = make_data(15, seed=4, labels=True)
    lmbda, eta, epochs = 1.5, 0.5, 3
    with global_random_state(777):
        net = network2.Network(SIZES, cost=cost_class)
        weights, biases = copy_params(net)
        state = random_states()
        result = net.SGD(training_data, epochs, 10, eta, lmbda=lmbda,
                         evaluation_data=evaluation_data,
                         monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                         monitor_training_cost=True, monitor_training_accuracy=True)
        after_net = random_states()
        printed = capsys.readouterr().out

        random.setstate(state[0])
        ref_data = make_data(23, seed=3)
        expected = {"ec": [], "ea": [], "tc": [], "ta": []}
        lines = []

        def monitor(j, w, b):
            tc = ref.total_cost(w, b, ref_data, lmbda, cost, n_classes=3)
            ta = sum(int(np.argmax(ref.feedforward(w, b, x)) == np.argmax(y)) for x, y in ref_data)
            ec = ref.total_cost(w, b, evaluation_data, lmbda, cost, n_classes=3)
            ea = ref.evaluate(w, b, evaluation_data)
            for key, value in zip(("tc", "ta", "ec", "ea"), (tc, ta, ec, ea)):
                expected[key].append(value)
            lines.extend([f"Epoch {j} training complete", f"Cost on training data: {tc}",
                          f"Accuracy on training data: {ta} / 23",
                          f"Cost on evaluation data: {ec}",
                          f"Accuracy on evaluation data: {ea} / 15", ""])

        weights, biases = ref.sgd(weights, biases, ref_data, epochs, 10, eta, cost, lmbda,
                                  after_epoch=monitor)
        after_ref = random_states()
    assert_params_close(net, weights, biases)
    assert random_states_equal(after_net, after_ref)

    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = result
    assert isinstance(result, tuple) and len(result) == 4
    assert all(isinstance(v, list) and len(v) == epochs for v in result)
    np.testing.assert_allclose(evaluation_cost, expected["ec"], rtol=1e-10)
    np.testing.assert_allclose(training_cost, expected["tc"], rtol=1e-10)
    assert evaluation_accuracy == expected["ea"] and training_accuracy == expected["ta"]
    assert all(type(v) is int for v in evaluation_accuracy + training_accuracy)
    assert all(type(v) is float for v in evaluation_cost + training_cost)
    json.dumps(result)  # the book's scripts json.dump these lists

    # Same lines; the cost values printed agree with the reference to rounding.
    got = printed.splitlines()
    assert len(got) == len(lines)
    for g, e in zip(got, lines):
        if g.startswith("Cost on"):
            head, value = g.rsplit(" ", 1)
            assert head == e.rsplit(" ", 1)[0]
            assert float(value) == pytest.approx(float(e.rsplit(" ", 1)[1]), rel=1e-10)
        else:
            assert g == e


def test_sgd_without_monitors_prints_epochs_and_returns_empty_lists(capsys):
    net = network2.Network(SIZES)
    result = net.SGD(make_data(12, seed=5), 2, 5, 0.5, evaluation_data=make_data(4, seed=6))
    assert result == ([], [], [], [])
    assert capsys.readouterr().out == ("Epoch 0 training complete\n\n"
                                       "Epoch 1 training complete\n\n")


def test_monitoring_evaluation_needs_evaluation_data():
    net = network2.Network(SIZES)
    with pytest.raises(ValueError, match="evaluation_data: required"):
        net.SGD(make_data(5, seed=1), 1, 5, 0.5, monitor_evaluation_accuracy=True)


# ---------------------------------------------------------------- accuracy, total_cost
@pytest.mark.parametrize("cost_class,cost", COSTS)
def test_accuracy_and_total_cost_convert_flags(cost_class, cost):
    net = network2.Network(SIZES, cost=cost_class)
    weights, biases = copy_params(net)
    training = make_data(20, seed=7)
    test = make_data(20, seed=8, labels=True)
    train_acc = sum(int(np.argmax(ref.feedforward(weights, biases, x)) == np.argmax(y))
                    for x, y in training)
    assert net.accuracy(training, convert=True) == train_acc
    assert net.accuracy(test) == ref.evaluate(weights, biases, test)
    assert type(net.accuracy(test)) is int
    for lmbda in (0.0, 3.0):
        assert net.total_cost(training, lmbda) == pytest.approx(
            ref.total_cost(weights, biases, training, lmbda, cost, n_classes=3), rel=1e-12)
        assert net.total_cost(test, lmbda, convert=True) == pytest.approx(
            ref.total_cost(weights, biases, test, lmbda, cost, n_classes=3), rel=1e-12)
    with pytest.raises(ValueError, match="convert=True"):
        net.accuracy(training)
    with pytest.raises(ValueError, match="convert=True"):
        net.total_cost(test, 0.0)


# ---------------------------------------------------------------- files
def test_save_writes_the_books_json(tmp_path):
    net = network2.Network([4, 3, 2], cost=network2.QuadraticCost)
    path = tmp_path / "net.json"
    net.save(str(path))
    data = json.loads(path.read_text())
    assert list(data) == ["sizes", "weights", "biases", "cost"]
    assert data["sizes"] == [4, 3, 2] and data["cost"] == "QuadraticCost"
    assert [np.array(w).shape for w in data["weights"]] == [(3, 4), (2, 3)]
    assert [np.array(b).shape for b in data["biases"]] == [(3, 1), (2, 1)]
    for W, w in zip(net.weights, data["weights"]):
        np.testing.assert_array_equal(W, np.array(w))  # JSON floats round-trip exactly


def test_load_reads_a_file_in_the_books_format(tmp_path):
    r = np.random.default_rng(0)
    sizes = [5, 4, 3]
    weights = [r.standard_normal((4, 5)), r.standard_normal((3, 4))]
    biases = [r.standard_normal((4, 1)), r.standard_normal((3, 1))]
    path = tmp_path / "book.json"
    with open(path, "w") as f:  # what the book's save() writes
        json.dump({"sizes": sizes, "weights": [w.tolist() for w in weights],
                   "biases": [b.tolist() for b in biases], "cost": "CrossEntropyCost"}, f)
    with global_random_state(8):
        net = network2.load(str(path))
        after_load = random_states()
    with global_random_state(8):
        ref.init_parameters(sizes, "default")  # the book's load builds Network(sizes) first
        after_ref = random_states()
    assert random_states_equal(after_load, after_ref)
    assert isinstance(net, network2.Network) and net.cost is network2.CrossEntropyCost
    assert net.sizes == sizes
    assert_params_close(net, weights, biases, tol=0.0)
    x = r.uniform(size=(5, 1))
    np.testing.assert_allclose(net.feedforward(x), ref.feedforward(weights, biases, x),
                               rtol=0, atol=1e-14)


def test_save_load_round_trip(tmp_path):
    net = network2.Network([4, 3, 2], cost=network2.QuadraticCost)
    net.save(tmp_path / "n.json")
    back = network2.load(tmp_path / "n.json")
    assert back.cost is network2.QuadraticCost
    assert_params_close(back, *copy_params(net), tol=0.0)


@pytest.mark.parametrize("cost_name", ["__import__", "sys", "load", "Network", "quadratic",
                                       "log_likelihood", None, 3])
def test_load_never_looks_up_other_names(tmp_path, cost_name):
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"sizes": [2, 1], "weights": [[[0.0, 0.0]]],
                                "biases": [[[0.0]]], "cost": cost_name}))
    with pytest.raises(ValueError, match="unknown cost"):
        network2.load(path)


def test_load_rejects_bad_files(tmp_path):
    good = {"sizes": [2, 1], "weights": [[[0.5, 0.5]]], "biases": [[[0.0]]],
            "cost": "QuadraticCost"}
    cases = {"shape": dict(good, weights=[[[0.5, 0.5, 0.5]]]),
             "relu": dict(good, activations=["relu"])}
    for name, content in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        with pytest.raises(ValueError):
            network2.load(path)
    nan = tmp_path / "nan.json"
    nan.write_text('{"sizes": [2, 1], "weights": [[[NaN, 0.5]]], "biases": [[[0.0]]], '
                   '"cost": "QuadraticCost"}')
    with pytest.raises(ValueError, match="NaN"):
        network2.load(nan)
    truncated = tmp_path / "cut.json"
    truncated.write_text(json.dumps(good)[:-10])
    with pytest.raises(ValueError, match="not valid JSON"):
        network2.load(truncated)
