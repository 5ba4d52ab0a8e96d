"""The ``fastbp`` command: train on real data, evaluate a saved model, show the setup.

::

    fastbp train [--dataset digits|fashion-mnist|mnist|PATH] [--sizes 784,30,10] ...
    fastbp evaluate MODEL [--dataset ...]
    fastbp info

``fastbp train`` with no options reproduces the book's chapter 1 run (network.py:
sigmoid neurons, quadratic cost, 30 epochs of mini-batches of 10, eta = 3.0,
one hidden layer of 30) on scikit-learn's bundled 8x8 digits, which need no
download. It writes ``model.json``, ``history.json`` and ``learning_curves.png``
into ``--out``. Ctrl-C stops after the current segment of mini-batches and saves
what was trained (exit status 130). Bad arguments print one line and exit 2.

Optional packages (tqdm for the progress bar, matplotlib for the plot,
scikit-learn for digits, pooch for downloads) are imported only when used.
"""
import argparse
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, datasets
from .activations import ACTIVATIONS
from .costs import COSTS
from .exceptions import DivergenceError

#: The book's chapter 1 run (network.py): these are ``fastbp train``'s defaults.
BOOK_CHAPTER1 = dict(hidden=30, activation="sigmoid", cost="quadratic", epochs=30,
                     batch_size=10, eta=3.0, lmbda=0.0)
DEFAULT_OUT = "fastbp-run"
NAMED_DATASETS = ("digits", "fashion-mnist", "mnist")
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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


# ------------------------------------------------------------ argument types
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {value}")
    return value


def _number(minimum, strict):
    def convert(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
        if not np.isfinite(value) or (value <= minimum if strict else value < minimum):
            op = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"expected a finite number {op} {minimum:g}, "
                                             f"found {text!r}")
        return value
    return convert


def _int_list(text):
    try:
        values = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 784,30,10 or 30, found {text!r}"
        ) from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, found {text!r}")
    return values


def build_parser():
    """The argparse parser of the ``fastbp`` command."""
    parser = _Parser(prog="fastbp", description="Backpropagation compiled with Numba: train "
                     "fully-connected networks on MNIST-style data.")
    parser.add_argument("--version", action="version", version=f"fastbp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,info}",
                                parser_class=_Parser)
    sub.required = True

    data_help = ("digits (scikit-learn's 8x8 digits, bundled, the default), fashion-mnist, "
                 "mnist, or PATH: a folder holding the four IDX files "
                 "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                 "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) or an .npz file "
                 "with arrays X_train, y_train, X_test, y_test")
    t = sub.add_parser("train", help="train a network and save it (defaults: the book's "
                       "chapter 1 run)", description="Train by mini-batch SGD. The defaults "
                       "reproduce the book's chapter 1 run (network.py).")
    t.add_argument("--dataset", default="digits", metavar="NAME|PATH", help=data_help)
    t.add_argument("--sizes", type=_int_list, default=None, metavar="N,...",
                   help="layer widths, e.g. 784,30,10 (first and last must fit the data), or "
                        "only the hidden width, e.g. 30 (default: 30)")
    t.add_argument("--activation", default=BOOK_CHAPTER1["activation"],
                   choices=sorted(a for a in ACTIVATIONS if a != "softmax"),
                   help="activation of every layer (default: sigmoid)")
    t.add_argument("--output-activation", default=None, choices=sorted(ACTIVATIONS),
                   help="activation of the output layer (default: softmax with "
                        "log_likelihood, sigmoid with cross_entropy, else --activation)")
    t.add_argument("--cost", default=BOOK_CHAPTER1["cost"], choices=sorted(COSTS),
                   help="cost function (default: quadratic)")
    t.add_argument("--init", default=None, choices=("default", "large"),
                   help="weight initialisation: 'large' is network.py's N(0,1), 'default' "
                        "network2.py's N(0,1/n_in) (default: large with the quadratic cost, as "
                        "in chapter 1, else default)")
    t.add_argument("--epochs", type=_positive_int, default=BOOK_CHAPTER1["epochs"],
                   help="epochs (default: 30)")
    t.add_argument("--batch-size", type=_positive_int, default=BOOK_CHAPTER1["batch_size"],
                   help="mini-batch size (default: 10)")
    t.add_argument("--eta", type=_number(0.0, True), default=BOOK_CHAPTER1["eta"],
                   help="learning rate (default: 3.0)")
    t.add_argument("--lmbda", type=_number(0.0, False), default=BOOK_CHAPTER1["lmbda"],
                   help="L2 regularisation parameter, scaled by 1/n as in network2.py "
                        "(default: 0)")
    t.add_argument("--dtype", default="float64", choices=("float32", "float64"),
                   help="parameter and arithmetic dtype (default: float64)")
    t.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and the shuffles (default: 0)")
    t.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"folder for model.json, history.json, learning_curves.png "
                        f"(default: ./{DEFAULT_OUT})")
    t.add_argument("--no-progress", action="store_true",
                   help="no progress bar within epochs (the bar needs tqdm and a terminal)")
    t.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI, started as 'mpiexec -n K fastbp train "
                        "--distributed ...': each rank trains on its share of the rows, one "
                        "Allreduce per mini-batch keeps the replicas identical, rank 0 prints "
                        "and saves (needs the mpi extra: pip install \"fastbp[mpi]\")")

    e = sub.add_parser("evaluate", help="accuracy and cost of a saved model on a test set",
                       description="Print the accuracy and cost of a saved model on the test "
                                   "set of a data set.")
    e.add_argument("model", metavar="MODEL", help="a model.json written by fastbp (or by the "
                   "book's network2.py)")
    e.add_argument("--dataset", default=None, metavar="NAME|PATH",
                   help=data_help.replace(", the default", "") + " (default: the data set "
                   "recorded in history.json beside MODEL, else digits)")

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


def _n_classes(y_train, y_test):
    return int(max(y_train.max(), y_test.max())) + 1


def resolve_sizes(sizes, n_inputs, n_classes, dataset):
    """Full layer widths from --sizes and the data's input and class counts."""
    if sizes is None:
        return [n_inputs, BOOK_CHAPTER1["hidden"], n_classes]
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

    fit calls ``on_progress(epoch, batches_done, n_batches)`` after each segment
    of mini-batches; :meth:`epoch_done` (from fit's callback) marks the end of an
    epoch's evaluation, so ``train_seconds`` times shuffling and mini-batches only.
    """

    def __init__(self, show_bar):
        self.show_bar = show_bar
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
                                leave=False, disable=None, file=sys.stderr)
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
    """Write a PNG of cost and test accuracy per epoch (matplotlib, Agg, no pyplot).

    Parameters
    ----------
    history : dict
        Lists "epoch", "train_cost", and optionally "eval_cost", "eval_accuracy".
    path : str or os.PathLike
    title : str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax_cost, ax_acc = fig.subplots(1, 2)
    epochs = history["epoch"]
    ax_cost.plot(epochs, history["train_cost"], "o-", ms=3, label="training (mean over epoch)")
    if history.get("eval_cost"):
        ax_cost.plot(epochs, history["eval_cost"], "s-", ms=3, label="test (after epoch)")
    ax_cost.set_xlabel("epoch")
    ax_cost.set_ylabel("cost")
    ax_cost.set_title("cost")
    ax_cost.legend()
    ax_cost.grid(alpha=0.3)
    if history.get("eval_accuracy"):
        ax_acc.plot(epochs, [100 * a for a in history["eval_accuracy"]], "o-", ms=3,
                    color="C2")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_title("test accuracy")
    ax_acc.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(os.fspath(path), dpi=110)


def _save_outputs(net, history, out, title, err):
    """model.json, history.json and (when matplotlib is there) learning_curves.png."""
    from .serialization import write_json_atomic

    out.mkdir(parents=True, exist_ok=True)
    net.save(out / "model.json")
    write_json_atomic(out / "history.json", history)
    written = ["model.json", "history.json"]
    if history["epoch"]:
        try:
            plot_learning_curves(history, out / "learning_curves.png", title)
            written.append("learning_curves.png")
        except ImportError:
            print("fastbp: note: no learning_curves.png (needs matplotlib: "
                  "pip install \"fastbp[plot]\")", file=err)
    return written


# -------------------------------------------------------------------- train
def _default_output_activation(cost, activation):
    if cost == "log_likelihood":
        return "softmax"
    if cost == "cross_entropy" and activation != "sigmoid":
        return "sigmoid"
    return None


def cmd_train(args):
    out, err = sys.stdout, sys.stderr
    import fastbp

    comm = None
    if args.distributed:
        from . import distributed
        comm = distributed.get_communicator()
        if comm.rank != 0:  # only rank 0 prints and saves
            out = err = open(os.devnull, "w")

    target = Path(args.out).expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")
    dtype = np.dtype(args.dtype)
    (X_train, y_train, X_test, y_test), description = load_data(args.dataset, dtype)
    n_classes = _n_classes(y_train, y_test)
    sizes = resolve_sizes(args.sizes, X_train.shape[1], n_classes, args.dataset)
    init = args.init or ("large" if args.cost == "quadratic" else "default")
    output_activation = args.output_activation or _default_output_activation(args.cost,
                                                                            args.activation)
    try:
        net = fastbp.Network(sizes, activation=args.activation,
                             output_activation=output_activation, cost=args.cost, dtype=dtype,
                             init=init, seed=args.seed)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    n = X_train.shape[0]
    config = {"dataset": args.dataset, "sizes": sizes, "activation": args.activation,
              "output_activation": net.activations[-1].name, "cost": args.cost, "init": init,
              "epochs": args.epochs, "batch_size": args.batch_size, "eta": args.eta,
              "lmbda": args.lmbda, "dtype": dtype.name, "seed": args.seed,
              "n_train": n, "n_test": int(X_test.shape[0]),
              "ranks": 1 if comm is None else comm.size}
    print(f"data: {description}: {n} training, {X_test.shape[0]} test rows", file=out)
    print(f"network: {net!r}, init={init!r}", file=out)
    if comm is not None:
        print(f"distributed: {comm.size} rank(s) ({type(comm).__name__}), each training on "
              f"about {n // comm.size} rows", file=out)
    print(f"training: {args.epochs} epoch{'s' * (args.epochs != 1)}, mini-batches of {args.batch_size}, eta={args.eta:g}, "
          f"lmbda={args.lmbda:g}, seed={args.seed} (the first epoch includes compiling, once "
          f"per machine)", file=out, flush=True)

    progress = _Progress(show_bar=not args.no_progress and _tqdm_available()
                         and (comm is None or comm.rank == 0))
    rates = []

    def report(net_, epoch, history):
        seconds = progress.train_seconds[-1]
        rate = n / seconds if seconds > 0 else float("inf")
        rates.append(rate)
        acc = history["eval_accuracy"][-1]
        print(f"epoch {epoch + 1:>{len(str(args.epochs))}}/{args.epochs}  "
              f"train cost {history['train_cost'][-1]:.6f}  test accuracy {100 * acc:6.2f}% "
              f"({round(acc * X_test.shape[0])}/{X_test.shape[0]})  "
              f"{rate:,.0f} examples/s", file=out, flush=True)
        progress.epoch_done()
        return False

    interrupted = False
    status = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        if comm is None:
            net.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                    eta=args.eta, lmbda=args.lmbda, evaluation_data=(X_test, y_test),
                    seed=args.seed, callback=report, on_progress=progress)
        else:
            rows = distributed.shard_rows(n, comm)
            test_rows = distributed.shard_rows(X_test.shape[0], comm)
            distributed.fit(net, X_train[rows], y_train[rows], epochs=args.epochs,
                            batch_size=args.batch_size, eta=args.eta, lmbda=args.lmbda,
                            evaluation_data=(X_test[test_rows], y_test[test_rows]),
                            seed=args.seed, comm=comm, callback=report, on_progress=progress)
    except KeyboardInterrupt:
        interrupted = True
        status = EXIT_INTERRUPTED
    except DivergenceError as exc:
        print(f"fastbp        train: error: {exc}", file=err)
        status = 1
    finally:
        progress.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    history = {k: list(v) for k, v in (net.history_ or {}).items()}
    done = len(history.get("epoch", []))
    history.setdefault("epoch", [])
    history.setdefault("train_cost", [])
    history["examples_per_second"] = rates[:done]
    history["train_seconds"] = progress.train_seconds[:done]
    history["wall_seconds"] = wall
    history["cpu_seconds"] = cpu  # all threads of this process; wall >> cpu on a busy machine
    history["load_average"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    history["interrupted"] = interrupted
    if interrupted:
        history["batches_in_unfinished_epoch"] = (progress.batches_done
                                                  if progress.epoch == done else 0)
    history["config"] = config
    history["fastbp_version"] = __version__
    if comm is not None and comm.rank != 0:
        return status
    title = (f"{args.dataset}: {sizes}, {args.activation}, {args.cost}, eta={args.eta:g}, "
             f"lmbda={args.lmbda:g}, batch {args.batch_size}")
    target = Path(args.out).expanduser()
    if interrupted:
        extra = history["batches_in_unfinished_epoch"]
        print(f"\ninterrupted: saving the network after {done} epoch(s)"
              + (f" and {extra} mini-batch(es) of epoch {done + 1}" if extra else ""),
              file=err, flush=True)
    try:
        written = _save_outputs(net, history, target, title, err)
    except KeyboardInterrupt:  # a second Ctrl-C while saving: files are written atomically
        print("fastbp train: interrupted again while saving", file=err)
        return EXIT_INTERRUPTED
    if history.get("eval_accuracy") and not interrupted and status == 0:
        acc = history["eval_accuracy"][-1]
        print(f"test accuracy {100 * acc:.2f}% after {done} epoch{'s' * (done != 1)}; "
              f"{wall:.1f} s of training "
              f"(evaluation included)", file=out)
    print(f"saved {', '.join(str(target / w) for w in written)}", file=out, flush=True)
    return status


# ------------------------------------------------------------------ evaluate
def _recorded_dataset(model_path):
    hist = Path(model_path).with_name("history.json")
    try:
        with open(hist) as f:
            dataset = json.load(f).get("config", {}).get("dataset")
        return dataset if isinstance(dataset, str) else None
    except (OSError, ValueError, AttributeError):
        return None


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
    Ctrl-C (after saving what was trained).
    """
    parser = build_parser()
    prog = parser.prog
    try:
        args = parser.parse_args(argv)
        prog = f"fastbp {args.command}"
        if args.command == "train" and signal.getsignal(signal.SIGINT) is signal.SIG_DFL:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return _COMMANDS[args.command](args)
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
