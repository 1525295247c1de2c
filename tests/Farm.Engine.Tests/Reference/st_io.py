"""Hand-written safetensors reader/writer (Debian's torch 1.13 has no safetensors package).

Independent of the C# implementation on purpose: it checks the C# writer and reader against the format itself.
Format: 8-byte little-endian header length N, N bytes of JSON ({name: {dtype, shape, data_offsets}, "__metadata__"?}),
then the raw little-endian tensor bytes; offsets are relative to the end of the header.
"""
import json
import struct

import numpy as np
import torch

_NUMPY = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8"}
_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64", torch.bfloat16: "BF16"}


def load(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = halves.view(np.float32).reshape(shape)
            out[name] = torch.from_numpy(array.copy()).to(torch.bfloat16)
        else:
            array = np.frombuffer(raw, dtype=_NUMPY[info["dtype"]]).reshape(shape)
            out[name] = torch.from_numpy(array.copy())
    return out


def save(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = (t.float().numpy().view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            raw = t.numpy().astype(_NUMPY[_NAMES[t.dtype]]).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
