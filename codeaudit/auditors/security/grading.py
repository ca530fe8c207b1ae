r"""Grading: what the code around a pattern finding shows about it.

A pattern rule knows the shape of a risky call, not what reaches it. After the rules ran, each
finding at medium or above is read once more with the code around it, and lowered to ``low``
(never dropped: the pattern is still right) when that code shows it cannot do harm where it
stands. ``evidence.grade`` says why. Checks that hold in any code:

* **constant data**: every value the call takes is a literal or a constant (``Function('return
  this')``, ``Process.Start(DAEMON_COMMAND)``, ``strcpy(out, "null")``); nothing can be injected;
* **sized for it**: a C string copy whose source was measured (``strlen(src)``) in the lines before,
  or a ``sprintf`` whose format is constant and prints only numbers;
* **a macro's format**: ``#define LOG(...) fprintf(stderr, __VA_ARGS__)`` takes its format from each
  use of the macro, not from input;
* **a hash for naming**: MD5/SHA-1 used for a cache key, checksum, ETag, fingerprint or file name
  (``usedforsecurity=False``), unless passwords, tokens, signatures or the like are named nearby;
* **a name, not a credential**: a "password" constant whose value names a field
  (``ElemPassword = "password"``, ``PasswordStdIn = "pw-stdin"``).

In **repository files** (a suggestion with a path, while the path policy is on: the code is the
repository's own, not a fragment of unknown origin) two more hold, the way a reviewer reads a
library:

* a data-dependent weakness (injection, traversal, deserialisation, XXE, SSRF, redirect) without
  a taint flow from outside input (request, command line, environment, input stream) is lowered
  unless its statement splices a non-constant value into the text of a command, query, markup or
  code (``os.system(f"more {name}")`` stays; ``os.system(cmd)`` in a pager helper is lowered). A
  query that splices only identifiers (``FROM {0}``, ``ORDER BY `` + column) while its values go
  as bind parameters is lowered too;
* a weak hash whose purpose the code does not name (neither security nor naming) is lowered.

>>> flags = grade_flags("strcpy(out, \"null\");", "c", 120, "CA4101")
>>> flags
'constant data'
>>> splices_text('os.system(f"more {name}")', 78), splices_text("os.system(cmd)", 78)
(True, False)
>>> sql_identifiers_only('"SELECT * FROM " + table + " WHERE id = ?"')
True
>>> sql_identifiers_only("\"SELECT * FROM users WHERE name = '\" + name + \"'\"")
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from codeaudit.model import Finding, Severity

#: Weaknesses that need a value from somewhere to do harm (injection, traversal, unsafe input).
DATA_CWES = frozenset(
    {22, 73, 77, 78, 79, 80, 88, 89, 90, 94, 95, 98, 113, 117, 470, 502, 601, 611, 643, 918, 1336}
)
#: Of those, the ones where splicing a value into a string of another language is the flaw.
SPLICE_CWES = frozenset({77, 78, 79, 80, 88, 89, 90, 94, 95, 113, 117, 643, 1336})
#: Rules in DATA_CWES that flag a configuration, not a value (debug mode, autoescape off …).
CONFIGURATION_RULES = frozenset({"B201", "B612", "B701", "B702"})
OVERFLOW_CWES = frozenset({119, 120, 121, 122, 787, 805})
FORMAT_CWES = frozenset({134})
HASH_CWES = frozenset({328})
HASH_RULES = frozenset({"B303", "B324"})
CREDENTIAL_CWES = frozenset({798})
TLS_CWES = frozenset({295})
#: Taint sources that are the program's own user's input (``taint:`` labels in the packs).
LOCAL_SOURCES = frozenset({"command line", "environment"})
_NO_DATA_HASH = re.compile(
    r"\b(?:md5|sha1|MD5|SHA1)\s*\(\s*\)\s*\.\s*(?:digest_size|block_size|name)\b"
)
_CONVERSION = re.compile(
    r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|z|j|t)?[diouxXeEfgGcspaAn\[S]"
)
_CALLERS_CHOICE = re.compile(
    r"\bif\b[^\n]*(?:\bnot\s+\w*verify\w*|!\s*\w*[Vv]erify\w*|\w*verify\w*\s*(?:==|is)\s*(?:False|false)|insecure|no_?verify|skip_?verify|allow_?insecure)",
    re.IGNORECASE,
)

_SECURITY_WORDS = re.compile(
    r"pass(?:w|wd|word|phrase)?\b|passw|pwd|secret|token|credential|signature|\bsign(?:ed|er|ing)?\b|"
    r"verif|hmac|\bmac\b|salt|nonce|otp|login|authenticat|encrypt|decrypt|cipher|private_?key|csrf",
    re.IGNORECASE,
)
_NAMING_WORDS = re.compile(
    r"cache|checksum|etag|e_tag|fingerprint|digest_size|dedup|file_?name|tmp|temp|\bids?\b|"
    r"identif|hexdigest\(\)\s*\[\s*:\s*\d+\s*\]|usedforsecurity\s*=\s*False|shard|bucket|"
    r"content_?hash|integrity|version",
    re.IGNORECASE,
)
_CONSTANT_ARG = re.compile(
    r"""(?x)^(?:
        (?:[rRbBuUL]|u8)?"(?:[^"\\\n]|\\.)*"(?:\s*(?:\+|\.)?\s*(?:[rRbBuUL]|u8)?"(?:[^"\\\n]|\\.)*")*
      | (?:[rRbBu])?'(?:[^'\\\n]|\\.)*'(?:\s*[+.]\s*(?:[rRbBu])?'(?:[^'\\\n]|\\.)*')*
      | -?\d[\w.]*
      | [A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)*
      | (?:[\w.]+\.)?[A-Z][A-Z0-9_]{2,}
      | sizeof\s*\(?[^()]*\)?
      | NULL|null|nil|None|true|false|True|False|nullptr|undefined
    )$""",
)
_DEFINE_STRING = re.compile(r'^\s*#\s*define\s+([A-Z_][A-Z0-9_]*)\s+("(?:[^"\\]|\\.)*")\s*$')
_CALL_PAREN = re.compile(r"[\w!>\]]\s*\(")
_COPY = re.compile(r"^(?:str|wcs|_tcs|_mbs|lstr|Str|stp)(?:cpy|cat)[AW]?$")
_CAST = re.compile(r"^\(\s*(?:const\s+)?(?:unsigned\s+)?\w+(?:\s*\*)*\s*\)\s*")
_SPLICE = (
    re.compile(r"""\b[fF][rR]?(["'])(?:(?!\1).)*\{[^{}]+\}"""),  # Python f-string
    re.compile(r"`[^`]*\$\{"),  # JS template literal
    re.compile(r"""\$@?"[^"]*\{[^{}"]+\}|@\$"[^"]*\{[^{}"]+\}"""),  # C# interpolation
    re.compile(r"""["']\s*\+\s*(?!\s*["'])[\w$(]|[\w)\]]\s*\+\s*["']"""),  # concatenation
    re.compile(r"""["']\s*\.\s*\$|\$[\w>\-\[\]'"]+\s*\.\s*["']"""),  # PHP concatenation
    re.compile(r'"[^"\n]*\$\{?\w'),  # PHP/shell interpolation in double quotes
    re.compile(r"""["']\s*%\s*[\w(]"""),  # Python % formatting
    re.compile(r"""["']\s*\.\s*format\s*\("""),  # str.format
    re.compile(r"""\b(?:[Ss]tring\.[Ff]ormat|Sprintf|format!?|sprintf|snprintf)\s*\("""),
)
_SQL_KEYWORD = re.compile(
    r"\b(SELECT|FROM|JOIN|INTO|UPDATE|TABLE|WHERE|SET|VALUES|AND|OR|ON|BY|HAVING|LIMIT|OFFSET|"
    r"LIKE|IN|INDEX|EXISTS|DISTINCT|AS|DATABASE|PRAGMA|ATTACH|DROP|ALTER|CREATE|DELETE|INSERT)\b",
    re.IGNORECASE,
)
_IDENTIFIER_KEYWORDS = frozenset(
    {"SELECT", "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "BY", "INDEX", "EXISTS", "DISTINCT",
     "AS", "DATABASE", "PRAGMA", "DROP", "ALTER", "CREATE", "ON"}
)  # fmt: skip
_BIND = re.compile(r"\?|[@:]\w+|\$\d")
_STRING = re.compile(
    r"""@"(?:[^"]|"")*"|\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
)
_SLOT = re.compile(r"\{\d*\}|\{\w+\}|%[sdr]|%\(\w+\)s|\$\{[^}]*\}")
_HEADER = re.compile(
    r"^\s*(?:(?:async\s+)?def|func|function|fn|sub|(?:public|private|protected|internal|static|"
    r"\w+[\w<>\[\],\s*&]*?)\s+[\w:~]+\s*\()"
)
_NAME_CONSTANT = re.compile(
    r"\b(?:Elem|Attr|Attrib|Field|Param|Prop|Key|Header|Label|Column|Col|Node|Tag|Xml|Json|Opt|Arg)"
    r"\w*\s*=|\w*(?:Name|Field|Key|Attr|Label|Id|Tag|Elem|Element|Header|Column|Param)\s*=",
)
_FIELD_WORD_VALUE = re.compile(
    r"""["'](?=[A-Za-z][\w\-. ]{0,40}["'])(?=[^"']*(?:pass|pwd|pw\b|pw-|secret|token|credential|key))"""
    r"""[A-Za-z][A-Za-z_\-. ]*\d?["']""",
    re.IGNORECASE,
)


def call_arguments(text: str, start: int = 0) -> list[str] | None:
    """The top-level arguments of the first call opened at or after ``start`` in ``text``.

    >>> call_arguments('strcpy((char*)out, "a, b");')
    ['(char*)out', '"a, b"']
    """
    i = text.find("(", start)
    if i < 0:
        return None
    depth, args, cur, quote = 0, [], [], ""
    j = i + 1
    while j < len(text):
        c = text[j]
        if quote:
            cur.append(c)
            if c == "\\" and j + 1 < len(text):
                cur.append(text[j + 1])
                j += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            if depth == 0:
                last = "".join(cur).strip()
                if last or args:
                    args.append(last)
                return args
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        j += 1
    return None


def _constant(arg: str) -> bool:
    arg = _CAST.sub("", arg.strip())
    while arg.startswith("(") and arg.endswith(")"):
        arg = arg[1:-1].strip()
    if re.search(r'"[^"]*(?:\$\{?[A-Za-z_]|#\{)', arg):
        return False  # "…$name…" interpolates in PHP, shell, Perl; "#{…}" in Ruby
    return bool(arg) and _CONSTANT_ARG.match(arg) is not None


def _bare(arg: str) -> str:
    arg = _CAST.sub("", arg.strip())
    return arg.lstrip("&*").strip()


def splices_text(statement: str, cwe: int | None) -> bool:
    """Whether ``statement`` splices a value into a string literal (the injection shape).

    A query that splices only identifiers while its values are bound is not."""
    if not any(p.search(statement) for p in _SPLICE[:-1]):
        # a format call splices only when a literal with a placeholder is formatted
        if not (
            _SPLICE[-1].search(statement)
            and any(_SLOT.search(m.group(0)) for m in _STRING.finditer(statement))
        ):
            return False
    if cwe == 89 and sql_identifiers_only(statement):
        return False
    return True


def sql_identifiers_only(statement: str) -> bool:
    """Whether every value spliced into the SQL of ``statement`` sits where an identifier goes
    (a table or column name), never where a value goes (after ``=``, in quotes, in ``VALUES``).

    The text between string literals counts as one spliced value; ``{0}``/``%s``/``${x}`` inside
    a literal do too."""
    parts: list[str] = []
    pos = 0
    for m in _STRING.finditer(statement):
        between = statement[pos : m.start()]
        if parts and re.search(r"[+.]", between) and between.strip(" +.\n\t"):
            parts.append("\x00")  # a value concatenated between two literals
        elif not parts and re.search(r"[\w)\]]\s*\+\s*$", between):
            parts.append("\x00")
        body = m.group(0).lstrip("@")
        quote = 3 if body[:3] in ('"""', "'''") else 1
        parts.append(_SLOT.sub("\x00", body[quote:-quote]))
        pos = m.end()
    tail = statement[pos:]
    if parts and re.match(r"\s*\+\s*[\w(]", tail):
        parts.append("\x00")
    skeleton = "".join(parts)
    if "\x00" not in skeleton or not _SQL_KEYWORD.search(skeleton):
        return False
    if re.match(r"\s*(?:CREATE|ALTER|DROP)\b", skeleton, re.I) and "'\x00" not in skeleton:
        return True  # schema statements splice names and types, not values
    for m in re.finditer("\x00", skeleton):
        before = skeleton[: m.start()]
        if re.search(r"'\s*$", before) or re.search(
            r"(?:=|<|>|\bLIKE|\bIN\s*\(|\()\s*$", before, re.I
        ):
            return False
        keywords = _SQL_KEYWORD.findall(before)
        if not keywords:
            if before.strip():
                return False
            continue  # the statement starts with the spliced part (a prefix like a SELECT list)
        last = keywords[-1].upper()
        tail_text = before[before.upper().rfind(last) + len(last) :]
        if last not in _IDENTIFIER_KEYWORDS or re.search(r"[=<>']", tail_text):
            return False
    return True


def grade_flags(
    statement: str,
    language: str,
    cwe: int | None,
    rule_id: str,
    before: str = "",
    *,
    repository: bool = False,
    has_flow: bool = False,
    at: int = 0,
    defines: Mapping[str, str] | None = None,
) -> str | None:
    """Why a finding of ``rule_id`` on ``statement`` is harmless where it stands, or ``None``.

    ``before`` is the code above the statement (its function and a little more); ``at`` is where
    the flagged call starts in ``statement``."""
    if has_flow:
        return None
    defines = defines or {}
    args = call_arguments(statement, at)
    if cwe in HASH_CWES or rule_id in HASH_RULES:
        if _NO_DATA_HASH.search(statement):
            return "no data is hashed: only the hash's size or name is read"
        near = before[-400:] + "\n" + statement
        header = _enclosing_header(before)
        if _SECURITY_WORDS.search(statement) or _SECURITY_WORDS.search(header):
            return None
        if _NAMING_WORDS.search(near) or _NAMING_WORDS.search(header):
            return "a hash for naming or checking, not for security"
        if repository:
            return "a hash whose use names no security purpose"
        return None
    if cwe in CREDENTIAL_CWES:
        if _FIELD_WORD_VALUE.search(statement) or (
            _NAME_CONSTANT.search(statement) and not re.search(r"\d.*\d", _quoted(statement))
        ):
            return "the value names a field; it is not a credential"
        return None
    if cwe in FORMAT_CWES:
        if "__VA_ARGS__" in statement and _in_define(statement, before):
            return "a macro's format: each use of the macro gives it"
        if (
            args
            and len(args) >= 2
            and _constant(args[-1] if "printf" not in statement else args[1])
        ):
            return "constant data"
        return None
    if cwe in OVERFLOW_CWES:
        if not args or len(args) < 2:
            return None
        name = re.search(r"(\w+)\s*\(", statement)
        callee = name.group(1) if name else ""
        if "printf" in callee:
            fmt_at = 2 if callee.startswith(("snprintf", "vsnprintf")) else 1
            if len(args) <= fmt_at or not _constant(args[fmt_at]):
                return None
            fmt = defines.get(args[fmt_at].strip(), args[fmt_at])
            if not _constant(fmt) or re.fullmatch(r"[A-Z][A-Z0-9_]*", fmt.strip()):
                return None  # a constant whose text this code does not show
            conversions = _CONVERSION.findall(fmt)
            if not any(c[-1] in "sS[" for c in conversions):
                return "constant format printing only numbers"
            values = args[fmt_at + 1 :]
            if "*" in fmt or len(values) != len(conversions):
                return None
            strings = [v for c, v in zip(conversions, values, strict=True) if c[-1] in "sS["]
            if all(_measured(a, before) or _constant(a) for a in strings):
                return "sized for it: every string printed was measured before"
            return None
        if callee.startswith("mem"):
            if len(args) >= 3 and _constant(args[2]):
                return "constant data"
            return None
        if not _COPY.search(callee):
            return None
        source = args[1]
        if _constant(source):
            return "constant data"
        if _measured(source, before):
            return "sized for it: the source was measured before the copy"
        return None
    if cwe in TLS_CWES and _CALLERS_CHOICE.search(before[-300:]):
        return "verification is off only when its caller turns it off"
    if cwe in DATA_CWES and rule_id not in CONFIGURATION_RULES:
        if _all_calls_constant(statement, at):
            return "constant data"
        if repository:
            if cwe == 89 and _binds_values(statement):
                return "values go as bind parameters; only the query's structure is spliced"
            if cwe in SPLICE_CWES and splices_text(statement, cwe):
                return None
            return "no outside input reaches it in this file"
    return None


def grade_flow(source: str, cwe: int | None, *, repository: bool) -> str | None:
    """Why a taint flow from ``source`` (its label) is harmless in a repository file, or ``None``:
    a program that runs a command or opens a path named on its own command line or in its
    environment does what its user asks."""
    if repository and source in LOCAL_SOURCES and cwe in {22, 73, 78, 88}:
        return f"the program's own {source} names it"
    return None


def _binds_values(statement: str) -> bool:
    """A query whose literal holds bind placeholders: values go as parameters."""
    literals = [m.group(0)[1:-1] for m in _STRING.finditer(statement)]
    sql = " ".join(literals)
    return (
        bool(_SQL_KEYWORD.search(sql))
        and re.search(r"(?<![\w?])\?(?![\w?])|[@:][A-Za-z_]\w*|\$\d", sql) is not None
    )


def _in_define(statement: str, before: str) -> bool:
    if re.search(r"^\s*#\s*define\b", statement, re.M):
        return True
    for line in reversed(before.splitlines()[-40:]):
        if not line.rstrip().endswith("\\"):
            return False
        if re.match(r"^\s*#\s*define\b", line):
            return True
    return False


def _all_calls_constant(statement: str, at: int) -> bool:
    """Whether the call opened at or after ``at``, and every call chained or nested after it,
    take only constants (and at least one)."""
    quoted = [(m.start(), m.end()) for m in _STRING.finditer(statement)]

    def in_string(i: int) -> bool:
        return any(lo <= i < hi for lo, hi in quoted)

    first = next(
        (i for i in range(at, len(statement)) if statement[i] == "(" and not in_string(i)), -1
    )
    starts = [first]
    starts += [at + m.end() - 1 for m in _CALL_PAREN.finditer(statement[at:])]
    values: list[str] = []
    for start in sorted({x for x in starts if x >= 0 and not in_string(x)}):
        args = call_arguments(statement, start)
        if args is None:
            return False
        values += [a.split("=", 1)[1] if _keyword_arg(a) else a for a in args]
    return bool(values) and all(_constant(v) for v in values)


def _keyword_arg(arg: str) -> bool:
    return re.match(r"^\w+\s*=(?!=)", arg) is not None and not arg.lstrip().startswith(("'", '"'))


def _quoted(statement: str) -> str:
    return " ".join(m.group(0) for m in _STRING.finditer(statement))


def _measured(arg: str, before: str) -> bool:
    name = _bare(arg)
    if not name or not re.fullmatch(r"[\w.>\-\[\]]+", name):
        return False
    escaped = re.escape(name)
    return (
        re.search(
            rf"\b(?:strlen|strnlen|wcslen|sizeof)\s*\(\s*(?:\(\s*[\w\s*]+\)\s*)?{escaped}\s*[,)]",
            before,
        )
        is not None
    )


def _enclosing_header(before: str) -> str:
    for line in reversed(before.splitlines()[-80:]):
        if _HEADER.match(line):
            return line
    return ""


def grade(
    findings: Sequence[Finding],
    text_lines: Sequence[str],
    first_line: int,
    language: str,
    *,
    repository: bool,
) -> list[Finding]:
    """``findings`` with those harmless where they stand lowered to low (``evidence.grade``).

    ``text_lines`` are the analysed text's lines (prompt, completion, suffix); ``first_line`` is
    the text line on which the completion starts."""
    out: list[Finding] = []
    defines: dict[str, str] = {}
    if language in ("c", "cpp"):
        for line in text_lines:
            m = _DEFINE_STRING.match(line)
            if m:
                defines[m.group(1)] = m.group(2)
    for f in findings:
        if f.severity <= Severity.LOW or f.auditor != "security":
            out.append(f)
            continue
        lo = f.line + first_line - 2
        hi = f.end_line + first_line - 1
        statement = "\n".join(text_lines[lo:hi])
        # a statement cut at the flagged line: take the following lines up to its end
        extra = hi
        while (
            extra < len(text_lines)
            and extra < hi + 8
            and statement.count("(") > statement.count(")")
        ):
            statement += "\n" + text_lines[extra]
            extra += 1
        before = "\n".join(text_lines[max(0, lo - 60) : lo])
        has_flow = "flow" in f.evidence  # a taint flow from outside input (a parameter's is low)
        at = f.column - 1 if f.line > 1 or first_line == 1 else 0
        at = min(at, len(statement))
        match = f.evidence.get("match")
        head = match.split("\n")[0] if isinstance(match, str) else ""
        calls = [m.end() - 1 for m in _CALL_PAREN.finditer(head)]
        found = statement.find(head, max(0, at - 1)) if calls else -1
        if found >= 0:
            at = found + calls[-1]  # the last call the match names: the sink
        why = grade_flow(str(f.evidence.get("source", "")), f.cwe, repository=repository)
        why = why or grade_flags(
            statement,
            language,
            f.cwe,
            f.rule_id,
            before,
            repository=repository,
            has_flow=has_flow,
            at=at,
            defines=defines,
        )
        if why is None:
            out.append(f)
            continue
        out.append(
            replace(
                f,
                severity=Severity.LOW,
                evidence={**f.evidence, "grade": f"{why} ({f.severity.label})"},
            )
        )
    return out
