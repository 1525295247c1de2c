"""NumPy-written .npy files for the NumpyFile tests, and a reader for files Farm wrote.

Usage:
  npy_reference.py write <folder>  writes fixtures; prints JSON {file: {"shape", "dtype", "values" (C order, float64; null if not float)}}
  npy_reference.py read <file>     prints JSON {"shape", "dtype", "fortran_order", "values"} as numpy loads the file
"""
import json
import os
import sys

import numpy as np
from numpy.lib import format as npy_format


def fixtures(folder):
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(5, 7))
    cube = rng.normal(size=(2, 3, 4))
    written = {}

    def save(name, array, version=None):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            npy_format.write_array(f, array, version=version)
        c_order = np.ascontiguousarray(array)
        values = c_order.astype(np.float64).ravel().tolist() if array.dtype.kind == "f" else None
        written[name] = {"shape": list(array.shape), "dtype": array.dtype.str, "values": values}

    save("v1-f4-c.npy", matrix.astype("<f4"), version=(1, 0))
    save("v1-f8-c.npy", matrix.astype("<f8"), version=(1, 0))
    save("v2-f8-fortran.npy", np.asfortranarray(matrix.astype("<f8")), version=(2, 0))
    save("v3-f4-c.npy", matrix.astype("<f4"), version=(3, 0))
    save("v1-f2-c.npy", matrix.astype("<f2"), version=(1, 0))
    save("v1-f4-big-endian.npy", matrix.astype(">f4"), version=(1, 0))
    save("v1-f4-fortran-3d.npy", np.asfortranarray(cube.astype("<f4")), version=(1, 0))
    save("v1-f4-vector.npy", matrix[0].astype("<f4"), version=(1, 0))
    save("v1-i4.npy", np.arange(12, dtype="<i4").reshape(3, 4), version=(1, 0))
    save("v1-structured.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<f4")]), version=(1, 0))
    # np.save picks the version itself: 1.0 for plain headers.
    np.save(os.path.join(folder, "np-save-f4.npy"), matrix.astype(np.float32))
    written["np-save-f4.npy"] = {"shape": [5, 7], "dtype": "<f4",
                                 "values": matrix.astype(np.float32).astype(np.float64).ravel().tolist()}
    return written


def read(path):
    with open(path, "rb") as f:
        version = npy_format.read_magic(f)
        shape, fortran_order, dtype = npy_format._read_array_header(f, version)
    array = np.load(path)
    return {"shape": list(shape), "dtype": dtype.str, "fortran_order": fortran_order,
            "values": array.astype(np.float64).ravel().tolist()}


if __name__ == "__main__":
    if sys.argv[1] == "write":
        print(json.dumps(fixtures(sys.argv[2])))
    else:
        print(json.dumps(read(sys.argv[2])))
