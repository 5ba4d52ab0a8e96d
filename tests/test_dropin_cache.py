"""The drop-ins' conversion cache (fastbp.network, shared by fastbp.network2).

A second SGD call on the same tuples (shuffled by the first, as the book's
SGD leaves them) must reuse the converted arrays and give bit for bit the
parameters, printed lines and monitor values of a fresh conversion; any list
with a tuple that the cache did not index must be converted again.
"""
import contextlib
import io

import numpy as np
import pytest

from book_reference import global_random_state
from dropin_helpers import SIZES, copy_params, make_data
from fastbp import network, network2


@pytest.fixture(autouse=True)
def empty_cache():
    network.clear_conversion_cache()
    yield
    network.clear_conversion_cache()


@pytest.fixture
def conversions(monkeypatch):
    """Counts the list-to-array conversions (calls of network._split)."""
    calls = []
    split = network._split

    def counting_split(data, width, name):
        calls.append(len(data))
        return split(data, width, name)

    monkeypatch.setattr(network, "_split", counting_split)
    return calls


def _train(module, data, seed=1, epochs=2, **kwargs):
    """A fresh network (seeded) after SGD on ``data``: (params, SGD's result, printed text)."""
    with global_random_state(seed):
        net = module.Network(SIZES)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = net.SGD(data, epochs, 5, 0.5, **kwargs)
    return copy_params(net), result, out.getvalue()


def _fresh(module, data, seed=1, **kwargs):
    """_train with the cache cleared first: the uncached result."""
    network.clear_conversion_cache()
    return _train(module, data, seed, **kwargs)


def _assert_same(a, b):
    (wa, ba), (wb, bb) = a[0], b[0]
    for x, y in zip(wa + ba, wb + bb):
        np.testing.assert_array_equal(x, y)  # bit for bit
    assert a[1:] == b[1:]


def _assert_differs(a, b):
    assert not np.array_equal(a[0][0][0], b[0][0][0])


@pytest.mark.parametrize("module", [network, network2])
def test_second_call_on_the_shuffled_list_reuses_the_conversion(module, conversions):
    data = make_data(37, seed=1)
    first = list(data)
    _train(module, data, seed=5)
    assert conversions == [37]
    assert [id(t) for t in data] != [id(t) for t in first]  # shuffled in place by SGD
    before = list(data)
    cached = _train(module, data)
    assert conversions == [37]  # no conversion: the cached rows, reordered
    after_cached = [id(t) for t in data]
    data[:] = before
    uncached = _fresh(module, data)
    assert conversions == [37, 37]
    _assert_same(cached, uncached)
    assert [id(t) for t in data] == after_cached  # the same shuffle left behind


def test_monitors_and_evaluation_data_are_bit_identical_from_the_cache(conversions):
    data = make_data(23, seed=3)
    evaluation = make_data(15, seed=4, labels=True)
    monitors = dict(lmbda=1.5, evaluation_data=evaluation, monitor_evaluation_cost=True,
                    monitor_evaluation_accuracy=True, monitor_training_cost=True,
                    monitor_training_accuracy=True)
    _train(network2, data, seed=8, **monitors)
    assert conversions == [15, 23]
    before = list(data)
    cached = _train(network2, data, epochs=3, **monitors)
    assert conversions == [15, 23]
    data[:] = before
    uncached = _fresh(network2, data, epochs=3, **monitors)
    _assert_same(cached, uncached)  # parameters, the four lists and the printed costs
    assert len(cached[1][2]) == 3


def _uncached(fn):
    network.clear_conversion_cache()
    try:
        return fn()
    finally:
        network.clear_conversion_cache()


def test_network_test_data_and_evaluate_reuse_the_conversion(conversions, capsys):
    data = make_data(20, seed=2)
    test_data = make_data(30, seed=3, labels=True)
    with global_random_state(1):
        net = network.Network(SIZES)
        net.SGD(data, 2, 5, 3.0, test_data=test_data)
        k = net.evaluate(test_data)
        net.SGD(data, 1, 5, 3.0, test_data=test_data)
    assert conversions == [30, 20]  # test data, then training data; nothing after
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == f"Epoch 1: {k} / 30"
    subset = test_data[::-1][:7]
    expected = [_uncached(lambda: net.evaluate(test_data)), _uncached(lambda: net.evaluate(subset))]
    net.evaluate(test_data)
    del conversions[:]
    assert [net.evaluate(test_data), net.evaluate(subset)] == expected
    assert conversions == []


def test_accuracy_and_total_cost_from_the_cache(conversions):
    data = make_data(25, seed=6)
    labelled = make_data(18, seed=7, labels=True)
    with global_random_state(2):
        net = network2.Network(SIZES)
    calls = [lambda: net.accuracy(data, convert=True), lambda: net.total_cost(data, 0.7),
             lambda: net.accuracy(labelled), lambda: net.total_cost(labelled, 0.7, convert=True)]

    def reverse():
        data.reverse()
        labelled.reverse()

    in_order = [_uncached(call) for call in calls]
    reverse()
    reversed_ = [_uncached(call) for call in calls]
    reverse()
    assert [call() for call in calls] == in_order  # converts each layout once, keeps it
    reverse()
    del conversions[:]
    assert [call() for call in calls] == reversed_  # reordered hits: the list's order
    assert conversions == []
    assert all(type(v) is int for v in reversed_[0::2])


@pytest.mark.parametrize("change", ["replaced", "appended", "removed", "repeated", "rebuilt"])
def test_changed_lists_are_right(change, conversions):
    data = make_data(30, seed=9)
    _train(network, data, seed=3)
    new = make_data(1, seed=99)[0]
    changed = list(data)
    if change == "replaced":
        changed[4] = new
    elif change == "appended":
        changed.append(new)
    elif change == "removed":
        del changed[7]
    elif change == "repeated":
        changed.append(changed[0])
    else:  # same arrays, new tuples: zip(*zip(...)) as a script rebuilding its list would
        changed = list(zip(*zip(*changed)))
    before = list(changed)
    got = _train(network, changed)
    # Lists with a new tuple are converted again; removed or repeated items come from the cache.
    assert len(conversions) == (1 if change in ("removed", "repeated") else 2)
    changed[:] = before
    _assert_same(got, _fresh(network, changed))
    if change in ("replaced", "appended", "removed"):
        data_copy = list(data)
        _assert_differs(got, _fresh(network, data_copy))


def test_two_lists_alternately(conversions):
    a, b = make_data(21, seed=10), make_data(22, seed=11)
    results = []
    for data in (a, b, a, b):
        before = list(data)
        got = _train(network, data)
        after = list(data)
        data[:] = before
        _assert_same(got, _fresh(network, data))
        data[:] = after
        results.append(got)
    _assert_differs(results[0], results[1])
    assert any(t is network._cache["training"].items[0] for t in b)  # the last list's entry


def test_clear_and_switch_off(conversions, monkeypatch):
    assert network2.clear_conversion_cache is network.clear_conversion_cache
    assert "clear_conversion_cache" in network.__all__ and "clear_conversion_cache" in network2.__all__
    data = make_data(12, seed=12)
    _train(network, data)
    _train(network, data)
    assert conversions == [12]
    network.clear_conversion_cache()
    assert network._cache == {}
    _train(network, data)
    assert conversions == [12, 12]
    monkeypatch.setattr(network, "cache_conversions", False)
    network.clear_conversion_cache()
    _train(network, data)
    _train(network, data)
    assert conversions == [12, 12, 12, 12]
    assert network._cache == {}


def test_in_place_edits(conversions):
    """Identity cannot see an edited x; an edit of every x is caught, clear() shows any."""
    data = make_data(40, seed=13)
    _train(network, data)
    for x, _ in data:  # normalising the whole data set in place
        x *= 0.5
    before = list(data)
    got = _train(network, data)
    assert conversions == [40, 40]
    data[:] = before
    _assert_same(got, _fresh(network, data))

    # One example edited in place: documented as unseen until clear_conversion_cache().
    data[:] = before
    _train(network, data)
    data[17][0][:] = 0.25
    network.clear_conversion_cache()
    before = list(data)
    got = _train(network, data)
    data[:] = before
    _assert_same(got, _fresh(network, data))
    assert all(x.flags.writeable for x, _ in data)  # the cache never locks the user's arrays


def test_lists_of_lists_and_other_sequences_are_not_cached(conversions):
    pairs = [[x, y] for x, y in make_data(10, seed=14)]
    _train(network, pairs)
    pairs[3][0] = np.zeros((SIZES[0], 1))  # a list's member can be replaced in place
    before = list(pairs)
    got = _train(network, pairs)
    assert conversions == [10, 10]
    pairs[:] = before
    _assert_same(got, _fresh(network, pairs))
    assert network._cache == {}


def test_errors_are_the_same_with_a_cache():
    data = make_data(10, seed=15)
    _train(network, data)
    with pytest.raises(ValueError, match="training_data\\[0\\]\\[0\\]: expected an input"):
        network.Network([5, 3]).SGD(data, 1, 2, 1.0)  # another width: never a hit
    bad = list(data) + [(np.full((SIZES[0], 1), np.nan), data[0][1])]
    with pytest.raises(ValueError, match="NaN"):
        network.Network(SIZES).SGD(bad, 1, 2, 1.0)
    with pytest.raises(ValueError, match="test_data: expected integer class labels"):
        network.Network(SIZES).evaluate(data)  # training layout as test data


def test_an_entry_is_dropped_when_its_data_is_gone():
    data = make_data(10, seed=16)
    _train(network, data)
    assert "training" in network._cache
    del data
    network.Network(SIZES).evaluate(make_data(5, seed=17, labels=True))  # any later conversion
    assert "training" not in network._cache and "evaluation" in network._cache
