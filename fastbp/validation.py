"""Argument checks for the public API, run before any kernel sees the data.

Numba does not check bounds, so every public entry point validates shapes,
dtypes, finiteness and ranges here first. ``TypeError`` for a wrong type,
``ValueError`` for a wrong value; each message names the argument, what was
expected and what was found.
"""
import numbers
import operator
import os
from collections.abc import Mapping, Set

import numpy as np

#: Parameter dtypes fastbp computes in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: Integers reach the kernels as int64.
INT64_MAX = int(np.iinfo(np.int64).max)

#: Widest layer: the kernels' BLAS calls pass dimensions as 32-bit integers.
MAX_WIDTH = 2**31 - 1

#: Most parameters a network may have (the flat buffer is indexed with int64).
MAX_PARAMETERS = 2**62


def _short(value, limit=60):
    """repr(value) cut to ``limit`` characters (safe for huge ints and arrays)."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int beyond sys.get_int_max_str_digits()
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


#: Elements per block of :func:`all_finite`'s scan (its only temporary).
FINITE_BLOCK = 2**16


def all_finite(a):
    """True if every element of the numeric array ``a`` is finite.

    Scanned in blocks of FINITE_BLOCK elements, so the data set is never
    copied and the check compiles nothing (NumPy, not Numba: a compiled scan
    cost half a second of a new user's first fit, per dtype and shape).
    """
    if a.dtype.kind in "iub" or a.size == 0:
        return True
    flat = a.reshape(-1)  # a view when a is contiguous (the usual case)
    mask = np.empty(min(flat.size, FINITE_BLOCK), dtype=bool)
    for start in range(0, flat.size, FINITE_BLOCK):
        block = flat[start:start + FINITE_BLOCK]
        if not np.isfinite(block, out=mask[:block.size]).all():
            return False
    return True


def check_float_dtype(dtype, name="dtype", allow_none=False):
    """np.dtype of float32 or float64, else TypeError/ValueError.

    ``allow_none=True``: None is returned as it is (the data loaders' "raw
    uint8"); otherwise None means float64, as for np.dtype.
    """
    if allow_none and dtype is None:
        return None
    expected = "None, np.float32 or np.float64" if allow_none else "np.float32 or np.float64"
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}: expected {expected}, found {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected {expected}, found {dt}")
    return dt


def check_int(value, name, minimum=None, maximum=INT64_MAX):
    """A Python int (bools rejected) in [minimum, maximum]; by default it must fit in int64."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, found {type(value).__name__} "
                        f"{_short(value)}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, found {_short(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected an integer <= {maximum}, found {_short(value)}")
    return value


def check_float(value, name, minimum=None, maximum=None, strict_min=False, strict_max=False,
                finite=True):
    """A real number within the given bounds, returned as float.

    ``finite=True`` (the default) refuses infinities; with ``finite=False``
    an infinity within the bounds is accepted (scikit-learn's intervals, e.g.
    ``tol`` in [0, inf)). NaN is always refused.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, found {type(value).__name__} "
                        f"{_short(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        kind = "a finite number" if finite else "a number within the float range"
        raise ValueError(f"{name}: expected {kind}, found {_short(value)}") from None
    if np.isnan(value) or (finite and not np.isfinite(value)):
        kind = "a finite number" if finite else "a number (not NaN)"
        raise ValueError(f"{name}: expected {kind}, found {value}")
    if minimum is not None and (value <= minimum if strict_min else value < minimum):
        op = ">" if strict_min else ">="
        raise ValueError(f"{name}: expected a number {op} {minimum}, found {value}")
    if maximum is not None and (value >= maximum if strict_max else value > maximum):
        op = "<" if strict_max else "<="
        raise ValueError(f"{name}: expected a number {op} {maximum}, found {value}")
    return value


def check_bool(value, name):
    """``value`` as a bool if it is True or False (or a NumPy bool); else TypeError (0 and 1 too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, found {type(value).__name__} "
                        f"{_short(value)}")
    return bool(value)


def check_sizes(sizes):
    """Layer widths: an ordered sequence of at least two ints from 1 to MAX_WIDTH.

    Sets and mappings are refused (their order is not the layers' order), and
    so are networks of more than MAX_PARAMETERS parameters. A network that is
    merely too large for the machine's memory gets NumPy's MemoryError when
    its parameters are allocated.
    """
    if (isinstance(sizes, (str, bytes, Set, Mapping)) or not hasattr(sizes, "__len__")
            or (isinstance(sizes, np.ndarray) and sizes.ndim != 1)):
        raise TypeError(f"sizes: expected a sequence of layer widths such as [784, 30, 10], "
                        f"found {type(sizes).__name__}")
    sizes = tuple(check_int(s, f"sizes[{i}]", minimum=1, maximum=MAX_WIDTH)
                  for i, s in enumerate(sizes))
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least two layers (input and output), "
                         f"found {len(sizes)}")
    n_parameters = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_parameters > MAX_PARAMETERS:
        raise ValueError(f"sizes: expected at most {MAX_PARAMETERS} parameters in all, "
                         f"found {n_parameters} for sizes {list(sizes)}")
    return sizes


def check_seed(seed, name="seed"):
    """A np.random.Generator from ``seed``.

    ``seed`` may be None, an int >= 0, a Generator (returned as it is, so
    drawing from it advances the caller's), a BitGenerator or a SeedSequence.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (np.random.BitGenerator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name}: expected None, an integer >= 0 or a np.random.Generator, "
                        f"found {type(seed).__name__} {_short(seed)}")
    if seed < 0:
        raise ValueError(f"{name}: expected an integer >= 0, found {_short(seed)}")
    return np.random.default_rng(operator.index(seed))


def check_choice(value, name, choices):
    """``value`` if it is one of the strings ``choices``; else TypeError/ValueError naming it."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {list(choices)}, found "
                        f"{type(value).__name__} {_short(value)}")
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, found {value!r}")
    return value


def check_path(path, name="path"):
    """``path`` as a str (via os.fspath); int file descriptors and other types are refused."""
    if isinstance(path, (bool, int)) or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{name}: expected a file path (str or os.PathLike), found "
                        f"{type(path).__name__} {_short(path)}")
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path or "\0" in path:
        raise ValueError(f"{name}: expected a file path, found {path!r}")
    return path


def _as_numeric_array(X, name):
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name}: expected a numeric array, found {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except Exception as exc:
        raise TypeError(f"{name}: expected a numeric array, could not convert "
                        f"{type(X).__name__}: {exc}") from exc
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a real numeric array, found dtype {arr.dtype}")
    return arr


def check_inputs(X, n_features, dtype, name="X", allow_uint8=True):
    """Inputs as a C-contiguous 2-D array the kernels can read directly.

    Parameters
    ----------
    X : array_like of shape (n, n_features) or (n_features,)
    n_features : int
    dtype : np.dtype
        The network's dtype. X of this dtype (or uint8, when ``allow_uint8``)
        is used as it is, without a copy; any other numeric dtype is converted.

    Returns
    -------
    X2 : ndarray of shape (n, n_features)
    single : bool
        True when X was one example of shape (n_features,).
    """
    arr = _as_numeric_array(X, name)
    single = arr.ndim == 1
    if single:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (n_samples, {n_features}) or ({n_features},), "
                         f"found {arr.shape}")
    if arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features (sizes[0]), found shape "
                         f"{arr.shape}")
    keep = arr.dtype == dtype or (allow_uint8 and arr.dtype == np.uint8)
    original = arr
    if not keep:
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, by name
            arr = arr.astype(dtype)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    if not all_finite(arr):
        _raise_non_finite(name, original, dtype)
    return arr, single


def _raise_non_finite(name, original, dtype):
    """ValueError for non-finite values: in the data, or made by the conversion to ``dtype``."""
    if original.dtype.kind in "fc" and not all_finite(original):
        raise ValueError(f"{name}: contains NaN or infinite values")
    limit = float(np.finfo(dtype).max)
    raise ValueError(f"{name}: contains values beyond the range of {np.dtype(dtype).name} "
                     f"(|x| <= {limit:.3g}), which would become infinite; rescale the data "
                     f"or use dtype=np.float64")


def check_nonempty(n, name="X"):
    if n == 0:
        raise ValueError(f"{name}: expected at least one example, found 0 rows")


def check_targets(Y, n, n_outputs, dtype, name="Y"):
    """Targets as a C-contiguous (n, n_outputs) array of ``dtype``.

    Integer class labels of shape (n,) become one-hot rows; a float vector of
    shape (n,) is accepted when n_outputs == 1.
    """
    arr = _as_numeric_array(Y, name)
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(f"{name}: expected {n} targets (one per row of X), found {arr.shape[0]}")
        if arr.dtype.kind in "iub" and not (n_outputs == 1 and arr.dtype.kind == "b"):
            return one_hot(arr, n_outputs, dtype, name)
        if n_outputs == 1:
            arr = arr.reshape(-1, 1)
        else:
            raise ValueError(f"{name}: a 1-D {name} must hold integer class labels; found dtype "
                             f"{arr.dtype}. Pass one-hot or target rows of shape (n, {n_outputs}).")
    if arr.ndim != 2 or arr.shape != (n, n_outputs):
        raise ValueError(f"{name}: expected shape ({n}, {n_outputs}) or integer labels of shape "
                         f"({n},), found {arr.shape}")
    original = arr
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, by name
        arr = np.ascontiguousarray(arr, dtype=dtype)
    if not all_finite(arr):
        _raise_non_finite(name, original, dtype)
    return arr


def check_labels(y, n, n_classes, name="y"):
    """Integer labels of shape (n,) in [0, n_classes); one-hot rows are reduced by argmax."""
    arr = _as_numeric_array(y, name)
    if arr.ndim == 2 and arr.shape == (n, n_classes):
        if not all_finite(arr):
            raise ValueError(f"{name}: contains NaN or infinite values")
        return np.argmax(arr, axis=1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name}: expected integer labels of shape ({n},) or one-hot of shape "
                         f"({n}, {n_classes}), found {arr.shape}")
    if arr.dtype.kind == "f":
        if not all_finite(arr) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name}: expected integer class labels, found non-integer values")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):  # before the cast to int64
        raise ValueError(f"{name}: labels must lie in [0, {n_classes}), found range "
                         f"[{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def one_hot(labels, n_classes, dtype=np.float64, name="y"):
    """(n, n_classes) array of ``dtype`` with a 1 at each row's label.

    The one one-hot encoder of fastbp (check_targets, network2's costs, the
    book's ``vectorized_result``, the benchmarks). ``labels``: integer class
    labels of shape (n,) in [0, n_classes), any array-like (checked by
    :func:`check_labels`; one-hot rows of shape (n, n_classes) are accepted too).
    """
    arr = _as_numeric_array(labels, name)
    labels = check_labels(arr, arr.shape[0] if arr.ndim else 1, n_classes, name)
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
