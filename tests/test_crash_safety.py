"""Inputs that could crash the interpreter if they reached a kernel, run in a subprocess.

Numba does not check bounds: an array of the wrong shape, layout or dtype that
reaches a compiled kernel can read or write memory it should not and kill
the process (SIGSEGV). Each case below feeds such an input to the public API
inside a child Python process and reports how it ended. A case passes when
the child survives (no signal) and the call either raised one of the
documented exceptions (TypeError, ValueError, fastbp.DivergenceError) or
returned the right result, compared with the same call on a clean,
C-contiguous float64 copy of the data.

The cases run in a child process, each announced before it starts; if the
child dies from a signal, the case it was running is recorded as crashed and
the remaining ones run in a new child.

The end of the file checks that ``kill -9`` in the middle of a save leaves
the previous model file intact (a short run of benchmarks/kill_during_save.py).
"""
import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import fastbp

pytestmark = pytest.mark.slow  # crash-safety subprocesses; run by .ci/run (pytest -m slow)

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
CASES = {}


def case(*allowed):
    """Register a case; ``allowed``: outcomes that pass ("ok" or exception class names)."""
    def register(fn):
        CASES[fn.__name__] = (fn, set(allowed))
        return fn
    return register


DOCUMENTED = ("TypeError", "ValueError", "DivergenceError")


# ----------------------------------------------------------------------------- data and references


def data(n=13, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 4))
    y = rng.integers(0, 3, size=n)
    return X, y, np.eye(3)[y]


def net(seed=0, **kwargs):
    return fastbp.Network([4, 5, 3], seed=seed, **kwargs)


def everything(Xv, Yv, clean_X, clean_Y, exact=True, **net_kwargs):
    """Run each entry point on (Xv, Yv) and on the clean copies; assert equal results."""
    check = np.testing.assert_array_equal if exact else (
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12))
    a, b = net(**net_kwargs), net(**net_kwargs)
    check(a.feedforward(Xv), b.feedforward(clean_X))
    check(a.predict(Xv), b.predict(clean_X))
    check(a.cost(Xv, Yv, lmbda=0.1), b.cost(clean_X, clean_Y, lmbda=0.1))
    check(a.accuracy(Xv, Yv), b.accuracy(clean_X, clean_Y))
    for ga, gb in zip(a.gradients(Xv, Yv), b.gradients(clean_X, clean_Y)):
        for u, v in zip(ga, gb):
            check(u, v)
    ta, tb = a.trace(Xv, Yv), b.trace(clean_X, clean_Y)
    for key in ("z", "delta"):
        for u, v in zip(ta[key], tb[key]):
            check(u, v)
    a.fit(Xv, Yv, 2, 4, 0.5, evaluation_data=(Xv, Yv), seed=1, momentum=0.5)
    b.fit(clean_X, clean_Y, 2, 4, 0.5, evaluation_data=(clean_X, clean_Y), seed=1,
          momentum=0.5)
    check(a.get_parameters(), b.get_parameters())


# ------------------------------------------------------------------------------ layouts and dtypes


@case("ok")
def fortran_order_X_and_Y():
    X, y, Y = data()
    everything(np.asfortranarray(X), np.asfortranarray(Y), X, Y)


@case("ok")
def negative_strides():
    X, y, Y = data()
    everything(X[::-1, ::-1], Y[::-1], np.ascontiguousarray(X[::-1, ::-1]), Y[::-1].copy())


@case("ok")
def every_other_row_and_column():
    X, y, Y = data(26)
    wide = np.repeat(X, 2, axis=1)  # (26, 8): every other column is X's
    everything(wide[::2, ::2], Y[::2], X[::2].copy(), Y[::2].copy())


@case("ok")
def zero_strided_broadcast_rows():
    X, y, Y = data()
    row = np.broadcast_to(X[3], (13, 4))  # 13 rows sharing one row's memory, read-only
    everything(row, Y, np.tile(X[3], (13, 1)), Y)


@case("ok")
def overlapping_rows_via_as_strided():
    X, y, Y = data(16)
    flat = X.ravel()
    view = np.lib.stride_tricks.as_strided(flat, shape=(13, 4), strides=(8, 8),
                                           writeable=False)  # row i = flat[i:i+4]
    clean = np.array([flat[i:i + 4] for i in range(13)])
    everything(view, Y[:13], clean, Y[:13].copy())


@case("ok")
def read_only_inputs():
    X, y, Y = data()
    Xr, Yr = X.copy(), Y.copy()
    Xr.flags.writeable = False
    Yr.flags.writeable = False
    everything(Xr, Yr, X, Y)


@case("ok")
def big_endian_and_float32_and_float16_inputs():
    X, y, Y = data()
    everything(X.astype(">f8"), Y.astype(">f8"), X, Y)
    X16 = X.astype(np.float16)
    everything(X16, Y.astype(np.float32), X16.astype(np.float64), Y)
    Xl = X.astype(np.longdouble)
    everything(Xl, Y, Xl.astype(np.float64), Y)


@case("ok")
def integer_and_bool_inputs_and_labels():
    X, y, Y = data()
    Xi = np.round(X * 5).astype(np.int16)
    everything(Xi, y.astype(np.uint8), Xi.astype(np.float64), Y)
    everything(X > 0, y.astype(np.int32), (X > 0).astype(np.float64), Y)


@case("ok")
def memmapped_inputs_read_only():
    X, y, Y = data()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "X.dat")
        np.asarray(X).tofile(path)
        Xm = np.memmap(path, dtype=np.float64, mode="r", shape=(13, 4))
        everything(Xm, Y, X, Y)
        images = np.arange(13 * 4, dtype=np.uint8).reshape(13, 4) * 5
        images.tofile(path + "8")
        X8 = np.memmap(path + "8", dtype=np.uint8, mode="r", shape=(13, 4))
        a = net(input_scale=1 / 255)
        b = net()
        np.testing.assert_allclose(a.feedforward(X8), b.feedforward(images / 255), rtol=1e-13)
        a.fit(X8, Y, 1, 4, 0.5, seed=0)
        b.fit(images / 255, Y, 1, 4, 0.5, seed=0)
        np.testing.assert_allclose(a.get_parameters(), b.get_parameters(), rtol=1e-12)
        del Xm, X8


@case("ok")
def matrix_and_masked_array_inputs():
    X, y, Y = data()
    everything(np.asmatrix(X), np.asmatrix(Y), X, Y)
    masked = np.ma.masked_array(X, mask=X > 0.5)  # the mask is ignored, values are used
    everything(masked, Y, X, Y)


@case("ValueError")
def dtype_changed_in_place_to_bytes():
    X, y, Y = data()
    X.dtype = np.uint8  # the same memory seen as (13, 32) bytes
    net().feedforward(X)


@case("ok")
def dtype_changed_in_place_to_int64():
    X, y, Y = data()
    Xi = X.copy()
    Xi.dtype = np.int64  # (13, 4) of huge integers: finite inputs, saturated outputs
    out = net().feedforward(Xi)
    assert out.shape == (13, 3) and np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, net().feedforward(Xi.astype(np.float64)))


# ------------------------------------------------------------------------ the network's own arrays


@case("ok")
def weight_views_reshaped_and_retyped_in_place():
    X, y, Y = data()
    a, b = net(), net()
    w = a.weights[0]
    w.shape = (20,)                 # a contiguous view can be reshaped in place
    v = a.biases[1]
    v.dtype = np.int32              # and reinterpreted: the kernels use the flat buffer
    np.testing.assert_array_equal(a.feedforward(X), b.feedforward(X))
    for ga, gb in zip(a.gradients(X, Y), b.gradients(X, Y)):
        for u, t in zip(ga, gb):
            np.testing.assert_array_equal(u, t)
    a.fit(X, Y, 2, 5, 0.5, seed=0)
    b.fit(X, Y, 2, 5, 0.5, seed=0)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    with tempfile.TemporaryDirectory() as folder:
        a.save(os.path.join(folder, "m.json"))
        c = fastbp.load(os.path.join(folder, "m.json"))
    np.testing.assert_array_equal(c.get_parameters(), b.get_parameters())


@case("ok")
def parameters_assigned_from_odd_arrays():
    X, y, Y = data()
    rng = np.random.default_rng(3)
    W0 = rng.standard_normal((5, 4))
    W1 = rng.standard_normal((3, 5))
    b0, b1 = rng.standard_normal(5), rng.standard_normal(3)
    a, b = net(), net()
    a.weights = [np.asfortranarray(W0), W1[::-1, ::-1][::-1, ::-1].astype(">f8")]
    a.biases = [np.broadcast_to(b0, (5,)), b1.reshape(3, 1).astype(np.float32)]
    b.weights = [W0, W1]
    b.biases = [b0, b1.astype(np.float32).astype(np.float64)]
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    np.testing.assert_array_equal(a.feedforward(X), b.feedforward(X))


@case("ValueError")
def nan_written_into_a_weight_view():
    X, y, Y = data()
    a = net()
    a.weights[1][2, 4] = np.inf
    a.fit(X, Y, 1, 5, 0.5)


# --------------------------------------------------------------------------------- sizes of things


@case("ok")
def batch_size_far_larger_than_n():
    X, y, Y = data()
    results = []
    for batch in (13, 10**12, 2**63 - 1):
        a = net()
        a.fit(X, Y, 2, batch, 0.5, seed=0)
        results.append(a.get_parameters())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


@case("ValueError")
def batch_size_beyond_int64():
    X, y, Y = data()
    net().fit(X, Y, 1, 2**63, 0.5)


@case("ok")
def chunk_size_larger_than_the_batch_or_n():
    X, y, Y = data()
    a, b = net(), net()
    a.fit(X, Y, 2, 5, 0.5, seed=0, chunk_size=10**9)
    b.fit(X, Y, 2, 5, 0.5, seed=0)
    np.testing.assert_allclose(a.get_parameters(), b.get_parameters(), rtol=1e-13)
    np.testing.assert_allclose(a.feedforward(X, chunk_size=10**9), b.feedforward(X),
                               rtol=1e-13)
    for ga, gb in zip(a.gradients(X, Y, chunk_size=2**40), b.gradients(X, Y)):
        for u, t in zip(ga, gb):
            np.testing.assert_allclose(u, t, rtol=1e-12, atol=1e-15)


@case("ok")
def chunk_size_one():
    X, y, Y = data()
    a, b = net(), net()
    a.fit(X, Y, 2, 5, 0.5, seed=0, chunk_size=1)
    b.fit(X, Y, 2, 5, 0.5, seed=0)
    np.testing.assert_allclose(a.get_parameters(), b.get_parameters(), rtol=1e-12)


@case("ok")
def no_rows_and_one_row():
    X, y, Y = data()
    a = net()
    assert a.feedforward(np.zeros((0, 4)), chunk_size=3).shape == (0, 3)
    assert a.predict(np.zeros((0, 4))).shape == (0,)
    np.testing.assert_array_equal(a.feedforward(X[5]), a.feedforward(X)[5])
    assert a.predict(X[5]) == a.predict(X)[5]
    a.fit(X[:1], Y[:1], 3, 7, 0.5)


@case("ok")
def width_one_networks():
    X, y, Y = data()
    x1 = X[:, :1]
    for kwargs, target in ((dict(), (x1 > 0) * 1.0),
                           (dict(output_activation="softmax", cost="log_likelihood"),
                            np.zeros(13, int)),  # one class: label 0 throughout
                           (dict(cost="cross_entropy"), (x1 + 1) / 2)):
        a = fastbp.Network([1, 1], seed=0, **kwargs)
        a.fit(x1, target, 2, 4, 0.5, seed=0)
        assert np.all(np.isfinite(a.get_parameters()))
        assert a.feedforward(x1).shape == (13, 1)
        a.gradients(x1, target)
        a.cost(x1, target)


@case("ok", "DivergenceError")
def huge_but_finite_inputs():
    X, y, Y = data()
    a = net()
    assert a.feedforward(np.full((3, 4), 1e308)).shape == (3, 3)  # may overflow to NaN
    a.fit(np.full((13, 4), 1e308), Y, 2, 5, 0.5)


@case("DivergenceError")
def eta_so_large_that_training_diverges():
    X, y, Y = data()
    a = net(activation="linear", output_activation="linear")
    try:
        a.fit(X * 1e150, Y, 3, 5, 1e300)
    finally:
        assert np.all(np.isfinite(a.get_parameters()))  # the last finite step is kept


# ----------------------------------------------------------------------------- mutation during fit


def _fit_with_callback(mutate):
    X, y, Y = data()
    a, b = net(), net()
    Xa = X.copy()

    def callback(network, epoch, history):
        if epoch == 0:
            mutate(Xa)
        return False

    a.fit(Xa, Y, 3, 5, 0.5, seed=0, callback=callback)
    b.fit(X, Y, 3, 5, 0.5, seed=0)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())


@case("ok", "ValueError")
def x_reshaped_by_a_callback_during_fit():
    def reshape(Xa):
        Xa.shape = (26, 2)
    _fit_with_callback(reshape)


@case("ok", "ValueError")
def x_retyped_by_a_callback_during_fit():
    def retype(Xa):
        Xa.dtype = np.uint8
    _fit_with_callback(retype)


@case("ok", "ValueError", "DivergenceError")
def x_values_changed_by_a_callback_are_used_or_refused():
    """Values changed in place (same shape and dtype) are legitimately seen: NaN is refused."""
    X, y, Y = data()

    def poison(network, epoch, history):
        X[0, 0] = np.nan
        return False

    a = net()
    try:
        a.fit(X, Y, 3, 5, 0.5, seed=0, callback=poison)
    finally:
        assert np.all(np.isfinite(a.get_parameters()))


@case("ok")
def two_networks_trained_in_two_threads():
    """Concurrent fits from two threads, large enough for the parallel (threaded) kernels."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(4000, 4))
    y = rng.integers(0, 3, size=4000)
    nets = [fastbp.Network([4, 64, 3], seed=s) for s in range(2)]
    refs = [fastbp.Network([4, 64, 3], seed=s) for s in range(2)]

    def work(n):
        for _ in range(3):
            n.feedforward(X)
            n.fit(X, y, 1, 4000, 0.1, seed=0)

    threads = [threading.Thread(target=work, args=(n,)) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n, r in zip(nets, refs):
        work(r)
        np.testing.assert_allclose(n.get_parameters(), r.get_parameters(), rtol=1e-10,
                                   atol=1e-13)


# ------------------------------------------------------------------------ user functions and files


def _breaks_above_3(z):
    if z > 3.0:
        return 1.0 / (z - z)
    return z


def _one(z):
    return 1.0


@case("DivergenceError", "ValueError")
def custom_activation_raising_inside_the_kernel():
    act = fastbp.Activation("breaks", _breaks_above_3, _one, check=False)
    a = fastbp.Network([2, 3, 1], activation=act, output_activation="sigmoid", seed=0)
    X = np.array([[10.0, 10.0], [0.1, 0.1]])
    out = a.feedforward(X)
    if not np.all(np.isfinite(out)):
        raise ValueError("non-finite output, as it should be")
    a.fit(X, np.array([[1.0], [0.0]]), 2, 1, 0.1)


def _tampered_checkpoint(folder, change):
    X, y, Y = data()
    path = os.path.join(folder, "c.npz")
    net().fit(X, Y, 4, 5, 0.5, momentum=0.5, seed=0, checkpoint=path,
              callback=lambda network, epoch, history: epoch == 1)  # stops after 2 of 4
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    change(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path, X, Y


def _resume(change):
    with tempfile.TemporaryDirectory() as folder:
        path, X, Y = _tampered_checkpoint(folder, change)
        a = net()
        a.fit(X, Y, 4, 5, 0.5, momentum=0.5, seed=0, checkpoint=path, resume=True)


@case("ValueError")
def checkpoint_with_negative_epochs_done():
    _resume(lambda arrays, meta: meta.update(epochs_done=-5))


@case("ValueError")
def checkpoint_with_nan_momentum():
    _resume(lambda arrays, meta: arrays.update(v1=np.full_like(arrays["v1"], np.nan)))


@case("ValueError")
def checkpoint_with_a_short_parameter_vector():
    _resume(lambda arrays, meta: arrays.update(theta=arrays["theta"][:-1]))


@case("ValueError")
def checkpoint_with_a_long_momentum_vector():
    _resume(lambda arrays, meta: arrays.update(v1=np.zeros(arrays["v1"].size + 100)))


@case("ValueError")
def checkpoint_with_a_damaged_random_state():
    _resume(lambda arrays, meta: meta["rng"].update(state={"state": "x", "inc": -1}))


@case("ValueError")
def model_file_whose_sizes_promise_huge_arrays():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.json")
        content = fastbp.serialization.network_to_dict(net())
        content["sizes"] = [2**30, 2**30, 3]  # valid widths; the arrays would take 8 EiB
        with open(path, "w") as f:
            json.dump(content, f)
        fastbp.load(path)


# ------------------------------------------------------------------------------- the child process


def child_main(names):
    """Run the named cases, printing '@start name' before and one JSON line after each."""
    import warnings
    warnings.simplefilter("ignore")
    for name in names:
        fn, allowed = CASES[name]
        print(f"@start {name}", flush=True)
        try:
            fn()
            outcome, message = "ok", ""
        except AssertionError as exc:
            outcome, message = "wrong result", str(exc)[:500]
        except Exception as exc:  # judged by the parent
            outcome, message = type(exc).__name__, str(exc)[:500]
        print("@result " + json.dumps({"case": name, "outcome": outcome, "message": message}),
              flush=True)


def run_children(names, timeout=600, child=None):
    """Run cases in child processes, a new child after each one that dies; return results.

    ``child``: the command that runs the named cases (default: this file with --child).
    """
    child = child or [sys.executable, str(HERE), "--child"]
    results = {}
    remaining = list(names)
    while remaining:
        proc = subprocess.run([*child, *remaining],
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        started = None
        for line in proc.stdout.splitlines():
            if line.startswith("@start "):
                started = line.split(" ", 1)[1]
            elif line.startswith("@result "):
                result = json.loads(line.split(" ", 1)[1])
                results[result["case"]] = result
                started = None
        if proc.returncode < 0:
            crashed = started or remaining[0]
            results[crashed] = {"case": crashed, "outcome": f"signal {-proc.returncode} "
                                f"({signal.Signals(-proc.returncode).name})",
                                "message": proc.stderr[-2000:]}
        elif proc.returncode != 0:
            for name in remaining:
                results.setdefault(name, {"case": name, "outcome": f"exit {proc.returncode}",
                                          "message": proc.stderr[-2000:]})
        remaining = [n for n in remaining if n not in results]
    return results


def run_all():
    """Every case, in a shared child (a new one after each crash)."""
    return run_children(list(CASES))


@pytest.fixture(scope="module")
def child_results():
    return run_all()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_no_crash_and_the_documented_outcome(name, child_results):
    result = child_results[name]
    allowed = CASES[name][1]
    assert not result["outcome"].startswith("signal"), \
        f"the child process died: {result['outcome']}\n{result['message']}"
    assert result["outcome"] in allowed, \
        f"{name}: expected {sorted(allowed)}, got {result['outcome']}: {result['message']}"


_FAKE_CHILD = """
import json, os, signal, sys
for name in sys.argv[1:]:
    print("@start " + name, flush=True)
    if name == "boom":
        os.kill(os.getpid(), signal.SIGSEGV)
    print("@result " + json.dumps({"case": name, "outcome": "ok", "message": ""}), flush=True)
"""


@pytest.mark.slow
def test_a_crash_in_the_child_is_detected(tmp_path):
    """The harness itself: a child killed by a signal is reported as crashed, not passed."""
    results = run_children(["before", "boom", "after"], timeout=60,
                           child=[sys.executable, "-c", _FAKE_CHILD])
    assert results["boom"]["outcome"] == f"signal {int(signal.SIGSEGV)} (SIGSEGV)"
    assert results["before"]["outcome"] == "ok"
    assert results["after"]["outcome"] == "ok"  # run again in a new child after the crash


# ------------------------------------------------------------------------------------- atomic save


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("kill_during_save",
                                                  ROOT / "benchmarks" / "kill_during_save.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kill_9_during_save_leaves_the_previous_file_intact(tmp_path):
    bench = _load_benchmark()
    summary = bench.run(kills=4, sizes=(784, 96, 10), folder=tmp_path, seed=1, verbose=False)
    # every child was running when SIGKILL came, and the signal is what ended it
    assert summary["attempts"] == 4 and summary["kills"] == 4, summary["problems"]
    assert summary["during_save"] >= 1, summary  # at least one save was really interrupted
    assert summary["intact"] == 4, summary["problems"]
    assert summary["unexpected_files"] == 0
    # the check can fail: a file cut short is caught
    path = tmp_path / "model.json"
    text = path.read_text()
    path.write_text(text[:len(text) // 2])
    k, problem = bench.check_file(path, (784, 96, 10))
    assert problem is not None and "load failed" in problem


@pytest.mark.slow
def test_kill_during_save_counts_only_real_kills(tmp_path, monkeypatch):
    """A child that exits on its own, before the SIGKILL, is a problem and not a kill."""
    bench = _load_benchmark()
    fake_python = tmp_path / "fake_python"
    fake_python.write_text("#!/bin/sh\necho ready\nexit 3\n")
    fake_python.chmod(0o755)
    children = []

    def popen(*args, **kwargs):
        children.append(subprocess.Popen(*args, **kwargs))
        return children[-1]

    # the "delay" before the kill lasts until the child has exited
    monkeypatch.setattr(bench, "subprocess", SimpleNamespace(Popen=popen, PIPE=subprocess.PIPE))
    monkeypatch.setattr(bench, "time", SimpleNamespace(perf_counter=time.perf_counter,
                                                       sleep=lambda s: children[-1].wait()))
    folder = tmp_path / "work"
    folder.mkdir()
    summary = bench.run(kills=2, sizes=(4, 3), folder=folder, seed=0, verbose=False,
                        python=str(fake_python))
    assert [c.returncode for c in children] == [3, 3]
    assert summary["attempts"] == 2
    assert summary["kills"] == 0 and summary["during_save"] == 0 and summary["intact"] == 0
    assert len(summary["problems"]) == 2
    assert all("not killed by SIGKILL (exit status 3)" in p for p in summary["problems"])


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "m.json"
    fastbp.Network([3, 2], seed=0).save(path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    fastbp.Network([3, 2], seed=1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_save_that_fails_midway_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    old = fastbp.Network([3, 2], seed=0)
    old.save(path)
    before = path.read_bytes()

    def interrupted_fsync(fd):
        raise KeyboardInterrupt  # Ctrl-C after the data is written, before the rename

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        fastbp.Network([3, 2], seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_main(sys.argv[2:])
    else:
        for name, result in sorted(run_all().items()):
            print(f"{result['outcome']:<16} {name}  {result['message'][:150]!r}")
