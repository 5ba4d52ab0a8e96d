"""The public Network class: validates, converts, allocates, then calls a kernel."""
import math
import os
import time

import numpy as np

from . import kernels
from ._numba_options import quiet_numba_experimental
from .activations import (ACTIVATIONS, CUSTOM, IDENTITY_CFUNC, MAX_CUSTOM_ACTIVATIONS, ONE_CFUNC, SOFTMAX,
                          Activation, get_activation)
from .checkpoint import read_checkpoint, write_checkpoint
from .costs import get_cost
from .diagnostics import LearningMonitor
from .exceptions import DivergenceError
from .schedules import SCHEDULES, epoch_learning_rates, linear_scaling
from .validation import (all_finite, check_choice, check_float, check_float_dtype, check_inputs,
                         check_int, check_labels, check_nonempty, check_path, check_seed,
                         check_sizes, check_targets)

#: Bytes of activation buffers one chunk may take by default (see default_chunk_size).
DEFAULT_CHUNK_BYTES = 32 * 2**20

_REGULARIZATION = {"l2": kernels.REG_L2, "l1": kernels.REG_L1}
_OPTIMIZERS = {"sgd": kernels.OPT_SGD, "adam": kernels.OPT_ADAM}


def default_chunk_size(sizes, dtype, batch_size):
    """Rows per chunk so that one chunk's buffers take about DEFAULT_CHUNK_BYTES.

    A row of a chunk holds its input (sizes[0]), its target (sizes[-1]) and the
    z, a and delta of every layer (3 x sum(sizes[1:])) values.
    """
    row_bytes = (sizes[0] + sizes[-1] + 3 * sum(sizes[1:])) * np.dtype(dtype).itemsize
    return int(max(1, min(batch_size, DEFAULT_CHUNK_BYTES // row_bytes)))


def check_hooks(**hooks):
    """TypeError naming the first hook that is neither None nor callable."""
    for name, fn in hooks.items():
        if fn is not None and not callable(fn):
            raise TypeError(f"{name}: expected a callable, found {type(fn).__name__}")


class ParameterList(list):
    """A list of parameter arrays that are views into the network's flat buffer.

    Item assignment copies the new values in (after checking shape and
    finiteness), so ``net.weights[0] = W`` and ``net.weights[0][:] = W`` both
    update the network.
    """

    def __init__(self, views, name):
        super().__init__(views)
        self._name = name

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError(f"{self._name}: assign whole arrays by index, not slices")
        view = list.__getitem__(self, index)
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{self._name}[{index}]: expected a real numeric array, "
                            f"found dtype {arr.dtype}")
        if arr.size != view.size or arr.squeeze().shape != view.squeeze().shape:
            raise ValueError(f"{self._name}[{index}]: expected shape {view.shape}, "
                             f"found {arr.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            cast = arr.astype(view.dtype)  # check what will be stored: 1e300 is inf in float32
        if not all_finite(cast):
            raise ValueError(f"{self._name}[{index}]: contains NaN or infinite values (or values "
                             f"too large for {view.dtype})")
        if arr is not view:
            view[...] = cast.reshape(view.shape)


class Network:
    """A fully-connected feed-forward network trained by backpropagation.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[784, 30, 10]``.
    activation : str, Activation or sequence, default="sigmoid"
        One activation for every layer, or one per layer (``len(sizes) - 1``
        entries). Built in: "sigmoid", "tanh", "relu", "linear", "softmax"
        (output layer only). A :class:`fastbp.Activation` for your own.
    output_activation : str or Activation, optional
        Replaces the last layer's activation.
    cost : {"quadratic", "cross_entropy", "log_likelihood"}, default="quadratic"
        "cross_entropy" needs a sigmoid output layer, "log_likelihood" a
        softmax one; "quadratic" works with any element-wise output.
    dtype : {np.float64, np.float32}, default=np.float64
        The dtype of parameters and arithmetic.
    init : {"default", "large"}, default="default"
        "default": W ~ N(0, 1/n_in), b ~ N(0, 1) (network2.py); "large":
        W, b ~ N(0, 1) (network.py). Biases are drawn before weights.
    seed : int or np.random.Generator, optional
        Makes the initial parameters reproducible.
    input_scale : float, default=1.0
        Every input row is multiplied by this as the kernels read it, e.g.
        1/255 to feed uint8 images (which are then never copied or converted
        whole: a data set can stay 8x smaller than in float64).

    Attributes
    ----------
    weights : list of ndarray of shape (sizes[l+1], sizes[l])
    biases : list of ndarray of shape (sizes[l+1],)
        Views into one flat parameter buffer: read, write in place, or assign.
    history_ : dict
        The per-epoch metrics of the last :meth:`fit`.
    """

    def __init__(self, sizes, activation="sigmoid", output_activation=None, cost="quadratic",
                 dtype=np.float64, init="default", seed=None, input_scale=1.0):
        self.sizes = check_sizes(sizes)
        self.dtype = check_float_dtype(dtype)
        self.input_scale = check_float(input_scale, "input_scale", minimum=0.0, strict_min=True)
        n_layers = len(self.sizes) - 1
        if isinstance(activation, (list, tuple)):
            if len(activation) != n_layers:
                raise ValueError(f"activation: expected {n_layers} entries (one per layer), "
                                 f"found {len(activation)}")
            acts = [get_activation(a, f"activation[{i}]") for i, a in enumerate(activation)]
        else:
            acts = [get_activation(activation)] * n_layers
        if output_activation is not None:
            acts[-1] = get_activation(output_activation, "output_activation")
        self.activations = acts
        self.cost_function = get_cost(cost)
        self._check_activation_cost()
        self._build_layout()
        self._build_arch()
        self.history_ = None
        self._optimizer_state = None
        self.initialize(init, seed)

    # ------------------------------------------------------------------ setup
    def _check_activation_cost(self):
        for i, act in enumerate(self.activations[:-1]):
            if act.code == SOFTMAX:
                raise ValueError(f"activation[{i}]: softmax is for the output layer only "
                                 f"(with cost='log_likelihood')")
        out = self.activations[-1]
        need = self.cost_function.required_output
        if need is not None and out is not ACTIVATIONS[need]:
            raise ValueError(f"cost={self.cost_function.name!r} needs a {need} output layer, found "
                             f"{out.name!r}; pass output_activation={need!r}")
        if out.code == SOFTMAX and self.cost_function.name != "log_likelihood":
            raise ValueError("output_activation='softmax' needs cost='log_likelihood' "
                             f"(its Jacobian is not diagonal), found cost={self.cost_function.name!r}")

    def _build_layout(self):
        n_layers = len(self.sizes) - 1
        layout = np.zeros((n_layers, 5), dtype=np.int64)
        offset = 0
        widths_before = 0
        for l in range(n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            layout[l] = (n_in, n_out, offset, offset + n_in * n_out, widths_before)
            offset += n_in * n_out + n_out
            widths_before += n_out
        self._layout = layout
        self.n_parameters = offset
        self._theta = np.zeros(offset, dtype=self.dtype)
        self._weight_views = [kernels.layer_weights(self._theta, layout, l) for l in range(n_layers)]
        self._bias_views = [kernels.layer_biases(self._theta, layout, l) for l in range(n_layers)]

    def _build_arch(self):
        customs = []
        slots = np.zeros(len(self.activations), dtype=np.int64)
        for l, act in enumerate(self.activations):
            if act.code == CUSTOM:
                if act not in customs:
                    customs.append(act)
                slots[l] = customs.index(act)
        if len(customs) > MAX_CUSTOM_ACTIVATIONS:
            raise ValueError(f"activation: at most {MAX_CUSTOM_ACTIVATIONS} distinct custom "
                             f"activations per network, found {len(customs)}")
        fs = [c.f_compiled for c in customs] + [IDENTITY_CFUNC] * (MAX_CUSTOM_ACTIVATIONS - len(customs))
        fps = [c.fprime_compiled for c in customs] + [ONE_CFUNC] * (MAX_CUSTOM_ACTIVATIONS - len(customs))
        codes = np.array([a.code for a in self.activations], dtype=np.int64)
        self._arch = (self._layout, codes, slots, tuple(fs), tuple(fps))

    def initialize(self, init="default", seed=None):
        """Draw new parameters. See the class docstring for ``init`` and ``seed``."""
        check_choice(init, "init", ("default", "large"))
        rng = check_seed(seed)
        for b in self._bias_views:
            b[:] = rng.standard_normal(b.shape)
        for W in self._weight_views:
            scale = 1.0 if init == "large" else 1.0 / math.sqrt(W.shape[1])
            W[:] = rng.standard_normal(W.shape) * scale

    # ------------------------------------------------------------- parameters
    @property
    def num_layers(self):
        """Number of layers, the input layer included (as in the book)."""
        return len(self.sizes)

    @property
    def weights(self):
        return ParameterList(self._weight_views, "weights")

    @weights.setter
    def weights(self, new):
        self._assign_all(new, self._weight_views, "weights")

    @property
    def biases(self):
        return ParameterList(self._bias_views, "biases")

    @biases.setter
    def biases(self, new):
        self._assign_all(new, self._bias_views, "biases")

    def _assign_all(self, new, views, name):
        if isinstance(new, (str, bytes, np.ndarray)) or not isinstance(new, (list, tuple)):
            raise TypeError(f"{name}: expected a list of {len(views)} arrays, found "
                            f"{type(new).__name__}")
        new = list(new)
        if len(new) != len(views):
            raise ValueError(f"{name}: expected a list of {len(views)} arrays, found {len(new)}")
        target = ParameterList(views, name)
        checked = []
        for i, value in enumerate(new):  # check all before writing any
            arr = np.asarray(value)
            scratch = ParameterList([np.empty_like(views[i])], f"{name}")
            try:
                scratch[0] = arr
            except (TypeError, ValueError) as exc:
                raise type(exc)(str(exc).replace(f"{name}[0]", f"{name}[{i}]")) from None
            checked.append(arr)
        for i, arr in enumerate(checked):
            target[i] = arr

    def get_parameters(self):
        """A copy of all parameters as one flat array (the kernels' layout)."""
        return self._theta.copy()

    def set_parameters(self, theta):
        """Set all parameters from one flat array of length ``n_parameters``."""
        theta = np.asarray(theta)
        if theta.dtype.kind not in "fiu":
            raise TypeError(f"theta: expected a real numeric array, found dtype {theta.dtype}")
        if theta.shape != self._theta.shape:
            raise ValueError(f"theta: expected shape {self._theta.shape}, found {theta.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            cast = theta.astype(self.dtype)
        if not all_finite(cast):
            raise ValueError(f"theta: contains NaN or infinite values (or values too large for "
                             f"{self.dtype})")
        self._theta[:] = cast

    def _check_parameters(self):
        if not all_finite(self._theta):
            raise ValueError("the network's weights or biases contain NaN or infinite values "
                             "(assigned by hand, or left by an earlier run)")

    # ----------------------------------------------------------------- kernels
    def _workspace(self, chunk_rows):
        dt = self.dtype
        total = int(chunk_rows) * int(sum(self.sizes[1:]))
        return (np.empty((chunk_rows, self.sizes[0]), dt), np.empty((chunk_rows, self.sizes[-1]), dt),
                np.empty(total, dt), np.empty(total, dt), np.empty(total, dt),
                np.empty(6, np.int32), np.empty(2, np.uint8), np.empty(2, dt))

    @property
    def _x_scale(self):
        return self.dtype.type(self.input_scale)

    def _chunk_rows(self, chunk_size, batch_rows):
        if chunk_size is None:
            return default_chunk_size(self.sizes, self.dtype, max(1, batch_rows))
        return min(check_int(chunk_size, "chunk_size", minimum=1), max(1, batch_rows))

    def _inputs(self, X, name="X", allow_single=True):
        arr, single = check_inputs(X, self.sizes[0], self.dtype, name)
        if single and not allow_single:
            raise ValueError(f"{name}: expected a 2-D array of shape (n_samples, {self.sizes[0]})")
        return arr, single

    @quiet_numba_experimental()
    def _forward(self, X, Y=None, chunk_size=None):
        n = X.shape[0]
        out = np.empty((n, self.sizes[-1]), self.dtype)
        Yk = Y if Y is not None else np.empty((0, self.sizes[-1]), self.dtype)
        work = self._workspace(self._chunk_rows(chunk_size, n))
        total = kernels.forward_outputs(X, Yk, np.arange(n, dtype=np.int64), self._x_scale,
                                        self.cost_function.code, self._theta, self._arch, work, out)
        return out, total

    # -------------------------------------------------------------- inference
    def feedforward(self, X, chunk_size=None):
        """Output activations a^L.

        Parameters
        ----------
        X : array_like of shape (n, sizes[0]) or (sizes[0],)

        Returns
        -------
        ndarray of shape (n, sizes[-1]) or (sizes[-1],), of the network's dtype
        """
        X, single = self._inputs(X)
        self._check_parameters()
        out, _ = self._forward(X, chunk_size=chunk_size)
        return out[0] if single else out

    def predict(self, X, chunk_size=None):
        """Index of the largest output for each row: class labels of shape (n,)."""
        X, single = self._inputs(X)
        self._check_parameters()
        out, _ = self._forward(X, chunk_size=chunk_size)
        labels = np.argmax(out, axis=1)
        return labels[0] if single else labels

    def accuracy(self, X, y, chunk_size=None):
        """Fraction of rows whose largest output is the label.

        ``y`` holds integer labels of shape (n,) or one-hot rows of shape (n, sizes[-1]).
        """
        X, _ = self._inputs(X, allow_single=False)
        check_nonempty(X.shape[0])
        y = check_labels(y, X.shape[0], self.sizes[-1])
        self._check_parameters()
        out, _ = self._forward(X, chunk_size=chunk_size)
        return float(np.mean(np.argmax(out, axis=1) == y))

    def cost(self, X, Y, lmbda=0.0, chunk_size=None):
        """Mean cost over the rows, plus the L2 term 0.5 lmbda/n sum ||W||^2 when lmbda > 0.

        This is network2.py's ``total_cost``.
        """
        X, _ = self._inputs(X, allow_single=False)
        check_nonempty(X.shape[0])
        Y = check_targets(Y, X.shape[0], self.sizes[-1], self.dtype)
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        self._check_parameters()
        _, total = self._forward(X, Y, chunk_size)
        return total / X.shape[0] + self._penalty(lmbda, X.shape[0], "l2")

    def _penalty(self, lmbda, n, kind):
        if lmbda == 0.0:
            return 0.0
        if kind == "l1":
            return lmbda / n * float(sum(np.abs(W).sum() for W in self._weight_views))
        return 0.5 * lmbda / n * float(sum(np.square(W, dtype=np.float64).sum()
                                           for W in self._weight_views))

    # -------------------------------------------------------------- gradients
    @quiet_numba_experimental()
    def gradients(self, X, Y, chunk_size=None):
        """Mean over the rows of dC_x/db and dC_x/dW (backpropagation, no regularisation).

        Parameters
        ----------
        X : array_like of shape (n, sizes[0])
        Y : array_like of shape (n, sizes[-1]), or integer labels of shape (n,)
        chunk_size : int, optional
            Rows per forward/backward chunk; the sums are accumulated, so the
            result does not depend on it (up to rounding).

        Returns
        -------
        nabla_b : list of ndarray of shape (sizes[l+1],)
        nabla_w : list of ndarray of shape (sizes[l+1], sizes[l])
        """
        X, _ = self._inputs(X, allow_single=False)
        n = X.shape[0]
        check_nonempty(n)
        Y = check_targets(Y, n, self.sizes[-1], self.dtype)
        self._check_parameters()
        G = np.empty_like(self._theta)
        work = self._workspace(self._chunk_rows(chunk_size, n))
        kernels.gradient_sums(X, Y, np.arange(n, dtype=np.int64), 0, n, self._x_scale,
                              self.cost_function.code, self._theta, self._arch, work, G)
        G /= n
        L = len(self.sizes) - 1
        return ([kernels.layer_biases(G, self._layout, l).copy() for l in range(L)],
                [kernels.layer_weights(G, self._layout, l).copy() for l in range(L)])

    @quiet_numba_experimental()
    def trace(self, X, Y, deltas=True):
        """The per-layer z, a and delta of a batch, for study and for tests.

        Parameters
        ----------
        X : array_like of shape (n, sizes[0])
        Y : array_like of shape (n, sizes[-1]), or labels of shape (n,)
        deltas : bool, default=True
            Also run BP1 and BP2. Without them only the forward pass runs
            (it compiles nothing beyond what ``fit`` and ``predict`` use).

        Returns
        -------
        dict with keys
            "z" : list of L arrays of shape (n, sizes[l+1])
            "a" : list of L+1 arrays, the input first, then shape (n, sizes[l+1])
            "delta" : list of L arrays of shape (n, sizes[l+1]), dC_x/dz^l per row
                (only with ``deltas``)
        """
        X, _ = self._inputs(X, allow_single=False)
        n = X.shape[0]
        check_nonempty(n)
        Y = check_targets(Y, n, self.sizes[-1], self.dtype)
        self._check_parameters()
        work = self._workspace(n)
        kernels.gather_rows(X, Y, np.arange(n, dtype=np.int64), 0, n, self._x_scale, work)
        kernels.forward_pass(n, self._theta, self._arch, work)
        if deltas:
            kernels.output_delta(n, self.cost_function.code, self._arch, work)
            kernels.backward_pass(n, self._theta, self._arch, work)
        L = len(self.sizes) - 1
        block = lambda buf, l: kernels.layer_rows(buf, self._layout, l, n, n).copy()  # noqa: E731
        result = {"z": [block(work[2], l) for l in range(L)],
                  "a": [work[0][:n].copy()] + [block(work[3], l) for l in range(L)]}
        if deltas:
            result["delta"] = [block(work[4], l) for l in range(L)]
        return result

    # ---------------------------------------------------------------- training
    def fit(self, X, Y, epochs, batch_size, eta, lmbda=0.0, momentum=0.0, evaluation_data=None,
            shuffle=True, seed=None, regularization="l2", nesterov=False, chunk_size=None,
            callback=None, optimizer="sgd", lr_schedule="constant", warmup_epochs=0.0,
            base_batch_size=None, decay_epochs=None, decay_factor=0.1, lars=0.0, beta1=0.9,
            beta2=0.999, epsilon=1e-8, reset_optimizer=True, on_progress=None, checkpoint=None,
            checkpoint_every=1, resume=False):
        """Train by mini-batch stochastic gradient descent (network2.py's update).

        Each step, for a mini-batch of m rows out of n training rows::

            g = grad_W / m + (lmbda / n) W      (L2; L1 uses (lmbda / n) sign(W))
            W <- W - eta g,   b <- b - eta grad_b / m

        With momentum mu: v <- mu v - eta g, W <- W + v (Nesterov: W <- W + mu v - eta g).
        Every mini-batch of an epoch runs inside one compiled function.

        Parameters
        ----------
        X : array_like of shape (n, sizes[0])
            float data, or uint8 images (read without a copy and multiplied by
            ``input_scale`` row by row).
        Y : array_like of shape (n, sizes[-1]), or integer labels of shape (n,)
        epochs, batch_size : int >= 1
            The last mini-batch of an epoch may be shorter (n % batch_size rows).
        eta : float > 0
            Learning rate (the peak rate when a schedule or warmup is used).
        lmbda : float >= 0, default=0
            Regularisation parameter, scaled by 1/n as in network2.py.
        momentum : float in [0, 1), default=0
        evaluation_data : tuple (X_eval, y_eval), optional
            Evaluated after every epoch: cost and accuracy.
        shuffle : bool, default=True
        seed : int or np.random.Generator, optional
            Fixes the shuffles: two fits from the same parameters with the same
            seed give identical weights.
        regularization : {"l2", "l1"}, default="l2"
        nesterov : bool, default=False
        chunk_size : int, optional
            Rows per forward/backward chunk within a mini-batch; the gradient
            sums are accumulated chunk by chunk, so the result does not depend
            on it (up to rounding) and activation memory is bounded by
            chunk_size x (sizes[0] + sizes[-1] + 3 sum(sizes[1:])) values.
            Default: :func:`default_chunk_size` (about 32 MiB of buffers).
        callback : callable, optional
            ``callback(net, epoch, history)`` after every epoch; True stops.
        optimizer : {"sgd", "adam"}, default="sgd"
            "adam" uses beta1, beta2, epsilon (scikit-learn's Adam).
        lr_schedule : {"constant", "step", "cosine"}, default="constant"
        warmup_epochs : float >= 0, default=0
            Linear warmup over this many epochs, per mini-batch.
        base_batch_size : int, optional
            Linear scaling rule (Goyal et al. 2017): the rate used is
            eta * batch_size / base_batch_size.
        decay_epochs, decay_factor :
            The "step" schedule multiplies the rate by decay_factor every
            decay_epochs epochs.
        lars : float >= 0, default=0
            LARS trust coefficient (You et al. 2017; e.g. 0.001); 0 is off.
            Each layer's weight step is scaled by lars * ||W|| / ||g||.
        reset_optimizer : bool, default=True
            False continues the momentum / Adam state of the previous fit.
        on_progress : callable, optional
            ``on_progress(epoch, batches_done, n_batches)`` about 16 times an epoch.
        checkpoint : str or os.PathLike, optional
            Write a checkpoint (see :mod:`fastbp.checkpoint`) to this path every
            ``checkpoint_every`` epochs and after the last one.
        checkpoint_every : int >= 1, default=1
        resume : bool, default=False
            With ``checkpoint``: if the file exists, restore the parameters,
            optimiser state, shuffling state and history from it and run only
            the epochs left of ``epochs``. The result is bit-identical to an
            uninterrupted fit. The other arguments must be those of the fit
            that wrote it (ValueError otherwise).

        Returns
        -------
        history : dict of lists
            "epoch", "train_cost" (mean cost over the epoch's mini-batches, each
            before its step, plus the regularisation term), "time" (seconds),
            "eta" (the last rate of the epoch), and with evaluation_data
            "eval_cost" and "eval_accuracy".

        Raises
        ------
        DivergenceError
            When a step's cost or parameters are not finite; the network keeps
            the last finite parameters and ``history_`` the epochs so far.
        KeyboardInterrupt
            Passed on after leaving the network at the last completed mini-batch.
        """
        X, _ = self._inputs(X, allow_single=False)
        n = X.shape[0]
        check_nonempty(n)
        Y = check_targets(Y, n, self.sizes[-1], self.dtype)
        # Private views: a callback that reshapes or retypes the caller's array
        # in place (legal NumPy) cannot change what the kernel reads.
        X, Y = X.view(), Y.view()
        epochs = check_int(epochs, "epochs", minimum=1)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        eta = check_float(eta, "eta", minimum=0.0, strict_min=True)
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0, strict_max=True)
        check_choice(regularization, "regularization", tuple(_REGULARIZATION))
        check_choice(optimizer, "optimizer", tuple(_OPTIMIZERS))
        check_choice(lr_schedule, "lr_schedule", SCHEDULES)
        warmup_epochs = check_float(warmup_epochs, "warmup_epochs", minimum=0.0)
        if base_batch_size is not None:
            base_batch_size = check_int(base_batch_size, "base_batch_size", minimum=1)
        if lr_schedule == "step":
            if decay_epochs is None:
                raise ValueError("decay_epochs: required with lr_schedule='step'")
            decay_epochs = check_int(decay_epochs, "decay_epochs", minimum=1)
        decay_factor = check_float(decay_factor, "decay_factor", minimum=0.0, strict_min=True)
        lars = check_float(lars, "lars", minimum=0.0)
        beta1 = check_float(beta1, "beta1", minimum=0.0, maximum=1.0, strict_max=True)
        beta2 = check_float(beta2, "beta2", minimum=0.0, maximum=1.0, strict_max=True)
        epsilon = check_float(epsilon, "epsilon", minimum=0.0, strict_min=True)
        check_hooks(callback=callback, on_progress=on_progress)
        eval_set = self._evaluation_set(evaluation_data)
        self._check_parameters()

        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        if not isinstance(resume, (bool, np.bool_)):
            raise TypeError(f"resume: expected a bool, found {type(resume).__name__}")
        if resume and checkpoint is None:
            raise ValueError("resume=True needs checkpoint=path")
        if checkpoint is not None:
            checkpoint = check_path(checkpoint, "checkpoint")
            folder = os.path.dirname(os.path.abspath(checkpoint))
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"checkpoint: the folder {folder!r} does not exist")
            if os.path.isdir(checkpoint):
                raise ValueError(f"checkpoint: {checkpoint!r} is a folder; expected a file path")
        rng = check_seed(seed)
        if checkpoint is not None and rng is seed:  # an own copy of the caller's generator
            rng = np.random.Generator(type(seed.bit_generator)())
            rng.bit_generator.state = seed.bit_generator.state
        state = self._training_state(batch_size, chunk_size, optimizer, beta1, beta2, epsilon,
                                     lars, reuse=not reset_optimizer)
        settings = {"n": n, "epochs": epochs, "batch_size": batch_size, "eta": eta,
                    "lmbda": lmbda, "momentum": momentum, "regularization": regularization,
                    "nesterov": bool(nesterov), "optimizer": optimizer, "shuffle": bool(shuffle),
                    "lr_schedule": lr_schedule, "warmup_epochs": warmup_epochs,
                    "base_batch_size": base_batch_size, "decay_epochs": decay_epochs,
                    "decay_factor": decay_factor, "lars": lars, "beta1": beta1, "beta2": beta2,
                    "epsilon": epsilon, "sizes": list(self.sizes),
                    "activations": [a.name for a in self.activations],
                    "cost": self.cost_function.name}
        first_epoch = 0
        restored = None
        if resume and os.path.exists(checkpoint):
            restored = read_checkpoint(checkpoint, self.n_parameters, self.dtype, settings)
            if restored["v1"].shape != state["v1"].shape or restored["v2"].shape != state["v2"].shape:
                raise ValueError(f"{checkpoint}: optimiser state does not match optimizer={optimizer!r}")
            self._theta[:] = restored["theta"]
            state["v1"][:] = restored["v1"]
            state["v2"][:] = restored["v2"]
            state["hyper"][kernels.H_STEP] = restored["step"]
            rng = restored["rng"]
            first_epoch = restored["epochs_done"]
        reg_kind = _REGULARIZATION[regularization] if lmbda > 0 else kernels.REG_NONE
        peak_eta = linear_scaling(eta, batch_size, base_batch_size)
        n_batches = -(-n // batch_size)
        history = {"epoch": [], "train_cost": [], "eta": [], "time": []}
        if eval_set is not None:
            history["eval_cost"] = []
            history["eval_accuracy"] = []
        if restored is not None:
            history = {k: list(restored["history"].get(k, [])) for k in history}
        self.history_ = history
        order = np.arange(n, dtype=np.int64)
        monitor = LearningMonitor(self, X, Y, eta, epochs)  # NotLearningWarning
        for epoch in range(first_epoch, epochs):
            t0 = time.perf_counter()
            if shuffle:
                order = rng.permutation(n).astype(np.int64, copy=False)
            etas = epoch_learning_rates(peak_eta, epoch, n_batches, epochs, lr_schedule,
                                        warmup_epochs, decay_epochs, decay_factor)
            progress = None if on_progress is None else (
                lambda done, total, e=epoch: on_progress(e, done, total))
            cost_sum = self._train_epoch(X, Y, order, batch_size, peak_eta, reg_kind, lmbda / n,
                                         momentum, nesterov, state, epoch, progress, etas)
            history["epoch"].append(epoch + 1)
            history["train_cost"].append(cost_sum / n + self._penalty(lmbda, n, regularization))
            history["eta"].append(float(etas[-1]))
            if eval_set is not None:
                Xe, Ye, ye = eval_set
                out, total = self._forward(Xe, Ye, chunk_size)
                history["eval_cost"].append(total / Xe.shape[0])
                history["eval_accuracy"].append(float(np.mean(np.argmax(out, axis=1) == ye)))
            history["time"].append(time.perf_counter() - t0)
            monitor.after_epoch(history)
            stop = callback is not None and callback(self, epoch, history)
            if checkpoint is not None and (stop or epoch + 1 == epochs
                                           or (epoch + 1) % checkpoint_every == 0):
                write_checkpoint(checkpoint, self._theta, state["v1"], state["v2"],
                                 state["hyper"][kernels.H_STEP], rng, epoch + 1, history, settings)
            if stop:
                break
        return history

    def _evaluation_set(self, evaluation_data, allow_empty=False):
        """(X, Y, labels) from fit's ``evaluation_data=(X_eval, y_eval)``, checked; None if None."""
        if evaluation_data is None:
            return None
        if not isinstance(evaluation_data, (tuple, list)) or len(evaluation_data) != 2:
            raise TypeError("evaluation_data: expected a tuple (X_eval, y_eval)")
        Xe, _ = self._inputs(evaluation_data[0], "evaluation_data[0]", allow_single=False)
        if not allow_empty:
            check_nonempty(Xe.shape[0], "evaluation_data[0]")
        Ye = check_targets(evaluation_data[1], Xe.shape[0], self.sizes[-1], self.dtype,
                           "evaluation_data[1]")
        return Xe.view(), Ye.view(), np.argmax(Ye, axis=1)

    def _training_state(self, batch_size, chunk_size=None, optimizer="sgd", beta1=0.9,
                        beta2=0.999, epsilon=1e-8, lars=0.0, reuse=False):
        """Buffers and optimiser state of one fit, allocated once.

        With ``reuse``, the momentum / Adam moments and step count of the
        previous fit with the same optimiser carry over (warm restarts).
        """
        previous = getattr(self, "_optimizer_state", None)
        adam = optimizer == "adam"
        if reuse and previous is not None and previous["optimizer"] == optimizer:
            v1, v2, step = previous["v1"], previous["v2"], previous["step"]
        else:
            v1 = np.zeros_like(self._theta)
            v2 = np.zeros_like(self._theta) if adam else np.zeros(0, self.dtype)
            step = 0.0
        hyper = np.zeros(kernels.N_HYPER, dtype=np.float64)
        hyper[kernels.H_BETA1] = beta1
        hyper[kernels.H_BETA2] = beta2
        hyper[kernels.H_EPSILON] = epsilon
        hyper[kernels.H_STEP] = step
        hyper[kernels.H_TRUST] = lars
        options = np.zeros(kernels.N_OPTIONS, dtype=np.int64)
        options[kernels.O_OPTIMIZER] = _OPTIMIZERS[optimizer]
        state = {"spare": np.empty_like(self._theta), "v1": v1, "v2": v2,
                 "G": np.empty_like(self._theta), "hyper": hyper, "options": options,
                 "work": self._workspace(self._chunk_rows(chunk_size, batch_size))}
        # The epoch driver's per-segment snapshot (theta's copy is "spare").
        state["snapshot"] = (state["spare"], np.empty_like(v1), np.empty_like(v2),
                             np.empty_like(hyper))
        self._optimizer_state = {"optimizer": optimizer, "v1": v1, "v2": v2, "step": step,
                                 "hyper": hyper}
        return state

    @quiet_numba_experimental()
    def _train_epoch(self, X, Y, order, batch_size, eta, reg_kind, reg, momentum, nesterov,
                     state, epoch=0, on_progress=None, batch_etas=None):
        """Run the mini-batches of one epoch in the given row order; return the cost sum.

        Internal: X, Y must already be validated (``_inputs`` / ``check_targets``),
        ``order`` an int64 array of row indices; mini-batch k is
        order[k*batch_size:(k+1)*batch_size] and steps with batch_etas[k]
        (default: eta for all). The kernel runs about 16 segments of
        mini-batches per epoch, so Ctrl-C (KeyboardInterrupt) is raised between
        segments with the network at the last completed mini-batch;
        ``on_progress(batches_done, n_batches)`` is called after each segment.
        """
        n_batches = -(-order.shape[0] // batch_size)
        if batch_etas is None:
            batch_etas = np.full(n_batches, eta, dtype=np.float64)
        hyper, options = state["hyper"], state["options"]
        hyper[kernels.H_REG] = reg
        hyper[kernels.H_MOMENTUM] = momentum
        options[kernels.O_REG_KIND] = reg_kind
        options[kernels.O_NESTEROV] = int(bool(nesterov))
        segment = max(1, -(-n_batches // 16))
        one_chunk = batch_size <= state["work"][0].shape[0]
        driver = kernels.sgd_minibatches if one_chunk else kernels.sgd_minibatches_chunked
        cost_sum = 0.0
        for first in range(0, n_batches, segment):
            stop = min(first + segment, n_batches)
            status, done, part = driver(
                X, Y, order, batch_size, first, stop, self._x_scale, self.cost_function.code,
                batch_etas, hyper, options, self._theta, state["v1"], state["v2"], state["G"],
                state["snapshot"], self._arch, state["work"])
            cost_sum += part
            if self._optimizer_state is not None:
                self._optimizer_state["step"] = hyper[kernels.H_STEP]
            if status != kernels.OK:
                raise DivergenceError(epoch, first + done, float(batch_etas[first + done]))
            if on_progress is not None:
                on_progress(stop, n_batches)
        return cost_sum

    # ---------------------------------------------------------------- files
    def save(self, path):
        """Write the network as JSON (network2.py's fields plus activations and dtype)."""
        from .serialization import save
        save(self, path)

    def __getstate__(self):
        """Pickle support: plain data only (the views and compiled tables are rebuilt)."""
        return {"sizes": self.sizes,
                "activations": [a if isinstance(a, Activation) else a.name
                                for a in self.activations],
                "cost": self.cost_function.name, "dtype": self.dtype.name,
                "input_scale": self.input_scale, "theta": self._theta.copy(),
                "history_": self.history_}

    def __setstate__(self, state):
        acts = [get_activation(a) for a in state["activations"]]
        self.__init__(state["sizes"], activation=acts, cost=state["cost"],
                      dtype=np.dtype(state["dtype"]), seed=0, input_scale=state["input_scale"])
        self._theta[:] = state["theta"]
        self.history_ = state["history_"]

    def __repr__(self):
        acts = [a.name for a in self.activations]
        return (f"Network(sizes={list(self.sizes)}, activation={acts}, cost={self.cost_function.name!r}, "
                f"dtype={self.dtype.name})")
