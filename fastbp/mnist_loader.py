"""Drop-in replacement for ``mnist_loader.py`` of Nielsen's *Neural Networks and Deep Learning*.

Two sources give the same data layout:

- the book's ``mnist.pkl.gz`` (``path`` a file): a gzipped Python 2 pickle of
  three ``(images, labels)`` pairs, read with ``encoding="latin1"``;
- a folder of the four standard IDX files of MNIST or Fashion-MNIST (named
  in :data:`fastbp.datasets.IDX_FILES`, gzipped or not), read with
  :func:`fastbp.datasets.load_idx_folder`. IDX data has no validation
  split; as in the book's pickle, the first 50,000 training images are the
  training set and the last 10,000 the validation set. Pixels become float32
  ``value / 256``, the scaling of the book's pickle (its largest value is
  255/256), so MNIST read from IDX equals MNIST read from the pickle.

:func:`load_data` returns the raw arrays, :func:`load_data_wrapper` the lists
of tuples the book's networks train on.

Security: reading a ``.pkl.gz`` file unpickles it, and unpickling can run
arbitrary code. Only pass a pickle file you trust (the book's own file); the
IDX route reads plain bytes and is safe for any file.
"""
import gzip
import os
import pickle

import numpy as np

from .datasets import load_idx_folder
from .validation import check_int, one_hot

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]

#: The book's location, relative to its src/ folder.
DEFAULT_PATH = os.path.join("..", "data", "mnist.pkl.gz")

#: Training images kept back as validation data when reading IDX files.
VALIDATION_SIZE = 10000


def load_data(path=DEFAULT_PATH, validation_size=VALIDATION_SIZE):
    """The data as three ``(images, labels)`` pairs: training, validation, test.

    Parameters
    ----------
    path : str or os.PathLike, default="../data/mnist.pkl.gz"
        The book's ``mnist.pkl.gz`` (it is unpickled: pass only a file you
        trust), or a folder holding the four IDX files of MNIST or Fashion-MNIST.
    validation_size : int, default=10000
        For IDX folders only: how many of the last training images form the
        validation set (the pickle has its own split).

    Returns
    -------
    training_data, validation_data, test_data : tuple of (ndarray, ndarray)
        Each ``(images, labels)``: images float32 of shape (n, 784) with
        values in [0, 1), labels int64 of shape (n,). For MNIST: 50,000,
        10,000 and 10,000 examples.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _load_idx_folder(path, validation_size)
    try:
        with gzip.open(path, "rb") as f:
            # The book's file was written by Python 2: its byte strings need latin1.
            data = pickle.load(f, encoding="latin1")
    except FileNotFoundError:
        raise
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not the book's mnist.pkl.gz (a gzipped pickle of three "
                         f"(images, labels) pairs): {exc}") from exc
    if not (isinstance(data, tuple) and len(data) == 3
            and all(isinstance(part, tuple) and len(part) == 2 for part in data)):
        raise ValueError(f"{path}: expected three (images, labels) pairs, as in the book's "
                         f"mnist.pkl.gz")
    return tuple((np.asarray(images), np.asarray(labels)) for images, labels in data)


def load_data_wrapper(path=DEFAULT_PATH, validation_size=VALIDATION_SIZE):
    """The data as the book's networks use it: lists of (x, y) tuples.

    Parameters
    ----------
    path, validation_size
        As for :func:`load_data`.

    Returns
    -------
    training_data : list of (ndarray of shape (784, 1), ndarray of shape (10, 1))
        Input column and one-hot desired output (float64, equal to
        ``vectorized_result(label)``).
    validation_data, test_data : list of (ndarray of shape (784, 1), int label)
        The inputs are views into the arrays :func:`load_data` returns.
    """
    tr_d, va_d, te_d = load_data(path, validation_size)
    # vectorized_result of every label at once: each y is a (10, 1) view of one row.
    targets = one_hot(tr_d[1], 10, np.float64, name="training labels")
    training_data = [(np.reshape(x, (784, 1)), np.reshape(y, (10, 1)))
                     for x, y in zip(tr_d[0], targets)]
    validation_data = [(np.reshape(x, (784, 1)), y) for x, y in zip(va_d[0], va_d[1])]
    test_data = [(np.reshape(x, (784, 1)), y) for x, y in zip(te_d[0], te_d[1])]
    return training_data, validation_data, test_data


def vectorized_result(j):
    """A (10, 1) float64 unit vector with 1.0 at index j (the one-hot form of class j).

    ``j``: an integer class label in 0..9 (ValueError otherwise).
    """
    return one_hot([j], 10, np.float64, name="j").reshape(10, 1)


def _scaled(images, folder):
    """(n, 784) uint8 pixels -> float32 ``value / 256`` (the book's pickle's scaling)."""
    if images.shape[1] != 784:
        raise ValueError(f"{folder}: expected 28 x 28 images (784 pixels), found "
                         f"{images.shape[1]} pixels per image")
    images = images.astype(np.float32)
    images *= np.float32(1 / 256)  # exact: a power of two
    return images


def _load_idx_folder(folder, validation_size):
    # fastbp.datasets finds the four files (gzipped or not) and checks them.
    train_x, train_y, test_x, test_y = load_idx_folder(folder)
    train_x, test_x = _scaled(train_x, folder), _scaled(test_x, folder)
    validation_size = check_int(validation_size, "validation_size", minimum=0,
                                maximum=train_x.shape[0] - 1)  # < the training images
    cut = train_x.shape[0] - validation_size
    return ((train_x[:cut], train_y[:cut]), (train_x[cut:], train_y[cut:]), (test_x, test_y))
