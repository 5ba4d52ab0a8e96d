"""Argument checks for the public API, run before any kernel sees the data.

Numba does not check bounds, so every public entry point validates shapes,
dtypes, finiteness and ranges here first. ``TypeError`` for a wrong type,
``ValueError`` for a wrong value; each message names the argument, what was
expected and what was found.
"""
import numbers
import operator

import numpy as np

from ._numba_options import jit

#: Parameter dtypes fastbp computes in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@jit
def _all_finite(a):
    for v in a.ravel():
        if not np.isfinite(v):
            return False
    return True


def all_finite(a):
    """True if every element of the numeric array ``a`` is finite (no copy)."""
    if a.dtype.kind in "iub" or a.size == 0:
        return True
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return bool(_all_finite(a))


def check_float_dtype(dtype, name="dtype"):
    """np.dtype of float32 or float64, else TypeError/ValueError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}: expected np.float32 or np.float64, found {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected np.float32 or np.float64, found {dt}")
    return dt


def check_int(value, name, minimum=None):
    """A Python int (bools rejected) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, found {type(value).__name__} {value!r}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, found {value}")
    return value


def check_float(value, name, minimum=None, maximum=None, strict_min=False, strict_max=False):
    """A finite real number within the given bounds, returned as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, found {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, found {value}")
    if minimum is not None and (value <= minimum if strict_min else value < minimum):
        op = ">" if strict_min else ">="
        raise ValueError(f"{name}: expected a number {op} {minimum}, found {value}")
    if maximum is not None and (value >= maximum if strict_max else value > maximum):
        op = "<" if strict_max else "<="
        raise ValueError(f"{name}: expected a number {op} {maximum}, found {value}")
    return value


def check_sizes(sizes):
    """Layer widths: a sequence of at least two positive ints."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes: expected a sequence of layer widths such as [784, 30, 10], "
                        f"found {type(sizes).__name__}")
    sizes = tuple(check_int(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes))
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least two layers (input and output), "
                         f"found {len(sizes)}")
    return sizes


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
    if not keep:
        arr = arr.astype(dtype)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    if not all_finite(arr):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr, single


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
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not all_finite(arr):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def check_labels(y, n, n_classes, name="y"):
    """Integer labels of shape (n,) in [0, n_classes); one-hot rows are reduced by argmax."""
    arr = _as_numeric_array(y, name)
    if arr.ndim == 2 and arr.shape == (n, n_classes):
        return np.argmax(arr, axis=1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name}: expected integer labels of shape ({n},) or one-hot of shape "
                         f"({n}, {n_classes}), found {arr.shape}")
    if arr.dtype.kind == "f":
        if not all_finite(arr) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name}: expected integer class labels, found non-integer values")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name}: labels must lie in [0, {n_classes}), found range "
                         f"[{arr.min()}, {arr.max()}]")
    return arr


def one_hot(labels, n_classes, dtype, name="y"):
    """(n, n_classes) array of dtype with a 1 at each row's label."""
    labels = check_labels(labels, labels.shape[0], n_classes, name)
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
