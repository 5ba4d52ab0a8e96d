"""fastbp.distributed: data-parallel training equals single-process training on the same batches.

Three layers:

- the bookkeeping (shard_rows, shard_offsets, local_batches) against plain loops;
- fit with the embedded SingleProcess engine against Network.fit (bit for bit)
  and against the NumPy reference network (1e-10), and with K ranks
  simulated by threads (ThreadComm below: a third engine written against the
  Communicator interface, which also shows that the kernels never see the
  engine) against Network.fit on the union of the shards;
- real MPI: ``mpiexec -n K`` (K = 1, 2, 3) runs tests/mpi_worker.py; the
  weights of every rank equal single-process training (float64, 1e-10) and
  are bitwise identical across ranks. Skipped, with the reason, when mpi4py
  or mpiexec is missing (``pip install "fastbp[mpi]" mpich``).
"""
import dataclasses
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastbp
from fastbp import distributed
from fastbp.engine import FitSettings
from fastbp.distributed import (Communicator, SingleProcess, get_communicator, local_batches,
                                shard_offsets, shard_rows)
from reference import ReferenceNetwork, one_hot

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(TESTS_DIR, "mpi_worker.py")
sys.path.insert(0, TESTS_DIR)
import mpi_worker  # noqa: E402  (global_data, shared with the ranks)

pytestmark = pytest.mark.slow  # MPI ranks and subprocesses; run by .ci/run (pytest -m slow)

ATOL = 1e-10


def data(rng, n, n_in, n_out):
    return rng.standard_normal((n, n_in)), rng.integers(0, n_out, n)


# ---------------------------------------------------------- bookkeeping
@pytest.mark.parametrize("n,size", [(0, 1), (7, 1), (7, 3), (9, 3), (2, 5), (100, 7)])
def test_shard_rows_tile_the_rows_in_rank_order(n, size):
    class Fake(Communicator):
        def __init__(self, rank):
            self.rank, self.size = rank, size

    slices = [shard_rows(n, Fake(r)) for r in range(size)]
    lengths = [s.stop - s.start for s in slices]
    assert slices[0].start == 0 and slices[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(slices, slices[1:]))
    assert max(lengths) - min(lengths) <= 1
    assert list(shard_offsets(lengths)) == [s.start for s in slices] + [n]


def slow_local_batches(order, batch_size, start, stop):
    """local_batches by a loop over the mini-batches: the readable definition."""
    index, bounds = [], [0]
    for k in range(0, len(order), batch_size):
        index += [int(g) - start for g in order[k:k + batch_size] if start <= g < stop]
        bounds.append(len(index))
    return index, bounds


@pytest.mark.parametrize("n,batch_size,start,stop", [
    (10, 3, 0, 10), (10, 3, 0, 0), (10, 3, 4, 5), (17, 4, 5, 12), (17, 20, 3, 9), (5, 1, 2, 5)])
def test_local_batches_match_a_loop(n, batch_size, start, stop):
    order = np.random.default_rng(n + start).permutation(n).astype(np.int64)
    index, bounds = local_batches(order, batch_size, start, stop)
    ref_index, ref_bounds = slow_local_batches(order, batch_size, start, stop)
    assert index.dtype == np.int64 and bounds.dtype == np.int64
    assert index.tolist() == ref_index
    assert bounds.tolist() == ref_bounds


def test_get_communicator():
    assert isinstance(get_communicator(), SingleProcess)
    single = SingleProcess()
    assert get_communicator(single) is single
    with pytest.raises(TypeError, match="comm"):
        get_communicator("world")
    buf = np.arange(3.0)
    single.allreduce_sum_inplace(buf)
    single.bcast_inplace(buf)
    assert buf.tolist() == [0.0, 1.0, 2.0]
    assert single.allgather_ints([4, 5]).tolist() == [[4, 5]]


def test_import_does_not_import_mpi4py():
    code = ("import sys, numpy as np, fastbp, fastbp.distributed as d\n"
            "net = fastbp.Network([2, 2, 1], seed=0)\n"
            "d.fit(net, np.ones((3, 2)), np.ones((3, 1)), 1, 2, 0.1)\n"
            "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n")
    env = {k: v for k, v in os.environ.items()
           if k not in distributed.LAUNCHER_SIZE_VARIABLES}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------ one process
FIT_SETUPS = {
    "plain": dict(lmbda=0.0, momentum=0.0, nesterov=False),
    "l2-momentum": dict(lmbda=0.7, momentum=0.8, nesterov=False),
    "l1-nesterov": dict(lmbda=0.4, momentum=0.6, nesterov=True, regularization="l1"),
    "adam-warmup-l1": dict(optimizer="adam", lr_schedule="cosine", warmup_epochs=1.0, lmbda=0.3,
                           regularization="l1", beta1=0.8),
    "lars-step": dict(momentum=0.9, lars=0.02, lr_schedule="step", decay_epochs=1,
                      decay_factor=0.5, base_batch_size=4),
}


def test_fit_takes_every_option_of_network_fit():
    network_fit = set(inspect.signature(fastbp.Network.fit).parameters) - {"self", "X", "Y"}
    explicit = set(inspect.signature(distributed.fit).parameters) - {"options"}
    assert network_fit <= explicit | {f.name for f in dataclasses.fields(FitSettings)}
    assert network_fit - explicit  # the rest goes through **options, checked by FitSettings
    X, y = data(np.random.default_rng(0), 8, 3, 2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        distributed.fit(fastbp.Network([3, 2], seed=0), X, y, 1, 4, 0.1, no_such_option=1)


@pytest.mark.parametrize("setup", sorted(FIT_SETUPS))
def test_single_process_equals_network_fit_bitwise(rng, setup):
    X, y = data(rng, 37, 5, 3)
    kwargs = dict(epochs=3, batch_size=8, eta=0.4, seed=11, **FIT_SETUPS[setup])
    net = fastbp.Network([5, 6, 3], cost="cross_entropy", seed=2)
    twin = fastbp.Network([5, 6, 3], cost="cross_entropy", seed=2)
    expected = net.fit(X, y, **kwargs)
    history = distributed.fit(twin, X, y, **kwargs)
    assert twin.get_parameters().tobytes() == net.get_parameters().tobytes()
    assert history["train_cost"] == expected["train_cost"]
    assert history["epoch"] == [1, 2, 3]
    assert twin.history_ is history


def test_single_process_equals_numpy_reference(rng):
    X, y = data(rng, 23, 4, 3)
    net = fastbp.Network([4, 5, 3], activation="tanh", output_activation="sigmoid",
                         cost="quadratic", seed=4)
    ref = ReferenceNetwork.from_fastbp(net)
    distributed.fit(net, X, y, epochs=2, batch_size=5, eta=0.3, lmbda=0.5, momentum=0.5, seed=9)
    rng_order = np.random.default_rng(9)
    for _ in range(2):
        ref.train_epoch(X, one_hot(y, 3), rng_order.permutation(23), 5, 0.3, lmbda=0.5,
                        momentum=0.5)
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=0, atol=ATOL)


def test_single_process_uint8_float32_and_evaluation(rng):
    X = rng.integers(0, 256, (30, 6)).astype(np.uint8)
    y = rng.integers(0, 2, 30)
    def make():
        return fastbp.Network([6, 4, 2], dtype=np.float32, input_scale=1 / 255, seed=1)

    net, twin = make(), make()
    expected = net.fit(X, y, 2, 7, 0.5, evaluation_data=(X[:9], y[:9]), seed=3)
    history = distributed.fit(twin, X, y, 2, 7, 0.5, evaluation_data=(X[:9], y[:9]), seed=3)
    assert twin.get_parameters().tobytes() == net.get_parameters().tobytes()
    assert history["eval_accuracy"] == expected["eval_accuracy"]
    np.testing.assert_allclose(history["eval_cost"], expected["eval_cost"], rtol=1e-12)
    # the step's cost travels in the float32 gradient buffer: rounded to float32
    np.testing.assert_allclose(history["train_cost"], expected["train_cost"], rtol=1e-6)


def test_divergence_keeps_last_finite_parameters(rng):
    X, y = data(rng, 40, 3, 2)
    net = fastbp.Network([3, 4, 2], activation="linear", seed=0)
    twin = fastbp.Network([3, 4, 2], activation="linear", seed=0)
    with pytest.raises(fastbp.DivergenceError) as expected:
        net.fit(X, y, 5, 4, 40.0, seed=1)
    with pytest.raises(fastbp.DivergenceError) as raised:
        distributed.fit(twin, X, y, 5, 4, 40.0, seed=1)
    assert (raised.value.epoch, raised.value.batch) == (expected.value.epoch, expected.value.batch)
    assert np.all(np.isfinite(twin.get_parameters()))
    assert twin.get_parameters().tobytes() == net.get_parameters().tobytes()


def test_invalid_arguments(rng):
    X, y = data(rng, 10, 3, 2)
    net = fastbp.Network([3, 2], seed=0)
    with pytest.raises(ValueError, match="eta"):
        distributed.fit(net, X, y, 1, 2, 0.0)
    with pytest.raises(ValueError, match="X_shard"):
        distributed.fit(net, X[:, :2], y, 1, 2, 0.1)
    with pytest.raises(ValueError, match="Y_shard"):
        distributed.fit(net, X, y[:5], 1, 2, 0.1)
    with pytest.raises(ValueError, match="empty"):
        distributed.fit(net, X[:0], y[:0], 1, 2, 0.1)
    with pytest.raises(TypeError, match="seed"):
        distributed.fit(net, X, y, 1, 2, 0.1, seed=1.5)
    with pytest.raises(ValueError, match="regularization"):
        distributed.fit(net, X, y, 1, 2, 0.1, regularization="l3")


# ----------------------------------------- K ranks simulated by threads
class ThreadGroup:
    """Shared state of K ThreadComm ranks: a barrier and one slot per rank."""

    def __init__(self, size):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=120)
        self.slots = [None] * size


class ThreadComm(Communicator):
    """Ranks as threads of one process. Sums in rank order, so every rank gets the same bits."""

    def __init__(self, group, rank):
        self.group, self.rank, self.size = group, rank, group.size

    def _exchange(self, value):
        g = self.group
        g.slots[self.rank] = value
        g.barrier.wait()
        values = list(g.slots)
        g.barrier.wait()  # nobody writes a slot before everyone has read them
        return values

    def allreduce_sum_inplace(self, buffer):
        values = self._exchange(buffer.copy())
        total = values[0].copy()
        for v in values[1:]:
            total += v
        buffer[:] = total

    def bcast_inplace(self, buffer, root=0):
        buffer[:] = self._exchange(buffer.copy())[root]

    def allgather_ints(self, values):
        return np.array(self._exchange(np.asarray(values, np.int64).reshape(-1).copy()))


def run_threads(size, body):
    """body(comm) on `size` thread-ranks; returns each rank's result or exception."""
    group = ThreadGroup(size)
    results = [None] * size

    def target(rank):
        try:
            results[rank] = body(ThreadComm(group, rank))
        except BaseException as exc:  # recorded; the test inspects it
            results[rank] = exc
            if not isinstance(exc, (ValueError, TypeError, fastbp.DivergenceError)):
                group.barrier.abort()

    threads = [threading.Thread(target=target, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread-rank hung"
    return results


def sharded_fit(size, X, y, shard_sizes, net_factory, **kwargs):
    """fit on `size` thread-ranks; returns the ranks' networks and histories (or exceptions)."""
    offsets = shard_offsets(shard_sizes)

    def body(comm):
        rows = slice(int(offsets[comm.rank]), int(offsets[comm.rank + 1]))
        net = net_factory(comm.rank)
        history = distributed.fit(net, X[rows], y[rows], comm=comm, **kwargs)
        return net, history

    return run_threads(size, body)


@pytest.mark.parametrize("size,shard_sizes,setup", [
    (2, [19, 18], "plain"),
    (3, [13, 12, 12], "l2-momentum"),
    (3, [1, 29, 7], "l1-nesterov"),   # rank 0 has no row in most mini-batches
    (3, [0, 20, 17], "l2-momentum"),  # rank 0 has no rows at all
    (4, [10, 10, 9, 8], "plain"),
    (2, [20, 17], "adam-warmup-l1"),
    (3, [5, 20, 12], "lars-step"),
])
def test_thread_ranks_equal_network_fit(rng, size, shard_sizes, setup):
    X, y = data(rng, 37, 5, 3)
    kwargs = dict(epochs=2, batch_size=4, eta=0.4, seed=5, **FIT_SETUPS[setup])
    net = fastbp.Network([5, 6, 3], cost="cross_entropy", seed=2)
    expected = net.fit(X, y, **kwargs)
    # ranks other than 0 start elsewhere: fit broadcasts rank 0's parameters
    results = sharded_fit(size, X, y, shard_sizes,
                          lambda r: fastbp.Network([5, 6, 3], cost="cross_entropy", seed=2 + 5 * r),
                          **kwargs)
    for result in results:
        assert not isinstance(result, BaseException), repr(result)
        rank_net, history = result
        np.testing.assert_allclose(rank_net.get_parameters(), net.get_parameters(), rtol=0, atol=ATOL)
        np.testing.assert_allclose(history["train_cost"], expected["train_cost"], rtol=1e-12)
        assert rank_net.get_parameters().tobytes() == results[0][0].get_parameters().tobytes()
        assert history == results[0][1] | {"time": history["time"]}


def test_thread_ranks_checkpoint_and_resume_equal_an_uninterrupted_fit(rng, tmp_path):
    X, y = data(rng, 26, 4, 3)
    kwargs = dict(batch_size=5, eta=0.05, seed=4, optimizer="adam", lr_schedule="cosine")
    factory = lambda r: fastbp.Network([4, 5, 3], seed=1)  # noqa: E731
    whole = sharded_fit(2, X, y, [13, 13], factory, epochs=4, **kwargs)
    path = str(tmp_path / "ckpt.npz")
    first = sharded_fit(2, X, y, [13, 13], factory, epochs=4, checkpoint=path,
                        callback=lambda net, epoch, history: epoch == 1, **kwargs)
    assert [len(h["epoch"]) for _, h in first] == [2, 2]  # stopped after epoch 2 on both
    resumed = sharded_fit(2, X, y, [13, 13], factory, epochs=4, checkpoint=path, resume=True,
                          **kwargs)
    for (net, history), (twin, expected) in zip(resumed, whole):
        assert net.get_parameters().tobytes() == twin.get_parameters().tobytes()
        assert history["train_cost"] == expected["train_cost"]


def test_some_rank_has_empty_batch_shares():
    # the [1, 29, 7] case above: rank 0's single row sits in one mini-batch of each epoch
    order = np.random.default_rng(5).permutation(37).astype(np.int64)
    _, bounds = local_batches(order, 4, 0, 1)
    assert np.count_nonzero(np.diff(bounds) == 0) == len(bounds) - 2


def test_thread_ranks_evaluation_callback_and_shared_seed(rng):
    X, y = data(rng, 30, 4, 2)
    Xe, ye = data(rng, 11, 4, 2)
    net = fastbp.Network([4, 3, 2], seed=0)
    expected = net.fit(X, y, 3, 6, 1.0, evaluation_data=(Xe, ye), seed=8)
    eval_offsets = shard_offsets([4, 0, 7])

    def body(comm):
        rank_net = fastbp.Network([4, 3, 2], seed=0)
        rows = shard_rows(30, comm)
        er = slice(int(eval_offsets[comm.rank]), int(eval_offsets[comm.rank + 1]))
        calls = []

        def cb(net_, epoch, history):  # rank 2 stops after the second epoch: all ranks do
            calls.append(epoch)
            return comm.rank == 2 and epoch == 1

        history = distributed.fit(rank_net, X[rows], y[rows], 3, 6, 1.0, seed=8, comm=comm,
                                  evaluation_data=(Xe[er], ye[er]), callback=cb)
        return history, calls

    for result in run_threads(3, body):
        assert not isinstance(result, BaseException), repr(result)
        history, calls = result
        assert calls == [0, 1]
        assert history["eval_accuracy"] == expected["eval_accuracy"][:2]
        np.testing.assert_allclose(history["eval_cost"], expected["eval_cost"][:2], rtol=1e-12)

    def unseeded(comm):
        rank_net = fastbp.Network([4, 3, 2], seed=0)
        rows = shard_rows(30, comm)
        distributed.fit(rank_net, X[rows], y[rows], 1, 6, 1.0, seed=None, comm=comm)
        return rank_net.get_parameters().tobytes()

    thetas = run_threads(2, unseeded)
    assert thetas[0] == thetas[1]  # seed=None: rank 0's draw is shared


def test_thread_ranks_agree_on_errors_and_divergence(rng):
    X, y = data(rng, 24, 3, 2)
    # rank 1 passes another eta: every rank raises, none trains
    results = run_threads(2, lambda comm: distributed.fit(
        fastbp.Network([3, 2], seed=0), X[shard_rows(24, comm)], y[shard_rows(24, comm)], 1, 4,
        0.5 if comm.rank == 0 else 0.25, comm=comm))
    assert all(isinstance(r, ValueError) for r in results)
    assert "rank(s) [1]" in str(results[0])
    # rank 0 passes bad data: its own error there, a pointer to rank 0 elsewhere
    results = run_threads(3, lambda comm: distributed.fit(
        fastbp.Network([3, 2], seed=0), X[:4, :(2 if comm.rank == 0 else 3)], y[:4], 1, 4, 0.5,
        comm=comm))
    assert "X_shard" in str(results[0])
    assert all("rank(s) [0]" in str(r) for r in results[1:])
    # divergence: all ranks stop at the step where Network.fit stops
    net = fastbp.Network([3, 4, 2], activation="linear", seed=0)
    with pytest.raises(fastbp.DivergenceError) as expected:
        net.fit(X, y, 5, 4, 40.0, seed=1)
    results = sharded_fit(3, X, y, [8, 8, 8],
                          lambda r: fastbp.Network([3, 4, 2], activation="linear", seed=0),
                          epochs=5, batch_size=4, eta=40.0, seed=1)
    for result in results:
        assert isinstance(result, fastbp.DivergenceError), repr(result)
        assert (result.epoch, result.batch) == (expected.value.epoch, expected.value.batch)


# ------------------------------------------------------------ real MPI
#: Run by every rank of every mpiexec launch (tests/mpi_worker.py). Explicit
#: shard sizes make uneven shards, a rank with no rows and ranks with no row
#: in some mini-batches; other cases use shard_rows (29 rows: uneven for 2, 3).
MPI_CASES = [
    dict(name="plain", sizes=[5, 7, 3], n=29, data_seed=1, net_seed=3,
         fit=dict(epochs=2, batch_size=4, eta=0.5, seed=7)),
    dict(name="uneven", sizes=[5, 7, 3], n=29, data_seed=2, net_seed=4, comm="mpi",
         shards={"2": [0, 29], "3": [1, 20, 8]},
         fit=dict(epochs=2, batch_size=4, eta=0.5, seed=8)),
    dict(name="momentum-l2", sizes=[5, 6, 4, 3], n=31, n_eval=9, data_seed=3, net_seed=5,
         cost="cross_entropy", activation=["tanh", "tanh", "sigmoid"],
         fit=dict(epochs=2, batch_size=6, eta=0.2, lmbda=0.9, momentum=0.7, seed=9)),
    dict(name="nesterov", sizes=[5, 6, 3], n=25, data_seed=4, net_seed=6, activation="relu",
         cost="quadratic",
         fit=dict(epochs=1, batch_size=5, eta=0.1, lmbda=0.3, momentum=0.5, nesterov=True,
                  seed=10)),
    dict(name="adam-warmup-l1", sizes=[5, 6, 3], n=30, n_eval=7, data_seed=7, net_seed=7,
         cost="log_likelihood", activation=["relu", "softmax"],
         fit=dict(epochs=3, batch_size=6, eta=0.01, lmbda=0.2, regularization="l1",
                  optimizer="adam", lr_schedule="cosine", warmup_epochs=1.0, seed=11)),
    dict(name="diverge", sizes=[3, 4, 2], n=24, data_seed=5, net_seed=0, activation="linear",
         fit=dict(epochs=5, batch_size=4, eta=40.0, seed=1)),
    dict(name="bad-arguments", sizes=[3, 2], n=12, data_seed=6, net_seed=0, bad_rank=1,
         fit=dict(epochs=1, batch_size=4, eta=0.5, seed=1)),
]


def find_mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else on PATH; None if missing."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


def mpiexec_command(mpiexec, ranks):
    """mpiexec -n ranks, with oversubscription allowed (3 ranks on a 2-core machine).

    MPICH's Hydra runs more ranks than cores as it is; Open MPI needs
    --oversubscribe (and, as root, --allow-run-as-root).
    """
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    command = [mpiexec, "-n", str(ranks)]
    if "Open MPI" in version or "OpenRTE" in version:
        command += ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    return command


def run_mpi(ranks, cases, out_dir, timeout=300):
    pytest.importorskip("mpi4py", reason='MPI tests need mpi4py: pip install "fastbp[mpi]" mpich')
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("MPI tests need mpiexec: pip install mpich (or a system MPI)")
    cases_path = os.path.join(out_dir, "cases.json")
    with open(cases_path, "w") as f:
        json.dump(cases, f)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env = {k: v for k, v in env.items() if k not in distributed.LAUNCHER_SIZE_VARIABLES}
    proc = subprocess.Popen(mpiexec_command(mpiexec, ranks) + [sys.executable, WORKER, cases_path,
                                                               out_dir],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"mpiexec -n {ranks} did not finish in {timeout} s:\n{output[-3000:]}")
    assert proc.returncode == 0, f"mpiexec -n {ranks} failed:\n{output[-3000:]}"
    results = {}
    for case in cases:
        results[case["name"]] = []
        for r in range(ranks):
            with np.load(os.path.join(out_dir, f"{case['name']}-rank{r}.npz")) as f:
                result = {k: f[k] for k in f.files}
            result["history"] = json.loads(str(result["history"]))
            assert int(result["size"]) == ranks, (
                f"rank {r} saw a world of {int(result['size'])} ranks, not {ranks}: mpiexec "
                f"({mpiexec}) and mpi4py's MPI library do not match")
            results[case["name"]].append(result)
    return results


@pytest.fixture(scope="module")
def mpi_reference():
    """Single-process training of every case on the global data (warms the Numba cache too)."""
    out = {}
    for case in MPI_CASES:
        X, y, Xe, ye = mpi_worker.global_data(case)
        net = fastbp.Network(case["sizes"], activation=case.get("activation", "sigmoid"),
                             cost=case.get("cost", "quadratic"), seed=case["net_seed"])
        kwargs = dict(case["fit"])
        if case.get("n_eval"):
            kwargs["evaluation_data"] = (Xe, ye)
        try:
            net.fit(X, y, **kwargs)
            div = None
        except fastbp.DivergenceError as exc:
            div = (exc.epoch, exc.batch)
        out[case["name"]] = (net, div)
    # compile (or load) distributed.fit's kernels once here, not in K ranks at once
    X, y, _, _ = mpi_worker.global_data(MPI_CASES[0])
    distributed.fit(fastbp.Network(MPI_CASES[0]["sizes"], seed=0), X, y, 1, 4, 0.1)
    return out


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda k: f"{k}ranks")
def mpi_run(request, mpi_reference, tmp_path_factory):
    ranks = request.param
    return ranks, run_mpi(ranks, MPI_CASES, str(tmp_path_factory.mktemp(f"mpi{ranks}")))


@pytest.mark.parametrize("name", ["plain", "uneven", "momentum-l2", "nesterov", "adam-warmup-l1"])
def test_mpi_ranks_equal_single_process(mpi_run, mpi_reference, name):
    ranks, results = mpi_run
    net, _ = mpi_reference[name]
    expected = net.history_
    for r, result in enumerate(results[name]):
        assert str(result["error"]) == "", f"rank {r}: {result['error']}"
        np.testing.assert_allclose(result["theta"], net.get_parameters(), rtol=0, atol=ATOL,
                                   err_msg=f"rank {r} of {ranks}")
        assert result["theta_bytes"].tobytes() == results[name][0]["theta_bytes"].tobytes(), (
            f"rank {r} of {ranks} ended with other weights than rank 0")
        history = result["history"]
        np.testing.assert_allclose(history["train_cost"], expected["train_cost"], rtol=1e-12)
        if "eval_cost" in expected:
            assert history["eval_accuracy"] == expected["eval_accuracy"]
            np.testing.assert_allclose(history["eval_cost"], expected["eval_cost"], rtol=1e-12)
    case = next(c for c in MPI_CASES if c["name"] == name)
    expected_comm = ("MPICommunicator" if ranks > 1 or case.get("comm") == "mpi"
                     else "SingleProcess")
    assert {str(r["comm"]) for r in results[name]} == {expected_comm}
    shards = case.get("shards", {}).get(str(ranks))
    if shards is not None:
        assert [int(r["rows"][1] - r["rows"][0]) for r in results[name]] == shards


def test_mpi_divergence_on_every_rank(mpi_run, mpi_reference):
    ranks, results = mpi_run
    net, div = mpi_reference["diverge"]
    assert div is not None
    for r, result in enumerate(results["diverge"]):
        assert str(result["error_type"]) == "DivergenceError", f"rank {r}: {result['error']}"
        assert tuple(result["divergence"]) == div
        np.testing.assert_allclose(result["theta"], net.get_parameters(), rtol=1e-10, atol=ATOL)
        assert result["theta_bytes"].tobytes() == results["diverge"][0]["theta_bytes"].tobytes()


def test_mpi_bad_arguments_on_one_rank_stop_all(mpi_run):
    ranks, results = mpi_run
    errors = [(str(r["error_type"]), str(r["error"])) for r in results["bad-arguments"]]
    if ranks == 1:
        assert errors == [("", "")]  # bad_rank=1 does not exist: trains normally
        return
    assert errors[1][0] == "ValueError" and "eta" in errors[1][1]
    for kind, message in errors[:1] + errors[2:]:
        assert kind == "ValueError" and "rank(s) [1]" in message
