"""Data loaders: MNIST, Fashion-MNIST (IDX files) and scikit-learn's 8x8 digits.

Every loader returns ``(X_train, y_train, X_test, y_test)``:

- ``X_*``: ndarray of shape (n, n_pixels). By default ``uint8`` holding the raw
  pixel values (0-255 for the IDX data sets, 0-16 for digits). Pass
  ``dtype=np.float32`` or ``dtype=np.float64`` to get floats of that dtype
  scaled to [0, 1] instead (divided by 255, or by 16 for digits).
- ``y_*``: ndarray of shape (n,), ``int64`` class labels.

Where :func:`load_fashion_mnist` and :func:`load_mnist` look for the four
standard files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``; each may also be
uncompressed, without the ``.gz``), in this order:

1. ``path``, when given: that folder (or its ``<name>`` subfolder), and
   nowhere else;
2. ``$FASTBP_DATA/<name>``;
3. the user cache, ``~/.cache/fastbp/<name>`` (``$XDG_CACHE_HOME/fastbp/<name>``
   when that variable is set);
4. ``/usr/share/datasets/<name>`` (where Debian's ``dataset-fashion-mnist``
   package puts Fashion-MNIST);
5. else the official files are downloaded into the user cache with pooch
   (``pip install "fastbp[data]"``) and checked against their SHA-256 sums.

``<name>`` is ``fashion-mnist`` or ``mnist``. Files found on disk are not
hash-checked (Debian recompresses them); the IDX reader checks their headers
and lengths instead and rejects malformed or truncated files with ValueError.

Optional dependencies (pooch, tqdm, scikit-learn) are imported only inside the
functions that need them, so ``import fastbp.datasets`` costs nothing extra.
"""
import importlib.util
import os
from pathlib import Path

import numpy as np

from .idx import read_idx
from .validation import check_float_dtype, check_int

__all__ = ["DatasetNotFoundError", "IDX_FILES", "SOURCES", "cache_dir", "load_digits",
           "load_fashion_mnist", "load_idx_folder", "load_mnist", "load_npz", "locate",
           "search_folders"]

#: Where Debian's dataset packages install their files.
SYSTEM_DATA_DIR = Path("/usr/share/datasets")

#: The four IDX files of MNIST-style data sets, by role (names without ``.gz``).
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _sha256_of_files(**sums):
    """{file name: SHA-256} of the official ``.gz`` files, from the sums by role of IDX_FILES."""
    return {IDX_FILES[role] + ".gz": sha for role, sha in sums.items()}


#: Download mirrors (tried in order) and SHA-256 sums of the official ``.gz`` files
#: (keyed by file name). Fashion-MNIST: the Zalando Research S3 bucket and GitHub
#: repository. MNIST: yann.lecun.com often refuses downloads, so the copies that
#: PyTorch and TensorFlow use come first (same bytes, same sums).
SOURCES = {
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "urls": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        "sha256": _sha256_of_files(
            train_images="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            train_labels="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            test_images="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            test_labels="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    },
    "mnist": {
        "title": "MNIST",
        "urls": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        "sha256": _sha256_of_files(
            train_images="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            train_labels="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            test_images="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            test_labels="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    },
}


class DatasetNotFoundError(FileNotFoundError):
    """A data set is neither on disk nor downloadable; the message says where to put it."""


# ----------------------------------------------------------------- locating
def cache_dir():
    """The user cache folder of fastbp: ``$XDG_CACHE_HOME/fastbp`` or ``~/.cache/fastbp``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "fastbp"


def _check_name(name):
    if name not in SOURCES:
        raise ValueError(f"name: unknown data set {name!r}; expected one of {sorted(SOURCES)}")
    return name


def search_folders(name, path=None):
    """The folders searched for data set ``name``, in order (they need not exist).

    Parameters
    ----------
    name : {"fashion-mnist", "mnist"}
    path : str or os.PathLike, optional
        An explicit folder: then only it and its ``name`` subfolder are searched.

    Returns
    -------
    list of pathlib.Path
    """
    _check_name(name)
    if path is not None:
        path = Path(os.fspath(path)).expanduser()
        return [path, path / name]
    folders = []
    env = os.environ.get("FASTBP_DATA")
    if env:
        folders.append(Path(env).expanduser() / name)
    folders.append(cache_dir() / name)
    folders.append(SYSTEM_DATA_DIR / name)
    return folders


def _idx_file(folder, base):
    """The file for IDX base name ``base`` in ``folder`` (gzipped or plain), else None.

    Besides ``base`` and ``base.gz`` the dotted spelling some mirrors use
    (``train-images.idx3-ubyte``) is accepted.
    """
    dotted = base.replace("-idx", ".idx")
    for candidate in (base + ".gz", base, dotted + ".gz", dotted):
        p = folder / candidate
        if p.is_file():
            return p
    return None


def _idx_files(folder):
    """Role -> file path for the four IDX files in ``folder`` (None where missing)."""
    return {role: _idx_file(folder, base) for role, base in IDX_FILES.items()}


def _where_to_put(name, folders):
    files = ", ".join(f + ".gz" for f in IDX_FILES.values())
    places = "\n".join(f"  {f}" for f in folders)
    return (f"Put the four files ({files}) in one of these folders (searched in this order):\n"
            f"{places}\nor in $FASTBP_DATA/{name}, or pass the folder explicitly (path=... in "
            f"Python, --dataset FOLDER on the command line).")


def _download(name, folder):
    """Download the official files of ``name`` into ``folder``; raise with every reason."""
    try:
        import pooch
    except ImportError as exc:
        raise ImportError(f"downloading needs pooch: pip install \"fastbp[data]\" ({exc})") from exc
    source = SOURCES[name]
    progressbar = importlib.util.find_spec("tqdm") is not None
    folder.mkdir(parents=True, exist_ok=True)
    for fname, sha in source["sha256"].items():
        errors = []
        for base_url in source["urls"]:
            try:
                pooch.retrieve(base_url + fname, known_hash="sha256:" + sha, fname=fname,
                               path=folder, progressbar=progressbar)
                break
            except Exception as exc:  # network errors, HTTP errors, hash mismatches
                errors.append(f"{base_url}{fname}: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            raise OSError("could not download " + fname + ":\n  " + "\n  ".join(errors))


def locate(name, path=None, download=True):
    """The folder that holds the four IDX files of ``name``, downloading them if needed.

    Parameters
    ----------
    name : {"fashion-mnist", "mnist"}
    path : str or os.PathLike, optional
        Look only here (and in its ``name`` subfolder); never download.
    download : bool, default=True
        When nothing is found on disk, download the official files into
        ``cache_dir() / name`` with pooch (SHA-256 checked).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DatasetNotFoundError
        Not found and not downloadable; the message lists where to put the files.
    """
    _check_name(name)
    title = SOURCES[name]["title"]
    folders = search_folders(name, path)
    for folder in folders:
        if all(p is not None for p in _idx_files(folder).values()):
            return folder
    if path is not None:
        partial = [f for f in folders if any(p is not None for p in _idx_files(f).values())]
        detail = ""
        if partial:
            missing = [IDX_FILES[r] for r, p in _idx_files(partial[0]).items() if p is None]
            detail = f" ({partial[0]} lacks {', '.join(missing)})"
        raise DatasetNotFoundError(f"{title} not found in {Path(path)}{detail}. "
                                   + _where_to_put(name, folders))
    target = cache_dir() / name
    if download:
        try:
            _download(name, target)
            return target
        except (ImportError, OSError) as exc:
            reason = f"the download failed: {exc}"
    else:
        reason = "downloading was turned off"
    raise DatasetNotFoundError(f"{title} not found on disk and {reason}\n"
                               + _where_to_put(name, folders))


# ------------------------------------------------------------------ reading
def _as_features(images, dtype, scale):
    """(n, ...) uint8 images -> (n, n_pixels) uint8, or floats of ``dtype`` in [0, 1].

    ``dtype``: None or a float dtype, as check_float_dtype(..., allow_none=True) returns.
    """
    X = np.ascontiguousarray(images.reshape(images.shape[0], -1))
    if dtype is None:
        return X
    Xf = X.astype(dtype)
    Xf /= dtype.type(scale)
    return Xf


def load_idx_folder(folder, dtype=None):
    """Read the four IDX files of an MNIST-style data set from ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        Holds the four files named in :data:`IDX_FILES`, each plain or with
        ``.gz``.
    dtype : None, np.float32 or np.float64, default=None
        None: X as uint8 pixel values 0-255. A float dtype: X of that dtype,
        divided by 255 (values in [0, 1]).

    Returns
    -------
    X_train : ndarray of shape (n_train, rows * cols)
    y_train : ndarray of shape (n_train,), int64
    X_test : ndarray of shape (n_test, rows * cols)
    y_test : ndarray of shape (n_test,), int64

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        A file is malformed or truncated, or the files do not fit together.
    """
    dtype = check_float_dtype(dtype, allow_none=True)
    folder = Path(os.fspath(folder)).expanduser()
    files = _idx_files(folder)
    missing = [IDX_FILES[r] + "[.gz]" for r, p in files.items() if p is None]
    if missing:
        raise FileNotFoundError(f"{folder}: missing {', '.join(missing)}")
    arrays = {role: read_idx(p) for role, p in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        pi, pl = files[f"{split}_images"], files[f"{split}_labels"]
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"{pi}: expected uint8 images of shape (n, rows, cols), found "
                             f"{images.dtype} of shape {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{pl}: expected uint8 labels of shape (n,), found {labels.dtype} "
                             f"of shape {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{folder}: {pi.name} holds {images.shape[0]} images but "
                             f"{pl.name} {labels.shape[0]} labels")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise ValueError(f"{folder}: training images are {arrays['train_images'].shape[1:]}, "
                         f"test images {arrays['test_images'].shape[1:]}")
    return (_as_features(arrays["train_images"], dtype, 255),
            arrays["train_labels"].astype(np.int64),
            _as_features(arrays["test_images"], dtype, 255),
            arrays["test_labels"].astype(np.int64))


def load_fashion_mnist(path=None, *, dtype=None, download=True):
    """Fashion-MNIST: 60,000 training and 10,000 test images of 28x28, 10 classes.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the four IDX files; when given, nothing else is searched.
        Otherwise see the module docstring for the search order.
    dtype : None, np.float32 or np.float64, default=None
        None: X as uint8 pixel values 0-255. A float dtype: X of that dtype
        scaled to [0, 1].
    download : bool, default=True
        Download the official files (SHA-256 checked, needs pooch) when not found.

    Returns
    -------
    X_train : ndarray of shape (60000, 784)
    y_train : ndarray of shape (60000,), int64 in 0..9
    X_test : ndarray of shape (10000, 784)
    y_test : ndarray of shape (10000,), int64 in 0..9
    """
    dtype = check_float_dtype(dtype, allow_none=True)  # before any download
    return load_idx_folder(locate("fashion-mnist", path, download), dtype)


def load_mnist(path=None, *, dtype=None, download=True):
    """MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28.

    Same parameters and return values as :func:`load_fashion_mnist`.
    """
    dtype = check_float_dtype(dtype, allow_none=True)  # before any download
    return load_idx_folder(locate("mnist", path, download), dtype)


def load_npz(path, dtype=None):
    """A data set saved with ``np.savez(path, X_train=..., y_train=..., X_test=..., y_test=...)``.

    ``X_*`` may be of shape (n, n_features) or (n, rows, cols); ``y_*`` integer
    labels of shape (n,). With a float ``dtype``, uint8 inputs are divided by
    255; other inputs are converted as they are (scale them yourself).

    Returns
    -------
    X_train, y_train (int64), X_test, y_test (int64)
    """
    dtype = check_float_dtype(dtype, allow_none=True)
    path = Path(os.fspath(path)).expanduser()
    names = ("X_train", "y_train", "X_test", "y_test")
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read as an .npz file of arrays: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single array, not an .npz file of named arrays")
    with data:
        found = sorted(data.files)
        arrays = {k: data[k] for k in names if k in data.files}
    missing = [k for k in names if k not in arrays]
    if missing:
        raise ValueError(f"{path}: missing array(s) {missing}; expected X_train, y_train, "
                         f"X_test, y_test (found {found})")
    out = []
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim < 2 or X.dtype.kind not in "fiu":
            raise ValueError(f"{path}: X_{split} must be a numeric array of shape (n, ...), "
                             f"found {X.dtype} of shape {X.shape}")
        if y.ndim != 1 or y.dtype.kind not in "iu" or y.shape[0] != X.shape[0]:
            raise ValueError(f"{path}: y_{split} must hold {X.shape[0]} integer labels, found "
                             f"{y.dtype} of shape {y.shape}")
        if y.size and y.min() < 0:
            raise ValueError(f"{path}: y_{split} holds negative labels")
        X = X.reshape(X.shape[0], -1)
        if dtype is not None and X.dtype != np.uint8:
            X = np.ascontiguousarray(X, dtype=dtype)
        else:
            X = _as_features(X, dtype, 255)
        out += [X, y.astype(np.int64)]
    if out[0].shape[1] != out[2].shape[1]:
        raise ValueError(f"{path}: X_train has {out[0].shape[1]} features, X_test "
                         f"{out[2].shape[1]}")
    return tuple(out)


def load_digits(dtype=None, n_train=1500):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images): no download needed.

    The first ``n_train`` images are the training set, the rest (297 by
    default) the test set, in the file's order (the test writers differ from
    most training writers, so test accuracy is a fair estimate).

    Parameters
    ----------
    dtype : None, np.float32 or np.float64, default=None
        None: X as uint8 pixel values 0-16. A float dtype: X of that dtype
        divided by 16 (values in [0, 1]).
    n_train : int, default=1500
        Rows of the training set, 1 to 1796.

    Returns
    -------
    X_train : ndarray of shape (n_train, 64)
    y_train : ndarray of shape (n_train,), int64 in 0..9
    X_test : ndarray of shape (1797 - n_train, 64)
    y_test : ndarray of shape (1797 - n_train,), int64 in 0..9

    Raises
    ------
    ImportError
        scikit-learn is not installed (``pip install "fastbp[sklearn]"``).
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as exc:
        raise ImportError("load_digits needs scikit-learn, which bundles the 8x8 digits: "
                          "pip install \"fastbp[sklearn]\" (or \"fastbp[all]\")") from exc
    dtype = check_float_dtype(dtype, allow_none=True)
    images, labels = sk_load_digits(return_X_y=True)
    n_train = check_int(n_train, "n_train", minimum=1, maximum=images.shape[0] - 1)
    X = images.astype(np.uint8)  # the pixel counts 0..16 are stored as floats
    y = labels.astype(np.int64)
    return (_as_features(X[:n_train], dtype, 16), y[:n_train],
            _as_features(X[n_train:], dtype, 16), y[n_train:])
