"""Minimal safetensors writer/reader (the format is a length-prefixed JSON header plus raw
little-endian bytes), so the parity scripts need only torch and numpy from Debian."""
import json
import struct

import numpy as np

_NAMES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32",
          np.dtype("int64"): "I64", np.dtype("bool"): "BOOL"}
_TYPES = {v: k for k, v in _NAMES.items()}


def save(path, arrays):
    header, blobs, off = {}, [], 0
    for name in sorted(arrays):
        a = np.asarray(arrays[name], order="C")  # (ascontiguousarray would turn a 0-d array into shape (1,))
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        out[name] = np.frombuffer(data[lo:hi], dtype=_TYPES[e["dtype"]]).reshape(e["shape"])
    return out
