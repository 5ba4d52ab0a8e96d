"""fastbp.mnist_loader: the book's data layout from mnist.pkl.gz and from IDX folders."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from fastbp import mnist_loader
from fastbp.datasets import IDX_FILES

FASHION = "/usr/share/datasets/fashion-mnist"


def write_idx(path, array):
    """An IDX file (gzipped) holding the uint8 ``array``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    """A tiny MNIST-like IDX folder: 12 training images, 5 test images (arrays by role)."""
    r = np.random.default_rng(0)
    arrays = {"train_images": r.integers(0, 256, size=(12, 28, 28)),
              "train_labels": r.integers(0, 10, size=12),
              "test_images": r.integers(0, 256, size=(5, 28, 28)),
              "test_labels": r.integers(0, 10, size=5)}
    arrays["train_images"][0, 0, 0] = 255  # make the top value present
    for role, arr in arrays.items():
        write_idx(tmp_path / (IDX_FILES[role] + ".gz"), arr)
    return tmp_path, arrays


# A pickle as Python 2 wrote the book's mnist.pkl.gz: protocol 2, numpy arrays
# whose raw data are Python 2 byte strings (SHORT_BINSTRING / BINSTRING), which
# Python 3 can only read with encoding="latin1". Assembled opcode by opcode.
def _py2_int(v):
    return b"K" + bytes([v]) if 0 <= v < 256 else b"J" + struct.pack("<i", v)


def _py2_str(s):
    return b"U" + bytes([len(s)]) + s if len(s) < 256 else b"T" + struct.pack("<I", len(s)) + s


def _py2_array(a):
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    shape = b"".join(_py2_int(d) for d in a.shape) + {1: b"\x85", 2: b"\x86"}[a.ndim]
    dtype = (b"cnumpy\ndtype\n" + _py2_str(a.dtype.str[1:].encode()) + _py2_int(0)
             + _py2_int(1) + b"\x87R"  # dtype("f4", 0, 1)
             + b"(" + _py2_int(3) + _py2_str(b"<") + b"NNN" + _py2_int(-1) + _py2_int(-1)
             + _py2_int(0) + b"tb")  # its state
    return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + _py2_int(0)
            + b"\x85" + _py2_str(b"b") + b"\x87R"  # _reconstruct(ndarray, (0,), "b")
            + b"(" + _py2_int(1) + shape + dtype + b"\x89" + _py2_str(a.tobytes()) + b"tb")


def py2_pickle(parts):
    """Bytes of a Python 2 pickle of ``parts``: three (images, labels) pairs."""
    body = b"".join(_py2_array(x) + _py2_array(y) + b"\x86" for x, y in parts)
    return b"\x80\x02" + body + b"\x87."


@pytest.fixture
def pickle_file(tmp_path):
    """A tiny file in mnist.pkl.gz's format: three (float32 images, int64 labels) pairs."""
    r = np.random.default_rng(1)

    def part(n):
        images = (r.integers(0, 256, size=(n, 784)) / 256).astype(np.float32)
        return images, r.integers(0, 10, size=n).astype(np.int64)

    parts = (part(6), part(3), part(4))
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        f.write(py2_pickle(parts))
    return path, parts


def test_the_test_pickle_needs_latin1(pickle_file):
    path, _ = pickle_file
    with gzip.open(path, "rb") as f, pytest.raises(UnicodeDecodeError):
        pickle.load(f)  # Python 3's default ASCII cannot read Python 2 byte strings


def check_wrapper_layout(training, validation, test):
    for x, y in training:
        assert x.shape == (784, 1) and y.shape == (10, 1)
        assert y.dtype == np.float64 and y.sum() == 1.0 and set(np.unique(y)) <= {0.0, 1.0}
    for data in (validation, test):
        for x, y in data:
            assert x.shape == (784, 1)
            assert isinstance(y, (int, np.integer)) and 0 <= y < 10


def test_load_data_reads_the_pickle(pickle_file):
    path, parts = pickle_file
    loaded = mnist_loader.load_data(str(path))
    assert len(loaded) == 3
    for (images, labels), (e_images, e_labels) in zip(loaded, parts):
        np.testing.assert_array_equal(images, e_images)
        np.testing.assert_array_equal(labels, e_labels)
        assert images.dtype == np.float32


def test_load_data_wrapper_from_the_pickle(pickle_file):
    path, parts = pickle_file
    training, validation, test = mnist_loader.load_data_wrapper(path)
    assert isinstance(training, list) and isinstance(validation, list) and isinstance(test, list)
    assert (len(training), len(validation), len(test)) == (6, 3, 4)
    check_wrapper_layout(training, validation, test)
    for i, (x, y) in enumerate(training):
        np.testing.assert_array_equal(x[:, 0], parts[0][0][i])
        assert np.argmax(y) == parts[0][1][i]
    assert [y for _, y in test] == list(parts[2][1])


def test_idx_folder_gives_the_same_layout_with_the_books_split(idx_folder):
    folder, arrays = idx_folder
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data(folder, validation_size=4)
    images = arrays["train_images"].reshape(12, 784)
    labels = arrays["train_labels"]
    assert tr_x.dtype == np.float32 and tr_y.dtype == np.int64
    np.testing.assert_array_equal(tr_x, (images[:8] / 256).astype(np.float32))  # first for training
    np.testing.assert_array_equal(va_x, (images[8:] / 256).astype(np.float32))  # last for validation
    np.testing.assert_array_equal(tr_y, labels[:8])
    np.testing.assert_array_equal(va_y, labels[8:])
    np.testing.assert_array_equal(te_y, arrays["test_labels"])
    assert te_x.shape == (5, 784)
    assert tr_x.max() == np.float32(255 / 256)  # the pickle's scaling: in [0, 1)
    training, validation, test = mnist_loader.load_data_wrapper(folder, validation_size=4)
    assert (len(training), len(validation), len(test)) == (8, 4, 5)
    check_wrapper_layout(training, validation, test)


def test_idx_and_pickle_of_the_same_images_agree(idx_folder, tmp_path):
    folder, arrays = idx_folder
    from_idx = mnist_loader.load_data(folder, validation_size=4)
    path = tmp_path / "same.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(from_idx, f, protocol=2)
    from_pickle = mnist_loader.load_data(path)
    for (a, b), (c, d) in zip(from_idx, from_pickle):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_clear_errors(idx_folder, tmp_path):
    folder, _ = idx_folder
    with pytest.raises(ValueError, match="validation_size"):
        mnist_loader.load_data(folder)  # 12 training images, 10,000 asked for validation
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=IDX_FILES["train_images"]):
        mnist_loader.load_data(empty)
    other = tmp_path / "other.pkl.gz"
    with gzip.open(other, "wb") as f:
        pickle.dump({"not": "mnist"}, f)
    with pytest.raises(ValueError, match="three \\(images, labels\\) pairs"):
        mnist_loader.load_data(other)


def test_vectorized_result():
    e = mnist_loader.vectorized_result(7)
    assert e.shape == (10, 1) and e[7, 0] == 1.0 and e.sum() == 1.0


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Fashion-MNIST not installed")
def test_real_fashion_mnist_in_the_books_layout():
    training, validation, test = mnist_loader.load_data_wrapper(FASHION)
    assert (len(training), len(validation), len(test)) == (50000, 10000, 10000)
    check_wrapper_layout(training[:50], validation[:50], test[:50])
    x = training[0][0]
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() < 1.0
