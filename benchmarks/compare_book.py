"""One epoch of the book's chapter 1 and chapter 3 networks: fastbp's drop-ins against the book.

A plain script (asv imports this module but finds no benchmarks in it)::

    python benchmarks/compare_book.py [--data /usr/share/datasets/fashion-mnist]
                                      [--repeats 5] [--book-repeats 1]

On Fashion-MNIST in the book's data layout (``mnist_loader.load_data_wrapper``:
50,000 training tuples of (784, 1) and (10, 1) arrays) it times one epoch of

- ``network.Network([784, 30, 10]).SGD(training_data, 1, 10, 3.0)`` (quadratic cost);
- ``network2.Network([784, 100, 10]).SGD(training_data, 1, 10, 0.5)`` (cross-entropy);

with ``fastbp.network``/``fastbp.network2`` and with the book's algorithm as
a plain per-example NumPy loop (``tests/book_reference.py``, the same
arithmetic as the book's ``update_mini_batch``/``backprop``). fastbp's
epochs are timed two ways, the median of ``--repeats`` each, every one on a
fresh network:

- "first call": the drop-ins' conversion cache cleared before each call
  (``fastbp.network.clear_conversion_cache()``), so each epoch includes the
  conversion of the list of tuples to arrays, as every call did before the
  cache (and as a script's first ``SGD`` call does);
- "cached": later calls on the same list (left shuffled by the previous
  call, as the book's SGD leaves it), which reuse the converted arrays after
  a look-up of every tuple by identity (its time is reported).

The very first fastbp call, which compiles the kernels or loads them from
Numba's cache, is timed apart on a 20-example list and never enters the
epoch times.

Both sides call BLAS (NumPy's for the loop, SciPy's from the compiled
kernels); ``--blas-threads 1`` runs both single-threaded, which is faster for
mini-batches of 10 rows on a machine shared with other work.
"""
import argparse
import contextlib
import io
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _timed(fn):
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # SGD prints "Epoch 0 complete"
        fn()
    return time.perf_counter() - t0


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    return sorted({pool["num_threads"] for pool in threadpool_info()
                   if pool.get("user_api") == "blas"}) or "none found"


def _run(args):
    sys.path.insert(0, os.path.join(HERE, os.pardir, "tests"))
    import numpy as np

    import book_reference as ref
    from fastbp import mnist_loader, network, network2

    t0 = time.perf_counter()
    training_data, _, _ = mnist_loader.load_data_wrapper(args.data)
    if args.limit:
        training_data = training_data[:args.limit]
    print(f"data: {args.data}, {len(training_data)} training tuples in the book's layout "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, BLAS threads {_blas_threads()}")

    cases = [
        ("network  [784, 30, 10] quadratic eta 3.0", network.Network, [784, 30, 10], 3.0,
         "quadratic", "large"),
        ("network2 [784, 100, 10] cross-entropy eta 0.5", network2.Network, [784, 100, 10], 0.5,
         "cross_entropy", "default"),
    ]
    rows = []
    for label, cls, sizes, eta, cost, init in cases:
        warm = cls(sizes)
        compile_s = _timed(lambda: warm.SGD(training_data[:20], 1, 10, eta))
        first = []
        for _ in range(args.repeats):
            network.clear_conversion_cache()  # as every call converted before the cache
            net = cls(sizes)
            first.append(_timed(lambda: net.SGD(training_data, 1, 10, eta)))
        fast = []
        for _ in range(args.repeats):  # the cache holds the list's conversion now
            net = cls(sizes)
            fast.append(_timed(lambda: net.SGD(training_data, 1, 10, eta)))
        # The list-to-array part of the first calls (after them: a process's first large
        # allocation also pays for the operating system's first touch of the memory),
        # and the cache look-up of the later calls (the list is reordered by then).
        convert_s = statistics.median(
            _timed(lambda: warm._examples(training_data, "training_data")) for _ in range(3))
        lookup_s = statistics.median(
            _timed(lambda: network._cache_lookup((network._TRAINING, sizes[0], sizes[-1]),
                                                 training_data)) for _ in range(3))
        book = []
        for _ in range(args.book_repeats):
            weights, biases = ref.init_parameters(sizes, init)
            data = list(training_data)
            book.append(_timed(lambda: ref.sgd(weights, biases, data, 1, 10, eta, cost)))
        rows.append((label, compile_s, first, fast, book))
        print(f"{label}: compile/load {compile_s:.2f} s; fastbp first-call epochs "
              f"{', '.join(f'{t:.3f}' for t in first)} s (list-to-array conversion in each: "
              f"about {convert_s:.3f} s); cached epochs {', '.join(f'{t:.3f}' for t in fast)} s "
              f"(cache look-up in each: about {lookup_s:.3f} s); per-example loop "
              f"{', '.join(f'{t:.2f}' for t in book)} s", flush=True)

    print()
    title = f"one epoch, {len(training_data)} examples, mini-batch 10"
    print(f"{title:48s} {'book loop':>10s} {'1st call':>9s} {'ratio':>7s} "
          f"{'cached':>9s} {'ratio':>7s}")
    for label, compile_s, first, fast, book in rows:
        b, f1, f = statistics.median(book), statistics.median(first), statistics.median(fast)
        print(f"{label:48s} {b:9.2f}s {f1:8.3f}s {b / f1:6.1f}x {f:8.3f}s {b / f:6.1f}x")
    print("fastbp: median of the epochs above, fresh network each; 1st call: conversion cache "
          "cleared first (conversion included); cached: later calls on the same list;")
    print("compile (or cache-load) times reported apart: "
          + ", ".join(f"{c:.2f} s" for _, c, _, _, _ in rows))
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR",
                                                         "/usr/share/datasets/fashion-mnist"),
                        help="an IDX folder or the book's mnist.pkl.gz")
    parser.add_argument("--repeats", type=int, default=5, help="fastbp epochs per network")
    parser.add_argument("--book-repeats", type=int, default=1,
                        help="per-example-loop epochs per network (5-20 s each)")
    parser.add_argument("--limit", type=int, default=0,
                        help="use only the first LIMIT training tuples (quick checks)")
    parser.add_argument("--blas-threads", type=int, default=0,
                        help="limit BLAS to this many threads (needs threadpoolctl); "
                             "0: leave as configured")
    args = parser.parse_args(argv)
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        import fastbp.network  # noqa: F401  (load NumPy's and SciPy's BLAS before limiting them)
        with threadpool_limits(limits=args.blas_threads, user_api="blas"):
            _run(args)
    else:
        _run(args)


if __name__ == "__main__":
    main()
