"""Data-parallel training over MPI: the per-step Allreduce and the epoch time from 1 to 2 ranks.

A plain measuring script, not part of the asv suite (it defines no asv
benchmark; asv imports it and finds nothing to run). From the repository
root, with mpi4py and an MPI runtime installed (``pip install "fastbp[mpi]" mpich``)::

    python -m benchmarks.bench_distributed [--rows 8192] [--epochs 3] [--ranks 2]

It measures, on config L ([784, 1024, 1024, 10], 1,864,690 float32
parameters, batch 1024, cross-entropy, synthetic rows of Fashion-MNIST's
shape; ``--rows`` rows, by default a subset of 8,192 = 8 mini-batches, as
bench_epoch.py does):

1. ``allreduce``: ``mpiexec -n RANKS``, one in-place ``Allreduce`` (sum) of
   the step's buffer (the P gradients plus the cost sum, float32), of the
   gradients alone, and of one float64 (the price of a second, separate
   collective for the cost); median over repetitions, each started after a
   barrier so that no rank's lateness is counted.
2. ``epoch``: one epoch of :func:`fastbp.distributed.fit`, median over
   ``--epochs`` epochs after a warm-up epoch, as
   - 1 rank (no mpiexec, the SingleProcess engine), 1 BLAS/Numba thread;
   - 1 rank, 2 threads (all cores of a 2-core machine);
   - RANKS ranks under mpiexec, 1 thread each (OPENBLAS_NUM_THREADS=1,
     NUMBA_NUM_THREADS=1: otherwise the ranks' BLAS threads compete for
     the cores);
   with the time spent inside Allreduce (including waiting for the other
   ranks) and, for 1 rank, ``Network.fit``'s fused whole-epoch driver on
   the same rows for comparison.

Each run is a fresh process; the Numba cache is warmed first so that no run
compiles. Rank 0 prints one ``RESULT {json}`` line per measurement; the
driver collects them into a table.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from fastbp import distributed
from fastbp.distributed import Communicator

from . import common

CONFIG = "L"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


class TimedCommunicator(Communicator):
    """Another communicator, with the seconds spent in its Allreduce added up."""

    def __init__(self, inner):
        self.inner, self.rank, self.size = inner, inner.rank, inner.size
        self.seconds, self.calls = 0.0, 0

    def allreduce_sum_inplace(self, buffer):
        t0 = time.perf_counter()
        self.inner.allreduce_sum_inplace(buffer)
        self.seconds += time.perf_counter() - t0
        self.calls += 1

    def bcast_inplace(self, buffer, root=0):
        self.inner.bcast_inplace(buffer, root)

    def allgather_ints(self, values):
        return self.inner.allgather_ints(values)


def report(**fields):
    print("RESULT " + json.dumps(fields), flush=True)


# ------------------------------------------------------------------ workers
def worker_allreduce(repeats):
    comm = distributed.get_communicator()
    if not isinstance(comm, distributed.MPICommunicator):
        comm = distributed.MPICommunicator()
    net = common.make_network(CONFIG, "float32")
    P = net.n_parameters
    buffers = {"gradients + cost (P+1 float32), fit's step": np.ones(P + 1, np.float32),
               "gradients only (P float32)": np.ones(P, np.float32),
               "cost only (1 float64), a second collective": np.ones(1, np.float64)}
    for label, buf in buffers.items():
        times = []
        for i in range(repeats + 5):
            comm.comm.Barrier()
            t0 = time.perf_counter()
            comm.allreduce_sum_inplace(buf)
            if i >= 5:
                times.append(time.perf_counter() - t0)
        slowest = comm.allgather_ints([int(1e9 * np.median(times))]).max() / 1e9
        if comm.rank == 0:
            report(kind="allreduce", buffer=label, bytes=buf.nbytes, ranks=comm.size,
                   median_s=slowest, min_s=float(np.min(times)))


def worker_epoch(rows, epochs, label):
    import numba

    c = common.CONFIGS[CONFIG]
    comm = TimedCommunicator(distributed.get_communicator())
    X, _, Y = common.synthetic(rows, "float32")
    shard = distributed.shard_rows(rows, comm)
    net = common.make_network(CONFIG, "float32", seed=0)
    kwargs = dict(batch_size=c["batch_size"], eta=c["eta"], seed=0, comm=comm)
    distributed.fit(net, X[shard], Y[shard], epochs=1, **kwargs)  # warm-up: page faults, caches
    comm.seconds, comm.calls = 0.0, 0
    history = distributed.fit(net, X[shard], Y[shard], epochs=epochs, **kwargs)
    fields = dict(kind="epoch", label=label, ranks=comm.size, rows=rows,
                  threads=numba.get_num_threads(),
                  epoch_s=float(np.median(history["time"])),
                  allreduce_s_per_epoch=comm.seconds / epochs,
                  steps_per_epoch=comm.calls // epochs,
                  train_cost=history["train_cost"][-1])
    if comm.size == 1:
        ref = common.make_network(CONFIG, "float32", seed=0)
        ref.fit(X, Y, 1, c["batch_size"], c["eta"], seed=0)  # warm-up
        fit_times = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            ref.fit(X, Y, 1, c["batch_size"], c["eta"], seed=0)
            fit_times.append(time.perf_counter() - t0)
        fields["network_fit_epoch_s"] = float(np.median(fit_times))
    if comm.rank == 0:
        report(**fields)


# ------------------------------------------------------------------- driver
def find_mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


def run(command, threads, timeout=900):
    env = dict(os.environ, **{v: str(threads) for v in THREAD_VARIABLES})
    for v in distributed.LAUNCHER_SIZE_VARIABLES:
        env.pop(v, None)
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}"
                           f"{proc.stderr[-3000:]}")
    return [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]


def warm_cache(rows):
    """Compile or load the kernels once here, so that no measured process compiles."""
    X, _, Y = common.synthetic(min(rows, 2048), "float32")
    net = common.make_network(CONFIG, "float32")
    distributed.fit(net, X, Y, 1, 1024, 0.1, comm=distributed.SingleProcess())
    common.warm_fit(net, CONFIG, X, Y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30, help="Allreduce repetitions")
    parser.add_argument("--worker", choices=("allreduce", "epoch"), help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "allreduce":
        return worker_allreduce(args.repeats)
    if args.worker == "epoch":
        return worker_epoch(args.rows, args.epochs, args.label)

    mpiexec = find_mpiexec()
    if mpiexec is None:
        sys.exit('bench_distributed: needs mpiexec: pip install "fastbp[mpi]" mpich')
    me = [sys.executable, "-m", "benchmarks.bench_distributed"]
    epoch = me + ["--worker", "epoch", "--rows", str(args.rows), "--epochs", str(args.epochs)]
    mpi = [mpiexec, "-n", str(args.ranks)]
    print(f"config {CONFIG}: [784, 1024, 1024, 10] float32, batch 1024, {args.rows} synthetic "
          f"rows ({args.rows // 1024} steps an epoch); {os.cpu_count()} CPUs; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    warm_cache(args.rows)

    results = run(mpi + me + ["--worker", "allreduce", "--repeats", str(args.repeats)], 1)
    print(f"\nAllreduce (in place, sum), {args.ranks} ranks on one machine, median of "
          f"{args.repeats} after a barrier:")
    for r in results:
        print(f"  {r['buffer']:<45} {r['bytes'] / 2**20:8.2f} MiB  {1e3 * r['median_s']:8.3f} ms"
              f"  (min {1e3 * r['min_s']:.3f} ms)")

    runs = [("1 rank, 1 thread", epoch, 1), ("1 rank, 2 threads", epoch, 2),
            (f"{args.ranks} ranks x 1 thread", mpi + epoch, 1)]
    rows = []
    for label, command, threads in runs:
        rows += run(command + ["--label", label], threads)
    base = rows[0]["epoch_s"]
    print(f"\nOne epoch of fastbp.distributed.fit ({args.rows} rows), median of {args.epochs}:")
    print(f"  {'run':<22}{'epoch s':>9}{'speed-up':>10}{'Allreduce s':>13}{'  Network.fit s':>15}")
    for r in rows:
        fit_s = f"{r['network_fit_epoch_s']:15.3f}" if "network_fit_epoch_s" in r else ""
        print(f"  {r['label']:<22}{r['epoch_s']:9.3f}{base / r['epoch_s']:9.2f}x"
              f"{r['allreduce_s_per_epoch']:13.3f}{fit_s}")
    print(f"  (speed-up against 1 rank x 1 thread; Allreduce s: time inside the "
          f"{rows[-1]['steps_per_epoch']} Allreduce calls of an epoch, waiting for the other "
          f"ranks included; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
