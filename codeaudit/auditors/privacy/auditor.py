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
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from codeaudit import languages
from codeaudit.auditors.base import Auditor, Outcome
from codeaudit.context import CodeContext, line_starts
from codeaudit.model import Confidence, Finding, Severity, Suggestion
from codeaudit.redact import Masker, mask, redact_spans, redact_values, secret_hash
from codeaudit.registry import Rule

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
        leaks = find_leaks(text, s.language)
        raw = self._secrets(s, text) if self.options["secrets"] else []

        # Where each secret sits: (start, end) in the text, or the whole line when a transformer
        # (INI/YAML parsing) reported a value that is not written verbatim on its line.
        located: dict[tuple[int, int], list[Any]] = {}
        starts = line_starts(text) if raw else []
        extra_masks: list[tuple[int, int]] = []
        for secret in raw:
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
            located.setdefault(span, []).append(secret)
            if secret.secret_type == "Private Key":
                extra_masks.append((span[0], _key_block_end(text, span[1])))
        masks = [span for span in located] + extra_masks + [m for leak in leaks for m in leak.mask]
        values = Masker.of_values(
            [sec.value for group in located.values() for sec in group]
            + [text[a:b] for a, b in located]
        )

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
            line, col, end_line, end_col = where
            snippet = snippets.get((line, end_line))
            if snippet is None:
                snippet = snippets[line, end_line] = self._snippet(
                    ctx, line, end_line, masks, values
                )
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
            if rule.id == "CA102":
                identity = "\0".join((identity, secret_hash(leak_text(text, leak))))
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
            evidence = {
                "secret_type": types[0] if len(types) == 1 else _preferred_type(types),
                "secret_types": types,
                "secret_hash": hashed,
                "masked": mask(value),
            }
            label = evidence["secret_type"]
            add(
                rule_id, span, evidence=evidence, message=f"{label}: {mask(value)}", identity=hashed
            )
        # Plug-in reports left out on purpose stay visible in the report (results[].auditors.privacy).
        return Outcome(findings=findings, data={"excluded_reports": excluded} if excluded else {})

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

    @staticmethod
    def _snippet(
        ctx: CodeContext, line: int, end_line: int, masks: list[tuple[int, int]], values: Masker
    ) -> str:
        """The flagged completion lines with every secret masked."""
        lo = max(ctx.start, ctx.offset(ctx.first_line + line - 1, 1))
        last = ctx.first_line + min(end_line, line + 11) - 1  # text line of the last snippet line
        hi = ctx.offset(last, 1)
        while hi < ctx.end and ctx.text[hi] not in "\r\n":
            hi += 1
        hi = min(hi, ctx.end)
        spans = [(max(a, lo) - lo, min(b, hi) - lo) for a, b in masks if a < hi and lo < b]
        snippet = redact_spans(ctx.text[lo:hi], spans).rstrip("\r\n")
        snippet = redact_values(snippet, values)
        return snippet if len(snippet) <= 2000 else snippet[:1999] + "…"


_KEY_END = re.compile(r"-----END[ A-Z0-9]*-----|---- END SSH2|Private-MAC:")
_KEY_BODY = re.compile(r"""^[\s"'`,+]*[A-Za-z0-9+/=:\\-]{16,}[\s"'`,;+\\n]*$""")


def _key_block_end(text: str, start: int) -> int:
    """Where the body of a private key that begins at ``start`` ends (its END line, or its last body line)."""
    m = _KEY_END.search(text, start, start + 20_000)
    if m:
        nl = text.find("\n", m.end())
        return len(text) if nl < 0 else nl
    end = text.find("\n", start)
    while 0 <= end < len(text):
        nxt = text.find("\n", end + 1)
        line = text[end + 1 : nxt if nxt >= 0 else len(text)]
        if not _KEY_BODY.match(line):
            break
        end = nxt if nxt >= 0 else len(text)
    return len(text) if end < 0 else end


def leak_text(text: str, leak: Any) -> str:
    return text[leak.focus[0] : leak.focus[1]]


def _preferred_type(types: list[str]) -> str:
    """The most specific of several plug-in types reporting one secret."""
    return min(types, key=lambda t: (_PRIORITY.index(SECRET_RULES.get(t, "CA203")), t))
