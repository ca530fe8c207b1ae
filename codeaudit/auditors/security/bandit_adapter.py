"""bandit in process, for the security auditor's Python path.

* :class:`Bandit` holds bandit's own test set (every test bandit enables by default) and runs
  bandit's node visitor on an already parsed tree.
* :func:`parseable` finds the richest text around a completion that Python can parse, so
  fragments (a function body, a window cut mid-statement, a window starting inside a docstring)
  still go through bandit; what it reports on the lines it could not read is up to the caller.
* :func:`bandit_rules` turns bandit's tests into :class:`~codeaudit.registry.Rule` records, with
  titles, docs, severities and CWEs taken from the installed bandit at run time.

Imported only when a batch holds Python: importing bandit costs ~0.1 s.
"""

from __future__ import annotations

import ast
import functools
import io
import logging
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from codeaudit.context import CodeContext, split_lines
from codeaudit.model import Confidence, Severity
from codeaudit.registry import Rule

#: The languages bandit audits (the rule packs cover the rest).
BANDIT_LANGUAGES = ("python",)


class Bandit:
    """bandit's own test set (every default test) and node visitor, created once per auditor."""

    def __init__(self) -> None:
        _import_bandit()
        from bandit.core import config as b_config
        from bandit.core import test_set

        _quiet_bandit_logging()
        self.testset = test_set.BanditTestSet(b_config.BanditConfig())
        self.visitor_class = _visitor_class()

    def run(self, text: str, tree: ast.Module) -> tuple[list[Any], list[str]]:
        """bandit's results for a parsed text, and problems bandit logged while testing it."""
        from bandit.core import metrics

        handler = _CAPTURE
        handler.records.clear()
        visitor = self.visitor_class(
            _BANDIT_FNAME,
            io.BytesIO(text.encode("utf-8", "surrogatepass")),
            None,
            self.testset,
            False,
            {},
            metrics.Metrics(),
        )
        visitor.process_tree(tree)
        problems = [
            r.getMessage().splitlines()[0] for r in handler.records if r.levelno >= logging.ERROR
        ]
        handler.records.clear()
        results = visitor.tester.results
        for issue in results:
            if issue.test_id in _PASSWORD_TESTS:
                issue.text = masked_password_text(issue.text)
        return results, problems


#: bandit's hard-coded password tests, whose message quotes the password.
_PASSWORD_TESTS = frozenset({"B105", "B106", "B107"})
_QUOTED_PASSWORD = re.compile(r"^(?P<head>[^']*: )'(?P<value>.*)'$", re.S)


def masked_password_text(text: str) -> str:
    """bandit's ``Possible hardcoded password: '<value>'`` with the value masked (a secret is
    never printed; the mask is the one every report uses for that value)."""
    from codeaudit.redact import mask

    m = _QUOTED_PASSWORD.match(text)
    if m is None:
        return text
    return f"{m.group('head')}'{mask(m.group('value'))}'"


# A path without __init__.py next to it: bandit names the module "suggestion" without searching
# the disk for packages.
_BANDIT_FNAME = "/codeaudit-suggestion/suggestion.py"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_CAPTURE = _Capture()


@functools.cache
def _import_bandit() -> None:
    # Importing bandit scans its plug-in entry points through stevedore, which warns that an
    # argument bandit passes is deprecated; that is bandit's business, not the user's.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bandit.core.extension_loader  # noqa: F401


@functools.cache
def _quiet_bandit_logging() -> None:
    # bandit logs a test that crashed (with a traceback) and some warnings; they become
    # ``bandit-error`` entries of the suggestion instead of text on the user's terminal.
    log = logging.getLogger("bandit")
    log.addHandler(_CAPTURE)
    log.propagate = False


@functools.cache
def _visitor_class() -> type:
    from bandit.core import node_visitor, tester

    class Tester(tester.BanditTester):
        """bandit's tester; ``# nosec`` is not honoured (see the module docs), so the per-test
        look-up of nosec comments is skipped."""

        def _get_nosecs_from_contexts(self, context: Any, test_result: Any = None) -> None:
            return None

    class Visitor(node_visitor.BanditNodeVisitor):
        """bandit's visitor and tests, fed an already parsed tree.

        It walks the tree exactly as bandit does (parent and sibling links on every node, the
        same context for every node a test or a ``visit_*`` method looks at) but does not build
        a context for nodes that no test looks at, and keeps no scores: together about half of
        bandit's own time on typical code.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tester = Tester(self.testset, self.debug, self.nosec_lines, self.metrics)
            self._interesting = frozenset(self.testset.tests) | {
                name[len("visit_") :] for name in dir(self) if name.startswith("visit_")
            }

        def update_scores(self, scores: Any) -> None:
            pass

        def generic_visit(self, node: ast.AST) -> None:
            interesting = self._interesting
            for _, value in ast.iter_fields(node):
                items = value if isinstance(value, list) else [value]
                last = len(items) - 1
                for idx, item in enumerate(items):
                    if not isinstance(item, ast.AST):
                        continue
                    item._bandit_sibling = (
                        items[idx + 1] if isinstance(value, list) and idx < last else None
                    )
                    item._bandit_parent = node
                    if item.__class__.__name__ in interesting:
                        if self.pre_visit(item):
                            self.visit(item)
                            self.generic_visit(item)
                            self.post_visit(item)
                    else:
                        self.generic_visit(item)

        def process_tree(self, tree: ast.Module) -> None:
            self.generic_visit(tree)
            # the file-level tests (trojan source …), as bandit's own ``process`` runs them
            self.context = {
                "file_data": self.fdata,
                "filename": self.fname,
                "lineno": 0,
                "linerange": [0, 1],
                "col_offset": 0,
            }
            self.tester.run_tests(self.context, "File")

    return Visitor


@dataclass(frozen=True, slots=True)
class _Parse:
    """What bandit gets: a context whose text parses, its tree, the completion lines inside the
    text, and why the rest did not parse."""

    ctx: CodeContext
    tree: ast.Module
    covered: frozenset[int]
    error: str = ""
    #: Leading completion lines read as the inside of a string the window starts in.
    text_lines: frozenset[int] = frozenset()


def parseable(ctx: CodeContext) -> _Parse | str:
    """The richest text that parses, or why nothing did.

    Tried in order: prompt + completion + suffix, prompt + completion, and the completion alone
    placed in synthetic enclosing blocks (:func:`_fragment`). When none parses whole — a window
    that starts or ends mid-statement, or inside a docstring — the candidate covering the most
    completion lines wins among the longest parseable prefixes, the completion with its first
    lines left out, and the completion read as starting inside a triple-quoted string.
    """
    n_lines = max(1, len(split_lines(ctx.completion)))
    everything = frozenset(range(1, n_lines + 1))
    imports = _synthetic_imports(ctx.text)
    prompt, completion, suffix = ctx.text[: ctx.start], ctx.completion, ctx.text[ctx.end :]
    whole = [CodeContext.build(prompt=imports + prompt, completion=completion, suffix=suffix)]
    if suffix:
        whole.append(CodeContext.build(prompt=imports + prompt, completion=completion))
    alone = (
        [_fragment(imports, completion, False)]
        if prompt or completion.lstrip("\r\n")[:1] in (" ", "\t")
        else []
    )
    first_error = ""
    for candidate in whole + alone:
        tree, error = _try_parse(candidate.text)
        if tree is not None:
            return _Parse(candidate, tree, everything)
        first_error = first_error or error
    best: _Parse | None = None
    none: frozenset[int] = frozenset()
    partial = [(c, everything, none) for c in (whole[1:] or whole) + alone]
    partial += [
        (
            _fragment(imports, _blank_leading(completion, k), False),
            frozenset(range(k + 1, n_lines + 1)),
            none,
        )
        for k in range(1, min(5, n_lines))
    ]
    quote = _odd_quotes(completion)
    if quote:
        # a window that starts inside a docstring: the lines up to its closing quote are text,
        # neither code bandit saw nor code it missed
        closer = next(i for i, ln in enumerate(split_lines(completion), start=1) if quote in ln)
        partial.append(
            (
                _fragment(imports, completion, True),
                frozenset(range(closer, n_lines + 1)),
                frozenset(range(1, closer)),
            )
        )
    for candidate, lines, text_lines in partial:
        if best is not None and len(best.covered) >= len(lines):
            continue  # cannot do better than what is already found
        tree, _ = _try_parse(candidate.text)
        if tree is None:
            prefix = _longest_prefix(candidate)
            if prefix is None:
                continue
            candidate, tree, last_line = prefix
            lines = frozenset(n for n in lines if n <= last_line)
        if lines and (best is None or len(lines) > len(best.covered)):
            best = _Parse(candidate, tree, lines, first_error, text_lines)
    return best if best is not None else first_error


def _fragment(imports: str, code: str, in_string: bool) -> CodeContext:
    """``code`` as a completion between synthetic context that lets a fragment parse."""
    return CodeContext.build(
        prompt=imports + _enclosing_blocks(code, in_string),
        completion=code,
        suffix=_closing_suffix(code),
    )


def _odd_quotes(code: str) -> str:
    """The triple quote that occurs an odd number of times (a string cut by the window), or ''."""
    return next((q for q in ('"""', "'''") if code.count(q) % 2), "")


def _blank_leading(code: str, k: int) -> str:
    """``code`` with its first ``k`` lines emptied (line numbers stay the same)."""
    lines = split_lines(code, keepends=True)
    return "".join("\n" if i < k else ln for i, ln in enumerate(lines))


def _closing_suffix(code: str) -> str:
    """A ``pass`` body when the fragment stops right after a block opener (``if x:``)."""
    last = next(
        (
            ln
            for ln in reversed(split_lines(code))
            if ln.strip() and not ln.lstrip().startswith("#")
        ),
        "",
    )
    if not last.rstrip().endswith(":"):
        return ""
    indent = len(last) - len(last.lstrip())
    return ("" if code.endswith("\n") else "\n") + " " * (indent + 4) + "pass\n"


#: Modules whose bandit tests only fire when the module is imported (bandit resolves names
#: through the imports), keyed by how a fragment refers to them without importing them.
_IMPLIED_IMPORTS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(use), module, statement)
    for use, module, statement in (
        (r"\btorch\s*\.", "torch", "import torch"),
        (r"\byaml\s*\.", "yaml", "import yaml"),
        (r"\bET\s*\.", "xml", "import xml.etree.ElementTree as ET"),
        (r"\bminidom\s*\.", "xml", "from xml.dom import minidom"),
        (r"\bparamiko\s*\.", "paramiko", "import paramiko"),
        (r"\bjinja2\s*\.", "jinja2", "import jinja2"),
        (r"(?<![\w.])Environment\s*\(", "jinja2", "from jinja2 import Environment"),
        (r"\btarfile\s*\.|\.extractall\s*\(", "tarfile", "import tarfile"),
        (r"\bmark_safe\s*\(", "django", "from django.utils.safestring import mark_safe"),
        (r"(?<![\w.])Markup\s*\(", "markupsafe", "from markupsafe import Markup"),
        (r"\.from_pretrained\s*\(", "transformers", "import transformers"),
        (r"\bapp\s*\.\s*run\s*\(", "flask", "import flask"),
        (
            r"(?<![\w.])(?:DES|DES3|ARC2|ARC4|Blowfish|CAST|XOR)\s*\.\s*new\s*\(",
            "Crypto",
            "from Crypto.Cipher import DES, DES3, ARC2, ARC4, Blowfish, CAST, XOR",
        ),
        (
            r"(?<![\w.])(?:MD2|MD4|MD5|SHA)\s*\.\s*new\s*\(",
            "Crypto",
            "from Crypto.Hash import MD2, MD4, MD5, SHA",
        ),
    )
)


def _synthetic_imports(text: str) -> str:
    """Import lines for modules the text uses without importing them (fragments often lack
    their imports). They sit before the prompt, so findings on them are never reported.

    >>> _synthetic_imports("cfg = yaml.load(fh)\\n")
    'import yaml\\n'
    """
    if "__future__" in text:
        return ""  # a __future__ import must stay the first statement
    lines = []
    for use, module, statement in _IMPLIED_IMPORTS:
        if (
            statement not in lines
            and use.search(text)
            and not re.search(rf"^\s*(?:import|from)\s+{module}\b", text, re.MULTILINE)
        ):
            lines.append(statement)
    return "".join(line + "\n" for line in lines)


_CONTINUATION = re.compile(r"^(?:elif\b|else\s*:|except\b|finally\s*:)")


def _enclosing_blocks(code: str, in_string: bool = False) -> str:
    """Synthetic lines that make an indented fragment parse where it stands.

    A completion is often the middle of a function: it starts indented and may dedent further
    down (``        x = 1`` … ``    return x`` … ``def g():``). Rather than re-indenting it
    (which would move every column), put ``async def`` headers (so ``return``, ``await`` and
    ``yield`` stay legal) at each indentation level the fragment steps back to, open an
    ``if``/``try`` when it starts with ``elif``/``else``/``except``/``finally``, and, with
    ``in_string``, open a triple-quoted string whose end is the fragment's first triple quote
    (a window that starts inside a docstring). The lines go in front as context, so completion
    lines and columns keep their numbers.

    >>> print(_enclosing_blocks("        x = 1\\n    return x\\n"), end="")
    async def _codeaudit_0():
        async def _codeaudit_1():
    """
    lines = split_lines(code)
    opener = _odd_quotes(code) if in_string else ""
    start = next(i for i, ln in enumerate(lines) if opener in ln) if opener else 0
    body = [
        ln for ln in lines[start:] if ln.strip() and (opener or not ln.lstrip().startswith("#"))
    ]
    if not body:
        return ""
    indents = [len(ln) - len(ln.lstrip()) for ln in body]
    first = indents[0]
    levels = [lvl for lvl in sorted({0, *indents[1:]}) if lvl < first]
    out = [f"{' ' * lvl}async def _codeaudit_{n}():\n" for n, lvl in enumerate(levels)]
    if opener:
        out.append(f"{' ' * first}{opener}\n")
    elif _CONTINUATION.match(body[0].lstrip()):
        keyword = "if True:" if body[0].lstrip().startswith(("elif", "else")) else "try:"
        out.append(f"{' ' * first}{keyword}\n{' ' * (first + 4)}pass\n")
    return "".join(out)


def _try_parse(text: str) -> tuple[ast.Module | None, str]:
    try:
        return ast.parse(text), ""
    except SyntaxError as exc:
        return None, f"SyntaxError: {exc.msg} at line {exc.lineno}"
    except (ValueError, MemoryError, RecursionError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _longest_prefix(ctx: CodeContext) -> tuple[CodeContext, ast.Module, int] | None:
    """The longest run of whole lines from the top of ``ctx.text`` that parses, and the last
    completion line in it. Each try cuts before the line the parser complained about."""
    lines = split_lines(ctx.text, keepends=True)
    end = len(lines)
    for _ in range(12):  # each failed try moves the cut up; a dozen covers real fragments
        text = "".join(lines[:end])
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            end = min(end - 1, max((exc.lineno or end) - 1, 0))
            if end <= 0:
                return None
            continue
        except (ValueError, MemoryError, RecursionError):
            return None
        if len(text) <= ctx.start:
            return None
        cut = CodeContext.build(prompt=ctx.text[: ctx.start], completion=text[ctx.start :])
        return cut, tree, cut.locate_line(end) or 0
    return None


def issue_line(ctx: CodeContext, issue: Any) -> int | None:
    """Completion line of a bandit issue; a short statement that starts in the prompt and ends in
    the completion is reported on its first completion line."""
    line = ctx.locate_line(issue.lineno)
    if line is not None:
        return line
    span = issue.linerange or []
    if len(span) <= 3:
        for n in span:
            line = ctx.locate_line(n)
            if line is not None:
                return line
    return None


# --- bandit's tests as rules ------------------------------------------------------------------

_SEVERITY_NAMES = {
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "UNDEFINED": Severity.INFO,
}


def _kebab(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@functools.cache
def _bandit_rules_by_id() -> dict[str, Rule]:
    """bandit's tests as :class:`Rule` records, built from the installed bandit at run time
    (titles, docs, severities and CWEs are bandit's own; nothing of it is copied into codeaudit)."""
    _import_bandit()
    import bandit
    from bandit.core import extension_loader

    manager = extension_loader.MANAGER
    base = f"https://bandit.readthedocs.io/en/{bandit.__version__}/"
    rules: dict[str, Rule] = {}
    for plugin in manager.plugins:
        func = plugin.plugin
        test_id = func._test_id
        title, description = _docstring_parts(func.__doc__ or "", test_id)
        severity, confidence, cwe = _issue_metadata(func)
        url = f"{base}plugins/{test_id.lower()}_{func.__name__}.html"
        rules[test_id] = Rule(
            id=test_id,
            name=_kebab(plugin.name),
            auditor="security",
            title=title or plugin.name.replace("_", " "),
            severity=severity,
            confidence=confidence,
            cwe=cwe,
            description=description or title or plugin.name,
            fix=f"See bandit's documentation of {test_id}: {url}",
            references=(url,),
            languages=BANDIT_LANGUAGES,
        )
    for test_id, entry in manager.blacklist_by_id.items():
        kind = "calls" if test_id.startswith("B3") else "imports"
        url = f"{base}blacklists/blacklist_{kind}.html"
        message = entry.get("message", "").replace("{name}", entry["name"])
        rules[test_id] = Rule(
            id=test_id,
            name=_kebab(entry["name"]),
            auditor="security",
            title=message.split(". ")[0].rstrip(".") or entry["name"],
            severity=_SEVERITY_NAMES.get(
                str(entry.get("level", "MEDIUM")).upper(), Severity.MEDIUM
            ),
            confidence=Confidence.HIGH,
            cwe=int(entry.get("cwe") or 0) or None,
            description=message or entry["name"],
            fix=f"See bandit's documentation of {test_id}: {url}",
            references=(url,),
            languages=BANDIT_LANGUAGES,
        )
    return rules


def bandit_rules() -> list[Rule]:
    """Every test bandit runs by default, as rules (sorted by id).

    Building them imports bandit and reads its plug-in sources (~0.3 s), which reporters and
    ``codeaudit rules`` would pay on every run; the result is kept in codeaudit's user cache
    folder, keyed by the installed bandit's version, and rebuilt when that changes.
    """
    return _cached_bandit_rules()


@functools.cache
def _cached_bandit_rules() -> list[Rule]:
    import json
    import os
    from importlib.metadata import version

    from codeaudit._version import __version__
    from codeaudit.cache import cache_dir

    path = cache_dir() / f"bandit-rules-{version('bandit')}-codeaudit-{__version__}.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return [_rule_from_record(r) for r in records]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: rebuild from the installed bandit
    rules = [r for _, r in sorted(_bandit_rules_by_id().items())]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        tmp.write_text(json.dumps([_rule_record(r) for r in rules]), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: the rules are still right, only not cached
    return rules


def _rule_record(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "title": rule.title,
        "severity": rule.severity.label,
        "confidence": rule.confidence.label,
        "cwe": rule.cwe,
        "description": rule.description,
        "fix": rule.fix,
        "references": list(rule.references),
    }


def _rule_from_record(record: dict[str, Any]) -> Rule:
    return Rule(
        id=record["id"],
        name=record["name"],
        auditor="security",
        title=record["title"],
        severity=Severity.parse(record["severity"]),
        confidence=Confidence.parse(record["confidence"]),
        cwe=record["cwe"],
        description=record["description"],
        fix=record["fix"],
        references=tuple(record["references"]),
        languages=BANDIT_LANGUAGES,
    )


@functools.cache
def _test_names() -> dict[str, str]:
    """bandit test id -> the rule name codeaudit uses for it (cheap: no source inspection)."""
    _import_bandit()
    from bandit.core import extension_loader

    manager = extension_loader.MANAGER
    names = {p.plugin._test_id: _kebab(p.name) for p in manager.plugins}
    names.update(
        {test_id: _kebab(entry["name"]) for test_id, entry in manager.blacklist_by_id.items()}
    )
    return names


@functools.cache
def finding_rule(test_id: str) -> Rule:
    """The rule record a finding of bandit test ``test_id`` is filed under.

    Findings take their severity, confidence, CWE and message from bandit's result, so only
    the id and name matter here; the full documentation (:func:`bandit_rules`) reads bandit's
    plug-in sources and is built only for ``codeaudit rules``.
    """
    name = _test_names().get(test_id) or _kebab(f"bandit-{test_id}")
    rule_id = test_id if re.match(r"^[A-Z]{1,4}\d{2,5}$", test_id) else "B000"
    return Rule(
        id=rule_id,
        name=name,
        auditor="security",
        title=f"bandit test {test_id}",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
        cwe=None,
        description=f"bandit test {test_id}: see `codeaudit rules show {test_id}`",
        fix="See bandit's documentation.",
        languages=BANDIT_LANGUAGES,
    )


def _docstring_parts(doc: str, test_id: str) -> tuple[str, str]:
    """(title, description) from a bandit plug-in's RST docstring."""
    lines = textwrap.dedent("\n".join(doc.splitlines()[1:])).splitlines() if "\n" in doc else []
    head = doc.splitlines()[0] if doc else ""
    title = re.sub(r"^\*\*|\*\*$", "", head.strip())
    title = re.sub(rf"^{test_id}:\s*", "", title).strip()
    paragraphs: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith((":Example:", ".. ", ":Config Options:")) or re.match(
            r"^[=\-~]{3,}$", stripped
        ):
            break
        paragraphs.append(line.rstrip())
    description = "\n".join(paragraphs).strip()
    return title, re.sub(r"\n{3,}", "\n\n", description)


def _issue_metadata(func: Any) -> tuple[Severity, Confidence, int | None]:
    """Highest severity and confidence, and the CWE, that a plug-in's ``Issue(...)`` calls name."""
    import inspect

    from bandit.core import issue as b_issue

    severity, confidence, cwe = Severity.LOW, Confidence.LOW, None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.getmodule(func))))
    except (OSError, TypeError, SyntaxError):
        return Severity.MEDIUM, Confidence.MEDIUM, None
    target = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func.__name__),
        tree,
    )
    helpers = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    todo, done = [target], set()
    while todo:  # the test function and the module helpers it calls
        node = todo.pop()
        if id(node) in done:
            continue
        done.add(id(node))
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            callee = call.func.id if isinstance(call.func, ast.Name) else None
            if callee in helpers:
                todo.append(helpers[callee])
            for kw in call.keywords:
                value = kw.value
                attr = value.attr if isinstance(value, ast.Attribute) else None
                if kw.arg == "severity" and attr in _SEVERITY_NAMES:
                    severity = max(severity, _SEVERITY_NAMES[attr])
                elif kw.arg == "confidence" and attr in _SEVERITY_NAMES:
                    confidence = max(
                        confidence,
                        Confidence.parse(attr) if attr != "UNDEFINED" else Confidence.LOW,
                    )
                elif kw.arg == "cwe" and attr and cwe is None:
                    cwe = getattr(b_issue.Cwe, attr, None) or None
    return severity, confidence, cwe
