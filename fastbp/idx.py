"""Reader for the IDX files of MNIST and Fashion-MNIST (optionally gzipped).

Format: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), then one big-endian uint32 per dimension, then the data in C
order. Only unsigned bytes (type 0x08) are used by these data sets.
"""
import gzip
import os

import numpy as np

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(data, name="<bytes>"):
    """Array from the bytes of an IDX file; ValueError naming ``name`` if malformed."""
    if len(data) < 4:
        raise ValueError(f"{name}: not an IDX file (only {len(data)} bytes)")
    if data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise ValueError(f"{name}: not an IDX file (bad magic number {data[:4].hex()})")
    dtype = _TYPES[data[2]]
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{name}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{name}: IDX data holds {len(data) - header} bytes, the header "
                         f"{shape} needs {expected} (truncated or corrupt file)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file (``.gz`` or plain) into a NumPy array of its stored type."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: cannot read IDX file: {exc}") from exc
    return parse_idx(raw, path)
