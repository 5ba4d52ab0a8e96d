"""The fastbp command: train / evaluate / info, bad arguments, Ctrl-C.

Most tests call ``fastbp.cli.main(argv)`` in-process on the bundled digits
with few epochs; a few run ``python -m fastbp`` as a subprocess where the
process itself matters (exit status, no traceback, SIGINT).
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastbp
from fastbp import cli

pytest.importorskip("sklearn")  # the default data set, digits, comes with scikit-learn

def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def subprocess_env():
    """The environment for ``python -m fastbp``: the same fastbp as this process imports."""
    env = dict(os.environ)
    package_parent = str(Path(fastbp.__file__).resolve().parents[1])
    env["PYTHONPATH"] = package_parent + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short default run (digits, book chapter 1 settings, 3 epochs)."""
    out = tmp_path_factory.mktemp("run")
    code = cli.main(["train", "--epochs", "3", "--out", str(out), "--no-progress"])
    assert code == 0
    return out


# ------------------------------------------------------------------- train
def test_train_writes_model_history_and_plot(trained):
    for name in ("model.json", "history.json", "learning_curves.png"):
        assert (trained / name).is_file(), name
    assert (trained / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = json.loads((trained / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3]
    for key in ("train_cost", "eval_cost", "eval_accuracy", "examples_per_second",
                "train_seconds"):
        assert len(history[key]) == 3, key
    assert history["interrupted"] is False
    config = history["config"]
    assert config["sizes"] == [64, 30, 10]
    assert (config["activation"], config["cost"], config["batch_size"], config["eta"],
            config["init"]) == ("sigmoid", "quadratic", 10, 3.0, "large")
    net = fastbp.load(trained / "model.json")
    assert net.sizes == (64, 30, 10)


def test_default_run_is_the_book_chapter1_run(trained):
    """The CLI's model equals a direct Network.fit with the book's chapter 1 settings."""
    X_train, y_train, X_test, y_test = fastbp.datasets.load_digits(dtype=np.float64)
    net = fastbp.Network([64, 30, 10], activation="sigmoid", cost="quadratic", init="large",
                         seed=0)
    history = net.fit(X_train, y_train, epochs=3, batch_size=10, eta=3.0,
                      evaluation_data=(X_test, y_test), seed=0)
    saved = fastbp.load(trained / "model.json")
    for W_cli, W in zip(saved.weights, net.weights):
        np.testing.assert_allclose(W_cli, W, rtol=0, atol=1e-12)
    recorded = json.loads((trained / "history.json").read_text())
    np.testing.assert_allclose(recorded["eval_accuracy"], history["eval_accuracy"])
    np.testing.assert_allclose(recorded["train_cost"], history["train_cost"])


def test_train_prints_one_line_per_epoch(capsys, tmp_path):
    code, out, err = run_main(capsys, "train", "--epochs", "2", "--out", str(tmp_path),
                              "--no-progress", "--sizes", "16", "--seed", "3")
    assert code == 0
    lines = [l for l in out.splitlines() if l.startswith("epoch ")]
    assert len(lines) == 2
    for k, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {k}/2")
        assert "train cost" in line and "test accuracy" in line and "examples/s" in line
    history = json.loads((tmp_path / "history.json").read_text())
    last = lines[-1]
    assert f"{100 * history['eval_accuracy'][-1]:6.2f}%" in last
    assert f"{history['train_cost'][-1]:.6f}" in last
    assert history["config"]["sizes"] == [64, 16, 10]
    assert "Traceback" not in err


def test_same_seed_same_model(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert cli.main(["train", "--epochs", "2", "--seed", "5", "--out", str(out),
                         "--no-progress"]) == 0
    wa = json.loads((a / "model.json").read_text())["weights"]
    wb = json.loads((b / "model.json").read_text())["weights"]
    assert wa == wb


def test_cross_entropy_float32_lmbda(tmp_path):
    code = cli.main(["train", "--epochs", "2", "--cost", "cross_entropy", "--eta", "0.5",
                     "--lmbda", "1", "--dtype", "float32", "--sizes", "64,20,10",
                     "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    net = fastbp.load(tmp_path / "model.json")
    assert net.dtype == np.float32 and net.cost_function.name == "cross_entropy"
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["config"]["init"] == "default"
    assert history["eval_accuracy"][-1] > 0.5


def test_log_likelihood_gets_softmax_output(tmp_path):
    code = cli.main(["train", "--epochs", "1", "--cost", "log_likelihood", "--activation",
                     "relu", "--eta", "0.1", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    net = fastbp.load(tmp_path / "model.json")
    assert [a.name for a in net.activations] == ["relu", "softmax"]


def _write_npz(path, seed, n_features=6, n_classes=3):
    """A tiny separable 3-class problem as an .npz (uint8 features)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, 300)
    X = rng.integers(0, 60, (300, n_features)).astype(np.uint8)
    X[np.arange(300), y] += 180
    np.savez(path, X_train=X[:240], y_train=y[:240], X_test=X[240:], y_test=y[240:])


def test_train_on_npz_path_takes_sizes_from_data(capsys, tmp_path):
    data = tmp_path / "toy.npz"
    _write_npz(data, seed=1)
    out = tmp_path / "out"
    code, stdout, _ = run_main(capsys, "train", "--dataset", str(data), "--epochs", "20",
                               "--out", str(out), "--no-progress")
    assert code == 0
    net = fastbp.load(out / "model.json")
    assert net.sizes == (6, 30, 3)
    history = json.loads((out / "history.json").read_text())
    assert history["eval_accuracy"][-1] > 0.9
    # evaluate finds the data set in history.json beside the model
    code, stdout, _ = run_main(capsys, "evaluate", str(out / "model.json"))
    assert code == 0 and str(data) in stdout
    assert f"{100 * history['eval_accuracy'][-1]:.2f}%" in stdout


def test_train_on_idx_folder(tmp_path):
    from test_datasets import make_idx_folder
    make_idx_folder(tmp_path / "idx", seed=2, n_train=30, n_test=10, rows=4, cols=5,
                    n_classes=4)
    code = cli.main(["train", "--dataset", str(tmp_path / "idx"), "--epochs", "1",
                     "--sizes", "20,8,4", "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 0
    assert fastbp.load(tmp_path / "out" / "model.json").sizes == (20, 8, 4)


# ---------------------------------------------------------------- evaluate
def test_evaluate_saved_model(capsys, trained):
    code, out, err = run_main(capsys, "evaluate", str(trained / "model.json"), "--dataset",
                              "digits")
    assert code == 0
    history = json.loads((trained / "history.json").read_text())
    acc = history["eval_accuracy"][-1]
    assert f"accuracy {100 * acc:.2f}% ({round(acc * 297)}/297)" in out
    assert f"{history['eval_cost'][-1]:.6f}" in out


def test_evaluate_wrong_dataset_for_model(capsys, trained, tmp_path):
    data = tmp_path / "toy.npz"
    _write_npz(data, seed=3)
    code, out, err = run_main(capsys, "evaluate", str(trained / "model.json"), "--dataset",
                              str(data))
    assert code == 2
    assert "64 inputs" in err and len(err.strip().splitlines()) == 1


# -------------------------------------------------------------------- info
def test_info(capsys):
    import numba
    code, out, err = run_main(capsys, "info")
    assert code == 0
    for text in (f"fastbp        {fastbp.__version__}", f"numpy         {np.__version__}",
                 f"numba         {numba.__version__}", "scipy", "python",
                 f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}", "numba cache",
                 str(cli.numba_cache_dir())):
        assert text in out, text


def test_numba_cache_dir_follows_environment(monkeypatch, tmp_path):
    import numba
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    assert cli.numba_cache_dir() == tmp_path
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    assert cli.numba_cache_dir() == Path(fastbp.__file__).resolve().parent / "__pycache__"


# ----------------------------------------------------------- bad arguments
@pytest.mark.parametrize("argv, needle", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "two"], "--epochs"),
    (["train", "--eta", "-1"], "--eta"),
    (["train", "--eta", "nan"], "--eta"),
    (["train", "--lmbda", "-0.5"], "--lmbda"),
    (["train", "--batch-size", "1.5"], "--batch-size"),
    (["train", "--sizes", "784,30,10"], "64 inputs and 10 classes"),
    (["train", "--sizes", "64,30,9"], "64 inputs and 10 classes"),
    (["train", "--sizes", "a,b"], "--sizes"),
    (["train", "--sizes", "30,0"], "--sizes"),
    (["train", "--activation", "swish"], "--activation"),
    (["train", "--cost", "hinge"], "--cost"),
    (["train", "--dtype", "float16"], "--dtype"),
    (["train", "--dataset", "no-such-data"], "no-such-data"),
    (["train", "--cost", "log_likelihood", "--output-activation", "sigmoid"], "softmax"),
    (["evaluate", "/no/such/model.json"], "no such file"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_one_line_exit_2(capsys, tmp_path, argv, needle):
    code, out, err = run_main(capsys, *argv, *(["--out", str(tmp_path)] if argv[:1] == ["train"]
                                               else []))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastbp") and ": error: " in lines[0]
    assert needle in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "model.json").exists()


def test_bad_model_file(capsys, tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"sizes": [2, 1]')
    code, out, err = run_main(capsys, "evaluate", str(bad))
    assert code == 2 and "not valid JSON" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_bad_arguments_in_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "fastbp", "train", "--epochs", "-3"],
                          capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "fastbp train: error: argument --epochs: expected a positive integer, found -3 "
        "(see 'fastbp train --help')"]
    assert proc.stdout == ""


def test_help_and_version(capsys):
    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and fastbp.__version__ in out
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0 and "--batch-size" in out
    assert "X_train, y_train, X_test, y_test" in " ".join(out.split())


# ------------------------------------------------------------------ Ctrl-C
def test_interrupt_mid_epoch_saves_what_was_trained(capsys, tmp_path, monkeypatch):
    """A KeyboardInterrupt between mini-batch segments of epoch 2 (as Ctrl-C raises it)."""
    real_call = cli._Progress.__call__

    def interrupting(self, epoch, done, total):
        real_call(self, epoch, done, total)
        if epoch == 1 and done >= total // 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._Progress, "__call__", interrupting)
    code, out, err = run_main(capsys, "train", "--epochs", "5", "--out", str(tmp_path),
                              "--no-progress")
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["interrupted"] is True
    assert history["epoch"] == [1]
    assert 0 < history["batches_in_unfinished_epoch"] < 150
    assert (tmp_path / "learning_curves.png").is_file()
    net = fastbp.load(tmp_path / "model.json")
    # the saved network is the one after epoch 1 plus part of epoch 2, not the initial one
    X_train, y_train, X_test, y_test = fastbp.datasets.load_digits(dtype=np.float64)
    one = fastbp.Network([64, 30, 10], init="large", seed=0)
    one.fit(X_train, y_train, epochs=1, batch_size=10, eta=3.0, seed=0)
    assert not np.allclose(net.weights[0], one.weights[0])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_in_a_real_process(tmp_path):
    """SIGINT after the first epoch line: exit 130, and model.json and history.json saved."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastbp", "train", "--epochs", "100000", "--sizes", "200",
         "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
        # a shell may start background jobs with SIGINT ignored; undo that for the child
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:
            if line.startswith("epoch "):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    history = json.loads((out / "history.json").read_text())
    assert history["interrupted"] is True and len(history["epoch"]) >= 1
    net = fastbp.load(out / "model.json")
    assert net.sizes == (64, 200, 10)


def test_distributed_takes_the_engines_options(capsys, tmp_path):
    # One process (no mpiexec): the same engine and model as a plain run.
    argv = ["train", "--epochs", "2", "--optimizer", "adam", "--eta", "0.01",
            "--lr-schedule", "cosine", "--warmup-epochs", "1", "--no-progress"]
    code, out, err = run_main(capsys, *argv, "--distributed", "--out", str(tmp_path / "d"))
    assert code == 0, err
    assert "distributed: 1 rank(s)" in out
    code, _, err = run_main(capsys, *argv, "--out", str(tmp_path / "p"))
    assert code == 0, err
    with open(tmp_path / "d" / "model.json") as a, open(tmp_path / "p" / "model.json") as b:
        assert json.load(a)["weights"] == json.load(b)["weights"]
