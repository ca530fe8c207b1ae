"""Gates for detect-secrets' plug-ins, derived from each plug-in's own patterns: the strings every
match must contain (:func:`required_literals`), whether a pattern may run over the whole text
(:func:`whole_text_safe`), the text's line index, and the gates' on-disk cache. Used by
:class:`~codeaudit.auditors.privacy.secrets.SecretScanner`; see :mod:`.secrets` for why a
gate only ever skips work that cannot produce a finding."""

from __future__ import annotations

import json
import math
import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How many strings a gate may hold before a shorter, smaller set is preferred.
_MAX_SET = 64


# --- gates derived from a pattern's syntax tree --------------------------------------------------

Needs = tuple[frozenset[str], ...]  # every match contains a string of each set (AND of ORs)


@dataclass(frozen=True, slots=True)
class _Info:
    """What a sub-pattern tells about the strings it matches.

    ``exact``: the finite set of strings it matches (``None`` when unknown or too large);
    ``needs``: sets of strings such that every match contains one string of each set.
    """

    exact: frozenset[str] | None
    needs: Needs = ()


def _minimal(strings: frozenset[str]) -> frozenset[str]:
    """Drop strings that contain another member: "contains one of them" stays the same test."""
    kept: list[str] = []
    for s in sorted(strings, key=len):
        if not any(k in s for k in kept):
            kept.append(s)
    return frozenset(kept)


def _strength(need: frozenset[str]) -> tuple[int, int]:
    return (min(map(len, need)), -len(need))


def _all_needs(info: _Info) -> Needs:
    """The requirements of ``info``, its exact set counted as one (unless it allows "")."""
    needs = info.needs
    if info.exact is not None and "" not in info.exact:
        needs = (*needs, _minimal(info.exact))
    return needs


def _one_need(info: _Info) -> frozenset[str] | None:
    needs = _all_needs(info)
    return max(needs, key=_strength) if needs else None


def _analyse(items: Iterable[tuple[Any, Any]], ci: bool) -> _Info:
    """Exact strings / required strings of a sequence of parsed regex items (sre syntax tree)."""
    exact: frozenset[str] | None = frozenset({""})
    needs: Needs = ()
    broken = False  # whether ``exact`` only covers the run after the last unknown item

    for op, av in items:
        info = _item_info(op, av, ci)
        if (
            info.exact is not None
            and exact is not None
            and len(exact) * len(info.exact) <= _MAX_SET
        ):
            exact = frozenset(a + b for a in exact for b in info.exact)
            needs = (*needs, *info.needs)
            continue
        broken = True
        needs = (
            (*needs, *_all_needs(_Info(exact, ())), *_all_needs(info))
            if exact is not None
            else (*needs, *_all_needs(info))
        )
        exact = info.exact  # a new run starts after the break
    if not broken:
        return _Info(exact, needs)
    return _Info(None, (*needs, *_all_needs(_Info(exact, ()))) if exact is not None else needs)


def _item_info(op: Any, av: Any, ci: bool) -> _Info:
    from re import _constants as C

    if op is C.LITERAL:
        ch = chr(av)
        return _Info(frozenset({ch.lower() if ci else ch}))
    if op is C.IN:
        chars: set[str] = set()
        for sop, sav in av:
            if sop is C.LITERAL:
                chars.add(chr(sav))
            elif sop is C.RANGE and sav[1] - sav[0] < 16:
                chars.update(chr(c) for c in range(sav[0], sav[1] + 1))
            else:  # NEGATE, CATEGORY, wide ranges: too many strings to enumerate
                return _Info(None)
        return _Info(frozenset(c.lower() for c in chars) if ci else frozenset(chars))
    if op is C.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return _analyse(sub, ci or bool(add_flags & C.SRE_FLAG_IGNORECASE))
    if op is C.ATOMIC_GROUP:
        return _analyse(av, ci)
    if op is C.BRANCH:
        infos = [_analyse(alt, ci) for alt in av[1]]
        if all(i.exact is not None for i in infos):
            union = frozenset().union(*(i.exact for i in infos))  # type: ignore[misc]
            if len(union) <= _MAX_SET:
                return _Info(union)
        ones = [_one_need(i) for i in infos]
        if any(n is None for n in ones):
            return _Info(None)
        return _Info(None, (_minimal(frozenset().union(*ones)),))  # type: ignore[misc]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        lo, hi, sub = av
        inner = _analyse(sub, ci)
        if inner.exact is not None and hi <= 4:
            strings: set[str] = set()
            layer = {""}
            for count in range(hi + 1):
                if count >= lo:
                    strings |= layer
                if len(strings) > _MAX_SET or len(layer) * len(inner.exact) > 4 * _MAX_SET:
                    break
                layer = {a + b for a in layer for b in inner.exact}
            else:
                if len(strings) <= _MAX_SET:
                    return _Info(frozenset(strings))
        return _Info(None, _all_needs(inner) if lo >= 1 else ())
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _Info(frozenset({""}))  # consumes nothing
    return _Info(None)  # ANY, NOT_LITERAL, GROUPREF, CATEGORY …: any character(s)


def required_literals(pattern: re.Pattern[str], tree: Any = None) -> tuple[Needs, bool]:
    """Sets of strings such that every match of ``pattern`` contains one string of each set.

    The second value says whether the strings must be compared with lowercased text (the pattern
    ignores case somewhere). An empty tuple means the pattern guarantees no such strings.

    >>> needs, ci = required_literals(re.compile(r"(?:r|s)k_live_[0-9a-zA-Z]{24}"))
    >>> [sorted(n) for n in needs], ci
    ([['rk_live_', 'sk_live_']], False)
    >>> required_literals(re.compile(r"\\d+"))
    ((), False)
    """
    from re import _constants as C
    from re import _parser

    tree = tree if tree is not None else _parser.parse(pattern.pattern, pattern.flags)
    ci = bool(pattern.flags & re.IGNORECASE) or _mentions_flag(tree, C.SRE_FLAG_IGNORECASE)
    needs = {n for n in _all_needs(_analyse(tree, ci)) if "" not in n}
    return tuple(sorted(needs, key=_strength, reverse=True)), ci


def _mentions_flag(items: Any, flag: int) -> bool:
    """Whether any scoped group ``(?i:…)`` in the tree turns ``flag`` on."""
    from re import _constants as C

    for op, av in items:
        if op is C.SUBPATTERN:
            if av[1] & flag or _mentions_flag(av[3], flag):
                return True
        elif op is C.BRANCH:
            if any(_mentions_flag(alt, flag) for alt in av[1]):
                return True
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            if _mentions_flag(av[2], flag):
                return True
        elif op in (C.ASSERT, C.ASSERT_NOT):
            if _mentions_flag(av[1], flag):
                return True
    return False


def whole_text_safe(pattern: re.Pattern[str], tree: Any = None) -> bool:
    """Whether a match of ``pattern`` inside one line is also a match in the lines joined by ``\\n``.

    Compiled with ``re.MULTILINE``, ``^`` and ``$`` see line ends as before and ``\\b`` sees ``\\n``
    as a non-word character just like the end of a line. What breaks it: ``\\A``/``\\Z``, and a
    negative look-around whose body could match a line break (at a line end it held per line but
    may fail across lines). The check is conservative: it says no when unsure.

    >>> whole_text_safe(re.compile(r"(?<![\\w.])\\d+\\.\\d+(?![\\w.])"))
    True
    >>> whole_text_safe(re.compile(r"key(?!\\s)"))
    False
    """
    from re import _constants as C
    from re import _parser

    if pattern.flags & re.DOTALL:
        return False

    def may_match_newline(items: Any, dotall: bool = False) -> bool:
        for op, av in items:
            if op is C.LITERAL and av == 10:
                return True
            if op is C.NOT_LITERAL and av != 10:
                return True
            if op is C.ANY and dotall:
                return True
            if op is C.IN:
                for sop, sav in av:
                    if sop is C.NEGATE or (sop is C.LITERAL and sav == 10):
                        return True
                    if sop is C.RANGE and sav[0] <= 10 <= sav[1]:
                        return True
                    if sop is C.CATEGORY and sav not in (C.CATEGORY_DIGIT, C.CATEGORY_WORD):
                        return True
            if op is C.SUBPATTERN and may_match_newline(
                av[3], dotall or bool(av[1] & C.SRE_FLAG_DOTALL)
            ):
                return True
            if op is C.ATOMIC_GROUP and may_match_newline(av, dotall):
                return True
            if op is C.BRANCH and any(may_match_newline(alt, dotall) for alt in av[1]):
                return True
            if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and may_match_newline(
                av[2], dotall
            ):
                return True
            if op in (C.ASSERT, C.ASSERT_NOT) and may_match_newline(av[1], dotall):
                return True
            if op in (C.GROUPREF, C.GROUPREF_EXISTS, C.CATEGORY):
                return True
        return False

    def safe(items: Any) -> bool:
        for op, av in items:
            if op is C.AT and av in (C.AT_BEGINNING_STRING, C.AT_END_STRING):
                return False
            if op is C.ASSERT_NOT and may_match_newline(av[1]):
                return False
            if op is C.SUBPATTERN and not safe(av[3]):
                return False
            if op is C.BRANCH and not all(safe(alt) for alt in av[1]):
                return False
            if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and not safe(av[2]):
                return False
            if op in (C.ASSERT, C.ASSERT_NOT) and not safe(av[1]):
                return False
            if op is C.ATOMIC_GROUP and not safe(av):
                return False
            if op is C.GROUPREF_EXISTS:
                return False
        return True

    return safe(tree if tree is not None else _parser.parse(pattern.pattern, pattern.flags))


class _Text:
    """The lines one scan looks at, prepared once for all gates.

    ``low`` is the lowercased text, kept only for ASCII texts (Unicode case folding can make a
    character match a letter it does not lowercase to). Needle look-ups are memoised: each needle
    is searched once per text, whichever plug-ins ask for it.
    """

    __slots__ = ("lines", "text", "low", "longest", "starts", "_has", "_where", "_widths")

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.text = "\n".join(lines)
        self.low = self.text.lower() if self.text.isascii() else None
        self.longest = max(map(len, self.text.split()), default=0)
        starts, at = [], 0
        for line in lines:
            starts.append(at)
            at += len(line) + 1
        self.starts = starts
        self._has: dict[tuple[str, bool], bool] = {}
        self._where: dict[tuple[str, bool], set[int]] = {}
        self._widths: list[int] | None = None

    def has(self, needle: str, ci: bool) -> bool:
        key = (needle, ci)
        found = self._has.get(key)
        if found is None:
            found = self._has[key] = needle in (self.low if ci else self.text)  # type: ignore[operator]
        return found

    def lines_with(self, needle: str, ci: bool) -> set[int]:
        """Indices of the lines that hold ``needle``."""
        key = (needle, ci)
        found = self._where.get(key)
        if found is None:
            hay = self.low if ci else self.text
            found, starts = set(), self.starts
            i = hay.find(needle)  # type: ignore[union-attr]
            while i >= 0:
                index = bisect_right(starts, i) - 1
                found.add(index)
                nxt = starts[index + 1] if index + 1 < len(starts) else len(hay)  # type: ignore[arg-type]
                i = hay.find(needle, max(nxt, i + 1))  # type: ignore[union-attr]
            self._where[key] = found
        return found

    def widths(self) -> list[int]:
        """The longest whitespace-free token of each line."""
        if self._widths is None:
            self._widths = [max(map(len, line.split()), default=0) for line in self.lines]
        return self._widths


@dataclass(frozen=True, slots=True)
class _Test:
    """One pattern's gate: the needle sets it requires (all of them), or a whole-text regex.

    ``width``: when the pattern cannot match white space, every match lies inside one
    whitespace-free token at least this long (0 when the pattern may match white space).
    """

    needs: Needs = ()
    ci: bool = False
    regex: re.Pattern[str] | None = None
    width: int = 0

    def text_open(self, t: _Text) -> bool:
        if t.longest < self.width:
            return False
        if self.regex is not None:
            return self.regex.search(t.text) is not None
        if self.ci and t.low is None:
            return True
        return all(any(t.has(n, self.ci) for n in need) for need in self.needs)

    def line_set(self, t: _Text) -> set[int]:
        """The lines this test lets through (once :meth:`text_open` said yes)."""
        if self.regex is not None or (self.ci and t.low is None) or not self.needs:
            chosen = set(range(len(t.lines)))
        else:
            chosen = None
            for need in sorted(self.needs, key=_strength, reverse=True):
                lines: set[int] = set()
                for n in need:
                    lines |= t.lines_with(n, self.ci)
                chosen = lines if chosen is None else chosen & lines
                if not chosen:
                    return set()
        if self.width:
            widths = t.widths()
            chosen = {i for i in chosen if widths[i] >= self.width}  # type: ignore[union-attr]
        return chosen  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class _Gate:
    """Decides which lines one plug-in must see: those where one of its pattern gates is open.

    ``first``: the union of each test's strongest needle set (lowercased), checked before the
    tests themselves — every test requires its own strongest set, so when none of these strings
    occurs no test can open. Empty when some test has no needles.
    """

    tests: tuple[_Test, ...] = ()
    always: bool = False
    first: tuple[str, ...] = ()

    def lines(self, t: _Text, present: frozenset[str] | None = None) -> Sequence[int]:
        """Indices of the lines the plug-in must see, in order.

        ``present``: which of the scanner's ``first`` strings occur in the lowercased text, when
        the caller looked them all up at once (else each is looked up here).
        """
        if self.always:
            return range(len(t.lines))
        if self.first and t.low is not None:
            if present is None:
                present = frozenset(n for n in self.first if n in t.low)
            if present.isdisjoint(self.first):
                return ()
        chosen: set[int] = set()
        for test in self.tests:
            if test.text_open(t):
                chosen |= test.line_set(t)
        return sorted(chosen)


def _may_match_space(items: Any) -> bool:
    """Whether a parsed pattern could consume a white-space character (conservative)."""
    from re import _constants as C

    spaces = _space_codes()
    for op, av in items:
        if op is C.LITERAL and av in spaces:
            return True
        if op in (C.NOT_LITERAL, C.ANY, C.CATEGORY, C.GROUPREF, C.GROUPREF_EXISTS):
            return True
        if op is C.IN:
            for sop, sav in av:
                if sop is C.NEGATE or (sop is C.LITERAL and sav in spaces):
                    return True
                if sop is C.RANGE and any(sav[0] <= c <= sav[1] for c in spaces):
                    return True
                if sop is C.CATEGORY and sav not in (C.CATEGORY_DIGIT, C.CATEGORY_WORD):
                    return True
        if op is C.SUBPATTERN and _may_match_space(av[3]):
            return True
        if op is C.ATOMIC_GROUP and _may_match_space(av):
            return True
        if op is C.BRANCH and any(_may_match_space(alt) for alt in av[1]):
            return True
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and _may_match_space(av[2]):
            return True
    return False


def _space_codes() -> frozenset[int]:
    global _SPACES
    if _SPACES is None:
        # What str.split() splits on: every character for which str.isspace() holds.
        _SPACES = frozenset(c for c in range(0x3001) if chr(c).isspace())
    return _SPACES


_SPACES: frozenset[int] | None = None


def _token_width(tree: Any) -> int:
    """The shortest match of a parsed pattern that cannot match white space; 0 when it can."""
    if _may_match_space(tree):
        return 0
    return tree.getwidth()[0]


def _test_spec(pattern: re.Pattern[str]) -> dict[str, Any] | None:
    """The cheapest sound gate for one pattern (as JSON-ready data), or ``None``: every line."""
    from re import _parser

    tree = _parser.parse(pattern.pattern, pattern.flags)
    needs, ci = required_literals(pattern, tree)
    width = _token_width(tree)
    # Lowercased needles are weaker than exact-case ones, so they must be longer to pay off;
    # two required sets together are selective even when each is short.
    shortest = [min(map(len, n)) for n in needs]
    strong = any(s >= (3 if ci else 2) for s in shortest) or sum(s >= 2 for s in shortest) >= 2
    spec: dict[str, Any] = {
        "needs": [sorted(n) for n in needs],
        "ci": ci,
        "regex": None,
        "width": width,
    }
    if strong:
        return spec
    if whole_text_safe(pattern, tree):
        return {**spec, "needs": [], "regex": [pattern.pattern, pattern.flags | re.MULTILINE]}
    if needs or width:
        return spec
    return None


def _plugin_patterns(plugin: Any) -> tuple[str, list[re.Pattern[str]]] | None:
    """What the gate of a plug-in is derived from: ``(kind, patterns)``; ``None``: no gate known."""
    from detect_secrets.plugins import high_entropy_strings as hes
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector

    if type(plugin) in (hes.Base64HighEntropyString, hes.HexHighEntropyString):
        # The gate assumes the plug-in's quoted-run pattern; anything else sees every line.
        if plugin.regex.pattern != rf'([\'"])([{re.escape(plugin.charset)}]+)(\1)':
            return None
        return "entropy", [plugin.regex]
    if isinstance(plugin, keyword.KeywordDetector):
        patterns = {p for table in keyword.REGEX_BY_FILETYPE.values() for p in table}
        return "regex", sorted(
            patterns | set(keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP), key=lambda p: p.pattern
        )
    if isinstance(plugin, RegexBasedDetector):
        return "regex", sorted(plugin.denylist, key=lambda p: p.pattern)
    return None


def _gate_spec(plugin: Any) -> dict[str, Any]:
    """Derive a plug-in's gate from its own patterns (slow: parses every pattern)."""
    found = _plugin_patterns(plugin)
    if found is None:
        return {"always": True}
    kind, patterns = found
    if kind == "entropy":
        # entropy(s) <= log2(len(s)); the plug-in reports entropy > limit, so len(s) > 2**limit.
        shortest = max(1, math.floor(2**plugin.entropy_limit))
        gate = rf"([\'\"])[{re.escape(plugin.charset)}]{{{shortest},}}\1"
        return {"tests": [{"needs": [], "ci": False, "regex": [gate, 0], "width": shortest + 2}]}
    tests = []
    for pattern in patterns:
        spec = _test_spec(pattern)
        if spec is None:
            return {"always": True}
        tests.append(spec)
    firsts = [
        max((frozenset(n) for n in t["needs"]), key=_strength) if t["needs"] else None
        for t in tests
    ]
    first: list[str] = []
    if all(f is not None for f in firsts):
        first = sorted(_minimal(frozenset(n.lower() for f in firsts for n in f)))  # type: ignore[union-attr]
    return {"tests": tests, "first": first}


def _gate_from_spec(spec: dict[str, Any]) -> _Gate:
    if spec.get("always"):
        return _Gate(always=True)
    tests = tuple(
        _Test(
            needs=tuple(frozenset(n) for n in t["needs"]),
            ci=t["ci"],
            regex=re.compile(t["regex"][0], t["regex"][1]) if t["regex"] else None,
            width=t["width"],
        )
        for t in spec["tests"]
    )
    return _Gate(tests=tests, first=tuple(spec.get("first", ())))


def _gate_key(plugin: Any) -> str:
    """Identity of a plug-in's gate: its class, settings and the text of every pattern it uses."""
    import hashlib

    found = _plugin_patterns(plugin)
    parts = [
        _ANALYSIS_VERSION,
        type(plugin).__module__,
        type(plugin).__qualname__,
        json.dumps(plugin.json(), sort_keys=True, default=str),
    ]
    if found:
        parts += [f"{p.pattern}\x00{p.flags}" for p in found[1]]
    return hashlib.sha256("\x01".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


#: Bumped whenever the analysis changes, so gates derived by older code are not reused.
_ANALYSIS_VERSION = "1"
#: Gates derived or read in this process, by :func:`_gate_key`.
_GATES: dict[str, dict[str, Any]] = {}


def _gate_cache_file() -> Path:
    """Where derived gates are kept between processes (``$CODEAUDIT_CACHE_DIR`` or the user cache)."""
    from codeaudit.cache import cache_dir

    return cache_dir() / "secret-gates.json"


def _gates_for(plugins: list[Any]) -> list[_Gate]:
    """Each plug-in's gate: from this process, from the on-disk cache, or derived (then cached).

    Deriving them parses some fifty patterns, which a cold pre-commit hook should not pay each
    time. The cache is keyed by the patterns' text, so a changed plug-in never reuses a stale
    gate; a cache that cannot be read or written is ignored.
    """
    keys = [_gate_key(p) for p in plugins]
    if any(k not in _GATES for k in keys):
        path = _gate_cache_file()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(stored, dict):
                _GATES.update({k: v for k, v in stored.items() if isinstance(v, dict)})
        except (OSError, ValueError):
            pass
        fresh = {k: _gate_spec(p) for k, p in zip(keys, plugins) if k not in _GATES}
        if fresh:
            _GATES.update(fresh)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(_GATES, sort_keys=True), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass
    return [_gate_from_spec(_GATES[k]) for k in keys]
