"""Reads a safetensors file written by C# with st_io (independent implementation) and writes derived tensors back.

usage: st_roundtrip.py INPUT WEIGHTS OUTPUT
"""
import sys

import st_io

tensors = st_io.load(sys.argv[1])
weights = st_io.load(sys.argv[2])
out = {f"echo.{name}": t for name, t in tensors.items()}
out["twice"] = tensors["input"] * 2
out["conv1"] = weights["conv1.weight"]
out["half"] = (tensors["input"] * 0.5).half()
out["bf"] = tensors["input"].bfloat16()
st_io.save(sys.argv[3], out)
