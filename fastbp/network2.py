"""Drop-in replacement for ``network2.py`` of Nielsen's *Neural Networks and Deep Learning*.

Change one line of a chapter 3 script::

    import network2                     # the book's module
    from fastbp import network2         # this one: same surface, same numbers

The cross-entropy and quadratic costs, L2 regularisation, the two weight
initialisers, the monitoring flags of ``SGD`` with its printed lines and four
returned lists, and ``save``/``load`` in the book's JSON format are all here.
Training runs in fastbp's compiled whole-epoch kernel; this module is a thin
adapter over :class:`fastbp.Network`, with no backpropagation of its own.

Same numbers as the book: initial parameters come from ``np.random.randn`` in
the book's order, mini-batches from ``random.shuffle`` as in the book (and
``training_data``, when a list, is left in the shuffled order the book leaves
it in), and the update is the book's
``W <- (1 - eta lmbda/n) W - (eta/m) sum_x dC_x/dW``, ``b <- b - (eta/m) sum_x dC_x/db``.
Results agree with the book's per-example code to rounding (about 1e-12
relative in float64). See :mod:`fastbp.network` for what differs (subclass
overrides of ``update_mini_batch``/``backprop`` are not used by ``SGD``;
divergence raises :class:`fastbp.DivergenceError`).

Converted data is reused: ``SGD``, ``accuracy`` and ``total_cost`` keep the
arrays converted from the last list of each layout and reuse them while a
list holds the same tuple objects (in any order), as :mod:`fastbp.network`
does, in the same cache ("Conversion cache" in its docstring). Identity
cannot see an ``x`` edited in place between calls: call
:func:`clear_conversion_cache` after such an edit.

Costs reported by ``total_cost`` and ``SGD``'s monitors are computed by the
compiled kernels from z (log-sigmoid), so a saturated output gives a large
finite cost where the book's ``np.nan_to_num`` gives 0 or 1.8e308.

``load`` reads files written by the book's network2.py (and by ``save``); it
accepts only the cost names ``QuadraticCost`` and ``CrossEntropyCost`` and
never looks a name up from the file's content.
"""

import numpy as np

from .costs import get_cost
from .mnist_loader import vectorized_result  # the book's network2.py defines it too
from .model import network_from_dict
from .network import _BookNetwork, clear_conversion_cache, sigmoid, sigmoid_prime
from .serialization import read_json, write_json_atomic
from .validation import check_float, check_int, one_hot

__all__ = ["QuadraticCost", "CrossEntropyCost", "Network", "load", "vectorized_result",
           "sigmoid", "sigmoid_prime", "clear_conversion_cache"]


class QuadraticCost:
    """C = 1/2 ||a - y||^2 for one example (column vectors)."""

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` (shape (n, 1)) for desired output ``y``: a float."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """The output error delta^L = (a - y) (.) sigmoid'(z)."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)] for one example (column vectors)."""

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` for desired output ``y``; nan_to_num maps 0 ln 0 to 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """The output error delta^L = a - y (``z`` unused: sigmoid' cancels)."""
        return a - y


#: The cost classes and the fastbp cost each one is, the only names load() accepts.
_COST_OF_CLASS = {QuadraticCost: "quadratic", CrossEntropyCost: "cross_entropy"}
_CLASS_OF_NAME = {cls.__name__: cls for cls in _COST_OF_CLASS}


def _core_cost(cost):
    if cost not in _COST_OF_CLASS:
        raise ValueError(f"cost: expected network2.QuadraticCost or network2.CrossEntropyCost, "
                         f"found {cost!r} (fastbp compiles these two; other cost classes "
                         f"cannot run in its kernels)")
    return _COST_OF_CLASS[cost]


class Network(_BookNetwork):
    """network2.py's Network: sigmoid neurons, a choice of cost, L2-regularised SGD.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.
    cost : {CrossEntropyCost, QuadraticCost}, default=CrossEntropyCost

    Attributes
    ----------
    num_layers : int
    sizes : list of int
    weights : list of ndarray of shape (sizes[l+1], sizes[l])
        Drawn by :meth:`default_weight_initializer`: N(0, 1/sizes[l]).
    biases : list of ndarray of shape (sizes[l+1], 1)
        N(0, 1). Both are views into ``core``'s parameters (see fastbp.network).
    cost : class
        QuadraticCost or CrossEntropyCost; assignable.
    core : fastbp.Network
    """

    def __init__(self, sizes, cost=CrossEntropyCost):
        super().__init__(sizes, _core_cost(cost), "default")
        self._cost = cost

    @property
    def cost(self):
        """The cost class, QuadraticCost or CrossEntropyCost."""
        return self._cost

    @cost.setter
    def cost(self, cost):
        self._core.cost_function = get_cost(_core_cost(cost))
        self._cost = cost

    def default_weight_initializer(self):
        """Draw weights from N(0, 1/n_in) and biases from N(0, 1) with np.random.randn."""
        self._draw_parameters("default")

    def large_weight_initializer(self):
        """Draw weights and biases from N(0, 1) with np.random.randn (chapter 1's choice)."""
        self._draw_parameters("large")

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False):
        """Train by mini-batch SGD with L2 regularisation, monitoring as the book does.

        After epoch j it prints ``Epoch j training complete``, then for each
        flag set, in this order, ``Cost on training data: c``,
        ``Accuracy on training data: k / n``, ``Cost on evaluation data: c``,
        ``Accuracy on evaluation data: k / n``, then an empty line.

        Parameters
        ----------
        training_data : list of (x, y)
            x of shape (sizes[0], 1), y of shape (sizes[-1], 1). Left in its
            shuffled order, as by the book.
        epochs, mini_batch_size : int
        eta : float > 0
        lmbda : float >= 0, default=0.0
            L2 regularisation parameter (the step shrinks W by eta lmbda / n).
        evaluation_data : list of (x, int label), optional
            Needed by the two evaluation monitors.
        monitor_evaluation_cost, monitor_evaluation_accuracy,
        monitor_training_cost, monitor_training_accuracy : bool

        Returns
        -------
        evaluation_cost : list of float
        evaluation_accuracy : list of int
        training_cost : list of float
        training_accuracy : list of int
            One entry per epoch for each flag set, else empty. Costs include
            the term 0.5 (lmbda / n) sum ||W||^2 (n the size of that data set).
        """
        evaluation = None
        if monitor_evaluation_cost or monitor_evaluation_accuracy:
            if evaluation_data is None:
                raise ValueError("evaluation_data: required by monitor_evaluation_cost and "
                                 "monitor_evaluation_accuracy, found none")
            Xe, ye = self._labelled(evaluation_data, "evaluation_data", cached=True)
            evaluation = (Xe, ye, one_hot(ye, self.sizes[-1]) if monitor_evaluation_cost else None)
        evaluation_cost, evaluation_accuracy = [], []
        training_cost, training_accuracy = [], []
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)

        def monitor(j, training):
            print("Epoch %s training complete" % j)
            if monitor_training_cost or monitor_training_accuracy:
                X, Y = training()
            if monitor_training_cost:
                cost = self._core.cost(X, Y, lmbda)
                training_cost.append(cost)
                print("Cost on training data: {}".format(cost))
            if monitor_training_accuracy:
                accuracy = self._count_correct(X, np.argmax(Y, axis=1))
                training_accuracy.append(accuracy)
                print("Accuracy on training data: {} / {}".format(accuracy, X.shape[0]))
            if monitor_evaluation_cost:
                cost = self._core.cost(evaluation[0], evaluation[2], lmbda)
                evaluation_cost.append(cost)
                print("Cost on evaluation data: {}".format(cost))
            if monitor_evaluation_accuracy:
                accuracy = self._count_correct(evaluation[0], evaluation[1])
                evaluation_accuracy.append(accuracy)
                print("Accuracy on evaluation data: {} / {}".format(accuracy, len(evaluation[1])))
            print()

        self._epochs(training_data, epochs, mini_batch_size, eta, lmbda, monitor)
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One L2-regularised gradient-descent step on ``mini_batch``.

        ``W <- (1 - eta lmbda/n) W - (eta/m) sum_x dC_x/dW``,
        ``b <- b - (eta/m) sum_x dC_x/db``, m = ``len(mini_batch)``, n the
        size of the whole training set.
        """
        self._step(mini_batch, eta, lmbda, check_int(n, "n", minimum=1))

    def accuracy(self, data, convert=False):
        """Number of examples in ``data`` whose largest output is the right class (an int).

        ``convert=False`` for validation/test data (labels), ``convert=True``
        for training data (one-hot vectors), as in the book.
        """
        if convert:
            X, Y = self._examples(data, "data", cached=True)
            return self._count_correct(X, np.argmax(Y, axis=1))
        return self._count_correct(*self._labelled(data, "data", cached=True))

    def total_cost(self, data, lmbda, convert=False):
        """Mean cost over ``data`` plus 0.5 (lmbda / len(data)) sum ||W||^2 (a float).

        ``convert=False`` for training data (vectors), ``convert=True`` for
        validation/test data (labels), as in the book.
        """
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        if convert:
            X, labels = self._labelled(data, "data", cached=True)
            Y = one_hot(labels, self.sizes[-1])
        else:
            X, Y = self._examples(data, "data", cached=True)
        return self._core.cost(X, Y, lmbda)

    def save(self, filename):
        """Write the network to ``filename`` as the book's JSON (sizes, weights, biases, cost)."""
        data = {"sizes": list(self.sizes),
                "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases],
                "cost": self._cost.__name__}
        write_json_atomic(filename, data)


def load(filename):
    """Read a Network saved by the book's network2.py or by :meth:`Network.save`.

    Like the book's ``load``, it builds ``Network(sizes, cost)`` (drawing
    initial parameters from ``np.random``, so later draws match the book's)
    and then sets the saved weights and biases. The file's ``cost`` must be
    "QuadraticCost" or "CrossEntropyCost"; no other name is looked up.

    Raises
    ------
    ValueError
        If the file is not JSON, names another cost, or has arrays of the wrong shape.
    """
    data = read_json(filename)  # strict: NaN, duplicate keys, deep nesting -> ValueError
    if not isinstance(data, dict):
        raise ValueError(f"{filename}: not a network2 file (the top level is not a JSON object)")
    name = data.get("cost")
    cost = _CLASS_OF_NAME.get(name) if isinstance(name, str) else None
    if cost is None:
        raise ValueError(f"{filename}: unknown cost {name!r}; network2 files name "
                         f"'QuadraticCost' or 'CrossEntropyCost'")
    acts = data.get("activations")
    if acts is not None and (not isinstance(acts, list) or any(a != "sigmoid" for a in acts)):
        raise ValueError(f"{filename}: network2 networks are sigmoid throughout; the file has "
                         f"activations {acts!r} (load it with fastbp.load)")
    checked = network_from_dict(data, filename)  # sizes, shapes and finiteness checked
    net = Network(list(checked.sizes), cost=cost)
    net.weights = checked.weights
    net.biases = checked.biases
    return net
