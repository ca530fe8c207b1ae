"""Random-weight models with the real CodeGen shapes, for speed benchmarks.

Decoding speed depends on the shapes of the weights, not their values, so a model with the
published CodeGen-350M/2B/6B configuration and random weights measures what the real checkpoint
would, without a download. The weights are written straight into a safetensors file one tensor
(and, for large tensors, one block of rows) at a time, so writing the 6B shape (28 GB of float32)
needs a few hundred megabytes of memory.

Shapes (from the released CodeGen configurations; mono and multi share them): layers, width,
heads and rotary dimensions below, 2048 positions, 51200 embedding rows for a tokenizer of
50295 tokens (GPT-2's 50257 plus 38 whitespace-run tokens).

>>> SHAPES["2B"]
{'n_layer': 32, 'n_embd': 2560, 'n_head': 32, 'rotary_dim': 64}
>>> round(parameter_count("350M") / 1e6)
357
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

SHAPES: dict[str, dict[str, int]] = {
    "350M": {"n_layer": 20, "n_embd": 1024, "n_head": 16, "rotary_dim": 32},
    "2B": {"n_layer": 32, "n_embd": 2560, "n_head": 32, "rotary_dim": 64},
    "6B": {"n_layer": 33, "n_embd": 4096, "n_head": 16, "rotary_dim": 64},
}
VOCAB_ROWS = 51200
POSITIONS = 2048
BPE_TOKENS = 50257
#: CodeGen's extra tokens: runs of 2..31 spaces and 2..9 tabs.
WHITESPACE_TOKENS = [" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)]
TOKENIZER_SIZE = BPE_TOKENS + len(WHITESPACE_TOKENS)  # 50295
INIT_STD = 0.02  # transformers' CodeGen initializer_range
#: Rows generated and written at a time (bounds memory for the 51200 x 4096 tables).
BLOCK_ELEMENTS = 1 << 24


def tensors(size: str | dict[str, int]) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every weight, in transformers' CodeGen naming and order.

    ``size`` names one of :data:`SHAPES` or gives a shape of its own (tests use small ones).
    """
    s = SHAPES[size] if isinstance(size, str) else size
    e, inner = s["n_embd"], 4 * s["n_embd"]
    out: list[tuple[str, tuple[int, ...]]] = [("transformer.wte.weight", (VOCAB_ROWS, e))]
    for i in range(s["n_layer"]):
        p = f"transformer.h.{i}."
        out += [
            (p + "ln_1.weight", (e,)),
            (p + "ln_1.bias", (e,)),
            (p + "attn.qkv_proj.weight", (3 * e, e)),
            (p + "attn.out_proj.weight", (e, e)),
            (p + "mlp.fc_in.weight", (inner, e)),
            (p + "mlp.fc_in.bias", (inner,)),
            (p + "mlp.fc_out.weight", (e, inner)),
            (p + "mlp.fc_out.bias", (e,)),
        ]
    out += [
        ("transformer.ln_f.weight", (e,)),
        ("transformer.ln_f.bias", (e,)),
        ("lm_head.weight", (VOCAB_ROWS, e)),
        ("lm_head.bias", (VOCAB_ROWS,)),
    ]
    return out


def parameter_count(size: str | dict[str, int]) -> int:
    return sum(int(np.prod(shape)) for _, shape in tensors(size))


def config(size: str, *, eos_token_id: int) -> dict:
    if size not in SHAPES:
        raise ValueError(f"unknown size {size!r} (one of: {', '.join(SHAPES)})")
    return {
        "architectures": ["CodeGenForCausalLM"],
        "model_type": "codegen",
        **SHAPES[size],
        "n_positions": POSITIONS,
        "n_ctx": POSITIONS,
        "n_inner": None,
        "vocab_size": VOCAB_ROWS,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "initializer_range": INIT_STD,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "scale_attn_weights": True,
        "use_cache": True,
        "tie_word_embeddings": False,
        "bos_token_id": eos_token_id,
        "eos_token_id": eos_token_id,
        "torch_dtype": "float32",
    }


def _values(name: str, shape: tuple[int, ...], rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The tensor's values in row blocks: LayerNorm weights 1, biases 0, the rest N(0, 0.02)."""
    if name.endswith(".bias"):
        yield np.zeros(shape, dtype=np.float32)
        return
    if ".ln_" in name:
        yield np.ones(shape, dtype=np.float32)
        return
    rows, cols = shape[0], int(np.prod(shape[1:]))
    step = max(1, BLOCK_ELEMENTS // max(cols, 1))
    for start in range(0, rows, step):
        n = min(step, rows - start)
        block = rng.standard_normal((n, cols), dtype=np.float32)
        block *= np.float32(INIT_STD)
        yield block


def write_weights(
    path: Path,
    size: str | dict[str, int],
    *,
    seed: int = 0,
    status: Callable[[str], None] | None = None,
) -> int:
    """Stream random weights into a safetensors file; returns its size in bytes."""
    specs = tensors(size)
    header: dict = {
        "__metadata__": {
            "format": "pt",
            "generator": f"codeaudit random CodeGen {size} seed {seed}",
        }
    }
    offset = 0
    for name, shape in specs:
        nbytes = int(np.prod(shape)) * 4
        header[name] = {
            "dtype": "F32",
            "shape": list(shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((-len(raw)) % 8)  # the data section starts 8-byte aligned
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for i, (name, shape) in enumerate(specs):
            if status and (i % 16 == 0 or i == len(specs) - 1):
                status(f"writing tensor {i + 1}/{len(specs)}")
            for block in _values(name, shape, rng):
                fh.write(block.tobytes())
    return path.stat().st_size


def build_tokenizer(status: Callable[[str], None] | None = None):
    """A byte-level BPE of GPT-2's size trained on the standard library, plus the whitespace tokens."""
    from .tiny import EOS, corpus_files, train_tokenizer

    texts = []
    for f in corpus_files():
        try:
            texts.append(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    if status:
        status(f"training a {BPE_TOKENS}-token BPE on {len(texts)} standard-library files")
    tok = train_tokenizer(texts, BPE_TOKENS)
    if len(tok) != BPE_TOKENS:
        raise RuntimeError(f"the standard library yielded {len(tok)} BPE tokens, not {BPE_TOKENS}")
    tok.add_tokens(WHITESPACE_TOKENS)
    assert len(tok) == TOKENIZER_SIZE and tok.convert_tokens_to_ids(EOS) is not None
    return tok


def build_random(
    out_dir: Path, size: str, *, seed: int = 0, status: Callable[[str], None] | None = None
) -> dict:
    """Write ``config.json``, ``model.safetensors`` and a tokenizer for the CodeGen-``size`` shape."""
    from .tiny import EOS

    if size not in SHAPES:
        raise ValueError(f"unknown size {size!r} (one of: {', '.join(SHAPES)})")
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(status)
    eos = tokenizer.convert_tokens_to_ids(EOS)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "config.json").write_text(
        json.dumps(config(size, eos_token_id=eos), indent=2) + "\n"
    )
    nbytes = write_weights(out_dir / "model.safetensors", size, seed=seed, status=status)
    facts = {
        "size": size,
        "seed": seed,
        "parameters": parameter_count(size),
        "weights_bytes": nbytes,
        "tokenizer_size": len(tokenizer),
        "build_s": round(time.perf_counter() - started, 1),
    }
    (out_dir / "codeaudit-model.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts
