"""Training checkpoints: everything a fit needs to continue bit-identically.

A checkpoint is an ``.npz`` file (NumPy arrays only, read with
``allow_pickle=False``) holding the parameters, the optimiser state (momentum
velocity, Adam moments and step count), the shuffling generator's state, the
number of epochs done, the history so far, and the settings of the fit it
belongs to. It is written atomically (temporary file, fsync, os.replace).
"""
import json
import zipfile

import numpy as np

from .serialization import write_file_atomic

CHECKPOINT_VERSION = 1

#: Bit generators a checkpoint may name; nothing else is looked up from a file.
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
                   "MT19937": np.random.MT19937, "Philox": np.random.Philox,
                   "SFC64": np.random.SFC64}


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def write_checkpoint(path, theta, v1, v2, step, rng, epochs_done, history, settings):
    """Write a checkpoint atomically; see the module docstring for its contents."""
    meta = {"version": CHECKPOINT_VERSION, "epochs_done": int(epochs_done), "step": float(step),
            "rng": rng.bit_generator.state, "history": history, "settings": settings}
    write_file_atomic(path, lambda f: np.savez(
        f, theta=theta, v1=v1, v2=v2, meta=np.array(json.dumps(meta, default=_json_default))))


def read_checkpoint(path, n_parameters, dtype, settings):
    """Read and check a checkpoint written for a fit with the same ``settings``.

    Returns
    -------
    dict with keys theta, v1, v2 (arrays), step (float), rng (np.random.Generator),
    epochs_done (int), history (dict).

    Raises
    ------
    ValueError
        If the file is not a fastbp checkpoint, is damaged, or belongs to a
        different network or fit settings (the message names the difference).
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("theta", "v1", "v2", "meta")}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable fastbp checkpoint: {exc}") from exc
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise ValueError(f"{path}: damaged checkpoint metadata: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: unsupported checkpoint version")
    theta = arrays["theta"]
    if theta.shape != (n_parameters,) or theta.dtype != dtype:
        raise ValueError(f"{path}: the checkpoint holds {theta.shape[0] if theta.ndim == 1 else theta.shape} "
                         f"{theta.dtype} parameters; this network has {n_parameters} {dtype}")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{path}: the checkpoint's parameters are not all finite")
    saved = meta.get("settings", {})
    different = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
    if different:
        raise ValueError(f"{path}: the checkpoint was written by a fit with other settings "
                         f"({', '.join(f'{k}: {saved.get(k)!r} there, {settings.get(k)!r} here' for k in different)})")
    state = meta.get("rng", {})
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"{path}: unknown random bit generator {name!r}")
    bit_generator = _BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: damaged random generator state: {exc}") from exc
    epochs_done = meta.get("epochs_done")
    if isinstance(epochs_done, bool) or not isinstance(epochs_done, int) \
            or not 0 <= epochs_done <= settings.get("epochs", epochs_done):
        raise ValueError(f"{path}: epochs_done must be an integer in [0, epochs], found "
                         f"{epochs_done!r}")
    step = meta.get("step")
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not np.isfinite(step) \
            or step < 0:
        raise ValueError(f"{path}: the optimiser step count must be a finite number >= 0, "
                         f"found {step!r}")
    for key in ("v1", "v2"):
        v = arrays[key]
        if v.ndim != 1 or v.dtype != dtype or v.shape[0] not in (0, n_parameters) \
                or not np.all(np.isfinite(v)):
            raise ValueError(f"{path}: optimiser state {key} must be 0 or {n_parameters} finite "
                             f"{dtype} values, found {v.shape} {v.dtype}")
    history = meta.get("history")
    if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list)
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for k, v in history.items()):
        raise ValueError(f"{path}: history must map names to lists of numbers")
    return {"theta": theta, "v1": arrays["v1"], "v2": arrays["v2"], "step": float(step),
            "rng": np.random.Generator(bit_generator), "epochs_done": epochs_done,
            "history": history}
