"""Large mini-batches: chunked accumulation, uint8/memmap input, schedules, Adam, LARS, threads, memory."""
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import fastbp
from fastbp.schedules import epoch_learning_rates, linear_scaling
from reference import ReferenceNetwork, one_hot

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")  # random-label fits


def _data(n, sizes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], size=n)
    return X, y


# ---------------------------------------------------------------- chunking
@pytest.mark.parametrize("chunk", [1, 3, 7, 16, 64, 1000])
def test_chunked_gradients_equal_whole_float64(chunk):
    sizes = [6, 9, 5, 4]
    X, y = _data(61, sizes)
    net = fastbp.Network(sizes, activation=["tanh", "relu", "sigmoid"], cost="cross_entropy",
                         seed=1)
    whole_b, whole_w = net.gradients(X, y, chunk_size=61)
    b, w = net.gradients(X, y, chunk_size=chunk)
    for got, want in zip(b + w, whole_b + whole_w):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_chunked_full_batch_fit_equals_whole_float64(chunk):
    sizes = [5, 8, 3]
    X, y = _data(50, sizes, seed=2)
    nets = [fastbp.Network(sizes, activation="tanh", output_activation="softmax",
                           cost="log_likelihood", seed=3) for _ in range(2)]
    nets[0].fit(X, y, epochs=3, batch_size=50, eta=0.3, lmbda=0.1, momentum=0.5, seed=0,
                chunk_size=50)
    nets[1].fit(X, y, epochs=3, batch_size=50, eta=0.3, lmbda=0.1, momentum=0.5, seed=0,
                chunk_size=chunk)
    np.testing.assert_allclose(nets[1].get_parameters(), nets[0].get_parameters(),
                               rtol=1e-12, atol=1e-14)


def test_chunked_gradients_float32_close():
    # float32 sums of 200 terms of size ~1 round differently when split into
    # chunks: each partial sum carries ~sqrt(200) * eps32 (1.2e-7) relative
    # error, so 1e-5 relative (with an absolute floor for near-zero entries)
    # leaves a wide margin while still catching a dropped or doubled chunk.
    sizes = [10, 20, 5]
    X, y = _data(200, sizes, seed=4, dtype=np.float32)
    net = fastbp.Network(sizes, dtype=np.float32, seed=5)
    whole_b, whole_w = net.gradients(X, y, chunk_size=200)
    b, w = net.gradients(X, y, chunk_size=13)
    for got, want in zip(b + w, whole_b + whole_w):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_default_chunk_size_bounds_buffers():
    from fastbp.engine import DEFAULT_CHUNK_BYTES, default_chunk_size
    sizes = [784, 1024, 1024, 10]
    rows = default_chunk_size(sizes, np.float32, 60000)
    row_bytes = (784 + 10 + 3 * (1024 + 1024 + 10)) * 4
    assert 1 <= rows < 60000
    assert rows * row_bytes <= DEFAULT_CHUNK_BYTES < (rows + 1) * row_bytes
    assert default_chunk_size(sizes, np.float32, 10) == 10


# ------------------------------------------------------------ uint8, memmap
@pytest.mark.slow  # compiles the kernels for uint8 inputs
def test_uint8_input_with_scale_matches_scaled_float(tmp_path):
    sizes = [12, 7, 3]
    rng = np.random.default_rng(6)
    X8 = rng.integers(0, 256, size=(40, 12), dtype=np.uint8)
    y = rng.integers(0, 3, size=40)
    a = fastbp.Network(sizes, seed=7, input_scale=1 / 255)
    b = fastbp.Network(sizes, seed=7)
    Xf = X8.astype(np.float64) * (1 / 255)
    np.testing.assert_allclose(a.feedforward(X8), b.feedforward(Xf), rtol=1e-13)
    a.fit(X8, y, 2, 8, 0.5, seed=1)
    b.fit(Xf, y, 2, 8, 0.5, seed=1)
    np.testing.assert_allclose(a.get_parameters(), b.get_parameters(), rtol=1e-12, atol=1e-14)
    # a memory-mapped uint8 file trains the same way, read in place
    path = tmp_path / "images.u8"
    mm = np.memmap(path, dtype=np.uint8, mode="w+", shape=X8.shape)
    mm[:] = X8
    mm.flush()
    ro = np.memmap(path, dtype=np.uint8, mode="r", shape=X8.shape)
    c = fastbp.Network(sizes, seed=7, input_scale=1 / 255)
    c.fit(ro, y, 2, 8, 0.5, seed=1)
    np.testing.assert_array_equal(c.get_parameters(), a.get_parameters())


@pytest.mark.slow
def test_fit_on_uint8_never_copies_the_data():
    sizes = [784, 16, 10]
    rng = np.random.default_rng(8)
    X8 = rng.integers(0, 256, size=(20000, 784), dtype=np.uint8)
    y = rng.integers(0, 10, size=20000)
    net = fastbp.Network(sizes, seed=0, input_scale=1 / 255, dtype=np.float32)
    net.fit(X8[:100], y[:100], 1, 100, 0.1)  # compile outside the measurement
    tracemalloc.start()
    try:
        net.fit(X8, y, 2, 1000, 0.1, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 15.7 MB of images; a float copy would be 63 MB (float32) or 125 MB.
    assert peak < X8.nbytes / 2, f"fit allocated {peak / 1e6:.1f} MB for {X8.nbytes / 1e6:.1f} MB of data"


# --------------------------------------------------------------- schedules
def test_constant_schedule_and_linear_scaling():
    assert linear_scaling(0.1, 1024, 256) == pytest.approx(0.4)
    assert linear_scaling(0.1, 1024, None) == 0.1
    np.testing.assert_array_equal(epoch_learning_rates(0.3, 4, 5, 10), np.full(5, 0.3))


def test_step_schedule():
    rates = [epoch_learning_rates(1.0, e, 2, 10, "step", decay_epochs=3, decay_factor=0.5)[0]
             for e in range(7)]
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_cosine_schedule_runs_from_peak_to_zero():
    first = epoch_learning_rates(2.0, 0, 4, 8, "cosine")
    last = epoch_learning_rates(2.0, 7, 4, 8, "cosine")
    assert first[0] == pytest.approx(2.0)
    assert np.all(np.diff(np.concatenate([first, last])) <= 0)
    assert last[-1] == pytest.approx(2.0 * 0.5 * (1 + np.cos(np.pi * (7 + 3 / 4) / 8)))
    mid = epoch_learning_rates(2.0, 4, 4, 8, "cosine")[0]
    assert mid == pytest.approx(1.0)


def test_linear_warmup_per_step():
    # 2 warmup epochs of 5 steps: rates (k+1)/10 * eta for steps 0..9, then eta.
    e0 = epoch_learning_rates(1.0, 0, 5, 10, warmup_epochs=2)
    e1 = epoch_learning_rates(1.0, 1, 5, 10, warmup_epochs=2)
    e2 = epoch_learning_rates(1.0, 2, 5, 10, warmup_epochs=2)
    np.testing.assert_allclose(np.concatenate([e0, e1]), np.arange(1, 11) / 10)
    np.testing.assert_allclose(e2, 1.0)


def test_fit_uses_the_per_step_rates():
    """A warmup + cosine fit equals the reference stepping with the same per-step rates."""
    sizes = [4, 6, 3]
    X, y = _data(30, sizes, seed=9)
    Y = one_hot(y, 3)
    net = fastbp.Network(sizes, seed=10)
    ref = ReferenceNetwork.from_fastbp(net)
    epochs, batch = 3, 8
    net.fit(X, y, epochs, batch, 0.5, shuffle=False, lr_schedule="cosine", warmup_epochs=1,
            base_batch_size=4)
    n_batches = 4
    for e in range(epochs):
        etas = epoch_learning_rates(0.5 * batch / 4, e, n_batches, epochs, "cosine", 1.0)
        for k in range(n_batches):
            rows = np.arange(k * batch, min((k + 1) * batch, 30))
            ref.update_mini_batch(X[rows], Y[rows], etas[k])
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------- optimisers
def _reference_epochs(ref, X, Y, batch, epochs, step):
    n = len(X)
    for _ in range(epochs):
        for start in range(0, n, batch):
            rows = np.arange(start, min(start + batch, n))
            sum_b, sum_w = ref.gradient_sums(X[rows], Y[rows])
            step(ref, sum_b, sum_w, len(rows))


def test_adam_matches_reference():
    sizes = [5, 7, 3]
    X, y = _data(23, sizes, seed=11)
    Y = one_hot(y, 3)
    net = fastbp.Network(sizes, output_activation="softmax", cost="log_likelihood", seed=12)
    ref = ReferenceNetwork.from_fastbp(net)
    eta, b1, b2, eps, lmbda = 0.01, 0.9, 0.999, 1e-8, 0.3
    net.fit(X, y, 3, 6, eta, lmbda=lmbda, shuffle=False, optimizer="adam")
    state = {"t": 0, "m": None, "v": None}

    def adam(ref, sum_b, sum_w, m):
        # scikit-learn's Adam on g = grad/m (+ (lmbda/n) W for weights)
        params = ref.weights + ref.biases
        grads = [sw / m + (lmbda / len(X)) * W for sw, W in zip(sum_w, ref.weights)] + \
                [sb / m for sb in sum_b]
        if state["m"] is None:
            state["m"] = [np.zeros_like(p) for p in params]
            state["v"] = [np.zeros_like(p) for p in params]
        state["t"] += 1
        t = state["t"]
        lr = eta * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i, (p, g) in enumerate(zip(params, grads)):
            state["m"][i] = b1 * state["m"][i] + (1 - b1) * g
            state["v"][i] = b2 * state["v"][i] + (1 - b2) * g * g
            p -= lr * state["m"][i] / (np.sqrt(state["v"][i]) + eps)

    _reference_epochs(ref, X, Y, 6, 3, adam)
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=1e-9, atol=1e-12)


def test_adam_state_continues_with_reset_optimizer_false():
    sizes = [4, 5, 2]
    X, y = _data(20, sizes, seed=13)
    a = fastbp.Network(sizes, seed=14)
    b = fastbp.Network(sizes, seed=14)
    a.fit(X, y, 2, 5, 0.01, shuffle=False, optimizer="adam")
    b.fit(X, y, 1, 5, 0.01, shuffle=False, optimizer="adam")
    b.fit(X, y, 1, 5, 0.01, shuffle=False, optimizer="adam", reset_optimizer=False)
    np.testing.assert_allclose(b.get_parameters(), a.get_parameters(), rtol=1e-13)
    c = fastbp.Network(sizes, seed=14)
    c.fit(X, y, 1, 5, 0.01, shuffle=False, optimizer="adam")
    c.fit(X, y, 1, 5, 0.01, shuffle=False, optimizer="adam")  # reset: a different path
    assert not np.allclose(c.get_parameters(), a.get_parameters(), rtol=1e-6)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_lars_matches_reference(momentum):
    sizes = [6, 8, 4, 3]
    X, y = _data(32, sizes, seed=15)
    Y = one_hot(y, 3)
    net = fastbp.Network(sizes, cost="cross_entropy", seed=16)
    ref = ReferenceNetwork.from_fastbp(net)
    eta, trust, lmbda = 0.5, 0.01, 0.2
    net.fit(X, y, 2, 16, eta, lmbda=lmbda, momentum=momentum, lars=trust, shuffle=False)
    vel_w = [np.zeros_like(W) for W in ref.weights]
    vel_b = [np.zeros_like(b) for b in ref.biases]

    def lars(ref, sum_b, sum_w, m):
        for l, W in enumerate(ref.weights):
            g = sum_w[l] / m + (lmbda / len(X)) * W
            local = eta * trust * np.linalg.norm(W) / np.linalg.norm(g)
            vel_w[l] = momentum * vel_w[l] - local * g
            W += vel_w[l] if momentum else -local * g
            vel_b[l] = momentum * vel_b[l] - eta * sum_b[l] / m
            ref.biases[l] += vel_b[l] if momentum else -eta * sum_b[l] / m

    _reference_epochs(ref, X, Y, 16, 2, lars)
    np.testing.assert_allclose(net.get_parameters(), ref.parameters(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------- threads
_THREAD_SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np, fastbp
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(512, 40)).astype(np.{dtype})
    y = rng.integers(0, 10, size=512)
    net = fastbp.Network([40, 300, 10], dtype=np.{dtype}, seed=1)
    net.fit(X, y, 2, 256, 0.2, seed=2)
    print(json.dumps({{"theta": net.get_parameters().tolist()}}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_results_independent_of_thread_count(dtype):
    """Batches of 256 rows through a 300-wide layer: BLAS runs the products threaded."""
    out = {}
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT.format(dtype=dtype)],
                              capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        out[threads] = np.array(result["theta"])
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out["1"], out["2"], rtol=tol, atol=tol)


# ------------------------------------------------------------------ memory
_MEMORY_SCRIPT = textwrap.dedent("""
    import json, tracemalloc, numpy as np, fastbp

    def status_mb(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024

    def reset_peak_rss():
        # Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS,
        # so compilation's peak above does not count in the measurement.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    sizes = [784, 1024, 1024, 10]
    warm = fastbp.Network(sizes, dtype=np.float32, seed=0, cost="cross_entropy")
    rng = np.random.default_rng(0)
    Xw = rng.random((64, 784), dtype=np.float32)
    warm.fit(Xw, rng.integers(0, 10, 64), 1, 64, 0.1, chunk_size=16)  # compile first
    X = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    net = fastbp.Network(sizes, dtype=np.float32, seed=1, cost="cross_entropy")
    reset_peak_rss()
    before = status_mb("VmRSS")
    tracemalloc.start()
    net.fit(X, y, 1, 60000, 0.1, chunk_size=1000, seed=0)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = status_mb("VmHWM")
    print(json.dumps({"rss_before": before, "rss_peak": peak, "traced_peak": traced_peak,
                      "finite": bool(np.isfinite(net.get_parameters()).all())}))
""")


@pytest.mark.slow
def test_full_batch_step_memory_is_bounded_by_the_chunk():
    """One full-batch step on 60,000 x 784 float32, [784,1024,1024,10], chunk 1000: < 200 MB extra."""
    proc = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["finite"]
    # The data (188 MB) and parameters exist before the measurement starts;
    # what the step adds is the chunk buffers, gradient, spare parameters,
    # one-hot targets and the shuffle order.
    assert r["traced_peak"] < 200, r
    assert r["rss_peak"] - r["rss_before"] < 200, r
