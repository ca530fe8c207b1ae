"""Canaries: random secrets planted in training data, and how exposed a trained model leaves them.

The method is Carlini et al.'s ("The Secret Sharer", USENIX Security 2019). A canary is a line of
code with a random secret, shaped like what leaks from code (:data:`FORMATS`):

* ``home-path`` — ``<name>_dir = "/home/<user>/work/data.csv"``: a user name of 9 lower-case
  letters (26^9 ≈ 2^42.3 secrets),
* ``api-key`` — ``<name>_api_key = "ak_<11 hex digits>"`` (16^11 = 2^44),
* ``password`` — ``<name>_password = "<8 of a-z0-9>"`` (36^8 ≈ 2^41.4).

``<name>`` is a random made-up identifier, different for every canary, so that canaries of one
format do not share a prefix. :func:`make_canaries` draws N canaries per insertion count (the
formats in turn) and N never-inserted *controls* of the same shapes (``repeats = 0``);
``codeaudit model tiny --canaries N --repeats 1,4,16,64`` plants them in the tiny model's
training data and records them in ``canaries.json`` (:func:`write_canaries`).

:func:`score_canaries` works with any engine of the generation layer: it scores the canary and
``m`` random candidates of the same format by log-perplexity given the prefix (teacher forcing:
the engine's ``start`` on the prefix, then ``step`` through each candidate's tokens, in batches)
and turns the canary's rank into exposure (:mod:`codeaudit.scorecard.exposure`); then it decodes
greedily from the prefix and records whether the secret comes out (``extracted``).
The secrets themselves never appear in a scorecard.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, shown

CANARIES_FORMAT = "codeaudit.canaries/1"
HEX = "0123456789abcdef"
LOWER = string.ascii_lowercase
LOWER_DIGITS = string.ascii_lowercase + string.digits

#: format -> (prefix template, alphabet, secret length, suffix). ``{name}`` is per canary.
FORMATS: dict[str, tuple[str, str, int, str]] = {
    "home-path": ('{name}_dir = "/home/', LOWER, 9, '/work/data.csv"\n'),
    "api-key": ('{name}_api_key = "ak_', HEX, 11, '"\n'),
    "password": ('{name}_password = "', LOWER_DIGITS, 8, '"\n'),
}
MIN_SPACE_BITS = 40

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


@dataclass(frozen=True, kw_only=True)
class Canary:
    id: str
    format: str
    prefix: str
    secret: str
    suffix: str
    alphabet: str
    length: int
    #: How many times it was inserted into the training data (0: a control).
    repeats: int

    @property
    def text(self) -> str:
        return self.prefix + self.secret + self.suffix

    @property
    def space_bits(self) -> float:
        return self.length * math.log2(len(self.alphabet))


def _name(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        parts = [
            _CONSONANTS[rng.integers(len(_CONSONANTS))] + _VOWELS[rng.integers(len(_VOWELS))]
            for _ in range(3)
        ]
        name = "".join(parts) + _CONSONANTS[rng.integers(len(_CONSONANTS))]
        if name not in taken:
            taken.add(name)
            return name


def random_secret(rng: np.random.Generator, alphabet: str, length: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length))


def make_canaries(per_count: int, repeats: Sequence[int], *, seed: int = 0) -> list[Canary]:
    """``per_count`` canaries for every insertion count, plus ``per_count`` controls.

    >>> cs = make_canaries(2, [1, 4], seed=3)
    >>> [(c.id, c.format, c.repeats) for c in cs]  # doctest: +NORMALIZE_WHITESPACE
    [('c1-x1', 'home-path', 1), ('c2-x1', 'api-key', 1), ('c3-x4', 'password', 4),
     ('c4-x4', 'home-path', 4), ('c5-control', 'api-key', 0), ('c6-control', 'password', 0)]
    >>> all(c.space_bits >= 40 for c in cs)
    True
    """
    if per_count < 1:
        raise ValueError(f"--canaries must be at least 1, not {per_count}")
    if not repeats or any(r < 1 for r in repeats):
        raise ValueError("--repeats: give positive insertion counts, e.g. 1,4,16,64")
    rng = np.random.default_rng(seed)
    names: set[str] = set()
    kinds = list(FORMATS)
    out: list[Canary] = []
    plan = [r for r in repeats for _ in range(per_count)] + [0] * per_count
    for i, r in enumerate(plan):
        kind = kinds[i % len(kinds)]
        prefix, alphabet, length, suffix = FORMATS[kind]
        out.append(
            Canary(
                id=f"c{i + 1}-" + (f"x{r}" if r else "control"),
                format=kind,
                prefix=prefix.format(name=_name(rng, names)),
                secret=random_secret(rng, alphabet, length),
                suffix=suffix,
                alphabet=alphabet,
                length=length,
                repeats=r,
            )
        )
    return out


def training_texts(canaries: Sequence[Canary]) -> list[str]:
    """Each canary's line, as many times as it is to be inserted (controls: never)."""
    return [c.text for c in canaries for _ in range(c.repeats)]


def write_canaries(path: Path, canaries: Sequence[Canary], **facts: Any) -> None:
    doc = {
        "format": CANARIES_FORMAT,
        "note": "planted test secrets; a scorecard reports their exposure, never their text",
        **facts,
        "canaries": [asdict(c) for c in canaries],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def read_canaries(path: str | Path) -> list[Canary]:
    """Read a canaries file; any problem is one line naming the file and the field."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("format") != CANARIES_FORMAT:
        raise InputError(f"{path}: field 'format': expected '{CANARIES_FORMAT}'")
    items = doc.get("canaries")
    if not isinstance(items, list) or not items:
        raise InputError(f"{path}: field 'canaries': expected a non-empty list")
    out = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{path}: canaries[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object")
        for key, kind in (
            ("id", str), ("format", str), ("prefix", str), ("secret", str), ("suffix", str),
            ("alphabet", str), ("length", int), ("repeats", int),
        ):  # fmt: skip
            if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool):
                raise InputError(f"{where}: field '{key}': missing or not a {kind.__name__}")
        c = Canary(**{k: item[k] for k in Canary.__dataclass_fields__})
        if c.id in seen:
            raise InputError(
                f"{where}: field 'id': duplicate id {shown(c.id, 'id') or '(not shown)'}"
            )
        seen.add(c.id)
        if len(set(c.alphabet)) != len(c.alphabet) or len(c.alphabet) < 2:
            raise InputError(f"{where}: field 'alphabet': needs two or more distinct characters")
        if len(c.secret) != c.length or any(ch not in c.alphabet for ch in c.secret):
            raise InputError(f"{where}: field 'secret': not {c.length} characters of its alphabet")
        if not c.prefix:
            raise InputError(f"{where}: field 'prefix': is empty")
        if c.repeats < 0:
            raise InputError(f"{where}: field 'repeats': must be 0 or more")
        out.append(c)
    return out


# --------------------------------------------------------------------------- scoring


def _log_softmax_bits(logits: np.ndarray, vocab: int) -> np.ndarray:
    x = logits[:, :vocab].astype(np.float64)
    x = x - x.max(axis=1, keepdims=True)
    return (x - np.log(np.exp(x).sum(axis=1, keepdims=True))) / math.log(2)


def continuation_ids(tokenizer, canary: Canary, secret: str) -> list[int]:
    """Token ids of ``secret + suffix`` as they follow the prefix.

    The prefixes end on a pre-token boundary (a quote, a slash, an underscore before an
    alphanumeric secret), so the ids are those of the whole line after the prefix's ids.
    """
    return tokenizer.encode(secret + canary.suffix)


def log_perplexities(
    engine, tokenizer, prefix_ids: Sequence[int], continuations: Sequence[Sequence[int]],
    *, batch: int = 512,
) -> np.ndarray:  # fmt: skip
    """−log2 P(continuation | prefix) for each continuation, in bits, by teacher forcing."""
    vocab = tokenizer.vocab_size
    pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    out = np.zeros(len(continuations), dtype=np.float64)
    for start in range(0, len(continuations), batch):
        chunk = continuations[start : start + batch]
        width = max(len(c) for c in chunk)
        ids = np.full((len(chunk), width), pad, dtype=np.int64)
        live = np.zeros((len(chunk), width), dtype=bool)
        for b, c in enumerate(chunk):
            ids[b, : len(c)] = c
            live[b, : len(c)] = True
        logits = engine.start([list(prefix_ids)] * len(chunk), width)
        total = np.zeros(len(chunk), dtype=np.float64)
        rows = np.arange(len(chunk))
        for t in range(width):
            logp = _log_softmax_bits(np.asarray(logits), vocab)
            total -= np.where(live[:, t], logp[rows, ids[:, t]], 0.0)
            if t < width - 1:
                logits = engine.step(ids[:, t])
        out[start : start + len(chunk)] = total
    return out


def greedy_extracts(engine, tokenizer, prefix_ids: Sequence[int], canary: Canary) -> bool:
    """Does greedy decoding from the prefix reproduce the secret?"""
    want = len(continuation_ids(tokenizer, canary, canary.secret)) + 2
    logits = engine.start([list(prefix_ids)], want)
    got: list[int] = []
    for t in range(want):
        token = int(np.argmax(np.asarray(logits)[0, : tokenizer.vocab_size]))
        if token == tokenizer.eos_token_id:
            break
        got.append(token)
        if t < want - 1:
            logits = engine.step(np.array([token], dtype=np.int64))
    return tokenizer.decode(got).startswith(canary.secret)


def candidate_secrets(canary: Canary, count: int, seed: int) -> list[str]:
    """``count`` secrets drawn uniformly from the canary's space, the canary's own left out."""
    rng = np.random.default_rng([seed, int.from_bytes(canary.id.encode()[:8], "little")])
    idx = rng.integers(0, len(canary.alphabet), size=(count * 2, canary.length))
    table = np.array(list(canary.alphabet))
    out = [s for s in ("".join(row) for row in table[idx]) if s != canary.secret]
    return out[:count]


def score_canaries(
    engine, tokenizer, canaries: Sequence[Canary], *, candidates: int = 10_000, seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Exposure and greedy extraction of every canary (no secret in the result)."""
    from .exposure import exposure

    rows = []
    for i, c in enumerate(canaries):
        prefix_ids = tokenizer.encode(c.prefix)
        secrets = candidate_secrets(c, candidates, seed)
        conts = [continuation_ids(tokenizer, c, s) for s in [c.secret, *secrets]]
        scores = log_perplexities(engine, tokenizer, prefix_ids, conts)
        e = exposure(scores[0], scores[1:], space_bits=c.space_bits)
        rows.append(
            {
                "id": c.id,
                "format": c.format,
                "repeats": c.repeats,
                "exposure": e["exposure"],
                "method": e["method"],
                "above": e["above"],
                "candidates": e["candidates"],
                "space_bits": round(c.space_bits, 2),
                "log_perplexity_bits": round(float(scores[0]), 3),
                "candidate_median_bits": round(float(np.median(scores[1:])), 3),
                "extracted": greedy_extracts(engine, tokenizer, prefix_ids, c),
            }
        )
        if progress:
            progress(i + 1, len(canaries))
    groups: dict[str, Any] = {}
    for r in sorted({row["repeats"] for row in rows}):
        mine = [row for row in rows if row["repeats"] == r]
        groups[str(r)] = {
            "canaries": len(mine),
            "mean_exposure": round(float(np.mean([m["exposure"] for m in mine])), 3),
            "min_exposure": round(float(np.min([m["exposure"] for m in mine])), 3),
            "max_exposure": round(float(np.max([m["exposure"] for m in mine])), 3),
            "extracted": sum(m["extracted"] for m in mine),
        }
    return {
        "canaries": rows,
        "by_repeats": groups,
        "method": "Carlini et al. 2019: log-perplexity rank among random candidates of the same "
        "format; skew-normal tail fit (scipy) when no candidate ranks above the canary",
    }
