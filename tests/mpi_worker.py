"""One rank of the MPI tests: ``mpiexec -n K python tests/mpi_worker.py CASES.json OUT_DIR``.

Started by tests/test_distributed.py, never collected by pytest itself. Every
rank builds the same global data set from the case's seed, takes its shard,
runs :func:`fastbp.distributed.fit` and writes ``OUT_DIR/<case>-rank<r>.npz``
with its final parameters (and their raw bytes), its history, the
communicator it used and any exception it raised. The test compares those
files with single-process training on the same global mini-batches.

Each case is a dict (see test_distributed.py ``MPI_CASES``):
    name, sizes, activation, cost, n, n_eval, data_seed, net_seed, shards
    (a dict {str(K): list of K shard sizes} or absent for shard_rows), fit
    (keyword arguments of fit), comm ("auto" or "mpi"), bad_rank (this rank
    passes an invalid eta).
"""
import json
import os
import sys
import traceback

import numpy as np

import fastbp
from fastbp import distributed
from fastbp.engine import kernel_view


def global_data(case):
    """The case's (X, y, X_eval, y_eval), the same on every rank and in the test."""
    rng = np.random.default_rng(case["data_seed"])
    n, n_eval, sizes = case["n"], case.get("n_eval", 0), case["sizes"]
    X = rng.standard_normal((n + n_eval, sizes[0]))
    y = rng.integers(0, sizes[-1], n + n_eval)
    return X[:n], y[:n], X[n:], y[n:]


def shard_slice(case, comm):
    """This rank's rows: the case's explicit shard sizes for this many ranks, else shard_rows."""
    sizes = case.get("shards", {}).get(str(comm.size))
    if sizes is None:
        return distributed.shard_rows(case["n"], comm)
    offsets = distributed.shard_offsets(sizes)
    return slice(int(offsets[comm.rank]), int(offsets[comm.rank + 1]))


def run_case(case, out_dir):
    comm = (distributed.MPICommunicator() if case.get("comm", "auto") == "mpi"
            else distributed.get_communicator())
    X, y, Xe, ye = global_data(case)
    rows = shard_slice(case, comm)
    eval_rows = distributed.shard_rows(Xe.shape[0], comm)
    # Ranks other than 0 start from other weights: fit must broadcast rank 0's.
    seed = case["net_seed"] + (0 if comm.rank == 0 else 1000 + comm.rank)
    net = fastbp.Network(case["sizes"], activation=case.get("activation", "sigmoid"),
                         cost=case.get("cost", "quadratic"), seed=seed)
    kwargs = dict(case["fit"])
    if case.get("bad_rank") == comm.rank:
        kwargs["eta"] = -1.0
    if case.get("n_eval"):
        kwargs["evaluation_data"] = (Xe[eval_rows], ye[eval_rows])
    error, error_type, div = "", "", (-1, -1)
    try:
        distributed.fit(net, X[rows], y[rows], comm=comm, **kwargs)
    except Exception as exc:  # recorded for the test to judge
        error, error_type = "".join(traceback.format_exception_only(exc)), type(exc).__name__
        if isinstance(exc, fastbp.DivergenceError):
            div = (exc.epoch, exc.batch)
    history = net.history_ or {}
    np.savez(os.path.join(out_dir, f"{case['name']}-rank{comm.rank}.npz"),
             theta=net.get_parameters(),
             theta_bytes=np.frombuffer(kernel_view(net).theta.tobytes(), np.uint8),
             size=comm.size, comm=type(comm).__name__, rows=[rows.start, rows.stop],
             error=error, error_type=error_type, divergence=div,
             history=json.dumps({k: list(map(float, v)) for k, v in history.items()}))


def main():
    cases_path, out_dir = sys.argv[1], sys.argv[2]
    with open(cases_path) as f:
        cases = json.load(f)
    for case in cases:
        run_case(case, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
