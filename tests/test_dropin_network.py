"""fastbp.network against the book's per-example algorithm (tests/book_reference.py).

Same initial parameters and same mini-batches must give the same numbers,
to 1e-10 at eta 0.5 in float64. The book's code draws from the global
``random`` and ``np.random``; the tests seed them only inside
``global_random_state``, which restores them afterwards.
"""
import random

import numpy as np
import pytest

import book_reference as ref
from book_reference import global_random_state, random_states, random_states_equal
from dropin_helpers import SIZES, assert_params_close, copy_params, make_data
from fastbp import DivergenceError, network


# ---------------------------------------------------------------- construction
def test_initial_parameters_are_the_books_randn_draws():
    with global_random_state(11):
        net = network.Network(SIZES)
        after_net = random_states()
    with global_random_state(11):
        weights, biases = ref.init_parameters(SIZES, "large")
        after_ref = random_states()
    assert_params_close(net, weights, biases, tol=0.0)
    assert random_states_equal(after_net, after_ref)  # same numbers consumed


def test_surface_shapes_and_attributes():
    net = network.Network([7, 4, 2])
    assert net.num_layers == 3
    assert net.sizes == [7, 4, 2]
    assert [W.shape for W in net.weights] == [(4, 7), (2, 4)]
    assert [b.shape for b in net.biases] == [(4, 1), (2, 1)]
    assert all(W.dtype == np.float64 for W in net.weights)
    assert net.core.sizes == (7, 4, 2)


def test_parameters_are_views_into_the_core_network():
    net = network.Network([3, 4, 2])
    W, b = net.weights[0], net.biases[1]
    assert np.shares_memory(W, net.core.weights[0])
    assert np.shares_memory(b, net.core.biases[1])
    W *= 0.5
    b[:] = 7.0
    np.testing.assert_array_equal(net.core.weights[0], W)
    np.testing.assert_array_equal(net.core.biases[1], np.full(2, 7.0))
    net.biases[0] = np.arange(4.0).reshape(4, 1)  # item assignment copies in
    np.testing.assert_array_equal(net.core.biases[0], np.arange(4.0))


def test_assigning_new_lists_sets_the_network():
    net = network.Network([3, 4, 2])
    new_w = [np.full((4, 3), 0.25), np.full((2, 4), -0.5)]
    new_b = [np.ones((4, 1)), np.zeros((2, 1))]
    net.weights = new_w
    net.biases = new_b
    assert_params_close(net, new_w, new_b, tol=0.0)
    x = np.linspace(-1, 1, 3).reshape(3, 1)
    np.testing.assert_allclose(net.feedforward(x), ref.feedforward(new_w, new_b, x),
                               rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="weights"):
        net.weights = [np.zeros((3, 4)), np.zeros((2, 4))]


# ---------------------------------------------------------------- inference
def test_feedforward_column_and_columns():
    net = network.Network(SIZES)
    weights, biases = copy_params(net)
    data = make_data(5, seed=1)
    x = data[0][0]
    out = net.feedforward(x)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out, ref.feedforward(weights, biases, x), rtol=0, atol=1e-14)
    cols = np.hstack([x for x, _ in data])
    outs = net.feedforward(cols)
    assert outs.shape == (3, 5)
    np.testing.assert_allclose(outs, ref.feedforward(weights, biases, cols), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="a: expected an input column of shape \\(6, 1\\)"):
        net.feedforward(np.zeros((5, 1)))


def test_evaluate_counts_like_the_book():
    net = network.Network(SIZES)
    weights, biases = copy_params(net)
    test_data = make_data(40, seed=2, labels=True)
    k = net.evaluate(test_data)
    assert type(k) is int
    assert k == ref.evaluate(weights, biases, test_data)


def test_module_functions():
    z = np.array([[-40.0], [-1.0], [0.0], [2.5]])
    np.testing.assert_allclose(network.sigmoid(z), ref.sigmoid(z), rtol=1e-15)
    np.testing.assert_allclose(network.sigmoid_prime(z), ref.sigmoid_prime(z), rtol=1e-15)
    net = network.Network([2, 2])
    a, y = np.array([[0.3], [0.9]]), np.array([[0.0], [1.0]])
    np.testing.assert_array_equal(net.cost_derivative(a, y), a - y)


# ---------------------------------------------------------------- gradients and steps
def test_backprop_matches_the_per_example_reference():
    net = network.Network(SIZES)
    weights, biases = copy_params(net)
    for x, y in make_data(4, seed=3):
        nabla_b, nabla_w = net.backprop(x, y)
        rb, rw = ref.backprop(weights, biases, x, y, "quadratic")
        assert [g.shape for g in nabla_b] == [b.shape for b in biases]
        assert [g.shape for g in nabla_w] == [W.shape for W in weights]
        for g, r in zip(nabla_b + nabla_w, rb + rw):
            np.testing.assert_allclose(g, r, rtol=0, atol=1e-13)


def test_update_mini_batch_sequence_matches_reference():
    net = network.Network(SIZES)
    weights, biases = copy_params(net)
    data = make_data(25, seed=4)
    # Batches of different sizes, including 1 and one that revisits examples.
    batches = [data[0:10], data[10:11], data[11:18], data[18:25], data[3:13]]
    for batch in batches:
        assert net.update_mini_batch(batch, 0.5) is None
        weights, biases = ref.update_mini_batch(weights, biases, batch, 0.5, "quadratic")
        assert_params_close(net, weights, biases)
    # The step really moved the parameters (the comparison is not vacuous).
    assert not np.allclose(net.weights[0], copy_params(network.Network(SIZES))[0][0])


def test_sgd_epochs_match_reference_with_the_books_shuffles(capsys):
    training_data = make_data(23, seed=5)  # 23 = two batches of 10 and a short one of 3
    original = list(training_data)
    with global_random_state(12345):
        net = network.Network(SIZES)
        weights, biases = copy_params(net)
        state = random_states()
        assert net.SGD(training_data, 3, 10, 0.5) is None
        after_net = random_states()
        shuffled_by_fastbp = list(training_data)

        ref_data = list(original)
        random.setstate(state[0])
        np.random.set_state(state[1])
        weights, biases = ref.sgd(weights, biases, ref_data, 3, 10, 0.5, "quadratic")
        after_ref = random_states()
    assert_params_close(net, weights, biases)
    assert random_states_equal(after_net, after_ref)
    # Like the book, the caller's list is left in the order of the last shuffle.
    assert [id(item) for item in shuffled_by_fastbp] == [id(item) for item in ref_data]
    assert [id(item) for item in shuffled_by_fastbp] != [id(item) for item in original]
    assert capsys.readouterr().out == "Epoch 0 complete\nEpoch 1 complete\nEpoch 2 complete\n"


def test_second_sgd_call_continues_from_the_shuffled_list():
    """As in the book's fig/multiple_eta.py: several networks trained on one list."""
    training_data = make_data(17, seed=6)
    ref_data = list(training_data)
    with global_random_state(99):
        nets = [network.Network(SIZES) for _ in range(2)]
        starts = [copy_params(net) for net in nets]
        state = random_states()
        for net in nets:
            net.SGD(training_data, 2, 4, 0.5)
        random.setstate(state[0])
        results = [ref.sgd(*start, ref_data, 2, 4, 0.5, "quadratic") for start in starts]
    for net, (weights, biases) in zip(nets, results):
        assert_params_close(net, weights, biases)


def test_sgd_prints_test_accuracy_per_epoch(capsys):
    training_data = make_data(30, seed=7)
    test_data = make_data(20, seed=8, labels=True)
    with global_random_state(3):
        net = network.Network(SIZES)
        weights, biases = copy_params(net)
        state = random.getstate()
        net.SGD(training_data, 3, 5, 3.0, test_data=test_data)
        random.setstate(state)
        expected = []
        ref.sgd(weights, biases, list(make_data(30, seed=7)), 3, 5, 3.0, "quadratic",
                after_epoch=lambda j, w, b: expected.append(
                    "Epoch {0}: {1} / {2}".format(j, ref.evaluate(w, b, test_data), 20)))
    assert capsys.readouterr().out.splitlines() == expected


# ---------------------------------------------------------------- errors
def test_clear_errors_for_wrong_data():
    net = network.Network(SIZES)
    labelled = make_data(5, seed=9, labels=True)
    with pytest.raises(ValueError, match="training_data\\[0\\]\\[1\\].*integer label"):
        net.SGD(labelled, 1, 2, 1.0)
    with pytest.raises(ValueError, match="test_data: expected integer class labels"):
        net.evaluate(make_data(5, seed=9))
    with pytest.raises(ValueError, match="training_data\\[0\\]\\[0\\]: expected an input of shape"):
        net.SGD([(np.zeros((5, 1)), np.zeros((3, 1)))], 1, 1, 1.0)
    with pytest.raises(TypeError, match="training_data\\[1\\]: expected an \\(x, y\\) tuple"):
        net.SGD([make_data(1, seed=0)[0], 3.0], 1, 1, 1.0)
    with pytest.raises(ValueError, match="eta"):
        net.SGD(make_data(5, seed=9), 1, 2, 0.0)
    with pytest.raises(TypeError, match="mini_batch_size"):
        net.SGD(make_data(5, seed=9), 1, 2.5, 1.0)
    bad = make_data(3, seed=9)
    bad[1] = (np.full((6, 1), np.nan), bad[1][1])
    with pytest.raises(ValueError, match="NaN"):
        net.update_mini_batch(bad, 1.0)


def test_divergence_is_reported_and_keeps_finite_parameters():
    net = network.Network([2, 2])
    net.weights = [np.zeros((2, 2))]
    net.biases = [np.zeros((2, 1))]
    # a = 1/2, delta = 1/8, dC/dW = 125: the step eta * 125 overflows to inf.
    with pytest.raises(DivergenceError):
        net.update_mini_batch([(np.full((2, 1), 1000.0), np.zeros((2, 1)))], 1e308)
    np.testing.assert_array_equal(net.weights[0], np.zeros((2, 2)))


def test_list_is_left_shuffled_even_when_training_stops_early():
    net = network.Network([2, 2])
    net.weights = [np.zeros((2, 2))]
    net.biases = [np.zeros((2, 1))]
    training_data = [(np.full((2, 1), 1000.0 + i), np.zeros((2, 1))) for i in range(6)]
    expected = list(training_data)
    with global_random_state(4):
        state = random.getstate()
        with pytest.raises(DivergenceError):
            net.SGD(training_data, 3, 2, 1e308)
        random.setstate(state)
        random.shuffle(expected)  # the one shuffle of the epoch that failed
    assert [id(t) for t in training_data] == [id(t) for t in expected]


def test_inputs_in_other_shapes_give_the_same_steps():
    """Columns take one fast copy; 1-D arrays and nested lists the checked loop: same result."""
    data = make_data(12, seed=10)
    variants = [data,
                [(x.ravel(), y) for x, y in data],
                [(x.tolist(), y.tolist()) for x, y in data],
                [(x.astype(np.float32), y) for x, y in data[:6]] + data[6:]]
    results = []
    for variant in variants:
        with global_random_state(2):
            net = network.Network(SIZES)
            net.update_mini_batch(variant, 0.5)
        results.append(copy_params(net))
    for other, tol in zip(results[1:], (0.0, 0.0, 1e-6)):  # float32 inputs: rounded first
        for a, b in zip(results[0][0] + results[0][1], other[0] + other[1]):
            np.testing.assert_allclose(a, b, rtol=0, atol=tol)
    assert not np.array_equal(results[0][0][0], results[3][0][0])  # float32 really differs
