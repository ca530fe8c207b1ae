"""Writing ONNX models whose weights stream into one external data file.

A weight is written the moment it is converted and only a reference stays in the graph, so
peak memory is one tensor whatever the model's size (the 2B CodeGen shape holds 11 GB of float32
weights; protobuf itself cannot hold more than 2 GB).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

#: Weights start on 64-byte boundaries (a cache line; what ONNX Runtime's loaders like).
ALIGN = 64
MANIFEST = "codeaudit-onnx.json"
#: Smaller tensors stay inside the graph: shape constants must be readable by shape inference.
INLINE_BYTES = 1024


class ExternalData:
    """Appends tensors to ``<model>.data`` and hands back initializers that point at them."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = model_path
        self.location = model_path.name + ".data"
        self._fh = open(model_path.parent / self.location, "wb")
        self.offset = 0
        self.bytes_written = 0

    def add(self, name: str, array: np.ndarray):
        from onnx import TensorProto, helper

        array = np.ascontiguousarray(array)
        if array.nbytes < INLINE_BYTES:
            from onnx import numpy_helper

            return numpy_helper.from_array(array, name)
        pad = (-self.offset) % ALIGN
        if pad:
            self._fh.write(b"\0" * pad)
            self.offset += pad
        data = array.tobytes()
        self._fh.write(data)
        tensor = TensorProto()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", self.location),
            ("offset", str(self.offset)),
            ("length", str(len(data))),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        self.offset += len(data)
        self.bytes_written += len(data)
        return tensor

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


def save_model(model, path: Path) -> None:
    """Save a graph whose initializers are all external (so the protobuf stays small)."""
    import onnx

    with open(path, "wb") as fh:
        fh.write(model.SerializeToString())
    # A cheap structural check (no weights are read): catches a malformed graph at export time,
    # not at the user's first generation.
    onnx.checker.check_model(str(path))


def write_manifest(folder: Path, data: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
