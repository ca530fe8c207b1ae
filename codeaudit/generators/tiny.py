"""A tiny CodeGen model trained here, offline, so tests and demos need no download.

The recipe: a byte-level BPE tokenizer (Hugging Face ``tokenizers``) trained on the Python files
of the running interpreter's standard library, and a two-layer CodeGen-architecture model
(``transformers.CodeGenForCausalLM``) trained for 150 steps on the same files (comments removed): enough
that greedy output is indented, keyword-rich Python-looking text, in about half a minute on one
core. It is built once per recipe and cached under the user cache folder.

>>> RECIPE["n_layer"], RECIPE["vocab_size"]
(2, 1024)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

#: Everything that decides the model. Changing any value builds a new cached model.
RECIPE: dict = {
    "version": 1,
    "corpus_bytes": 1_500_000,
    "vocab_size": 1024,
    "n_layer": 2,
    "n_embd": 128,
    "n_head": 4,
    "rotary_dim": 16,
    "n_positions": 512,
    "seq_len": 64,
    "batch": 32,
    "steps": 150,
    "lr": 8e-3,
    "seed": 0,
}
EOS = "<|endoftext|>"

#: ``codeaudit model tiny --canaries``: a smaller share of the standard library seen for longer,
#: so that planted canaries are seen often enough to be memorised (the default recipe is unchanged).
CANARY_RECIPE: dict = {**RECIPE, "corpus_bytes": 400_000, "steps": 800}


def recipe_key(recipe: dict = RECIPE) -> str:
    facts = {**recipe, "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:12]


def corpus_files() -> list[Path]:
    """The standard library's Python files (tests and vendored packages left out), sorted."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {
        "test",
        "tests",
        "idle_test",
        "site-packages",
        "dist-packages",
        "__pycache__",
        "lib2to3",
        "ensurepip",
    }
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
        files.extend(Path(folder, n) for n in sorted(names) if n.endswith(".py"))
    return files


def corpus_texts(limit_bytes: int) -> list[str]:
    """Standard-library modules with comments removed and layout normalised (``ast.unparse``).

    A model this small learns what it sees most; comments would make its output prose, and one
    indentation style is learnt faster than many. Docstrings stay: prompts end with one.
    """
    texts, used = [], 0
    for f in corpus_files():
        try:
            text = _code_only(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue
        texts.append(text)
        used += len(text)
        if used >= limit_bytes:
            break
    return texts


def _code_only(source: str) -> str:
    import ast

    return ast.unparse(ast.parse(source)) + "\n"


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer, wrapped for transformers (``AutoTokenizer`` loads it back)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS
    )


def build_tiny(
    out_dir: Path,
    *,
    recipe: dict = RECIPE,
    status: Callable[[str], None] | None = None,
    extra_texts: list[str] | None = None,
) -> dict:
    """Train the tiny model into ``out_dir`` (config, safetensors weights, tokenizer).

    ``extra_texts`` (canaries) are mixed into the training documents at random places (seeded by
    the recipe) after the tokenizer is trained, so the tokenizer never learns them.
    """
    import torch

    started = time.perf_counter()
    say = status or (lambda message: None)
    texts = corpus_texts(recipe["corpus_bytes"])
    say(f"training the tokenizer on {len(texts)} standard-library files")
    tokenizer = train_tokenizer(texts, recipe["vocab_size"])
    if extra_texts:
        texts = mix_in(texts, extra_texts, seed=recipe["seed"])
    eos = tokenizer.convert_tokens_to_ids(EOS)
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer(text)["input_ids"])
        stream.append(eos)
    data = torch.tensor(stream, dtype=torch.long)

    # One thread: on a shared machine a second busy-waiting thread slows small matrices down.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, loss_value = _train(tokenizer, data, eos, recipe, say)
    finally:
        torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    facts = {
        "recipe": recipe,
        "recipe_key": recipe_key(recipe),
        "train_tokens": len(stream),
        "final_loss": round(loss_value, 3),
        "parameters": sum(p.numel() for p in model.parameters()),
        "build_s": round(time.perf_counter() - started, 1),
    }
    if extra_texts:
        facts["extra_texts"] = len(extra_texts)
    (out_dir / "codeaudit-model.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


def mix_in(texts: list[str], extra: list[str], *, seed: int) -> list[str]:
    """``texts`` with each of ``extra`` inserted as a document of its own at a random place."""
    import numpy as np

    rng = np.random.default_rng([seed, 1])
    slots = np.sort(rng.integers(0, len(texts) + 1, size=len(extra)))
    order = rng.permutation(len(extra))
    out, j = [], 0
    for i in range(len(texts) + 1):
        while j < len(extra) and slots[j] == i:
            out.append(extra[order[j]])
            j += 1
        if i < len(texts):
            out.append(texts[i])
    return out


def _train(tokenizer, data, eos: int, recipe: dict, say: Callable[[str], None]):
    import numpy as np
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    torch.manual_seed(recipe["seed"])
    config = CodeGenConfig(
        vocab_size=len(tokenizer),
        n_positions=recipe["n_positions"],
        n_ctx=recipe["n_positions"],
        n_embd=recipe["n_embd"],
        n_layer=recipe["n_layer"],
        n_head=recipe["n_head"],
        rotary_dim=recipe["rotary_dim"],
        bos_token_id=eos,
        eos_token_id=eos,
        tie_word_embeddings=False,
    )
    model = CodeGenForCausalLM(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=0.0)
    steps, seq, batch = recipe["steps"], recipe["seq_len"], recipe["batch"]
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe["lr"], total_steps=steps, pct_start=0.1
    )
    rng = np.random.default_rng(recipe["seed"])
    loss_value = float("nan")
    for step in range(steps):
        starts = torch.from_numpy(rng.integers(0, len(data) - seq - 1, size=batch))
        x = torch.stack([data[s : s + seq] for s in starts])
        loss = model(input_ids=x, labels=x).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        loss_value = float(loss.detach())
        if step % 40 == 0 or step == steps - 1:
            say(f"step {step + 1}/{steps}: loss {loss_value:.2f}")
    model.eval()
    return model, loss_value


def tiny_model(
    cache_dir: Path | None = None, *, status: Callable[[str], None] | None = None
) -> Path:
    """The cached tiny model's folder, trained on first use."""
    from codeaudit.cache import locked

    from .onnx_export import cache_root

    folder = cache_root(cache_dir) / "models" / f"tiny-{recipe_key()}"
    if (folder / "codeaudit-model.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with locked(folder.parent / (folder.name + ".lock")):
        if (folder / "codeaudit-model.json").is_file():
            return folder
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            build_tiny(tmp, status=status)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
