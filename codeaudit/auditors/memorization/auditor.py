"""The memorization auditor: is a suggestion a near-copy of corpus code, and of which file,
lines and licence?

Each completion (lexed with the end of its prompt as context, so a completion that starts inside
a docstring still lexes right) is searched in every configured corpus index: LSH candidates, then
exact verification of aligned token runs (:mod:`codeaudit.corpus.match`). A verified copy becomes
one finding on the copied lines of the completion, with ``evidence.source`` = ``{repo, path,
start_line, end_line, license}``, ``evidence.similarity`` and ``evidence.matched_chars``.

Configuration (``[tool.codeaudit.memorization]``; ``--corpus INDEX`` sets ``corpora``)::

    corpora = ["stdlib", "/data/indexes/internal.idx"]   # "stdlib": the default corpus
    min_chars = 150          # report copies of at least this many characters of code ...
    min_lines = 6            # ... or of at least 6 code lines and 20 tokens
    min_tokens = 20
    medium_chars = 300       # severity tiers by copied characters (see below)
    high_chars = 1000

The option names and defaults are :class:`codeaudit.corpus.thresholds.Thresholds`' fields.

Licence and notice texts are not copies: a suggestion whose ``path`` is a licence or notice file
is not searched, and a match that copies only licence blocks (and less than the reporting
thresholds besides) is dropped; a copy whose licence header came along is reported whole.

Severity: ``low`` below ``medium_chars``, ``medium`` below ``high_chars``, ``high`` above, one
step higher (up to ``critical``) when the source's licence is copyleft or unknown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from codeaudit.auditors.base import Auditor, Outcome
from codeaudit.corpus.thresholds import Thresholds
from codeaudit.errors import ConfigError
from codeaudit.model import Severity, Suggestion
from codeaudit.registry import Rule, load_rule_data

if TYPE_CHECKING:  # pragma: no cover
    from codeaudit.corpus.index import CorpusIndex
    from codeaudit.corpus.match import Match

#: Characters of the prompt lexed before the completion as context (whole lines only).
CONTEXT_CHARS = 2000

#: The rules, their documentation and examples: data, in rules.yaml beside this module.
RULE_DATA = load_rule_data("codeaudit.auditors.memorization")
RULES = RULE_DATA.rules


def _severity(chars: int, license_expression: str, medium_chars: int, high_chars: int) -> Severity:
    from codeaudit.corpus.licenses import is_copyleft, is_unknown

    level = (
        Severity.LOW
        if chars < medium_chars
        else Severity.MEDIUM
        if chars < high_chars
        else Severity.HIGH
    )
    if is_copyleft(license_expression) or is_unknown(license_expression):
        level = Severity(min(level + 1, Severity.CRITICAL))
    return level


class MemorizationAuditor(Auditor):
    """Finds near-copies of corpus code (see the module docstring)."""

    name = "memorization"
    #: ``corpora``: index folders to search ("stdlib" = the default corpus, also used when empty).
    options_spec = {"corpora": [], **Thresholds.option_defaults()}

    def __init__(self, config=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config)
        try:
            self.thresholds = Thresholds.from_options(self.options)
        except ValueError as exc:
            where = f"{self.config.source}: " if self.config.source else ""
            raise ConfigError(f"{where}[tool.codeaudit.memorization]: {exc}") from None
        names = [str(c) for c in self.options["corpora"]] or ["stdlib"]
        self.indexes: list[CorpusIndex] = [self._open(n) for n in dict.fromkeys(names)]

    @staticmethod
    def _open(name: str) -> CorpusIndex:
        from codeaudit.corpus.default import DEFAULT_NAME, open_default_index
        from codeaudit.corpus.index import CorpusIndex

        if name == DEFAULT_NAME:
            return open_default_index()
        return CorpusIndex.open(name)

    @classmethod
    def rules(cls) -> Sequence[Rule]:
        return RULES

    def describe(self) -> dict[str, Any]:
        return {
            "corpora": [idx.describe() for idx in self.indexes],
            "thresholds": {
                k: self.options[k]
                for k in (
                    "min_chars",
                    "min_lines",
                    "min_tokens",
                    "verbatim_similarity",
                    "rename_consistency",
                    "renamed_min_distinct",
                )
            },
        }

    def summarize(self, results: Sequence[Any]) -> dict[str, Any] | None:
        copied = 0
        licenses: dict[str, int] = {}
        for r in results:
            mine = [f for f in r.findings if f.auditor == self.name and f.active]
            copied += bool(mine)
            for f in mine:
                lic = f.evidence["source"]["license"]
                licenses[lic] = licenses.get(lic, 0) + 1
        return {"suggestions_with_copies": copied, "licenses": dict(sorted(licenses.items()))}

    def audit_one(self, s: Suggestion) -> Outcome:
        """Search one suggestion's completion in every corpus."""
        from codeaudit.context import CodeContext
        from codeaudit.corpus.licenses import is_notice_file
        from codeaudit.corpus.match import find_matches, views_for
        from codeaudit.corpus.tokens import normalize_newlines

        if s.path and is_notice_file(s.path):
            return Outcome(findings=[])  # a licence or notice file is not code to copy
        prompt = normalize_newlines(s.prompt)
        if len(prompt) > CONTEXT_CHARS:
            cut = prompt.find("\n", len(prompt) - CONTEXT_CHARS)
            prompt = prompt[cut + 1 :] if cut >= 0 else ""
        completion = normalize_newlines(s.completion)
        ctx = CodeContext.build(prompt=prompt, completion=completion)
        views = views_for(self.indexes, ctx.text, s.language, start=ctx.start)
        matches = find_matches(self.indexes, views, ctx.text, self.thresholds)
        if matches:
            matches = self._beyond_licenses(ctx.text, matches)
        return Outcome(findings=[self._finding(s, ctx, m) for m in matches])

    def _beyond_licenses(self, text: str, matches: list[Match]) -> list[Match]:
        """The matches that copy more than licence text: a match whose copied text, without the
        licence blocks in it (:func:`~codeaudit.corpus.licenses.license_blocks`), is below the
        reporting thresholds is a licence, not code; a larger one is a copy whose licence header
        came along, reported whole (its source names the licence)."""
        from codeaudit.corpus.licenses import license_blocks

        blocks = license_blocks(text)
        if not blocks:
            return matches
        t = self.thresholds
        kept = []
        for m in matches:
            parts, at = [], m.start_offset
            for a, b in blocks:
                if b <= at or a >= m.end_offset:
                    continue
                parts.append(text[at:a] if a > at else "")
                at = max(at, b)
            if not parts:
                kept.append(m)
                continue
            parts.append(text[at : m.end_offset])
            rest = "\n".join(parts)
            lines = [line for line in rest.splitlines() if line.strip()]
            chars = sum(len(line.strip()) for line in lines)
            if chars >= t.min_chars or len(lines) >= t.min_lines:
                kept.append(m)
        return kept

    def _finding(self, s: Suggestion, ctx: Any, m: Match) -> Any:
        line, column = ctx.locate(max(m.start_offset, ctx.start))
        end_line, end_column = ctx.locate(min(m.end_offset, ctx.end) - 1)
        rule = "CA301" if m.kind == "verbatim" else "CA302"
        severity = _severity(
            m.chars, m.license, self.thresholds.medium_chars, self.thresholds.high_chars
        )
        source = m.source()
        where = f"{m.repo}/{m.path}:{m.source_start_line}-{m.source_end_line}"
        verb = "copied from" if m.kind == "verbatim" else "copied with renamed identifiers from"
        message = (
            f"{m.lines} lines ({m.chars} characters of code) {verb} {where} (licence {m.license})"
        )
        # Identity: the source and what was copied, never where it sits in the suggestion.
        copied = ctx.text[m.start_offset : m.end_offset]
        identity = (
            f"{m.corpus}\x00{m.repo}\x00{m.path}\x00"
            + hashlib.sha256(" ".join(copied.split()).encode("utf-8", "surrogatepass")).hexdigest()
        )
        return self.finding(
            s,
            rule,
            line=line,
            end_line=end_line,
            column=column,
            end_column=end_column,
            message=message,
            severity=severity,
            identity=identity,
            evidence={
                "source": source,
                "similarity": m.similarity,
                "matched_chars": m.chars,
                "matched_tokens": m.tokens,
                "matched_lines": m.lines,
                "renaming_consistency": m.consistency,
                "corpus": m.corpus,
            },
        )
