"""Is the network learning? The checks behind :class:`fastbp.exceptions.NotLearningWarning`.

``Network.fit`` creates one :class:`LearningMonitor` per fit and calls
:meth:`LearningMonitor.after_epoch` after every epoch. After epochs 3, 6, 12,
24, ... and the last one (:func:`is_check_epoch`) the monitor looks at three
signs that training has gone wrong, and warns once per fit when at least two
of them are seen:

cost
    The cost on a sample of the training rows is no lower than that of the
    best constant output, the sample's mean target
    (:func:`constant_prediction_cost`: for one-hot targets, predicting the
    class frequencies), i.e. the network has not used its inputs; or else the
    latest epoch's training cost is not below the first epoch's
    (:func:`cost_not_falling`).
saturation
    At least :data:`SATURATED_FRACTION` of the hidden units are stuck on a
    fixed sample of training rows: sigmoid or tanh units whose f'(z) is below
    :data:`SATURATED_FPRIME` of its peak on every sampled row (|z| above about
    11 for sigmoid, 5.7 for tanh), ReLU units with z <= 0 on every sampled row
    (dead: no gradient reaches their weights) (:func:`stuck_units`).
    Linear and custom activations are not judged.
chance
    With one-hot targets (classification), the accuracy on the sample is at
    most the larger of its most common class's share and 1.5 / n_classes
    (:func:`chance_accuracy`).

A single sign is not enough: a network fine-tuned from a good start may see
its cost stall, and deliberately saturating units are not wrong in
themselves. The advice is a smaller eta when the steps overshoot (most units
saturated or dead, a cost that exploded or stalled), else a larger eta or more
epochs (a slow learner, eta far too small, also warns). The thresholds were
calibrated on digits and Fashion-MNIST (tests/test_diagnostics.py): the
book's chapter 1 and 3 settings and the README's recipe never warn, while
eta = 1e6 with sigmoid, ReLU or a softmax/log-likelihood output does.

The checks run on a sample of at most :data:`SAMPLE_ROWS` training rows, evenly
spaced (no random numbers are drawn, so training is unchanged), through
:meth:`fastbp.Network.trace`: one forward pass of the sample per check,
none after the warning (on digits, 30 epochs: about 5% of the fit's time).
"""
import contextlib
import math
import os
import sys
import warnings

import numpy as np

from .activations import RELU, SIGMOID, TANH
from .exceptions import NotLearningWarning

#: Rows of the training data the saturation and accuracy checks look at.
SAMPLE_ROWS = 256
#: The first epoch after which the monitor judges (earlier, if the fit is shorter).
FIRST_CHECK_EPOCH = 3
#: Fraction of hidden units that must be stuck to call the network saturated.
SATURATED_FRACTION = 0.95
#: A sigmoid/tanh unit is saturated on a row when f'(z) < this times f'(0).
SATURATED_FPRIME = 1e-4
#: The latest cost counts as "not falling" unless below (1 - this) x the first.
COST_TOLERANCE = 1e-3

# |z| beyond which f'(z) < SATURATED_FPRIME * f'(0):
# sigmoid: 4 e^{-|z|} / (1 + e^{-|z|})^2 ~ 4 e^{-|z|};  tanh: 1 - tanh^2 ~ 4 e^{-2|z|}.
_SIGMOID_Z = math.log(4.0 / SATURATED_FPRIME)
_TANH_Z = 0.5 * math.log(4.0 / SATURATED_FPRIME)


def is_check_epoch(epoch, epochs):
    """Whether the monitor looks after this (1-based) epoch of a fit of ``epochs``.

    After epoch :data:`FIRST_CHECK_EPOCH` and each doubling of it (3, 6, 12,
    24, ...), and after the last epoch: a few checks per fit, so that the
    forward passes of the sample cost little even on small data sets.
    """
    if epoch == epochs:
        return True
    check = FIRST_CHECK_EPOCH
    while check < epoch:
        check *= 2
    return check == epoch


def cost_not_falling(train_costs, tolerance=COST_TOLERANCE):
    """True when the latest epoch's training cost is not below the first epoch's.

    Parameters
    ----------
    train_costs : sequence of float
        ``history["train_cost"]``; needs at least two epochs (False otherwise).
    tolerance : float
        Relative margin: the latest cost must be below ``(1 - tolerance)``
        times the first to count as falling. A non-finite cost is not falling.
    """
    if len(train_costs) < 2:
        return False
    first, last = float(train_costs[0]), float(train_costs[-1])
    if not (math.isfinite(first) and math.isfinite(last)):
        return True
    return not last < first - tolerance * abs(first)


def stuck_units(activations, zs):
    """Count the hidden units that are saturated (sigmoid, tanh) or dead (ReLU) on every row.

    Parameters
    ----------
    activations : list
        The network's per-layer activations (``net.activations``).
    zs : list of ndarray of shape (rows, width)
        Weighted inputs of each layer (``net.trace(X, Y)["z"]``).

    Returns
    -------
    stuck, judged : int
        Stuck units, and hidden units of a judged kind (sigmoid, tanh, ReLU);
        the output layer is not counted (a confident classifier saturates it).
    kinds : set of str
        Names of the activations of the stuck units.
    """
    stuck = judged = 0
    kinds = set()
    for act, z in zip(activations[:-1], zs[:-1]):
        if act.code == SIGMOID:
            per_unit = np.all(np.abs(z) > _SIGMOID_Z, axis=0)
        elif act.code == TANH:
            per_unit = np.all(np.abs(z) > _TANH_Z, axis=0)
        elif act.code == RELU:
            per_unit = np.all(z <= 0, axis=0)
        else:
            continue
        judged += per_unit.size
        n = int(np.count_nonzero(per_unit))
        stuck += n
        if n:
            kinds.add(act.name)
    return stuck, judged, kinds


def chance_accuracy(outputs, Y):
    """Accuracy of ``outputs`` on one-hot ``Y`` and the chance level it is compared with.

    Returns
    -------
    accuracy, chance : float, float
        ``chance`` is the larger of the most common class's share of the rows
        and 1.5 / n_classes; both are None when ``Y`` is not one-hot (regression
        targets, soft labels) or has a single column.
    """
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[1] < 2 or Y.shape[0] == 0:
        return None, None
    if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
        return None, None
    labels = np.argmax(Y, axis=1)
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == labels))
    majority = float(np.bincount(labels, minlength=Y.shape[1]).max()) / Y.shape[0]
    return accuracy, max(majority, 1.5 / Y.shape[1])


def sample_rows(n, rows=SAMPLE_ROWS):
    """Evenly spaced row indices, at most ``rows`` of them (no random numbers drawn)."""
    return np.unique(np.linspace(0, n - 1, min(n, rows)).round().astype(np.int64))


def constant_prediction_cost(cost_name, Y):
    """Mean cost of always predicting the column means of ``Y`` (the best constant output).

    This is what a network that has learned nothing about its inputs can
    reach: for one-hot targets, the class frequencies (quadratic:
    0.5 (1 - sum p_k^2); log-likelihood: the entropy -sum p_k ln p_k). A
    network whose cost is no lower has not used its inputs.
    """
    Y = np.asarray(Y, dtype=np.float64)
    mean = Y.mean(axis=0)
    if cost_name == "quadratic":
        return float(0.5 * np.mean(np.sum((Y - mean) ** 2, axis=1)))
    p = np.clip(mean, 1e-12, 1.0 - 1e-12)
    if cost_name == "log_likelihood":
        return float(np.mean(-np.sum(Y * np.log(p), axis=1)))
    return float(np.mean(-np.sum(Y * np.log(p) + (1.0 - Y) * np.log1p(-p), axis=1)))


def mean_cost(cost_name, Z, A, Y):
    """Mean over the rows of the cost of the output layer's ``Z`` (z^L), ``A`` (a^L) for ``Y``.

    quadratic: 0.5 ||a - y||^2. The other two from z, so that saturated
    outputs give large finite costs instead of log(0): cross_entropy (sigmoid
    outputs) sum y softplus(-z) + (1 - y) softplus(z); log_likelihood (softmax
    outputs) sum y (logsumexp(z) - z).
    """
    Y = np.asarray(Y, dtype=np.float64)
    with np.errstate(all="ignore"):
        if cost_name == "quadratic":
            per_row = 0.5 * np.sum((np.asarray(A, dtype=np.float64) - Y) ** 2, axis=1)
        else:
            Z = np.asarray(Z, dtype=np.float64)
            if cost_name == "log_likelihood":
                top = np.max(Z, axis=1, keepdims=True)
                lse = top + np.log(np.sum(np.exp(Z - top), axis=1, keepdims=True))
                per_row = np.sum(Y * (lse - Z), axis=1)
            else:
                per_row = np.sum(Y * np.logaddexp(0.0, -Z) + (1.0 - Y) * np.logaddexp(0.0, Z),
                                 axis=1)
        return float(np.mean(per_row))


class LearningMonitor:
    """Watches one fit and warns (:class:`NotLearningWarning`) once if it learns nothing.

    Parameters
    ----------
    net : fastbp.Network
    X, Y : the fit's checked training inputs and targets (2-D)
    eta : float
        The fit's learning rate, named in the warning's advice.
    epochs : int
        The fit's number of epochs (the last one is always checked).
    """

    def __init__(self, net, X, Y, eta, epochs):
        self.net = net
        idx = sample_rows(X.shape[0])
        self.X = X[idx]
        self.Y = Y[idx]
        self.eta = eta
        self.epochs = epochs
        self.warned = False
        self.null_cost = constant_prediction_cost(net.cost_function.name, self.Y)

    def after_epoch(self, history):
        """Check the epochs in ``history`` so far; warn once per fit. Returns the message or None."""
        if self.warned or not history["epoch"]:
            return None
        if not is_check_epoch(history["epoch"][-1], self.epochs):
            return None
        message = self.diagnose(history["train_cost"])
        if message is not None:
            self.warned = True
            warnings.warn(message, NotLearningWarning, stacklevel=_stacklevel_outside_fastbp())
        return message

    def diagnose(self, train_costs):
        """The warning's text when at least two of the three signs are seen, else None."""
        n_rows = self.X.shape[0]
        with np.errstate(all="ignore"):
            trace = self.net.trace(self.X, self.Y, deltas=False)
        sample_cost = mean_cost(self.net.cost_function.name, trace["z"][-1], trace["a"][-1],
                                self.Y)
        signs = []
        # 1. the cost
        stalled = cost_not_falling(train_costs)
        useless = not sample_cost < self.null_cost
        if useless:
            signs.append(f"the cost on {n_rows} sampled training rows, {sample_cost:.4g}, is no "
                         f"better than that of a constant output ({self.null_cost:.4g})")
        elif stalled:
            signs.append(f"the training cost has not fallen below its first-epoch value "
                         f"({train_costs[0]:.4g}, now {train_costs[-1]:.4g})")
        # 2. the hidden units
        stuck, judged, kinds = stuck_units(self.net.activations, trace["z"])
        if judged and stuck >= SATURATED_FRACTION * judged:
            what = []
            if kinds & {"sigmoid", "tanh"}:
                what.append("saturated (|z| large, f'(z) ~ 0)")
            if "relu" in kinds:
                what.append("dead (ReLU, z <= 0)")
            signs.append(f"{stuck} of {judged} hidden units are {' or '.join(what)} on all "
                         f"{n_rows} sampled training rows")
        # 3. the accuracy
        accuracy, chance = chance_accuracy(trace["a"][-1], self.Y)
        if accuracy is not None and accuracy <= chance:
            signs.append(f"the accuracy on them is {100 * accuracy:.1f}%, chance level for "
                         f"{self.Y.shape[1]} classes")
        if len(signs) < 2:
            return None
        # What to try: a smaller eta when the steps overshoot (units pushed into
        # saturation or death, a cost that exploded or does not fall), else a larger one.
        finite = [c for c in train_costs if math.isfinite(c)]
        overshoot = (stalled or (judged and stuck >= 0.5 * judged)
                     or not finite or max(finite) > 10 * max(self.null_cost, 1e-12)
                     or sample_cost > 10 * max(self.null_cost, 1e-12))
        if overshoot:
            advice = [f"try a smaller eta (now {_number(self.eta)}), e.g. {_number(self.eta / 100)}"]
        else:
            advice = [f"the cost falls slowly: try a larger eta (now {_number(self.eta)}) or more epochs"]
        x_max = float(np.max(np.abs(self.X))) * float(self.net.input_scale) if self.X.size else 0.0
        if x_max > 10:
            advice.append(f"scale the inputs to about [0, 1] (they reach {x_max:g}; "
                          f"e.g. input_scale=1/{x_max:g})")
        epochs = len(train_costs)
        return (f"the network is not learning after {epochs} epoch{'s' if epochs != 1 else ''}: "
                + "; ".join(signs) + ". " + _sentence(", or ".join(advice)))


def _stacklevel_outside_fastbp():
    """The ``stacklevel`` that attributes a warning to the first caller outside fastbp (and contextlib)."""
    here = os.path.dirname(os.path.abspath(__file__))
    skip = (here + os.sep, os.path.abspath(contextlib.__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(skip):
        frame, level = frame.f_back, level + 1
    return level


def _number(x):
    """1e+06 -> 1e6, 0.01 -> 0.01: as a user would type it."""
    return f"{x:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def _sentence(text):
    return text[:1].upper() + text[1:] + "."
