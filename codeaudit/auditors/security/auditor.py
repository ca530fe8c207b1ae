"""The security auditor: bandit for Python (in process), pattern rule packs for every language.

For each suggestion the auditor reads ``prompt + completion + suffix`` (the prompt's last
``prompt_lines`` lines and the suffix's first ``suffix_lines``, so fragments parse) and reports
findings on completion lines only.

* **Python** runs through bandit's own node visitor and tests, in this process, with every test
  bandit enables by default; each bandit result becomes a finding with bandit's test id
  (``B602``), its severity, confidence and CWE. bandit needs the text to parse: when it does not,
  the auditor retries with prompt + completion, then the completion alone, then the longest
  prefix that parses. Completion lines bandit never saw are checked by the Python pack's
  stand-in rules, and an error with code ``parse-error`` says which lines those were. The
  Python pack's other rules (what bandit does not look for) run on every suggestion.
* **Taint rules** (:mod:`codeaudit.auditors.security.taint`) follow data from the pack's sources to
  a sink over the same tree, in every language; their findings carry ``evidence.flow``.
* **Other languages** run the pattern rules of their pack (:mod:`codeaudit.auditors.security.rulepack`) over a
  tree-sitter parse (:mod:`codeaudit.treesitter`), so comments and string contents do not
  trigger code rules. A cheap keyword check gates every rule: code without any rule's keyword is
  not even parsed.

bandit's ``# nosec`` comments are *not* honoured: a model can write them as easily as the code
they hide. Use codeaudit's own ``codeaudit: ignore[B602]`` (reported and counted) instead.

>>> from codeaudit import Suggestion
>>> auditor = SecurityAuditor()
>>> (outcome,) = auditor.audit_batch([Suggestion(id="a", language="c",
...     completion='char buf[8];\\nstrcpy(buf, argv[1]);\\n')])
>>> [(f.rule_id, f.line, f.cwe) for f in outcome.findings]
[('CA4132', 2, 120)]
>>> outcome.findings[0].evidence["flow"]["source"]["kind"]   # a taint rule: argv reaches strcpy
'command line'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from codeaudit import languages as lang_mod
from codeaudit import treesitter
from codeaudit.auditors.base import Auditor, Outcome, excerpt
from codeaudit.auditors.security import rulepack
from codeaudit.auditors.security.bandit_adapter import BANDIT_LANGUAGES
from codeaudit.config import Config, check_options
from codeaudit.context import CodeContext, split_lines
from codeaudit.model import Confidence, Severity, Suggestion
from codeaudit.registry import Rule

_SECRET_CWES = {259, 321, 798}
_BANDIT_ID = re.compile(r"^B\d{3}$")
_QUOTED = re.compile(r"""(?P<q>["'`])(?:\\.|(?!(?P=q)).){2,}?(?P=q)""")


class SecurityAuditor(Auditor):
    name = "security"
    # A broken pack is a bug or a configuration error, not one bad suggestion.
    fatal_errors = (rulepack.RulePackError,)
    options_spec = {
        # Lines of the prompt (before the cursor) and of the suffix read as context.
        "prompt_lines": 200,
        "suffix_lines": 60,
        # A team's own rule packs (YAML files in the shipped packs' format).
        "rule_packs": [],
        # Report bandit's informational results too (see INFORMATIONAL_BANDIT_TESTS).
        "bandit_informational": False,
    }

    def __init__(self, config: Config | None = None) -> None:
        # Unlike the base class, rules are not collected here: bandit and each language's pack
        # load on first use, so a batch without Python never imports bandit.
        self.config = config or Config()
        self.options = check_options(
            self.name,
            self.config.auditor_options(self.name),
            self.options_spec,
            source=self.config.source,
        )
        self._extra_packs = tuple(rulepack.load_pack_file(p) for p in self.options["rule_packs"])
        self._bandit: Any = None  # a pybandit.Bandit, created for the first Python suggestion

    @classmethod
    def rules(cls) -> Sequence[Rule]:
        from codeaudit.auditors.security.bandit_adapter import bandit_rules

        return [*bandit_rules(), *rulepack.all_rules()]

    @functools.cached_property
    def _rules(self) -> dict[str, Rule]:  # what the base class builds eagerly, built on demand
        return {
            r.id: r for r in [*self.rules(), *(r.rule for p in self._extra_packs for r in p.rules)]
        }

    def describe(self) -> dict[str, Any]:
        from importlib.metadata import version

        out: dict[str, Any] = {"bandit": version("bandit"), "tree_sitter": version("tree-sitter")}
        if self._extra_packs:
            out["rule_packs"] = [p.source for p in self._extra_packs]
        return out

    # -- one suggestion ------------------------------------------------------------------------
    def audit_one(self, s: Suggestion) -> Outcome:
        """Audit one suggestion (``audit_batch`` calls this for each, isolating failures)."""
        language = lang_mod.normalize(s.language) or s.language
        outcome = Outcome()
        if language is None:
            return outcome
        ctx = self._context(s, language)
        rules = rulepack.rules_for(language, self._extra_packs)
        taint_rules = [r for r in rules if r.is_taint]
        self._proven_clean: dict[int, list[tuple[int, int]]] = {}
        if taint_rules:
            rules = tuple(r for r in rules if not r.is_taint)
            self._run_taint(s, language, ctx, taint_rules, outcome)
        if language in BANDIT_LANGUAGES:
            uncovered = self._run_bandit(s, ctx, outcome)
            always = [r for r in rules if not r.stands_in_for]
            stand_ins = [r for r in rules if r.stands_in_for]
            self._run_pack(s, language, ctx, always, outcome)
            if uncovered:
                self._run_pack(s, language, ctx, stand_ins, outcome, only_lines=uncovered)
        elif rules:
            self._run_pack(s, language, ctx, rules, outcome)
        if outcome.findings:
            from codeaudit.auditors.security.grading import grade

            outcome.findings[:] = grade(
                outcome.findings,
                split_lines(ctx.text),
                ctx.first_line,
                language,
                repository=self._repository(s),
            )
        return outcome

    def _repository(self, s: Suggestion) -> bool:
        """A file of a repository (it has a path, and the path policy is on): its code is read
        as the repository's own, not as a fragment of unknown origin (see :mod:`.grading`)."""
        return (
            bool(s.path) and self.config.auditor_options("paths").get("enabled", True) is not False
        )

    def _context(self, s: Suggestion, language: str) -> CodeContext:
        prompt = _tail_lines(s.prompt, self.options["prompt_lines"])
        if language == "python" and len(prompt) < len(s.prompt):
            prompt = _python_statement_start(prompt)
        suffix = _head_lines(s.suffix, self.options["suffix_lines"])
        return CodeContext.build(prompt=prompt, completion=s.completion, suffix=suffix)

    # -- taint rules ---------------------------------------------------------------------------
    def _parsed(self, language: str, ctx: CodeContext) -> Any:
        cached = getattr(self, "_parse_cache", None)
        if cached is not None and cached[0] is ctx and cached[1] == language:
            return cached[2]
        parsed = treesitter.parse(language, ctx.text)
        self._parse_cache = (ctx, language, parsed)
        return parsed

    def _run_taint(
        self,
        s: Suggestion,
        language: str,
        ctx: CodeContext,
        rules: Sequence[rulepack.PackRule],
        outcome: Outcome,
    ) -> None:
        from codeaudit.auditors.security import taint

        completion = ctx.completion
        gated = [r for r in rules if r.gate(completion)]
        spec = rulepack.taint_for(language, self._extra_packs) if gated else None
        if spec is None or (spec.requires and not any(w in ctx.text for w in spec.requires)):
            return
        parsed = self._parsed(language, ctx)
        analysis = taint.analyse(parsed, spec, [r.sink for r in gated])
        if analysis is None:
            return
        flows = analysis.flows.values()
        first = ctx.first_line
        lines = split_lines(completion)  # once: a snippet per finding must not re-split the text
        # sinks whose arguments are constants, and strings built only from constants, are not
        # injections of the weaknesses tracked here: pattern rules of those CWEs matching inside
        # them are not reported (character spans of the analysed text)
        for cwe, lo, hi in analysis.proven_clean:
            self._proven_clean.setdefault(cwe, []).append((parsed.char(lo), parsed.char(hi)))
        cwes = {r.rule.cwe for r in rules}
        for lo, hi in analysis.const_spans:
            for cwe in cwes:
                self._proven_clean.setdefault(cwe, []).append((parsed.char(lo), parsed.char(hi)))
        seen = {(f.line, f.cwe) for f in outcome.findings}
        # real sources first, then parameters of unknown origin
        for flow in sorted(flows, key=lambda f: (f.taint.param, f.sink.line)):
            start, end = parsed.span(flow.node)
            where = ctx.completion_span(start, end)
            if where is None:
                continue
            line, column, end_line, end_column = where
            rule = flow.rule
            if (line, rule.rule.cwe) in seen:
                continue
            seen.add((line, rule.rule.cwe))
            t = flow.taint

            def at(step: taint.Step) -> dict[str, Any]:
                out: dict[str, Any] = {
                    "line": step.line - first + 1,
                    "text": _shorten(step.text, 120),
                }
                if ctx.locate_line(step.line) is None:
                    out["in"] = "prompt" if step.line < first else "suffix"
                    # context lines are not audited for secrets: their string contents stay out
                    out["text"] = _mask_strings(out["text"])
                return out

            flow_ev = {
                "source": {**at(t.source), "kind": t.label},
                "steps": [at(st) for st in t.steps if st.line != flow.sink.line],
                "sink": at(flow.sink),
            }
            severity = Severity.LOW if t.param else rule.rule.severity
            confidence = Confidence.LOW if t.param else rule.rule.confidence
            message = rule.message
            if t.param:
                message = (
                    f"{message} (the value comes from parameter {t.source.text.split()[-1]!r},"
                    " whose origin this code does not show)"
                )
            outcome.findings.append(
                self.finding(
                    s,
                    rule.rule,
                    line=line,
                    end_line=end_line,
                    column=column,
                    end_column=end_column,
                    message=message,
                    severity=severity,
                    confidence=confidence,
                    snippet=_lines_excerpt(lines, line, end_line),
                    evidence={
                        "match": _shorten(ctx.text[start:end]),
                        "source": t.label,
                        "flow": flow_ev,
                    },
                )
            )

    # -- pattern rules -------------------------------------------------------------------------
    def _run_pack(
        self,
        s: Suggestion,
        language: str,
        ctx: CodeContext,
        rules: Sequence[rulepack.PackRule],
        outcome: Outcome,
        *,
        only_lines: set[int] | None = None,
    ) -> None:
        completion = ctx.completion
        gated = [r for r in rules if r.gate(completion)]
        if not gated:
            return
        parsed = self._parsed(language, ctx)
        lines: list[str] | None = None
        seen: set[tuple[str, int]] = {(f.rule_id, f.line) for f in outcome.findings}
        taken_lines = {(f.line, f.cwe) for f in outcome.findings}
        for rule in gated:
            for start, end in rule.spans(parsed):
                where = ctx.completion_span(start, end)
                if where is None:
                    continue
                line, column, end_line, end_column = where
                if only_lines is not None and line not in only_lines:
                    continue
                if (rule.id, line) in seen or (line, rule.rule.cwe) in taken_lines:
                    continue  # already reported on this line (bandit or another rule, same CWE)
                if any(lo <= start < hi for lo, hi in self._proven_clean.get(rule.rule.cwe, ())):
                    continue  # the taint analysis knows every value reaching this sink
                seen.add((rule.id, line))
                taken_lines.add((line, rule.rule.cwe))
                match = ctx.text[start:end]
                if lines is None:
                    lines = split_lines(completion)
                snippet = _lines_excerpt(lines, line, end_line)
                if rule.redact or rule.rule.cwe in _SECRET_CWES:
                    match = redact(match)
                    snippet = redact(snippet)
                outcome.findings.append(
                    self.finding(
                        s,
                        rule.rule,
                        line=line,
                        end_line=end_line,
                        column=column,
                        end_column=end_column,
                        message=rule.message,
                        snippet=snippet,
                        evidence={"match": _shorten(match)},
                    )
                )

    # -- bandit --------------------------------------------------------------------------------
    def _run_bandit(self, s: Suggestion, ctx: CodeContext, outcome: Outcome) -> set[int]:
        """Run bandit on the best parseable text; return the completion lines it did not see."""
        from codeaudit.auditors.security import bandit_adapter as pybandit

        if self._bandit is None:
            self._bandit = pybandit.Bandit()
        completion_lines = split_lines(ctx.completion)
        everything = set(range(1, max(1, len(completion_lines)) + 1))
        attempt = pybandit.parseable(ctx)
        if isinstance(attempt, str):
            outcome.errors.append(
                self.error(
                    "parse-error",
                    f"bandit could not parse the completion ({attempt}); pattern rules checked it instead",
                    line=1,
                )
            )
            return everything
        run_ctx = attempt.ctx
        try:
            issues, problems = self._bandit.run(run_ctx.text, attempt.tree)
        except RecursionError:
            outcome.errors.append(
                self.error(
                    "too-complex",
                    "code too deeply nested for bandit; pattern rules checked it instead",
                )
            )
            return everything
        for problem in problems:
            outcome.errors.append(self.error("bandit-error", problem))
        seen: set[tuple[str, int]] = set()
        # a taint finding of the same weakness on the line already says it, with its flow
        flows = {(f.line, f.cwe) for f in outcome.findings if "flow" in f.evidence}
        withheld = 0
        for issue in issues:
            line = pybandit.issue_line(run_ctx, issue)
            if line is None or (issue.test_id, line) in seen:
                continue
            if (line, issue.cwe.id or None) in flows:
                continue
            seen.add((issue.test_id, line))
            if not self.options["bandit_informational"] and _informational(
                issue, completion_lines[line - 1]
            ):
                withheld += 1
                continue
            where = run_ctx.to_completion(issue.lineno, issue.col_offset + 1)
            column = where[1] if where is not None and where[0] == line else 1
            rule = pybandit.finding_rule(issue.test_id)
            cwe = issue.cwe.id or None
            snippet = excerpt(ctx.completion, line)
            if cwe in _SECRET_CWES:
                snippet = redact(snippet)
            outcome.findings.append(
                self.finding(
                    s,
                    rule,
                    line=line,
                    column=column,
                    message=issue.text,
                    severity=Severity.parse(issue.severity),
                    confidence=Confidence.parse(issue.confidence),
                    cwe=cwe,
                    snippet=snippet,
                    evidence={"test": rule.name, "match": _shorten(snippet.strip())},
                )
            )
        if withheld:
            outcome.data["bandit_informational_withheld"] = withheld
        uncovered = everything - attempt.covered - attempt.text_lines
        if uncovered:
            lo, hi = min(uncovered), max(uncovered)
            span = f"line {lo}" if lo == hi else f"lines {lo}-{hi}"
            outcome.errors.append(
                self.error(
                    "parse-error",
                    f"bandit could not parse completion {span} ({attempt.error}); pattern rules checked them instead",
                    line=lo,
                )
            )
        return uncovered


#: bandit results that describe ordinary code rather than a weakness: every ``assert``, importing
#: subprocess/pickle/XML modules (the dangerous *calls* have their own tests), ``except: pass``,
#: and subprocess calls without a shell. On clean library code they are most of bandit's output
#: (on 30-line windows of the standard library: 8 % of windows flagged with them, 2.6 % without).
#: They still run; ``bandit_informational = true`` reports them. An ``assert`` that guards an
#: access decision is always reported: ``python -O`` removes it (CWE-703).
INFORMATIONAL_BANDIT_TESTS = frozenset(
    {
        "B101",
        "B110",
        "B112",
        "B403",
        "B404",
        "B405",
        "B406",
        "B407",
        "B408",
        "B409",
        "B410",
        "B603",
        "B606",
        "B607",
    }
)
# Words of an access decision, as parts of identifiers (``is_admin``, ``hasPermission``, ``user.role``).
_SECURITY_ASSERT = re.compile(
    r"(?<![a-z])(?:auth(?:enticated|orized|orised|ori[sz]e)?|admin|staff|superuser|permissions?|perms?|roles?|"
    r"access|allowed|tokens?|passw(?:or)?d|secret|signature|verif(?:y|ied|ication)|csrf|owner|logged_?in|"
    r"privileges?|acl|sudo)(?![a-z])"
)


def _informational(issue: Any, line_text: str) -> bool:
    if issue.test_id not in INFORMATIONAL_BANDIT_TESTS:
        return False
    if issue.test_id == "B101":
        return _SECURITY_ASSERT.search(_words(line_text)) is None
    return issue.severity.upper() == "LOW"


def _words(text: str) -> str:
    """``hasPermission`` -> ``has_permission``: camel-case humps become word boundaries."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def is_bandit_rule(rule: Rule) -> bool:
    """Whether ``rule`` is one of bandit's own tests (documented by bandit, not by codeaudit)."""
    return rule.auditor == "security" and _BANDIT_ID.match(rule.id) is not None


# --- small helpers ----------------------------------------------------------------------------


def redact(text: str) -> str:
    """Mask the contents of quoted strings (hard-coded secrets never leave the auditor).

    >>> redact('password = "hunter22"')
    'password = "****"'
    """
    return _QUOTED.sub(lambda m: f"{m.group('q')}****{m.group('q')}", text)


_STRINGS = re.compile(r""""(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`[^`\n]*`""")


def _mask_strings(text: str) -> str:
    """Every string literal's contents masked (lines of the prompt or suffix in a flow).

    >>> _mask_strings('u = get("u") + "s3cr3t"')
    'u = get("****") + "****"'
    """
    return _STRINGS.sub(lambda m: m.group(0)[0] + "****" + m.group(0)[-1], text)


def _lines_excerpt(lines: list[str], line: int, end_line: int) -> str:
    """What :func:`excerpt` gives, from lines split once."""
    out = "\n".join(lines[line - 1 : min(end_line, line + 11)])
    return out if len(out) <= 2000 else out[:1999] + "…"


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail_lines(text: str, n: int) -> str:
    return "".join(split_lines(text, keepends=True)[-n:]) if n > 0 else ""


def _head_lines(text: str, n: int) -> str:
    return "".join(split_lines(text, keepends=True)[:n]) if n > 0 else ""


def _python_statement_start(prompt: str) -> str:
    """Drop leading lines of a cut prompt up to the first line that starts at column 0, so the
    kept context does not open in the middle of a statement or a string."""
    if not prompt or prompt[0] not in " \t)]}":
        return prompt
    m = re.search(r"^(?=[A-Za-z_@#])", prompt, re.MULTILINE)
    return prompt[m.start() :] if m else prompt
