"""Normalised token streams: whitespace- and comment-insensitive, robust to renamed identifiers.

Source text becomes three parallel arrays, one entry per token:

``norm`` (uint16)
    the token's *normal form*: every identifier is the same placeholder (:data:`NORM_IDENT`),
    keywords, operators and numbers keep their text, and a string literal becomes a marker
    (:data:`NORM_STRING`) followed by the words and punctuation of its content (so a copied
    docstring still matches, whatever its quotes or indentation). Comments and whitespace leave
    no token at all. MinHash shingles and alignments are computed on this stream, which is why a
    copy with re-indented lines, edited comments or renamed variables still matches.
``raw`` (uint8)
    a small hash of the token's exact text, so a verified match can tell a verbatim copy from one
    with renamed identifiers (and check that the renaming is consistent).
``line`` (int32)
    the 1-based line the token starts on, to report which lines were copied.

The lexer is one regular expression per family of languages (Python; C-like; ``#``-comment
languages; ``--``-comment languages; plain text). It is not a parser and need not be: corpus and
suggestion go through the same lexer, so consistency is what matters, and
:data:`TOKENIZER_VERSION` is stored in every index so an index built by another lexer is refused.

>>> ts = tokenize("def f(x):  # add one\\n    return x + 1\\n", "python")
>>> ts2 = tokenize("def g(y):\\n  return y+1", "python")
>>> bool((ts.norm == ts2.norm).all()), len(ts), ts.line.tolist()
(True, 10, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2])
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from operator import methodcaller

import numpy as np

#: Bump whenever the token stream of any input could change: indexes record it and refuse others.
TOKENIZER_VERSION = 1

#: Normal form of every identifier (renaming a variable does not change the stream).
NORM_IDENT = 1
#: Marker that starts a string literal (its words follow as ordinary tokens).
NORM_STRING = 2
_RESERVED = 3  # codes below this are the fixed markers above

# --- keywords: kept as themselves in the normal form -------------------------------------------
# Only reserved words: a name a program may choose (``self``, ``len``, ``value``) is an identifier,
# because a renaming tool may rename it.
_PYTHON_KEYWORDS = frozenset(
    "False None True and as assert async await break class continue def del elif else except finally "
    "for from global if import in is lambda nonlocal not or pass raise return try while with yield".split()
)
_CLIKE_KEYWORDS = frozenset(
    # C / C++
    "auto break case char const continue default do double else enum extern float for goto if inline "
    "int long register return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while bool catch class constexpr delete explicit friend namespace new noexcept nullptr "
    "operator private protected public template this throw try typename using virtual "
    # Java / C# / Kotlin
    "abstract boolean byte extends final finally implements import instanceof interface native package "
    "super synchronized throws transient null true false base checked decimal delegate event fixed foreach "
    "internal is lock object out override params readonly ref sbyte sealed stackalloc string uint ulong "
    "unchecked unsafe ushort fun val var when "
    # JavaScript / TypeScript
    "async await debugger export function in let of typeof undefined yield declare type "
    # Go / Rust / Swift / PHP
    "chan defer fallthrough func go map range select as crate dyn fn impl loop match mod move mut pub "
    "self Self trait unsafe use where guard echo elseif endif endforeach endwhile".split()
)
_HASH_KEYWORDS = frozenset(
    # shell, Ruby, Perl, R
    "if then else elif fi for while until do done case esac in function return local export declare "
    "def end class module begin rescue ensure unless yield nil true false and or not self super "
    "my our sub use require package last next redo foreach NULL TRUE FALSE repeat break".split()
)
_DASH_KEYWORDS = frozenset(
    # SQL (upper and lower case), Lua
    " ".join(
        w + " " + w.lower()
        for w in "SELECT FROM WHERE INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE JOIN ON GROUP BY ORDER "
        "HAVING AND OR NOT NULL AS INNER LEFT RIGHT OUTER LIMIT UNION".split()
    ).split()
    + "function local end then if else elseif for while do repeat until return nil true false and or not".split()
)

# --- the lexers -------------------------------------------------------------------------------
_IDENT = r"[^\W\d]\w*"
_NUMBER = r"\.?\d[\w.]*(?:[eE][+-]\d+)?"
_NEWLINE = r"\n"
_OTHER = r"[^\s\w]"


def _quoted(q: str) -> str:
    """A one-line string literal with backslash escapes (unrolled for speed)."""
    return rf"{q}[^{q}\\\n]*(?:\\[\s\S][^{q}\\\n]*)*{q}"


def _triple(q: str) -> str:
    """A triple-quoted string; an unterminated one runs to the end of the text, so a suggestion
    that stops inside a docstring lexes its words as the corpus file does."""
    qq = re.escape(q)
    return rf"{qq * 3}[^{q}\\]*(?:(?:\\[\s\S]|{qq}(?!{qq * 2}))[^{q}\\]*)*(?:{qq * 3}|\Z)"


_PY_OPS = r"\*\*=|//=|>>=|<<=|\.\.\.|->|:=|==|!=|<=|>=|\*\*|//|<<|>>|\+=|-=|\*=|/=|%=|&=|\|=|\^=|@="
_C_OPS = r">>>=|<<=|>>=|\.\.\.|===|!==|->|=>|::|\+\+|--|&&|\|\||==|!=|<=|>=|<<|>>|\+=|-=|\*=|/=|%=|&=|\|=|\^=|\?\?|\?\."
_SH_OPS = r"&&|\|\||==|!=|<=|>=|<<|>>|=~|\+=|-=|=>|->|::|\*\*|\.\.|;;"


@dataclass(frozen=True)
class _Family:
    name: str
    regex: str
    comment_starts: tuple[str, ...]
    string_starts: str  # characters (after an optional prefix) that open a string
    string_prefixes: str  # letters that may prefix a string
    keywords: frozenset[str]


_BLOCK_COMMENT = r"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/"
_BACKTICK = r"`[^`\\]*(?:\\[\s\S][^`\\]*)*`"


def _family(
    name: str,
    comments: dict[str, str],
    strings: list[str],
    ops: str,
    quotes: str,
    prefixes: str,
    keywords: frozenset[str],
) -> _Family:
    """Comments first (a quote inside a comment is not a string), then strings, words, numbers, operators."""
    prefix = f"[{prefixes}]{{0,2}}" if prefixes else ""
    parts = [
        *comments.values(),
        f"{prefix}(?:{'|'.join(strings)})",
        _IDENT,
        _NUMBER,
        ops,
        _NEWLINE,
        _OTHER,
    ]
    return _Family(name, "|".join(parts), tuple(comments), quotes, prefixes, keywords)


@cache
def _pattern(family: str) -> re.Pattern[str]:
    """A family's lexer, compiled on first use (start-up pays only for the languages it sees)."""
    return re.compile(_FAMILIES[family].regex)


_FAMILIES: dict[str, _Family] = {
    "python": _family(
        "python",
        {"#": r"\#[^\n]*"},
        [_triple("'"), _triple('"'), _quoted("'"), _quoted('"')],
        _PY_OPS,
        "'\"",
        "rRbBuUfF",
        _PYTHON_KEYWORDS,
    ),
    "clike": _family(
        "clike",
        {"//": r"//[^\n]*", "/*": _BLOCK_COMMENT},
        [_quoted('"'), _quoted("'"), _BACKTICK],
        _C_OPS,
        "'\"`",
        "",
        _CLIKE_KEYWORDS,
    ),
    "php": _family(
        "php",
        {"//": r"//[^\n]*", "#": r"\#[^\n]*", "/*": _BLOCK_COMMENT},
        [_quoted('"'), _quoted("'")],
        _C_OPS,
        "'\"",
        "",
        _CLIKE_KEYWORDS,
    ),
    "hash": _family(
        "hash", {"#": r"\#[^\n]*"}, [_quoted('"'), _quoted("'")], _SH_OPS, "'\"", "", _HASH_KEYWORDS
    ),
    "dash": _family(
        "dash",
        {"--": r"--[^\n]*", "/*": _BLOCK_COMMENT},
        [_quoted('"'), _quoted("'")],
        _SH_OPS,
        "'\"",
        "",
        _DASH_KEYWORDS,
    ),
    "plain": _family("plain", {}, [_quoted('"'), _quoted("'")], _SH_OPS, "'\"", "", frozenset()),
}

_LANGUAGE_FAMILY = {
    "python": "python",
    **{
        lang: "clike"
        for lang in (
            "c",
            "cpp",
            "csharp",
            "java",
            "kotlin",
            "scala",
            "javascript",
            "typescript",
            "rust",
            "go",
            "swift",
            "objectivec",
            "dart",
            "css",
            "json",
            "terraform",
        )
    },
    "php": "php",
    **{
        lang: "hash"
        for lang in (
            "shell",
            "ruby",
            "perl",
            "r",
            "yaml",
            "toml",
            "ini",
            "dockerfile",
            "makefile",
            "powershell",
        )
    },
    **{lang: "dash" for lang in ("sql", "lua")},
}


def family_of(language: str | None) -> str:
    """The lexer family used for a language name (``plain`` when unknown).

    >>> family_of("typescript"), family_of("python"), family_of(None)
    ('clike', 'python', 'plain')
    """
    return _LANGUAGE_FAMILY.get(language or "", "plain")


#: A language that lexes as each family (to lex a query the way an index's files were lexed).
FAMILY_LANGUAGE = {
    "python": "python",
    "clike": "c",
    "php": "php",
    "hash": "shell",
    "dash": "sql",
    "plain": None,
}


# --- normal forms -----------------------------------------------------------------------------


def _code16(form: str) -> int:
    """A stable 16-bit code for a normal form, above the reserved markers."""
    return _RESERVED + zlib.crc32(form.encode("utf-8", "surrogatepass")) % (65536 - _RESERVED)


@lru_cache(maxsize=4096)
def _raw8(text: str) -> int:
    return zlib.crc32(b"raw\x00" + text.encode("utf-8", "surrogatepass")) & 0xFF


_ENCODE = methodcaller("encode", "utf-8", "surrogatepass")


def _codes16(forms: list[str]) -> np.ndarray:
    """:func:`_code16` of many normal forms at once (no Python call per form)."""
    crc = np.fromiter(map(zlib.crc32, map(_ENCODE, forms)), dtype=np.int64, count=len(forms))
    return (_RESERVED + crc % (65536 - _RESERVED)).astype(np.uint16)


def _raws8(texts: list[str]) -> np.ndarray:
    """:func:`_raw8` of many texts at once."""
    crc = np.fromiter(
        map(zlib.crc32, map(b"raw\x00".__add__, map(_ENCODE, texts))),
        dtype=np.int64,
        count=len(texts),
    )
    return (crc & 0xFF).astype(np.uint8)


_WORDS = re.compile(r"\w+|[^\w\s]")


@cache
def _simple(family: str, tok: str) -> tuple[int, int]:
    """(norm, raw) of an identifier, keyword, number or operator."""
    fam = _FAMILIES[family]
    c = tok[0]
    if c.isalpha() or c == "_" or (not c.isdigit() and c.isidentifier()):
        if tok in fam.keywords:
            return _code16("k:" + tok), _raw8(tok)
        return NORM_IDENT, _raw8(tok)
    if c.isdigit() or (c == "." and len(tok) > 1):
        return _code16("n:" + tok), _raw8(tok)
    return _code16("o:" + tok), _raw8(tok)


def _word(tok: str) -> tuple[int, int]:
    """(norm, raw) of one word of a string literal; :func:`_words_many` gives the same values."""
    return _code16("w:" + tok), _raw8(tok)


def _words_many(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(norm, raw) arrays of many words of string literals at once, as :func:`_word` gives each."""
    return _codes16(list(map("w:".__add__, words))), _raws8(words)


def _string_body(fam: _Family, tok: str) -> tuple[int, str] | None:
    """(offset of the content, content) when ``tok`` is a complete string literal."""
    i = 0
    while i < len(tok) and i < 2 and tok[i] in fam.string_prefixes:
        i += 1
    if i >= len(tok) or tok[i] not in fam.string_starts:
        return None
    q = tok[i]
    if tok.startswith(q * 3, i):
        # Triple-quoted, possibly unterminated (it then runs to the end of the text).
        closed = len(tok) - i >= 6 and tok.endswith(q * 3)
        return i + 3, tok[i + 3 : len(tok) - 3 if closed else len(tok)]
    return i + 1, tok[i + 1 : -1]


# --- the token stream -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenStream:
    """Parallel arrays of one text's tokens; ``start``/``end`` (character offsets) only when asked."""

    norm: np.ndarray
    raw: np.ndarray
    line: np.ndarray
    start: np.ndarray | None = None
    end: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.norm.shape[0])


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n`` (line numbers then agree with the pipeline's)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


class _Vocab:
    """Per-family table of the simple tokens seen so far: token text -> code, and per code its
    normal form, raw hash, and whether it is a line break. Lets :func:`tokenize` classify a
    whole file with one dictionary pass and a few numpy gathers."""

    LIMIT = 2_000_000  # entries; reset beyond (rare literals should not grow it forever)

    def __init__(self, family: str) -> None:
        self.family = family
        self.reset()

    def reset(self) -> None:
        self.codes: dict[str, int] = {"\n": 0}
        self.norm = np.zeros(1024, dtype=np.uint16)
        self.raw = np.zeros(1024, dtype=np.uint8)
        self.emit = np.zeros(1024, dtype=np.int64)  # tokens emitted: 0 for the line break
        self.newline = np.zeros(1024, dtype=np.int64)
        self.newline[0] = 1
        self.size = 1

    def add(self, tok: str) -> int:
        if self.size >= self.LIMIT:
            self.reset()
        if self.size == self.norm.shape[0]:
            for name in ("norm", "raw", "emit", "newline"):
                arr = getattr(self, name)
                setattr(self, name, np.concatenate([arr, np.zeros_like(arr)]))
        code = self.size
        self.norm[code], self.raw[code] = _simple(self.family, tok)
        self.emit[code] = 1
        self.size += 1
        self.codes[tok] = code
        return code


_VOCABS = {name: _Vocab(name) for name in _FAMILIES}


class _WordVocab:
    """Words of string literals -> (normal form, raw hash); codes 0 and 1 are the line break and
    the separator :func:`_expand_strings` puts between literals."""

    LIMIT = 2_000_000

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.codes: dict[str, int] = {"\n": 0, "\x00": 1}
        self.norm = np.zeros(4096, dtype=np.uint16)
        self.raw = np.zeros(4096, dtype=np.uint8)
        self.size = 2

    def lookup(self, parts: list[str]) -> np.ndarray:
        """The codes of ``parts``, adding the words not in the table yet in one batch (a text
        of new words, such as SVG path data, costs no Python call per word)."""
        if self.size + len(parts) > self.LIMIT:
            self.reset()  # before the lookups, so that every code refers to the same table
        get = self.codes.get
        codes = np.fromiter(map(get, parts, repeat(-1)), dtype=np.int64, count=len(parts))
        missing = np.flatnonzero(codes < 0).tolist()
        if not missing:
            return codes
        words = list(map(parts.__getitem__, missing))
        new = list(dict.fromkeys(words))
        k, first = len(new), self.size
        capacity = self.norm.shape[0]
        while capacity < first + k:
            capacity *= 2
        if capacity != self.norm.shape[0]:
            for name in ("norm", "raw"):
                arr = getattr(self, name)
                grown = np.zeros(capacity, dtype=arr.dtype)
                grown[: arr.shape[0]] = arr
                setattr(self, name, grown)
        self.norm[first : first + k], self.raw[first : first + k] = _words_many(new)
        self.codes.update(zip(new, range(first, first + k)))
        self.size += k
        codes[missing] = np.fromiter(map(self.codes.__getitem__, words), np.int64, len(words))
        return codes


_WORD_VOCAB = _WordVocab()
_WORDS_SPLIT = re.compile(r"\x00|\n|\w+|[^\w\s\x00]")


#: Whitespace below 128 (``str.isspace``, as the lexers' ``\\s``) but the line break, a token.
_ASCII_SKIPPED = np.array([c.isspace() and c != "\n" for c in map(chr, range(128))])


def _skipped_whitespace(text: str) -> np.ndarray:
    """Per character of ``text``: is it whitespace a lexer skips (``\\s`` but ``\\n``)?"""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    out = _ASCII_SKIPPED[np.minimum(cps, 127)]
    wide = cps > 127
    if wide.any():
        others = np.unique(cps[wide])
        spaces = others[[chr(c).isspace() for c in others.tolist()]]
        out[wide] = np.isin(cps[wide], spaces)
    return out


def _expand_strings(contents: list[str], offsets: bool):
    """The words of many string literals at once: normal forms, raw hashes, line offsets inside
    each literal, word counts per literal, and with ``offsets`` each word's span in its literal.

    The contents are joined with NUL (absent from any text that reaches the lexer) and split by
    one regular expression, so no Python loop runs per word.
    """
    voc = _WORD_VOCAB
    big = "\x00".join(contents)
    parts = _WORDS_SPLIT.findall(big)
    codes = voc.lookup(parts)
    is_nl = codes == 0
    is_sep = codes == 1
    literal = np.cumsum(is_sep)  # which literal each part belongs to
    nl_total = np.cumsum(is_nl)
    # Line breaks before each literal's start, to make the counts relative to the literal.
    sep_at = np.flatnonzero(is_sep)
    base = (
        np.concatenate(([0], nl_total[sep_at]))
        if len(contents) > 1
        else np.zeros(1, dtype=np.int64)
    )
    keep = ~(is_nl | is_sep)
    words = codes[keep]
    lit = literal[keep]
    dline = nl_total[keep] - base[lit]
    counts = np.bincount(lit, minlength=len(contents))
    starts = ends = None
    if offsets:
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        # The parts hold no whitespace but line breaks and cover every other character: the
        # k-th character that is not skipped whitespace is the k-th character of the parts.
        kept_chars = np.flatnonzero(~_skipped_whitespace(big))
        pos = kept_chars[np.cumsum(lengths) - lengths]
        lit_start = np.concatenate(([0], np.cumsum([len(c) + 1 for c in contents])[:-1]))
        starts = pos[keep] - lit_start[lit]
        ends = starts + lengths[keep]
    return voc.norm[words], voc.raw[words], dline, counts, starts, ends


def tokenize(text: str, language: str | None, *, offsets: bool = False) -> TokenStream:
    """Lex ``text`` as ``language`` into a :class:`TokenStream`.

    ``offsets=True`` also records each token's character span in ``normalize_newlines(text)``
    (the auditor maps a match back to the completion with them); the tokens are the same.
    """
    fam = _FAMILIES[family_of(language)]
    voc = _VOCABS[fam.name]
    text = normalize_newlines(text)
    toks = _pattern(fam.name).findall(text)
    n = len(toks)
    codes = np.fromiter(map(voc.codes.get, toks, repeat(-1)), dtype=np.int64, count=n)
    comments: list[int] = []
    strings: list[int] = []
    string_off: list[int] = []
    contents: list[str] = []
    quotes, prefixes, comment_starts = fam.string_starts, fam.string_prefixes, fam.comment_starts
    for i in np.flatnonzero(codes < 0).tolist():
        tok = toks[i]
        code = voc.codes.get(tok)
        if code is None:
            if comment_starts and tok.startswith(comment_starts):
                comments.append(i)
                continue
            c = tok[0]
            if c in quotes or (
                c in prefixes
                and len(tok) > 1
                and (tok[1] in quotes or (len(tok) > 2 and tok[2] in quotes))
            ):
                body = _string_body(fam, tok)
                if body is not None:
                    strings.append(i)
                    string_off.append(body[0])
                    contents.append(body[1])
                    continue
            code = voc.add(tok)
        codes[i] = code
    simple = codes >= 0
    safe = np.where(simple, codes, 0)
    newlines = np.where(simple, voc.newline[safe], 0)
    emit = np.where(simple, voc.emit[safe], 0)
    if comments:
        newlines[comments] = [toks[i].count("\n") for i in comments]
    if strings:
        wnorm, wraw, wdline, wcount, wstart, wend = _expand_strings(contents, offsets)
        newlines[strings] = [toks[i].count("\n") for i in strings]
        emit[strings] = wcount + 1
    line_before = np.cumsum(newlines) - newlines + 1
    out_at = np.cumsum(emit) - emit
    total = int(emit.sum()) if n else 0
    norm = np.empty(total, dtype=np.uint16)
    raw = np.empty(total, dtype=np.uint8)
    line = np.empty(total, dtype=np.int32)
    one = np.flatnonzero(simple & (emit == 1))
    where = out_at[one]
    norm[where] = voc.norm[codes[one]]
    raw[where] = voc.raw[codes[one]]
    line[where] = line_before[one]
    start = end = None
    if offsets:
        # Only whitespace lies between two tokens, so each token is the next occurrence of its text.
        positions = np.empty(n, dtype=np.int64)
        find, pos = text.find, 0
        for i, tok in enumerate(toks):
            pos = find(tok, pos)
            positions[i] = pos
            pos += len(tok)
        lengths = np.fromiter(map(len, toks), dtype=np.int64, count=n)
        start = np.empty(total, dtype=np.int64)
        end = np.empty(total, dtype=np.int64)
        start[where] = positions[one]
        end[where] = positions[one] + lengths[one]
    if strings:
        sidx = np.array(strings, dtype=np.int64)
        soff = np.array(string_off, dtype=np.int64)
        marker = out_at[sidx]
        norm[marker] = NORM_STRING
        raw[marker] = [_raw8(toks[i][:o]) for i, o in zip(strings, string_off)]
        line[marker] = line_before[sidx]
        # Word k of literal j goes right after its marker.
        lit = np.repeat(np.arange(len(strings)), wcount)
        rank = np.arange(lit.shape[0]) - np.repeat(np.cumsum(wcount) - wcount, wcount)
        at = marker[lit] + 1 + rank
        norm[at] = wnorm
        raw[at] = wraw
        line[at] = line_before[sidx][lit] + wdline
        if offsets:
            start[marker] = positions[sidx]  # type: ignore[index]
            end[marker] = positions[sidx] + soff  # type: ignore[index]
            start[at] = positions[sidx][lit] + soff[lit] + wstart  # type: ignore[index]
            end[at] = positions[sidx][lit] + soff[lit] + wend  # type: ignore[index]
    return TokenStream(norm, raw, line, start, end)
