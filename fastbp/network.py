"""Drop-in replacement for ``network.py`` of Nielsen's *Neural Networks and Deep Learning*.

Change one line of a chapter 1 script::

    import network                      # the book's module
    from fastbp import network          # this one: same surface, same numbers

and it runs the same training, many times faster: every mini-batch of an
epoch runs inside fastbp's compiled epoch drivers (through
:class:`fastbp.engine.Trainer`) instead of one example at a time in Python. This module is a thin adapter: it converts the book's list-of-tuples
data to contiguous arrays (once, then reuses them: see "Conversion cache"
below) and holds a :class:`fastbp.Network` (sigmoid layers, quadratic cost);
it does not implement backpropagation.

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

Conversion cache
----------------
Converting the book's 50,000 MNIST tuples to one (50000, 784) array takes
about as long as an epoch of training, and the book's scripts call ``SGD``
again and again on the same list (``fig/multiple_eta.py``: three networks;
any script that loops over hyper-parameters), which ``SGD`` leaves shuffled.
So ``SGD`` (and ``evaluate``, network2's ``accuracy`` and ``total_cost``)
keep the last conversion and reuse it when they are given a list or tuple
whose items are all tuples of that conversion, in any order, any of them
repeated or left out: the rows are found by the items' identities (``id``
of every item, matched in a sorted array: about 15 ms for 50,000) and used
in the list's order, so the numbers are bit for bit those of a fresh
conversion.

- What identity sees. Every item is looked up; an item that is a new
  object (a tuple replaced, appended, or a list rebuilt with ``zip``)
  means a fresh conversion of the whole list. The cache holds a reference
  to each tuple it indexed, so an ``id`` cannot be reused by a new object
  while its entry lives. Tuples cannot have their members replaced; lists
  of ``[x, y]`` lists can, so they are never cached (converted every call).
- What identity cannot see: the contents of ``x`` and ``y`` edited in place
  (``x *= 2`` on an array that is already in the list) between two calls.
  Before each reuse, 16 items spread over the list (different ones on each
  call, as the list is reshuffled) are compared with their cached rows, and
  any difference means a fresh conversion; this catches edits of the whole
  data set (normalising every ``x`` in place) but not an edit of a few
  examples. After editing examples in place, call
  :func:`clear_conversion_cache` (or set ``fastbp.network.cache_conversions
  = False`` to convert on every call, as the book does). The cache never
  marks your arrays read-only or otherwise touches them: that would make
  legitimate in-place code fail (``ValueError: assignment destination is
  read-only``), and would not stop writes through another view of the same
  memory anyway.
- Memory. There is one entry for training-layout data (``(x, one-hot y)``)
  and one for evaluation-layout data (``(x, int label)``), for all
  networks together: for MNIST about 310 MB (training, float64) and 63 MB
  (test). An entry also keeps its tuples alive. Python cannot tell when a
  plain list is gone (lists take no weak references), so an entry stays
  until a conversion of the same layout replaces it (the old entry is
  dropped before the new conversion), until a later conversion finds that
  nothing but the cache holds its first and last tuples any more (CPython),
  or until :func:`clear_conversion_cache` is called.
- ``update_mini_batch`` and ``backprop`` (small, changing lists) never use
  the cache.

Attributes of a Network
-----------------------
``weights[l]`` has shape (sizes[l+1], sizes[l]) and ``biases[l]`` shape
(sizes[l+1], 1), as in the book. They are views into the parameters of the
underlying :class:`fastbp.Network` (``net.core``): edits in place
(``net.weights[0] *= 0.5``), item assignment (``net.biases[1] = b``) and
assignment of whole lists (``net.weights = [...]``) all act on the network.
"""
import random
import sys
import threading

import numpy as np

from .engine import Trainer
from .model import Network as _CoreNetwork
from .model import ParameterList
from .optimizers import SGD, Regularization
from .validation import check_float, check_int, check_targets

__all__ = ["Network", "sigmoid", "sigmoid_prime", "clear_conversion_cache"]


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
    def _examples(self, data, name, cached=False):
        """(X, Y) of shapes (n, sizes[0]) and (n, sizes[-1]) from a list of (x, y) tuples.

        ``cached=True``: through the conversion cache (rows in ``data``'s order either way).
        """
        if cached:
            return _in_order(*self._converted(data, name, _TRAINING))
        X, targets = _split(data, self.sizes[0], name)
        X, _ = self._core._inputs(X, name)  # checks finiteness
        Y = _stack_targets(targets, self.sizes[-1], name)
        return X, check_targets(Y, X.shape[0], self.sizes[-1], np.float64, name)

    def _labelled(self, data, name, cached=False):
        """(X, labels) of shapes (n, sizes[0]) and (n,) from a list of (x, int label) tuples."""
        if cached:
            return _in_order(*self._converted(data, name, _EVALUATION))
        X, targets = _split(data, self.sizes[0], name)
        X, _ = self._core._inputs(X, name)
        return X, _stack_labels(targets, self.sizes[-1], name)

    def _converted(self, data, name, layout):
        """(X, T, rows) for ``data`` through the conversion cache.

        T is Y (layout _TRAINING) or the labels (_EVALUATION). ``rows`` is
        None when X's rows are ``data``'s items in order, else the row of X
        for each item of ``data`` (an int64 array of len(data)).
        """
        key = (layout, self.sizes[0], self.sizes[-1])
        if cache_conversions:
            found = _cache_lookup(key, data)
            if found is not None:
                return found
        convert = self._examples if layout == _TRAINING else self._labelled
        X, T = convert(data, name)
        if cache_conversions:
            _cache_store(key, data, X, T)
        return X, T, None

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
        self._core._check_parameters()
        Trainer(self._core, SGD(), m).run_epoch(X, Y, np.arange(m, dtype=np.int64), m,
                                                np.full(1, eta), Regularization("l2", lmbda / n))

    def _epochs(self, training_data, epochs, mini_batch_size, eta, lmbda, after_epoch):
        """Run the book's SGD loop: per epoch, shuffle, then every mini-batch in the kernel.

        ``after_epoch(j, training)`` is called after epoch j; ``training()``
        returns (X, Y) of ``training_data`` in its order at the call (built
        on first use). ``training_data`` is reordered in place at the end
        (when it is a list), as the book's ``random.shuffle(training_data)``
        leaves it.
        """
        epochs = check_int(epochs, "epochs", minimum=0)
        mini_batch_size, eta, lmbda = self._check_training(mini_batch_size, eta, lmbda)
        X, Y, rows = self._converted(training_data, "training_data", _TRAINING)
        # A reordered cache hit trains on the cached rows through ``rows``: the
        # kernel reads the same rows in the same order, without a copy of X.
        n = X.shape[0] if rows is None else rows.shape[0]
        in_order = []

        def training():
            if not in_order:
                in_order.append(_in_order(X, Y, rows))
            return in_order[0]

        self._core._check_parameters()
        trainer = Trainer(self._core, SGD(), mini_batch_size)
        regularization = Regularization("l2", lmbda / n)
        etas = np.full(-(-n // mini_batch_size), eta)
        positions = list(range(n))  # positions[i]: the original index of the list's i-th item
        try:
            for j in range(epochs):
                random.shuffle(positions)  # the book's random.shuffle(training_data)
                order = np.array(positions, dtype=np.int64)
                if rows is not None:
                    order = rows[order]
                trainer.run_epoch(X, Y, order, mini_batch_size, etas, regularization, j)
                after_epoch(j, training)
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
        test = self._labelled(test_data, "test_data", cached=True) if test_data is not None else None

        def report(j, training):
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
        return self._count_correct(*self._labelled(test_data, "test_data", cached=True))

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


# ---------------------------------------------------------------- conversion cache
#: Whether SGD and the evaluation methods reuse converted data (see the module
#: docstring, "Conversion cache"). Set to False to convert on every call.
cache_conversions = True

_TRAINING, _EVALUATION = "training", "evaluation"  # (x, vector y) and (x, int label)
_SPOT_CHECKS = 16  # items compared with their cached rows before each reuse

_cache = {}  # layout -> _Entry: at most one entry per layout
_cache_lock = threading.Lock()


class _Entry:
    """One conversion: the tuples it indexed (held, so their ids stay theirs) and the arrays."""

    __slots__ = ("key", "items", "ids", "rows", "X", "T")

    def __init__(self, key, items, X, T):
        self.key = key
        self.items = items
        ids = _ids(items)
        self.rows = np.argsort(ids, kind="stable")  # rows[k]: the row of the k-th smallest id
        self.ids = ids[self.rows]  # sorted, for np.searchsorted
        self.X = X
        self.T = T


def _ids(items):
    """id() of each item as a uint64 array (one C-level pass: map, no Python loop)."""
    return np.fromiter(map(id, items), dtype=np.uint64, count=len(items))


def clear_conversion_cache():
    """Drop the converted arrays that ``SGD`` and the evaluation methods keep for reuse.

    Call it after editing examples' arrays in place (``x *= 2`` on an ``x``
    that is in a list already trained on: identity cannot see that), or to
    free the memory (for MNIST about 370 MB, and the tuples the cache holds)
    once the data is no longer needed. The next call converts afresh.
    Shared by :mod:`fastbp.network` and :mod:`fastbp.network2`.
    """
    with _cache_lock:
        _cache.clear()


def _cache_lookup(key, data):
    """(X, T, rows) from the cache when every item of ``data`` is a tuple it indexed, else None."""
    if not isinstance(data, (list, tuple)):
        return None
    _drop_orphans()
    with _cache_lock:
        entry = _cache.get(key[0])
    if entry is None or entry.key != key or not data:
        return None
    # Every item is looked up by identity. The entry holds its items, so no other live
    # object has one of their ids: an equal id is the same tuple.
    ids = _ids(data)
    where = np.minimum(np.searchsorted(entry.ids, ids), entry.ids.shape[0] - 1)
    if not np.array_equal(entry.ids[where], ids):  # an item the entry does not hold
        with _cache_lock:
            if _cache.get(key[0]) is entry:
                del _cache[key[0]]  # before the new conversion: one copy in memory at a time
        return None
    rows = entry.rows[where]
    if not _spot_check(entry, rows):
        with _cache_lock:
            if _cache.get(key[0]) is entry:
                del _cache[key[0]]
        return None
    if rows.shape[0] == entry.X.shape[0] and np.array_equal(rows, np.arange(rows.shape[0])):
        rows = None
    return entry.X, entry.T, rows


def _cache_store(key, data, X, T):
    """Keep (X, T) for ``data`` when it is a list or tuple of tuples (members cannot change)."""
    if not isinstance(data, (list, tuple)):
        return
    items = tuple(data)
    if not all(type(item) is tuple for item in items):
        return
    entry = _Entry(key, items, X, T)
    with _cache_lock:
        _cache[key[0]] = entry


def _spot_check(entry, rows):
    """True when _SPOT_CHECKS items spread over ``rows`` still convert to their cached rows.

    Catches in-place edits of the whole data set; not a guarantee (see the module docstring).
    """
    n = rows.shape[0]
    for i in np.unique(np.linspace(0, n - 1, min(n, _SPOT_CHECKS)).astype(np.int64)):
        r = rows[i]
        x, y = entry.items[r]
        try:
            if not np.array_equal(np.asarray(x, dtype=np.float64).reshape(-1), entry.X[r]):
                return False
            if entry.key[0] == _TRAINING:
                same = np.array_equal(np.asarray(y, dtype=np.float64).reshape(-1), entry.T[r])
            else:
                label = np.asarray(y).reshape(-1)
                same = label.shape == (1,) and label[0] == entry.T[r]
        except (TypeError, ValueError):
            return False
        if not same:
            return False
    return True


def _drop_orphans():
    """Drop entries whose first and last tuples nothing but the cache holds (the data is gone)."""
    refcount = getattr(sys, "getrefcount", None)
    if refcount is None:
        return
    with _cache_lock:
        for layout, entry in list(_cache.items()):
            # 2: the entry's tuple of items and getrefcount's own argument.
            if refcount(entry.items[0]) <= 2 and refcount(entry.items[-1]) <= 2:
                del _cache[layout]


def _in_order(X, T, rows):
    """X and T with their rows in the order of the data (copies when ``rows`` reorders)."""
    return (X, T) if rows is None else (X[rows], T[rows])


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
