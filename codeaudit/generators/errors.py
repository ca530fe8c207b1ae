"""The generation layer's error types (a leaf module: everything may import it, it imports nothing
of the layer)."""

from __future__ import annotations

from ..errors import InputError, UsageError


class ModelError(InputError):
    """A model that cannot be used: missing folder, corrupt checkpoint, unsupported architecture …"""


class MissingExtraError(UsageError):
    """The generation extra (torch, transformers, optimum, onnxruntime) is not installed."""
