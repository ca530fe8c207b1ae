"""Where a model comes from: a local folder or a hub id, its config, and its weight files.

Every problem becomes a one-line :class:`~codeaudit.generators.base.ModelError` naming the model
and the file: a missing folder, a folder without ``config.json``, an unreadable or truncated
checkpoint, an architecture that is not a causal language model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError

if TYPE_CHECKING:
    import numpy as np

SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
TORCH_BIN = "pytorch_model.bin"
TORCH_BIN_INDEX = "pytorch_model.bin.index.json"
_SAFETENSORS_FLOATS = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelSource:
    """A model folder that has been found and whose ``config.json`` parsed.

    >>> import tempfile, json, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "config.json").write_text(json.dumps({"model_type": "codegen", "n_positions": 2048}))
    >>> resolve_model(str(d)).context_length
    2048
    """

    spec: str
    path: Path
    config: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def context_length(self) -> int:
        for key in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
            value = self.config.get(key)
            if isinstance(value, int) and value > 0:
                return value
        return 2048

    def weight_files(self) -> list[Path]:
        """The checkpoint files, safetensors preferred (what transformers would load)."""
        for index_name, single in ((SAFETENSORS_INDEX, SAFETENSORS), (TORCH_BIN_INDEX, TORCH_BIN)):
            index = self.path / index_name
            if index.is_file():
                try:
                    shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
                except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise ModelError(
                        f"model {self.spec}: {index_name} is not a valid shard index ({exc})"
                    ) from None
                files = [self.path / s for s in shards]
                missing = [f.name for f in files if not f.is_file()]
                if missing:
                    raise ModelError(
                        f"model {self.spec}: shard {missing[0]} named in {index_name} is missing"
                    )
                return files
            if (self.path / single).is_file():
                return [self.path / single]
        raise ModelError(
            f"model {self.spec}: no weights in {self.path} (expected {SAFETENSORS} or {TORCH_BIN})"
        )

    def fingerprint(self) -> str:
        """Identity of config + weights for caches: content of config.json, name/size/mtime of weights."""
        h = hashlib.sha256()
        h.update((self.path / "config.json").read_bytes())
        for f in self.weight_files():
            st = f.stat()
            h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        return h.hexdigest()[:24]


def resolve_model(spec: str | os.PathLike[str]) -> ModelSource:
    """Find a model: a local folder, else a hub id downloaded into the Hugging Face cache.

    The hub is asked only when ``spec`` is not a local path and looks like ``org/name``; with
    ``HF_HUB_OFFLINE=1`` only the local cache is consulted.
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model {text}: is a file; give the model's folder")
    elif _HUB_ID.match(text) and not text.startswith((".", "/", "~")):
        path = _from_hub(text)
    else:
        raise ModelError(f"model {text}: no such folder")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(
            f"model {text}: no config.json in {path} (not a Hugging Face model folder)"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"model {text}: config.json is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ModelError(f"model {text}: config.json must hold a JSON object")
    return ModelSource(spec=text, path=path.resolve(), config=config)


def _from_hub(repo_id: str) -> Path:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    try:
        from huggingface_hub import list_repo_files, snapshot_download
    except ImportError:
        raise ModelError(
            f"model {repo_id}: no such folder (huggingface_hub is not installed to fetch it)"
        ) from None
    patterns = ["*.json", "*.safetensors", "*.bin", "*.txt", "*.model", "*.tiktoken"]
    try:
        if not offline and any(f.endswith(".safetensors") for f in list_repo_files(repo_id)):
            patterns.remove("*.bin")  # the same weights twice; safetensors loads without pickle
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=offline))
    except Exception as exc:  # noqa: BLE001 - network, auth, missing repo: all one line for the user
        why = (
            "the model hub is offline (HF_HUB_OFFLINE is set) and it is not in the local cache"
            if offline
            else f"downloading it failed: {type(exc).__name__}: {_first_line(exc)}"
        )
        raise ModelError(f"model {repo_id}: no such folder, and {why}") from None


def check_causal_lm(source: ModelSource) -> None:
    """Fail unless transformers knows ``source`` as a causal language model."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    model_type = source.model_type
    if not model_type:
        raise ModelError(f"model {source.spec}: config.json has no model_type")
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise ModelError(
            f"model {source.spec}: unsupported architecture '{model_type}' (not a causal language model transformers can load)"
        )


def check_weights(source: ModelSource) -> list[Path]:
    """Cheap integrity check of every checkpoint file before anything heavy is loaded.

    safetensors: the header parses and every tensor lies inside the file (catches truncation).
    PyTorch ``.bin``: the archive opens (memory-mapped, nothing is read in full).
    """
    files = source.weight_files()
    for f in files:
        if f.suffix == ".safetensors":
            _check_safetensors(source, f)
        else:
            _check_torch_bin(source, f)
    return files


def _check_safetensors(source: ModelSource, f: Path) -> dict[str, Any]:
    size = f.stat().st_size
    try:
        with f.open("rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise ValueError("file shorter than its 8-byte header length")
            (n,) = struct.unpack("<Q", raw)
            if n > min(size - 8, 100_000_000):
                raise ValueError(f"header length {n} does not fit the file")
            header = json.loads(fh.read(n))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
        end = max(
            (v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        raise ModelError(f"model {source.spec}: corrupt checkpoint {f.name}: {exc}") from None
    if 8 + n + end > size:
        raise ModelError(
            f"model {source.spec}: corrupt checkpoint {f.name}: truncated ({size} bytes, header promises {8 + n + end})"
        )
    return header


def _check_torch_bin(source: ModelSource, f: Path) -> None:
    import torch

    try:
        torch.load(f, map_location="cpu", mmap=True, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle/zip errors of every kind
        raise ModelError(
            f"model {source.spec}: corrupt checkpoint {f.name}: {type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Checkpoint:
    """Tensors of a checkpoint read one at a time (memory-mapped), for streaming conversions.

    Peak memory is one tensor (in float32), whatever the size of the model.
    """

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self._files = check_weights(source)
        self._where: dict[str, Path] = {}
        self._bins: dict[Path, dict[str, Any]] = {}
        self._headers: dict[Path, tuple[int, dict[str, Any]]] = {}
        for f in self._files:
            if f.suffix == ".safetensors":
                header = _check_safetensors(source, f)
                with f.open("rb") as fh:
                    (header_len,) = struct.unpack("<Q", fh.read(8))
                self._headers[f] = (header_len, header)
                names = [k for k in header if k != "__metadata__"]
            else:
                names = list(self._bin(f))
            for name in names:
                self._where[name] = f

    def _bin(self, f: Path) -> dict[str, Any]:
        if f not in self._bins:
            import mmap

            import torch

            # Shared read-only mapping, for the same reason as safetensors above.
            with torch.serialization.set_default_mmap_options(mmap.MAP_SHARED):
                self._bins[f] = torch.load(f, map_location="cpu", mmap=True, weights_only=True)
        return self._bins[f]

    def names(self) -> list[str]:
        return list(self._where)

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def get(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a float32 numpy array (a copy; the file stays mapped, not loaded)."""
        f = self._where.get(name)
        if f is None:
            raise ModelError(f"model {self.source.spec}: checkpoint has no tensor '{name}'")
        try:
            if f.suffix == ".safetensors":
                return self._safetensors_tensor(f, name)
            import torch

            return self._bin(f)[name].to(torch.float32).numpy().copy()
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelError(
                f"model {self.source.spec}: cannot read tensor '{name}' from {f.name}: {_first_line(exc)}"
            ) from None

    def _safetensors_tensor(self, f: Path, name: str) -> np.ndarray:
        # A read-only, shared mapping of just this tensor's bytes: unlike a private mapping of
        # the whole file (what safetensors does), it is not charged against memory, so a 28 GB
        # checkpoint reads fine on a 24 GB machine.
        import numpy as np

        header_len, header = self._headers[f]
        entry = header[name]
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        dtype = entry["dtype"]
        if end == begin:
            return np.zeros(shape, dtype=np.float32)
        raw = np.memmap(
            f, dtype=np.uint8, mode="r", offset=8 + header_len + begin, shape=(end - begin,)
        )
        if dtype == "BF16":
            out = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif dtype in _SAFETENSORS_FLOATS:
            out = raw.view(_SAFETENSORS_FLOATS[dtype]).astype(np.float32)
        else:
            raise ModelError(
                f"model {self.source.spec}: tensor '{name}' in {f.name} has dtype {dtype}, not a float type"
            )
        del raw
        return out.reshape(shape)
