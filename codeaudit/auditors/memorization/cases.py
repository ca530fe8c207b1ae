"""Labelled suggestion sets for the memorization auditor, made at run time from installed code.

Nothing here is committed test data: the corpus is the source of installed packages, read when the
set is made, and every suggestion is cut from it (or from other packages, for the negatives) by
the edits below. ``tests/test_memorization_detection.py`` and
``benchmarks/bench_memorization.py`` both use this module (it lives in the auditor's package so
neither imports the other); a hidden set is made the same way from
packages not named here, so nothing in the auditor may depend on which packages these are.

Kinds of suggestion (the copy is ``L`` consecutive lines of a corpus file holding at least six
code lines, ``L`` drawn from 6 to 40 code lines):

``verbatim``     the lines as they are;
``whitespace``   re-indented, with spacing around operators and commas changed and blank lines
                 added or removed (tokens untouched);
``comments``     comments removed, reworded and added (on their own lines and at line ends);
``renamed``      the names the snippet binds (variables, parameters, functions, classes) renamed
                 consistently, attributes, keywords and builtins left alone;
``partial``      a verbatim copy embedded between unrelated code from a non-corpus package;
``negative``     6 to 40 lines of a package that is not in the corpus.

>>> import random
>>> lines = ["def f(a, b):", "    # sum", "    return a + b"]
>>> _respace(lines, random.Random(1))[0].startswith("def f(")
True
"""

from __future__ import annotations

import builtins
import importlib.util
import io
import keyword
import random
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from codeaudit.context import split_lines

#: Packages whose source forms the corpus / the negatives of the default (development) split.
DEV_CORPUS = ("rich", "click", "jinja2", "urllib3", "attr", "yaml", "pygments")
DEV_NEGATIVES = ("tornado", "toolz", "fsspec", "markdown_it", "idna")
#: The held-out split the benchmark reports (never used while choosing thresholds).
TEST_CORPUS = (
    "requests",
    "bandit",
    "jsonschema",
    "packaging",
    "pluggy",
    "detect_secrets",
    "distlib",
    "stevedore",
)
TEST_NEGATIVES = (
    "networkx",
    "mpmath",
    "sortedcontainers",
    "zict",
    "cfgv",
    "locket",
    "tblib",
    "msgpack",
    "partd",
    "charset_normalizer",
)

KINDS = ("verbatim", "whitespace", "comments", "renamed", "partial")
MIN_LINES, MAX_LINES = 6, 40

_BUILTINS = frozenset(dir(builtins)) | {"self", "cls", "__name__", "__file__", "__class__"}
_WORDS = (
    "value item node entry data result buffer count index total state record cache handle token "
    "chunk field label target source output input config option payload frame block offset limit"
).split()
_COMMENT_WORDS = (
    "check the input before using it keep this in sync with the caller handle the empty case "
    "update the running total fall back to defaults note this path is rarely taken compute result"
).split()


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled suggestion. ``source`` and ``lines`` are ``None`` for negatives."""

    id: str
    kind: str
    completion: str
    package: str
    #: (path relative to the package folder, first line, last line) of the copied span.
    source: tuple[str, int, int] | None = None
    #: (first line, last line) of the copy inside the completion.
    lines: tuple[int, int] | None = None
    language: str = "python"
    meta: dict = field(default_factory=dict)


def package_root(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_files(name: str) -> list[Path]:
    """Python files of an installed package, sorted (no caches, no files under 6 lines)."""
    root = package_root(name)
    if root is None:
        return []
    out = []
    for p in sorted(root.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        try:
            text = p.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if sum(1 for line in split_lines(text) if _is_code(line)) >= MIN_LINES:
            out.append(p)
    return out


def _is_code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def _pick_span(lines: list[str], rng: random.Random) -> tuple[int, int] | None:
    """[start, end) of a span holding L code lines (L in 6..40), starting on a code line."""
    code = [i for i, line in enumerate(lines) if _is_code(line)]
    if len(code) < MIN_LINES:
        return None
    want = rng.randint(MIN_LINES, min(MAX_LINES, len(code)))
    first = rng.randrange(0, len(code) - want + 1)
    return code[first], code[first + want - 1] + 1


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


# --- edits ----------------------------------------------------------------------------------


def _respace(lines: list[str], rng: random.Random) -> list[str]:
    """Change whitespace only: indentation width, spaces around operators/commas, blank lines."""
    text = "\n".join(lines) + "\n"
    toks = _tokens(text)
    out_lines = list(lines)
    if toks is not None:
        # Rebuild each physical line from its tokens with new spacing, where a line holds only
        # simple tokens (no strings spanning lines, no continuation backslashes).
        by_line: dict[int, list[tokenize.TokenInfo]] = {}
        multi = set()
        for t in toks:
            if t.type in (
                tokenize.NEWLINE,
                tokenize.NL,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            ):
                continue
            if t.start[0] != t.end[0]:
                multi.update(range(t.start[0], t.end[0] + 1))
            by_line.setdefault(t.start[0], []).append(t)
        wide = rng.choice([" ", "  "])
        for ln, ts in by_line.items():
            if ln in multi or ln > len(out_lines) or out_lines[ln - 1].rstrip().endswith("\\"):
                continue
            if any(t.type == tokenize.COMMENT for t in ts) or any(
                t.string.startswith(("f'", 'f"', "F'", 'F"')) for t in ts
            ):
                continue
            original = out_lines[ln - 1]
            indent = original[: len(original) - len(original.lstrip())]
            parts = [ts[0].string]
            for prev, t in zip(ts, ts[1:]):
                glued = prev.end == t.start
                if t.type == tokenize.OP and t.string in (",", ")", "]", "}", ":", "."):
                    sep = "" if glued or t.string != "," else ""
                elif prev.type == tokenize.OP and prev.string in ("(", "[", "{", "."):
                    sep = ""
                elif prev.type == tokenize.OP and prev.string == ",":
                    sep = wide
                elif t.type == tokenize.OP or prev.type == tokenize.OP:
                    sep = (
                        rng.choice(["", " ", wide])
                        if t.string not in ("(", "[")
                        else ("" if glued else " ")
                    )
                    if prev.string in (
                        "=",
                        "==",
                        "!=",
                        "+=",
                        "-=",
                        "<",
                        ">",
                        "<=",
                        ">=",
                        "->",
                        "and",
                        "or",
                        "not",
                        "in",
                        "is",
                    ) or t.string in ("=", "==", "!=", "+=", "-=", "<", ">", "<=", ">=", "->"):
                        sep = rng.choice([" ", wide])
                    if prev.string == "-" or prev.string == "*" or prev.string == "**":
                        sep = "" if glued else sep
                else:
                    sep = " " if not glued else ""
                parts.append(sep + t.string)
            rebuilt = indent + "".join(parts)
            if rebuilt.strip() and _same_tokens(original, rebuilt):
                out_lines[ln - 1] = rebuilt
    # Re-indent consistently (width change) and sprinkle blank lines / trailing spaces.
    factor = rng.choice([2, 3])  # new spaces per old 4
    result = []
    for line in out_lines:
        stripped = line.lstrip(" ")
        lead = len(line) - len(stripped)
        new = " " * (lead // 4 * factor + lead % 4) + stripped
        if rng.random() < 0.15:
            new += " " * rng.randint(1, 3)
        result.append(new)
        if rng.random() < 0.12:
            result.append("")
    return result


def _same_tokens(a: str, b: str) -> bool:
    ta, tb = _tokens(a.strip() + "\n"), _tokens(b.strip() + "\n")
    if ta is None or tb is None:
        return False
    return [t.string for t in ta if t.string.strip()] == [t.string for t in tb if t.string.strip()]


def _recomment(lines: list[str], rng: random.Random) -> list[str]:
    """Remove, reword and add comments (never inside strings)."""
    text = "\n".join(lines) + "\n"
    toks = _tokens(text)
    if toks is None:
        return lines
    comment_at = {t.start[0]: t.start[1] for t in toks if t.type == tokenize.COMMENT}
    in_string = set()
    ends_code = set()
    for t in toks:
        if t.type == tokenize.STRING and t.start[0] != t.end[0]:
            in_string.update(range(t.start[0] + 1, t.end[0] + 1))
        if t.type == tokenize.NEWLINE and t.string:
            ends_code.add(t.start[0])
    out = []
    for i, line in enumerate(lines, start=1):
        if i in comment_at and i not in in_string:
            col = comment_at[i]
            code = line[:col].rstrip()
            if not code:
                if rng.random() < 0.5:
                    continue  # drop a comment line
                line = line[:col] + "# " + " ".join(rng.sample(_COMMENT_WORDS, 4))
            else:
                line = (
                    code
                    if rng.random() < 0.5
                    else code + "  # " + " ".join(rng.sample(_COMMENT_WORDS, 3))
                )
        elif i in ends_code and i not in in_string and rng.random() < 0.25:
            line = line.rstrip() + "  # " + " ".join(rng.sample(_COMMENT_WORDS, 3))
        if i not in in_string and rng.random() < 0.15 and line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "# " + " ".join(rng.sample(_COMMENT_WORDS, 5)))
        out.append(line)
    return out


def _name_roles(toks: list[tokenize.TokenInfo]) -> list[tuple[int, bool, bool]]:
    """For each NAME token that a rename may touch: (index, binds a name here, is a use).

    Attributes (after ``.``) and keyword-argument names in calls (``f(key=...)``) are never
    renamed; parameters in a ``def`` signature, assignment targets, loop and ``as`` targets,
    and ``def``/``class`` names bind."""
    out = []
    stack: list[str] = []  # "sig" or "call" for each open bracket
    prev = None
    pending_sig = False
    for i, t in enumerate(toks):
        if t.type == tokenize.OP and t.string in "([{":
            stack.append(
                "sig"
                if (t.string == "(" and pending_sig)
                else "call"
                if t.string == "("
                else "other"
            )
            pending_sig = False
        elif t.type == tokenize.OP and t.string in ")]}":
            if stack:
                stack.pop()
        elif (
            t.type == tokenize.NAME
            and not keyword.iskeyword(t.string)
            and t.string not in _BUILTINS
        ):
            after_dot = prev is not None and prev.string == "."
            nxt = toks[i + 1].string if i + 1 < len(toks) else ""
            inside = stack[-1] if stack else None
            if not after_dot and not (inside == "call" and nxt == "="):
                binds = (
                    (prev is not None and prev.string in ("def", "class", "for", "as"))
                    or (inside == "sig" and nxt in (",", ")", "=", ":"))
                    or (inside is None and nxt in ("=", "+=", "-=", "*=", ","))
                )
                out.append((i, binds, True))
        if t.type == tokenize.NAME and t.string == "def":
            pending_sig = True
        if t.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.COMMENT,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            prev = t
    return out


def _rename(lines: list[str], rng: random.Random) -> list[str] | None:
    """Rename the names the snippet binds, consistently; ``None`` when it binds none."""
    text = "\n".join(lines) + "\n"
    toks = _tokens(text)
    if toks is None:
        return None
    roles = _name_roles(toks)
    bound: list[str] = []
    for i, binds, _ in roles:
        if binds and toks[i].string not in bound:
            bound.append(toks[i].string)
    if not bound:
        return None
    chosen = [n for n in bound if rng.random() < 0.8] or bound[:1]
    taken = {t.string for t in toks if t.type == tokenize.NAME}
    mapping = {}
    for name in chosen:
        while True:
            new = (
                f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}"
                if rng.random() < 0.5
                else f"{rng.choice(_WORDS)}{rng.randint(2, 99)}"
            )
            if new not in taken:
                break
        taken.add(new)
        mapping[name] = new
    out = [list(line) for line in lines]
    edits = [toks[i] for i, _, _ in roles if toks[i].string in mapping]
    for t in sorted(edits, key=lambda t: (t.start[0], -t.start[1])):
        row = out[t.start[0] - 1]
        row[t.start[1] : t.end[1]] = list(mapping[t.string])
    return ["".join(r) for r in out]


# --- sets -----------------------------------------------------------------------------------


def make_cases(
    corpus: tuple[str, ...] = DEV_CORPUS,
    negatives: tuple[str, ...] = DEV_NEGATIVES,
    *,
    per_kind: int = 60,
    n_negative: int | None = None,
    seed: int = 0,
) -> list[Case]:
    """``per_kind`` suggestions of each kind in :data:`KINDS` plus ``n_negative`` negatives
    (default ``2 * per_kind``)."""
    rng = random.Random(seed)
    corpus_files = [(pkg, p) for pkg in corpus for p in package_files(pkg)]
    negative_files = [(pkg, p) for pkg in negatives for p in package_files(pkg)]
    if not corpus_files or not negative_files:
        raise RuntimeError(f"no installed source for corpus {corpus} or negatives {negatives}")
    cache: dict[Path, list[str]] = {}

    def lines_of(path: Path) -> list[str]:
        if path not in cache:
            cache[path] = split_lines(path.read_text("utf-8"))
        return cache[path]

    def unrelated(n_min: int, n_max: int) -> tuple[str, list[str]]:
        while True:
            pkg, path = rng.choice(negative_files)
            lines = lines_of(path)
            code = [i for i, line in enumerate(lines) if _is_code(line)]
            if len(code) < n_min:
                continue
            want = rng.randint(n_min, min(n_max, len(code)))
            first = rng.randrange(0, len(code) - want + 1)
            return pkg, lines[code[first] : code[first + want - 1] + 1]

    cases: list[Case] = []
    for kind in KINDS:
        made = 0
        tries = 0
        while made < per_kind and tries < per_kind * 50:
            tries += 1
            pkg, path = rng.choice(corpus_files)
            lines = lines_of(path)
            span = _pick_span(lines, rng)
            if span is None:
                continue
            a, b = span
            copy = lines[a:b]
            if kind == "whitespace":
                body = _respace(copy, rng)
            elif kind == "comments":
                body = _recomment(copy, rng)
            elif kind == "renamed":
                renamed = _rename(copy, rng)
                if renamed is None or renamed == copy:
                    continue
                body = renamed
            else:
                body = list(copy)
            before: list[str] = []
            after: list[str] = []
            if kind == "partial":
                before = unrelated(3, 15)[1]
                after = unrelated(3, 15)[1]
            completion = "\n".join(before + body + after) + "\n"
            rel = str(path.relative_to(package_root(pkg)))  # type: ignore[arg-type]
            cases.append(
                Case(
                    id=f"{kind}-{made}",
                    kind=kind,
                    completion=completion,
                    package=pkg,
                    source=(rel, a + 1, b),
                    lines=(len(before) + 1, len(before) + len(body)),
                )
            )
            made += 1
    for i in range(n_negative if n_negative is not None else 2 * per_kind):
        pkg, body = unrelated(MIN_LINES, MAX_LINES)
        cases.append(
            Case(
                id=f"negative-{i}", kind="negative", completion="\n".join(body) + "\n", package=pkg
            )
        )
    return cases


# --- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reported:
    """One reported match, as the scorer needs it (from a Match or a finding's evidence)."""

    repo: str
    path: str
    source_start: int
    source_end: int
    line: int
    end_line: int


def _stripped(lines: list[str]) -> list[str]:
    return [s for s in (line.strip() for line in lines) if s]


def _common_run(a: list[str], b: list[str]) -> int:
    import difflib

    if not a or not b:
        return 0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def _same_text(reported: list[str], truth: list[str]) -> bool:
    """The reported corpus lines are (nearly) the text of the true span: a duplicate or a lightly
    edited copy of it elsewhere in the corpus (at least 80 % of the reported code, compared
    character by character, lies in the true span)."""
    import difflib

    a, b = "\n".join(_stripped(reported)), "\n".join(_stripped(truth))
    if not a or not b:
        return False
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in sm.get_matching_blocks()) >= 0.8 * len(a)


def score(cases: list[Case], reported: dict[str, list[Reported]]) -> dict:
    """Recall per kind, location accuracy, precision; see the module docstring for the rules.

    A report *locates* a copy when it points at the true file and overlaps the true lines, or at
    corpus lines whose text is (80 %) that of the true span (packages ship duplicated and
    derived files: the index cannot know which of two identical files a copy came from). A report on a negative, or outside
    the copy of a positive, is a false positive unless that text really is in the corpus: six
    or more identical consecutive lines (``genuine``, counted apart).
    """
    texts: dict[tuple[str, str], list[str]] = {}

    def source_lines(repo: str, path: str) -> list[str]:
        key = (repo, path)
        if key not in texts:
            root = package_root(repo)
            try:
                texts[key] = split_lines((root / path).read_text("utf-8")) if root else []
            except OSError:
                texts[key] = []
        return texts[key]

    per_kind: dict[str, dict[str, int]] = {}
    tp = fp = genuine = 0
    fp_examples: list[dict] = []
    for c in cases:
        k = per_kind.setdefault(c.kind, {"cases": 0, "detected": 0, "located": 0, "reports": 0})
        k["cases"] += 1
        reps = reported.get(c.id, [])
        k["reports"] += len(reps)
        detected = located = False
        for r in reps:
            src = source_lines(r.repo, r.path)[r.source_start - 1 : r.source_end]
            inside = c.lines is not None and r.line <= c.lines[1] and r.end_line >= c.lines[0]
            right = False
            if inside and c.source is not None:
                detected = True
                path, a, b = c.source
                if (
                    r.repo == c.package
                    and r.path == path
                    and r.source_start <= b
                    and r.source_end >= a
                ):
                    right = True
                else:
                    right = _same_text(src, source_lines(c.package, path)[a - 1 : b])
            if right:
                located = True
                tp += 1
                continue
            shown = split_lines(c.completion)[r.line - 1 : r.end_line]
            if _common_run(_stripped(src), _stripped(shown)) >= 6:
                genuine += 1
                continue
            fp += 1
            if len(fp_examples) < 20:
                fp_examples.append(
                    {
                        "case": c.id,
                        "package": c.package,
                        "reported": f"{r.repo}:{r.path}:{r.source_start}-{r.source_end}",
                        "lines": [r.line, r.end_line],
                    }
                )
        k["detected"] += detected
        k["located"] += located
    out: dict = {"kinds": {}}
    for kind, k in per_kind.items():
        row = dict(k)
        if kind != "negative":
            row["recall"] = round(k["detected"] / k["cases"], 4) if k["cases"] else None
            row["location_accuracy"] = (
                round(k["located"] / k["detected"], 4) if k["detected"] else None
            )
        out["kinds"][kind] = row
    detected = sum(k["detected"] for kind, k in per_kind.items() if kind != "negative")
    located = sum(k["located"] for kind, k in per_kind.items() if kind != "negative")
    out["location_accuracy"] = round(located / detected, 4) if detected else None
    out["true_positives"] = tp
    out["false_positives"] = fp
    out["genuine_copies_elsewhere"] = genuine
    out["precision"] = round(tp / (tp + fp), 4) if tp + fp else None
    out["precision_counting_genuine_as_false"] = (
        round(tp / (tp + fp + genuine), 4) if tp + fp + genuine else None
    )
    out["false_positive_examples"] = fp_examples
    return out
