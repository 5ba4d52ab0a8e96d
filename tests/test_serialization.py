"""save / load: round trips, network2.py files, custom activations, bad files, atomic saves."""
import json
import math
import os

import numpy as np
import pytest

import fastbp
from reference import ReferenceNetwork

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")  # random-label fits

ROUND_TRIP = [
    ([4, 5, 3], "sigmoid", None, "quadratic"),
    ([4, 6, 5, 3], "tanh", "sigmoid", "cross_entropy"),
    ([4, 6, 3], "relu", "softmax", "log_likelihood"),
    ([4, 5, 3], "linear", None, "quadratic"),
    ([4, 6, 5, 3], ["relu", "tanh", "sigmoid"], None, "cross_entropy"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes,activation,output,cost", ROUND_TRIP)
def test_round_trip(sizes, activation, output, cost, dtype, tmp_path, small_data):
    X, Y = small_data
    net = fastbp.Network(sizes, activation=activation, output_activation=output, cost=cost,
                         dtype=dtype, seed=5)
    net.fit(X, Y, epochs=1, batch_size=4, eta=0.3, seed=0)  # not just the initial draw
    path = tmp_path / "net.json"
    net.save(path)
    loaded = fastbp.load(path)
    assert loaded.sizes == net.sizes
    assert loaded.dtype == net.dtype
    assert [a.name for a in loaded.activations] == [a.name for a in net.activations]
    assert loaded.cost_function.name == net.cost_function.name
    np.testing.assert_array_equal(loaded.get_parameters(), net.get_parameters())
    np.testing.assert_array_equal(loaded.feedforward(X), net.feedforward(X))
    assert loaded.feedforward(X).dtype == dtype
    loaded.save(tmp_path / "again.json")  # and a loaded network saves the same file
    assert json.loads((tmp_path / "again.json").read_text()) == json.loads(path.read_text())


def test_load_accepts_str_paths(tmp_path):
    net = fastbp.Network([3, 2], seed=0)
    path = str(tmp_path / "n.json")
    net.save(path)
    np.testing.assert_array_equal(fastbp.load(path).get_parameters(), net.get_parameters())


def network2_file(path, sizes, cost_class, seed):
    """Write a file exactly as the book's network2.py ``Network.save`` does.

    network2.py keeps biases as (n, 1) column vectors and writes::

        data = {"sizes": self.sizes,
                "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases],
                "cost": str(self.cost.__name__)}
        json.dump(data, f)
    """
    r = np.random.default_rng(seed)
    weights = [r.standard_normal((y, x)) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [r.standard_normal((y, 1)) for y in sizes[1:]]
    data = {"sizes": sizes, "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases], "cost": cost_class}
    with open(path, "w") as f:
        json.dump(data, f)
    return weights, biases


@pytest.mark.parametrize("cost_class,cost", [("CrossEntropyCost", "cross_entropy"),
                                             ("QuadraticCost", "quadratic")])
def test_load_a_network2_file(cost_class, cost, tmp_path):
    path = tmp_path / "book.json"
    weights, biases = network2_file(path, [6, 5, 4, 3], cost_class, seed=1)
    net = fastbp.load(path)
    assert net.sizes == (6, 5, 4, 3)
    assert net.cost_function.name == cost
    assert [a.name for a in net.activations] == ["sigmoid"] * 3
    assert net.dtype == np.float64
    ref = ReferenceNetwork(weights, biases, ["sigmoid"] * 3, cost)
    X = np.random.default_rng(2).uniform(0, 1, size=(7, 6))
    expected = np.vstack([ref.feedforward(x).T for x in X])
    np.testing.assert_allclose(net.feedforward(X), expected, rtol=1e-14, atol=1e-16)
    for l in range(3):
        np.testing.assert_array_equal(net.weights[l], weights[l])
        np.testing.assert_array_equal(net.biases[l], biases[l].ravel())


def test_saved_file_is_readable_by_network2_conventions(tmp_path):
    """The fields network2.py's load reads are there, biases as (n, 1) nested lists."""
    net = fastbp.Network([3, 4, 2], cost="cross_entropy", seed=0)
    net.save(tmp_path / "n.json")
    data = json.loads((tmp_path / "n.json").read_text())
    assert data["sizes"] == [3, 4, 2]
    assert data["cost"] == "CrossEntropyCost"
    assert np.array(data["weights"][0]).shape == (4, 3)
    assert np.array(data["biases"][0]).shape == (4, 1)
    np.testing.assert_array_equal(np.array(data["biases"][1]).ravel(), net.biases[1])


# ---------------------------------------------------------------------------
# Custom activations: their code is not in the file.
# ---------------------------------------------------------------------------


def test_custom_activation_save_and_load(softplus, tmp_path, small_data):
    X, _ = small_data
    net = fastbp.Network([4, 5, 3], activation=softplus, output_activation="sigmoid",
                         cost="cross_entropy", seed=3)
    path = tmp_path / "custom.json"
    net.save(path)
    assert "softplus" in json.loads(path.read_text())["activations"][0]
    with pytest.raises(ValueError, match="custom_activations") as info:
        fastbp.load(path)
    assert "softplus" in str(info.value)
    with pytest.raises(ValueError, match="custom_activations"):
        fastbp.load(path, custom_activations={"other": softplus})
    loaded = fastbp.load(path, custom_activations={"softplus": softplus})
    np.testing.assert_array_equal(loaded.feedforward(X), net.feedforward(X))
    # the loaded network trains like the original
    before = loaded.get_parameters()
    loaded.fit(X, np.zeros((13, 3)), epochs=1, batch_size=13, eta=0.1)
    assert not np.array_equal(before, loaded.get_parameters())


def test_custom_activations_must_be_activations(softplus, tmp_path):
    net = fastbp.Network([4, 3], activation=softplus, seed=3)
    net.save(tmp_path / "c.json")
    with pytest.raises(ValueError, match="softplus"):
        fastbp.load(tmp_path / "c.json",
                    custom_activations={"softplus": lambda z: math.log1p(math.exp(z))})


# ---------------------------------------------------------------------------
# Bad files.
# ---------------------------------------------------------------------------


def valid_dict():
    net = fastbp.Network([3, 4, 2], activation="tanh", output_activation="sigmoid",
                         cost="cross_entropy", seed=0)
    return fastbp.serialization.network_to_dict(net)


def edit(**changes):
    def apply(d):
        d.update(changes)
        return d
    return apply


def delete(key):
    def apply(d):
        del d[key]
        return d
    return apply


def set_weight(value):
    def apply(d):
        d["weights"][0][1][2] = value
        return d
    return apply


BAD_EDITS = {
    "weights transposed": lambda d: dict(d, weights=[np.array(d["weights"][0]).T.tolist(),
                                                     d["weights"][1]]),
    "bias too long": lambda d: dict(d, biases=[d["biases"][0] + [[0.0]], d["biases"][1]]),
    "one layer missing": lambda d: dict(d, weights=d["weights"][:1]),
    "sizes disagree": edit(sizes=[3, 5, 2]),
    "sizes too short": edit(sizes=[3]),
    "sizes negative": edit(sizes=[3, -4, 2]),
    "weight is null": set_weight(None),
    "weight is a list": set_weight([0.5]),
    "weights not a list": edit(weights="[[1]]"),
    "unknown cost": edit(cost="HingeCost"),
    "cost not a string": edit(cost=3),
    "unknown activation": edit(activations=["swish", "sigmoid"]),
    "wrong number of activations": edit(activations=["tanh"]),
    "softmax with cross-entropy": edit(activations=["tanh", "softmax"]),
    "future version": edit(version=99),
    "version as string": edit(version="1"),
    "version as bool": edit(version=True),
    "bad dtype": edit(dtype="float16"),
    "no weights": delete("weights"),
    "no sizes": delete("sizes"),
}


@pytest.mark.parametrize("case", list(BAD_EDITS))
def test_hand_edited_files_raise_value_error(case, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD_EDITS[case](valid_dict())))
    with pytest.raises(ValueError, match="bad.json"):
        fastbp.load(path)


@pytest.mark.parametrize("value", ["0.5", " 7 ", True])
def test_non_number_weight_raises_value_error(value, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(set_weight(value)(valid_dict())))
    with pytest.raises(ValueError, match="bad.json"):
        fastbp.load(path)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_raise_value_error(literal, tmp_path):
    text = json.dumps(valid_dict())
    first = json.dumps(valid_dict()["weights"][0][0][0])
    path = tmp_path / "nan.json"
    path.write_text(text.replace(first, literal, 1))
    assert literal in path.read_text()
    with pytest.raises(ValueError, match="non-finite"):
        fastbp.load(path)


@pytest.mark.parametrize("content", [
    b"", b"{", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b"null", b'"a string"',
])
def test_not_a_model_file_raises_value_error(content, tmp_path):
    path = tmp_path / "junk.json"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        fastbp.load(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated_file_raises_value_error(fraction, tmp_path):
    net = fastbp.Network([5, 6, 3], seed=0)
    net.save(tmp_path / "full.json")
    raw = (tmp_path / "full.json").read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(raw[:int(len(raw) * fraction)])
    with pytest.raises(ValueError, match="JSON"):
        fastbp.load(path)


# ---------------------------------------------------------------------------
# Atomic save.
# ---------------------------------------------------------------------------


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    old = fastbp.Network([3, 4, 2], seed=1)
    old.save(path)
    before = path.read_bytes()

    def broken_dump(data, f, *args, **kwargs):
        f.write('{"sizes": [3, 4, 2], "weights": [[')  # half a file, then a crash
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(RuntimeError, match="disk on fire"):
        fastbp.Network([3, 4, 2], seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind
    np.testing.assert_array_equal(fastbp.load(path).get_parameters(), old.get_parameters())


def test_save_writes_a_temporary_file_then_replaces(tmp_path, monkeypatch):
    """The target is only ever touched by os.replace of a complete file from the same folder."""
    path = tmp_path / "model.json"
    fastbp.Network([3, 4, 2], seed=1).save(path)
    calls = []
    real_replace = os.replace

    def spying_replace(src, dst, *args, **kwargs):
        src, dst = os.fspath(src), os.fspath(dst)
        calls.append((src, dst))
        assert os.path.dirname(os.path.abspath(src)) == os.path.dirname(os.path.abspath(dst))
        assert src != dst
        json.loads(open(src).read())  # complete before it replaces the target
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spying_replace)
    net = fastbp.Network([3, 4, 2], seed=2)
    net.save(path)
    monkeypatch.undo()
    assert len(calls) == 1 and os.path.abspath(calls[0][1]) == os.path.abspath(path)
    assert not os.path.exists(calls[0][0])
    np.testing.assert_array_equal(fastbp.load(path).get_parameters(), net.get_parameters())
