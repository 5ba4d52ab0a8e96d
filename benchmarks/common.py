"""Shared configurations, cached data and JIT warm-up for fastbp's asv suite.

Every benchmark builds its data in ``setup`` from the cached helpers here, so
a parameter grid pays for its data once per process, and every benchmark
warms the compiled kernels in ``setup`` so that Numba's compile (or cache
load) time never enters a ``time_`` figure.

The helpers return shared arrays: benchmarks read them and never write them.
"""
import functools
import os

import numpy as np

import fastbp
from fastbp.datasets import IDX_FILES
from fastbp.validation import one_hot

# The three configurations of issue 4: one table, in numpy_peer.py (NumPy only), shared
# with compare_peers.py.
from .numpy_peer import CONFIGS

#: Rows of one timed "epoch". S and M use Fashion-MNIST's 60,000 training rows;
#: L uses a subset of 8,192 rows (8 mini-batches of 1024) so that one sample
#: takes seconds, not minutes: its time scales linearly with the rows.
EPOCH_ROWS = {"S": 60000, "M": 60000, "L": 8192}

DTYPES = ["float32", "float64"]

#: Where the Fashion-MNIST IDX files live on the project's machines.
FASHION_MNIST_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
#: split -> (images file, labels file), gzipped.
_FASHION_FILES = {split: tuple(IDX_FILES[f"{split}_{kind}"] + ".gz"
                               for kind in ("images", "labels"))
                  for split in ("train", "test")}

N_INPUTS = 784
N_CLASSES = 10
#: Weight of the class prototype in a synthetic row (see synthetic()).
SYNTHETIC_CONTRAST = 0.1


class Benchmark:
    """Base class of fastbp's benchmarks (defaults shared by all of them)."""

    # A benchmark's setup builds data and loads compiled kernels from Numba's
    # cache (or compiles them, the first time on a machine): allow for that.
    timeout = 300


@functools.lru_cache(maxsize=None)
def _prototypes(seed):
    rng = np.random.default_rng(seed)
    return rng.random((N_CLASSES, N_INPUTS))


@functools.lru_cache(maxsize=8)
def synthetic(n_rows, dtype, seed=0):
    """Synthetic data of Fashion-MNIST's shape, learnable but not trivial.

    Each row is a faint copy of its class's fixed random prototype
    (SYNTHETIC_CONTRAST times it) plus uniform noise on [-0.5, 0.5], clipped
    to [0, 1]: about half the pixels are 0, as in the real images, and S or
    M reach about 0.6 test accuracy after 2 epochs on 10,000 rows, so an
    accuracy figure can move both ways.

    Parameters
    ----------
    n_rows : int
    dtype : str, "float32" or "float64"
    seed : int

    Returns
    -------
    X : ndarray of shape (n_rows, 784), values in [0, 1]
    labels : ndarray of shape (n_rows,), int64 in 0..9
    Y : ndarray of shape (n_rows, 10), one-hot rows of ``labels``
    """
    rng = np.random.default_rng(seed + 1)
    labels = rng.integers(0, N_CLASSES, size=n_rows).astype(np.int64)
    X = rng.random((n_rows, N_INPUTS), dtype=np.dtype(dtype).type)
    X -= 0.5
    X += (SYNTHETIC_CONTRAST * _prototypes(seed))[labels].astype(dtype)
    np.clip(X, 0.0, 1.0, out=X)
    return X, labels, one_hot(labels, N_CLASSES, dtype)


def fashion_mnist_available():
    """True if the four Fashion-MNIST IDX files are in FASHION_MNIST_DIR."""
    return all(os.path.exists(os.path.join(FASHION_MNIST_DIR, f))
               for pair in _FASHION_FILES.values() for f in pair)


@functools.lru_cache(maxsize=4)
def _fashion_raw(split):
    from fastbp.idx import read_idx
    images, labels = _FASHION_FILES[split]
    X = read_idx(os.path.join(FASHION_MNIST_DIR, images))
    y = read_idx(os.path.join(FASHION_MNIST_DIR, labels))
    return X.reshape(X.shape[0], -1), y.astype(np.int64)


@functools.lru_cache(maxsize=4)
def fashion_mnist(split, n_rows, dtype):
    """The first ``n_rows`` rows of Fashion-MNIST's ``split`` ("train" or "test").

    Returns
    -------
    X : ndarray of shape (n_rows, 784), pixels scaled to [0, 1]
    labels : ndarray of shape (n_rows,), int64
    Y : ndarray of shape (n_rows, 10), one-hot

    Raises
    ------
    NotImplementedError
        When the files are absent: asv reports the benchmark as skipped.
    """
    if not fashion_mnist_available():
        raise NotImplementedError(f"Fashion-MNIST not found in {FASHION_MNIST_DIR}")
    images, labels = _fashion_raw(split)
    if n_rows > images.shape[0]:
        raise ValueError(f"n_rows: {split} holds {images.shape[0]} rows, asked for {n_rows}")
    X = images[:n_rows].astype(dtype)
    X /= np.dtype(dtype).type(255)
    y = labels[:n_rows].copy()
    return X, y, one_hot(y, N_CLASSES, dtype)


def make_network(config, dtype, seed=0):
    """A fresh fastbp.Network for ``config`` ("S", "M" or "L") in ``dtype``."""
    c = CONFIGS[config]
    return fastbp.Network(list(c["sizes"]), activation="sigmoid", cost=c["cost"],
                          dtype=np.dtype(dtype), seed=seed)


def warm_fit(net, config, X, Y):
    """Compile (or load from cache) everything one ``fit`` calls, then restore the weights.

    Runs a one-epoch fit on two mini-batches of X, Y (with evaluation data,
    so the forward-only kernel is loaded too), then puts the parameters back.
    """
    c = CONFIGS[config]
    theta = net.get_parameters()
    rows = min(X.shape[0], 2 * c["batch_size"])
    net.fit(X[:rows], Y[:rows], epochs=1, batch_size=c["batch_size"], eta=c["eta"], seed=0,
            evaluation_data=(X[:2], Y[:2]))
    net.set_parameters(theta)


def kernel_state(net, X, Y):
    """Work buffers of ``net`` for one chunk of X.shape[0] rows, after the forward pass and BP1.

    For the benchmarks of single kernels (fastbp.backprop, fastbp.costs),
    which go through fastbp's internal API (fastbp.engine.kernel_view,
    fastbp.layout.workspace): if that API has changed, NotImplementedError
    (asv: skipped) rather than a crash, since the public-API benchmarks
    already cover the same work.

    Returns
    -------
    work : tuple
        The workspace (see fastbp.layout.workspace), filled for X.
    G : ndarray of shape (n_parameters,)
        A gradient buffer in theta's layout.
    """
    rows = X.shape[0]
    try:
        from fastbp import backprop, costs
        from fastbp._numba_options import call_with_literals
        from fastbp.engine import kernel_view
        from fastbp.layout import workspace
        kv = kernel_view(net)
        hidden, output, cost = kv.kinds
        work = workspace(net.sizes, net.dtype, rows)
        backprop.gather_rows(X, Y, np.arange(rows, dtype=np.int64), 0, rows,
                             net.dtype.type(1.0), work)
        call_with_literals(backprop.forward_pass, (4, 5), rows, kv.theta, kv.arch, work, hidden,
                           output)
        call_with_literals(costs.output_delta, (1, 2), rows, output, cost, kv.arch, work)
        call_with_literals(backprop.backward_pass, (4,), rows, kv.theta, kv.arch, work, hidden)
        G = np.empty_like(kv.theta)
        backprop.accumulate_gradients(rows, False, kv.arch, work, G)
    except Exception as exc:  # ImportError, AttributeError, TypeError, numba's TypingError, ...
        raise NotImplementedError(f"fastbp's internal kernel API changed: {exc}") from exc
    return work, G
