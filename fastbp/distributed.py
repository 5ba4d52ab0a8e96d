"""Synchronous data-parallel training: one replica per rank, one Allreduce per step.

Every rank (an MPI process started by ``mpiexec``, or the single embedded
process) keeps a full copy of the network and a shard of the training rows.
Per step, for the global mini-batch B_k of m rows::

    each rank r     G_r = sum over its rows x in B_k of dC_x/dtheta   (backprop.gradient_sums)
    Allreduce       G = sum_r G_r                                     (one buffer, in place)
    every rank      theta <- update(theta, G / m, lmbda / n)          (optimizers.apply_update)

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

With several ranks the step loop runs in Python (fastbp.engine.Trainer),
one kernel call, one Allreduce and one update call per step: about 0.1-1 ms
a step of overhead. That is nothing next to a large mini-batch (config L,
batch 1024: about 250 ms a step on one core), the case data-parallel
training is for. With one rank there is nothing to exchange, and fit runs
the one-process engine, a whole segment of steps per compiled call.

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
import dataclasses
import os
import sys
import zlib

import numpy as np

from . import engine
from .engine import FitSettings, local_batches
from .validation import check_int

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


# -------------------------------------------------------------- training
#: Number of words in the settings every rank's fit must agree on (see fit).
_N_SETTINGS = 4


def _settings_code(net, settings, has_evaluation):
    """int64 words that ranks compare exactly: the network, every option, the seed's state."""
    values = settings.as_dict()
    hooks = {k: values.pop(k) is not None for k in ("callback", "on_progress")}
    seed = values.pop("seed")
    if isinstance(seed, np.random.Generator):
        seed = repr(seed.bit_generator.state)
    text = repr((repr(net), sorted(values.items()), sorted(hooks.items()), seed, has_evaluation))
    return np.array([net.n_parameters, net.dtype.itemsize, zlib.crc32(text.encode()),
                     zlib.adler32(text.encode())], dtype=np.int64)


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


def fit(net, X_shard, Y_shard, epochs, batch_size, eta, lmbda=0.0, momentum=0.0,
        evaluation_data=None, shuffle=True, seed=0, comm=None, **options):
    """Data-parallel mini-batch training: :meth:`fastbp.Network.fit` over the union of the shards.

    Every rank calls this with its own shard; all other arguments must be the
    same on every rank (checked). Rank r's shard holds the global rows
    offsets[r] .. offsets[r+1]-1 (offsets from the ranks' shard sizes in rank
    order, :func:`shard_offsets`), so the global data set is the shards
    concatenated in rank order, as :func:`shard_rows` cuts it. It is the
    training engine's fit (fastbp.engine) with a communicator: every option
    of ``Network.fit`` works the same (optimizers, schedules, warmup, LARS,
    L1, checkpoints and resume, callbacks). With one rank it *is*
    ``net.fit(X, Y, ..., seed=seed)``, bit for bit; with several, each step's
    gradient is summed over the ranks (one Allreduce) and every rank takes
    the same step, so the result equals the one-process fit up to the order
    of the floating-point sums.

    Parameters
    ----------
    net : fastbp.Network
        Rank 0's parameters are broadcast to all ranks first.
    X_shard : array_like of shape (n_r, sizes[0])
        This rank's rows (float, or uint8 read with ``net.input_scale``).
        May be empty on some ranks, not on all.
    Y_shard : array_like of shape (n_r, sizes[-1]), or integer labels of shape (n_r,)
    epochs, batch_size, eta, lmbda, momentum :
        As in ``Network.fit``; batch_size is the global mini-batch size B
        (each rank computes its rows among the B), and lmbda is scaled by 1/n
        with n the global number of rows.
    evaluation_data : tuple (X_eval_shard, y_eval_shard), optional
        This rank's shard of an evaluation set, evaluated after every epoch;
        the cost and accuracy are summed over all ranks' shards.
    shuffle : bool, default=True
    seed : int, np.random.Generator or None, default=0
        The shuffles: every rank draws the same permutation of the n global
        rows each epoch. None: rank 0 draws a seed and broadcasts it.
    comm : Communicator, mpi4py.MPI.Comm or None
        See :func:`get_communicator`.
    **options :
        Every other option of :meth:`fastbp.Network.fit` (regularization,
        nesterov, optimizer, lr_schedule, warmup_epochs, base_batch_size,
        decay_epochs, decay_factor, lars, beta1, beta2, epsilon,
        reset_optimizer, chunk_size, callback, on_progress, checkpoint,
        checkpoint_every, resume). ``callback(net, epoch, history)`` runs on
        every rank; training stops when it returns True on any rank. Only
        rank 0 writes the checkpoint; with ``resume`` every rank reads it, so
        its path must be visible to all ranks.

    Returns
    -------
    history : dict of lists
        As ``Network.fit``'s, the same on every rank (the training cost is
        summed over the ranks in the network's dtype). Also ``net.history_``.

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
        Y = net._targets(Y_shard, n_local, "Y_shard")
        if seed is not None and not isinstance(seed, np.random.Generator):
            seed = check_int(seed, "seed", minimum=0)
        settings = FitSettings.checked(epochs, batch_size, eta, lmbda=lmbda, momentum=momentum,
                                       shuffle=shuffle, seed=seed, **options)
        evaluation = net._evaluation_set(evaluation_data, allow_empty=True)  # a shard may be empty
        if evaluation is not None:
            n_eval_local = evaluation[0].shape[0]
        code = _settings_code(net, settings, evaluation is not None)
    except (TypeError, ValueError) as exc:
        ok, error = False, exc
        code = np.zeros(_N_SETTINGS, dtype=np.int64)
    table = _agree(comm, ok, error, np.concatenate(([n_local, n_eval_local], code)))
    differ = [r for r in range(comm.size) if not np.array_equal(table[r, 2:], table[0, 2:])]
    if differ:
        raise ValueError(f"rank(s) {differ} called fit with another network or other arguments "
                         f"than rank 0; every argument but the data shards must be the same")
    offsets = shard_offsets(table[:, 0])
    n = int(offsets[-1])
    if n == 0:
        raise ValueError("X_shard: every rank's shard is empty; expected at least one row in all")
    if evaluation is not None and int(table[:, 1].sum()) == 0:
        raise ValueError("evaluation_data: every rank's shard is empty")
    if seed is None and comm.size > 1:
        word = np.array([np.random.default_rng().integers(2**62) if comm.rank == 0 else 0])
        comm.bcast_inplace(word, root=0)
        settings = dataclasses.replace(settings, seed=int(word[0]))
    comm.bcast_inplace(net._theta, root=0)
    net._check_parameters()
    if comm.size == 1:  # no one to talk to: the one-process engine, compiled epoch and all
        return engine.fit(net, X, Y, settings, evaluation)
    return engine.fit(net, X, Y, settings, evaluation, comm=comm,
                      row_start=int(offsets[comm.rank]), n=n)
