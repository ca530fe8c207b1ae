"""The privacy auditor: personal data (CA1xx) and secrets (CA2xx) in generated code.

Personal data comes from :mod:`codeaudit.auditors.privacy.leakage` (user names in paths and remotes,
credentials in URLs, e-mail and IP addresses, internal host names); secrets from detect-secrets'
own plug-ins, run in process by :class:`~codeaudit.auditors.privacy.secrets.SecretScanner`. Both see the
completion together with the rest of its first and last lines (so ``"/home/`` + ``alice/…"`` split
at the cursor is still a path), and only what lies in the completion is reported.

Every finding that reveals a person's account name carries it as ``evidence["username"]``. A
secret never leaves the auditor: snippets, messages and evidence show ``[REDACTED:<hash>]``.

>>> from codeaudit.model import Suggestion
>>> auditor = PrivacyAuditor()
>>> (outcome,) = auditor.audit_batch([Suggestion(id="a", completion="log = '/Users/dana/app.log'\\n")])
>>> [(f.rule_id, f.line, f.column, f.evidence["username"]) for f in outcome.findings]
[('CA101', 1, 15, 'dana')]
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from codeaudit import languages
from codeaudit.auditors.base import Auditor, Outcome
from codeaudit.context import CodeContext, line_starts
from codeaudit.model import Confidence, Finding, Severity, Suggestion
from codeaudit.redact import Masker, mask, redact_values, secret_hash
from codeaudit.registry import Rule

from .filekinds import dropped_rules, file_kind, lowered_rules
from .ruledata import load_rules

#: The rules, as data: ``rules.yaml`` beside this module (see :mod:`.ruledata`).
_RULES: tuple[Rule, ...] = load_rules()

#: detect-secrets' secret types -> our rule. Types not listed (new or custom plug-ins) are CA203.
SECRET_RULES: Mapping[str, str] = {
    "Private Key": "CA201",
    "AWS Access Key": "CA202",
    "Azure Storage Account access key": "CA202",
    "IBM Cloud IAM Key": "CA202",
    "IBM COS HMAC Credentials": "CA202",
    "SoftLayer Credentials": "CA202",
    "Cloudant Credentials": "CA202",
    "Artifactory Credentials": "CA202",
    "Secret Keyword": "CA204",
    "Base64 High Entropy String": "CA205",
    "Hex High Entropy String": "CA205",
    "Basic Auth Credentials": "CA102",
    "Public IP (ipv4)": "CA105",
}
#: Which rule wins when several plug-ins report the same secret: the most specific one.
_PRIORITY = ("CA201", "CA202", "CA203", "CA102", "CA204", "CA205", "CA105")
_RULE_BY_NAME = {r.name: r for r in _RULES}

#: Extensions that make detect-secrets pick the right per-language patterns for a suggestion.
_FILENAMES = {"dockerfile": "Dockerfile", "makefile": "Makefile"}


def _filename(s: Suggestion) -> str:
    if s.path:
        return s.path.replace("\\", "/").rsplit("/", 1)[-1] or "suggestion"
    lang = languages.LANGUAGES.get(s.language or "")
    if lang is None:
        return "suggestion"
    if lang.name in _FILENAMES:
        return _FILENAMES[lang.name]
    return "suggestion" + (lang.extensions[0] if lang.extensions else "")


class PrivacyAuditor(Auditor):
    """Personal data and secrets. Options (``[tool.codeaudit.privacy]``):

    * ``secrets`` (default ``true``): run detect-secrets' plug-ins (CA2xx);
    * ``context`` (default ``true``): read the rest of the first and last line from the prompt and
      suffix, so a path split at the cursor is still seen whole.
    """

    name = "privacy"
    options_spec: ClassVar[Mapping[str, Any]] = {"secrets": True, "context": True}

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self._scanner = None

    @classmethod
    def rules(cls) -> Sequence[Rule]:
        return _RULES

    def describe(self) -> Mapping[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        out: dict[str, Any] = {"secrets": bool(self.options["secrets"])}
        if self.options["secrets"]:
            try:
                out["detect_secrets"] = version("detect-secrets")
            except PackageNotFoundError:  # pragma: no cover - a core dependency
                out["detect_secrets"] = None
            if self._scanner is not None:
                out["plugins"] = self._scanner.plugin_names()
        return out

    # -- one suggestion ------------------------------------------------------------------------
    def audit_one(self, s: Suggestion) -> Outcome:
        """Audit one suggestion (what :meth:`audit_batch` does for each)."""
        from codeaudit.auditors.privacy.leakage import find_leaks, judge_ipv4

        ctx = self._context(s)
        text = ctx.text
        kind = file_kind(s.path, s.completion)
        dropped = dropped_rules(kind)
        lowered = lowered_rules(kind)
        leaks = find_leaks(text, s.language)
        raw = self._secrets(s, text) if self.options["secrets"] else []
        raw = [sec for sec in raw if not _not_a_secret(sec)]
        if dropped:
            leaks = [leak for leak in leaks if _RULE_BY_NAME[leak.rule].id not in dropped]

        # Where each secret sits: (start, end) in the text, or the whole line when a transformer
        # (INI/YAML parsing) reported a value that is not written verbatim on its line.
        located: dict[tuple[int, int], list[Any]] = {}
        starts = line_starts(text) if raw else []
        blocks: list[tuple[int, int]] = []  # private keys: every line of the key is the secret
        inside_key: list[Any] = []
        for secret in sorted(raw, key=lambda sec: sec.secret_type != "Private Key"):
            line_start = starts[secret.line - 1]
            line_end = starts[secret.line] if secret.line < len(starts) else len(text)
            span = None
            for needle in (secret.match, secret.value):
                idx = text.find(needle, line_start, line_end) if needle else -1
                if idx >= 0:
                    span = (idx, idx + len(needle))
                    break
            if span is None:  # a transformer (INI/YAML) rewrote the line: hide all of it
                span = (line_start, line_end)
                while span[1] > span[0] and text[span[1] - 1] in "\r\n":
                    span = (span[0], span[1] - 1)
            if secret.secret_type == "Private Key":
                head = span[0]
                while head > line_start and text[head - 1] == "-":
                    head -= 1
                span = (head, _key_block_end(text, span[1]))
                blocks.append(span)
            elif any(a <= span[0] and span[1] <= b for a, b in blocks):
                inside_key.append(secret)  # a line of a private key another plug-in reported
                continue
            located.setdefault(span, []).append(secret)
        masks = [span for span in located] + [m for leak in leaks for m in leak.mask]
        values = Masker.of_values(
            [sec.value for group in located.values() for sec in group]
            + [part for a, b in located for part in re.split(r"[\r\n]+", text[a:b]) if part]
        )
        window = _Masks(text, masks)

        findings: list[Finding] = []
        snippets: dict[
            tuple[int, int], str
        ] = {}  # one per line range: a minified line holds thousands of findings

        def add(
            rule_id: str,
            focus: tuple[int, int],
            *,
            evidence: dict[str, Any],
            message: str,
            identity: str,
            confidence: str | None = None,
            severity: str | None = None,
        ) -> None:
            where = ctx.completion_span(*focus)
            if where is None:
                return  # in the prompt or suffix: context only
            if rule_id in lowered:
                severity = "low"
            line, col, end_line, end_col = where
            key = window.key(ctx, line, end_line, focus)
            snippet = snippets.get(key)
            if snippet is None:
                snippet = snippets[key] = window.snippet(ctx, line, end_line, focus, values)
            findings.append(
                self.finding(
                    s,
                    rule_id,
                    line=line,
                    end_line=end_line,
                    column=col,
                    end_column=end_col,
                    message=redact_values(message, values),
                    evidence=evidence,
                    identity=identity,
                    snippet=snippet,
                    confidence=Confidence.parse(confidence) if confidence else None,
                    severity=Severity.parse(severity) if severity else None,
                )
            )

        # Personal data; URL credentials and IP addresses absorb the matching plug-in reports.
        for leak in leaks:
            rule = _RULE_BY_NAME[leak.rule]
            evidence = dict(leak.evidence)
            for span, group in list(located.items()):
                if not (span[0] < leak.end and leak.start < span[1]):
                    continue
                types = {sec.secret_type for sec in group}
                if (rule.id == "CA102" and "Basic Auth Credentials" in types) or (
                    rule.id in ("CA105", "CA106") and "Public IP (ipv4)" in types
                ):
                    evidence["secret_types"] = sorted(types)
                    if rule.id == "CA102":
                        evidence["secret_hash"] = secret_hash(group[0].value)
                    del located[span]
            evidence = {
                k: (redact_values(v, values) if isinstance(v, str) and k != "secret_hash" else v)
                for k, v in evidence.items()
            }
            identity = "\0".join(
                str(evidence.get(k, "")) for k in ("username", "path", "email", "ip", "host")
            )
            if rule.id in ("CA102", "CA206"):
                hashed = secret_hash(leak_text(text, leak))
                identity = "\0".join((identity, hashed))
                evidence.setdefault("secret_hash", hashed)
            add(
                rule.id,
                leak.focus,
                evidence=evidence,
                message=leak.message,
                identity=identity,
                confidence=leak.confidence,
                severity=leak.severity,
            )

        # Secrets the plug-ins reported that no personal-data rule absorbed.
        excluded: list[dict[str, Any]] = []
        for span, group in located.items():
            types = sorted({sec.secret_type for sec in group})
            rule_id = min((SECRET_RULES.get(t, "CA203") for t in types), key=_PRIORITY.index)
            if rule_id in dropped:
                where = ctx.completion_span(*span)
                if where:
                    excluded += [
                        {"line": where[0], "secret_type": t, "reason": f"not reported in a {kind}"}
                        for t in types
                    ]
                continue
            value = text[
                span[0] : span[1]
            ]  # the whole token, not just the group a plug-in reported
            if rule_id == "CA105":
                # The IP plug-in also reports 0.0.0.0, netmasks and version numbers; only real
                # network addresses are reported (see CA105).
                address = group[0].value.split(":")[0]
                line_start = starts[group[0].line - 1]
                line_end = starts[group[0].line] if group[0].line < len(starts) else len(text)
                verdict = judge_ipv4(
                    text[line_start:line_end].rstrip("\r\n"),
                    span[0] - line_start,
                    span[0] - line_start + len(address),
                )
                if isinstance(verdict, str):
                    where = ctx.completion_span(*span)
                    if where:
                        excluded.append(
                            {
                                "line": where[0],
                                "ip": address,
                                "secret_type": "Public IP (ipv4)",
                                "reason": verdict,
                            }
                        )
                    continue
                scope = verdict
                rule_id = "CA105" if scope[0] == "public" else "CA106"
                add(
                    rule_id,
                    span,
                    evidence={
                        "ip": scope[1],
                        "version": 4,
                        "scope": scope[0],
                        "secret_types": types,
                    },
                    message=f"the {scope[0]} IPv4 address {scope[1]}",
                    identity=scope[1],
                )
                continue
            hashed = secret_hash(value)
            stand_in = rule_id in ("CA204", "CA205") and _stand_in(value)
            evidence = {
                "secret_type": types[0] if len(types) == 1 else _preferred_type(types),
                "secret_types": types,
                "secret_hash": hashed,
                "masked": mask(value),
            }
            label = evidence["secret_type"]
            if stand_in:
                evidence["placeholder"] = True
            add(
                rule_id,
                span,
                evidence=evidence,
                message=f"{label}: {mask(value)}"
                + (" (looks like a stand-in)" if stand_in else ""),
                identity=hashed,
                severity="low" if stand_in else None,
                confidence="low" if stand_in else None,
            )
        for sec in inside_key:
            where = ctx.completion_span(starts[sec.line - 1], starts[sec.line - 1] + 1)
            if where:
                excluded.append(
                    {
                        "line": where[0],
                        "secret_type": sec.secret_type,
                        "reason": "a line of a private key (reported as the key)",
                    }
                )
        # Plug-in reports left out on purpose stay visible in the report (results[].auditors.privacy).
        data: dict[str, Any] = {"excluded_reports": excluded} if excluded else {}
        if kind:
            data["file_kind"] = kind
        return Outcome(findings=findings, data=data)

    def _context(self, s: Suggestion) -> CodeContext:
        if not self.options["context"]:
            return CodeContext.build(completion=s.completion)
        prompt, suffix = s.prompt, s.suffix
        cut = max(prompt.rfind("\n"), prompt.rfind("\r"))
        tail = prompt[cut + 1 :]
        ends = [i for i in (suffix.find("\n"), suffix.find("\r")) if i >= 0]
        head = suffix[: min(ends)] if ends else suffix
        return CodeContext.build(prompt=tail, completion=s.completion, suffix=head)

    def _secrets(self, s: Suggestion, text: str) -> list[Any]:
        if self._scanner is None:
            from codeaudit.auditors.privacy.secrets import SecretScanner

            self._scanner = SecretScanner()
        return self._scanner.scan(text, _filename(s))


_KEY_END = re.compile(r"-----END[ A-Z0-9]*-----|---- END SSH2|Private-MAC:")
_KEY_BODY = re.compile(r"""^[\s"'`,+]*[A-Za-z0-9+/=:\\-]{16,}[\s"'`,;+\\n]*$""")


def _key_block_end(text: str, start: int) -> int:
    """Where a private key whose BEGIN line ends at ``start`` ends: after its END marker, or
    after its last body line."""
    m = _KEY_END.search(text, start, start + 20_000)
    if m:
        end = m.end()
        while end < len(text) and text[end] == "-":
            end += 1
        return end
    end = text.find("\n", start)
    while 0 <= end < len(text):
        nxt = text.find("\n", end + 1)
        line = text[end + 1 : nxt if nxt >= 0 else len(text)]
        if not _KEY_BODY.match(line):
            break
        end = nxt if nxt >= 0 else len(text)
    end = len(text) if end < 0 else end
    while end > start and text[end - 1] in "\r\n\\\"',;+ \t":
        end -= 1
    return end


_STAND_IN = re.compile(
    r"(?i)^(?:[a-z]+(?:[ _.-][a-z]+)*|(?:your|my|a|an|the|some|example|sample|test|dummy|fake)[ _.-]?\w*|"
    r"x+|\*+|changeme\d*|secret\d?|password\d?|pass\d?|s3cr3t|p@ssw0rd|hunter2|letmein|"
    r"abc(?:123|def)?|123456\d*|qwerty\d*)$"
)


def _stand_in(value: str) -> bool:
    """A value that reads like words or a stock example (``'keyboard cat'``, ``'a_password'``,
    ``'changeme'``) rather than a real secret, which mixes letters with digits or cases."""
    value = value.strip("'\"` ")
    return bool(_STAND_IN.match(value)) and not (
        any(c.isdigit() for c in value) and any(c.isupper() for c in value)
    )


def _not_a_secret(secret: Any) -> bool:
    """Plug-in reports whose value cannot be the credential it is named after."""
    if secret.secret_type == "Telegram Bot Token":
        token = secret.value.partition(":")[2]
        # prose with a colon after a number: a bot token is random (mixed case and digits)
        classes = sum(
            (
                any(c.islower() for c in token),
                any(c.isupper() for c in token),
                any(c.isdigit() for c in token),
            )
        )
        return classes < 3
    return False


def leak_text(text: str, leak: Any) -> str:
    return text[leak.focus[0] : leak.focus[1]]


def _preferred_type(types: list[str]) -> str:
    """The most specific of several plug-in types reporting one secret."""
    return min(types, key=lambda t: (_PRIORITY.index(SECRET_RULES.get(t, "CA203")), t))


#: Longest line a snippet shows whole; longer lines show a window around the finding, with "…".
MAX_SNIPPET_LINE = 240
#: Most lines a snippet shows.
MAX_SNIPPET_LINES = 12


def _line_end(text: str, pos: int, limit: int) -> int:
    """Where the line at ``pos`` ends (before ``\r`` or ``\n``), at most ``limit``."""
    ends = [i for i in (text.find("\n", pos, limit), text.find("\r", pos, limit)) if i >= 0]
    return min(ends) if ends else limit


class _Masks:
    """The spans to hide in one text, each with its mask, found by position in O(log n)."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self.text = text
        merged: list[list[int]] = []
        for a, b in sorted(s for s in spans if s[0] < s[1]):
            if merged and a < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.spans = [(a, b) for a, b in merged]
        self.starts = [a for a, _ in self.spans]
        self.longest = max((b - a for a, b in self.spans), default=0)
        self._tokens: dict[tuple[int, int], str] = {}

    def token(self, span: tuple[int, int]) -> str:
        got = self._tokens.get(span)
        if got is None:
            got = self._tokens[span] = mask(self.text[span[0] : span[1]])
        return got

    def overlapping(self, a: int, b: int) -> list[tuple[int, int]]:
        lo = bisect_left(self.starts, a - self.longest)
        hi = bisect_left(self.starts, b)
        return [s for s in self.spans[lo:hi] if s[1] > a]

    def shown(self, a: int, b: int) -> str:
        """``text[a:b]`` with hidden spans masked (a span over line breaks: its mask per line)."""
        out, pos = [], a
        for s, e in self.overlapping(a, b):
            s2, e2 = max(s, a), min(e, b)
            out.append(self.text[pos:s2])
            token = self.token((s, e))
            out.append(re.sub(r"[^\r\n]+", token, self.text[s2:e2]))
            pos = e2
        out.append(self.text[pos:b])
        return "".join(out)

    def _cut(self, a: int, b: int, focus: int) -> tuple[int, int]:
        """A window of about :data:`MAX_SNIPPET_LINE` characters of line ``[a, b)`` around
        ``focus``, never through a secret or (within reason) through a token."""
        if b - a <= MAX_SNIPPET_LINE:
            return a, b
        center = focus if a <= focus <= b else a
        lo = max(a, center - MAX_SNIPPET_LINE // 3)
        hi = min(b, lo + MAX_SNIPPET_LINE)
        lo = max(a, min(lo, hi - MAX_SNIPPET_LINE))
        text = self.text
        for edge in range(40):  # back to a token boundary
            if lo <= a or not (text[lo - 1].isalnum() or text[lo - 1] in "_+/=-"):
                break
            lo -= 1
            del edge
        for edge in range(40):
            if hi >= b or not (text[hi].isalnum() or text[hi] in "_+/=-"):
                break
            hi += 1
            del edge
        for s, e in self.overlapping(lo, lo + 1):
            lo = max(a, min(lo, s))
        for s, e in self.overlapping(hi - 1, hi):
            hi = min(b, max(hi, e))
        return lo, hi

    def key(self, ctx: CodeContext, line: int, end_line: int, focus: tuple[int, int]) -> tuple:
        a = max(ctx.start, ctx.offset(ctx.first_line + line - 1, 1))
        nl = self.text.find("\n", a, a + MAX_SNIPPET_LINE + 1)
        if nl >= 0 or a + MAX_SNIPPET_LINE >= ctx.end:
            return (line, end_line)  # short lines: one snippet per line range
        return (line, end_line, focus[0] // (MAX_SNIPPET_LINE // 3))

    def snippet(
        self, ctx: CodeContext, line: int, end_line: int, focus: tuple[int, int], values: Masker
    ) -> str:
        """The flagged completion lines with every secret masked; long lines cut around the
        finding."""
        text = self.text
        pos = max(ctx.start, ctx.offset(ctx.first_line + line - 1, 1))
        lines = []
        for _ in range(min(end_line, line + MAX_SNIPPET_LINES - 1) - line + 1):
            if pos > ctx.end:
                break
            end = _line_end(text, pos, ctx.end)
            lo, hi = self._cut(pos, end, focus[0])
            shown = values(self.shown(lo, hi))
            lines.append(("…" if lo > pos else "") + shown + ("…" if hi < end else ""))
            if end >= ctx.end:
                break
            pos = end + (2 if text.startswith("\r\n", end) else 1)
        return "\n".join(lines).rstrip("\r\n")
