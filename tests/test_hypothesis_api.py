"""Property-based tests of the public API: random shapes, dtypes and values, never a crash.

Hypothesis draws networks (1 to 4 layers of 1 to 6 units, float32 or
float64, activations and costs valid and invalid) and data (arrays of random
shape and dtype with NaN, infinities, huge values, empty dimensions). For
every call the only exceptions allowed out are the documented ones:
TypeError, ValueError and fastbp.DivergenceError. When a call succeeds, its
result has the documented shape and dtype.

The examples are derandomized (the same ones every run) and bounded, so the
file runs in well under a minute once the kernels are compiled.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastbp

pytestmark = pytest.mark.slow  # hypothesis property tests; run by .ci/run (pytest -m slow)

DOCUMENTED = (TypeError, ValueError, fastbp.DivergenceError)
NAN = float("nan")
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

VALID_HIDDEN = ["sigmoid", "tanh", "relu", "linear"]
INVALID_ACTIVATIONS = ["softmax", "swish", "", 3, None, 1.5]
COSTS = ["quadratic", "cross_entropy", "log_likelihood"]
OUTPUT_FOR_COST = {"quadratic": VALID_HIDDEN, "cross_entropy": ["sigmoid"],
                   "log_likelihood": ["softmax"]}


def call(fn, *args, **kwargs):
    """(result, None) or (None, exception); anything but a documented exception fails the test."""
    try:
        return fn(*args, **kwargs), None
    except DOCUMENTED as exc:
        assert not type(exc).__module__.startswith("numba"), f"a Numba error escaped: {exc!r}"
        assert str(exc), f"{type(exc).__name__} without a message"
        return None, exc


# -------------------------------------------------------------------------------------- strategies

sizes_st = st.lists(st.integers(1, 6), min_size=2, max_size=5)
dtype_st = st.sampled_from([np.float32, np.float64])


@st.composite
def valid_networks(draw):
    sizes = draw(sizes_st)
    cost = draw(st.sampled_from(COSTS))
    output = draw(st.sampled_from(OUTPUT_FOR_COST[cost]))
    hidden = draw(st.lists(st.sampled_from(VALID_HIDDEN), min_size=len(sizes) - 2,
                           max_size=len(sizes) - 2))
    dtype = draw(dtype_st)
    net = fastbp.Network(sizes, activation=hidden + [output], cost=cost, dtype=dtype,
                         seed=draw(st.integers(0, 2**32)))
    return net


ARRAY_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_,
                np.complex128]


def elements_for(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
    if dtype.kind == "c":
        return st.complex_numbers(allow_nan=True, allow_infinity=True,
                                  width=dtype.itemsize * 8)
    return None  # hypothesis's default for the dtype: the whole range


@st.composite
def arrays_near(draw, shape):
    """An array of ``shape`` most of the time, else of a random (wrong) shape and ndim.

    Values: mostly modest floats, sometimes anything of the dtype (NaN,
    infinities, 1e308, int64 extremes).
    """
    if draw(st.integers(0, 4)) == 0:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7))
    dtype = draw(st.sampled_from(ARRAY_DTYPES)) if draw(st.booleans()) else np.float64
    if draw(st.integers(0, 2)) == 0:
        elements = elements_for(dtype)
    elif np.dtype(dtype).kind in "fc":
        elements = st.floats(-3, 3, width=32)
    else:
        elements = None
    arr = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(["C", "F", "reversed", "readonly"]))
    if layout == "F":
        arr = np.asfortranarray(arr)
    elif layout == "reversed" and arr.ndim:
        arr = arr[::-1]
    elif layout == "readonly":
        arr.flags.writeable = False
    return arr


@st.composite
def targets_near(draw, n, n_out):
    """One-hot/float rows (n, n_out), integer labels (n,), or something wrong."""
    kind = draw(st.sampled_from(["rows", "labels", "anything"]))
    if kind == "labels":
        dtype = draw(st.sampled_from([np.int64, np.int8, np.uint8]))
        low = 0 if dtype is np.uint8 else -1
        return draw(hnp.arrays(dtype, (n,), elements=st.integers(low, n_out)))
    if kind == "rows":
        return draw(arrays_near((n, n_out)))
    return draw(arrays_near(draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=7))))


def snapshot(arr):
    return arr.copy(), arr.dtype, arr.shape


def unchanged(arr, snap):
    return (arr.dtype == snap[1] and arr.shape == snap[2]
            and np.array_equal(arr, snap[0], equal_nan=arr.dtype.kind in "fc"))


# --------------------------------------------------------------------------------- the constructor


@settings(max_examples=150, **SETTINGS)
@given(sizes=st.one_of(sizes_st, st.lists(st.integers(-2, 7), max_size=6),
                       st.sampled_from([None, "4,3", 4, (4.0, 3), {4, 3}, [4, True]])),
       activation=st.one_of(st.sampled_from(VALID_HIDDEN + INVALID_ACTIVATIONS),
                            st.lists(st.sampled_from(VALID_HIDDEN + ["softmax", "x"]),
                                     max_size=5)),
       output=st.sampled_from([None, "sigmoid", "softmax", "linear", "tanh", "bogus", 7]),
       cost=st.sampled_from(COSTS + ["hinge", None, 0]),
       dtype=st.sampled_from([np.float32, np.float64, np.float16, np.int32, "f8", "x", None]),
       input_scale=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                             st.integers(-3, 3)))
def test_constructor_raises_only_documented_errors(sizes, activation, output, cost, dtype,
                                                   input_scale):
    net, exc = call(fastbp.Network, sizes, activation=activation, output_activation=output,
                    cost=cost, dtype=dtype, seed=0, input_scale=input_scale)
    if exc is not None:
        return
    assert net.dtype in (np.float32, np.float64)
    assert len(net.sizes) >= 2 and all(s >= 1 for s in net.sizes)
    assert math.isfinite(net.input_scale) and net.input_scale > 0
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        assert W.shape == (net.sizes[l + 1], net.sizes[l]) and W.dtype == net.dtype
        assert b.shape == (net.sizes[l + 1],) and b.dtype == net.dtype
    assert np.all(np.isfinite(net.get_parameters()))


# ------------------------------------------------------------------------- inference and gradients


@settings(max_examples=120, **SETTINGS)
@given(st.data())
def test_inference_and_gradients_on_random_arrays(data):
    net = data.draw(valid_networks())
    n = data.draw(st.integers(0, 7))
    X = data.draw(arrays_near((n, net.sizes[0])))
    Y = data.draw(targets_near(n, net.sizes[-1]))
    snaps = snapshot(X), snapshot(Y)
    theta = net.get_parameters()
    n_out = net.sizes[-1]

    out, exc = call(net.feedforward, X)
    if exc is None:
        rows = 1 if X.ndim == 1 else X.shape[0]
        assert out.dtype == net.dtype
        assert out.shape == ((n_out,) if X.ndim == 1 else (rows, n_out))
    labels, exc = call(net.predict, X)
    if exc is None:
        assert np.asarray(labels).dtype.kind == "i"
        assert np.all((0 <= labels) & (labels < n_out))
    grads, exc = call(net.gradients, X, Y)
    if exc is None:
        nabla_b, nabla_w = grads
        for l in range(len(net.sizes) - 1):
            assert nabla_b[l].shape == (net.sizes[l + 1],) and nabla_b[l].dtype == net.dtype
            assert nabla_w[l].shape == (net.sizes[l + 1], net.sizes[l])
            assert nabla_w[l].dtype == net.dtype
    cost, exc = call(net.cost, X, Y, lmbda=data.draw(st.sampled_from([0.0, 0.5, -1.0, NAN])))
    if exc is None:
        assert isinstance(cost, float) and not cost < 0  # NaN only by overflow of huge inputs
    acc, exc = call(net.accuracy, X, Y)
    if exc is None:
        assert isinstance(acc, float) and 0.0 <= acc <= 1.0
    trace, exc = call(net.trace, X, Y)
    if exc is None:
        L = len(net.sizes) - 1
        assert len(trace["z"]) == L and len(trace["a"]) == L + 1 and len(trace["delta"]) == L
        for l in range(L):
            assert trace["z"][l].shape == (X.shape[0], net.sizes[l + 1])
    assert unchanged(X, snaps[0]) and unchanged(Y, snaps[1])
    np.testing.assert_array_equal(net.get_parameters(), theta)  # inference changes nothing


# ---------------------------------------------------------------------------------------- training


hyper = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 3),
                  st.sampled_from([None, "0.1", True]))


@settings(max_examples=120, **SETTINGS)
@given(st.data())
def test_fit_on_random_data_and_hyperparameters(data):
    net = data.draw(valid_networks())
    n = data.draw(st.integers(0, 9))
    X = data.draw(arrays_near((n, net.sizes[0])))
    Y = data.draw(targets_near(n, net.sizes[-1]))
    kwargs = dict(
        epochs=data.draw(st.one_of(st.integers(-1, 2), hyper)),
        batch_size=data.draw(st.one_of(st.integers(0, 12), st.sampled_from([2**62, 2**64]),
                                       hyper)),
        eta=data.draw(st.one_of(st.floats(1e-3, 5.0), st.sampled_from([1e300]), hyper)),
        lmbda=data.draw(st.one_of(st.just(0.0), st.floats(0, 5), hyper)),
        momentum=data.draw(st.one_of(st.just(0.0), st.floats(0, 0.99), hyper)),
        chunk_size=data.draw(st.one_of(st.none(), st.integers(0, 4), hyper)),
        seed=0)
    if isinstance(kwargs["epochs"], int) and kwargs["epochs"] > 2:
        kwargs["epochs"] = 2  # bounded run time; larger values are tested elsewhere
    snaps = snapshot(X), snapshot(Y)
    theta = net.get_parameters()
    history, exc = call(net.fit, X, Y, **kwargs)
    assert unchanged(X, snaps[0]) and unchanged(Y, snaps[1])
    assert np.all(np.isfinite(net.get_parameters())), "non-finite parameters kept"
    if exc is None:
        assert history["epoch"] == list(range(1, kwargs["epochs"] + 1))
        assert len(history["train_cost"]) == kwargs["epochs"]
        assert net.get_parameters().dtype == net.dtype
    elif isinstance(exc, fastbp.DivergenceError):
        assert "eta" in str(exc) and exc.epoch >= 0 and exc.batch >= 0
    else:
        np.testing.assert_array_equal(net.get_parameters(), theta)  # refused before training


# -------------------------------------------------------------------------------------- parameters


@settings(max_examples=80, **SETTINGS)
@given(st.data())
def test_assigning_random_arrays_to_parameters(data):
    net = data.draw(valid_networks())
    l = data.draw(st.integers(0, len(net.sizes) - 2))
    which = data.draw(st.sampled_from(["weights", "biases"]))
    shape = (net.sizes[l + 1], net.sizes[l]) if which == "weights" else (net.sizes[l + 1],)
    value = data.draw(arrays_near(shape))
    overflows = False  # finite values that become inf in the network's dtype
    if value.dtype.kind in "fiub" and np.all(np.isfinite(value)):
        with np.errstate(over="ignore"):
            overflows = not np.all(np.isfinite(value.astype(net.dtype)))
    snap = snapshot(value)
    theta = net.get_parameters()
    _, exc = call(getattr(net, which).__setitem__, l, value)
    assert unchanged(value, snap)
    if overflows:
        assert isinstance(exc, ValueError), "values beyond the network's dtype were accepted"
    if exc is None:
        stored = getattr(net, which)[l]
        np.testing.assert_array_equal(stored, np.asarray(value).astype(net.dtype).reshape(
            stored.shape))
        assert np.all(np.isfinite(net.get_parameters()))
    else:
        np.testing.assert_array_equal(net.get_parameters(), theta)


# ------------------------------------------------------------------------------------------- files

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False,
                                                                allow_infinity=False),
              st.text(max_size=8)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                       children, max_size=4),
    max_leaves=12)


@settings(max_examples=150, **SETTINGS)
@given(field=st.sampled_from(["sizes", "weights", "biases", "cost", "activations", "dtype",
                              "version", "format", "input_scale", "unknown"]),
       value=json_values, delete=st.booleans())
def test_loading_edited_model_files(tmp_path_factory, field, value, delete):
    folder = tmp_path_factory.mktemp("files")
    net = fastbp.Network([3, 2, 2], seed=0)
    content = fastbp.serialization.network_to_dict(net)
    if delete:
        content.pop(field, None)
    else:
        content[field] = value
    path = folder / "m.json"
    path.write_text(json.dumps(content))
    loaded, exc = call(fastbp.load, path)
    if exc is not None:
        assert isinstance(exc, ValueError), exc  # a file's content: always ValueError
        assert "m.json" in str(exc) or "custom_activations" in str(exc)
        return
    assert loaded.sizes == tuple(content.get("sizes", loaded.sizes))
    assert np.all(np.isfinite(loaded.get_parameters()))


@settings(max_examples=60, **SETTINGS)
@given(cut=st.integers(0, 10**6), junk=st.binary(max_size=20))
def test_loading_damaged_bytes(tmp_path_factory, cut, junk):
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / "m.json"
    fastbp.Network([3, 2, 2], seed=0).save(path)
    raw = path.read_bytes()
    cut = cut % (len(raw) + 1)
    path.write_bytes(raw[:cut] + junk)
    loaded, exc = call(fastbp.load, path)
    if exc is not None:
        assert isinstance(exc, ValueError), exc
    else:
        assert loaded.sizes == (3, 2, 2)


# ------------------------------------------------------------------------------------ the drop-ins


@settings(max_examples=60, **SETTINGS)
@given(st.data())
def test_book_network_sgd_on_random_tuples(data):
    from fastbp import network
    sizes = data.draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    book = network.Network(sizes)
    n = data.draw(st.integers(0, 5))
    items = []
    for _ in range(n):
        x = data.draw(arrays_near((sizes[0], 1)))
        y = data.draw(arrays_near((sizes[-1], 1)))
        items.append((x, y) if data.draw(st.integers(0, 9)) else (x,))
    test = None
    if data.draw(st.booleans()):
        test = [(data.draw(arrays_near((sizes[0], 1))), data.draw(st.integers(-1, sizes[-1])))
                for _ in range(data.draw(st.integers(0, 3)))]
    theta = book.core.get_parameters()
    _, exc = call(book.SGD, list(items), data.draw(st.integers(0, 2)),
                  data.draw(st.integers(0, 4)), data.draw(st.sampled_from([3.0, 0.0, NAN])),
                  test_data=test)
    if exc is not None and not isinstance(exc, fastbp.DivergenceError):
        np.testing.assert_array_equal(book.core.get_parameters(), theta)
    assert np.all(np.isfinite(book.core.get_parameters()))


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
