"""The public API of fastbp.Network: shapes, dtypes, seeds, parameters, fit, errors."""
import numpy as np
import pytest

import fastbp
from fastbp.engine import kernel_view
from reference import ReferenceNetwork

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")  # random-label fits


def labels_and_onehot(n, n_out, seed):
    y = np.random.default_rng(seed).integers(0, n_out, size=n)
    Y = np.zeros((n, n_out))
    Y[np.arange(n), y] = 1.0
    return y, Y


# ---------------------------------------------------------------------------
# Shapes and dtypes.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shapes_and_dtypes_end_to_end(dtype, small_data):
    X, Y = small_data  # float64 data, whatever the network's dtype
    net = fastbp.Network([4, 6, 5, 3], cost="cross_entropy", dtype=dtype, seed=0)
    assert net.dtype == np.dtype(dtype)
    assert net.num_layers == 4
    assert net.n_parameters == 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3
    assert [W.shape for W in net.weights] == [(6, 4), (5, 6), (3, 5)]
    assert [b.shape for b in net.biases] == [(6,), (5,), (3,)]
    assert all(p.dtype == dtype for p in list(net.weights) + list(net.biases))

    out = net.feedforward(X)
    assert out.shape == (13, 3) and out.dtype == dtype
    assert net.predict(X).shape == (13,)
    nabla_b, nabla_w = net.gradients(X, Y)
    assert [g.shape for g in nabla_w] == [(6, 4), (5, 6), (3, 5)]
    assert [g.shape for g in nabla_b] == [(6,), (5,), (3,)]
    assert all(g.dtype == dtype for g in nabla_b + nabla_w)
    tr = net.trace(X, Y)
    assert [a.shape for a in tr["a"]] == [(13, 4), (13, 6), (13, 5), (13, 3)]
    assert all(arr.dtype == dtype for key in ("z", "a", "delta") for arr in tr[key])
    assert isinstance(net.cost(X, Y), float)
    assert 0.0 <= net.accuracy(X, Y) <= 1.0

    net.fit(X, Y, epochs=2, batch_size=4, eta=0.5, seed=0)
    assert kernel_view(net).theta.dtype == dtype
    assert all(p.dtype == dtype for p in list(net.weights) + list(net.biases))
    assert net.feedforward(X).dtype == dtype


def test_float32_network_computes_in_float32(small_data):
    """Not float64 rounded at the end: some outputs differ from the rounded float64 ones."""
    X, Y = small_data
    net64 = fastbp.Network([4, 6, 3], seed=2)
    net32 = fastbp.Network([4, 6, 3], dtype=np.float32, seed=2)
    net64.set_parameters(net32.get_parameters().astype(np.float64))
    out32, out64 = net32.feedforward(X), net64.feedforward(X)
    np.testing.assert_allclose(out32, out64, rtol=1e-6)
    assert not np.array_equal(out32, out64.astype(np.float32))


def test_feedforward_of_one_example_matches_a_batch(small_data):
    X, _ = small_data
    net = fastbp.Network([4, 5, 3], seed=1)
    batch = net.feedforward(X)
    for i in (0, 7):
        single = net.feedforward(X[i])
        assert single.shape == (3,)
        np.testing.assert_array_equal(single, batch[i])
        assert net.predict(X[i]) == np.argmax(batch[i])
    # list input, other dtypes
    np.testing.assert_array_equal(net.feedforward(X[:2].tolist()), batch[:2])


def test_feedforward_matches_reference(small_data):
    X, _ = small_data
    net = fastbp.Network([4, 5, 5, 3], activation=["relu", "tanh", "softmax"],
                         cost="log_likelihood", seed=4)
    ref = ReferenceNetwork.from_fastbp(net)
    expected = np.vstack([ref.feedforward(x).T for x in X])
    np.testing.assert_allclose(net.feedforward(X), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(net.feedforward(X).sum(axis=1), 1.0, rtol=1e-13)


# ---------------------------------------------------------------------------
# Initialisation and seeds.
# ---------------------------------------------------------------------------


def test_init_statistics():
    """default: W ~ N(0, 1/n_in), b ~ N(0, 1) (network2.py); large: W, b ~ N(0, 1) (network.py)."""
    default = fastbp.Network([400, 300, 50], init="default", seed=0)
    large = fastbp.Network([400, 300, 50], init="large", seed=0)
    for l, n_in in enumerate([400, 300]):
        # 120000 and 15000 draws: the sample std is within ~1% of the truth.
        assert default.weights[l].std() == pytest.approx(1 / np.sqrt(n_in), rel=0.05)
        assert large.weights[l].std() == pytest.approx(1.0, rel=0.05)
        assert abs(default.weights[l].mean()) < 0.05 / np.sqrt(n_in)
    for net in (default, large):
        b = np.concatenate(list(net.biases))
        assert b.std() == pytest.approx(1.0, rel=0.15)
    # biases are drawn before weights: with the same seed the biases coincide
    for l in range(2):
        np.testing.assert_array_equal(default.biases[l], large.biases[l])


def test_seed_reproducibility(small_data):
    X, Y = small_data
    a = fastbp.Network([4, 5, 3], seed=11)
    b = fastbp.Network([4, 5, 3], seed=11)
    c = fastbp.Network([4, 5, 3], seed=12)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    assert not np.array_equal(a.get_parameters(), c.get_parameters())
    d = fastbp.Network([4, 5, 3], seed=np.random.default_rng(11))
    np.testing.assert_array_equal(a.get_parameters(), d.get_parameters())

    a.fit(X, Y, epochs=3, batch_size=4, eta=0.5, seed=5)
    b.fit(X, Y, epochs=3, batch_size=4, eta=0.5, seed=5)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    e = fastbp.Network([4, 5, 3], seed=11)
    e.fit(X, Y, epochs=3, batch_size=4, eta=0.5, seed=6)  # other shuffles
    assert not np.array_equal(a.get_parameters(), e.get_parameters())


def test_no_global_random_state_is_touched(small_data):
    X, Y = small_data
    state = np.random.get_state()[1].copy()
    net = fastbp.Network([4, 5, 3])
    net.fit(X, Y, epochs=1, batch_size=4, eta=0.5)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ---------------------------------------------------------------------------
# Parameters: views into one buffer, assignable.
# ---------------------------------------------------------------------------


def test_parameters_are_views_into_theta():
    net = fastbp.Network([3, 4, 2], seed=0)
    for p in list(net.weights) + list(net.biases):
        assert np.shares_memory(p, kernel_view(net).theta)
    net.weights[1][0, 2] = 7.5  # in place, by element
    assert 7.5 in net.get_parameters()


def test_weights_and_biases_assignable(small_data):
    X, Y = small_data
    net = fastbp.Network([4, 5, 3], seed=0)
    r = np.random.default_rng(3)
    W = [r.standard_normal((5, 4)), r.standard_normal((3, 5))]
    b = [r.standard_normal(5), r.standard_normal(3)]

    net.weights = W            # a new list
    net.biases = b
    ref = ReferenceNetwork([w.copy() for w in W], [v.copy() for v in b], ["sigmoid"] * 2)
    expected = np.vstack([ref.feedforward(x).T for x in X])
    np.testing.assert_allclose(net.feedforward(X), expected, rtol=1e-13)

    W0 = r.standard_normal((5, 4))
    net.weights[0] = W0        # by item
    np.testing.assert_array_equal(net.weights[0], W0)
    net.biases[1] = np.array([[1.0], [2.0], [3.0]])  # a book-style (n, 1) column
    np.testing.assert_array_equal(net.biases[1], [1.0, 2.0, 3.0])
    net.weights[1][:] = 0.5    # in place
    np.testing.assert_array_equal(net.weights[1], 0.5)
    W0[0, 0] = 99.0            # the network holds a copy, not the caller's array
    assert net.weights[0][0, 0] != 99.0
    for p in list(net.weights) + list(net.biases):
        assert np.shares_memory(p, kernel_view(net).theta)  # still views after assignment
    # fit trains the assigned values
    before = net.get_parameters()
    net.fit(X, Y, epochs=1, batch_size=5, eta=0.1, seed=0)
    assert not np.array_equal(before, net.get_parameters())


def test_bad_parameter_assignment_raises_and_changes_nothing():
    net = fastbp.Network([4, 5, 3], seed=0)
    before = net.get_parameters()
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        net.weights[0] = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"biases\[1\]"):
        net.biases[1] = np.zeros(4)
    with pytest.raises(ValueError, match="weights"):
        net.weights = [np.zeros((5, 4))]  # one array for two layers
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        net.weights = [np.ones((5, 4)), np.zeros((5, 3))]  # second wrong: first not written
    with pytest.raises(ValueError, match="NaN"):
        net.weights[0] = np.full((5, 4), np.nan)
    with pytest.raises(TypeError, match="weights"):
        net.weights[0] = np.full((5, 4), "a")
    with pytest.raises(ValueError, match="theta"):
        net.set_parameters(np.zeros(3))
    np.testing.assert_array_equal(net.get_parameters(), before)


# ---------------------------------------------------------------------------
# Targets: integer labels and one-hot rows.
# ---------------------------------------------------------------------------


def test_integer_labels_equal_one_hot(small_data):
    X, _ = small_data
    y, Y = labels_and_onehot(13, 3, seed=4)
    net = fastbp.Network([4, 5, 3], cost="cross_entropy", seed=0)
    gl, go = net.gradients(X, y), net.gradients(X, Y)
    for a, b in zip(gl[0] + gl[1], go[0] + go[1]):
        np.testing.assert_array_equal(a, b)
    assert net.cost(X, y) == net.cost(X, Y)
    assert net.accuracy(X, y) == net.accuracy(X, Y)
    a, b = fastbp.Network([4, 5, 3], seed=1), fastbp.Network([4, 5, 3], seed=1)
    a.fit(X, y, epochs=2, batch_size=3, eta=0.5, seed=0)
    b.fit(X, Y, epochs=2, batch_size=3, eta=0.5, seed=0)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())


def test_accuracy_counts_correct_rows():
    net = fastbp.Network([2, 2], activation="linear", seed=0)
    net.weights = [np.eye(2)]
    net.biases = [np.zeros(2)]
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert net.accuracy(X, [0, 1, 1, 1]) == 0.75
    np.testing.assert_array_equal(net.predict(X), [0, 1, 0, 1])


# ---------------------------------------------------------------------------
# gradients: independent of chunk_size.
# ---------------------------------------------------------------------------


def test_gradients_independent_of_chunk_size():
    r = np.random.default_rng(0)
    X = r.uniform(-1, 1, size=(37, 6))
    y = r.integers(0, 4, size=37)
    net = fastbp.Network([6, 9, 7, 4], activation="tanh", output_activation="softmax",
                         cost="log_likelihood", seed=3)
    base_b, base_w = net.gradients(X, y)
    for chunk in (1, 2, 5, 8, 36, 37, 1000):
        gb, gw = net.gradients(X, y, chunk_size=chunk)
        for a, b in zip(gb + gw, base_b + base_w):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        assert net.cost(X, y, chunk_size=chunk) == pytest.approx(net.cost(X, y), rel=1e-13)
        np.testing.assert_allclose(net.feedforward(X, chunk_size=chunk), net.feedforward(X),
                                   rtol=1e-13)


def test_fit_independent_of_chunk_size(small_data):
    X, Y = small_data
    nets = [fastbp.Network([4, 5, 3], seed=0) for _ in range(3)]
    for net, chunk in zip(nets, (None, 1, 3)):
        net.fit(X, Y, epochs=2, batch_size=5, eta=0.5, seed=1, chunk_size=chunk)
    for net in nets[1:]:
        np.testing.assert_allclose(net.get_parameters(), nets[0].get_parameters(),
                                   rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# cost: network2.py's total_cost.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cost,output", [("quadratic", "tanh"), ("cross_entropy", "sigmoid"),
                                         ("log_likelihood", "softmax")])
def test_cost_matches_reference_total_cost(cost, output, small_data):
    X, Y = small_data
    net = fastbp.Network([4, 5, 3], activation="relu", output_activation=output, cost=cost,
                         seed=2)
    ref = ReferenceNetwork.from_fastbp(net)
    assert net.cost(X, Y) == pytest.approx(ref.total_cost(X, Y), rel=1e-12)
    assert net.cost(X, Y, lmbda=3.0) == pytest.approx(ref.total_cost(X, Y, lmbda=3.0), rel=1e-12)


# ---------------------------------------------------------------------------
# fit: history, evaluation data, callbacks.
# ---------------------------------------------------------------------------


def test_fit_history(small_data):
    X, Y = small_data
    net = fastbp.Network([4, 5, 3], cost="cross_entropy", seed=0)
    history = net.fit(X, Y, epochs=4, batch_size=5, eta=0.5, seed=0)
    assert {"epoch", "train_cost", "time"} <= set(history)
    assert "eval_cost" not in history and "eval_accuracy" not in history
    assert history["epoch"] == [1, 2, 3, 4]
    assert all(len(v) == 4 for v in history.values())
    assert all(t >= 0 for t in history["time"])
    assert net.history_ is history
    # train_cost is the mean cost over the epoch's mini-batches, each before its
    # step: not the cost after the epoch, but close to it and decreasing here.
    assert history["train_cost"][-1] < history["train_cost"][0]


def test_fit_evaluation_data(small_data):
    X, Y = small_data
    r = np.random.default_rng(9)
    Xe = r.uniform(-1, 1, size=(8, 4))
    ye = r.integers(0, 3, size=8)
    net = fastbp.Network([4, 5, 3], cost="cross_entropy", seed=0)
    history = net.fit(X, Y, epochs=3, batch_size=5, eta=0.5, evaluation_data=(Xe, ye), seed=0)
    assert len(history["eval_cost"]) == len(history["eval_accuracy"]) == 3
    assert history["eval_cost"][-1] == pytest.approx(net.cost(Xe, ye), rel=1e-12)
    assert history["eval_accuracy"][-1] == net.accuracy(Xe, ye)
    assert all(0.0 <= a <= 1.0 for a in history["eval_accuracy"])


def test_fit_callback_can_stop_training(small_data):
    X, Y = small_data
    calls = []

    def stop_after_third(net, epoch, history):
        calls.append((epoch, len(history["epoch"])))
        assert isinstance(net, fastbp.Network)
        return epoch == 2

    net = fastbp.Network([4, 5, 3], seed=0)
    history = net.fit(X, Y, epochs=10, batch_size=5, eta=0.5, callback=stop_after_third)
    assert calls == [(0, 1), (1, 2), (2, 3)]
    assert history["epoch"] == [1, 2, 3]


def test_fit_continues_from_current_parameters(small_data):
    """Two fits of one epoch equal one fit of two (no momentum), with the same orders."""
    X, Y = small_data
    a, b = fastbp.Network([4, 5, 3], seed=0), fastbp.Network([4, 5, 3], seed=0)
    a.fit(X, Y, epochs=2, batch_size=5, eta=0.5, shuffle=False)
    b.fit(X, Y, epochs=1, batch_size=5, eta=0.5, shuffle=False)
    b.fit(X, Y, epochs=1, batch_size=5, eta=0.5, shuffle=False)
    np.testing.assert_allclose(a.get_parameters(), b.get_parameters(), rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------
# DivergenceError.
# ---------------------------------------------------------------------------


def test_divergence_with_a_huge_eta(small_data):
    """Linear layers, eta = 1e200: the first step leaves weights ~1e200, the second
    step's z ~ 1e400 overflows, so mini-batch 1 of epoch 0 fails and the network keeps
    the parameters after mini-batch 0 (the reference's single step)."""
    X, Y = small_data
    net = fastbp.Network([4, 5, 3], activation="linear", seed=0)
    ref = ReferenceNetwork.from_fastbp(net)
    with pytest.raises(fastbp.DivergenceError, match="eta") as info:
        net.fit(X, Y, epochs=3, batch_size=5, eta=1e200, shuffle=False)
    err = info.value
    assert isinstance(err, ArithmeticError)
    assert (err.epoch, err.batch, err.eta) == (0, 1, 1e200)
    assert net.history_["epoch"] == []
    assert np.all(np.isfinite(net.get_parameters()))
    ref.update_mini_batch(X[:5], Y[:5], 1e200)
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=1e-12)
    net.feedforward(X[:1] * 0.0)  # the network is still usable


def test_divergence_in_a_later_epoch_keeps_history_and_last_finite_step():
    """A one-weight linear unit with eta = 3: z = w + b is multiplied by -5 every step.

    With x = 1, y = 0 and quadratic cost, dC/dw = dC/db = z, so one step gives
    z' = (w - 3z) + (b - 3z) = -5z. The cost z^2 / 2 overflows after about 220
    steps, in epoch 22 of 10 single-example steps. The reference replays the
    steps until the cost is no longer finite.
    """
    net = fastbp.Network([1, 1], activation="linear", cost="quadratic", seed=0)
    net.weights = [[[0.6]]]
    net.biases = [[0.4]]
    X, Y = np.ones((10, 1)), np.zeros((10, 1))
    with pytest.raises(fastbp.DivergenceError) as info:
        net.fit(X, Y, epochs=100, batch_size=1, eta=3.0, shuffle=False)
    err = info.value
    steps_done = err.epoch * 10 + err.batch
    assert err.epoch >= 1 and 0 <= err.batch < 10 and err.eta == 3.0
    assert net.history_["epoch"] == list(range(1, err.epoch + 1))
    assert np.all(np.isfinite(net.get_parameters()))

    ref = ReferenceNetwork([[[0.6]]], [[0.4]], ["linear"], "quadratic")
    ref_steps = 0
    while True:
        with np.errstate(over="ignore"):
            cost = ref.example_cost(ref.feedforward(X[0]), Y[0])
        if not np.isfinite(cost):
            break
        trial = ref.copy()
        trial.update_mini_batch(X[:1], Y[:1], 3.0)
        if not np.all(np.isfinite(trial.parameters())):
            break
        ref, ref_steps = trial, ref_steps + 1
    assert steps_done == ref_steps
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=1e-12)


# ---------------------------------------------------------------------------
# Invalid arguments: a representative few (the exhaustive sweep lives elsewhere).
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,exc,name", [
    (dict(sizes="784,30,10"), TypeError, "sizes"),
    (dict(sizes=[4]), ValueError, "sizes"),
    (dict(sizes=[4, 0, 3]), ValueError, r"sizes\[1\]"),
    (dict(sizes=[4, 2.5, 3]), TypeError, r"sizes\[1\]"),
    (dict(activation="swish"), ValueError, "activation"),
    (dict(activation=3), TypeError, "activation"),
    (dict(activation=["tanh"]), ValueError, "activation"),
    (dict(cost="hinge"), ValueError, "cost"),
    (dict(dtype=np.int32), ValueError, "dtype"),
    (dict(init="xavier"), ValueError, "init"),
])
def test_invalid_constructor_arguments(kwargs, exc, name):
    args = dict(sizes=[4, 5, 3])
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        fastbp.Network(**args)


@pytest.mark.parametrize("kwargs,exc,name", [
    (dict(eta=0.0), ValueError, "eta"),
    (dict(eta="fast"), TypeError, "eta"),
    (dict(eta=float("nan")), ValueError, "eta"),
    (dict(epochs=1.5), TypeError, "epochs"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(lmbda=-1.0), ValueError, "lmbda"),
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(regularization="l3"), ValueError, "regularization"),
    (dict(chunk_size=0), ValueError, "chunk_size"),
    (dict(callback=3), TypeError, "callback"),
    (dict(evaluation_data=np.zeros((3, 4))), TypeError, "evaluation_data"),
    (dict(evaluation_data=(np.zeros((3, 5)), [0, 1, 2])), ValueError, "evaluation_data"),
    (dict(X=np.zeros((13, 5))), ValueError, "X"),
    (dict(X=np.full((13, 4), np.nan)), ValueError, "X"),
    (dict(X=np.zeros((0, 4)), Y=np.zeros((0, 3))), ValueError, "X"),
    (dict(Y=np.zeros((13, 2))), ValueError, "Y"),
    (dict(Y=np.arange(13)), ValueError, "y|Y"),  # labels outside [0, 3)
    (dict(Y=np.full((13, 3), np.inf)), ValueError, "Y"),
])
def test_invalid_fit_arguments(kwargs, exc, name, small_data):
    X, Y = small_data
    args = dict(X=X, Y=Y, epochs=1, batch_size=5, eta=0.5)
    args.update(kwargs)
    net = fastbp.Network([4, 5, 3], seed=0)
    before = net.get_parameters()
    with pytest.raises(exc, match=name):
        net.fit(**args)
    np.testing.assert_array_equal(net.get_parameters(), before)


def test_invalid_inputs_to_inference(small_data):
    X, Y = small_data
    net = fastbp.Network([4, 5, 3], seed=0)
    with pytest.raises(ValueError, match="X"):
        net.feedforward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X"):
        net.feedforward(np.zeros((2, 4, 1)))
    with pytest.raises(TypeError, match="X"):
        net.feedforward("abc")
    with pytest.raises(ValueError, match="y"):
        net.accuracy(X, np.full(13, 5))
    with pytest.raises(ValueError, match="Y"):
        net.gradients(X, Y[:5])
    with pytest.raises(ValueError, match="X"):
        net.gradients(X[0], Y[0])  # gradients need a 2-D batch


@pytest.mark.parametrize("cost,output,bad", [("cross_entropy", "sigmoid", 7.0),
                                             ("cross_entropy", "sigmoid", -0.5),
                                             ("log_likelihood", "softmax", -1.0)])
def test_targets_outside_the_costs_range_are_refused(cost, output, bad):
    net = fastbp.Network([2, 2], cost=cost, output_activation=output, seed=0)
    X = np.zeros((3, 2))
    Y = np.full((3, 2), 0.5)
    Y[1, 0] = bad
    for call in (lambda: net.cost(X, Y), lambda: net.gradients(X, Y),
                 lambda: net.fit(X, Y, 1, 2, 0.1), lambda: net.trace(X, Y)):
        with pytest.raises(ValueError, match=f"the {cost} cost needs targets"):
            call()
    assert net.cost(X, np.clip(Y, 0.0, 1.0)) >= 0.0


def test_the_quadratic_cost_takes_any_real_target():
    net = fastbp.Network([2, 2], activation="linear", seed=0)
    assert net.cost(np.zeros((1, 2)), np.array([[7.0, -3.0]])) > 0.0
