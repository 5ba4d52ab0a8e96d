"""The ``fastbp`` command: train on real data, evaluate a saved model, show the setup.

::

    fastbp train [--dataset digits|fashion-mnist|mnist|PATH] [--sizes 784,30,10] ...
    fastbp train --config RUN_DIR/config.json [OPTIONS]   # run a recorded run again
    fastbp train --resume RUN_DIR                         # continue an interrupted run
    fastbp evaluate MODEL [--dataset ...]
    fastbp info

``fastbp train`` with no options reproduces the book's chapter 1 run (network.py:
sigmoid neurons, quadratic cost, 30 epochs of mini-batches of 10, eta = 3.0,
one hidden layer of 30) on scikit-learn's bundled 8x8 digits, which need no
download. Every training option of :meth:`fastbp.Network.fit` has a flag of
the same name (``lr_schedule`` is ``--lr-schedule``).

Each run gets its own folder (``fastbp-run``, then ``fastbp-run-2``, ... unless
``--out`` names one) holding ``config.json`` (the exact configuration, versions
and a SHA-256 checksum of the data), ``checkpoint.npz`` (written after every
epoch), ``model.json``, ``history.json`` and, with matplotlib (the ``plot``
extra), ``learning_curves.png``.
Ctrl-C stops after the current segment of mini-batches and saves what was
trained (exit status 130); ``--resume`` continues from the last checkpoint and
gives the same model, bit for bit, as an uninterrupted run. Bad arguments print
one line and exit 2; warnings raised during training print one line each,
``fastbp train: warning: ...``.

Optional packages (tqdm for the progress bar, matplotlib for the plots,
scikit-learn for digits, pooch for downloads, threadpoolctl for ``--threads``)
are imported only when used.
"""
import argparse
import hashlib
import json
import os
import platform
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__, datasets
from .activations import ACTIVATIONS
from .costs import COSTS
from .exceptions import DivergenceError
from .schedules import SCHEDULES
from .validation import MAX_WIDTH, check_bool, check_choice, check_float, check_int

#: The book's chapter 1 run (network.py): these are ``fastbp train``'s defaults.
BOOK_CHAPTER1 = dict(hidden=30, activation="sigmoid", cost="quadratic", epochs=30,
                     batch_size=10, eta=3.0, lmbda=0.0)
DEFAULT_OUT = "fastbp-run"
NAMED_DATASETS = ("digits", "fashion-mnist", "mnist")
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`
CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.npz"
CONFIG_FORMAT = "fastbp-train-config"
#: Files a run writes into its folder (removed when a fresh run replaces the folder's run).
RUN_FILES = (CONFIG_NAME, CHECKPOINT_NAME, "model.json", "history.json", "learning_curves.png",
             "confusion_matrix.png")
#: An epoch expected to take less than this many seconds gets no progress bar.
PROGRESS_DELAY = 1.0

#: Every recorded training option of ``fastbp train`` and its default. These are
#: the keys of config.json's "options"; the names are those of Network(...) and
#: Network.fit(...) (``threads`` aside, which sets the BLAS thread pool).
TRAIN_DEFAULTS = {
    # data and network
    "dataset": "digits", "sizes": None, "activation": BOOK_CHAPTER1["activation"],
    "output_activation": None, "cost": BOOK_CHAPTER1["cost"], "init": None,
    "dtype": "float64", "seed": 0,
    # the book's training options
    "epochs": BOOK_CHAPTER1["epochs"], "batch_size": BOOK_CHAPTER1["batch_size"],
    "eta": BOOK_CHAPTER1["eta"], "lmbda": BOOK_CHAPTER1["lmbda"], "regularization": "l2",
    "shuffle": True,
    # momentum and Adam
    "momentum": 0.0, "nesterov": False, "optimizer": "sgd", "beta1": 0.9, "beta2": 0.999,
    "epsilon": 1e-8,
    # schedules and large batches
    "lr_schedule": "constant", "decay_epochs": None, "decay_factor": 0.1, "warmup_epochs": 0.0,
    "base_batch_size": None, "lars": 0.0,
    # performance and checkpoints
    "chunk_size": None, "threads": None, "checkpoint_every": 1, "checkpoint": True,
}
#: Options that do not change the trained model (beyond BLAS rounding for threads):
#: the only ones --resume accepts besides the run's own.
RUN_ONLY_OPTIONS = ("out", "progress", "threads", "dataset")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2.

    ``prog`` (optional) names the command in the message, e.g. "fastbp train".
    """

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fastbp train: error: ...``, exit status 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')", prog=self.prog)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (the examples keep their lines); wider option column."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)


# ------------------------------------------------------------ argument types
# argparse ``type=`` adapters: the text is parsed here, every check on the value is
# fastbp.validation's, and its TypeError/ValueError becomes argparse's error.
def _checked(parse, check, expected=None, **bounds):
    """An argparse type: ``parse(text)``, then fastbp.validation's ``check`` with ``bounds``.

    The messages are the validation module's, less the argument name that
    argparse puts in front ("argument --momentum: expected a number < 1.0, found 1.5");
    ``expected`` (e.g. "a positive integer") replaces what they say is expected.
    """
    def convert(text):
        try:
            value = parse(text)
        except (ValueError, OverflowError):
            kind = expected or ("an integer" if parse is int else "a number")
            raise argparse.ArgumentTypeError(f"expected {kind}, found {text!r}") from None
        try:
            return check(value, "value", **bounds)
        except (TypeError, ValueError) as exc:
            message = f"expected {expected}, found {value}" if expected else \
                str(exc).removeprefix("value: ")
            raise argparse.ArgumentTypeError(message) from None
    convert.__name__ = check.__name__  # argparse names the type in "invalid ... value"
    return convert


def _int_list(text):
    """--sizes: comma-separated layer widths, each checked as Network's sizes are."""
    try:
        values = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 784,30,10 or 30, found {text!r}"
        ) from None
    try:
        return [check_int(v, f"sizes[{i}]", minimum=1, maximum=MAX_WIDTH)
                for i, v in enumerate(values)]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_positive_int = _checked(int, check_int, minimum=1, maximum=None, expected="a positive integer")
_seed = _checked(int, check_int, minimum=0)
_unit_interval = _checked(float, check_float, minimum=0.0, maximum=1.0, strict_max=True)
_non_negative = _checked(float, check_float, minimum=0.0)
_positive = _checked(float, check_float, minimum=0.0, strict_min=True)
_count = _checked(int, check_int, minimum=1)
# --eta and --lmbda keep the wording their messages have always had.
_eta = _checked(float, check_float, minimum=0.0, strict_min=True,
                expected="a finite number > 0")
_lmbda = _checked(float, check_float, minimum=0.0, expected="a finite number >= 0")


TRAIN_EPILOG = """\
examples:
  fastbp train
      the book's chapter 1 run (network.py) on the bundled 8x8 digits
  fastbp train --dataset fashion-mnist
      chapter 1 on Fashion-MNIST: [784, 30, 10] sigmoid, quadratic cost, eta 3.0,
      30 epochs of mini-batches of 10 (about 85% test accuracy)
  fastbp train --dataset fashion-mnist --sizes 100 --cost cross_entropy --eta 0.1 --lmbda 5
      chapter 3 (network2.py): cross-entropy cost, 1/sqrt(n_in) initial weights,
      L2 regularisation (about 88%)
  fastbp train --dataset fashion-mnist --sizes 256 --activation relu --cost log_likelihood \\
               --dtype float32 --epochs 25 --batch-size 64 --optimizer adam --eta 1e-3 \\
               --lmbda 1 --lr-schedule cosine
      the best-known recipe: ReLU, softmax output, Adam, cosine schedule (89.4% measured)
  fastbp train --config fastbp-run/config.json [--seed 1 ...]
      the run recorded in fastbp-run again (same machine: the same model, bit for bit);
      flags given override the file
  fastbp train --resume fastbp-run
      continue an interrupted (Ctrl-C) or killed run from its last checkpoint

Each run writes config.json, checkpoint.npz, model.json, history.json and (with
matplotlib) learning_curves.png into its own folder (fastbp-run, fastbp-run-2, ... or --out).
"""


#: dest -> (flag, add_argument keywords) of every train option: config.json values are
#: checked with the same types and choices as the flags.
_OPTION_SPECS = {}


def _train_option(group, *flags, default_text=None, **kwargs):
    """One option of ``fastbp train``: default SUPPRESS, its default named in the help."""
    dest = kwargs.get("dest") or flags[0].lstrip("-").replace("-", "_")
    if default_text is None:
        default = TRAIN_DEFAULTS.get(dest)
        default_text = "none" if default is None else str(default)
    if default_text:
        kwargs["help"] = f"{kwargs['help']} (default: {default_text})"
    _OPTION_SPECS[dest] = (flags[0], kwargs)
    group.add_argument(*flags, default=argparse.SUPPRESS, **kwargs)


def _add_train_arguments(t, data_help):
    g = t.add_argument_group("data and network")
    _train_option(g, "--dataset", metavar="NAME|PATH", help=data_help, default_text="digits")
    _train_option(g, "--sizes", type=_int_list, metavar="N,...",
                  help="layer widths, e.g. 784,30,10 (first and last must fit the data), or "
                       "only the hidden width, e.g. 30", default_text="30")
    _train_option(g, "--activation", choices=sorted(a for a in ACTIVATIONS if a != "softmax"),
                  help="activation of every layer")
    _train_option(g, "--output-activation", choices=sorted(ACTIVATIONS),
                  help="activation of the output layer", default_text="softmax with "
                  "log_likelihood, sigmoid with cross_entropy, else --activation")
    _train_option(g, "--cost", choices=sorted(COSTS), help="cost function")
    _train_option(g, "--init", choices=("default", "large"),
                  help="weight initialisation: 'large' is network.py's N(0,1), 'default' "
                       "network2.py's N(0,1/n_in)", default_text="large with the quadratic "
                  "cost, as in chapter 1, else default")
    _train_option(g, "--dtype", choices=("float32", "float64"),
                  help="parameter and arithmetic dtype")
    _train_option(g, "--seed", type=_seed, metavar="N",
                  help="seed of the initial weights and the shuffles")

    g = t.add_argument_group("training (network2.py's mini-batch SGD)")
    _train_option(g, "--epochs", type=_positive_int, metavar="N", help="epochs")
    _train_option(g, "--batch-size", type=_positive_int, metavar="N", help="mini-batch size")
    _train_option(g, "--eta", type=_eta, metavar="X",
                  help="learning rate (the peak rate with a schedule or warmup)")
    _train_option(g, "--lmbda", type=_lmbda, metavar="X",
                  help="regularisation parameter, scaled by 1/n as in network2.py")
    _train_option(g, "--regularization", choices=("l2", "l1"),
                  help="penalty that --lmbda weights: l2 (weight decay) or l1")
    _train_option(g, "--shuffle", action=argparse.BooleanOptionalAction,
                  help="reshuffle the training rows every epoch", default_text="--shuffle")

    g = t.add_argument_group("momentum and Adam")
    _train_option(g, "--momentum", type=_unit_interval, metavar="MU",
                  help="momentum coefficient in [0, 1): v <- mu v - eta g, W <- W + v")
    _train_option(g, "--nesterov", action=argparse.BooleanOptionalAction,
                  help="Nesterov momentum: W <- W + mu v - eta g (needs --momentum)",
                  default_text="--no-nesterov")
    _train_option(g, "--optimizer", choices=("sgd", "adam"),
                  help="adam uses --beta1, --beta2, --epsilon (scikit-learn's Adam)")
    _train_option(g, "--beta1", type=_unit_interval, metavar="X",
                  help="Adam: decay of the first moment, in [0, 1)")
    _train_option(g, "--beta2", type=_unit_interval, metavar="X",
                  help="Adam: decay of the second moment, in [0, 1)")
    _train_option(g, "--epsilon", type=_positive, metavar="X", help="Adam: added to sqrt(v)")

    g = t.add_argument_group("learning-rate schedules and large mini-batches")
    _train_option(g, "--lr-schedule", choices=SCHEDULES,
                  help="per-step learning rates: step multiplies eta by --decay-factor every "
                       "--decay-epochs epochs; cosine decays it to 0 at the end of the run")
    _train_option(g, "--decay-epochs", type=_count, metavar="N",
                  help="epochs between decays of --lr-schedule step",
                  default_text="none; required with --lr-schedule step")
    _train_option(g, "--decay-factor", type=_positive, metavar="X",
                  help="factor of each decay of --lr-schedule step")
    _train_option(g, "--warmup-epochs", type=_non_negative, metavar="X",
                  help="linear warmup from 0 over this many epochs, step by step "
                       "(Goyal et al. 2017)")
    _train_option(g, "--base-batch-size", type=_count, metavar="N",
                  help="linear scaling rule: the rate used is eta x batch-size / "
                       "base-batch-size", default_text="none: eta as given")
    _train_option(g, "--lars", type=_non_negative, metavar="X",
                  help="LARS trust coefficient (You et al. 2017), e.g. 0.001; 0 is off")

    g = t.add_argument_group("performance")
    _train_option(g, "--chunk-size", type=_count, metavar="N",
                  help="rows per forward/backward chunk within a mini-batch; bounds memory, "
                       "not the result", default_text="about 64 MiB of buffers")
    _train_option(g, "--threads", type=_count, metavar="N",
                  help="BLAS threads for the matrix products (needs threadpoolctl)",
                  default_text="BLAS's own, e.g. $OPENBLAS_NUM_THREADS")
    _train_option(g, "--distributed", action="store_true",
                  help="data-parallel training over MPI, started as 'mpiexec -n K fastbp "
                       "train --distributed ...': each rank trains on its share of the rows, "
                       "one Allreduce per mini-batch keeps the replicas identical, rank 0 "
                       "prints and saves (needs the mpi extra: pip install \"fastbp[mpi]\"; "
                       "SGD with momentum only, no checkpoints)", default_text="")

    g = t.add_argument_group("runs, configurations and checkpoints")
    _train_option(g, "--out", metavar="DIR",
                  help="run folder for config.json, checkpoint.npz, model.json, history.json "
                       "and learning_curves.png; an existing run there is replaced",
                  default_text=f"a new folder: ./{DEFAULT_OUT}, else ./{DEFAULT_OUT}-2, ...")
    _train_option(g, "--config", metavar="FILE",
                  help="run the configuration recorded in a run's config.json (or a run "
                       "folder) again; options given on the command line override it",
                  default_text="")
    _train_option(g, "--resume", metavar="RUN_DIR",
                  help="continue the interrupted run in RUN_DIR from its last checkpoint, with "
                       "its recorded options; the result is identical to an uninterrupted run",
                  default_text="")
    _train_option(g, "--checkpoint-every", type=_count, metavar="N",
                  help="write checkpoint.npz every N epochs (and after the last)")
    _train_option(g, "--checkpoint", action=argparse.BooleanOptionalAction,
                  help="write checkpoints (--no-checkpoint: none, and no --resume)",
                  default_text="--checkpoint")

    g = t.add_argument_group("display")
    _train_option(g, "--progress", action=argparse.BooleanOptionalAction,
                  help="progress bar within epochs that take more than a second (needs "
                       "tqdm and a terminal)", default_text="--progress")


def build_parser():
    """The argparse parser of the ``fastbp`` command."""
    parser = _Parser(prog="fastbp", description="Backpropagation compiled with Numba: train "
                     "fully-connected networks on MNIST-style data.")
    parser.add_argument("--version", action="version", version=f"fastbp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,info}",
                                parser_class=_Parser)
    sub.required = True

    idx_files = ", ".join(f"{name}[.gz]" for name in datasets.IDX_FILES.values())
    data_help = ("digits (scikit-learn's 8x8 digits, bundled, the default), fashion-mnist, "
                 f"mnist, or PATH: a folder holding the four IDX files ({idx_files}) or an "
                 ".npz file with arrays X_train, y_train, X_test, y_test")
    t = sub.add_parser(
        "train", help="train a network and save it (defaults: the book's chapter 1 run)",
        formatter_class=_HelpFormatter, epilog=TRAIN_EPILOG,
        description="Train by mini-batch SGD (or Adam). The defaults reproduce the book's "
                    "chapter 1 run\n(network.py). Every option of Network.fit has a flag of "
                    "the same name.")
    _add_train_arguments(t, data_help.replace(", the default", ""))

    e = sub.add_parser("evaluate", help="accuracy, cost and confusion matrix of a saved model "
                       "on a test set", description="Print the accuracy and cost of a saved "
                       "model on the test set of a data set, its confusion matrix and the "
                       "accuracy on each class; draw the matrix as a PNG when matplotlib is "
                       "installed.")
    e.add_argument("model", metavar="MODEL", help="a model.json written by fastbp (or by the "
                   "book's network2.py)")
    e.add_argument("--dataset", default=None, metavar="NAME|PATH",
                   help=data_help.replace(", the default", "") + " (default: the data set "
                   "recorded in config.json or history.json beside MODEL, else digits)")
    e.add_argument("--plot", default=None, metavar="PNG",
                   help="where to draw the confusion matrix (default: confusion_matrix.png "
                        "beside MODEL)")
    e.add_argument("--no-plot", action="store_true", help="no PNG")

    sub.add_parser("info", help="versions, thread settings and the Numba cache folder",
                   description="Print versions, thread settings and the Numba cache folder.")
    return parser


# ------------------------------------------------------------------- data
def load_data(spec, dtype):
    """Load ``spec`` (a data set name or a path) as floats of ``dtype`` in [0, 1].

    Returns
    -------
    (X_train, y_train, X_test, y_test), description : tuple, str
    """
    if spec == "digits":
        return datasets.load_digits(dtype=dtype), "digits (scikit-learn's 8x8 digits)"
    if spec in ("fashion-mnist", "mnist"):
        folder = datasets.locate(spec)
        title = datasets.SOURCES[spec]["title"]
        return datasets.load_idx_folder(folder, dtype=dtype), f"{title} from {folder}"
    path = Path(spec).expanduser()
    if path.is_dir():
        return datasets.load_idx_folder(path, dtype=dtype), f"IDX files in {path}"
    if path.is_file():
        if path.suffix != ".npz":
            raise UsageError(f"--dataset {spec}: expected a folder of IDX files or an .npz "
                             f"file, found {path.suffix or 'a file without suffix'}")
        return datasets.load_npz(path, dtype=dtype), f"{path}"
    raise UsageError(f"--dataset {spec}: not one of {', '.join(NAMED_DATASETS)} and no such "
                     f"file or folder")


def data_checksum(arrays):
    """SHA-256 (hex) of the data arrays: names, dtypes, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for name, a in zip(("X_train", "y_train", "X_test", "y_test"), arrays):
        a = np.ascontiguousarray(a)
        digest.update(f"{name} {a.dtype.str} {a.shape}\n".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def _data_path(spec):
    """Where the data set ``spec`` was read from (absolute), or None for digits."""
    if spec == "digits":
        return None
    if spec in NAMED_DATASETS:
        return str(Path(datasets.locate(spec, download=False)).resolve())
    return str(Path(spec).expanduser().resolve())


def class_names(spec, n_classes):
    """Names of the classes of a data set, for tables and plots."""
    if spec == "fashion-mnist" and n_classes == len(FASHION_MNIST_CLASSES):
        return list(FASHION_MNIST_CLASSES)
    return [str(i) for i in range(n_classes)]


def _n_classes(y_train, y_test):
    return int(max(y_train.max(), y_test.max())) + 1


def resolve_sizes(sizes, n_inputs, n_classes, dataset, hidden=None):
    """Full layer widths from --sizes (or ``hidden`` widths) and the data's shapes."""
    if sizes is None:
        return [n_inputs, *(hidden or [BOOK_CHAPTER1["hidden"]]), n_classes]
    if len(sizes) == 1:
        return [n_inputs, sizes[0], n_classes]
    if sizes[0] != n_inputs or sizes[-1] != n_classes:
        raise UsageError(
            f"--sizes {','.join(map(str, sizes))} does not fit {dataset}: it has {n_inputs} "
            f"inputs and {n_classes} classes, so the sizes must run from {n_inputs} to "
            f"{n_classes} (e.g. {n_inputs},30,{n_classes}), or give only the hidden width "
            f"(e.g. 30)")
    return list(sizes)


# --------------------------------------------------------------- progress
class _Progress:
    """fit's ``on_progress`` hook: a tqdm bar per epoch, batches done, training time.

    fit calls ``on_progress(epoch, batches_done, n_batches)`` after each of about
    16 segments of mini-batches; :meth:`epoch_done` (from fit's callback) marks
    the end of an epoch's evaluation, so ``train_seconds`` times shuffling and
    mini-batches only. The bar appears only once an epoch has run for ``delay``
    seconds (so epochs of milliseconds draw nothing), is redrawn at every
    segment, and is erased at the end of the epoch, whose line replaces it.
    """

    def __init__(self, show_bar, file=None, delay=PROGRESS_DELAY):
        self.show_bar = show_bar
        self.file = file
        self.delay = delay
        self.bar = None
        self.epoch = -1
        self.batches_done = 0
        self.train_seconds = []
        self.t_start = time.perf_counter()

    def __call__(self, epoch, done, total):
        if epoch != self.epoch:
            self.epoch = epoch
            if self.show_bar:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=f"epoch {epoch + 1}", unit="batch",
                                leave=False, disable=None, file=self.file or sys.stderr,
                                delay=self.delay, mininterval=0.1, miniters=1)
        self.batches_done = done
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        if done == total:
            self.train_seconds.append(time.perf_counter() - self.t_start)
            self.close()

    def epoch_done(self):
        self.t_start = time.perf_counter()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _tqdm_available():
    import importlib.util
    return importlib.util.find_spec("tqdm") is not None


# ------------------------------------------------------------------ outputs
def plot_learning_curves(history, path, title=""):
    """Moved to :func:`fastbp.plotting.plot_learning_curves` (kept here as an alias)."""
    from .plotting import plot_learning_curves as plot
    plot(history, path, title)


def _save_outputs(net, history, out, title, err):
    """model.json, history.json and (when matplotlib is there) learning_curves.png."""
    from .serialization import write_json_atomic

    out.mkdir(parents=True, exist_ok=True)
    net.save(out / "model.json")
    write_json_atomic(out / "history.json", history)
    written = ["model.json", "history.json"]
    if history["epoch"]:
        try:
            from .plotting import plot_learning_curves as plot
            plot(history, out / "learning_curves.png", title)
            written.append("learning_curves.png")
        except ImportError:
            print("fastbp train: note: no learning_curves.png (needs matplotlib: "
                  "pip install \"fastbp[plot]\")", file=err)
    return written


def _silence_stdout():
    """Point file descriptor 1 at /dev/null: the reader of our pipe has gone away.

    Python flushes sys.stdout once more at exit; without this, that flush
    would print "Exception ignored ... BrokenPipeError" to stderr.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
        pass


# ------------------------------------------------------ configuration files
def _flag(dest):
    return _OPTION_SPECS[dest][0] if dest in _OPTION_SPECS else "--" + dest.replace("_", "-")


def _check_option_value(key, value):
    """A config.json option value, checked like the flag's text; UsageError-ready message."""
    flag, spec = _OPTION_SPECS[key]
    if value is None:
        if TRAIN_DEFAULTS[key] is None:
            return None
        raise ValueError("null is not allowed")
    if spec.get("action") is not None:  # a switch
        try:
            return check_bool(value, "value")
        except TypeError:  # JSON spells them true and false
            raise ValueError(f"expected true or false, found {value!r}") from None
    if key == "sizes":
        if not isinstance(value, list) or not value:
            raise ValueError(f"expected a list of layer widths, found {value!r}")
        for i, v in enumerate(value):
            check_int(v, f"sizes[{i}]")  # then the flag's checks, on the text
        text = ",".join(map(str, value))
    elif key == "dataset":
        if not isinstance(value, str) or not value:
            raise ValueError(f"expected a data set name or path, found {value!r}")
        return value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a {'string' if spec.get('choices') else 'number'}, "
                         f"found {value!r}")
    else:
        text = str(value)
    if spec.get("choices") is not None:
        check_choice(value, "value", tuple(spec["choices"]))
        return value
    try:
        return spec["type"](text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(str(exc)) from None


def read_config(path, flag):
    """The dict of a config.json written by ``fastbp train``, every option checked.

    ``flag`` ("--config" or "--resume") names the argument in messages.
    Raises UsageError for a missing, damaged or foreign file.
    """
    from .serialization import read_json

    path = Path(path).expanduser()
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise UsageError(f"{flag}: no such file: {path}" + (
            " (expected a folder written by fastbp train)" if path.name == CONFIG_NAME else ""))
    try:
        config = read_json(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{flag} {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(config, dict) or config.get("format") != CONFIG_FORMAT \
            or not isinstance(config.get("options"), dict):
        raise UsageError(f"{flag} {path}: not a fastbp train configuration (expected a "
                         f"config.json written by fastbp train)")
    options = config["options"]
    unknown = sorted(set(options) - set(TRAIN_DEFAULTS))
    if unknown:
        raise UsageError(f"{flag} {path}: unknown option(s) {', '.join(unknown)}")
    for key in list(options):
        try:
            options[key] = _check_option_value(key, options[key])
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{flag} {path}: option {key}: "
                             f"{str(exc).removeprefix('value: ')}") from None
    if not isinstance(config.get("data"), dict):
        config["data"] = {}
    config["path"] = str(path)
    return config


def _merge_options(given, recorded):
    """Defaults, then the recorded options (--config/--resume), then the flags given.

    Derived settings follow what they derive from: a --cost or --activation
    given without --output-activation (and a --cost without --init) lets those
    be chosen for the new cost again; a --dataset without --sizes keeps the
    recorded hidden widths. Returns (options, hidden widths or None).
    """
    options = dict(TRAIN_DEFAULTS)
    hidden = None
    if recorded is not None:
        rec = dict(recorded["options"])
        if ("cost" in given or "activation" in given) and "output_activation" not in given:
            rec.pop("output_activation", None)
        if "cost" in given and "init" not in given:
            rec.pop("init", None)
        if "dataset" in given and "sizes" not in given and rec.get("sizes"):
            hidden = list(rec.pop("sizes"))[1:-1] or None
        options.update(rec)
    options.update({k: v for k, v in given.items() if k in TRAIN_DEFAULTS})
    return options, hidden


def _check_combinations(options):
    """Options that need each other; raises UsageError. Returns notes for options without effect."""
    if options["lr_schedule"] == "step" and options["decay_epochs"] is None:
        raise UsageError("--lr-schedule step needs --decay-epochs N (the epochs between decays)")
    notes = []
    if options["nesterov"] and options["momentum"] == 0:
        notes.append("--nesterov has no effect without --momentum")
    if options["optimizer"] != "adam":
        changed = [_flag(k) for k in ("beta1", "beta2", "epsilon")
                   if options[k] != TRAIN_DEFAULTS[k]]
        if changed:
            notes.append(f"{', '.join(changed)} only apply to --optimizer adam")
    if options["lr_schedule"] != "step":
        changed = [_flag(k) for k in ("decay_epochs", "decay_factor")
                   if options[k] != TRAIN_DEFAULTS[k]]
        if changed:
            notes.append(f"{', '.join(changed)} only apply to --lr-schedule step")
    return notes


def _config_document(options, data, ranks):
    """What config.json holds: versions, data (with checksum), every option."""
    import datetime

    import numba
    return {
        "format": CONFIG_FORMAT, "version": 1,
        "fastbp_version": __version__, "numpy_version": np.__version__,
        "numba_version": numba.__version__, "python_version": platform.python_version(),
        "platform": platform.platform(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ranks": ranks,
        "data": data,
        "options": options,
    }


def _choose_run_dir(given):
    """The run folder and whether a run there is replaced (see --out)."""
    if "out" in given:
        target = Path(given["out"]).expanduser()
        if target.exists() and not target.is_dir():
            raise UsageError(f"--out {given['out']}: exists and is not a folder")
        replacing = target.is_dir() and any((target / f).exists() for f in RUN_FILES)
        return target, replacing
    target, k = Path(DEFAULT_OUT), 1
    while target.exists() or target.is_symlink():
        k += 1
        target = Path(f"{DEFAULT_OUT}-{k}")
    return target, False


def _checkpoint_epochs(path):
    """Epochs done in a checkpoint file (None if it cannot be read: fit will say why)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return int(json.loads(str(data["meta"]))["epochs_done"])
    except Exception:  # noqa: BLE001 - only for a message; fit reads and checks it
        return None


# -------------------------------------------------------------------- train
def _default_output_activation(cost, activation):
    if cost == "log_likelihood":
        return "softmax"
    if cost == "cross_entropy" and activation != "sigmoid":
        return "sigmoid"
    return None


class _WarningLines:
    """warnings.showwarning for training: each distinct warning as one line on stderr."""

    def __init__(self, err):
        self.err = err
        self.shown = []

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in self.shown:
            self.shown.append(text)
            print(f"fastbp train: warning: {text}", file=self.err, flush=True)


def cmd_train(args):
    out, err = sys.stdout, sys.stderr
    import fastbp

    given = {k: v for k, v in vars(args).items() if k != "command"}
    distributed_run = given.pop("distributed", False)
    config_arg, resume_arg = given.pop("config", None), given.pop("resume", None)
    show_progress = given.pop("progress", True)
    if config_arg is not None and resume_arg is not None:
        raise UsageError("give --config or --resume, not both (--resume reads the run's own "
                         "config.json)")
    if resume_arg is not None and distributed_run:
        raise UsageError("--resume: distributed runs write no checkpoints")
    recorded = None
    if resume_arg is not None:
        run_dir = Path(resume_arg).expanduser()
        if run_dir.is_file() and run_dir.name == CONFIG_NAME:
            run_dir = run_dir.parent
        if not run_dir.is_dir():
            raise UsageError(f"--resume {resume_arg}: no such run folder")
        recorded = read_config(run_dir, "--resume")
        if "out" in given and Path(given["out"]).expanduser().resolve() != run_dir.resolve():
            raise UsageError("--resume writes into the run's own folder; leave out --out")
        changed = sorted(k for k, v in given.items()
                         if k not in RUN_ONLY_OPTIONS and v != recorded["options"].get(k))
        if changed:
            raise UsageError(f"--resume continues {run_dir} with the options in its "
                             f"{CONFIG_NAME}; {_flag(changed[0])} cannot change (for a new run "
                             f"with other options: fastbp train --config "
                             f"{run_dir / CONFIG_NAME} {_flag(changed[0])} ...)")
        if not recorded["options"].get("checkpoint", True):
            raise UsageError(f"--resume {resume_arg}: that run was started with "
                             f"--no-checkpoint, so there is nothing to resume from")
        replacing = False
    elif config_arg is not None:
        recorded = read_config(config_arg, "--config")
    options, hidden = _merge_options(given, recorded)
    notes = _check_combinations(options)
    if resume_arg is None:
        run_dir, replacing = _choose_run_dir(given)

    comm = None
    if distributed_run:
        from . import distributed
        comm = distributed.get_communicator()
        if comm.rank != 0:  # only rank 0 prints and saves
            out = err = open(os.devnull, "w")
    main_rank = comm is None or comm.rank == 0
    if options["threads"] is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            raise ImportError("--threads needs threadpoolctl: pip install threadpoolctl "
                              "(or \"fastbp[bench]\"), or set OPENBLAS_NUM_THREADS") from None

    dtype = np.dtype(options["dtype"])
    spec = options["dataset"]
    if recorded is not None and "dataset" not in given and spec not in NAMED_DATASETS \
            and not Path(spec).expanduser().exists():
        # a relative path recorded in another working folder: the absolute one recorded
        path = recorded["data"].get("path")
        if isinstance(path, str) and Path(path).exists():
            spec = options["dataset"] = path
    arrays, description = load_data(spec, dtype)
    X_train, y_train, X_test, y_test = arrays
    n_classes = _n_classes(y_train, y_test)
    sizes = resolve_sizes(options["sizes"], X_train.shape[1], n_classes, spec, hidden)
    init = options["init"] or ("large" if options["cost"] == "quadratic" else "default")
    output_activation = options["output_activation"] or _default_output_activation(
        options["cost"], options["activation"])
    try:
        net = fastbp.Network(sizes, activation=options["activation"],
                             output_activation=output_activation, cost=options["cost"],
                             dtype=dtype, init=init, seed=options["seed"])
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    options.update(sizes=sizes, init=init, output_activation=net.activations[-1].name)
    n, n_test = X_train.shape[0], X_test.shape[0]
    data = {"dataset": spec, "description": description, "path": _data_path(spec),
            "dtype": dtype.name, "sha256": data_checksum(arrays),
            "shapes": {k: list(a.shape) for k, a in
                       zip(("X_train", "y_train", "X_test", "y_test"), arrays)}}
    if recorded is not None:
        rec_data = recorded["data"]
        where = "--resume" if resume_arg is not None else "--config"
        if rec_data.get("dtype") == dtype.name and rec_data.get("sha256") not in (
                None, data["sha256"]):
            message = (f"the data ({description}) differ from those {recorded['path']} was "
                       f"recorded with (SHA-256 {data['sha256'][:12]}... here, "
                       f"{str(rec_data.get('sha256'))[:12]}... there)")
            if resume_arg is not None:
                raise UsageError(f"--resume: {message}")
            notes.append(message + ": the model will differ")
        versions = [(name, recorded.get(key), now) for name, key, now in (
            ("fastbp", "fastbp_version", __version__), ("NumPy", "numpy_version", np.__version__))
            if recorded.get(key) not in (None, now)]
        if versions:
            notes.append(f"{where} {recorded['path']} was recorded with "
                         + ", ".join(f"{name} {then}" for name, then, _ in versions)
                         + "; this is " + ", ".join(f"{name} {now}" for name, _, now in versions)
                         + ": the model may differ in the last bits")
    ranks = 1 if comm is None else comm.size
    checkpoint = (run_dir / CHECKPOINT_NAME
                  if options["checkpoint"] and comm is None and main_rank else None)
    epochs = options["epochs"]
    previous = {}
    if resume_arg is not None:
        try:
            with open(run_dir / "history.json") as f:
                previous = json.load(f)
        except (OSError, ValueError):
            previous = {}

    # -- the run folder: from here on it is this run's
    if main_rank:
        if replacing:
            print(f"fastbp train: note: --out {run_dir}: replacing the run there", file=err)
            for name in RUN_FILES:
                try:
                    (run_dir / name).unlink()
                except FileNotFoundError:
                    pass
        from .serialization import write_json_atomic
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume_arg is None:
            write_json_atomic(run_dir / CONFIG_NAME, _config_document(options, data, ranks))

    def line_warnings(text):
        print(f"fastbp train: warning: {text}", file=err, flush=True)

    for note in notes:
        line_warnings(note)
    print(f"run folder: {run_dir}" + (" (resumed)" if resume_arg is not None else ""), file=out)
    print(f"data: {description}: {n} training, {n_test} test rows", file=out)
    print(f"network: {net!r}, init={init!r}", file=out)
    if comm is not None:
        print(f"distributed: {comm.size} rank(s) ({type(comm).__name__}), each training on "
              f"about {n // comm.size} rows", file=out)
    extras = [f"{k}={options[k]}" for k in TRAIN_DEFAULTS
              if k not in ("dataset", "sizes", "activation", "output_activation", "cost", "init",
                           "dtype", "seed", "epochs", "batch_size", "eta", "lmbda", "checkpoint",
                           "checkpoint_every")
              and options[k] != TRAIN_DEFAULTS[k]]
    print(f"training: {epochs} epoch{'s' * (epochs != 1)}, mini-batches of "
          f"{options['batch_size']}, eta={options['eta']:g}, lmbda={options['lmbda']:g}, "
          f"seed={options['seed']}" + "".join(", " + e for e in extras)
          + " (the first epoch includes compiling, once per machine)", file=out, flush=True)
    if resume_arg is not None:
        done_before = _checkpoint_epochs(checkpoint) if checkpoint.exists() else None
        if done_before is None:
            print(f"resuming: no readable {CHECKPOINT_NAME} in {run_dir} (stopped before the "
                  f"first epoch ended?): starting from the beginning", file=out, flush=True)
        elif done_before >= epochs:
            print(f"resuming: the run already completed its {epochs} epochs", file=out)
        else:
            print(f"resuming after epoch {done_before} of {epochs}", file=out, flush=True)

    progress = _Progress(show_bar=show_progress and _tqdm_available() and main_rank, file=err)
    rates = []

    def report(net_, epoch, history):
        seconds = progress.train_seconds[-1] if progress.train_seconds else 0.0
        rate = n / seconds if seconds > 0 else float("inf")
        rates.append(rate)
        acc = history["eval_accuracy"][-1]
        print(f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}  "
              f"train cost {history['train_cost'][-1]:.6f}  test accuracy {100 * acc:6.2f}% "
              f"({round(acc * n_test)}/{n_test})  "
              f"{rate:,.0f} examples/s", file=out, flush=True)
        progress.epoch_done()
        return False

    fit_options = {k: options[k] for k in (
        "epochs", "batch_size", "eta", "lmbda", "momentum", "nesterov", "regularization",
        "chunk_size")}
    interrupted = broken_pipe = False
    status = 0
    warning_lines = _WarningLines(err)
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        # the filters in force decide what is shown (catch_warnings resets the
        # once-per-location registries, so each run shows its own warnings);
        # how: one line each
        with warnings.catch_warnings():
            warnings.showwarning = warning_lines
            limits = None
            if options["threads"] is not None:
                import scipy.linalg  # noqa: F401  (loads the BLAS the kernels call)
                limits = threadpool_limits(limits=options["threads"])
            try:
                every_option = dict(
                    seed=options["seed"], shuffle=options["shuffle"],
                    optimizer=options["optimizer"], beta1=options["beta1"],
                    beta2=options["beta2"], epsilon=options["epsilon"],
                    lr_schedule=options["lr_schedule"], warmup_epochs=options["warmup_epochs"],
                    base_batch_size=options["base_batch_size"],
                    decay_epochs=options["decay_epochs"], decay_factor=options["decay_factor"],
                    lars=options["lars"], callback=report, on_progress=progress, **fit_options)
                if comm is None:
                    net.fit(X_train, y_train, evaluation_data=(X_test, y_test),
                            checkpoint=checkpoint, checkpoint_every=options["checkpoint_every"],
                            resume=resume_arg is not None and checkpoint is not None,
                            **every_option)
                else:  # the same engine; no checkpoint (each rank picks its own run folder)
                    rows = distributed.shard_rows(n, comm)
                    test_rows = distributed.shard_rows(n_test, comm)
                    distributed.fit(net, X_train[rows], y_train[rows],
                                    evaluation_data=(X_test[test_rows], y_test[test_rows]),
                                    comm=comm, **every_option)
            finally:
                if limits is not None:
                    limits.restore_original_limits()
    except KeyboardInterrupt:
        interrupted = True
        status = EXIT_INTERRUPTED
    except BrokenPipeError:  # `fastbp train | head -1`: the reader has gone away
        _silence_stdout()
        out = open(os.devnull, "w")
        interrupted = broken_pipe = True
        status = EXIT_BROKEN_PIPE
    except DivergenceError as exc:
        print(f"fastbp train: error: {exc}", file=err)
        status = 1
    finally:
        progress.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    history = {k: list(v) for k, v in (net.history_ or {}).items()}
    done = len(history.get("epoch", []))
    history.setdefault("epoch", [])
    history.setdefault("train_cost", [])
    before = done - len(rates)  # epochs restored from the checkpoint
    for key, new in (("examples_per_second", rates), ("train_seconds", progress.train_seconds)):
        old = list(previous.get(key) or [])[:before]
        history[key] = ([None] * (before - len(old)) + old + list(new))[:done]
    history["wall_seconds"] = wall
    history["cpu_seconds"] = cpu  # all threads of this process; wall >> cpu on a busy machine
    history["load_average"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    history["interrupted"] = interrupted
    if interrupted:
        history["batches_in_unfinished_epoch"] = (progress.batches_done
                                                  if progress.epoch == done else 0)
    history["warnings"] = list(warning_lines.shown)
    history["config"] = {**options, "n_train": n, "n_test": n_test, "ranks": ranks}
    history["fastbp_version"] = __version__
    if not main_rank:
        return status

    accuracy = history.get("eval_accuracy") or []
    if accuracy and not interrupted and status == 0 and not warning_lines.shown:
        # a run that learned nothing should say so, whatever fit itself reports
        majority = float(np.bincount(y_test.astype(np.int64)).max()) / n_test
        if accuracy[-1] <= majority + 0.5 / n_classes:
            text = (f"test accuracy {100 * accuracy[-1]:.2f}% after {done} epoch"
                    f"{'s' * (done != 1)} is no better than always answering the most common "
                    f"class ({100 * majority:.2f}%): the network has not learned; try a "
                    f"smaller --eta (now {options['eta']:g})")
            warning_lines(text, UserWarning, __file__, 0)
            history["warnings"] = list(warning_lines.shown)

    title = (f"{spec}: {sizes}, {options['activation']}, {options['cost']}, "
             f"{options['optimizer']}, eta={options['eta']:g}"
             + (f" ({options['lr_schedule']})" if options["lr_schedule"] != "constant" else "")
             + f", lmbda={options['lmbda']:g}, batch {options['batch_size']}")
    if interrupted and not broken_pipe:
        extra = history["batches_in_unfinished_epoch"]
        print(f"\ninterrupted: saving the network after {done} epoch(s)"
              + (f" and {extra} mini-batch(es) of epoch {done + 1}" if extra else ""),
              file=err, flush=True)
    try:
        written = _save_outputs(net, history, run_dir, title, err)
    except KeyboardInterrupt:  # a second Ctrl-C while saving: files are written atomically
        print("fastbp train: interrupted again while saving", file=err)
        return EXIT_INTERRUPTED
    if broken_pipe:
        return status
    if accuracy and not interrupted and status == 0:
        best = int(np.argmax(accuracy))
        print(f"test accuracy {100 * accuracy[-1]:.2f}% after {done} epoch{'s' * (done != 1)} "
              f"(best {100 * accuracy[best]:.2f}% after epoch {best + 1}); {wall:.1f} s of "
              f"training (evaluation included)", file=out)
    print(f"saved {', '.join(str(run_dir / w) for w in written)}", file=out, flush=True)
    if interrupted and checkpoint is not None:
        print(f"continue with: fastbp train --resume {run_dir}", file=err, flush=True)
    print(f"run folder: {run_dir} (evaluate with: fastbp evaluate {run_dir / 'model.json'})",
          file=out, flush=True)
    return status


# ------------------------------------------------------------------ evaluate
def _recorded_dataset(model_path):
    """The data set of the run that wrote ``model_path``: config.json, else history.json."""
    folder = Path(model_path).parent
    try:
        with open(folder / CONFIG_NAME) as f:
            config = json.load(f)
        spec = config["options"]["dataset"]
        if spec in NAMED_DATASETS:
            return spec
        path = config.get("data", {}).get("path")
        if isinstance(path, str) and Path(path).exists():
            return path
        if isinstance(spec, str):
            return spec
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        with open(folder / "history.json") as f:
            dataset = json.load(f).get("config", {}).get("dataset")
        return dataset if isinstance(dataset, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts of (true class, predicted class): an (n_classes, n_classes) int64 array."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)),
              1)
    return matrix


def format_confusion_matrix(matrix, labels):
    """The text table: one row per true class, its counts, total and accuracy (recall)."""
    k = matrix.shape[0]
    totals = matrix.sum(axis=1)
    width = max(5, len(str(int(matrix.max(initial=0)))) + 2, len(str(k - 1)) + 2)
    names = [f"{i} {name}" if name != str(i) else str(i) for i, name in enumerate(labels)]
    corner = "true \\ predicted"
    name_width = max(len(corner), *(len(s) for s in names))
    total_width = max(7, len(str(int(totals.sum()))) + 2)
    lines = [f"{corner:<{name_width}}"
             + "".join(f"{j:>{width}}" for j in range(k))
             + f"{'total':>{total_width}}{'accuracy':>10}"]
    for i in range(k):
        acc = f"{100 * matrix[i, i] / totals[i]:.2f}%" if totals[i] else "-"
        lines.append(f"{names[i]:<{name_width}}"
                     + "".join(f"{int(c):>{width}}" for c in matrix[i])
                     + f"{int(totals[i]):>{total_width}}{acc:>10}")
    n = int(totals.sum())
    overall = f"{100 * np.trace(matrix) / n:.2f}%" if n else "-"
    lines.append(f"{'all':<{name_width}}"
                 + "".join(f"{int(c):>{width}}" for c in matrix.sum(axis=0))
                 + f"{n:>{total_width}}{overall:>10}")
    return lines


def cmd_evaluate(args):
    out, err = sys.stdout, sys.stderr
    import fastbp

    model_path = Path(args.model).expanduser()
    if not model_path.is_file():
        raise UsageError(f"MODEL {args.model}: no such file")
    try:
        net = fastbp.load(model_path)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    spec = args.dataset or _recorded_dataset(model_path) or "digits"
    _, _, X_test, y_test = load_data(spec, net.dtype)[0]
    if X_test.shape[1] != net.sizes[0]:
        raise UsageError(f"the model takes {net.sizes[0]} inputs but {spec} has "
                         f"{X_test.shape[1]} features; pass the data set it was trained on "
                         f"with --dataset")
    if int(y_test.max()) >= net.sizes[-1]:
        raise UsageError(f"{spec} has labels up to {int(y_test.max())} but the model has only "
                         f"{net.sizes[-1]} outputs")
    acc = net.accuracy(X_test, y_test)
    cost = net.cost(X_test, y_test)
    n = X_test.shape[0]
    print(f"{spec} test set ({n} rows): accuracy {100 * acc:.2f}% ({round(acc * n)}/{n}), "
          f"cost ({net.cost_function.name}) {cost:.6f}", file=out)
    k = net.sizes[-1]
    matrix = confusion_matrix(y_test, net.predict(X_test), k)
    labels = class_names(spec, k)
    print("\nconfusion matrix (rows: true class, columns: predicted class; accuracy: the "
          "share of each true class predicted right)", file=out)
    for line in format_confusion_matrix(matrix, labels):
        print(line, file=out)
    if not args.no_plot:
        png = Path(args.plot).expanduser() if args.plot else model_path.with_name(
            "confusion_matrix.png")
        try:
            from .plotting import plot_confusion_matrix
            plot_confusion_matrix(matrix, png, labels,
                                  title=f"{args.model} on {spec}: {100 * acc:.2f}%")
        except ImportError:
            print("fastbp evaluate: note: no confusion_matrix.png (needs matplotlib: "
                  "pip install \"fastbp[plot]\")", file=err)
        except OSError as exc:
            print(f"fastbp evaluate: note: could not write {png}: {exc.strerror or exc}",
                  file=err)
        else:
            print(f"\nwrote {png}", file=out)
    out.flush()
    return 0


# ---------------------------------------------------------------------- info
def _version_of(dist):
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def numba_cache_dir():
    """Where Numba keeps fastbp's compiled kernels: NUMBA_CACHE_DIR, else fastbp/__pycache__."""
    import numba
    configured = getattr(numba.config, "CACHE_DIR", "") or ""
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent / "__pycache__"


def cmd_info(args):
    out, err = sys.stdout, sys.stderr
    import numba
    import scipy

    print(f"fastbp        {__version__} ({Path(__file__).resolve().parent})", file=out)
    print(f"python        {platform.python_version()} ({sys.executable})", file=out)
    print(f"numpy         {np.__version__}", file=out)
    print(f"numba         {numba.__version__}", file=out)
    print(f"scipy         {scipy.__version__}", file=out)
    for dist in ("scikit-learn", "matplotlib", "tqdm", "pooch", "threadpoolctl"):
        print(f"{dist:<14}{_version_of(dist)} (optional)", file=out)
    print(f"platform      {platform.platform()}, {os.cpu_count()} CPUs", file=out)
    print(f"threads       numba.config.NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, "
          f"numba.get_num_threads()={numba.get_num_threads()}", file=out)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS"):
        if var in os.environ:
            print(f"              ${var}={os.environ[var]}", file=out)
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("threadpools   (threadpoolctl not installed: pip install \"fastbp[bench]\")",
              file=out)
    else:
        import scipy.linalg  # noqa: F401  (loads the BLAS that Numba's kernels call)
        pools = threadpool_info()
        if not pools:
            print("threadpools   none found", file=out)
        for pool in pools:
            print(f"threadpool    {pool.get('internal_api')} {pool.get('version')}: "
                  f"{pool.get('num_threads')} threads ({pool.get('filepath')})", file=out)
    cache = numba_cache_dir()
    n_cached = len(list(cache.glob("*.nbi"))) if cache.is_dir() else 0
    print(f"numba cache   {cache} ({n_cached} compiled functions cached"
          + ("" if n_cached else "; the first run compiles them") + ")", file=out)
    for name in datasets.SOURCES:
        found = [f for f in datasets.search_folders(name)
                 if all(p is not None for p in datasets._idx_files(f).values())]
        where = f"found in {found[0]}" if found else "not on disk (downloaded on first use)"
        print(f"data          {name}: {where}", file=out)
    return 0


# ---------------------------------------------------------------------- main
_COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "info": cmd_info}


def main(argv=None):
    """Run the ``fastbp`` command; return its exit status.

    Exit status: 0 success, 1 training diverged or a dependency is missing,
    2 bad arguments or data not found (one-line message), 130 interrupted by
    Ctrl-C (after saving what was trained), 141 the reader of standard output
    went away (``fastbp train | head -1``; what was trained is saved, quietly).
    """
    parser = build_parser()
    prog = parser.prog
    try:
        args = parser.parse_args(argv)
        prog = f"fastbp {args.command}"
        if args.command == "train" and signal.getsignal(signal.SIGINT) is signal.SIG_DFL:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return _COMMANDS[args.command](args)
    except BrokenPipeError:  # `fastbp ... | head -1`: the reader has gone away; exit quietly
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{exc.prog or prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except datasets.DatasetNotFoundError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError, FileNotFoundError) as exc:
        # bad data files or values: the message names the file or argument
        if os.environ.get("FASTBP_DEBUG"):
            raise
        print(f"{prog}: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
              file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
