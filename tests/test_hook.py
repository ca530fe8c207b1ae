"""The mechanics of auditing added lines, on real temporary git repositories.

A small auditor written here (a plug-in like any team's own) flags marker words, so each test
controls exactly where findings are; the end-to-end tests with the real auditors and the real
pre-commit framework are in ``test_hook_precommit.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.git import commit, git, stage, write

from codeaudit import Auditor, Confidence, Outcome, Rule, Severity
from codeaudit.change.baseline import Baseline, Entry
from codeaudit.change.hook import (
    ChangedFile,
    HookSettings,
    audit_diff,
    audit_files,
    audit_staged,
    clusters,
)
from codeaudit.config import Config, config_from_mapping
from codeaudit.context import CodeContext
from codeaudit.errors import ConfigError
from codeaudit.model import Verdict


class WordAuditor(Auditor):
    """``LEAKME`` (high) and ``RISKY`` (medium) on their line; ``SPANSTART`` … ``SPANEND`` as one
    multi-line finding. It reads prompt + completion + suffix and reports completion lines only,
    and records how much context each suggestion carried."""

    name = "privacy"
    seen: list

    def __init__(self, config=None):
        super().__init__(config)
        self.seen = []

    @classmethod
    def rules(cls):
        def rule(rid, name, sev):
            return Rule(
                id=rid,
                name=name,
                auditor="privacy",
                title=name,
                severity=sev,
                confidence=Confidence.HIGH,
                cwe=200,
                description="d",
                fix="f",
            )

        return [
            rule("CA990", "leak-word", Severity.HIGH),
            rule("CA991", "risky-word", Severity.MEDIUM),
            rule("CA992", "span-word", Severity.HIGH),
        ]

    def audit_batch(self, batch, progress=None):
        out = []
        for s in batch:
            self.seen.append(s)
            ctx = CodeContext.of(s)
            o = Outcome()
            for word, rid in (("LEAKME", "CA990"), ("RISKY", "CA991")):
                start = 0
                while (i := ctx.text.find(word, start)) >= 0:
                    start = i + 1
                    where = ctx.locate(i)
                    if where:
                        o.findings.append(self.finding(s, rid, line=where[0], column=where[1]))
            i = ctx.text.find("SPANSTART")
            j = ctx.text.find("SPANEND")
            if 0 <= i < j:
                span = ctx.completion_span(i, j + 1)
                if span:
                    o.findings.append(
                        self.finding(s, "CA992", line=span[0], end_line=span[2], column=span[1])
                    )
            out.append(o)
        return out


@pytest.fixture
def repo(git_repo, monkeypatch):
    monkeypatch.chdir(git_repo)
    return git_repo


CFG = Config()


def staged(repo, **kw):
    kw.setdefault("config", CFG)
    kw.setdefault("auditors", [WordAuditor()])
    return audit_staged(repo, **kw)


def found(result):
    return [(r.suggestion.path, f.line, f.rule_id) for r, f in result.findings()]


def test_settings_defaults_and_validation():
    s = HookSettings.from_config(Config(fail_on=Severity.HIGH))
    assert (s.fail_on, s.ai_fail_on, s.baseline, s.markers) == (
        Severity.HIGH,
        Severity.MEDIUM,
        None,
        True,
    )
    assert s.auditors == ("privacy", "security", "memorization")
    cfg = config_from_mapping(
        {"hook": {"fail_on": "critical", "ai_fail_on": "low", "auditors": ["privacy"]}}
    )
    s = HookSettings.from_config(cfg)
    assert (s.fail_on, s.ai_fail_on, s.auditors) == (Severity.CRITICAL, Severity.LOW, ("privacy",))
    with pytest.raises(ConfigError, match=r"\[tool.codeaudit.hook\]: unknown key 'failon'"):
        HookSettings.from_config(config_from_mapping({"hook": {"failon": "high"}}))
    with pytest.raises(ConfigError, match=r"hook\]\.ai_fail_on: 'severe' is not a severity"):
        HookSettings.from_config(config_from_mapping({"hook": {"ai_fail_on": "severe"}}))
    with pytest.raises(ConfigError, match="unknown auditor 'lint'"):
        HookSettings.from_config(config_from_mapping({"hook": {"auditors": ["lint"]}}))
    with pytest.raises(ConfigError, match=r"\[tool.codeaudit\]: unknown key 'hooks'"):
        config_from_mapping({"hooks": {}})


def test_clusters_join_close_lines():
    assert clusters({1, 2, 10, 50, 81, 200}, gap=30) == [(1, 10), (50, 81), (200, 200)]


def test_only_added_lines_are_reported_and_unchanged_never_fail(repo):
    body = ["a = 1", "old = 'LEAKME'", *[f"v{i} = {i}" for i in range(10)], "tail = 'LEAKME'"]
    write(repo, "app.py", "\n".join(body) + "\n")
    commit(repo)
    body.insert(5, "new = 'LEAKME'")  # line 6, between two unchanged findings (one cluster)
    body.insert(8, "fine = 2")
    write(repo, "app.py", "\n".join(body) + "\n")
    stage(repo)
    result = staged(repo)
    assert found(result) == [("app.py", 6, "CA990")]
    assert result.failed and result.verdict is Verdict.FAIL
    # One suggestion: the cluster of added lines (with the unchanged lines between them).
    (s,) = result_auditor_seen(result, repo)
    assert s.completion.splitlines() == body[5:9]

    # Staging only a harmless edit next to old findings never fails.
    git(repo, "reset", "-q", "--hard")
    body = (repo / "app.py").read_text().splitlines()
    body.insert(2, "harmless = 0")
    write(repo, "app.py", "\n".join(body) + "\n")
    stage(repo)
    result = staged(repo)
    assert found(result) == [] and not result.failed and result.verdict is Verdict.PASS


def result_auditor_seen(result, repo):
    auditor = WordAuditor()
    audit_staged(repo, config=CFG, auditors=[auditor])
    return auditor.seen


def test_python_context_is_imports_enclosing_headers_and_the_statement(repo):
    lines = [
        "import os",
        "from shlex import (",
        "    quote,",
        ")",
        "",
        "X = 1",
        "",
        "class Runner:",
        "    def helper(self):",
        "        return 1",
        "",
        "    def run(self, cmd):",
        "        try:",
        "            if cmd:",
        "                out = os.system(",
        "                    quote(cmd))",
        "        except OSError:",
        "            pass",
        "",
        "Y = 2",
    ]
    write(repo, "r.py", "\n".join(lines) + "\n")
    commit(repo)
    lines[15] = "                    quote(cmd), LEAKME)"
    write(repo, "r.py", "\n".join(lines) + "\n")
    stage(repo)
    auditor = WordAuditor()
    result = audit_staged(repo, config=CFG, auditors=[auditor])
    assert found(result) == [("r.py", 16, "CA990")]
    (s,) = auditor.seen
    assert s.prompt.splitlines() == lines[0:4] + [lines[7]] + lines[11:15]
    assert s.suffix.splitlines() == lines[16:18]
    import ast

    ast.parse(s.prompt + s.completion + s.suffix)  # the fragment parses in its context


def test_multi_line_finding_counts_when_it_touches_an_added_line(repo):
    write(repo, "s.py", "call(\n    SPANSTART,\n    SPANEND)\nother = 1\n")
    commit(repo)
    write(repo, "s.py", "call(\n    SPANSTART,\n    extra,\n    SPANEND)\nother = 1\n")
    stage(repo)
    # Reported on its part inside the added lines (auditors report completion lines only).
    assert found(staged(repo)) == [("s.py", 3, "CA992")]


def test_next_line_suppression_above_the_edit_and_unused_suppressions(repo):
    write(repo, "s.py", "# codeaudit: ignore-next-line[CA990]\nkey = 'x'\nz = 1\n")
    commit(repo)
    write(
        repo,
        "s.py",
        "# codeaudit: ignore-next-line[CA990]\nkey = 'LEAKME'\nz = 1\nq = 2  # codeaudit: ignore[CA991]\n",
    )
    stage(repo)
    result = staged(repo)
    (r,) = result.report.results
    assert [(f.line, f.suppressed) for f in r.findings] == [(2, "inline")]
    assert not result.failed
    assert [(p, s.line) for p, s in result.unused_suppressions] == [("s.py", 4)]


def test_crlf_lone_cr_and_non_utf8_files_keep_git_line_numbers(repo):
    write(repo, "base.txt", "b\n")
    commit(repo)
    write(repo, "win.py", b"a = 1\r\nb = 2\r\nc = 'LEAKME'\r\n")
    write(repo, "mac.txt", b"one\rtwo\nthree LEAKME\n")  # a lone CR is not a line break for git
    write(repo, "latin.py", "name = 'Jos\xe9'\nx = 'LEAKME'\n".encode("latin-1"))
    stage(repo)
    result = staged(repo)
    assert sorted(found(result)) == [
        ("latin.py", 2, "CA990"),
        ("mac.txt", 2, "CA990"),
        ("win.py", 3, "CA990"),
    ]
    assert any("latin.py" in str(i) and "UTF-8" in str(i) for i in result.report.input_errors)


def test_binary_deleted_and_submodule_files_are_skipped(repo):
    write(repo, "gone.py", "LEAKME = 1\n")
    commit(repo)
    (repo / "gone.py").unlink()
    write(repo, "blob.bin", b"LEAKME\x00\x01\x02")
    stage(repo)
    result = staged(repo)
    assert found(result) == []
    assert dict(result.skipped) == {"gone.py": "deleted", "blob.bin": "binary"}


def test_paths_limit_the_audit(repo):
    write(repo, "a.py", "x = 'LEAKME'\n")
    write(repo, "b.py", "y = 'LEAKME'\n")
    stage(repo)
    assert found(staged(repo, paths=["b.py"])) == [("b.py", 1, "CA990")]
    assert found(staged(repo, paths=[str(repo / "a.py")])) == [("a.py", 1, "CA990")]


def test_renamed_file_with_baselined_finding_does_not_refire(repo):
    rest = "".join(f"setting_{i} = {i}\n" for i in range(12))
    write(repo, "old/conf.py", "  token = 'LEAKME'\n" + rest)
    write(repo, "elsewhere.py", "pass\n")
    commit(repo)
    entry = Entry(
        path="old/conf.py",
        rule_id="CA990",
        rule_name="leak-word",
        auditor="privacy",
        severity="high",
        fingerprint=_fingerprint_of("token = 'LEAKME'"),
        line=1,
    )
    (repo / "new").mkdir()
    git(repo, "mv", "old/conf.py", "new/conf.py")
    write(repo, "new/conf.py", "token = 'LEAKME'\n" + rest)  # re-indented: an added line
    stage(repo)
    result = staged(repo, baseline=Baseline([entry], root=repo))
    assert result.report.results[0].data["change"] == {
        "status": "renamed",
        "old_path": "old/conf.py",
        "added": [[1, 1]],
        "ai_generated": [],
    }
    (r,) = result.report.results
    assert [(f.line, f.suppressed) for f in r.findings] == [(1, "baseline")]
    assert not result.failed
    # Without the baseline the same change would fail: the suppression is what kept it quiet.
    assert staged(repo).failed
    # The same line pasted into another file that still exists is a new finding.
    write(repo, "elsewhere.py", "pass\ntoken = 'LEAKME'\n")
    stage(repo)
    result = staged(repo, baseline=Baseline([entry], root=repo))
    assert [
        (r.suggestion.path, f.suppressed) for r, f in result.findings(include_suppressed=True)
    ] == [("elsewhere.py", None), ("new/conf.py", "baseline")]


def _fingerprint_of(line: str) -> str:
    from codeaudit.model import fingerprint

    return fingerprint("CA990", " ".join(line.split()))


def test_merge_commit_only_checks_lines_the_merge_itself_adds(repo):
    write(repo, "app.py", "".join(f"line{i}\n" for i in range(1, 11)))
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(
        repo,
        "app.py",
        "".join(f"line{i}\n" if i != 2 else "feat = 'LEAKME'\n" for i in range(1, 11)),
    )
    commit(repo, "feature brings a finding")
    git(repo, "checkout", "-q", "main")
    write(repo, "app.py", "".join(f"line{i}\n" if i != 9 else "main9\n" for i in range(1, 11)))
    commit(repo, "main")
    git(repo, "merge", "--no-commit", "--no-ff", "-q", "feature")
    assert found(staged(repo)) == []
    text = (repo / "app.py").read_text().replace("line5\n", "resolved = 'RISKY'\n")
    write(repo, "app.py", text)
    stage(repo)
    assert found(staged(repo)) == [("app.py", 5, "CA991")]


def test_ai_lines_get_the_stricter_policy(repo):
    (repo.parent / "ca.toml").write_text(
        '[tool.codeaudit.hook]\nfail_on = "high"\nai_fail_on = "medium"\n'
    )
    write(repo, "human.py", "x = 'RISKY'\n")
    write(repo, "bot.py", "y = 'RISKY'  # codeaudit: ai-generated\n")
    stage(repo)
    from codeaudit.config import load_config

    config = load_config(repo.parent / "ca.toml")
    result = staged(repo, config=config)
    by = {r.suggestion.path: f for r, f in result.findings()}
    assert by["bot.py"].ai_generated is True and by["human.py"].ai_generated is None
    assert [r.suggestion.path for r, _ in result.blocking()] == ["bot.py"]
    assert result.failed
    assert {r.suggestion.path: r.verdict for r in result.report.results} == {
        "bot.py": Verdict.FAIL,
        "human.py": Verdict.WARN,
    }
    assert result.report.tool["change"]["ai_generated_lines"] == 1
    assert (
        result.report.tool["change"]["failed"] is True
        and result.report.tool["change"]["blocking"] == 1
    )
    assert (
        result.report.summary()["failed"] is False
    )  # fail_on alone (high) lets the medium through


def test_suggestions_log_marks_lines_and_sets_ai_generated_false_elsewhere(repo, tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"id": "s1", "completion": "secret_value = \'RISKY\' + suffix_part\\n"}\n')
    write(repo, "a.py", "secret_value = 'RISKY' + suffix_part\nmine = 'RISKY'\n")
    stage(repo)
    result = staged(repo, config=Config(fail_on=Severity.HIGH), suggestions_logs=[str(log)])
    assert [(f.line, f.ai_generated) for _, f in result.findings()] == [(1, True), (2, False)]
    assert [f.line for _, f in result.blocking()] == [1]
    assert result.report.results[0].data["change"]["ai_generated"] == [[1, 1]]


def test_findings_are_reported_at_working_tree_lines(repo):
    write(repo, "w.py", "a = 1\n")
    commit(repo)
    write(repo, "w.py", "a = 1\nb = 'LEAKME'\n")
    stage(repo)
    write(repo, "w.py", "# new header\n# more\na = 1\nb = 'LEAKME'\n")  # unstaged edit above
    (r,) = staged(repo).report.results
    assert [f.line for f in r.findings] == [4]
    assert r.suggestion.completion.splitlines()[3] == "b = 'LEAKME'"


def test_the_staged_version_is_audited_not_the_working_tree(repo):
    write(repo, "w.py", "a = 1\n")
    commit(repo)
    write(repo, "w.py", "a = 1\nb = 2\n")
    stage(repo)
    write(repo, "w.py", "a = 1\nb = 2\nc = 'LEAKME'\n")  # not staged: not part of the commit
    assert found(staged(repo)) == []


def test_audit_diff_for_a_pull_request(repo):
    write(repo, "a.py", "base = 'LEAKME'\n")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    write(repo, "a.py", "base = 'LEAKME'\nadded = 'RISKY'\n")
    commit(repo, "topic")
    git(repo, "checkout", "-q", "main")
    write(repo, "b.py", "on_main = 'LEAKME'\n")
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "-b", "pr", "topic")
    write(repo, "c.py", "z = 1\n")
    commit(repo, "more")
    git(
        repo, "merge", "-q", "--no-edit", "main"
    )  # the branch merged main in: HEAD is a merge commit
    review = audit_diff("main...HEAD", repo, config=CFG, auditors=[WordAuditor()])
    assert found(review) == [("a.py", 2, "CA991")]
    assert review.verdict is Verdict.FAIL  # default fail_on medium


def test_audit_files_without_git():
    files = [ChangedFile(path="x.py", content=b"a = 1\nb = 'LEAKME'\n", added=frozenset({2}))]
    result = audit_files(files, CFG, auditors=[WordAuditor()])
    assert found(result) == [("x.py", 2, "CA990")]


def test_python_contexts_parse_on_real_code():
    """Clusters at random places of standard-library modules parse with the context chosen for
    them (the auditors fall back to the cluster alone when not; this keeps that rare)."""
    import ast
    import random
    import sysconfig

    from codeaudit.change.context import PythonContext, git_line_offsets, git_lines

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    rng = random.Random(7)
    ok = total = 0
    context_lines = 0
    for p in sorted(stdlib.glob("*.py"))[1::5][:40]:
        text = p.read_text(encoding="utf-8")
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        lines, offsets = git_lines(text), git_line_offsets(text)
        source = PythonContext(text, lines)
        for _ in range(10):
            a = rng.randint(1, len(lines))
            b = min(len(lines), a + rng.randint(0, 8))
            before, after = source.context(a, b)
            prompt = "".join(text[offsets[x - 1] : offsets[y]] for x, y in before)
            suffix = "".join(text[offsets[x - 1] : offsets[y]] for x, y in after)
            total += 1
            context_lines += prompt.count("\n") + suffix.count("\n")
            try:
                ast.parse(prompt + text[offsets[a - 1] : offsets[b]] + suffix)
                ok += 1
            except SyntaxError:
                pass
    assert total >= 300
    assert ok / total >= 0.98, f"{ok}/{total} contexts parse"
    assert context_lines / total < 30  # compact: a few dozen lines, not the file


def test_baseline_follows_a_rename_committed_after_it(repo):
    rest = "".join(f"setting_{i} = {i}\n" for i in range(12))
    write(repo, "old.py", "token = 'LEAKME'\n" + rest)
    entry = Entry(
        path="old.py",
        rule_id="CA990",
        rule_name="leak-word",
        auditor="privacy",
        severity="high",
        fingerprint=_fingerprint_of("token = 'LEAKME'"),
        line=1,
    )
    Baseline([entry]).write(repo / ".codeaudit-baseline.json")
    commit(repo, "baseline")
    git(repo, "mv", "old.py", "new.py")
    commit(repo, "moved, no hook")
    # Editing the moved file keeps the entry; pasting the line into another file is new.
    write(repo, "new.py", "  token = 'LEAKME'\n" + rest)
    write(repo, "copy.py", "token = 'LEAKME'\n")
    stage(repo)
    result = staged(repo, baseline=".codeaudit-baseline.json")
    assert sorted(
        (r.suggestion.path, f.suppressed) for r, f in result.findings(include_suppressed=True)
    ) == [("copy.py", None), ("new.py", "baseline")]


@pytest.mark.parametrize("language", ["python", "c", None])
def test_context_ranges_stay_in_the_file_and_outside_the_cluster(language):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from codeaudit.change.hook import context_ranges

    line = st.text(alphabet=" \tabc():#'\"\\,[]{}=@", max_size=12)

    @settings(max_examples=150, deadline=None)
    @given(st.lists(line, min_size=1, max_size=30), st.data())
    def check(lines, data):
        first = data.draw(st.integers(1, len(lines)))
        last = data.draw(st.integers(first, len(lines)))
        before, after = context_ranges(lines, first, last, language)
        for a, b in before:
            assert 1 <= a <= b < first
        for a, b in after:
            assert last < a <= b <= len(lines)

    check()


@pytest.mark.parametrize("path", ["f.py", "f.c", "f"])
def test_property_findings_only_ever_on_added_lines(path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    piece = st.sampled_from(
        [
            "LEAKME",
            "RISKY",
            "x = (",
            ")",
            "    ",
            "\t",
            "def f():",
            "# c",
            "'''",
            "\r",
            "\r\n",
            "\n",
            "\n",
            "é",
        ]
    )

    @settings(max_examples=120, deadline=None)
    @given(st.lists(piece, max_size=40), st.data())
    def check(parts, data):
        content = "".join(parts).encode("utf-8")
        n = content.count(b"\n") + 1
        added = frozenset(data.draw(st.sets(st.integers(1, n))))
        result = audit_files(
            [ChangedFile(path=path, content=content, added=added)], CFG, auditors=[WordAuditor()]
        )
        reported = {(f.line, f.rule_id) for _, f in result.findings(include_suppressed=True)}
        for _, f in result.findings(include_suppressed=True):
            assert any(k in added for k in range(f.line, f.end_line + 1))
        # ... and every added line (as git numbers them) holding the word is reported there.
        for number, line in enumerate(content.decode().split("\n"), start=1):
            if number in added and "LEAKME" in line:
                assert (number, "CA990") in reported

    check()
