#!/usr/bin/env python
"""One epoch of mini-batch SGD in fastbp and in the libraries users pick instead, side by side.

Implementations (each in its own subprocess, one at a time, on the same data,
the same initial weights and the same shuffles):

- ``fastbp``: ``fastbp.engine.Trainer.run_epoch``, the compiled whole-epoch driver
  (one epoch of ``Network.fit``, without its shuffles and bookkeeping);
- ``numpy``: the fully-matrix form in numpy_peer.py (:class:`NumpyMatrixForm`): per
  mini-batch one matrix product per layer forward, one per layer backward
  and one per layer for the weight gradients, no Python loop over examples;
- ``torch``: PyTorch eager, ``nn.Sequential`` + autograd + ``optim.SGD``;
- ``jax``: the whole epoch in one ``jax.jit``-compiled ``lax.scan``;
- ``sklearn``: scikit-learn's ``MLPClassifier(solver="sgd")``, one
  ``partial_fit`` per epoch, momentum 0, alpha 0, constant learning rate.

Peers that are not importable are reported as such and skipped.

Every implementation makes the same update as fastbp (network2.py's):
``W <- W - eta/m * sum over the mini-batch of dC_x/dW``, with C_x summed over
the outputs (quadratic: 0.5 ||a - y||^2; cross-entropy: the sum of the
binary cross-entropies of the sigmoid outputs). scikit-learn has no sigmoid
output with the quadratic cost, so its S run uses the cross-entropy delta
(a - y): the same amount of work, a slightly different network.

Each worker runs one warm-up epoch (compile, cache loading, first-touch;
reported apart) and then ``--repeats`` timed epochs, each with its own
shuffle, and reports their median; then the test accuracy of its trained
network (a fast but wrong implementation shows there), its peak resident
memory (VmHWM on Linux: ``ru_maxrss`` would include the driver's, inherited
across fork and exec), and the parameters of a fresh network after its first
few mini-batches, compared with the NumPy form's. A separate worker measures
the float32 and float64 matrix-multiply rate of this machine (a square NumPy
matmul, best of 7 before and 7 after the implementations run), the
yardstick for the achieved GFLOP/s of each implementation.

Usage::

    python benchmarks/compare_peers.py                          # S, M, L; all peers; 3 repeats
    python benchmarks/compare_peers.py --configs S,M --rows 6000 --repeats 1 --json out.json
    python benchmarks/compare_peers.py --peers numpy,torch

Data: Fashion-MNIST from /usr/share/datasets/fashion-mnist (or
$FASHION_MNIST_DIR), pixels scaled to [0, 1]; where it is absent, synthetic
data of the same shape (and the accuracies mean less).
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

# The configurations and the NumPy matrix form live in numpy_peer.py, shared with the asv
# suite. This file runs as a script (and spawns itself as one), or is imported as
# benchmarks.compare_peers.
if __package__:
    from .numpy_peer import CONFIGS as BASE_CONFIGS, NumpyMatrixForm
else:
    from numpy_peer import CONFIGS as BASE_CONFIGS, NumpyMatrixForm

#: The shared configurations, plus each in its other dtype: "S32" is S in float32,
#: "L64" is L in float64 (S, M and L name the dtype of the asv suite's tables).
CONFIGS = dict(BASE_CONFIGS)
for _name, _c in BASE_CONFIGS.items():
    _other = "float32" if _c["dtype"] == "float64" else "float64"
    CONFIGS[_name + _other[-2:]] = dict(_c, dtype=_other)

PEERS = ["numpy", "torch", "jax", "sklearn"]
#: Modules an implementation needs (checked with importlib before a worker starts).
REQUIRES = {"fastbp": ["fastbp"], "numpy": ["numpy"], "torch": ["torch"],
            "jax": ["jax", "jaxlib"], "sklearn": ["sklearn"]}
FASHION_MNIST_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
MATMUL_N = 2048


# --------------------------------------------------------------------- helpers
def epoch_flops(sizes, n_rows):
    """Floating-point operations of one epoch's matrix products.

    Forward ``2 n sum(in*out)``, the delta recursion ``2 n sum(in*out)`` over
    the layers after the first (no delta is propagated into the input), the
    weight gradients ``2 n sum(in*out)``. Element-wise work is not counted.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    macs = sum(a * b for a, b in pairs)
    macs_after_first = sum(a * b for a, b in pairs[1:])
    return 2 * n_rows * (2 * macs + macs_after_first)


def check_rows(n_rows, batch_size):
    """Rows of the correctness check: 20 mini-batches of 10, or 2 of 1024."""
    return min(n_rows, 20 * batch_size if batch_size < 100 else 2 * batch_size)


def one_hot(labels, n_classes, dtype):
    Y = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


def ru_maxrss_bytes():
    """getrusage's ru_maxrss in bytes (Linux reports KiB, macOS bytes)."""
    import resource  # Unix only: imported here so that importing this file works anywhere
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def peak_rss_bytes():
    """Peak resident set size of this process's own address space.

    Linux: VmHWM from /proc/self/status. Not ru_maxrss there, because a child
    started by fork (or vfork) and exec inherits its parent's high-water mark
    in ru_maxrss: every worker would start at the driver's peak. Elsewhere:
    ru_maxrss.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return ru_maxrss_bytes()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit():
    """The commit of the repository this script is in (with "+dirty" if modified), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def load_data(n_rows, n_test, seed):
    """uint8 images (n, 784) and int64 labels: Fashion-MNIST, or synthetic of its shape."""
    try:  # fastbp.datasets knows the IDX file names and checks the files
        from fastbp.datasets import load_idx_folder
        arrays = load_idx_folder(FASHION_MNIST_DIR)  # uint8 (n, 784) pixels, int64 labels
    except FileNotFoundError:
        arrays, missing = None, "Fashion-MNIST not found in %s" % FASHION_MNIST_DIR
    except ImportError as exc:
        arrays, missing = None, "fastbp, which reads the IDX files, not importable: %s" % exc
    if arrays is not None:
        d = dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays))
        source = "Fashion-MNIST"
    else:
        # Faint class prototypes plus noise, half the pixels 0 (as benchmarks/common.py).
        rng = np.random.default_rng(seed)
        protos = rng.random((10, 784)) * 0.1
        d = {}
        for split, n in (("train", 60000), ("test", 10000)):
            y = rng.integers(0, 10, n).astype(np.int64)
            x = np.clip(protos[y] + rng.random((n, 784)) - 0.5, 0.0, 1.0)
            d["x_" + split] = np.round(x * 255).astype(np.uint8)
            d["y_" + split] = y
        source = "synthetic (%s)" % missing
    if n_rows is not None:
        if n_rows > d["x_train"].shape[0]:
            raise SystemExit(f"--rows: the training set has {d['x_train'].shape[0]} rows")
        d["x_train"], d["y_train"] = d["x_train"][:n_rows], d["y_train"][:n_rows]
    if n_test is not None:
        d["x_test"], d["y_test"] = d["x_test"][:n_test], d["y_test"][:n_test]
    return d, source


def initial_parameters(sizes, seed):
    """fastbp's default initialisation: b ~ N(0, 1), W ~ N(0, 1/n_in), in float64."""
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"b{l}"] = rng.standard_normal(n_out)
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"W{l}"] = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    return params


# --------------------------------------------------------------------- workers
class Problem:
    """What a worker reads from the work folder: data in the config's dtype, weights, shuffles."""

    def __init__(self, workdir, config):
        c = CONFIGS[config]
        self.config = config
        self.sizes = c["sizes"]
        self.batch_size = c["batch_size"]
        self.eta = c["eta"]
        self.cost = c["cost"]
        self.dtype = np.dtype(c["dtype"])
        data = np.load(os.path.join(workdir, "data.npz"))
        scale = self.dtype.type(1.0 / 255.0)
        self.X = data["x_train"].astype(self.dtype)
        self.X *= scale  # in place: no second copy to inflate the memory baseline
        self.Y = one_hot(data["y_train"], self.sizes[-1], self.dtype)
        self.X_test = data["x_test"].astype(self.dtype)
        self.X_test *= scale
        self.y_test = data["y_test"]
        init = np.load(os.path.join(workdir, f"init_{config}.npz"))
        n_layers = len(self.sizes) - 1
        self.W = [init[f"W{l}"].astype(self.dtype) for l in range(n_layers)]
        self.b = [init[f"b{l}"].astype(self.dtype) for l in range(n_layers)]
        self.orders = np.load(os.path.join(workdir, f"orders_{config}.npy"))


class FastbpRunner:
    """fastbp's compiled whole-epoch driver, on the rows in the given order."""

    def __init__(self, p):
        import fastbp
        from fastbp.engine import Trainer
        from fastbp.optimizers import SGD, Regularization
        from fastbp.validation import check_inputs, check_targets
        self.version = fastbp.__version__
        net = fastbp.Network(list(p.sizes), activation="sigmoid", cost=p.cost, dtype=p.dtype)
        net.weights = p.W
        net.biases = p.b
        self.X, _ = check_inputs(p.X, p.sizes[0], net.dtype)
        self.Y = check_targets(p.Y, p.X.shape[0], p.sizes[-1], net.dtype)
        self.trainer = Trainer(net, SGD(), p.batch_size)  # plain SGD: no momentum
        n_batches = -(-p.X.shape[0] // p.batch_size)
        self.etas = np.full(n_batches, float(p.eta))
        self.no_penalty = Regularization()
        self.net, self.p = net, p

    def epoch(self, order):
        self.trainer.run_epoch(self.X, self.Y, np.asarray(order, dtype=np.int64),
                               self.p.batch_size, self.etas, self.no_penalty)

    def predict(self, X):
        return self.net.predict(X)

    def parameters(self):
        return list(self.net.weights), list(self.net.biases)


class NumpyRunner:
    """The fully-matrix form in NumPy (numpy_peer.NumpyMatrixForm), on the worker's problem."""

    def __init__(self, p):
        self.version = np.__version__
        self.form = NumpyMatrixForm(p.X, p.Y, p.W, p.b, p.batch_size, p.eta, p.cost)

    def epoch(self, order):
        self.form.epoch(order)

    def predict(self, X):
        return self.form.predict(X)

    def parameters(self):
        return self.form.parameters()


class TorchRunner:
    """PyTorch eager: nn.Sequential of Linear + Sigmoid, autograd, optim.SGD(lr=eta).

    The loss is summed over outputs and averaged over the mini-batch, so
    SGD's step is eta/m times the sum of the per-example gradients.
    """

    def __init__(self, p):
        import torch
        self.torch = torch
        self.version = torch.__version__
        self.threads = torch.get_num_threads()
        tdt = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[p.dtype]
        layers = []
        for l, (W, b) in enumerate(zip(p.W, p.b)):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if l < len(p.W) - 1:
                layers.append(torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)  # outputs the last layer's z
        self.opt = torch.optim.SGD(self.model.parameters(), lr=p.eta, momentum=0.0)
        self.X = torch.from_numpy(p.X)
        self.Y = torch.from_numpy(p.Y)
        self.p = p

    def epoch(self, order):
        torch, p = self.torch, self.p
        F = torch.nn.functional
        order = torch.from_numpy(order)
        n, bs = order.shape[0], p.batch_size
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            m = idx.shape[0]
            xb, yb = self.X[idx], self.Y[idx]
            z = self.model(xb)
            if p.cost == "cross_entropy":
                loss = F.binary_cross_entropy_with_logits(z, yb, reduction="sum") / m
            else:
                loss = 0.5 * (torch.sigmoid(z) - yb).square().sum() / m
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).argmax(dim=1).numpy()

    def parameters(self):
        lins = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return ([m.weight.detach().numpy() for m in lins], [m.bias.detach().numpy() for m in lins])


class JaxRunner:
    """JAX: the whole epoch in one jit (lax.scan over the full mini-batches, then the short one)."""

    def __init__(self, p):
        import jax
        if p.dtype == np.float64:
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax import lax
        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__
        self.p = p
        cross_entropy = p.cost == "cross_entropy"
        eta = p.eta

        def loss(params, xb, yb):
            a = xb
            for W, b in params[:-1]:
                a = jax.nn.sigmoid(a @ W.T + b)
            W, b = params[-1]
            z = a @ W.T + b
            if cross_entropy:  # sum of binary cross-entropies with logits
                return jnp.sum(jax.nn.softplus(z) - yb * z)
            return 0.5 * jnp.sum(jnp.square(jax.nn.sigmoid(z) - yb))

        grad = jax.grad(loss)

        def step(params, X, Y, idx):
            g = grad(params, X[idx], Y[idx])
            scale = eta / idx.shape[0]
            return jax.tree_util.tree_map(lambda w, gw: w - scale * gw, params, g)

        def epoch(params, X, Y, full, rest):
            params, _ = lax.scan(lambda prm, idx: (step(prm, X, Y, idx), None), params, full)
            if rest.shape[0] > 0:
                params = step(params, X, Y, rest)
            return params

        self._epoch = jax.jit(epoch)
        self.params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(p.W, p.b)]
        self.X = jax.device_put(p.X)
        self.Y = jax.device_put(p.Y)

    def epoch(self, order):
        bs = self.p.batch_size
        n_full = order.shape[0] // bs
        order = order.astype(np.int32)
        full = self.jnp.asarray(order[:n_full * bs].reshape(n_full, bs))
        rest = self.jnp.asarray(order[n_full * bs:])
        self.params = self._epoch(self.params, self.X, self.Y, full, rest)
        self.jax.block_until_ready(self.params)

    def predict(self, X):
        jax, jnp = self.jax, self.jnp
        a = jnp.asarray(X)
        for W, b in self.params:
            a = jax.nn.sigmoid(a @ W.T + b)
        return np.asarray(jnp.argmax(a, axis=1))

    def parameters(self):
        return [np.asarray(W) for W, _ in self.params], [np.asarray(b) for _, b in self.params]


class SklearnRunner:
    """scikit-learn MLPClassifier(solver="sgd"), logistic units, one-hot (multi-label) targets.

    Multi-label targets give a sigmoid output layer with the binary log-loss
    summed over outputs and averaged over the batch: the cross-entropy cost.
    One partial_fit is one epoch over the rows as given (shuffle=False; the
    rows are gathered in the epoch's order inside the timed call).
    """

    def __init__(self, p):
        import warnings

        import sklearn
        from sklearn.neural_network import MLPClassifier
        warnings.filterwarnings("ignore", module="sklearn")
        self.version = sklearn.__version__
        self.clf = MLPClassifier(hidden_layer_sizes=tuple(p.sizes[1:-1]), activation="logistic",
                                 solver="sgd", alpha=0.0, batch_size=p.batch_size,
                                 learning_rate="constant", learning_rate_init=p.eta,
                                 momentum=0.0, nesterovs_momentum=False, shuffle=False,
                                 max_iter=1, tol=0.0, n_iter_no_change=2**31 - 1,
                                 early_stopping=False)
        self.Y = p.Y.astype(np.uint8)
        self.X = p.X
        # Build the network on one mini-batch, then put the shared initial weights in place
        # (in place: the optimizer updates these very arrays).
        self.clf.partial_fit(self.X[:p.batch_size], self.Y[:p.batch_size],
                             classes=np.arange(p.sizes[-1]))
        for l, (W, b) in enumerate(zip(p.W, p.b)):
            if self.clf.coefs_[l].dtype != p.dtype:
                raise RuntimeError(f"scikit-learn computes in {self.clf.coefs_[l].dtype}, "
                                   f"not {p.dtype}")
            self.clf.coefs_[l][...] = W.T
            self.clf.intercepts_[l][...] = b
        self.note = ("cross-entropy delta (no sigmoid output with the quadratic cost)"
                     if p.cost == "quadratic" else "")

    def epoch(self, order):
        self.clf.partial_fit(self.X[order], self.Y[order])

    def predict(self, X):
        return np.argmax(self.clf.predict_proba(X), axis=1)

    def parameters(self):
        return [c.T for c in self.clf.coefs_], list(self.clf.intercepts_)


RUNNERS = {"fastbp": FastbpRunner, "numpy": NumpyRunner, "torch": TorchRunner, "jax": JaxRunner,
           "sklearn": SklearnRunner}


def run_worker(impl, config, workdir, repeats):
    """Time one implementation on one config; write result_<impl>_<config>.json and params."""
    p = Problem(workdir, config)
    rss_data = peak_rss_bytes()
    t0 = time.perf_counter()
    runner = RUNNERS[impl](p)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    runner.epoch(p.orders[0])
    warmup_s = time.perf_counter() - t0
    times = []
    for r in range(1, repeats + 1):
        t0 = time.perf_counter()
        runner.epoch(p.orders[r])
        times.append(time.perf_counter() - t0)
    accuracy = float(np.mean(runner.predict(p.X_test) == p.y_test))
    peak = peak_rss_bytes()
    # Correctness: a fresh network, the first few mini-batches of the first shuffle, its
    # parameters saved for comparison with the NumPy form's. (Few, because config S's
    # large steps amplify rounding: two exact implementations part after an epoch or so.)
    del runner
    check = RUNNERS[impl](p)
    check.epoch(p.orders[0][:check_rows(p.X.shape[0], p.batch_size)])
    W, b = check.parameters()
    np.savez(os.path.join(workdir, f"params_{impl}_{config}.npz"),
             *[np.asarray(w, dtype=np.float64) for w in W],
             *[np.asarray(v, dtype=np.float64) for v in b])
    result = {"impl": impl, "config": config, "version": check.version,
              "setup_s": setup_s, "warmup_s": warmup_s, "epoch_s": times,
              "median_s": float(np.median(times)), "test_accuracy": accuracy,
              "peak_rss_bytes": peak, "rss_after_data_bytes": rss_data,
              "ru_maxrss_bytes": ru_maxrss_bytes(),
              "note": getattr(check, "note", "")}
    if hasattr(check, "threads"):
        result["threads"] = check.threads
    with open(os.path.join(workdir, f"result_{impl}_{config}.json"), "w") as f:
        json.dump(result, f)


def run_matmul_worker(workdir, n=MATMUL_N, repeats=7):
    """Best and median GFLOP/s of a square (n x n) @ (n x n) NumPy matmul, float32 and float64."""
    rng = np.random.default_rng(0)
    out = {"n": n}
    for dt in ("float32", "float64"):
        A = rng.random((n, n), dtype=np.dtype(dt).type)
        B = rng.random((n, n), dtype=np.dtype(dt).type)
        C = np.empty((n, n), dtype=dt)
        np.matmul(A, B, out=C)
        rates = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(A, B, out=C)
            rates.append(2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
        out[dt] = {"best_gflops": max(rates), "median_gflops": float(np.median(rates))}
    try:
        from threadpoolctl import threadpool_info
        out["blas"] = [{k: i.get(k) for k in ("internal_api", "num_threads", "version")}
                       for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    with open(os.path.join(workdir, "result_matmul.json"), "w") as f:
        json.dump(out, f)


# ---------------------------------------------------------------------- driver
def measure_matmul(workdir, args):
    """The matmul worker's result (see run_matmul_worker), or None if it failed."""
    print("[compare_peers] matmul rate ...", file=sys.stderr, flush=True)
    ok, err = spawn(workdir, args.timeout, args.repeats, args.threads, "matmul")
    if not ok:
        print(f"[compare_peers] matmul worker failed: {err}", file=sys.stderr)
        return None
    with open(os.path.join(workdir, "result_matmul.json")) as f:
        return json.load(f)


def importable(impl):
    return all(importlib.util.find_spec(m) is not None for m in REQUIRES[impl])


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def spawn(workdir, timeout, repeats, threads, *worker_args):
    """Run this script as a worker in a fresh interpreter; return (ok, error text)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--workdir", workdir,
           "--repeats", str(repeats), "--worker", *worker_args]
    env = dict(os.environ)
    if threads:
        env.update({v: str(threads) for v in THREAD_VARIABLES})
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return False, f"exit {proc.returncode}: " + " | ".join(tail)
    return True, ""


def parameter_difference(workdir, impl, config, reference="numpy"):
    """max |theta_impl - theta_ref| / max |theta_ref| over all parameters, or None."""
    a_path = os.path.join(workdir, f"params_{impl}_{config}.npz")
    b_path = os.path.join(workdir, f"params_{reference}_{config}.npz")
    if not (os.path.exists(a_path) and os.path.exists(b_path)):
        return None
    a, b = np.load(a_path), np.load(b_path)
    diff = max(float(np.max(np.abs(a[k] - b[k]))) for k in b.files)
    scale = max(float(np.max(np.abs(b[k]))) for k in b.files)
    return diff / scale


def format_table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(v).ljust(w) for v, w in zip(r, widths)) + " |"  # noqa
    out = [title, line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def report(results, impls):
    """The tables, as Markdown text."""
    configs = list(results["configs"])
    mm = results["matmul"]
    lines = [f"compare_peers {results['date']}, fastbp {results['fastbp_commit']}, "
             f"on {results['machine']['cpu']} "
             f"({results['machine']['cpus']} CPUs), data: {results['data']}, "
             f"{results['rows']} training rows, median of {results['repeats']} epochs "
             f"after 1 warm-up epoch."]
    if mm:
        lines.append(f"Matrix multiply ({mm['n']}x{mm['n']}, best of 7 before and 7 after): "
                     f"float32 {mm['float32']['best_gflops']:.1f} GFLOP/s, "
                     f"float64 {mm['float64']['best_gflops']:.1f} GFLOP/s.")
    lines.append("")

    def cell(cfg, impl, fmt):
        r = results["configs"][cfg]["impls"].get(impl, {})
        if "error" in r:
            return "failed"
        if "skipped" in r:
            return "n/a"
        return fmt(r)

    def row_label(cfg):
        c = results["configs"][cfg]
        return f"{cfg}: {list(c['sizes'])}, bs {c['batch_size']}, {c['dtype']}"

    rows = []
    for cfg in configs:
        c = results["configs"][cfg]
        best = c.get("fastest_peer")
        rows.append([row_label(cfg)] + [cell(cfg, i, lambda r: f"{r['median_s']:.3g} s")
                                        for i in impls]
                    + [f"{best} {c['fastest_peer_s']:.3g} s" if best else "-",
                       f"{c['fastbp_speedup']:.2f}x" if c.get("fastbp_speedup") else "-"])
    lines.append(format_table("Median epoch time (lower is better); "
                              "speedup = fastest peer / fastbp",
                              ["config"] + impls + ["fastest peer", "fastbp speedup"], rows))
    lines.append("")
    rows = [[row_label(cfg) + f", {results['configs'][cfg]['gflop_per_epoch']:.1f} GFLOP"]
            + [cell(cfg, i, lambda r: f"{r['gflops']:.1f} ({r['pct_of_matmul']:.0f}%)")
               for i in impls] for cfg in configs]
    lines.append(format_table("Achieved GFLOP/s (% of the same dtype's matmul rate)",
                              ["config"] + impls, rows))
    lines.append("")
    rows = [[row_label(cfg)] + [cell(cfg, i, lambda r: f"{r['test_accuracy']:.4f}")
                                for i in impls] for cfg in configs]
    lines.append(format_table(f"Test accuracy after {1 + results['repeats']} epochs "
                              f"({results['test_rows']} test rows)", ["config"] + impls, rows))
    lines.append("")
    rows = [[row_label(cfg)] + [cell(cfg, i, lambda r: "-" if r.get("param_rel_diff") is None
                                     else f"{r['param_rel_diff']:.1e}") for i in impls]
            for cfg in configs]
    lines.append(format_table("Correctness: parameters after the first 20 mini-batches (L: 2) "
                              "vs the NumPy form, max |diff| / max |theta|",
                              ["config"] + impls, rows))
    lines.append("")
    rows = [[row_label(cfg)] + [cell(cfg, i, lambda r: f"{r['warmup_s']:.3g} s") for i in impls]
            for cfg in configs]
    lines.append(format_table("Warm-up epoch (compile, cache load, first touch)",
                              ["config"] + impls, rows))
    lines.append("")
    mib = lambda r: (f"{r['peak_rss_bytes'] / 2**20:.0f} MiB "  # noqa: E731
                     f"(+{(r['peak_rss_bytes'] - r['rss_after_data_bytes']) / 2**20:.0f})")
    rows = [[row_label(cfg)] + [cell(cfg, i, mib) for i in impls] for cfg in configs]
    lines.append(format_table("Peak resident memory of each worker, VmHWM (in brackets: the "
                              "rise after loading the data, i.e. library, model and training)",
                              ["config"] + impls, rows))
    notes = sorted({f"{i}: {r['note']}" for cfg in configs
                    for i, r in results["configs"][cfg]["impls"].items() if r.get("note")})
    errors = [f"{cfg}/{i}: {r['error']}" for cfg in configs
              for i, r in results["configs"][cfg]["impls"].items() if "error" in r]
    skipped = sorted({f"{i}: {r['skipped']}" for cfg in configs
                      for i, r in results["configs"][cfg]["impls"].items() if "skipped" in r})
    for title, items in (("Notes", notes), ("Skipped", skipped), ("Failed", errors)):
        if items:
            lines.append("")
            lines.append(title + ":")
            lines += ["- " + s for s in items]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="S,M,L",
                        help="comma-separated, of S, M, L and the same in their other dtype: "
                             "S32, M32 (float32), L64 (float64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per implementation")
    parser.add_argument("--rows", type=int, default=None,
                        help="use the first N training rows (default: all 60,000)")
    parser.add_argument("--test-rows", type=int, default=None,
                        help="use the first N test rows for the accuracy (default: all)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated, of {','.join(PEERS)} (fastbp always runs)")
    parser.add_argument("--json", default=None, help="write all results to this JSON file")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and shuffles")
    parser.add_argument("--threads", type=int, default=None,
                        help="set OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS in every worker "
                             "(default: each library's own choice; XLA ignores these)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds allowed to each worker")
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # inside a subprocess
        if args.worker[0] == "matmul":
            run_matmul_worker(args.workdir)
        else:
            impl, config = args.worker
            run_worker(impl, config, args.workdir, args.repeats)
        return 0

    configs = [c.strip().upper() for c in args.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        parser.error(f"--configs: unknown {bad}; expected some of {list(CONFIGS)}")
    peers = [p.strip() for p in args.peers.split(",") if p.strip() and p.strip() != "fastbp"]
    bad = [p for p in peers if p not in PEERS]
    if bad:
        parser.error(f"--peers: unknown {bad}; expected some of {PEERS}")
    if args.repeats < 1:
        parser.error("--repeats: expected an integer >= 1")
    impls = ["fastbp"] + peers

    workdir = tempfile.mkdtemp(prefix="fastbp-compare-")
    try:
        data, source = load_data(args.rows, args.test_rows, args.seed)
        np.savez(os.path.join(workdir, "data.npz"), **data)
        n = data["x_train"].shape[0]
        results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                   "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(),
                               "platform": platform.platform(),
                               "python": platform.python_version()},
                   "fastbp_commit": git_commit(), "data": source, "rows": n,
                   "test_rows": int(data["x_test"].shape[0]),
                   "repeats": args.repeats, "seed": args.seed, "threads": args.threads,
                   "thread_variables": {v: os.environ.get(v) for v in THREAD_VARIABLES},
                   "configs": {}}
        print(f"[compare_peers] {n} rows of {source}; work folder {workdir}", file=sys.stderr)

        matmul_runs = [measure_matmul(workdir, args)]

        for k, cfg in enumerate(configs):
            c = CONFIGS[cfg]
            np.savez(os.path.join(workdir, f"init_{cfg}.npz"),
                     **initial_parameters(c["sizes"], args.seed + 1000 * k))
            rng = np.random.default_rng(args.seed + 1000 * k + 1)
            np.save(os.path.join(workdir, f"orders_{cfg}.npy"),
                    np.stack([rng.permutation(n) for _ in range(1 + args.repeats)]))
            entry = dict(c, sizes=list(c["sizes"]),
                         gflop_per_epoch=epoch_flops(c["sizes"], n) / 1e9, impls={})
            results["configs"][cfg] = entry
            for impl in ["numpy"] + [i for i in impls if i != "numpy"]:  # reference first
                if impl not in impls:
                    continue
                if not importable(impl):
                    entry["impls"][impl] = {"skipped": "not installed"}
                    continue
                print(f"[compare_peers] {cfg} {impl} ...", file=sys.stderr, flush=True)
                ok, err = spawn(workdir, args.timeout, args.repeats, args.threads, impl, cfg)
                if not ok:
                    entry["impls"][impl] = {"error": err}
                    print(f"[compare_peers] {cfg} {impl} failed: {err}", file=sys.stderr)
                    continue
                with open(os.path.join(workdir, f"result_{impl}_{cfg}.json")) as f:
                    r = json.load(f)
                r["gflops"] = entry["gflop_per_epoch"] / r["median_s"]
                r["param_rel_diff"] = (None if impl == "numpy"
                                       else parameter_difference(workdir, impl, cfg))
                entry["impls"][impl] = r
                print(f"[compare_peers] {cfg} {impl}: median {r['median_s']:.3g} s, warm-up "
                      f"{r['warmup_s']:.3g} s, accuracy {r['test_accuracy']:.4f}",
                      file=sys.stderr, flush=True)
            entry["impls"] = {i: entry["impls"][i] for i in impls if i in entry["impls"]}
            timed = {i: r["median_s"] for i, r in entry["impls"].items()
                     if "median_s" in r and i != "fastbp"}
            if timed:
                best = min(timed, key=timed.get)
                entry["fastest_peer"], entry["fastest_peer_s"] = best, timed[best]
                if "median_s" in entry["impls"].get("fastbp", {}):
                    entry["fastbp_speedup"] = timed[best] / entry["impls"]["fastbp"]["median_s"]
        # The yardstick: the best matmul rate seen before and after the implementations ran
        # (on a shared machine a single measurement may catch a busy moment).
        matmul_runs.append(measure_matmul(workdir, args))
        results["matmul_runs"] = matmul_runs
        runs = [m for m in matmul_runs if m]
        results["matmul"] = None if not runs else dict(
            n=runs[0]["n"], **{dt: {"best_gflops": max(m[dt]["best_gflops"] for m in runs)}
                               for dt in ("float32", "float64")})
        for entry in results["configs"].values():
            for r in entry["impls"].values():
                if "gflops" in r:
                    r["pct_of_matmul"] = (100.0 * r["gflops"] /
                                          results["matmul"][entry["dtype"]]["best_gflops"]
                                          if results["matmul"] else float("nan"))
        text = report(results, impls)
        results["table"] = text
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
            print(f"\nJSON written to {args.json}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
