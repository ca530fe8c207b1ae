"""Masking secrets before anything is reported.

A secret never leaves the auditor that found it: snippets, messages and evidence carry one mask,
``[REDACTED:<hash>]``, that names the secret by a short keyed hash instead. The same secret gets
the same mask everywhere (every line of a multi-line secret shows the mask of the whole secret),
two different secrets practically never share one, and only whole tokens are replaced: a secret
``pass`` leaves ``password`` readable, a secret ``config`` leaves ``app.config`` alone.

The hash is an HMAC keyed per repository (see :func:`hash_key`), so a mask or a baseline's
fingerprint cannot confirm a guessed password without the key, and the same password in two
repositories does not show the same mask.

>>> m = mask("hunter2-correct-horse")
>>> m == mask("hunter2-correct-horse") != mask("hunter2-correct-horsf"), len(m)
(True, 19)
>>> redact_spans('token = "abc123"', [(9, 15)]) == 'token = "' + mask("abc123") + '"'
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .context import split_lines
from .model import map_strings

if TYPE_CHECKING:
    from .model import AuditResult, Finding

#: Secrets shorter than this are masked only where a detector located them (or as a whole token
#: in text that quotes them): replacing every occurrence of a two-letter value would garble text.
MIN_VALUE_LENGTH = 3

#: What a mask looks like; anything an auditor showed in a secret's place in an older form
#: (``****``) is turned into it.
MASK_RE = re.compile(r"\[REDACTED:[0-9a-f]{8}\]")
_LEGACY = re.compile(r"\*{4}|\[REDACTED(?::[0-9a-f]{1,16})?\]")
_HIDDEN = re.compile(r"\[REDACTED(?::[0-9a-f]{1,16})?\]|\*{4}")

#: Shortest value learnt from an auditor's legacy ``****`` (it hides every quoted string).
_LEGACY_MIN = 8

_KEY: bytes | None = None
_KEY_ENV = "CODEAUDIT_HASH_KEY"


def set_hash_key(key: bytes | str | None) -> None:
    """Use ``key`` for secret hashes in this process (``None``: find it again on next use)."""
    global _KEY
    _KEY = key.encode("utf-8") if isinstance(key, str) else key


def _root_commits(start: Path) -> str | None:
    """The root commit(s) of the git repository holding ``start``, or ``None``."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            try:
                out = subprocess.run(
                    ["git", "rev-list", "--max-parents=0", "HEAD"],
                    cwd=folder,
                    capture_output=True,
                    text=True,
                    timeout=10,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                return None
            roots = sorted(out.stdout.split()) if out.returncode == 0 else []
            return ",".join(roots) or None
    return None


def hash_key(start: Path | None = None) -> bytes:
    """The key of secret hashes: ``$CODEAUDIT_HASH_KEY`` when set (a team secret: then neither a
    report nor a baseline confirms anything to whoever lacks it); else derived from the root
    commit of the git repository of the current folder (the same in every clone, so committed
    baselines keep working, and different in every repository); else a random key kept in the
    user's cache folder (created once, mode 0600).
    """
    global _KEY
    if _KEY is not None and start is None:
        return _KEY
    env = os.environ.get(_KEY_ENV)
    if env:
        key = b"env\0" + env.encode("utf-8")
    else:
        roots = _root_commits((start or Path.cwd()).resolve())
        key = b"git\0" + roots.encode() if roots else b"user\0" + _user_key()
    key = hashlib.sha256(b"codeaudit-secret-hash/1\0" + key).digest()
    if start is None:
        _KEY = key
    return key


def _user_key() -> bytes:
    from .cache import cache_dir

    path = cache_dir() / "secret-hash.key"
    try:
        return path.read_bytes()
    except OSError:
        pass
    key = os.urandom(32).hex().encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    except FileExistsError:
        return path.read_bytes()
    except OSError:
        pass  # an unwritable cache: the key lives as long as the process
    return key


def secret_hash(value: str) -> str:
    """A short, stable identity for a secret (keyed HMAC-SHA-256, first 16 hex digits).

    >>> len(secret_hash("abc123")), secret_hash("abc123") == secret_hash("abc123")
    (16, True)
    """
    data = value.encode("utf-8", "surrogatepass")
    return hmac.new(hash_key(), data, hashlib.sha256).hexdigest()[:16]


def mask(value: str) -> str:
    """What is shown instead of a secret: ``[REDACTED:<first 8 hex digits of its hash>]``."""
    return f"[REDACTED:{secret_hash(value)[:8]}]"


def redact_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each (start, end) span replaced by the mask of what it covered.

    Overlapping spans are merged first, so nothing of either secret shows. A span over several
    lines keeps the line breaks: each of its lines shows the mask of the whole span.

    >>> k = "-----BEGIN KEY-----\\nMIIabc\\n-----END KEY-----"
    >>> out = redact_spans("x = '''" + k + "'''", [(7, 7 + len(k))]).splitlines()
    >>> len(out), out[0][7:] == out[1] == out[2][:-3] == mask(k)
    (3, True)
    """
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        start, end = max(start, 0), min(end, len(text))
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        hidden = text[start:end]
        token = mask(hidden)
        if "\n" in hidden or "\r" in hidden:
            out.append(re.sub(r"[^\r\n]+", token, hidden))
        else:
            out.append(token)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_values(text: str, values: Iterable[str] | Masker) -> str:
    """``text`` with every whole-token occurrence of each secret value masked.

    >>> redact_values("a=s3cr3t-value; b=s3cr3t-value", ["s3cr3t-value"]).count(mask("s3cr3t-value"))
    2
    """
    return (values if isinstance(values, Masker) else Masker.of_values(values))(text)


def _bounded(value: str) -> str:
    """A pattern for ``value`` as a whole token: not inside a longer word or dotted name."""
    pattern = re.escape(value)
    if value[:1].isalnum() or value[:1] == "_":
        pattern = r"(?<![\w.$-])" + pattern
    if value[-1:].isalnum() or value[-1:] == "_":
        pattern += r"(?![\w$-])"
    return pattern


def _whole(text: str, start: int, end: int, value: str) -> bool:
    """The boundary test of :func:`_bounded`, without a regular expression."""
    if (value[0].isalnum() or value[0] == "_") and start > 0:
        c = text[start - 1]
        if c.isalnum() or c in "_.$-":
            return False
    if (value[-1].isalnum() or value[-1] == "_") and end < len(text):
        c = text[end]
        if c.isalnum() or c in "_$-":
            return False
    return True


def hidden_parts(raw: str, shown: str) -> list[tuple[str, str]]:
    """What ``shown`` (``raw`` with secrets masked, possibly cut with ``…``) hid of ``raw``:
    ``(hidden text, mask shown)`` pairs; a legacy ``****`` becomes the hidden text's mask.

    >>> [(h, t == mask(h)) for h, t in hidden_parts("f(a='x1y2z3', b='q9')", "f(a='****', b='****')")]
    [('x1y2z3', True), ('q9', True)]
    """
    body = shown
    if body.startswith("…"):
        body = body[1:]
    if body.endswith("…"):
        body = body[:-1]
    pieces = _HIDDEN.split(body)
    tokens = _HIDDEN.findall(body)
    if not tokens:
        return []
    out: list[tuple[str, str]] = []
    # Literal pieces are found in order (whitespace may have been collapsed); what lies between
    # two of them is what a mask stood for.
    pos = 0
    first = pieces[0]
    if first:
        at = _find(raw, first, 0)
        if at is None:
            return []
        pos = at[1]
    for token, piece in zip(tokens, pieces[1:]):
        if piece:
            at = _find(raw, piece, pos + 1 if pos < len(raw) else pos)
            if at is None:
                break  # cannot be aligned: learn nothing rather than the rest of the line
            end = at[0]
        else:
            at = None
            end = len(raw)  # a mask at the end, or two in a row: the rest is hidden
        hidden = raw[pos:end]
        if hidden.strip():
            out.append((hidden, token if MASK_RE.fullmatch(token) else mask(hidden)))
        if at is None:
            break
        pos = at[1]
    return out


def _find(raw: str, piece: str, start: int) -> tuple[int, int] | None:
    i = raw.find(piece, start)
    if i >= 0:
        return i, i + len(piece)
    if " " not in piece or len(raw) > 20_000:
        return None
    words = [re.escape(w) for w in piece.split()]
    m = re.compile(r"\s+".join(words)).search(raw, start)
    return (m.start(), m.end()) if m else None


class Masker:
    """Masks, in whatever a report shows, the secrets that auditors masked in their snippets.

    Reports for people show the completion itself, which still holds every secret; only the
    auditors' snippets are redacted. Comparing each finding's snippet with the completion lines
    it stands for gives the text the auditor hid; that text is then replaced, as a whole token,
    wherever it appears (code windows, and messages or evidence of any auditor that quoted it),
    always by the same ``[REDACTED:<hash>]``.

    >>> m = Masker.from_pairs([("key = 'sk_live_0123456789'", "key = '****'")])
    >>> m("print('sk_live_0123456789')") == "print('" + mask("sk_live_0123456789") + "')"
    True
    """

    def __init__(self, replacements: Mapping[str, str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._items = sorted(replacements.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        self._shown = dict(self._items)
        # Few secrets: one regular expression. Many (a minified line can hold thousands): an
        # alternation tries every branch at every position, so candidates are looked up by their
        # first three characters instead.
        self._pattern = (
            re.compile("|".join(_bounded(h) for h, _ in self._items))
            if 0 < len(self._items) <= 16
            else None
        )
        self._by_prefix: dict[str, list[str]] = {}
        if len(self._items) > 16:
            for hidden, _ in self._items:  # longest first within each prefix
                self._by_prefix.setdefault(hidden[:3], []).append(hidden)

    @classmethod
    def of_values(cls, values: Iterable[str]) -> Masker:
        """Every whole-token occurrence of each secret value (of at least
        :data:`MIN_VALUE_LENGTH` characters) shown as its :func:`mask`, prepared once."""
        return cls({v: mask(v) for v in values if len(v.strip()) >= MIN_VALUE_LENGTH})

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Masker:
        found: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()
        for raw, shown in pairs:
            if raw == shown or (raw, shown) in seen or not _HIDDEN.search(shown):
                continue
            seen.add((raw, shown))
            for hidden, token in hidden_parts(raw, shown):
                # "****" masks every quoted string of a line (host='db' too): only values long
                # enough to be secrets are masked elsewhere; a real mask names a secret.
                least = MIN_VALUE_LENGTH if MASK_RE.search(shown) else _LEGACY_MIN
                for part in _lines_of(hidden) if len(hidden) <= 20_000 else ():
                    if len(part.strip()) >= least:
                        found.setdefault(part, token)
        return cls(found)

    @classmethod
    def of(cls, result: AuditResult) -> Masker:
        return cls.of_findings(result.suggestion.completion, result.findings)

    @classmethod
    def of_findings(cls, completion: str, findings: Iterable[Finding]) -> Masker:
        lines = split_lines(completion)
        pairs = []
        seen: set[tuple[int, int, str]] = set()  # many findings share one snippet
        for f in findings:
            if (f.line, f.end_line, f.snippet) in seen or not f.snippet:
                continue
            seen.add((f.line, f.end_line, f.snippet))
            shown = split_lines(f.snippet)
            raw = lines[f.line - 1 : f.end_line]
            if len(shown) == len(raw):
                pairs.extend(zip(raw, shown))
            else:  # a shortened snippet: compare its lines in order
                pairs.extend(zip(raw, shown[: len(raw)]))
        return cls.from_pairs(pairs)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __call__(self, text: str) -> str:
        if not self._items or not text:
            return text
        if self._pattern is not None:
            return self._pattern.sub(lambda m: self._shown[m.group()], text)
        out, last, i, n = [], 0, 0, len(text)
        by_prefix, shown = self._by_prefix, self._shown
        while i < n - 2:
            found = None
            for hidden in by_prefix.get(text[i : i + 3], ()):
                if text.startswith(hidden, i) and _whole(text, i, i + len(hidden), hidden):
                    found = hidden
                    break
            if found is None:
                i += 1
                continue
            out.append(text[last:i])
            out.append(shown[found])
            i = last = i + len(found)
        out.append(text[last:])
        return "".join(out)

    def shown(self, text: str, raw: str) -> str:
        """``text`` (a snippet or evidence an auditor derived from ``raw``) with any legacy
        ``****`` turned into the mask of what it hid, and every known secret masked."""
        if "****" in text:
            for hidden, token in hidden_parts(raw, text):
                del hidden
                text = text.replace("****", token, 1)
            text = text.replace("****", mask(raw))  # could not be aligned: still one format
        return self(text)


def _lines_of(text: str) -> list[str]:
    return [p for p in re.split(r"[\r\n]+", text) if p]


def masked(value: Any, masker: Masker) -> Any:
    """``value`` (JSON-like; mappings and tuples come back as dicts and lists) with ``masker``
    applied to every string in it."""
    if not masker:
        return value
    return map_strings(value, masker)
