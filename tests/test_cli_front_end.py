"""fastbp train as a full front end (issues 16 and 18).

Every Network.fit option on the command line, config.json and --config
replay, --resume, run folders, warnings as one line, the broken pipe, the
progress bar, evaluate's confusion matrix. Small data (digits), few epochs.
"""
import io
import json
import os
import re
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastbp
from fastbp import cli

from test_cli import run_main, subprocess_env

pytest.importorskip("sklearn")  # digits come with scikit-learn

QUIET = ("--no-progress",)


@pytest.fixture(scope="module")
def digits():
    return fastbp.datasets.load_digits(dtype=np.float64)


def train(tmp_path, name, *argv):
    out = tmp_path / name
    code = cli.main(["train", *argv, "--out", str(out), *QUIET])
    return code, out


def model_bytes(folder):
    return (folder / "model.json").read_bytes()


# ------------------------------------------------------- every fit option
@pytest.mark.parametrize("argv, network, fit", [
    (["--momentum", "0.9", "--nesterov", "--regularization", "l1", "--lmbda", "0.5",
      "--eta", "0.5"],
     {}, dict(momentum=0.9, nesterov=True, regularization="l1", lmbda=0.5, eta=0.5)),
    (["--optimizer", "adam", "--eta", "0.01", "--beta1", "0.8", "--beta2", "0.99",
      "--epsilon", "1e-6", "--activation", "relu", "--cost", "log_likelihood"],
     dict(activation="relu", output_activation="softmax", cost="log_likelihood",
          init="default"),
     dict(optimizer="adam", eta=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6)),
    (["--lr-schedule", "cosine", "--warmup-epochs", "0.5", "--base-batch-size", "5",
      "--lars", "0.001", "--batch-size", "20"],
     {}, dict(lr_schedule="cosine", warmup_epochs=0.5, base_batch_size=5, lars=0.001,
              batch_size=20)),
    (["--lr-schedule", "step", "--decay-epochs", "1", "--decay-factor", "0.5",
      "--chunk-size", "3", "--no-shuffle", "--dtype", "float32"],
     dict(dtype=np.float32),
     dict(lr_schedule="step", decay_epochs=1, decay_factor=0.5, chunk_size=3, shuffle=False)),
], ids=["momentum-nesterov-l1", "adam", "schedule-large-batch", "step-chunk-noshuffle"])
def test_fit_options_reach_fit(tmp_path, digits, argv, network, fit):
    """Each group of flags gives the model of the same Network.fit call, bit for bit."""
    code, out = train(tmp_path, "run", "--epochs", "2", "--seed", "4", *argv)
    assert code == 0
    X_train, y_train, X_test, y_test = digits
    kwargs = dict(activation="sigmoid", cost="quadratic", init="large", seed=4)
    kwargs.update(network)
    dtype = kwargs.pop("dtype", np.float64)
    net = fastbp.Network([64, 30, 10], dtype=dtype, **kwargs)
    fit_kwargs = dict(epochs=2, batch_size=10, eta=3.0, seed=4)
    fit_kwargs.update(fit)
    net.fit(X_train.astype(dtype), y_train, evaluation_data=(X_test.astype(dtype), y_test),
            **fit_kwargs)
    saved = fastbp.load(out / "model.json")
    for W_cli, W in zip(saved.weights + saved.biases, net.weights + net.biases):
        np.testing.assert_array_equal(W_cli, W)
    options = json.loads((out / "config.json").read_text())["options"]
    for key, value in fit.items():
        assert options[key] == value, key


def test_threads_option(tmp_path):
    pytest.importorskip("threadpoolctl")
    code, out = train(tmp_path, "run", "--epochs", "1", "--threads", "1")
    assert code == 0
    assert json.loads((out / "config.json").read_text())["options"]["threads"] == 1


def test_help_groups_and_examples(capsys):
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0
    for group in ("data and network:", "momentum and Adam:",
                  "learning-rate schedules and large mini-batches:", "performance:",
                  "runs, configurations and checkpoints:", "display:"):
        assert group in out, group
    for flag in ("--momentum", "--nesterov", "--optimizer", "--beta1", "--beta2", "--epsilon",
                 "--regularization", "--lr-schedule", "--warmup-epochs", "--base-batch-size",
                 "--decay-epochs", "--decay-factor", "--lars", "--chunk-size", "--threads",
                 "--checkpoint-every", "--resume", "--config", "--no-shuffle",
                 "--output-activation", "--init", "--no-progress", "--distributed"):
        assert flag in out, flag
    assert "chapter 1" in out and "chapter 3" in out and "examples:" in out
    assert "--cost cross_entropy --eta 0.1 --lmbda 5" in out


@pytest.mark.parametrize("argv, needle", [
    (["--momentum", "1"], "argument --momentum: expected a number < 1.0, found 1.0"),
    (["--momentum", "x"], "argument --momentum: expected a number, found 'x'"),
    (["--beta1", "-0.1"], "argument --beta1"),
    (["--beta2", "1.5"], "argument --beta2"),
    (["--epsilon", "0"], "argument --epsilon: expected a number > 0.0"),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
    (["--regularization", "l3"], "argument --regularization"),
    (["--lr-schedule", "linear"], "argument --lr-schedule"),
    (["--lr-schedule", "step"], "--lr-schedule step needs --decay-epochs"),
    (["--decay-epochs", "0"], "argument --decay-epochs: expected an integer >= 1"),
    (["--decay-factor", "0"], "argument --decay-factor"),
    (["--warmup-epochs", "-1"], "argument --warmup-epochs"),
    (["--base-batch-size", "0"], "argument --base-batch-size"),
    (["--lars", "-0.001"], "argument --lars"),
    (["--chunk-size", "0"], "argument --chunk-size"),
    (["--threads", "0"], "argument --threads"),
    (["--checkpoint-every", "0"], "argument --checkpoint-every"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0, found -1"),
    (["--config", "/no/such/config.json"], "--config: no such file"),
    (["--resume", "/no/such/run"], "--resume /no/such/run: no such run folder"),
])
def test_bad_new_options_one_line_exit_2(capsys, tmp_path, argv, needle):
    code, out, err = run_main(capsys, "train", *argv, "--out", str(tmp_path / "run"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastbp train: error: ")
    assert needle in lines[0]
    assert not (tmp_path / "run").exists()


def test_bad_config_files(capsys, tmp_path):
    bad = tmp_path / "config.json"
    for text, needle in [('{"options": ', "not valid JSON"),
                         ('{"format": "other", "options": {}}', "not a fastbp train config"),
                         ('{"format": "fastbp-train-config", "options": {"etaa": 1}}',
                          "unknown option(s) etaa"),
                         ('{"format": "fastbp-train-config", "options": {"eta": -1}}',
                          "option eta: expected a finite number > 0"),
                         ('{"format": "fastbp-train-config", "options": {"nesterov": 1}}',
                          "option nesterov: expected true or false"),
                         ('{"format": "fastbp-train-config", "options": {"optimizer": "x"}}',
                          "option optimizer: expected one of")]:
        bad.write_text(text)
        code, out, err = run_main(capsys, "train", "--config", str(bad), "--out",
                                  str(tmp_path / "run"))
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert err.startswith("fastbp train: error: --config") and needle in err, err


def test_notes_for_options_without_effect(capsys, tmp_path):
    code, out, err = run_main(capsys, "train", "--epochs", "1", "--nesterov", "--beta1", "0.5",
                              "--out", str(tmp_path / "run"), *QUIET)
    assert code == 0
    assert "fastbp train: warning: --nesterov has no effect without --momentum" in err
    assert "fastbp train: warning: --beta1 only apply to --optimizer adam" in err


# ------------------------------------------------------- config.json and replay
def test_config_records_everything(tmp_path, digits):
    code, out = train(tmp_path, "run", "--epochs", "2", "--optimizer", "adam", "--eta", "0.01")
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["fastbp_version"] == fastbp.__version__
    assert config["numpy_version"] == np.__version__
    assert config["data"]["dataset"] == "digits"
    assert config["data"]["sha256"] == cli.data_checksum(digits)
    assert re.fullmatch(r"[0-9a-f]{64}", config["data"]["sha256"])
    options = config["options"]
    assert set(options) == set(cli.TRAIN_DEFAULTS)
    assert options["seed"] == 0 and options["sizes"] == [64, 30, 10]
    assert options["init"] == "large" and options["output_activation"] == "sigmoid"
    assert options["optimizer"] == "adam" and options["eta"] == 0.01


def test_config_replay_gives_the_same_model_bytes(tmp_path):
    code, first = train(tmp_path, "first", "--epochs", "3", "--seed", "7", "--momentum", "0.5",
                        "--lr-schedule", "cosine", "--sizes", "20")
    assert code == 0
    code, again = train(tmp_path, "again", "--config", str(first / "config.json"))
    assert code == 0
    assert model_bytes(again) == model_bytes(first)
    a = json.loads((first / "config.json").read_text())
    b = json.loads((again / "config.json").read_text())
    assert a["options"] == b["options"] and a["data"] == b["data"]
    # a run folder works as --config too
    code, folder = train(tmp_path, "folder", "--config", str(first))
    assert code == 0 and model_bytes(folder) == model_bytes(first)


def test_flags_given_override_the_config(tmp_path):
    code, first = train(tmp_path, "first", "--epochs", "2", "--seed", "7", "--eta", "2")
    assert code == 0
    code, other = train(tmp_path, "other", "--config", str(first / "config.json"),
                        "--seed", "8", "--cost", "cross_entropy")
    assert code == 0
    a = json.loads((first / "config.json").read_text())["options"]
    b = json.loads((other / "config.json").read_text())["options"]
    assert (b["seed"], b["cost"], b["eta"], b["epochs"]) == (8, "cross_entropy", 2.0, 2)
    assert b["init"] == "default"  # follows the new cost, as without --config
    assert {k for k in a if a[k] != b[k]} == {"seed", "cost", "init"}
    assert model_bytes(first) != model_bytes(other)


def test_config_replay_from_another_folder_finds_relative_data(tmp_path, monkeypatch):
    from test_cli import _write_npz
    (tmp_path / "a").mkdir()
    _write_npz(tmp_path / "a" / "toy.npz", seed=5)
    monkeypatch.chdir(tmp_path / "a")
    assert cli.main(["train", "--dataset", "toy.npz", "--epochs", "3", "--out", "run",
                     *QUIET]) == 0
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--config", "a/run", "--out", "again", *QUIET]) == 0
    assert model_bytes(tmp_path / "again") == model_bytes(tmp_path / "a" / "run")


def test_config_with_other_data_warns(capsys, tmp_path):
    code, first = train(tmp_path, "first", "--epochs", "1")
    config = json.loads((first / "config.json").read_text())
    config["data"]["sha256"] = "0" * 64
    (first / "config.json").write_text(json.dumps(config))
    code, out, err = run_main(capsys, "train", "--config", str(first), "--out",
                              str(tmp_path / "b"), *QUIET)
    assert code == 0
    assert "fastbp train: warning: the data (digits" in err and "differ" in err


# ------------------------------------------------------------------ resume
def _interrupt_in_epoch(monkeypatch, epoch):
    real_call = cli._Progress.__call__

    def interrupting(self, e, done, total):
        real_call(self, e, done, total)
        if e == epoch and done >= total // 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._Progress, "__call__", interrupting)


@pytest.mark.parametrize("extra", [[], ["--optimizer", "adam", "--eta", "0.01",
                                        "--lr-schedule", "cosine", "--warmup-epochs", "1"]],
                         ids=["sgd", "adam-cosine-warmup"])
def test_resume_after_interrupt_is_bit_identical(capsys, tmp_path, monkeypatch, extra):
    argv = ["--epochs", "4", "--seed", "3", "--momentum", "0.5", *extra]
    code, whole = train(tmp_path, "whole", *argv)
    assert code == 0
    with monkeypatch.context() as m:
        _interrupt_in_epoch(m, 2)  # Ctrl-C in the middle of epoch 3
        code, out, err = run_main(capsys, "train", *argv, "--out", str(tmp_path / "cut"), *QUIET)
    cut = tmp_path / "cut"
    assert code == 130
    assert f"continue with: fastbp train --resume {cut}" in err
    assert json.loads((cut / "history.json").read_text())["epoch"] == [1, 2]
    assert model_bytes(cut) != model_bytes(whole)
    code, out, err = run_main(capsys, "train", "--resume", str(cut), *QUIET)
    assert code == 0, err
    assert "resuming after epoch 2 of 4" in out
    assert [l.split()[1] for l in out.splitlines() if l.startswith("epoch ")] == ["3/4", "4/4"]
    assert model_bytes(cut) == model_bytes(whole)
    h_cut = json.loads((cut / "history.json").read_text())
    h_whole = json.loads((whole / "history.json").read_text())
    assert h_cut["epoch"] == [1, 2, 3, 4]
    for key in ("train_cost", "eval_cost", "eval_accuracy"):
        assert h_cut[key] == h_whole[key], key
    assert len(h_cut["train_seconds"]) == 4 and h_cut["interrupted"] is False


def test_resume_refuses_changed_options(capsys, tmp_path):
    code, run = train(tmp_path, "run", "--epochs", "1")
    code, out, err = run_main(capsys, "train", "--resume", str(run), "--eta", "0.1")
    assert code == 2
    assert "--eta cannot change" in err and f"--config {run / 'config.json'}" in err
    code, out, err = run_main(capsys, "train", "--resume", str(run), "--config", str(run))
    assert code == 2 and "not both" in err


def test_resume_of_a_finished_run_changes_nothing(capsys, tmp_path):
    code, run = train(tmp_path, "run", "--epochs", "2")
    before = model_bytes(run)
    code, out, err = run_main(capsys, "train", "--resume", str(run), *QUIET)
    assert code == 0 and "already completed its 2 epochs" in out
    assert model_bytes(run) == before


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_resume_after_kill_9(tmp_path):
    """A process killed outright (no chance to save) resumes from its checkpoint."""
    argv = ["--epochs", "6", "--sizes", "200", "--seed", "2", "--batch-size", "5"]
    code, whole = train(tmp_path, "whole", *argv)
    assert code == 0
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "fastbp", "train", *argv, "--out", str(run),
                             *QUIET], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env())
    try:
        for line in proc.stdout:
            if line.startswith("epoch 2/6"):
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (run / "model.json").exists() and (run / "checkpoint.npz").exists()
    assert cli.main(["train", "--resume", str(run), *QUIET]) == 0
    assert model_bytes(run) == model_bytes(whole)


# ------------------------------------------------------------- run folders
def test_each_run_gets_its_own_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folders = []
    for k in range(3):
        code, out, err = run_main(capsys, "train", "--epochs", "1", "--seed", str(k), *QUIET)
        assert code == 0
        last = out.strip().splitlines()[-1]
        match = re.fullmatch(r"run folder: (\S+) \(evaluate with: fastbp evaluate (\S+)\)", last)
        assert match, last
        folders.append(match.group(1))
        assert match.group(2) == os.path.join(match.group(1), "model.json")
    assert folders == ["fastbp-run", "fastbp-run-2", "fastbp-run-3"]
    seeds = [json.loads((tmp_path / f / "config.json").read_text())["options"]["seed"]
             for f in folders]
    assert seeds == [0, 1, 2]


def test_explicit_out_replaces_with_a_note(capsys, tmp_path):
    out = tmp_path / "mine"
    code, _, err = run_main(capsys, "train", "--epochs", "1", "--out", str(out), *QUIET)
    assert code == 0 and "replacing" not in err
    (out / "confusion_matrix.png").write_bytes(b"old")
    code, _, err = run_main(capsys, "train", "--epochs", "1", "--seed", "9", "--out", str(out),
                            *QUIET)
    assert code == 0
    assert f"fastbp train: note: --out {out}: replacing the run there" in err
    assert not (out / "confusion_matrix.png").exists()  # the old run's files are gone
    assert json.loads((out / "config.json").read_text())["options"]["seed"] == 9


# -------------------------------------------------------------- warnings
class NotLearningWarning(UserWarning):
    """Stands for fastbp.exceptions.NotLearningWarning, whatever its final name."""


class OtherWarning(Warning):
    pass


def test_warnings_during_training_are_one_line_each(capsys, tmp_path, monkeypatch):
    real_call = cli._Progress.__call__

    def warning(self, epoch, done, total):
        real_call(self, epoch, done, total)
        if done == total:
            warnings.warn("the units saturated:\n the cost stopped falling", NotLearningWarning)
            warnings.warn(f"something else in epoch {epoch + 1}", OtherWarning)

    monkeypatch.setattr(cli._Progress, "__call__", warning)
    code, out, err = run_main(capsys, "train", "--epochs", "2", "--out", str(tmp_path), *QUIET)
    assert code == 0
    lines = err.strip().splitlines()
    assert lines == ["fastbp train: warning: the units saturated: the cost stopped falling",
                     "fastbp train: warning: something else in epoch 1",
                     "fastbp train: warning: something else in epoch 2"]
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["warnings"]) == 3
    # the caller's warning machinery is as it was
    assert warnings.showwarning is not None and "cli" not in repr(warnings.showwarning)


def test_a_run_that_learns_nothing_says_so(capsys, tmp_path):
    code, out, err = run_main(capsys, "train", "--eta", "1e6", "--epochs", "3", "--out",
                              str(tmp_path), *QUIET)
    assert code == 0
    warning_lines = [l for l in err.splitlines() if l.startswith("fastbp train: warning: ")]
    assert warning_lines, err
    assert "Traceback" not in err


def test_divergence_message_has_no_gap(capsys, tmp_path):
    code, out, err = run_main(capsys, "train", "--activation", "relu", "--output-activation",
                              "linear", "--eta", "1e3", "--epochs", "2", "--out", str(tmp_path),
                              *QUIET)
    assert code == 1
    assert "fastbp train: error: training diverged in epoch 1" in err
    assert "fastbp  " not in err


# ------------------------------------------------------------- broken pipe
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_broken_pipe_exits_quietly(tmp_path):
    """`fastbp train | head -1`: no traceback, exit 141, what was trained is saved."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "fastbp", "train", "--epochs", "200",
                             "--out", str(out), *QUIET], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=subprocess_env())
    try:
        first = proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, like head -1
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first.startswith(b"run folder: ")
    assert proc.returncode == cli.EXIT_BROKEN_PIPE, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert stderr == ""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_broken_pipe_through_head_in_a_shell(tmp_path):
    script = (f"{sys.executable} -m fastbp train --epochs 100 --no-progress --out "
              f"{tmp_path / 'run'} | head -1")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          timeout=120, env=subprocess_env())
    assert proc.stdout.startswith("run folder: ") and len(proc.stdout.splitlines()) == 1
    assert proc.stderr == ""


# ---------------------------------------------------------------- progress
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_not_drawn_for_fast_epochs():
    pytest.importorskip("tqdm")
    screen = _Terminal()
    progress = cli._Progress(show_bar=True, file=screen, delay=1.0)
    for epoch in range(3):
        for done in range(10, 151, 10):
            progress(epoch, done, 150)
        progress.epoch_done()
    progress.close()
    assert screen.getvalue() == ""


def test_progress_bar_moves_for_slow_epochs(monkeypatch):
    pytest.importorskip("tqdm")
    screen = _Terminal()
    progress = cli._Progress(show_bar=True, file=screen, delay=0.0)
    import time
    for done in range(10, 151, 10):
        time.sleep(0.11)  # past tqdm's mininterval: every segment is drawn
        progress(0, done, 150)
    drawn = screen.getvalue()
    for done in (10, 80, 140):
        assert f"{done}/150" in drawn
    assert len(progress.train_seconds) == 1


# ------------------------------------------------------------------ evaluate
def test_evaluate_confusion_matrix(capsys, tmp_path, digits):
    code, run = train(tmp_path, "run", "--epochs", "2")
    assert code == 0
    code, out, err = run_main(capsys, "evaluate", str(run / "model.json"))
    assert code == 0, err
    net = fastbp.load(run / "model.json")
    X_test, y_test = digits[2], digits[3]
    pred = np.argmax(net.feedforward(X_test), axis=1)
    expected = np.zeros((10, 10), dtype=int)
    for t, p in zip(y_test, pred):
        expected[t, p] += 1
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("true \\ predicted"))
    rows = [l.split() for l in lines[start + 1:start + 11]]
    table = np.array([[int(v) for v in row[1:11]] for row in rows])
    np.testing.assert_array_equal(table, expected)
    for i, row in enumerate(rows):
        assert int(row[0]) == i
        assert int(row[11]) == expected[i].sum()
        assert row[12] == f"{100 * expected[i, i] / expected[i].sum():.2f}%"
    total = lines[start + 11].split()
    assert total[0] == "all" and [int(v) for v in total[1:11]] == list(expected.sum(axis=0))
    assert total[-1] == f"{100 * np.trace(expected) / expected.sum():.2f}%"
    png = run / "confusion_matrix.png"
    assert f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --no-plot and --plot
    png.unlink()
    code, out, err = run_main(capsys, "evaluate", str(run / "model.json"), "--no-plot")
    assert code == 0 and not png.exists() and "wrote" not in out
    other = tmp_path / "cm.png"
    code, out, err = run_main(capsys, "evaluate", str(run / "model.json"), "--plot", str(other))
    assert code == 0 and other.is_file()


def test_confusion_matrix_functions():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    m = cli.confusion_matrix(y, p, 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    lines = cli.format_confusion_matrix(m, ["a", "b", "c"])
    assert lines[1].split() == ["0", "a", "1", "1", "0", "2", "50.00%"]
    assert lines[-1].split()[-1] == "66.67%"
    assert cli.class_names("fashion-mnist", 10)[6] == "Shirt"


# ------------------------------------------------------- optional matplotlib
@pytest.mark.slow
def test_matplotlib_only_imported_when_used():
    code = ("import sys, fastbp.cli, fastbp.plotting; "
            "print('matplotlib' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=subprocess_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_plot_learning_curves_moved(tmp_path):
    from fastbp.plotting import plot_learning_curves
    history = {"epoch": [1, 2], "train_cost": [1.0, 0.5], "eval_cost": [1.1, 0.6],
               "eval_accuracy": [0.5, 0.7]}
    plot_learning_curves(history, tmp_path / "a.png", "t")
    cli.plot_learning_curves(history, tmp_path / "b.png")  # the old name still works
    assert (tmp_path / "a.png").is_file() and (tmp_path / "b.png").is_file()
