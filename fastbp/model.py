"""The public Network class: validates, converts, allocates, then calls a kernel."""
import math

import numpy as np

from . import engine, serialization
from ._numba_options import call_with_literals
from .activations import (ACTIVATIONS, SOFTMAX, Activation, activation_kinds, function_addresses,
                          get_activation)
from .backprop import (GRADIENT_SUMS_LITERALS, backward_pass, forward_outputs, forward_pass,
                       gather_rows, gradient_sums)
from .costs import get_cost, output_delta
from .layout import layer_biases, layer_rows, layer_weights, parameter_layout, workspace
from .validation import (all_finite, check_choice, check_float, check_float_dtype, check_inputs,
                         check_labels, check_nonempty, check_path, check_seed, check_sizes,
                         check_targets)


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
        self._optimizer_state = None  # an optimizers.OptimizerState, kept for reset_optimizer=False
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
        layout, offset = parameter_layout(self.sizes)
        self._layout = layout
        self.n_parameters = offset
        self._theta = np.zeros(offset, dtype=self.dtype)
        self._weight_views = [layer_weights(self._theta, layout, l) for l in range(n_layers)]
        self._bias_views = [layer_biases(self._theta, layout, l) for l in range(n_layers)]

    def _build_arch(self):
        codes = np.array([a.code for a in self.activations], dtype=np.int64)
        self._arch = (self._layout, codes, function_addresses(self.activations))

    @property
    def _kinds(self):
        """(hidden, output, cost): the codes the kernels are compiled for (see activation_kinds)."""
        return activation_kinds(self.activations) + (self.cost_function.code,)

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
    def _workspace(self, rows):
        """Chunk buffers (layout.workspace) for chunks of at most ``rows`` rows."""
        return workspace(self.sizes, self.dtype, rows)

    def _targets(self, Y, n, name="Y"):
        """Y checked (validation.check_targets, labels one-hot encoded) and in the cost's range."""
        return self.cost_function.check_targets(
            check_targets(Y, n, self.sizes[-1], self.dtype, name), name)

    @property
    def _x_scale(self):
        return self.dtype.type(self.input_scale)

    def _chunk_rows(self, chunk_size, batch_rows):
        return engine.chunk_rows(self.sizes, self.dtype, chunk_size, batch_rows)

    def _inputs(self, X, name="X", allow_single=True):
        arr, single = check_inputs(X, self.sizes[0], self.dtype, name)
        if single and not allow_single:
            raise ValueError(f"{name}: expected a 2-D array of shape (n_samples, {self.sizes[0]})")
        return arr, single

    def _forward(self, X, Y=None, chunk_size=None):
        n = X.shape[0]
        out = np.empty((n, self.sizes[-1]), self.dtype)
        Yk = Y if Y is not None else np.empty((0, self.sizes[-1]), self.dtype)
        work = self._workspace(self._chunk_rows(chunk_size, n))
        total = forward_outputs(X, Yk, np.arange(n, dtype=np.int64), self._x_scale, *self._kinds,
                                self._theta, self._arch, work, out)
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
        Y = self._targets(Y, X.shape[0])
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
        Y = self._targets(Y, n)
        self._check_parameters()
        G = np.empty_like(self._theta)
        work = self._workspace(self._chunk_rows(chunk_size, n))
        call_with_literals(gradient_sums, GRADIENT_SUMS_LITERALS, X, Y,
                           np.arange(n, dtype=np.int64), 0, n, self._x_scale, *self._kinds,
                           self._theta, self._arch, work, G)
        G /= n
        L = len(self.sizes) - 1
        return ([layer_biases(G, self._layout, l).copy() for l in range(L)],
                [layer_weights(G, self._layout, l).copy() for l in range(L)])

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
        Y = self._targets(Y, n)
        self._check_parameters()
        work = self._workspace(n)
        gather_rows(X, Y, np.arange(n, dtype=np.int64), 0, n, self._x_scale, work)
        hidden, output, cost = self._kinds
        call_with_literals(forward_pass, (4, 5), n, self._theta, self._arch, work, hidden, output)
        if deltas:
            call_with_literals(output_delta, (1, 2), n, output, cost, self._arch, work)
            call_with_literals(backward_pass, (4,), n, self._theta, self._arch, work, hidden)
        L = len(self.sizes) - 1
        block = lambda buf, l: layer_rows(buf, self._layout, l, n, n).copy()  # noqa: E731
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
            Default: :func:`default_chunk_size` (about 64 MiB of buffers).
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
        Y = self._targets(Y, n)
        settings = engine.FitSettings.checked(
            epochs, batch_size, eta, lmbda=lmbda, momentum=momentum, shuffle=shuffle, seed=seed,
            regularization=regularization, nesterov=nesterov, chunk_size=chunk_size,
            callback=callback, optimizer=optimizer, lr_schedule=lr_schedule,
            warmup_epochs=warmup_epochs, base_batch_size=base_batch_size,
            decay_epochs=decay_epochs, decay_factor=decay_factor, lars=lars, beta1=beta1,
            beta2=beta2, epsilon=epsilon, reset_optimizer=reset_optimizer,
            on_progress=on_progress, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
            resume=resume)
        evaluation = self._evaluation_set(evaluation_data)
        self._check_parameters()
        # Private views: a callback that reshapes or retypes the caller's array
        # in place (legal NumPy) cannot change what the kernel reads.
        return engine.fit(self, X.view(), Y.view(), settings, evaluation)

    def _evaluation_set(self, evaluation_data, allow_empty=False):
        """(X, Y, labels) from fit's ``evaluation_data=(X_eval, y_eval)``, checked; None if None."""
        if evaluation_data is None:
            return None
        if not isinstance(evaluation_data, (tuple, list)) or len(evaluation_data) != 2:
            raise TypeError("evaluation_data: expected a tuple (X_eval, y_eval)")
        Xe, _ = self._inputs(evaluation_data[0], "evaluation_data[0]", allow_single=False)
        if not allow_empty:
            check_nonempty(Xe.shape[0], "evaluation_data[0]")
        Ye = self._targets(evaluation_data[1], Xe.shape[0], "evaluation_data[1]")
        return Xe.view(), Ye.view(), np.argmax(Ye, axis=1)

    # ---------------------------------------------------------------- files
    def save(self, path):
        """Write the network as JSON (network2.py's fields plus activations and dtype)."""
        serialization.save(self, path)

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


def network_from_dict(data, path="<dict>", custom_activations=None):
    """Build a Network from the dict :func:`fastbp.serialization.network_to_dict` produces (checked)."""
    arguments, weights, biases = serialization.network_fields(data, path, custom_activations)
    try:
        net = Network(seed=0, **arguments)
    except (TypeError, ValueError) as exc:
        serialization.invalid_model_file(path, str(exc))
    net.weights = weights
    net.biases = biases
    return net


def load(path, custom_activations=None):
    """Read a network written by :meth:`Network.save` or by the book's network2.py.

    Parameters
    ----------
    path : str or os.PathLike
    custom_activations : dict of str to Activation, optional
        The custom activations the file names (their code is not in the file).

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike, or ``custom_activations`` not a dict.
    FileNotFoundError, OSError
        The file is missing or cannot be read.
    ValueError
        If the file is not valid JSON or breaks the schema (the message says where).
    """
    serialization.check_custom_activations(custom_activations)
    path = check_path(path, "path")
    return network_from_dict(serialization.read_json(path), path, custom_activations)
