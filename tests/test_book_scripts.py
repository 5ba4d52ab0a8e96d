"""The book's chapter 1 and chapter 3 sessions, typed as a reader would, with one import changed.

Each script below is the book's code with ``import network`` (etc.) replaced
by ``from fastbp import network``, run from a ``src/`` folder next to a
``data/mnist.pkl.gz`` as in the book's repository, so that
``mnist_loader.load_data_wrapper()`` is called with no argument exactly as
in the book. The data is a small subset of real Fashion-MNIST in the book's
layout (or, if Fashion-MNIST is not installed, small synthetic images), and
the epochs are few, to keep the tests fast.
"""
import gzip
import json
import os
import pickle
import re
import runpy

import numpy as np
import pytest

import book_reference as ref
from book_reference import global_random_state

pytestmark = pytest.mark.slow  # the book's scripts, run whole; run by .ci/run (pytest -m slow)

FASHION = "/usr/share/datasets/fashion-mnist"
N_TRAIN, N_VALID, N_TEST = 1000, 200, 300


def _subset():
    """(train, valid, test) (images, labels) pairs: real Fashion-MNIST or synthetic."""
    if os.path.isdir(FASHION):
        from fastbp import mnist_loader
        tr, va, te = mnist_loader.load_data(FASHION)
        return ((tr[0][:N_TRAIN], tr[1][:N_TRAIN]), (va[0][:N_VALID], va[1][:N_VALID]),
                (te[0][:N_TEST], te[1][:N_TEST]))
    r = np.random.default_rng(0)
    prototypes = r.integers(0, 256, size=(10, 784))

    def part(n):
        labels = r.integers(0, 10, size=n).astype(np.int64)
        noisy = prototypes[labels] * 0.6 + r.integers(0, 256, size=(n, 784)) * 0.4
        return (noisy.astype(np.int64) / 256).astype(np.float32), labels

    return part(N_TRAIN), part(N_VALID), part(N_TEST)


@pytest.fixture(scope="module")
def book_tree(tmp_path_factory):
    """A folder with data/mnist.pkl.gz and src/, like the book's repository."""
    root = tmp_path_factory.mktemp("book")
    (root / "data").mkdir()
    (root / "src").mkdir()
    with gzip.open(root / "data" / "mnist.pkl.gz", "wb") as f:
        pickle.dump(_subset(), f, protocol=2)
    return root


def run_script(book_tree, monkeypatch, name, text, seed=12345678):
    """Run ``text`` as src/<name>.py from src/, with random and np.random seeded (then restored)."""
    script = book_tree / "src" / f"{name}.py"
    script.write_text(text)
    monkeypatch.chdir(book_tree / "src")
    with global_random_state(seed):
        return runpy.run_path(str(script), run_name="__main__")


CHAPTER_1 = """\
from fastbp import mnist_loader
training_data, validation_data, test_data = \\
mnist_loader.load_data_wrapper()
from fastbp import network
net = network.Network([784, 30, 10])
net.SGD(training_data, 2, 10, 3.0, test_data=test_data)
"""


def test_chapter_1_session(book_tree, monkeypatch, capsys):
    # The same session with the book's algorithm, per example, for the expected numbers.
    with global_random_state(12345678):
        from fastbp import mnist_loader
        training_data, _, test_data = mnist_loader.load_data_wrapper(book_tree / "data" /
                                                                     "mnist.pkl.gz")
        weights, biases = ref.init_parameters([784, 30, 10], "large")
        expected = []
        ref.sgd(weights, biases, training_data, 2, 10, 3.0, "quadratic",
                after_epoch=lambda j, w, b: expected.append(
                    "Epoch {0}: {1} / {2}".format(j, ref.evaluate(w, b, test_data), N_TEST)))

    env = run_script(book_tree, monkeypatch, "chapter1", CHAPTER_1)
    lines = capsys.readouterr().out.splitlines()
    assert lines == expected
    assert all(re.fullmatch(r"Epoch \d+: \d+ / 300", line) for line in lines)
    assert int(lines[-1].split()[2]) > 3 * N_TEST // 10  # well above chance (10%)
    net = env["net"]
    assert [W.shape for W in net.weights] == [(30, 784), (10, 30)]
    assert len(env["training_data"]) == N_TRAIN and len(env["validation_data"]) == N_VALID


CHAPTER_3 = """\
from fastbp import mnist_loader
training_data, validation_data, test_data = \\
mnist_loader.load_data_wrapper()
from fastbp import network2
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
net.large_weight_initializer()
net.SGD(training_data, 2, 10, 0.5, evaluation_data=test_data,
    monitor_evaluation_accuracy=True)
net.large_weight_initializer()
results = net.SGD(training_data[:500], 3, 10, 0.5,
    evaluation_data=test_data, lmbda = 0.1,
    monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
    monitor_training_cost=True, monitor_training_accuracy=True)
net.save("net.json")
net2 = network2.load("net.json")
"""


def test_chapter_3_session(book_tree, monkeypatch, capsys):
    env = run_script(book_tree, monkeypatch, "chapter3", CHAPTER_3)
    out = capsys.readouterr().out
    blocks = out.split("\n\n")
    assert blocks[-1] == ""
    blocks = blocks[:-1]
    assert len(blocks) == 5  # 2 + 3 epochs, each block ends with an empty line
    for j, block in enumerate(blocks[:2]):
        lines = block.splitlines()
        assert lines[0] == f"Epoch {j} training complete"
        assert re.fullmatch(r"Accuracy on evaluation data: \d+ / 300", lines[1])
        assert len(lines) == 2
    patterns = [r"Epoch {j} training complete", r"Cost on training data: [0-9.e+-]+",
                r"Accuracy on training data: \d+ / 500", r"Cost on evaluation data: [0-9.e+-]+",
                r"Accuracy on evaluation data: \d+ / 300"]
    for j, block in enumerate(blocks[2:]):
        lines = block.splitlines()
        assert len(lines) == len(patterns)
        for line, pattern in zip(lines, patterns):
            assert re.fullmatch(pattern.replace("{j}", str(j)), line), line

    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = env["results"]
    assert [len(v) for v in env["results"]] == [3, 3, 3, 3]
    assert [f"Cost on training data: {c}" for c in training_cost] == \
        [b.splitlines()[1] for b in blocks[2:]]
    assert [f"Accuracy on evaluation data: {a} / 300" for a in evaluation_accuracy] == \
        [b.splitlines()[4] for b in blocks[2:]]
    assert training_accuracy[-1] > 0.3 * 500

    saved = json.loads((book_tree / "src" / "net.json").read_text())
    assert list(saved) == ["sizes", "weights", "biases", "cost"]
    assert saved["cost"] == "CrossEntropyCost" and saved["sizes"] == [784, 30, 10]
    net, net2 = env["net"], env["net2"]
    for a, b in zip(net.weights + net.biases, net2.weights + net2.biases):
        np.testing.assert_array_equal(a, b)
    x = env["test_data"][0][0]
    np.testing.assert_array_equal(net.feedforward(x), net2.feedforward(x))
