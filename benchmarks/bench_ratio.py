"""fastbp's speed relative to the NumPy matrix form, measured in one process: a figure that travels.

Absolute epoch times (bench_epoch.py) move with the machine: another job on
a shared machine, another CPU, another BLAS. This benchmark times fastbp's
epoch and the NumPy matrix form's epoch (numpy_peer.NumpyMatrixForm, the same
code compare_peers.py times) of the same config, on the same data, in the
same process, alternating them, and returns

    speedup vs NumPy = median NumPy epoch time / median fastbp epoch time

(unit "ratio"; higher is better; 1.0 = as fast as NumPy). A busy neighbour
slows both about alike, so the ratio moves much less than either time, and
its history means something across runs and machines (within a BLAS family:
the NumPy side is mostly BLAS calls, fastbp's too for L).

Both sides run with one BLAS thread (threadpoolctl; see one_blas_thread):
a single-core comparison, which a loaded machine disturbs far less than two
threads fighting for two busy cores. Each sample: PAIRS pairs of epochs,
fastbp first in even pairs and NumPy first in odd ones (so neither always
runs in the other's wake), after one untimed warm-up pair. Rows: S and M 10,000 (1,000 mini-batches of 10, about
0.1-0.3 s per fastbp epoch on the project's 2-core machine); L 4,096 (4
mini-batches of 1024, about 0.7 s in float32 on one thread), so one sample
of L takes about 10-20 s and the whole grid about a minute when the machine
is quiet. fastbp's epoch is ``Network.fit(..., epochs=1)``, the public call
TimeEpoch times, so any slowdown in the epoch driver shows here.

asv knows no "higher is better": ``asv compare`` and ``asv continuous``
report a *fall* of this ratio (fastbp slower) as an improvement and a rise
as a regression. check_regression.py reads it the right way round.
"""
import contextlib
import gc
import time
import warnings

import numpy as np

from .common import CONFIGS, DTYPES, Benchmark, make_network, synthetic, warm_fit
from .numpy_peer import NumpyMatrixForm

#: Rows of one timed epoch per config (see the module docstring).
RATIO_ROWS = {"S": 10000, "M": 10000, "L": 4096}
#: Timed (fastbp, NumPy) pairs per sample; odd, so the median is one of them.
PAIRS = 5


def one_blas_thread():
    """A context in which every BLAS library of the process (NumPy's, SciPy's) runs one thread.

    On a loaded 2-core machine a multi-threaded BLAS call on the small
    matrices of S and M (10 x 784 @ 784 x 100) waits for a second core that
    another job holds: NumPy's epoch time of M was seen to vary 3-fold between
    runs. With one thread each side gets one core's worth of work, and the
    ratio compares the code, not the scheduler. Needs threadpoolctl (in the
    bench extra and asv's matrix); without it, the libraries' own thread counts.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def speedup_vs_numpy(config, dtype, pairs=PAIRS, rows=None, seed=0):
    """Time ``pairs`` interleaved epochs of fastbp and of the NumPy form; return the details.

    Returns
    -------
    dict with "speedup" (median NumPy time / median fastbp time), "fastbp_s"
    and "numpy_s" (the lists of epoch times, seconds), "rows".
    """
    c = CONFIGS[config]
    rows = RATIO_ROWS[config] if rows is None else rows
    X, _, Y = synthetic(rows, dtype, seed)
    net = make_network(config, dtype, seed=seed)
    peer = NumpyMatrixForm(X, Y, net.weights, net.biases, c["batch_size"], c["eta"], c["cost"])
    warm_fit(net, config, X, Y)
    rng = np.random.default_rng(seed + 12345)

    def fastbp_epoch(i):
        net.fit(X, Y, epochs=1, batch_size=c["batch_size"], eta=c["eta"], seed=seed + 1 + i)

    def numpy_epoch(i):
        peer.epoch(rng.permutation(rows))

    times = {fastbp_epoch: [], numpy_epoch: []}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with one_blas_thread(), warnings.catch_warnings():
            # fit's "not learning" check fires on synthetic data: not this benchmark's business
            warnings.simplefilter("ignore")
            fastbp_epoch(-1)  # warm-up pair: first touch of work buffers, BLAS threads
            numpy_epoch(-1)
            for i in range(pairs):
                for run in ((fastbp_epoch, numpy_epoch) if i % 2 == 0
                            else (numpy_epoch, fastbp_epoch)):
                    t0 = time.perf_counter()
                    run(i)
                    times[run].append(time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    t_fast, t_np = times[fastbp_epoch], times[numpy_epoch]
    return {"speedup": float(np.median(t_np) / np.median(t_fast)),
            "fastbp_s": t_fast, "numpy_s": t_np, "rows": rows}


class TrackSpeedupVsNumpy(Benchmark):
    """Median NumPy matrix-form epoch time / median fastbp epoch time, same process and data."""

    params = [list(CONFIGS), DTYPES]
    param_names = ["config", "dtype"]
    # One process per sample is enough: the benchmark takes its own median over PAIRS pairs
    # (asv keeps only the last round's value of a track_ benchmark anyway).
    rounds = 1
    timeout = 300

    def setup(self, config, dtype):
        # Data and compiled kernels before the timed part; synthetic() is cached.
        X, _, Y = synthetic(RATIO_ROWS[config], dtype)
        warm_fit(make_network(config, dtype), config, X, Y)

    def track_speedup_vs_numpy(self, config, dtype):
        return speedup_vs_numpy(config, dtype)["speedup"]

    track_speedup_vs_numpy.unit = "ratio"


if __name__ == "__main__":
    # python -m benchmarks.bench_ratio [S:float32 M:float64 ...]: the figures with their times.
    import sys
    for arg in sys.argv[1:] or [f"{c}:{d}" for c in CONFIGS for d in DTYPES]:
        config, dtype = arg.split(":")
        r = speedup_vs_numpy(config, dtype)
        print(f"{config} {dtype}: speedup vs NumPy {r['speedup']:.3f}  "
              f"fastbp median {np.median(r['fastbp_s']):.4f} s, "
              f"NumPy median {np.median(r['numpy_s']):.4f} s ({r['rows']} rows)", flush=True)
