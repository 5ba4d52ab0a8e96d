"""The training engine: one fit loop, used by every front end.

``Network.fit``, ``fastbp.distributed.fit``, scikit-learn's estimators, the
book's drop-in modules and the command line all train through this module:

- :class:`FitSettings` checks and holds every training option of a fit;
- :class:`Trainer` holds what one network needs between steps (optimizer
  state, gradient and chunk buffers, the divergence snapshot) and runs one
  epoch: in one process, segments of mini-batches inside the compiled
  drivers of steps.py; with a communicator, one gradient sum, one Allreduce
  and one update per step;
- :func:`fit` is the epoch loop: shuffles, learning-rate schedules,
  evaluation, history, callbacks, checkpoints and resume, divergence.

Internal API for tests and tools (stable within fastbp, not public):
:func:`kernel_view` (a network's arrays as the compiled kernels take them),
:class:`Trainer` (its ``state``, ``G``, ``snapshot`` and ``work`` are the
buffers the drivers of steps.py take), :func:`fastbp.layout.workspace`.

The communicator is duck-typed (``rank``, ``size``, ``allreduce_sum_inplace``,
``allgather_ints``, ``bcast_inplace``; see fastbp.distributed), so this module
imports nothing of MPI.
"""
import os
import time
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, Optional

import numpy as np

from . import steps
from ._numba_options import compiled_with_literals
from .backprop import FUSED_UPDATE_ROWS, GRADIENT_SUMS_LITERALS, gradient_sums
from .checkpoint import read_checkpoint, write_checkpoint
from .diagnostics import LearningMonitor
from .exceptions import DivergenceError
from .layout import workspace
from .optimizers import (OPTIMIZER_NAMES, REGULARIZATIONS, OptimizerState, Regularization,
                         apply_update, optimizer_spec)
from .schedules import SCHEDULES, epoch_learning_rates, linear_scaling
from .validation import check_bool, check_choice, check_float, check_int, check_path, check_seed

#: Bytes of activation buffers one chunk may take by default (see default_chunk_size).
#: 64 MiB holds a 1,024-row mini-batch of [784, 1024, 1024, 10] in float64 in
#: one chunk: split in two, its products are smaller and the weight gradient
#: is summed in a buffer before the step (6% slower an epoch, measured).
DEFAULT_CHUNK_BYTES = 64 * 2**20
#: An epoch runs in about this many kernel calls (segments): Ctrl-C and
#: ``on_progress`` are served between them.
SEGMENTS_PER_EPOCH = 16


def default_chunk_size(sizes, dtype, batch_size):
    """Rows per chunk so that one chunk's buffers take about DEFAULT_CHUNK_BYTES.

    A row of a chunk holds its input (sizes[0]), its target (sizes[-1]) and the
    z, a and delta of every layer (3 x sum(sizes[1:])) values.
    """
    row_bytes = (sizes[0] + sizes[-1] + 3 * sum(sizes[1:])) * np.dtype(dtype).itemsize
    return int(max(1, min(batch_size, DEFAULT_CHUNK_BYTES // row_bytes)))


def chunk_rows(sizes, dtype, chunk_size, batch_rows):
    """The chunk size a kernel call uses: ``chunk_size`` (checked) or the default, at most ``batch_rows``."""
    if chunk_size is None:
        return default_chunk_size(sizes, dtype, max(1, batch_rows))
    return min(check_int(chunk_size, "chunk_size", minimum=1), max(1, batch_rows))


def check_hooks(**hooks):
    """TypeError naming the first hook that is neither None nor callable."""
    for name, fn in hooks.items():
        if fn is not None and not callable(fn):
            raise TypeError(f"{name}: expected a callable, found {type(fn).__name__}")


class KernelView(NamedTuple):
    """A network as the compiled kernels see it (see fastbp.layout for the conventions)."""
    theta: np.ndarray   # the live flat parameters (weights and biases are views into it)
    layout: np.ndarray  # int64 (L, 5)
    arch: tuple         # (layout, codes, functions)
    x_scale: Any        # input_scale in the network's dtype
    kinds: tuple        # (hidden, output, cost) codes, which the kernels compile as literals


def kernel_view(net):
    """The arrays and codes of ``net`` that the kernels take; theta is the network's own buffer."""
    return KernelView(net._theta, net._layout, net._arch, net._x_scale, net._kinds)


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class FitSettings:
    """Every option of a fit, checked (see :meth:`fastbp.Network.fit` for their meaning)."""
    epochs: int
    batch_size: int
    eta: float
    lmbda: float = 0.0
    momentum: float = 0.0
    shuffle: bool = True
    seed: Any = None
    regularization: str = "l2"
    nesterov: bool = False
    chunk_size: Optional[int] = None
    callback: Any = None
    optimizer: str = "sgd"
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0
    base_batch_size: Optional[int] = None
    decay_epochs: Optional[int] = None
    decay_factor: float = 0.1
    lars: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    reset_optimizer: bool = True
    on_progress: Any = None
    checkpoint: Optional[str] = None
    checkpoint_every: int = 1
    resume: bool = False

    @classmethod
    def checked(cls, epochs, batch_size, eta, **options):
        """The settings from fit's arguments, each checked (TypeError/ValueError naming it)."""
        unknown = set(options) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"fit() got unexpected keyword argument(s) {sorted(unknown)}")
        s = dict(options, epochs=check_int(epochs, "epochs", minimum=1),
                 batch_size=check_int(batch_size, "batch_size", minimum=1),
                 eta=check_float(eta, "eta", minimum=0.0, strict_min=True))
        s = {f.name: s.get(f.name, f.default) for f in fields(cls)}
        s["lmbda"] = check_float(s["lmbda"], "lmbda", minimum=0.0)
        s["momentum"] = check_float(s["momentum"], "momentum", minimum=0.0, maximum=1.0,
                                    strict_max=True)
        check_choice(s["regularization"], "regularization", tuple(REGULARIZATIONS))
        check_choice(s["optimizer"], "optimizer", OPTIMIZER_NAMES)
        check_choice(s["lr_schedule"], "lr_schedule", SCHEDULES)
        s["warmup_epochs"] = check_float(s["warmup_epochs"], "warmup_epochs", minimum=0.0)
        if s["base_batch_size"] is not None:
            s["base_batch_size"] = check_int(s["base_batch_size"], "base_batch_size", minimum=1)
        if s["lr_schedule"] == "step":
            if s["decay_epochs"] is None:
                raise ValueError("decay_epochs: required with lr_schedule='step'")
            s["decay_epochs"] = check_int(s["decay_epochs"], "decay_epochs", minimum=1)
        s["decay_factor"] = check_float(s["decay_factor"], "decay_factor", minimum=0.0,
                                        strict_min=True)
        s["lars"] = check_float(s["lars"], "lars", minimum=0.0)
        for name in ("beta1", "beta2"):
            s[name] = check_float(s[name], name, minimum=0.0, maximum=1.0, strict_max=True)
        s["epsilon"] = check_float(s["epsilon"], "epsilon", minimum=0.0, strict_min=True)
        if s["chunk_size"] is not None:
            s["chunk_size"] = check_int(s["chunk_size"], "chunk_size", minimum=1)
        check_hooks(callback=s["callback"], on_progress=s["on_progress"])
        s["checkpoint_every"] = check_int(s["checkpoint_every"], "checkpoint_every", minimum=1)
        s["resume"] = check_bool(s["resume"], "resume")
        if s["resume"] and s["checkpoint"] is None:
            raise ValueError("resume=True needs checkpoint=path")
        if s["checkpoint"] is not None:
            s["checkpoint"] = check_path(s["checkpoint"], "checkpoint")
            folder = os.path.dirname(os.path.abspath(s["checkpoint"]))
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"checkpoint: the folder {folder!r} does not exist")
            if os.path.isdir(s["checkpoint"]):
                raise ValueError(f"checkpoint: {s['checkpoint']!r} is a folder; expected a file path")
        check_seed(s["seed"])  # checked now; drawn from when the fit starts
        for name in ("shuffle", "nesterov", "reset_optimizer"):
            s[name] = bool(s[name])
        return cls(**s)

    def as_dict(self):
        """The options by name (a shallow dict: hooks and generators are not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def optimizer_spec(self):
        return optimizer_spec(self.optimizer, self.momentum, self.nesterov, self.lars, self.beta1,
                              self.beta2, self.epsilon)

    def regularization_per_step(self, n):
        """network2.py's penalty: lmbda / n per step."""
        return Regularization(self.regularization, self.lmbda / n)

    def record(self, n, net):
        """What a checkpoint records to refuse a resume with other settings."""
        keep = ("epochs", "batch_size", "eta", "lmbda", "momentum", "regularization", "nesterov",
                "optimizer", "shuffle", "lr_schedule", "warmup_epochs", "base_batch_size",
                "decay_epochs", "decay_factor", "lars", "beta1", "beta2", "epsilon")
        values = self.as_dict()
        record = {"n": n}
        record.update((k, values[k]) for k in keep)
        record.update(sizes=list(net.sizes), activations=[a.name for a in net.activations],
                      cost=net.cost_function.name)
        return record


# ------------------------------------------------------------------ one epoch
def local_batches(order, batch_size, start, stop):
    """This process's rows of every mini-batch of an epoch, as local row numbers.

    Parameters
    ----------
    order : ndarray of int64, shape (n,)
        The epoch's permutation of the global rows; mini-batch k is
        order[k*batch_size:(k+1)*batch_size].
    batch_size : int >= 1
    start, stop : int
        This process holds the global rows start .. stop-1.

    Returns
    -------
    index : ndarray of int64, shape (stop - start,)
        The local numbers (global row - start) of this process's rows, batch
        after batch, in the order they appear in ``order``.
    bounds : ndarray of int64, shape (n_batches + 1,)
        This process's rows of mini-batch k are index[bounds[k]:bounds[k+1]]
        (possibly none).
    """
    n_batches = -(-order.shape[0] // batch_size)
    positions = np.flatnonzero((order >= start) & (order < stop))
    index = order[positions] - start
    bounds = np.searchsorted(positions, np.arange(n_batches + 1, dtype=np.int64) * batch_size)
    return index.astype(np.int64, copy=False), bounds.astype(np.int64, copy=False)


class Trainer:
    """The state of one network's training between steps, and the runner of an epoch.

    Parameters
    ----------
    net : fastbp.Network
    spec : optimizers.SGD or optimizers.Adam
    batch_size : int
        The largest mini-batch the buffers serve (see :meth:`resize`).
    chunk_size : int, optional
        Rows per forward/backward chunk (default: :func:`default_chunk_size`).
    reuse_state : bool, default=False
        Continue the network's previous optimizer state (momentum, Adam's
        moments and step count) when it is of the same kind.
    comm : communicator, optional
        Data-parallel training: X holds this process's rows ``row_start`` ..
        of the global data set, and every step sums gradients over all
        processes (see fastbp.distributed).
    """

    def __init__(self, net, spec, batch_size, chunk_size=None, reuse_state=False, comm=None,
                 row_start=0):
        self.net = net
        self.spec = spec
        previous = net._optimizer_state
        if reuse_state and previous is not None and previous.spec.name == spec.name:
            self.state = previous
        else:
            self.state = OptimizerState(spec, kernel_view(net).theta)
        self.state.use(spec, Regularization())
        net._optimizer_state = self.state
        theta = kernel_view(net).theta
        self.comm = comm
        self.row_start = row_start
        if comm is None:
            self.G = np.empty_like(theta)
        else:  # the gradient sums, then the step's cost sum: one Allreduce
            self._packed = np.empty(theta.shape[0] + 1, theta.dtype)
            self.G = self._packed[:-1]
        self.snapshot = (np.empty_like(theta), np.empty_like(self.state.v1),
                         np.empty_like(self.state.v2), np.empty_like(self.state.hyper))
        self.chunk_size = chunk_size
        self.batch_size = None
        self.resize(batch_size)

    def resize(self, batch_size):
        """Chunk buffers for mini-batches of ``batch_size`` rows (new ones only if it changed)."""
        if batch_size != self.batch_size:
            net = self.net
            self.work = workspace(net.sizes, net.dtype,
                                  chunk_rows(net.sizes, net.dtype, self.chunk_size, batch_size))
            self.batch_size = batch_size

    def run_epoch(self, X, Y, order, batch_size, batch_etas, regularization, epoch=0,
                  on_progress=None):
        """Run the mini-batches of one epoch in the given row order; return the sum of their costs.

        X, Y must already be checked (``Network._inputs`` / ``check_targets``);
        ``order`` is an int64 permutation of the (global) rows; mini-batch k is
        order[k*batch_size:(k+1)*batch_size] and steps with batch_etas[k].
        Each example's cost is taken before its mini-batch's step.
        ``on_progress(batches_done, n_batches)`` is called about
        SEGMENTS_PER_EPOCH times. Raises DivergenceError with the network at
        the last finite step; Ctrl-C leaves it at the last completed segment.
        """
        self.resize(batch_size)
        self.state.use(self.spec, regularization)
        n_batches = -(-order.shape[0] // batch_size)
        segment = max(1, -(-n_batches // SEGMENTS_PER_EPOCH))
        if self.comm is None:
            run, prepared = self._run_local, self._local_driver(X, Y, order, batch_size, batch_etas)
        else:
            run, prepared = self._run_shared, local_batches(
                order, batch_size, self.row_start, self.row_start + X.shape[0])
        cost_sum = 0.0
        for first in range(0, n_batches, segment):
            stop = min(first + segment, n_batches)
            done, part = run(X, Y, order, batch_size, first, stop, batch_etas, prepared)
            cost_sum += part
            if first + done < stop:
                raise DivergenceError(epoch, first + done, float(batch_etas[first + done]))
            if on_progress is not None:
                on_progress(stop, n_batches)
        return cost_sum

    def _driver_arguments(self, X, Y, order, batch_size, first, stop, batch_etas):
        kv, state = kernel_view(self.net), self.state
        return (X, Y, order, batch_size, first, stop, kv.x_scale, *kv.kinds, batch_etas,
                state.hyper, state.options, kv.theta, state.v1, state.v2, self.G, self.snapshot,
                kv.arch, self.work)

    def _local_driver(self, X, Y, order, batch_size, batch_etas):
        """The compiled driver of steps.py an epoch runs, for the network's codes (see _run_local)."""
        if batch_size > self.work[0].shape[0]:
            driver = steps.sgd_minibatches_chunked
        elif batch_size <= FUSED_UPDATE_ROWS and not self.spec.uses_lars:
            driver = steps.sgd_small_minibatches  # compiles only the small-batch step
        else:
            driver = steps.sgd_minibatches
        return compiled_with_literals(driver, steps.DRIVER_LITERALS, *self._driver_arguments(
            X, Y, order, batch_size, 0, 0, batch_etas))

    def _run_local(self, X, Y, order, batch_size, first, stop, batch_etas, driver):
        """Mini-batches first .. stop-1 in one call of the compiled ``driver``: (completed, cost sum)."""
        status, done, part = driver(*self._driver_arguments(X, Y, order, batch_size, first, stop,
                                                            batch_etas))
        return done, part

    def _run_shared(self, X, Y, order, batch_size, first, stop, batch_etas, prepared):
        """Mini-batches first .. stop-1, each: local gradient sums, Allreduce, the same step everywhere."""
        kv, state, packed = kernel_view(self.net), self.state, self._packed
        index, bounds = prepared
        n = order.shape[0]
        theta = kv.theta
        live = (theta, state.v1, state.v2, state.hyper)
        cost_sum = 0.0
        sums = compiled_with_literals(gradient_sums, GRADIENT_SUMS_LITERALS, X, Y, index, 0, 0,
                                      kv.x_scale, *kv.kinds, theta, kv.arch, self.work, self.G)
        for k in range(first, stop):
            packed[-1] = sums(X, Y, index, bounds[k], bounds[k + 1], kv.x_scale, *kv.kinds, theta,
                              kv.arch, self.work, self.G)
            self.comm.allreduce_sum_inplace(packed)
            batch_cost = float(packed[-1])
            if not np.isfinite(batch_cost):
                return k - first, cost_sum
            m = min(batch_size, n - k * batch_size)
            # The step is in place: keep the last finite state to restore.
            for before, now in zip(self.snapshot, live):
                before[:] = now
            if not apply_update(theta, self.G, state.v1, state.v2, kv.layout, 1.0 / m,
                                float(batch_etas[k]), state.hyper, state.options):
                for before, now in zip(self.snapshot, live):
                    now[:] = before
                return k - first, cost_sum
            cost_sum += batch_cost
        return stop - first, cost_sum


# ------------------------------------------------------------------ the fit loop
def fit(net, X, Y, settings, evaluation=None, comm=None, row_start=0, n=None):
    """Train ``net`` for settings.epochs epochs; return the history (also ``net.history_``).

    Parameters
    ----------
    net : fastbp.Network
    X, Y : ndarray
        Checked training rows and targets (this process's shard with ``comm``).
    settings : FitSettings
    evaluation : tuple (X_eval, Y_eval, labels), optional
        Checked evaluation rows (this process's shard with ``comm``).
    comm : communicator, optional
        Data-parallel: every step's gradient and the evaluation sums are
        summed over all processes; callbacks stop all when one says stop; only
        rank 0 writes checkpoints. The caller has made theta equal everywhere.
    row_start, n : int
        With ``comm``: the global number of this shard's first row, and the
        global number of rows (default: X's rows).
    """
    s = settings
    n = X.shape[0] if n is None else n
    rank = 0 if comm is None else comm.rank
    rng = check_seed(s.seed)
    if s.checkpoint is not None and rng is s.seed:  # an own copy of the caller's generator
        rng = np.random.Generator(type(s.seed.bit_generator)())
        rng.bit_generator.state = s.seed.bit_generator.state
    spec = s.optimizer_spec()
    trainer = Trainer(net, spec, s.batch_size, s.chunk_size, reuse_state=not s.reset_optimizer,
                      comm=comm, row_start=row_start)
    state = trainer.state
    record = s.record(n, net)
    history = {"epoch": [], "train_cost": [], "eta": [], "time": []}
    if evaluation is not None:
        history["eval_cost"] = []
        history["eval_accuracy"] = []
    first_epoch = 0
    if s.resume and os.path.exists(s.checkpoint):
        restored = read_checkpoint(s.checkpoint, net.n_parameters, net.dtype, record)
        if restored["v1"].shape != state.v1.shape or restored["v2"].shape != state.v2.shape:
            raise ValueError(f"{s.checkpoint}: optimiser state does not match "
                             f"optimizer={s.optimizer!r}")
        net.set_parameters(restored["theta"])
        state.v1[:] = restored["v1"]
        state.v2[:] = restored["v2"]
        state.step = restored["step"]
        rng = restored["rng"]
        first_epoch = restored["epochs_done"]
        history = {k: list(restored["history"].get(k, [])) for k in history}
    net.history_ = history
    regularization = s.regularization_per_step(n)
    peak_eta = linear_scaling(s.eta, s.batch_size, s.base_batch_size)
    n_batches = -(-n // s.batch_size)
    order = np.arange(n, dtype=np.int64)
    watch = rank == 0 and X.shape[0] > 0  # NotLearningWarning: once, on rows rank 0 holds
    monitor = LearningMonitor(net, X, Y, s.eta, s.epochs) if watch else None
    eval_sums = np.zeros(3, dtype=np.float64)  # eval cost sum, correct, rows
    for epoch in range(first_epoch, s.epochs):
        t0 = time.perf_counter()
        if s.shuffle:
            order = rng.permutation(n).astype(np.int64, copy=False)
        etas = epoch_learning_rates(peak_eta, epoch, n_batches, s.epochs, s.lr_schedule,
                                    s.warmup_epochs, s.decay_epochs, s.decay_factor)
        progress = None if s.on_progress is None else (
            lambda done, total, e=epoch: s.on_progress(e, done, total))
        cost_sum = trainer.run_epoch(X, Y, order, s.batch_size, etas, regularization, epoch,
                                     progress)
        history["epoch"].append(epoch + 1)
        history["train_cost"].append(cost_sum / n + net._penalty(s.lmbda, n, s.regularization))
        history["eta"].append(float(etas[-1]))
        if evaluation is not None:
            Xe, Ye, ye = evaluation
            out, total = net._forward(Xe, Ye, s.chunk_size)
            eval_sums[:] = (total, np.count_nonzero(np.argmax(out, axis=1) == ye), Xe.shape[0])
            if comm is not None:
                comm.allreduce_sum_inplace(eval_sums)
            history["eval_cost"].append(float(eval_sums[0] / eval_sums[2]))
            history["eval_accuracy"].append(float(eval_sums[1] / eval_sums[2]))
        history["time"].append(time.perf_counter() - t0)
        if monitor is not None:
            monitor.after_epoch(history)
        stop = s.callback is not None and bool(s.callback(net, epoch, history))
        if comm is not None:
            stop = bool(comm.allgather_ints([int(stop)]).any())
        if s.checkpoint is not None and rank == 0 and (
                stop or epoch + 1 == s.epochs or (epoch + 1) % s.checkpoint_every == 0):
            write_checkpoint(s.checkpoint, kernel_view(net).theta, state.v1, state.v2, state.step,
                             rng, epoch + 1, history, record)
        if stop:
            break
    return history
