r"""Rule packs: the security auditor's pattern rules, as data, one YAML file per language.

The packs ship inside the security auditor's package (``codeaudit/auditors/security/rules/*.yaml``,
read with :mod:`importlib.resources`). Every rule is schema-checked when its pack loads: a missing or malformed field stops
the load with a message naming the file, the rule and the field; a pack never loads with fewer
rules than it holds. A pack looks like this::

    pack: c                      # the pack's own language
    languages: [c, cpp]          # languages its rules may target
    id_prefix: CA41              # every id in the pack starts with it (CA41xx)
    rules:
      - id: CA4101
        name: c-strcpy-unbounded         # kebab-case, names the flagged pattern
        title: Unbounded string copy with strcpy
        cwe: 120
        severity: high                   # info | low | medium | high | critical
        confidence: medium               # low | medium | high
        languages: [c, cpp]              # default: the pack's languages
        keywords: [strcpy]               # cheap gate: the rule runs only if one occurs
        regex: '\\bstrcpy\\s*\\('        # or `query:` (a tree-sitter query capturing @match)
        view: code                       # code (comments and strings blanked) | text
        not_on_line: []                  # regexes: drop a match whose line matches one
        not_in_file: []                  # regexes: drop every match if one matches anywhere
        needs_in_file: []                # regexes: run only if one of them matches somewhere
        not_inside: [function_declarator]  # tree-sitter node types a match must not sit in
        message: strcpy does not know the destination size; use snprintf or strlcpy.
        description: What is flagged and why it matters (Markdown).
        fix: How to fix it (Markdown).
        references: [https://cwe.mitre.org/data/definitions/120.html]
        examples:
          bad: ["strcpy(buf, name);"]    # the test suite asserts each is flagged …
          good: ["snprintf(buf, sizeof buf, \\"%s\\", name);"]  # … and each is not

A rule may instead give a ``sink:`` — it is then a *taint* rule (:mod:`.taint`): it reports a
value from one of the pack's sources that reaches the sink without passing a sanitiser::

        sink:
          callee: '(?:^|\.)executeQuery$'   # regex over the normalised callee text
          args: [0]                         # argument positions (default: any; -1 = receiver)
          assign: '\.innerHTML$'            # or: an assignment target
          nodes: [echo_statement]           # or: statement node types
          when_args: 'shell\s*=\s*True'     # optional: an argument text that must be present
          unless_args: '^"'                 # optional: an argument text that makes it safe
          from_params: false                # optional: parameters of unknown origin are not
                                            # sources for this sink (C indexes, sizes); always:
                                            # even passed through unchanged
          sources: [request data]           # optional: only sources with these labels

and the pack a ``taint:`` section with its language's ``sources`` (``{pattern, label}``: a
regex over a callee or an access such as ``request.args``), ``param_sources`` (annotations or
decorators that make parameters request data), ``arg_sources`` (calls that fill an argument:
``fgets``), ``sanitisers``, ``mutators`` (calls that store their arguments in the receiver:
``append``, ``put``), ``writes_first_arg`` (``sprintf``), ``guards`` (allow-list checks),
``numeric_types`` (parameters of those types carry no text), ``not_sources`` and ``requires``
(words without which the walk is skipped). docs/security.md describes each. Taint rules' examples
are line-pinned: a line ending in a comment with ``ruleid`` must be flagged, one with ``ok``
must not (checked by ``tests/test_rules.py``).

A regex may name the reported part with a ``(?P<match>…)`` group (``match2``, ``match3`` … in
further alternatives). Python rules may also say
``stands_in_for: [B602]``: they stand in for a bandit test on lines bandit could not parse, and
run nowhere else.

>>> pack = builtin_pack("c")
>>> rule = next(r for r in pack.rules if r.rule.id == "CA4101")
>>> rule.rule.cwe, rule.keywords[0], rule.rule.languages
(120, 'strcpy', ('c', 'cpp'))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from codeaudit.errors import EXIT_INTERNAL, EXIT_USAGE, CodeauditError
from codeaudit.model import Confidence, Severity
from codeaudit.registry import Rule, check_unique

AUDITOR = "security"
VIEWS = ("code", "text")
_ID = re.compile(r"^CA4\d{3}$")
_PREFIX = re.compile(r"^CA4\d$")
_BANDIT_ID = re.compile(r"^B\d{3}$")


class RulePackError(CodeauditError):
    """A rule pack that cannot be used as written.

    A broken pack that ships with codeaudit is a bug (exit code 3); a team's own pack named in
    the configuration is a configuration error (exit code 2).
    """

    def __init__(self, message: str, *, builtin: bool = True) -> None:
        super().__init__(message)
        self.exit_code = EXIT_INTERNAL if builtin else EXIT_USAGE


class LazyRegex:
    """A rule's regular expression, compiled on first use.

    Compiling every pattern of a pack costs tens of milliseconds (Python compiles regexes in
    Python), which a pre-commit hook cannot afford for rules whose keywords never occur. The
    shipped packs are compiled in full by the test suite; a team's own packs are compiled when
    they load. A pattern that does not compile raises :class:`RulePackError` naming the rule.
    """

    __slots__ = ("source", "where", "builtin", "_compiled")

    def __init__(self, source: str, where: str, *, builtin: bool = True) -> None:
        self.source = source
        self.where = where
        self.builtin = builtin
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            try:
                self._compiled = re.compile(self.source, re.MULTILINE)
            except re.error as exc:
                raise RulePackError(
                    f"{self.where}: bad regular expression {self.source!r}: {exc}",
                    builtin=self.builtin,
                ) from None
        return self._compiled

    def __repr__(self) -> str:
        return f"LazyRegex({self.source!r})"


@dataclass(frozen=True, slots=True)
class PackRule:
    """One pattern rule: its documentation (:attr:`rule`) and how it matches."""

    rule: Rule
    message: str
    keywords: tuple[str, ...]
    regex: LazyRegex | None
    query: str | None
    view: str
    not_on_line: tuple[LazyRegex, ...] = ()
    not_in_file: tuple[LazyRegex, ...] = ()
    needs_in_file: tuple[LazyRegex, ...] = ()
    not_inside: frozenset[str] = frozenset()
    stands_in_for: tuple[str, ...] = ()
    redact: bool = False
    source: str = ""
    sink: Any = None  # a taint.Sink for taint rules

    @property
    def is_taint(self) -> bool:
        return self.sink is not None

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def _match_groups(self) -> tuple[str, ...]:
        # ``match``, ``match2`` …: the reported part of each alternative of the regex
        return tuple(
            g for g in (self.regex.get().groupindex if self.regex else ()) if g.startswith("match")
        )

    def gate(self, text: str) -> bool:
        """The cheap check: does any keyword occur in the raw text?"""
        return any(k in text for k in self.keywords)

    def spans(self, parsed: Any) -> list[tuple[int, int]]:
        """Character spans (in ``parsed.text``) where the rule matches, before line filters.

        ``parsed`` is a :class:`codeaudit.treesitter.Parsed`.
        """
        if self.sink is not None:
            return []  # taint rules run in the taint engine
        text_view = parsed.view("text")
        if self.needs_in_file and not any(p.get().search(text_view) for p in self.needs_in_file):
            return []
        if any(p.get().search(text_view) for p in self.not_in_file):
            return []
        out: list[tuple[int, int]] = []
        if self.regex is not None:
            view = parsed.view(self.view)
            # a text-view rule reads inside strings, but a call it names must be code — except
            # for secrets, which are string contents by nature
            code = (
                parsed.view("code")
                if self.view != "code" and not self.redact and self.rule.cwe not in _SECRET_CWES
                else None
            )
            groups = self._match_groups
            for m in self.regex.get().finditer(view):
                if code is not None and _inside_text(code, view, m.start()):
                    continue  # a text-view rule must still start in code, not inside a string
                span = next((m.span(g) for g in groups if m.start(g) >= 0), None)
                out.append(span or m.span())
        else:
            out.extend(self._query_spans(parsed))
        if self.not_on_line and out:
            out = [s for s in out if not self._line_excluded(text_view, s, parsed)]
        if self.not_inside and out:
            out = [s for s in out if not parsed.inside(s[0], self.not_inside)]
        return out

    def _query_spans(self, parsed: Any) -> list[tuple[int, int]]:
        import tree_sitter

        from codeaudit import treesitter

        try:
            compiled = treesitter.query(parsed.grammar_name, self.query or "")
        except (tree_sitter.QueryError, ValueError) as exc:
            raise RulePackError(
                f"{self.source}: rule {self.id}: query does not compile for {parsed.grammar_name}: {exc}"
            ) from exc
        out = []
        for _, captures in tree_sitter.QueryCursor(compiled).matches(parsed.root):
            nodes = captures.get("match") or next(iter(captures.values()), [])
            for node in nodes:
                out.append(parsed.span(node))
        return out

    def _line_excluded(self, view: str, span: tuple[int, int], parsed: Any = None) -> bool:
        """Whether an exclusion matches the match's line — or, for a statement that starts on
        that line, any of its lines (a call whose escaping argument sits on its second line)."""
        start = view.rfind("\n", 0, span[0]) + 1
        end = view.find("\n", span[1])
        if parsed is not None:
            lo, hi = _statement_span(parsed, span[0])
            if lo >= start:  # a statement that starts on the match's line: all of its lines
                end = max(end if end >= 0 else len(view), hi)
        line = view[start : end if end >= 0 else len(view)]
        return any(p.get().search(line) for p in self.not_on_line)


_SECRET_CWES = frozenset({259, 321, 798})
_BLOCKS = frozenset(
    {
        "block",
        "compound_statement",
        "statement_block",
        "statement_list",
        "program",
        "module",
        "translation_unit",
        "source_file",
        "class_body",
        "declaration_list",
        "compilation_unit",
        "switch_block_statement_group",
        "field_declaration_list",
    }
)


def _statement_span(parsed: Any, offset: int) -> tuple[int, int]:
    """Character span of the statement around ``offset`` (its own line when none is found)."""
    text = parsed.text
    byte = len(text[:offset].encode("utf-8", "surrogatepass"))
    node = parsed.root.descendant_for_byte_range(byte, byte)
    hops = 0
    while node is not None and node.parent is not None and node.parent.type not in _BLOCKS:
        node = node.parent
        hops += 1
        if hops > 64:
            break
    if node is None or node.parent is None or node.end_byte - node.start_byte > 4000:
        return offset, offset
    return parsed.span(node)


def _inside_text(code: str, text: str, offset: int) -> bool:
    """Whether ``offset`` lies inside a string's contents (blanked in the code view only)."""
    return offset < len(code) and code[offset] == " " and text[offset] != " "


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    languages: tuple[str, ...]
    rules: tuple[PackRule, ...]
    source: str
    taint: Any = None  # a taint.TaintSpec, from the pack's ``taint:`` section


# --- loading ------------------------------------------------------------------------------------

_PACK_KEYS = {"pack", "languages", "id_prefix", "rules", "taint"}
_TAINT_KEYS = {
    "sources",
    "sanitisers",
    "mutators",
    "guards",
    "numeric_types",
    "param_sources",
    "arg_sources",
    "writes_first_arg",
    "not_sources",
    "requires",
}
_SINK_KEYS = {
    "callee",
    "args",
    "assign",
    "nodes",
    "when_args",
    "unless_args",
    "from_params",
    "sources",
}
_REQUIRED = (
    "id",
    "name",
    "title",
    "cwe",
    "severity",
    "confidence",
    "keywords",
    "message",
    "description",
    "fix",
    "references",
    "examples",
)
_OPTIONAL = (
    "languages",
    "regex",
    "query",
    "view",
    "not_on_line",
    "not_in_file",
    "needs_in_file",
    "not_inside",
    "stands_in_for",
    "redact",
    "sink",
)


@dataclass
class _Checker:
    source: str
    builtin: bool
    where: str = ""

    def fail(self, message: str) -> RulePackError:
        return RulePackError(f"{self.source}: {self.where}{message}", builtin=self.builtin)

    def text(self, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"field '{key}' must be a non-empty string, not {value!r}")
        return value.strip()

    def strings(
        self, raw: Mapping[str, Any], key: str, *, required: bool, minimum: int = 0
    ) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"field '{key}' must be a list of non-empty strings, not {value!r}")
        if len(value) < minimum:
            raise self.fail(
                f"field '{key}' needs at least {minimum} entr{'y' if minimum == 1 else 'ies'}"
            )
        return tuple(value)

    def regexes(self, raw: Mapping[str, Any], key: str) -> tuple[LazyRegex, ...]:
        return tuple(self.compile(p, key) for p in self.strings(raw, key, required=False))

    def compile(self, pattern: str, key: str) -> LazyRegex:
        regex = LazyRegex(
            pattern, f"{self.source}: {self.where}field '{key}'", builtin=self.builtin
        )
        if not self.builtin:
            regex.get()  # a team's own pack: report a bad pattern when it loads
        return regex


def load_pack(text: str, source: str, *, builtin: bool = True) -> RulePack:
    """Parse and schema-check one pack; raise :class:`RulePackError` on the first problem."""
    import yaml

    check = _Checker(source, builtin)
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise check.fail(f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise check.fail(
            "a rule pack is a mapping with 'pack', 'languages', 'id_prefix' and 'rules'"
        )
    unknown = set(raw) - _PACK_KEYS
    if unknown:
        raise check.fail(
            f"unknown top-level key(s) {sorted(unknown)} (known: {sorted(_PACK_KEYS)})"
        )
    name = check.text(raw, "pack")
    languages = check.strings(raw, "languages", required=True, minimum=1)
    from codeaudit import treesitter

    unparsed = [lang for lang in languages if not treesitter.supported(lang)]
    if unparsed:
        raise check.fail(
            f"field 'languages': no tree-sitter grammar for {unparsed} (supported: {', '.join(treesitter.supported_languages())})"
        )
    prefix = check.text(raw, "id_prefix")
    if not _PREFIX.match(prefix):
        raise check.fail(f"field 'id_prefix' must look like CA41, not {prefix!r}")
    items = raw.get("rules")
    if not isinstance(items, list) or not items:
        raise check.fail("field 'rules' must be a non-empty list")
    rules = tuple(
        _load_rule(item, index, check, languages, prefix)
        for index, item in enumerate(items, start=1)
    )
    try:
        check_unique(r.rule for r in rules)
    except ValueError as exc:
        raise check.fail(str(exc)) from None
    check.where = ""
    spec = _load_taint(raw.get("taint"), check)
    if spec is None and any(r.is_taint for r in rules):
        raise check.fail("rules with a 'sink' need the pack's 'taint' section (its sources)")
    return RulePack(name=name, languages=languages, rules=rules, source=source, taint=spec)


def _rx(pattern: str, check: _Checker, key: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise check.fail(f"field '{key}': bad regular expression {pattern!r}: {exc}") from None


def _alternatives(raw: Any, check: _Checker, key: str) -> re.Pattern[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise check.fail(f"field '{key}' must be a regex or a list of regexes, not {raw!r}")
    for p in raw:
        _rx(p, check, key)
    return re.compile("|".join(f"(?:{p})" for p in raw))


def _load_taint(raw: Any, check: _Checker) -> Any:
    from codeaudit.auditors.security import taint

    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise check.fail("field 'taint' must be a mapping")
    unknown = set(raw) - _TAINT_KEYS
    if unknown:
        raise check.fail(f"taint: unknown key(s) {sorted(unknown)} (known: {sorted(_TAINT_KEYS)})")
    sources = []
    for i, item in enumerate(raw.get("sources") or [], start=1):
        if not isinstance(item, dict) or set(item) != {"pattern", "label"}:
            raise check.fail(f"taint.sources #{i}: a mapping with 'pattern' and 'label'")
        sources.append((_rx(str(item["pattern"]), check, "taint.sources"), str(item["label"])))
    if not sources:
        raise check.fail("taint.sources must list at least one source")
    arg_sources = []
    for i, item in enumerate(raw.get("arg_sources") or [], start=1):
        if (
            not isinstance(item, dict)
            or set(item) != {"pattern", "args", "label"}
            or not isinstance(item["args"], list)
            or not all(isinstance(a, int) for a in item["args"])
        ):
            raise check.fail(
                f"taint.arg_sources #{i}: a mapping with 'pattern', 'args' (positions; -N = from N on) and 'label'"
            )
        arg_sources.append(
            (
                _rx(str(item["pattern"]), check, "taint.arg_sources"),
                tuple(item["args"]),
                str(item["label"]),
            )
        )
    return taint.TaintSpec(
        sources=tuple(sources),
        arg_sources=tuple(arg_sources),
        sanitisers=_alternatives(raw.get("sanitisers"), check, "taint.sanitisers"),
        mutators=_alternatives(raw.get("mutators"), check, "taint.mutators"),
        guards=_alternatives(raw.get("guards"), check, "taint.guards"),
        numeric_types=_alternatives(raw.get("numeric_types"), check, "taint.numeric_types"),
        param_sources=_alternatives(raw.get("param_sources"), check, "taint.param_sources"),
        not_sources=_alternatives(raw.get("not_sources"), check, "taint.not_sources"),
        requires=check.strings(raw, "requires", required=False),
        writes_first_arg=_alternatives(
            raw.get("writes_first_arg"), check, "taint.writes_first_arg"
        ),
    )


def _load_sink(raw: Any, check: _Checker) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise check.fail("field 'sink' must be a mapping (callee, args, assign, nodes …)")
    unknown = set(raw) - _SINK_KEYS
    if unknown:
        raise check.fail(
            f"field 'sink': unknown key(s) {sorted(unknown)} (known: {sorted(_SINK_KEYS)})"
        )
    if not ({"callee", "assign", "nodes"} & set(raw)):
        raise check.fail("field 'sink' needs one of 'callee', 'assign' or 'nodes'")
    out: dict[str, Any] = {}
    for key in ("callee", "assign", "when_args", "unless_args"):
        if key in raw:
            out[key] = _rx(str(raw[key]), check, f"sink.{key}")
    if "args" in raw:
        args = raw["args"]
        if not isinstance(args, list) or not all(isinstance(a, int) and a >= -1 for a in args):
            raise check.fail(
                f"field 'sink.args' must be a list of argument positions, not {args!r}"
            )
        out["args"] = tuple(args)
    if "from_params" in raw:
        if not isinstance(raw["from_params"], bool) and raw["from_params"] != "always":
            raise check.fail("field 'sink.from_params' must be true, false or always")
        out["from_params"] = raw["from_params"]
    if "sources" in raw:
        out["labels"] = frozenset(check.strings(raw, "sources", required=True, minimum=1))
    if "nodes" in raw:
        out["nodes"] = frozenset(check.strings(raw, "nodes", required=True, minimum=1))
    return out


def _load_rule(
    raw: Any, index: int, check: _Checker, pack_languages: tuple[str, ...], prefix: str
) -> PackRule:
    check.where = f"rule #{index}: "
    if not isinstance(raw, dict):
        raise check.fail("each rule is a mapping of fields")
    rule_id = raw.get("id")
    if isinstance(rule_id, str):
        check.where = f"rule {rule_id}: "
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise check.fail(f"missing field(s) {', '.join(missing)}")
    unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise check.fail(
            f"unknown field(s) {sorted(unknown)} (known: {sorted(_REQUIRED + _OPTIONAL)})"
        )
    rule_id = check.text(raw, "id")
    if not _ID.match(rule_id) or not rule_id.startswith(prefix):
        raise check.fail(
            f"field 'id' must look like {prefix}01 (the pack's id_prefix + two digits), not {rule_id!r}"
        )
    cwe = raw["cwe"]
    if not isinstance(cwe, int) or isinstance(cwe, bool) or cwe <= 0:
        raise check.fail(f"field 'cwe' must be a positive integer such as 78, not {cwe!r}")
    try:
        severity = Severity.parse(raw["severity"])
        confidence = Confidence.parse(raw["confidence"])
    except ValueError as exc:
        raise check.fail(str(exc)) from None
    languages = check.strings(raw, "languages", required=False) or pack_languages
    stray = [lang for lang in languages if lang not in pack_languages]
    if stray:
        raise check.fail(
            f"field 'languages': {stray} not among the pack's languages {list(pack_languages)}"
        )
    keywords = check.strings(raw, "keywords", required=True, minimum=1)
    has_regex, has_query = "regex" in raw, "query" in raw
    sink_raw = _load_sink(raw["sink"], check) if "sink" in raw else None
    if has_regex + has_query + (sink_raw is not None) != 1:
        raise check.fail("give exactly one of 'regex', 'query' or 'sink'")
    regex = check.compile(check.text(raw, "regex"), "regex") if has_regex else None
    query = check.text(raw, "query") if has_query else None
    view = raw.get("view", "code")
    if view not in VIEWS:
        raise check.fail(f"field 'view' must be one of {', '.join(VIEWS)}, not {view!r}")
    if has_query and "view" in raw:
        raise check.fail("field 'view' applies to 'regex' rules only")
    stands_in_for = check.strings(raw, "stands_in_for", required=False)
    bad_ids = [b for b in stands_in_for if not _BANDIT_ID.match(b)]
    if bad_ids:
        raise check.fail(f"field 'stands_in_for' takes bandit test ids such as B602, not {bad_ids}")
    redact = raw.get("redact", False)
    if not isinstance(redact, bool):
        raise check.fail(f"field 'redact' must be true or false, not {redact!r}")
    examples = raw["examples"]
    if not isinstance(examples, dict) or set(examples) != {"bad", "good"}:
        raise check.fail("field 'examples' must have exactly the keys 'bad' and 'good'")
    bad = check.strings(examples, "bad", required=True, minimum=1)
    good = check.strings(examples, "good", required=True, minimum=1)
    references = check.strings(raw, "references", required=True, minimum=1)
    try:
        rule = Rule(
            id=rule_id,
            name=check.text(raw, "name"),
            auditor=AUDITOR,
            title=check.text(raw, "title"),
            severity=severity,
            confidence=confidence,
            cwe=cwe,
            description=check.text(raw, "description"),
            fix=check.text(raw, "fix"),
            bad_example=bad[0],
            good_example=good[0],
            references=references,
            languages=languages,
            examples={"bad": bad, "good": good},
        )
    except ValueError as exc:
        raise check.fail(str(exc)) from None
    sink = None
    if sink_raw is not None:
        from codeaudit.auditors.security import taint

        sink = taint.Sink(rule=None, **sink_raw)
    out = PackRule(
        rule=rule,
        message=check.text(raw, "message"),
        keywords=keywords,
        regex=regex,
        query=query,
        view=view,
        not_on_line=check.regexes(raw, "not_on_line"),
        not_in_file=check.regexes(raw, "not_in_file"),
        needs_in_file=check.regexes(raw, "needs_in_file"),
        not_inside=frozenset(check.strings(raw, "not_inside", required=False)),
        stands_in_for=stands_in_for,
        redact=redact,
        source=check.source,
        sink=sink,
    )
    if sink is not None:
        object.__setattr__(sink, "rule", out)
    return out


def _builtin_files() -> dict[str, Any]:
    root = resources.files("codeaudit.auditors.security.rules")
    return {p.name[: -len(".yaml")]: p for p in root.iterdir() if p.name.endswith(".yaml")}


@functools.cache
def builtin_pack_names() -> tuple[str, ...]:
    """Names of the packs that ship with codeaudit (one per language)."""
    return tuple(sorted(_builtin_files()))


@functools.cache
def builtin_pack(name: str) -> RulePack:
    """Load (once) and check one shipped pack."""
    files = _builtin_files()
    if name not in files:
        raise RulePackError(f"no rule pack named {name!r} (have: {', '.join(sorted(files))})")
    path = files[name]
    return load_pack(path.read_text(encoding="utf-8"), f"rules/{path.name}")


def load_pack_file(path: str | Path) -> RulePack:
    """Load a team's own pack from a file (errors are configuration errors)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"{p}: cannot read rule pack: {exc}", builtin=False) from None
    return load_pack(text, str(p), builtin=False)


@functools.cache
def builtin_packs() -> tuple[RulePack, ...]:
    """Every shipped pack, with ids and names checked for uniqueness across packs."""
    packs = tuple(builtin_pack(n) for n in builtin_pack_names())
    try:
        check_unique(r.rule for p in packs for r in p.rules)
    except ValueError as exc:
        raise RulePackError(f"rules/: {exc}") from None
    return packs


def packs_for(language: str) -> tuple[str, ...]:
    """Names of the shipped packs whose rules may target ``language``.

    A pack is named after its main language; C rules also serve C++, JavaScript rules also serve
    TypeScript (the packs say so in their ``languages`` field, checked by the test suite).
    """
    return tuple(n for n in (_BORROWS.get(language, ()) + (language,)) if n in builtin_pack_names())


#: Packs that serve another language too; tests/test_rules.py checks this against the packs'
#: own ``languages`` fields so the two cannot drift apart.
_BORROWS: dict[str, tuple[str, ...]] = {"cpp": ("c",), "typescript": ("javascript",)}


def rules_for(language: str, extra: Sequence[RulePack] = ()) -> tuple[PackRule, ...]:
    """The pattern rules that apply to ``language``, shipped packs first, then ``extra``."""
    out: list[PackRule] = []
    for pack in (*(builtin_pack(n) for n in packs_for(language)), *extra):
        out.extend(r for r in pack.rules if language in r.rule.languages)
    return tuple(out)


def taint_for(language: str, extra: Sequence[RulePack] = ()) -> Any:
    """The taint spec (sources, sanitisers …) of ``language``: its own pack's, else a borrowed
    one (C for C++, JavaScript for TypeScript), else an extra pack's."""
    for pack in (
        *(builtin_pack(n) for n in reversed(packs_for(language))),
        *extra,
    ):
        if pack.taint is not None and language in pack.languages:
            return pack.taint
    return None


def all_rules(extra: Iterable[RulePack] = ()) -> list[Rule]:
    """Documentation records of every shipped (and extra) pattern rule."""
    return [r.rule for p in (*builtin_packs(), *extra) for r in p.rules]
