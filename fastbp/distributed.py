"""Synchronous data-parallel training: one replica per rank, one Allreduce per step.

Every rank (an MPI process started by ``mpiexec``, or the single embedded
process) keeps a full copy of the network and a shard of the training rows.
Per step, for the global mini-batch B_k of m rows::

    each rank r     G_r = sum over its rows x in B_k of dC_x/dtheta   (kernels.gradient_sums)
    Allreduce       G = sum_r G_r                                     (one buffer, in place)
    every rank      theta <- update(theta, G / m, lmbda / n)          (kernels.apply_update)

which is exactly the step of :meth:`fastbp.Network.fit` on the global
mini-batch, up to the order of the floating-point sums. All ranks draw the
same permutation of the n global rows each epoch from the shared seed, so
global mini-batch k is ``order[k*B:(k+1)*B]`` everywhere; rank r only
gathers the rows it holds. The cost sum of the step travels in the same
buffer as the gradients (one element appended), so a step costs one kernel
call, one collective and one update call, and a non-finite cost on any rank
is seen by all ranks at once: they raise :class:`fastbp.DivergenceError`
together, at the same step, each keeping the last finite parameters. (The
cost is thereby summed in the network's dtype: in float32 the reported
training cost is rounded to float32. A separate float64 Allreduce of the cost
would cost one more collective per step; measured on one machine it is
cheap, about 13 us against 2.5 ms for config L's 7 MiB of gradients, but
each collective is one more point where a rank can be held up, so fit keeps
one.)

The step loop runs in Python, one kernel call, one Allreduce and one update
call per step: Numba re-types the kernels' tuple arguments on each call,
which costs about 0.1-1 ms a step. That is nothing next to a large
mini-batch (config L, batch 1024: about 250 ms a step on one core), the case
data-parallel training is for; for mini-batches of ten rows, single-process
:meth:`Network.fit`, which runs a whole epoch inside one compiled call, is
faster.

Communication goes through a small :class:`Communicator` interface with two
engines: :class:`SingleProcess` (rank 0 of 1, no communication: plain
training, used when there is no MPI launcher) and :class:`MPICommunicator`
(mpi4py). Another engine needs only the four methods of the interface; the
kernels never see it. mpi4py is imported only when an MPI communicator is
built, so ``import fastbp`` and single-process use never need it.

Run under MPI (``pip install "fastbp[mpi]" mpich`` gives mpi4py and an
``mpiexec``)::

    # train.py, started as: mpiexec -n 4 python train.py
    import fastbp, fastbp.distributed as dist
    comm = dist.get_communicator()          # MPI.COMM_WORLD under mpiexec
    rows = dist.shard_rows(len(X), comm)    # this rank's contiguous block
    net = fastbp.Network([784, 100, 10], seed=0)
    dist.fit(net, X[rows], y[rows], epochs=10, batch_size=1024, eta=0.1, comm=comm)
    if comm.rank == 0:
        net.save("model.json")

The replicas stay bit-identical as long as the MPI library hands every rank
the same reduced buffer (MPICH and Open MPI do: their Allreduce algorithms
reduce each element once and distribute the result) and all ranks run the
same build of fastbp on the same kind of CPU.
"""
import os
import sys
import time
import zlib

import numpy as np

from . import kernels
from ._numba_options import quiet_numba_experimental
from .exceptions import DivergenceError
from .model import _REGULARIZATION, check_hooks
from .validation import check_float, check_int, check_targets

__all__ = ["Communicator", "SingleProcess", "MPICommunicator", "get_communicator", "shard_rows",
           "shard_offsets", "local_batches", "fit"]

#: Environment variables by which MPI launchers announce the number of ranks:
#: MPICH's Hydra, Intel MPI and Slurm's PMI2 (PMI_SIZE), Open MPI, MVAPICH,
#: and Slurm's srun whatever its MPI plugin.
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                           "SLURM_STEP_NUM_TASKS")

MPI_INSTALL_HINT = ('install mpi4py and an MPI runtime, e.g. pip install "fastbp[mpi]" mpich '
                    '(the mpich wheel provides mpiexec in the environment\'s bin folder)')


# ------------------------------------------------------------ communicators
class Communicator:
    """What data-parallel training needs from a message-passing engine.

    Attributes
    ----------
    rank : int
        This process's number, 0 .. size-1.
    size : int
        Number of processes (replicas).

    Every method is collective: all ranks call it, in the same order.
    """

    rank = 0
    size = 1

    def allreduce_sum_inplace(self, buffer):
        """Replace ``buffer`` (a contiguous 1-D float array) by its element-wise sum over ranks.

        Every rank must receive bitwise the same result.
        """
        raise NotImplementedError

    def bcast_inplace(self, buffer, root=0):
        """Overwrite ``buffer`` (a contiguous 1-D numeric array) on every rank with root's."""
        raise NotImplementedError

    def allgather_ints(self, values):
        """Every rank's ``values``.

        Parameters
        ----------
        values : array_like of int, shape (k,)
            The same k on every rank.

        Returns
        -------
        ndarray of int64, shape (size, k)
            Row r holds rank r's values.
        """
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class SingleProcess(Communicator):
    """The embedded engine: one rank, nothing to communicate."""

    rank = 0
    size = 1

    def allreduce_sum_inplace(self, buffer):
        pass

    def bcast_inplace(self, buffer, root=0):
        if root != 0:
            raise ValueError(f"root: expected 0 (the only rank), found {root}")

    def allgather_ints(self, values):
        return np.asarray(values, dtype=np.int64).reshape(1, -1).copy()


class MPICommunicator(Communicator):
    """MPI through mpi4py: buffer-based collectives (no pickling on the hot path).

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        Default: ``MPI.COMM_WORLD``.
    """

    def __init__(self, comm=None):
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise ImportError(f"fastbp.distributed needs mpi4py for MPI: "
                              f"{MPI_INSTALL_HINT}") from exc
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()

    def allreduce_sum_inplace(self, buffer):
        self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)

    def bcast_inplace(self, buffer, root=0):
        self.comm.Bcast(buffer, root=root)

    def allgather_ints(self, values):
        send = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
        recv = np.empty((self.size, send.shape[0]), dtype=np.int64)
        self.comm.Allgather(send, recv)
        return recv


def _launcher_size():
    """The largest number of ranks an MPI launcher announced in the environment, else 1."""
    sizes = [int(v) for v in map(os.environ.get, LAUNCHER_SIZE_VARIABLES) if v and v.isdigit()]
    return max(sizes, default=1)


def get_communicator(comm=None):
    """The communicator to train with.

    Parameters
    ----------
    comm : Communicator, mpi4py.MPI.Comm or None
        None picks: MPI's COMM_WORLD when this process was started by an MPI
        launcher (``mpiexec``/``srun``) with more than one rank (read from
        the variables in LAUNCHER_SIZE_VARIABLES), or when
        mpi4py is already imported and COMM_WORLD has more than one rank;
        else :class:`SingleProcess`.

    Returns
    -------
    Communicator

    Raises
    ------
    ImportError
        When a launcher started several ranks but mpi4py is missing: training
        each shard on its own would silently give a different model.
    """
    if isinstance(comm, Communicator):
        return comm
    if comm is not None:
        if not all(hasattr(comm, a) for a in ("Allreduce", "Get_rank", "Get_size")):
            raise TypeError(f"comm: expected a fastbp.distributed.Communicator, an mpi4py "
                            f"communicator or None, found {type(comm).__name__}")
        return MPICommunicator(comm)
    if _launcher_size() > 1:
        return MPICommunicator()
    if "mpi4py.MPI" in sys.modules:
        world = MPICommunicator()
        if world.size > 1:
            return world
    return SingleProcess()


# -------------------------------------------------------------- sharding
def shard_rows(n, comm=None):
    """This rank's contiguous block of ``n`` rows, as balanced as possible.

    Rank r gets ``n // size`` rows, plus one if ``r < n % size``, in rank
    order, so the blocks of ranks 0, 1, ... tile range(n) in global order.

    Parameters
    ----------
    n : int >= 0
    comm : see :func:`get_communicator`

    Returns
    -------
    slice
    """
    n = check_int(n, "n", minimum=0)
    comm = get_communicator(comm)
    base, extra = divmod(n, comm.size)
    start = comm.rank * base + min(comm.rank, extra)
    return slice(start, start + base + (comm.rank < extra))


def shard_offsets(sizes):
    """Global index of each rank's first row, from the ranks' shard sizes.

    Parameters
    ----------
    sizes : array_like of int, shape (size,)

    Returns
    -------
    ndarray of int64, shape (size + 1,)
        Rank r holds global rows offsets[r] .. offsets[r+1]-1; offsets[-1] = n.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    offsets = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def local_batches(order, batch_size, start, stop):
    """This rank's rows of every mini-batch of an epoch, as local row numbers.

    Parameters
    ----------
    order : ndarray of int64, shape (n,)
        The epoch's permutation of the global rows; mini-batch k is
        order[k*batch_size:(k+1)*batch_size].
    batch_size : int >= 1
    start, stop : int
        This rank holds the global rows start .. stop-1.

    Returns
    -------
    index : ndarray of int64, shape (stop - start,)
        The local numbers (global row - start) of this rank's rows, batch
        after batch, in the order they appear in ``order``.
    bounds : ndarray of int64, shape (n_batches + 1,)
        This rank's rows of mini-batch k are index[bounds[k]:bounds[k+1]]
        (possibly none).
    """
    n_batches = -(-order.shape[0] // batch_size)
    positions = np.flatnonzero((order >= start) & (order < stop))
    index = order[positions] - start
    bounds = np.searchsorted(positions, np.arange(n_batches + 1, dtype=np.int64) * batch_size)
    return index.astype(np.int64, copy=False), bounds.astype(np.int64, copy=False)


# -------------------------------------------------------------- training
#: Number of words in the settings every rank's fit must agree on (see fit).
_N_SETTINGS = 13


def _settings_code(values):
    """Ints as they are, floats by their bits: int64 words that ranks compare exactly."""
    return np.array([int(np.float64(v).view(np.int64)) if isinstance(v, float) else int(v)
                     for v in values], dtype=np.int64)


def _agree(comm, ok, exc, local):
    """Gather every rank's validity flag and row counts; raise on all ranks if any failed."""
    table = comm.allgather_ints(np.concatenate(([int(ok)], local)))
    bad = [r for r in range(comm.size) if table[r, 0] == 0]
    if not ok:
        raise exc
    if bad:
        raise ValueError(f"rank(s) {bad} rejected their arguments (see their error messages); "
                         f"no rank trained")
    return table[:, 1:]


@quiet_numba_experimental()  # its kernel calls: see fastbp._numba_options
def fit(net, X_shard, Y_shard, epochs, batch_size, eta, lmbda=0.0, momentum=0.0,
        nesterov=False, seed=0, comm=None, regularization="l2", evaluation_data=None,
        chunk_size=None, callback=None, on_progress=None):
    """Data-parallel mini-batch SGD: :meth:`fastbp.Network.fit` over the union of the shards.

    Every rank calls this with its own shard; all other arguments must be the
    same on every rank (checked). Rank r's shard holds the global rows
    offsets[r] .. offsets[r+1]-1 (offsets from the ranks' shard sizes in rank
    order, :func:`shard_offsets`), so the global data set is the shards
    concatenated in rank order, as :func:`shard_rows` cuts it. With one rank
    the result is identical, bit for bit, to ``net.fit(X, Y, ..., seed=seed)``.

    Parameters
    ----------
    net : fastbp.Network
        Rank 0's parameters are broadcast to all ranks first.
    X_shard : array_like of shape (n_r, sizes[0])
        This rank's rows (float, or uint8 read with ``net.input_scale``).
        May be empty on some ranks, not on all.
    Y_shard : array_like of shape (n_r, sizes[-1]), or integer labels of shape (n_r,)
    epochs, batch_size : int >= 1
        batch_size is the global mini-batch size B; each rank computes its
        share (its rows among the B).
    eta : float > 0
    lmbda : float >= 0, default=0
        Regularisation, scaled by 1/n with n the global number of rows.
    momentum : float in [0, 1), default=0
    nesterov : bool, default=False
    seed : int or None, default=0
        The shuffles: every rank draws ``np.random.default_rng(seed).permutation(n)``
        each epoch, as ``Network.fit`` does. None: rank 0 draws a seed and
        broadcasts it.
    comm : Communicator, mpi4py.MPI.Comm or None
        See :func:`get_communicator`.
    regularization : {"l2", "l1"}, default="l2"
    evaluation_data : tuple (X_eval_shard, y_eval_shard), optional
        This rank's shard of an evaluation set, evaluated after every epoch;
        the cost and accuracy are summed over all ranks' shards.
    chunk_size : int, optional
        Rows per forward/backward chunk, as in ``Network.fit``.
    callback : callable, optional
        ``callback(net, epoch, history)`` after every epoch on every rank;
        training stops when it returns True on any rank.
    on_progress : callable, optional
        ``on_progress(epoch, batches_done, n_batches)`` about 16 times an epoch.

    Returns
    -------
    history : dict of lists
        "epoch", "train_cost" (mean over all n rows of the cost before each
        row's step, plus the regularisation term), "eta", "time" (seconds),
        and with evaluation_data "eval_cost" and "eval_accuracy"; the same on
        every rank. Also stored as ``net.history_``.

    Raises
    ------
    DivergenceError
        On every rank at the same step, when the summed cost or the new
        parameters are not finite; each keeps the last finite parameters.
    ValueError, TypeError
        On every rank when any rank's arguments are invalid or differ from
        the others' (no rank trains).
    """
    comm = get_communicator(comm)
    ok, error = True, None
    n_local = n_eval_local = 0
    try:
        X, _ = net._inputs(X_shard, "X_shard", allow_single=False)
        n_local = X.shape[0]
        Y = check_targets(Y_shard, n_local, net.sizes[-1], net.dtype, "Y_shard")
        epochs = check_int(epochs, "epochs", minimum=1)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        eta = check_float(eta, "eta", minimum=0.0, strict_min=True)
        lmbda = check_float(lmbda, "lmbda", minimum=0.0)
        momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0, strict_max=True)
        if regularization not in _REGULARIZATION:
            raise ValueError(f"regularization: expected 'l2' or 'l1', found {regularization!r}")
        if seed is not None:
            seed = check_int(seed, "seed", minimum=0)
        if chunk_size is not None:
            chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
        check_hooks(callback=callback, on_progress=on_progress)
        eval_set = net._evaluation_set(evaluation_data, allow_empty=True)  # a shard may be empty
        if eval_set is not None:
            n_eval_local = eval_set[0].shape[0]
        settings = _settings_code([
            net.n_parameters, net.dtype.itemsize, zlib.crc32(repr(net).encode()), epochs,
            batch_size, eta, lmbda, momentum, bool(nesterov), _REGULARIZATION[regularization],
            -1 if seed is None else seed, evaluation_data is not None,
            -1 if chunk_size is None else chunk_size])
    except (TypeError, ValueError) as exc:
        ok, error = False, exc
        settings = np.zeros(_N_SETTINGS, dtype=np.int64)
    table = _agree(comm, ok, error, np.concatenate(([n_local, n_eval_local], settings)))
    differ = [r for r in range(comm.size) if not np.array_equal(table[r, 2:], table[0, 2:])]
    if differ:
        raise ValueError(f"rank(s) {differ} called fit with another network or other arguments "
                         f"than rank 0; every argument but the data shards must be the same")
    offsets = shard_offsets(table[:, 0])
    n = int(offsets[-1])
    n_eval = int(table[:, 1].sum())
    if n == 0:
        raise ValueError("X_shard: every rank's shard is empty; expected at least one row in all")
    if evaluation_data is not None and n_eval == 0:
        raise ValueError("evaluation_data: every rank's shard is empty")
    row_start, row_stop = int(offsets[comm.rank]), int(offsets[comm.rank + 1])

    if seed is None:
        word = np.array([np.random.default_rng().integers(2**62) if comm.rank == 0 else 0])
        comm.bcast_inplace(word, root=0)
        seed = int(word[0])
    comm.bcast_inplace(net._theta, root=0)
    net._check_parameters()

    state = net._training_state(batch_size, chunk_size)
    hyper, options = state["hyper"], state["options"]
    hyper[kernels.H_REG] = lmbda / n
    hyper[kernels.H_MOMENTUM] = momentum
    options[kernels.O_REG_KIND] = _REGULARIZATION[regularization] if lmbda > 0 else kernels.REG_NONE
    options[kernels.O_NESTEROV] = int(bool(nesterov))
    P = net.n_parameters
    packed = np.empty(P + 1, dtype=net.dtype)  # G, then this step's cost sum: one Allreduce
    G = packed[:P]
    v1, v2, work = state["v1"], state["v2"], state["work"]
    layout, arch, x_scale, cost_code = net._layout, net._arch, net._x_scale, net.cost_function.code
    eval_sums = np.zeros(3, dtype=np.float64)  # eval cost sum, correct, rows

    rng = np.random.default_rng(seed)
    n_batches = -(-n // batch_size)
    segment = max(1, -(-n_batches // 16))
    history = {"epoch": [], "train_cost": [], "eta": [], "time": []}
    if evaluation_data is not None:
        history["eval_cost"] = []
        history["eval_accuracy"] = []
    net.history_ = history
    theta, spare = net._theta, state["spare"]
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n).astype(np.int64, copy=False)
        index, bounds = local_batches(order, batch_size, row_start, row_stop)
        cost_sum = 0.0
        for k in range(n_batches):
            packed[P] = kernels.gradient_sums(X, Y, index, bounds[k], bounds[k + 1], x_scale,
                                              cost_code, theta, arch, work, G)
            comm.allreduce_sum_inplace(packed)
            batch_cost = float(packed[P])
            m = min(batch_size, n - k * batch_size)
            if not np.isfinite(batch_cost):
                raise DivergenceError(epoch, k, eta)
            spare[:] = theta  # the step is in place: keep the last finite parameters
            if not kernels.apply_update(theta, G, v1, v2, layout, 1.0 / m, eta, hyper,
                                        options):
                theta[:] = spare
                raise DivergenceError(epoch, k, eta)
            cost_sum += batch_cost
            if on_progress is not None and ((k + 1) % segment == 0 or k + 1 == n_batches):
                on_progress(epoch, k + 1, n_batches)
        history["epoch"].append(epoch + 1)
        history["train_cost"].append(cost_sum / n + net._penalty(lmbda, n, regularization))
        history["eta"].append(eta)
        if eval_set is not None:
            Xe, Ye, ye = eval_set
            out, total = net._forward(Xe, Ye, chunk_size)
            eval_sums[:] = (total, np.count_nonzero(np.argmax(out, axis=1) == ye), Xe.shape[0])
            comm.allreduce_sum_inplace(eval_sums)
            history["eval_cost"].append(float(eval_sums[0] / eval_sums[2]))
            history["eval_accuracy"].append(float(eval_sums[1] / eval_sums[2]))
        history["time"].append(time.perf_counter() - t0)
        stop = callback is not None and bool(callback(net, epoch, history))
        if comm.allgather_ints([int(stop)]).any():
            break
    return history
