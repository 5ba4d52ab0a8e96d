"""Save and load networks as JSON, compatible with network2.py's files.

The file holds network2.py's fields (``sizes``, ``weights``, ``biases`` as
(n, 1) nested lists, ``cost`` as a class name) plus ``format``, ``version``,
``activations`` and ``dtype``. Loading checks a strict schema, never
unpickles and never looks up names from the file other than in fixed tables.
Saving is atomic: a crash mid-save leaves the previous file intact.
"""
import json
import math
import os
import tempfile

import numpy as np

from .activations import ACTIVATION_ALIASES, ACTIVATIONS, CUSTOM, Activation
from .costs import COST_ALIASES, COSTS

FORMAT_NAME = "fastbp.Network"
FORMAT_VERSION = 1
_COST_CLASS_NAMES = {"quadratic": "QuadraticCost", "cross_entropy": "CrossEntropyCost"}
_CUSTOM_PREFIX = "custom:"


def network_to_dict(net):
    """The JSON-ready dict that :func:`save` writes."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "sizes": list(net.sizes),
        "weights": [W.tolist() for W in net.weights],
        "biases": [b.reshape(-1, 1).tolist() for b in net.biases],
        "cost": _COST_CLASS_NAMES.get(net.cost_function.name, net.cost_function.name),
        "activations": [(_CUSTOM_PREFIX + a.name) if a.code == CUSTOM else a.name
                        for a in net.activations],
        "dtype": net.dtype.name,
        "input_scale": net.input_scale,
    }


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` via a temporary file, fsync and os.replace."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save(net, path):
    """Write ``net`` to ``path`` as JSON, atomically."""
    write_json_atomic(path, network_to_dict(net))


def _reject_constant(name):
    raise ValueError(f"non-finite number {name} in model file")


def _fail(path, msg):
    raise ValueError(f"{path}: not a valid fastbp/network2 model file: {msg}")


def _only_numbers(value):
    """True if value is a number or nested lists of numbers (bools and strings excluded)."""
    if isinstance(value, list):
        return all(_only_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _array(value, shape, what, path):
    if not _only_numbers(value):
        _fail(path, f"{what} must hold only numbers (nested lists of JSON numbers)")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(path, f"{what} is not an array of numbers")
    if arr.size != math.prod(shape) or arr.squeeze().shape != np.empty(shape).squeeze().shape:
        _fail(path, f"{what} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        _fail(path, f"{what} contains non-finite numbers")
    return arr.reshape(shape)


def network_from_dict(data, path="<dict>", custom_activations=None):
    """Build a Network from the dict :func:`network_to_dict` produces (checked)."""
    from .model import Network
    from .validation import check_sizes

    if not isinstance(data, dict):
        _fail(path, "the top level is not a JSON object")
    missing = [k for k in ("sizes", "weights", "biases", "cost") if k not in data]
    if missing:
        _fail(path, f"missing field(s) {missing}")
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version > FORMAT_VERSION:
        _fail(path, f"unsupported format version {version!r} (this fastbp reads up to "
                    f"{FORMAT_VERSION})")
    try:
        sizes = check_sizes(data["sizes"])
    except (TypeError, ValueError) as exc:
        _fail(path, f"sizes: {exc}")
    L = len(sizes) - 1
    cost = data["cost"]
    if not isinstance(cost, str) or COST_ALIASES.get(cost, cost) not in COSTS:
        _fail(path, f"unknown cost {cost!r}; expected one of {sorted(COSTS)} or "
                    f"{sorted(_COST_CLASS_NAMES.values())}")
    cost = COST_ALIASES.get(cost, cost)
    names = data.get("activations")
    if names is None:  # a network2.py file: sigmoid throughout
        names = ["sigmoid"] * L
    if not isinstance(names, list) or len(names) != L or not all(isinstance(a, str) for a in names):
        _fail(path, f"activations must be a list of {L} names")
    custom_activations = dict(custom_activations or {})
    acts = []
    for i, name in enumerate(names):
        if name.startswith(_CUSTOM_PREFIX):
            key = name[len(_CUSTOM_PREFIX):]
            act = custom_activations.get(key)
            if not isinstance(act, Activation):
                raise ValueError(
                    f"{path}: layer {i + 1} uses the custom activation {key!r}, whose code is "
                    f"not stored in model files and cannot be loaded from one. Pass it: "
                    f"fastbp.load(path, custom_activations={{{key!r}: fastbp.Activation(...)}})")
            acts.append(act)
        elif ACTIVATION_ALIASES.get(name, name) in ACTIVATIONS:
            acts.append(ACTIVATIONS[ACTIVATION_ALIASES.get(name, name)])
        else:
            _fail(path, f"unknown activation {name!r} for layer {i + 1}; expected one of "
                        f"{sorted(ACTIVATIONS)}")
    dtype = data.get("dtype", "float64")
    if dtype not in ("float32", "float64"):
        _fail(path, f"dtype must be 'float32' or 'float64', found {dtype!r}")
    W, b = data["weights"], data["biases"]
    if not isinstance(W, list) or len(W) != L or not isinstance(b, list) or len(b) != L:
        _fail(path, f"weights and biases must be lists of {L} arrays")
    weights = [_array(W[l], (sizes[l + 1], sizes[l]), f"weights[{l}]", path) for l in range(L)]
    biases = [_array(b[l], (sizes[l + 1],), f"biases[{l}]", path) for l in range(L)]
    input_scale = data.get("input_scale", 1.0)
    if isinstance(input_scale, bool) or not isinstance(input_scale, (int, float)) \
            or not math.isfinite(input_scale) or input_scale <= 0:
        _fail(path, f"input_scale must be a positive finite number, found {input_scale!r}")
    try:
        net = Network(sizes, activation=acts, cost=cost, dtype=np.dtype(dtype), seed=0,
                      input_scale=float(input_scale))
    except (TypeError, ValueError) as exc:
        _fail(path, str(exc))
    net.weights = weights
    net.biases = biases
    return net


def load(path, custom_activations=None):
    """Read a network written by :meth:`Network.save` or by the book's network2.py.

    Parameters
    ----------
    path : str or os.PathLike
    custom_activations : dict of str to Activation, optional
        The custom activations the file names (their code is not in the file).

    Raises
    ------
    ValueError
        If the file is not valid JSON or breaks the schema (the message says where).
    """
    try:
        with open(path, "r") as f:
            data = json.load(f, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (truncated or edited?): {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text JSON file: {exc}") from exc
    return network_from_dict(data, path, custom_activations)
