"""Save and load networks as JSON, compatible with network2.py's files.

The file holds network2.py's fields (``sizes``, ``weights``, ``biases`` as
(n, 1) nested lists, ``cost`` as a class name) plus ``format``, ``version``,
``activations`` and ``dtype``. Loading checks a strict schema, never
unpickles and never looks up names from the file other than in fixed tables.
Saving is atomic: a crash mid-save leaves the previous file intact.

Errors: a path that is not a str or os.PathLike is a TypeError; a missing
file is FileNotFoundError and an unreadable or unwritable one another
OSError; anything wrong with the content of a file (not JSON, truncated,
nested too deeply, duplicate keys, wrong shapes, unknown names, numbers out
of range) is a ValueError that names the file and the problem.
"""
import json
import math
import os
import tempfile
from collections.abc import Mapping

import numpy as np

from .activations import ACTIVATION_ALIASES, ACTIVATIONS, CUSTOM, Activation
from .costs import COST_ALIASES, COSTS
from .validation import check_path, check_sizes

FORMAT_NAME = "fastbp.Network"
FORMAT_VERSION = 1
_COST_CLASS_NAMES = {"quadratic": "QuadraticCost", "cross_entropy": "CrossEntropyCost"}
_CUSTOM_PREFIX = "custom:"


def network_to_dict(net):
    """The JSON-ready dict that :func:`save` writes.

    The weights and biases are read from the network's flat parameter buffer
    through its layout, not through the view objects of ``net.weights``,
    which a user could have reshaped or re-typed in place.
    """
    theta = net._theta
    weights, biases = [], []
    for n_in, n_out, w0, b0, _ in net._layout.tolist():
        weights.append(theta[w0:w0 + n_in * n_out].reshape(n_out, n_in).tolist())
        biases.append(theta[b0:b0 + n_out].reshape(n_out, 1).tolist())
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "sizes": list(net.sizes),
        "weights": weights,
        "biases": biases,
        "cost": _COST_CLASS_NAMES.get(net.cost_function.name, net.cost_function.name),
        "activations": [(_CUSTOM_PREFIX + a.name) if a.code == CUSTOM else a.name
                        for a in net.activations],
        "dtype": net.dtype.name,
        "input_scale": net.input_scale,
    }


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` atomically; see :func:`write_file_atomic`."""
    write_file_atomic(path, lambda f: json.dump(data, f), binary=False)


def write_file_atomic(path, write, binary=True):
    """Write a file via a temporary file in the same folder, fsync and os.replace.

    ``write(f)`` writes the content to the open temporary file. At every
    moment ``path`` holds either its previous content or the complete new
    file: a process killed mid-write (SIGKILL, power loss) can leave the
    temporary file ``.<name>.<random>.tmp`` behind, never a damaged ``path``.

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike.
    OSError
        The folder does not exist (FileNotFoundError) or is not writable.
    """
    path = check_path(path, "path")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        _set_final_mode(fd, path)
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            write(f)
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


def _umask():
    """The process's umask (from /proc on Linux, else by setting and restoring it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _set_final_mode(fd, path):
    """Give the temporary file the mode ``path`` will have: its current one, else 0o666 - umask.

    mkstemp creates files readable by their owner only; without this, every
    save would leave the model file with mode 0600.
    """
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        os.fchmod(fd, mode)
    except (OSError, AttributeError):  # no fchmod (Windows) or not permitted: keep mkstemp's
        pass


def save(net, path):
    """Write ``net`` to ``path`` as JSON, atomically."""
    write_json_atomic(path, network_to_dict(net))


def _reject_constant(name):
    raise ValueError(f"non-finite number {name} in model file")


def _unique_keys(pairs):
    """json object hook: a dict, refusing keys given twice (a hand-edited file)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def read_json(path):
    """Parse the JSON file at ``path`` strictly.

    NaN and Infinity literals and duplicate keys are refused; every problem
    with the content (truncated, not UTF-8, nested too deeply for the parser,
    an integer with too many digits) is a ValueError naming the file.

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike.
    FileNotFoundError, OSError
        The file is missing or cannot be read.
    ValueError
        The content is not valid JSON.
    """
    path = check_path(path, "path")
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (truncated or edited?): {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text JSON file: {exc}") from exc
    except RecursionError:
        raise ValueError(f"{path}: not a model file: its JSON is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid model file: {exc}") from exc


def invalid_model_file(path, msg):
    raise ValueError(f"{path}: not a valid fastbp/network2 model file: {msg}")


_NUMBER_TYPES = (int, float)  # what json gives for numbers; type() excludes bool


def _only_numbers(value, depth=3):
    """True if value is a number or lists of numbers nested at most ``depth`` deep."""
    if type(value) is not list:
        return type(value) in _NUMBER_TYPES
    if depth == 0:
        return False
    if all(type(v) in _NUMBER_TYPES for v in value):  # a row: the common case, fast
        return True
    return all(_only_numbers(v, depth - 1) for v in value)


def _array(value, shape, what, path):
    if not _only_numbers(value):
        invalid_model_file(path, f"{what} must hold only numbers (nested lists of JSON numbers)")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # ragged, or an int beyond float range
        invalid_model_file(path, f"{what} is not an array of (float64) numbers of one shape")
    squeezed = tuple(s for s in shape if s != 1)
    if arr.size != math.prod(shape) or arr.squeeze().shape != squeezed:
        invalid_model_file(path, f"{what} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        invalid_model_file(path, f"{what} contains non-finite numbers")
    return arr.reshape(shape)


def network_fields(data, path="<dict>", custom_activations=None):
    """Check the dict :func:`network_to_dict` produces; return what rebuilds the network.

    Returns
    -------
    arguments : dict
        Network(**arguments) builds it (sizes, activation, cost, dtype, input_scale).
    weights, biases : list of ndarray (float64)
        Its parameters, each of its shape.

    Raises ValueError naming ``path`` and the field for anything off.
    """
    check_custom_activations(custom_activations)
    if not isinstance(data, dict):
        invalid_model_file(path, "the top level is not a JSON object")
    missing = [k for k in ("sizes", "weights", "biases", "cost") if k not in data]
    if missing:
        invalid_model_file(path, f"missing field(s) {missing}")
    if data.get("format", FORMAT_NAME) != FORMAT_NAME:
        invalid_model_file(path, f"format must be {FORMAT_NAME!r}, found {data['format']!r:.60}")
    version = data.get("version", FORMAT_VERSION)  # network2.py's files have none
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        invalid_model_file(path, f"unsupported format version {version!r:.40} (this fastbp reads versions "
                    f"1 to {FORMAT_VERSION})")
    try:
        sizes = check_sizes(data["sizes"])
    except (TypeError, ValueError) as exc:
        invalid_model_file(path, str(exc))
    L = len(sizes) - 1
    cost = data["cost"]
    if not isinstance(cost, str) or COST_ALIASES.get(cost, cost) not in COSTS:
        invalid_model_file(path, f"unknown cost {cost!r}; expected one of {sorted(COSTS)} or "
                    f"{sorted(_COST_CLASS_NAMES.values())}")
    cost = COST_ALIASES.get(cost, cost)
    names = data.get("activations")
    if names is None:  # a network2.py file: sigmoid throughout
        names = ["sigmoid"] * L
    if not isinstance(names, list) or len(names) != L or not all(isinstance(a, str) for a in names):
        invalid_model_file(path, f"activations must be a list of {L} names")
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
            invalid_model_file(path, f"unknown activation {name!r} for layer {i + 1}; expected one of "
                        f"{sorted(ACTIVATIONS)}")
    dtype = data.get("dtype", "float64")
    if dtype not in ("float32", "float64"):
        invalid_model_file(path, f"dtype must be 'float32' or 'float64', found {dtype!r}")
    W, b = data["weights"], data["biases"]
    if not isinstance(W, list) or len(W) != L or not isinstance(b, list) or len(b) != L:
        invalid_model_file(path, f"weights and biases must be lists of {L} arrays")
    weights = [_array(W[l], (sizes[l + 1], sizes[l]), f"weights[{l}]", path) for l in range(L)]
    biases = [_array(b[l], (sizes[l + 1],), f"biases[{l}]", path) for l in range(L)]
    input_scale = data.get("input_scale", 1.0)
    try:
        valid = (type(input_scale) in _NUMBER_TYPES and math.isfinite(input_scale)
                 and input_scale > 0)
    except OverflowError:  # an int beyond the float range
        valid = False
    if not valid:
        invalid_model_file(path, f"input_scale must be a positive finite number, found {input_scale!r:.40}")
    arguments = dict(sizes=sizes, activation=acts, cost=cost, dtype=np.dtype(dtype),
                     input_scale=float(input_scale))
    return arguments, weights, biases


def check_custom_activations(custom_activations):
    """TypeError unless ``custom_activations`` is None or a mapping."""
    if custom_activations is not None and not isinstance(custom_activations, Mapping):
        raise TypeError(f"custom_activations: expected a dict of name -> fastbp.Activation, "
                        f"found {type(custom_activations).__name__}")
