"""Drop-in replacement for ``network.py`` of Nielsen's *Neural Networks and Deep Learning*.

Change one line of a chapter 1 script::

    import network                      # the book's module
    from fastbp import network          # this one: same surface, same numbers

and it runs the same training, many times faster: every mini-batch of an
epoch runs inside fastbp's compiled whole-epoch kernel
(:meth:`fastbp.Network._train_epoch`) instead of one example at a time in
Python. This module is a thin adapter: it converts the book's list-of-tuples
data to contiguous arrays once per call and holds a :class:`fastbp.Network`
(sigmoid layers, quadratic cost); it does not implement backpropagation.

Same numbers as the book
------------------------
- ``Network(sizes)`` draws its initial parameters with ``np.random.randn`` in
  the book's order (every layer's biases, then every layer's weights), so a
  script that seeds ``np.random`` gets the book's initial network.
- ``SGD`` draws each epoch's mini-batches with ``random.shuffle`` on a list of
  the same length as the book's ``training_data``. ``random.shuffle``'s
  permutation depends only on the list's length and the state of ``random``,
  so the mini-batches are the book's (under Python 3), and the same random
  numbers are consumed.
- Like the book, ``SGD`` leaves ``training_data`` (when it is a list) in its
  shuffled order: it is reordered in place once, when ``SGD`` returns (also
  if interrupted). Scripts that train several networks on one list (the
  book's ``fig/multiple_eta.py``) depend on this to get the book's numbers.
- Results agree with the book's per-example code to rounding (about 1e-12
  relative in float64): the sums run in a different order.

Differences
-----------
- ``SGD`` does not call ``update_mini_batch``, ``backprop`` or
  ``cost_derivative``; overriding them in a subclass does not change
  training. The methods exist, compute the book's results, and call the same
  compiled kernels.
- A step that makes a weight NaN or infinite raises
  :class:`fastbp.DivergenceError` (the network keeps its last finite
  parameters) instead of training on with NaN.
- Arguments are checked, with errors that name them.

Attributes of a Network
-----------------------
``weights[l]`` has shape (sizes[l+1], sizes[l]) and ``biases[l]`` shape
(sizes[l+1], 1), as in the book. They are views into the parameters of the
underlying :class:`fastbp.Network` (``net.core``): edits in place
(``net.weights[0] *= 0.5``), item assignment (``net.biases[1] = b``) and
assignment of whole lists (``net.weights = [...]``) all act on the network.
"""
import random

import numpy as np

from . import kernels
from .model import Network as _CoreNetwork
from .model import ParameterList
from .validation import check_float, check_int, check_targets

__all__ = ["Network", "sigmoid", "sigmoid_prime"]


class _BookNetwork:
    """What network.py and network2.py share: the core network, parameters, data conversion.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first.
    cost : {"quadratic", "cross_entropy"}
    init_scale : {"large", "default"}
        How the initial weights are drawn from ``np.random.randn``.
    """

    def __init__(self, sizes, cost, init_scale):
        # seed=0: the core's own draw is replaced at once by the book's np.random draw.
        self._core = _CoreNetwork(sizes, activation="sigmoid", cost=cost, dtype=np.float64,
                                  init="large", seed=0)
        self.num_layers = len(self._core.sizes)
        self.sizes = [int(s) for s in self._core.sizes]
        self._draw_parameters(init_scale)

    # ----------------------------------------------------------- parameters
    @property
    def core(self):
        """The underlying :class:`fastbp.Network` (shares the parameters)."""
        return self._core

    @property
    def weights(self):
        """list of ndarray of shape (sizes[l+1], sizes[l]): views into the network."""
        return self._core.weights

    @weights.setter
    def weights(self, new):
        self._core.weights = new

    @property
    def biases(self):
        """list of ndarray of shape (sizes[l+1], 1): views into the network."""
        return ParameterList([b.reshape(-1, 1) for b in self._core.biases], "biases")

    @biases.setter
    def biases(self, new):
        self._core.biases = new

    def _draw_parameters(self, init_scale):
        """The book's initialisers: biases of every layer, then weights, from np.random.randn."""
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        biases = [np.random.randn(y, 1) for _, y in pairs]
        if init_scale == "large":
            weights = [np.random.randn(y, x) for x, y in pairs]
        else:
            weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in pairs]
        self.biases = biases
        self.weights = weights

    # ------------------------------------------------------------ inference
    def feedforward(self, a):
        """Output of the network for the input column ``a``.

        Parameters
        ----------
        a : array_like of shape (sizes[0], 1), or (sizes[0], k) for k inputs as columns
            A 1-D ``a`` of shape (sizes[0],) is taken as one column.

        Returns
        -------
        ndarray of shape (sizes[-1], 1) or (sizes[-1], k)
        """
        arr = _as_array(a, "a")
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[0] != self.sizes[0]:
            raise ValueError(f"a: expected an input column of shape ({self.sizes[0]}, 1), "
                             f"found shape {arr.shape}")
        X, _ = self._core._inputs(arr.T, "a")  # finiteness and dtype, in the argument's name
        return np.ascontiguousarray(self._core.feedforward(X).T)

    # ------------------------------------------------------------- gradients
    def backprop(self, x, y):
        """Gradient of the cost C_x of one example, by backpropagation (the compiled kernels).

        Parameters
        ----------
        x : array_like of shape (sizes[0], 1)
        y : array_like of shape (sizes[-1], 1)
            The desired output.

        Returns
        -------
        nabla_b : list of ndarray of shape (sizes[l+1], 1)
        nabla_w : list of ndarray of shape (sizes[l+1], sizes[l])
        """
        X, _ = self._core._inputs(_as_row(x, self.sizes[0], "x"), "x")
        Y = check_targets(_as_row(y, self.sizes[-1], "y"), 1, self.sizes[-1], self._core.dtype, "y")
        nabla_b, nabla_w = self._core.gradients(X, Y)
        return [b.reshape(-1, 1) for b in nabla_b], nabla_w

    # -------------------------------------------------------------- training
    def _examples(self, data, name):
        """(X, Y) of shapes (n, sizes[0]) and (n, sizes[-1]) from a list of (x, y) tuples."""
        X, targets = _split(data, self.sizes[0], name)
        X, _ = self._core._inputs(X, name)  # checks finiteness
        Y = _stack_targets(targets, self.sizes[-1], name)
        return X, check_targets(Y, X.shape[0], self.sizes[-1], np.float64, name)

    def _labelled(self, data, name):
        """(X, labels) of shapes (n, sizes[0]) and (n,) from a list of (x, int label) tuples."""
        X, targets = _split(data, self.sizes[0], name)
        X, _ = self._core._inputs(X, name)
        return X, _stack_labels(targets, self.sizes[-1], name)

    def _check_training(self, mini_batch_size, eta, lmbda):
        mini_batch_size = check_int(mini_batch_size, "mini_batch_size", minimum=1)
        eta = check_float(eta, "eta", minimum=0.0, strict_min=True)
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        return mini_batch_size, eta, lmbda

    def _step(self, mini_batch, eta, lmbda, n):
        """One update on ``mini_batch`` (the book's update_mini_batch), in the compiled kernel."""
        X, Y = self._examples(mini_batch, "mini_batch")
        m = X.shape[0]
        eta = check_float(eta, "eta", minimum=0.0, strict_min=True)
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        reg_kind = kernels.REG_L2 if lmbda > 0.0 else kernels.REG_NONE
        state = self._core._training_state(m)
        self._core._check_parameters()
        self._core._train_epoch(X, Y, np.arange(m, dtype=np.int64), m, eta, reg_kind,
                                lmbda / n, 0.0, False, state)

    def _epochs(self, training_data, epochs, mini_batch_size, eta, lmbda, after_epoch):
        """Run the book's SGD loop: per epoch, shuffle, then every mini-batch in the kernel.

        ``after_epoch(j, X, Y)`` is called after epoch j. ``training_data`` is
        reordered in place at the end (when it is a list), as the book's
        ``random.shuffle(training_data)`` leaves it.
        """
        epochs = check_int(epochs, "epochs", minimum=0)
        mini_batch_size, eta, lmbda = self._check_training(mini_batch_size, eta, lmbda)
        X, Y = self._examples(training_data, "training_data")
        n = X.shape[0]
        self._core._check_parameters()
        reg_kind = kernels.REG_L2 if lmbda > 0.0 else kernels.REG_NONE
        state = self._core._training_state(mini_batch_size)
        positions = list(range(n))  # positions[i]: the original index of the list's i-th item
        try:
            for j in range(epochs):
                random.shuffle(positions)  # the book's random.shuffle(training_data)
                order = np.array(positions, dtype=np.int64)
                self._core._train_epoch(X, Y, order, mini_batch_size, eta, reg_kind, lmbda / n,
                                        0.0, False, state, j)
                after_epoch(j, X, Y)
        finally:
            if epochs > 0 and isinstance(training_data, list):
                items = list(training_data)
                training_data[:] = [items[i] for i in positions]

    def _count_correct(self, X, labels):
        """Number of rows whose largest output is the label (a Python int)."""
        return int(np.count_nonzero(self._core.predict(X) == labels))


class Network(_BookNetwork):
    """network.py's Network: sigmoid neurons, quadratic cost, trained by mini-batch SGD.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.

    Attributes
    ----------
    num_layers : int
        ``len(sizes)``.
    sizes : list of int
    weights : list of ndarray of shape (sizes[l+1], sizes[l])
    biases : list of ndarray of shape (sizes[l+1], 1)
        Drawn from N(0, 1) with ``np.random.randn``, biases first, as the book does.
    core : fastbp.Network
        The compiled network these are views of.
    """

    def __init__(self, sizes):
        super().__init__(sizes, cost="quadratic", init_scale="large")

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Train by mini-batch stochastic gradient descent, printing progress as the book does.

        Each epoch shuffles the examples (``random.shuffle``), splits them into
        mini-batches of ``mini_batch_size`` and applies
        ``W <- W - (eta/m) sum_x dC_x/dW``, ``b <- b - (eta/m) sum_x dC_x/db``
        for each. After each epoch it prints ``Epoch j: k / n`` (k of the n
        test examples right) when ``test_data`` is given, else ``Epoch j complete``.

        Parameters
        ----------
        training_data : list of (x, y)
            x of shape (sizes[0], 1), y of shape (sizes[-1], 1) (one-hot for
            classification). Left in its shuffled order, as by the book.
        epochs, mini_batch_size : int
        eta : float > 0
            The learning rate.
        test_data : list of (x, int label), optional

        Returns
        -------
        None
        """
        test = self._labelled(test_data, "test_data") if test_data is not None else None

        def report(j, X, Y):
            if test is not None:
                print("Epoch {0}: {1} / {2}".format(j, self._count_correct(*test), len(test[1])))
            else:
                print("Epoch {0} complete".format(j))

        self._epochs(training_data, epochs, mini_batch_size, eta, 0.0, report)

    def update_mini_batch(self, mini_batch, eta):
        """One gradient-descent step on ``mini_batch``, a list of (x, y) tuples.

        ``W <- W - (eta/m) sum_x dC_x/dW`` and ``b <- b - (eta/m) sum_x dC_x/db``
        with m = ``len(mini_batch)``.
        """
        self._step(mini_batch, eta, 0.0, 1)

    def evaluate(self, test_data):
        """Number of (x, label) examples whose largest output is the label (an int)."""
        return self._count_correct(*self._labelled(test_data, "test_data"))

    def cost_derivative(self, output_activations, y):
        """dC_x/da = a - y for the quadratic cost (NumPy, for study)."""
        return output_activations - y


def sigmoid(z):
    """The sigmoid function 1 / (1 + exp(-z)), element-wise."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid, sigmoid(z) (1 - sigmoid(z)), element-wise."""
    s = sigmoid(z)
    return s * (1 - s)


# ---------------------------------------------------------------- data helpers
def _as_array(value, name):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}: expected a numeric array, found {type(value).__name__}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a real numeric array, found dtype {arr.dtype}")
    return arr


def _as_row(value, width, name):
    """A column vector (or any array of ``width`` values) as a (1, width) float64 row."""
    arr = _as_array(value, name)
    if arr.size != width:
        raise ValueError(f"{name}: expected shape ({width}, 1), found shape {arr.shape}")
    return arr.reshape(1, width).astype(np.float64)


def _stack_columns(columns, width):
    """(n, width) float64 array from n real arrays of shape (width, 1), or None.

    The fast path for the book's layout (one C-level copy); None when any
    item is something else, and the caller's checked loop takes over.
    """
    try:
        M = np.concatenate([c.T for c in columns], dtype=np.float64)
    except (AttributeError, TypeError, ValueError):
        return None
    return M if M.shape == (len(columns), width) else None


def _split(data, width, name):
    """Inputs as an (n, width) float64 array, and the list of second members."""
    if isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
        raise TypeError(f"{name}: expected a list of (x, y) tuples, found {type(data).__name__}")
    n = len(data)
    if n == 0:
        raise ValueError(f"{name}: expected at least one (x, y) example, found none")
    try:
        xs, ys = zip(*data)
    except (TypeError, ValueError):
        pass  # not all pairs: the loop below names the culprit
    else:
        X = _stack_columns(xs, width)
        if X is not None:
            return X, ys
    X = np.empty((n, width), dtype=np.float64)
    ys = [None] * n
    for i, item in enumerate(data):
        try:
            x, ys[i] = item
        except (TypeError, ValueError):
            raise TypeError(f"{name}[{i}]: expected an (x, y) tuple, found "
                            f"{type(item).__name__}") from None
        x = _as_array(x, f"{name}[{i}][0]")
        if x.size != width:
            raise ValueError(f"{name}[{i}][0]: expected an input of shape ({width}, 1), "
                             f"found shape {x.shape}")
        X[i] = x.reshape(width)
    return X, ys


def _stack_targets(targets, width, name):
    """Target vectors (each with ``width`` values) as an (n, width) float64 array."""
    Y = _stack_columns(targets, width)
    if Y is not None:
        return Y
    Y = np.empty((len(targets), width), dtype=np.float64)
    for i, y in enumerate(targets):
        y = _as_array(y, f"{name}[{i}][1]")
        if y.size != width:
            hint = (" (an integer label? training data holds vectors: use "
                    "vectorized_result(label), or convert=True where offered)") if y.size == 1 else ""
            raise ValueError(f"{name}[{i}][1]: expected a target of shape ({width}, 1), found "
                             f"shape {y.shape}{hint}")
        Y[i] = y.reshape(width)
    return Y


def _stack_labels(targets, n_classes, name):
    """Integer class labels as an int64 array of shape (n,)."""
    try:
        labels = np.asarray(targets)
    except ValueError:
        labels = None
    if labels is None or labels.shape != (len(targets),) or labels.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected integer class labels as the second member of each "
                         f"(x, y) tuple (validation/test data); found target vectors. For data "
                         f"in the training format, use convert=True where offered.")
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError(f"{name}: expected integer class labels, found non-integer values")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"{name}: labels must lie in [0, {n_classes}), found range "
                         f"[{labels.min()}, {labels.max()}]")
    return labels
