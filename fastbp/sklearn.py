"""scikit-learn estimators on fastbp's engine: ``MLPClassifier`` and ``MLPRegressor``.

A drop-in for :class:`sklearn.neural_network.MLPClassifier` and
:class:`~sklearn.neural_network.MLPRegressor` with the stochastic solvers::

    from sklearn.neural_network import MLPClassifier   # scikit-learn's
    from fastbp.sklearn import MLPClassifier            # this one

Same parameter names and meanings, same fitted attributes, and the same
numbers: the initial weights are drawn from ``random_state`` as scikit-learn
draws them (Glorot uniform, factor 2 for "logistic", 6 otherwise), the
mini-batches come from the same shuffles, and each step is scikit-learn's
(gradient mean over the mini-batch plus ``alpha * W / batch_n``; SGD with
momentum or Nesterov momentum, or Adam). ``coefs_`` agree with scikit-learn's
to rounding (about 1e-12 in float64) after any number of epochs. What is new:
each epoch runs in one compiled kernel call, ``dtype=np.float32`` trains in
single precision, and ``activation`` also takes a :class:`fastbp.Activation`.

Needs scikit-learn (the ``sklearn`` extra); ``import fastbp`` does not import
this module.

Differences from scikit-learn
-----------------------------
- ``solver="lbfgs"`` (and ``max_fun``), ``loss="poisson"`` and
  ``sample_weight`` are not supported; sparse inputs are rejected.
- The early-stopping validation split is stratified for every single-label
  classification (binary and multiclass), as scikit-learn documents; its code
  stratifies only binary targets. When stratification is impossible (a class
  with one member, or fewer validation rows than classes) the split is plain.
- A non-finite step raises ``ValueError`` at once (scikit-learn finishes the
  fit, then raises); the estimator keeps its last finite parameters.
- The log-loss is computed exactly from the output layer's z (scikit-learn
  clips probabilities to [eps, 1 - eps]), so losses of confidently wrong
  predictions can be larger than scikit-learn's; gradients are the same.
- ``loss_curve_`` with ``alpha > 0``: scikit-learn adds the penalty
  ``0.5 alpha ||W||^2`` of the weights before each mini-batch's step; the
  kernel sums ||W||^2 over the steps as it goes (hyper[H_WEIGHT_SQ_SUM]).
"""
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils import shuffle as sk_shuffle
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from .engine import Trainer
from .optimizers import Regularization, optimizer_spec
from .activations import Activation, BuiltinActivation, get_activation
from .exceptions import DivergenceError
from .model import Network
from .validation import (MAX_WIDTH, check_bool, check_choice, check_float,
                         check_float_dtype, check_int)

__all__ = ["MLPClassifier", "MLPRegressor"]

#: scikit-learn's hidden activation names -> fastbp's.
HIDDEN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}

#: out_activation_ -> (fastbp output activation, fastbp cost): canonical pairs, delta = a - y.
OUTPUTS = {"softmax": ("softmax", "log_likelihood"),
           "logistic": ("sigmoid", "cross_entropy"),
           "identity": ("linear", "quadratic")}

_SOLVERS = ("sgd", "adam")
_LEARNING_RATES = ("constant", "invscaling", "adaptive")


# ---------------------------------------------------------------- parameters
# The checks are fastbp.validation's (one home for argument checks); only the
# scikit-learn conventions are added here.
def _real(value, name, low=None, high=None, low_open=False, high_open=False):
    """A number in scikit-learn's interval: an infinity within the bounds passes, NaN never."""
    return check_float(value, name, minimum=low, maximum=high, strict_min=low_open,
                       strict_max=high_open, finite=False)


def _choice(value, name, options):
    """check_choice, with ValueError for a non-string too (as these estimators always raised)."""
    try:
        return check_choice(value, name, options)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def _hidden_layer_sizes(value):
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError("hidden_layer_sizes: expected an int or a sequence of ints such as "
                        f"(100,), found {type(value).__name__}")
    return [check_int(s, f"hidden_layer_sizes[{i}]", minimum=1, maximum=MAX_WIDTH)
            for i, s in enumerate(value)]


def _plain(a):
    """A C-contiguous, writeable base ndarray (a copy only when ``a`` is not one already).

    Read-only or memory-mapped inputs would make Numba compile the kernels
    again for another array type; a copy is cheaper.
    """
    if type(a) is np.ndarray and a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


def _activation_key(act):
    """What identifies a hidden activation: the name of a built-in, the object of a custom one."""
    return act.name if isinstance(act, BuiltinActivation) else act


def _hidden_activation(value):
    """The fastbp activation for a scikit-learn name or a fastbp Activation."""
    if isinstance(value, str):
        if value not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"activation: expected one of {list(HIDDEN_ACTIVATIONS)} or a "
                             f"fastbp.Activation, found {value!r}")
        return get_activation(HIDDEN_ACTIVATIONS[value])
    if isinstance(value, (Activation, BuiltinActivation)):
        if value.name == "softmax":
            raise ValueError("activation: softmax is an output activation, not a hidden one")
        return value
    raise TypeError(f"activation: expected a name such as 'relu' or a fastbp.Activation, "
                    f"found {type(value).__name__}")


# ---------------------------------------------------------------- optimiser
class _Optimizer:
    """scikit-learn's SGDOptimizer / AdamOptimizer bookkeeping over fastbp's training engine.

    The engine's :class:`fastbp.engine.Trainer` holds the momentum velocities
    or Adam moments and Adam's step count; this object holds the per-epoch
    learning rate and the schedule rules (invscaling, adaptive division by 5).
    One lives from a ``fit`` (or the first ``partial_fit``) until the next
    ``fit``, as scikit-learn's ``_optimizer``.
    """

    def __init__(self, net, solver, batch_size, learning_rate_init, lr_schedule, momentum,
                 nesterov, power_t, beta_1, beta_2, epsilon):
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        spec = optimizer_spec(solver, momentum, nesterov, beta1=beta_1, beta2=beta_2,
                              epsilon=epsilon)
        self.trainer = Trainer(net, spec, batch_size)

    @property
    def eta(self):
        """The rate the kernel steps with (Adam scales it by its bias corrections)."""
        return self.learning_rate_init if self.solver == "adam" else self.learning_rate

    def iteration_ends(self, time_step):
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        """True to stop; SGD with "adaptive" divides the rate by 5 instead, while it is > 1e-6."""
        if self.solver == "adam" or self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


# ---------------------------------------------------------------- estimators
class _BaseMLP(BaseEstimator):
    """Shared fit loop of MLPClassifier and MLPRegressor (not for direct use)."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 dtype=np.float64):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    # ---------------------------------------------------------- validation
    def _check_params(self):
        """Validate the hyperparameters (at fit time, as scikit-learn asks)."""
        _choice(self.solver, "solver", _SOLVERS)
        _real(self.alpha, "alpha", low=0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if isinstance(self.batch_size, str):
                raise ValueError(f"batch_size: expected 'auto' or an int >= 1, "
                                 f"found {self.batch_size!r}")
            check_int(self.batch_size, "batch_size", minimum=1, maximum=None)
        _choice(self.learning_rate, "learning_rate", _LEARNING_RATES)
        _real(self.learning_rate_init, "learning_rate_init", low=0.0, low_open=True)
        _real(self.power_t, "power_t", low=0.0)
        check_int(self.max_iter, "max_iter", minimum=1, maximum=None)
        check_bool(self.shuffle, "shuffle")
        _real(self.tol, "tol", low=0.0)
        if not isinstance(self.verbose, (bool, np.bool_, numbers.Integral)):
            raise TypeError(f"verbose: expected a bool or an int, "
                            f"found {type(self.verbose).__name__}")
        check_bool(self.warm_start, "warm_start")
        _real(self.momentum, "momentum", low=0.0, high=1.0)
        check_bool(self.nesterovs_momentum, "nesterovs_momentum")
        check_bool(self.early_stopping, "early_stopping")
        _real(self.validation_fraction, "validation_fraction", low=0.0, high=1.0, high_open=True)
        _real(self.beta_1, "beta_1", low=0.0, high=1.0, high_open=True)
        _real(self.beta_2, "beta_2", low=0.0, high=1.0, high_open=True)
        _real(self.epsilon, "epsilon", low=0.0, low_open=True)
        patience = self.n_iter_no_change
        if not (isinstance(patience, numbers.Real) and patience == np.inf):
            check_int(patience, "n_iter_no_change", minimum=1, maximum=None)
        return _hidden_layer_sizes(self.hidden_layer_sizes), _hidden_activation(self.activation), \
            check_float_dtype(self.dtype)

    # ------------------------------------------------------------- network
    def _glorot_factor(self, hidden):
        return 2.0 if hidden.name == "sigmoid" else 6.0

    def _initialize(self, y, layer_units, hidden, dtype, random_state):
        """Fresh network, attributes and bookkeeping (scikit-learn's _initialize)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        out_act, cost = OUTPUTS[self.out_activation_]
        net = Network(layer_units, activation=hidden, output_activation=out_act, cost=cost,
                      dtype=dtype, seed=0)
        factor = self._glorot_factor(hidden)
        for i in range(self.n_layers_ - 1):
            fan_in, fan_out = layer_units[i], layer_units[i + 1]
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = random_state.uniform(-bound, bound, fan_out)
            net.weights[i] = coef.T.astype(dtype)
            net.biases[i] = intercept.astype(dtype)
        self._net = net
        self._net_config = (_activation_key(hidden), dtype)
        self._bind_parameters()
        self._best_theta = net.get_parameters()
        self._optimizer = None
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _bind_parameters(self):
        """coefs_[i] = W^{i+1}.T and intercepts_[i] = b^{i+1}: views into the network."""
        net = self._net
        self._coef_views = [W.T for W in net._weight_views]
        self._intercept_views = list(net._bias_views)
        self.coefs_ = list(self._coef_views)
        self.intercepts_ = list(self._intercept_views)

    def _sync_parameters(self):
        """Copy into the network any coefs_ / intercepts_ array a user assigned."""
        net = self._net
        n = len(net._weight_views)
        if len(self.coefs_) != n or len(self.intercepts_) != n:
            raise ValueError(f"coefs_ and intercepts_: expected lists of {n} arrays, found "
                             f"{len(self.coefs_)} and {len(self.intercepts_)}")
        changed = False
        for i in range(n):
            if self.coefs_[i] is not self._coef_views[i]:
                coef = np.asarray(self.coefs_[i])
                if coef.shape != self._coef_views[i].shape:
                    raise ValueError(f"coefs_[{i}]: expected shape {self._coef_views[i].shape}, "
                                     f"found {coef.shape}")
                net.weights[i] = coef.T
                changed = True
            if self.intercepts_[i] is not self._intercept_views[i]:
                net.biases[i] = np.asarray(self.intercepts_[i]).reshape(-1)
                changed = True
        if changed:
            self._bind_parameters()

    def _ensure_network(self, layer_units, hidden, dtype):
        """Continue with the fitted network (warm_start, partial_fit) after checking it fits."""
        self._sync_parameters()
        net = self._net
        if tuple(layer_units) != tuple(net.sizes):
            raise ValueError(f"the fitted network has layer sizes {list(net.sizes)} but "
                             f"hidden_layer_sizes and the data now give {list(layer_units)}; "
                             "refit with warm_start=False")
        if (_activation_key(hidden), dtype) != self._net_config:  # same parameters, new net
            out_act, cost = OUTPUTS[self.out_activation_]
            new = Network(layer_units, activation=hidden, output_activation=out_act, cost=cost,
                          dtype=dtype, seed=0)
            new.set_parameters(net.get_parameters().astype(dtype))
            self._net = new
            self._net_config = (_activation_key(hidden), dtype)
            self._best_theta = self._best_theta.astype(dtype)
            self._optimizer = None
            self._bind_parameters()

    # ----------------------------------------------------------------- fit
    def _fit(self, X, y, incremental):
        hidden_sizes, hidden, dtype = self._check_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        layer_units = [X.shape[1]] + hidden_sizes + [y.shape[1]]
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, hidden, dtype, random_state)
        else:
            self._ensure_network(layer_units, hidden, dtype)
        self.n_outputs_ = y.shape[1]
        self._fit_stochastic(X, y, random_state, incremental)
        return self

    def _validation_split(self, X, y, random_state):
        stratify = None
        if self._stratify_validation(y):
            stratify = y
        X_train, X_val, y_train, y_val = train_test_split(
            X, y, random_state=random_state, test_size=self.validation_fraction,
            stratify=stratify)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return X_train, X_val, y_train, self._validation_targets(y_val)

    def _stratify_validation(self, y):
        return False

    def _validation_targets(self, y_val):
        return y_val

    def _fit_stochastic(self, X, y, random_state, incremental):
        net = self._net
        if self.early_stopping and self.validation_scores_ is None:  # warm start, newly on
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
            self._best_theta = net.get_parameters()
        elif not self.early_stopping and self.best_loss_ is None:  # warm start, newly off
            self.best_loss_ = np.inf
        if self.early_stopping:
            X_train, X_val, y_train, y_val = self._validation_split(X, y, random_state)
        else:
            X_train, y_train, X_val, y_val = X, y, None, None
        n_samples = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        if not incremental or self._optimizer is None:
            self._optimizer = _Optimizer(
                net, self.solver, batch_size, self.learning_rate_init, self.learning_rate,
                self.momentum, self.nesterovs_momentum, self.power_t, self.beta_1, self.beta_2,
                self.epsilon)
        optimizer = self._optimizer
        optimizer.trainer.resize(batch_size)  # a later partial_fit may change the batch size
        # Validated once per fit: every epoch then runs in one kernel call on these arrays.
        Xk, _ = net._inputs(_plain(X_train))
        Yk = _plain(np.asarray(y_train, dtype=net.dtype))
        sample_idx = np.arange(n_samples, dtype=np.int64)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = sk_shuffle(sample_idx, random_state=random_state)
                data_sum, penalty_sum = self._run_epoch(Xk, Yk, sample_idx, batch_size)
                self.n_iter_ += 1
                self.loss_ = (data_sum / self._loss_divisor() + 0.5 * self.alpha * penalty_sum) \
                    / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                self._update_no_improvement_count(X_val, y_val)
                optimizer.iteration_ends(self.t_)
                if self._no_improvement_count > self.n_iter_no_change:
                    if self.early_stopping:
                        msg = ("Validation score did not improve more than tol=%f for %d "
                               "consecutive epochs." % (self.tol, self.n_iter_no_change))
                    else:
                        msg = ("Training loss did not improve more than tol=%f for %d "
                               "consecutive epochs." % (self.tol, self.n_iter_no_change))
                    if optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                                  "optimization hasn't converged yet." % self.max_iter,
                                  ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        if self.early_stopping:
            net.set_parameters(self._best_theta)

    def _run_epoch(self, X, Y, order, batch_size):
        """One epoch in one kernel call; returns (sum of example costs, sum of ||W||^2 over steps).

        The second sum runs over the mini-batches, each term the squared norm
        of the weights before that batch's step (scikit-learn's penalty),
        accumulated by the kernel.
        """
        opt = self._optimizer
        trainer = opt.trainer
        # alpha * W / batch_n for each mini-batch (scikit-learn), not network2's lmbda / n.
        regularization = Regularization("l2", self.alpha, per_batch=True)
        n_batches = -(-order.shape[0] // batch_size)
        trainer.state.take_weight_square_sum()
        try:
            data_sum = trainer.run_epoch(X, Y, order, batch_size, np.full(n_batches, opt.eta),
                                         regularization, self.n_iter_)
        except DivergenceError as exc:
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.") from exc
        penalty = trainer.state.take_weight_square_sum() if self.alpha > 0 else 0.0
        return data_sum, penalty

    def _update_no_improvement_count(self, X_val, y_val):
        if self.early_stopping:
            score = self._score(X_val, y_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_theta = self._net.get_parameters()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _score(self, X, y):
        """Validation score without input validation (NaN when outputs are not finite)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred)

    # ------------------------------------------------------------- predict
    def _forward_pass_fast(self, X, check_input=True):
        """Output activations, shape (n_samples, n_outputs_), in the network's dtype."""
        if check_input:
            X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        self._sync_parameters()
        return self._net.feedforward(_plain(X))

    def fit(self, X, y):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real numbers (regression).

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    # --------------------------------------------------------------- state
    def __getstate__(self):
        """Pickle without the coefs_/intercepts_ views; they are rebound to the network on load."""
        if hasattr(self, "_net"):
            self._sync_parameters()
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        for key in ("coefs_", "intercepts_", "_coef_views", "_intercept_views"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_net" in self.__dict__:
            self._bind_parameters()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's MLPClassifier on fastbp's kernels.

    Parameters are scikit-learn's (stochastic solvers only), plus ``dtype``.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Width of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"} or fastbp.Activation, default="relu"
        Activation of the hidden layers.
    solver : {"sgd", "adam"}, default="adam"
    alpha : float >= 0, default=1e-4
        L2 strength: each step adds ``alpha * W / batch_n`` to the mean
        gradient; the loss adds ``0.5 * alpha * ||W||^2 / batch_n`` per batch.
    batch_size : int or "auto", default="auto"
        "auto" is ``min(200, n_samples)``; larger values are clipped (with a warning).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        SGD only. "invscaling": ``learning_rate_init / (t_ + 1) ** power_t``
        after each epoch; "adaptive": divide by 5 whenever the stopping rule
        (below) fires, until the rate is <= 1e-6.
    learning_rate_init : float > 0, default=0.001
    power_t : float >= 0, default=0.5
    max_iter : int >= 1, default=200
        Epochs. Reaching it without the stopping rule firing warns
        (``ConvergenceWarning``).
    shuffle : bool, default=True
    random_state : None, int or np.random.RandomState, default=None
        Initial weights, the early-stopping split and the shuffles (as scikit-learn).
    tol : float >= 0, default=1e-4
    verbose : bool or int, default=False
    warm_start : bool, default=False
        Continue from the fitted weights; the optimiser state starts afresh
        (as scikit-learn).
    momentum : float in [0, 1], default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified), stop when
        the validation accuracy has not improved by ``tol`` for more than
        ``n_iter_no_change`` epochs, and keep the best weights.
    validation_fraction : float in [0, 1), default=0.1
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
    epsilon : float > 0, default=1e-8
    n_iter_no_change : int >= 1 or np.inf, default=10
        Stop (or, with "adaptive", divide the rate) when the training loss
        (validation score with early stopping) has not improved by ``tol``
        for more than this many epochs.
    dtype : {np.float64, np.float32}, default=np.float64
        The dtype of the weights and of all arithmetic.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of ndarray of shape (n_in, n_out)
        Views into the network's parameters (``net.weights[i].T``); writing
        into them, or assigning new arrays, changes the model.
    intercepts_ : list of ndarray of shape (n_out,)
    loss_ : float
    loss_curve_ : list of float
        Per epoch: mean log-loss over the training rows plus the L2 term,
        each mini-batch's terms taken before its step (scikit-learn's).
    best_loss_ : float or None
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run by the last fit (1 after partial_fit).
    t_ : int
        Training rows seen over all fits since initialisation.
    n_layers_, n_outputs_ : int
    out_activation_ : {"softmax", "logistic"}
        softmax with log-loss for multiclass targets, logistic for binary and multilabel.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastbp.sklearn import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier((30,), solver="sgd", learning_rate_init=0.1, max_iter=20,
    ...                     random_state=0).fit(X[:1500] / 16, y[:1500])
    """

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _loss_divisor(self):
        return 1.0

    def _stratify_validation(self, y):
        """Stratify single-label splits when every class can appear in both parts."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return False
        _, counts = np.unique(y, axis=0, return_counts=True)
        n = y.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        n_classes = counts.shape[0]
        return counts.min() >= 2 and n_val >= n_classes and n - n_val >= n_classes

    def _validation_targets(self, y_val):
        return self._label_binarizer.inverse_transform(y_val)

    def _score_function(self, y, y_pred):
        return accuracy_score(y, y_pred)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if type_of_target(y) != "multilabel-indicator":
            check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes "
                                     f"as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def partial_fit(self, X, y, classes=None):
        """One epoch over the given rows, continuing the weights and the optimiser state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes) (multilabel)
        classes : array-like of shape (n_classes,), optional
            All the classes; required on the first call.

        Returns
        -------
        self
        """
        if getattr(self, "classes_", None) is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        first = False
        if classes is not None:
            if getattr(self, "classes_", None) is not None:
                if not np.array_equal(self.classes_, unique_labels(classes)):
                    raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                     f"partial_fit, was: {self.classes_!r}")
            else:
                self.classes_ = unique_labels(classes)
                first = True
        if first:
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def predict(self, X):
        """Class labels (n_samples,), or indicators (n_samples, n_classes) when multilabel."""
        check_is_fitted(self)
        return self._predict(X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), in the order of ``classes_``."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """log(predict_proba(X)), shape (n_samples, n_classes)."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's MLPRegressor on fastbp's kernels.

    Identity output with the squared error, ``0.5 * mean((y - p)^2)`` over
    rows and outputs; the step uses ``delta = p - y`` per output, as
    scikit-learn. Parameters and attributes are those of
    :class:`MLPClassifier` (``out_activation_`` is "identity", the validation
    score is R^2, and there are no classes), plus ``loss``.

    Parameters
    ----------
    loss : {"squared_error"}, default="squared_error"
        Accepted for scikit-learn's signature; "poisson" is not supported.
    hidden_layer_sizes, activation, ... , dtype :
        See :class:`MLPClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastbp.sklearn import MLPRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> reg = MLPRegressor((20,), solver="sgd", learning_rate_init=0.01, max_iter=50,
    ...                    random_state=0).fit(X, X.sum(axis=1))
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 dtype=np.float64):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            dtype=dtype)
        self.loss = loss

    def _check_params(self):
        if self.loss != "squared_error":
            raise ValueError(f"loss: only 'squared_error' is supported, found {self.loss!r}")
        return super()._check_params()

    def _output_activation(self):
        return "identity"

    def _loss_divisor(self):
        # The kernel's quadratic cost sums 0.5 (a - y)^2 over the outputs; scikit-learn averages.
        return float(self.n_outputs_)

    def _score_function(self, y, y_pred):
        return r2_score(y, y_pred)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def partial_fit(self, X, y):
        """One epoch over the given rows, continuing the weights and the optimiser state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def predict(self, X):
        """Predicted values, shape (n_samples,) or (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
