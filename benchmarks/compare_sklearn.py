#!/usr/bin/env python
"""fastbp.sklearn.MLPClassifier against scikit-learn's MLPClassifier(solver="sgd"), side by side.

A plain script (asv imports this module but finds no benchmarks in it)::

    python benchmarks/compare_sklearn.py [--epochs 5] [--rows 36000] [--no-float32]

Data: scikit-learn's digits (1,797 8x8 images, pixels / 16). The first 1,500
images, tiled to about ``--rows`` rows, are the training set; the other 297
are the held-out test set.

Settings, the same for both: hidden_layer_sizes=(100,), activation="logistic",
solver="sgd", batch_size=10, learning_rate_init=0.1, momentum=0, alpha=1e-4,
constant learning rate, shuffled every epoch. Both take their initial weights
and shuffles from ``np.random.RandomState(0)``, so they train the same network
through the same mini-batches: their weights after the last epoch are printed
as a maximum difference (rounding only, about 1e-12) and their test accuracies
agree.

Each epoch is one ``fit`` with ``warm_start=True, max_iter=1`` (which
validates the data again, as a partial_fit would; a few milliseconds). The
median epoch time of each is printed, with the speed ratio. fastbp's first
call, which compiles the kernels or loads them from Numba's cache, is timed
apart on a small fit and never enters the epoch times. ``--no-float32``
skips the extra fastbp run with ``dtype=np.float32``.
"""
import argparse
import os
import platform
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))

SETTINGS = dict(hidden_layer_sizes=(100,), activation="logistic", solver="sgd", batch_size=10,
                learning_rate_init=0.1, momentum=0.0, alpha=1e-4, learning_rate="constant",
                shuffle=True, warm_start=True, max_iter=1)


def load_data(rows):
    """Digits / 16: (X_train tiled to ~rows, y_train, X_test, y_test)."""
    import numpy as np
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    reps = max(1, round(rows / 1500))
    return np.tile(X[:1500], (reps, 1)), np.tile(y[:1500], reps), X[1500:], y[1500:]


def train(make, X, y, X_test, y_test, epochs):
    """Per-epoch times, test accuracy and the fitted estimator."""
    from sklearn.exceptions import ConvergenceWarning

    est = make()
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            t0 = time.perf_counter()
            est.fit(X, y)
            times.append(time.perf_counter() - t0)
    return times, est.score(X_test, y_test), est


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=36000)
    parser.add_argument("--no-float32", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    import sklearn
    from sklearn.neural_network import MLPClassifier as SkMLP

    import fastbp
    from fastbp.sklearn import MLPClassifier as FbMLP

    X, y, X_test, y_test = load_data(args.rows)
    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}, fastbp {fastbp.__version__}, {os.cpu_count()} CPUs")
    print(f"digits / 16 tiled to {X.shape[0]} training rows, {X_test.shape[0]} held-out test "
          f"rows; {args.epochs} epochs")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in SETTINGS.items()
                                   if k not in ("warm_start", "max_iter")))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        FbMLP(**SETTINGS, random_state=0).fit(X[:50], y[:50])
        if not args.no_float32:
            FbMLP(**SETTINGS, random_state=0, dtype=np.float32).fit(X[:50], y[:50])
    print(f"fastbp first call (compile or load the kernel cache): {time.perf_counter() - t0:.1f} s")

    runs = [("scikit-learn", lambda: SkMLP(**SETTINGS, random_state=np.random.RandomState(0))),
            ("fastbp", lambda: FbMLP(**SETTINGS, random_state=np.random.RandomState(0)))]
    if not args.no_float32:
        runs.append(("fastbp float32", lambda: FbMLP(**SETTINGS, dtype=np.float32,
                                                     random_state=np.random.RandomState(0))))
    results = {}
    print(f"\n{'':16s} {'median epoch':>13s} {'min':>8s} {'max':>8s} {'test accuracy':>14s}")
    for name, make in runs:
        times, accuracy, est = train(make, X, y, X_test, y_test, args.epochs)
        results[name] = (statistics.median(times), accuracy, est)
        print(f"{name:16s} {statistics.median(times):11.3f} s {min(times):6.3f} s "
              f"{max(times):6.3f} s {accuracy:14.4f}")
    sk_time, _, sk_est = results["scikit-learn"]
    print()
    for name in results:
        if name != "scikit-learn":
            fb_time, _, fb_est = results[name]
            diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - b)))
                       for a, b in zip(fb_est.coefs_ + fb_est.intercepts_,
                                       sk_est.coefs_ + sk_est.intercepts_))
            print(f"{name}: {sk_time / fb_time:.1f}x faster per epoch than scikit-learn; "
                  f"max |weight difference| after {args.epochs} epochs: {diff:.1e}")


if __name__ == "__main__":
    main()
