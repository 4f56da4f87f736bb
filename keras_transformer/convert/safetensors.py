"""A reader for `.safetensors` files in NumPy: no pickle, no torch, no `safetensors` package.

The format: an 8-byte little-endian header length, a JSON header `{name: {"dtype", "shape",
"data_offsets": [begin, end]}}` (plus an optional `"__metadata__"`), then the raw little-endian bytes.
"""

import json
import struct

import numpy as np

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
_MAX_HEADER_BYTES = 100 << 20


class SafetensorsError(ValueError):
    """A file is not a valid safetensors file (the message says where)."""


def read_safetensors(path):
    """Every tensor of the safetensors file at `path`, as `{name: np.ndarray}` (copies, not views).

    Raises:
        SafetensorsError: a truncated file, a bad header, an unknown dtype, or a tensor whose byte
            range does not fit its shape or the file.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "one.safetensors")
    >>> header = b'{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'
    >>> _ = open(path, "wb").write(len(header).to_bytes(8, "little") + header + np.float32([1, 2]).tobytes())
    >>> read_safetensors(path)["x"].tolist()
    [1.0, 2.0]
    """
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 8:
        raise SafetensorsError(f"{path}: too short for a safetensors file ({len(data)} bytes).")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > min(_MAX_HEADER_BYTES, len(data) - 8):
        raise SafetensorsError(f"{path}: header length {header_length} does not fit the file ({len(data)} bytes).")
    try:
        header = json.loads(data[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"{path}: the header is not JSON: {error}") from None
    body = memoryview(data)[8 + header_length :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{path}: tensor {name!r} has an unsupported dtype {entry.get('dtype')!r}.")
        shape = tuple(int(n) for n in entry["shape"])
        begin, end = (int(n) for n in entry["data_offsets"])
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if not 0 <= begin <= end <= len(body) or end - begin != size:
            raise SafetensorsError(
                f"{path}: tensor {name!r} ({entry['dtype']} {list(shape)}) has byte range [{begin}, {end}), "
                f"which does not hold {size} bytes inside the {len(body)}-byte body."
            )
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors
