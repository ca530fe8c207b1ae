"""Diff parsing against real git output in temporary repositories, plus property tests."""

from __future__ import annotations

import difflib
import os

import pytest
from helpers.git import commit, git, write
from hypothesis import given, settings
from hypothesis import strategies as st

from codeaudit.change import gitdiff
from codeaudit.change.gitdiff import LineMapper, parse_diff, parse_range, ranges, unquote
from codeaudit.errors import InputError, UsageError


@pytest.fixture
def repo(git_repo):
    r = git_repo
    # A hostile user configuration must not change what the parser sees.
    git(r, "config", "diff.noprefix", "true")
    git(r, "config", "diff.mnemonicPrefix", "true")
    git(r, "config", "color.ui", "always")
    git(r, "config", "diff.renames", "false")
    return r


def by_path(changes):
    return {c.path: c for c in changes}


def test_initial_commit_without_head(repo):
    write(repo, "a.py", "x = 1\ny = 2\n")
    git(repo, "add", "a.py")
    (c,) = gitdiff.staged_changes(repo)
    assert (c.path, c.status, c.added, c.old_path) == ("a.py", "added", ((1, 2),), None)


def test_modified_added_deleted_and_mode_change(repo):
    write(repo, "m.py", "".join(f"line{i}\n" for i in range(1, 11)))
    write(repo, "gone.py", "bye\n")
    write(repo, "run.sh", "echo hi\n")
    commit(repo)
    write(
        repo,
        "m.py",
        "".join(
            f"line{i}\n" if i not in (3, 7) else f"changed{i}\nextra{i}\n" for i in range(1, 11)
        ),
    )
    (repo / "gone.py").unlink()
    write(repo, "new.py", "n = 1\n")
    os.chmod(repo / "run.sh", 0o755)
    git(repo, "add", "-A")
    changes = by_path(gitdiff.staged_changes(repo))
    assert changes["m.py"].added == ((3, 4), (8, 9))
    assert changes["m.py"].status == "modified"
    assert changes["gone.py"].status == "deleted" and changes["gone.py"].new_oid is None
    assert changes["new.py"].added == ((1, 1),)
    assert changes["run.sh"].added == () and changes["run.sh"].new_mode == "100755"


def test_rename_with_and_without_edits(repo):
    body = "".join(f"value_{i} = {i}\n" for i in range(20))
    write(repo, "old/pure.py", body)
    write(repo, "old/edited.py", body)
    commit(repo)
    (repo / "new").mkdir()
    git(repo, "mv", "old/pure.py", "new/pure.py")
    git(repo, "mv", "old/edited.py", "new/edited.py")
    write(repo, "new/edited.py", body + "added = True\n")
    git(repo, "add", "-A")
    changes = by_path(gitdiff.staged_changes(repo))
    pure, edited = changes["new/pure.py"], changes["new/edited.py"]
    assert (pure.status, pure.old_path, pure.added, pure.similarity) == (
        "renamed",
        "old/pure.py",
        (),
        100,
    )
    assert (edited.status, edited.old_path, edited.added) == (
        "renamed",
        "old/edited.py",
        ((21, 21),),
    )
    assert gitdiff.rename_map(changes.values()) == {
        "new/pure.py": "old/pure.py",
        "new/edited.py": "old/edited.py",
    }


def test_binary_crlf_and_non_utf8(repo):
    commit_file = "keep.txt"
    write(repo, commit_file, "k\n")
    commit(repo)
    write(repo, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(repo, "win.py", b"a = 1\r\nb = 2\r\n")
    write(repo, "latin.py", "name = 'Jos\xe9'\nother = 1\n".encode("latin-1"))
    git(repo, "add", "-A")
    changes = by_path(gitdiff.staged_changes(repo))
    assert changes["image.png"].binary and changes["image.png"].added == ()
    assert changes["win.py"].added == ((1, 2),)
    assert changes["latin.py"].added == ((1, 2),)
    blobs = gitdiff.read_blobs(repo, [changes["win.py"].new_oid, changes["latin.py"].new_oid])
    assert blobs[changes["win.py"].new_oid] == b"a = 1\r\nb = 2\r\n"
    assert blobs[changes["latin.py"].new_oid].startswith(b"name = 'Jos\xe9'")


@pytest.mark.parametrize(
    "name",
    [
        "with space.py",
        'quote"d.py',
        "tab\there.py",
        "ünïcødé/fïlé.py",
        "back\\slash.py",
        "-dash.py",
    ],
)
def test_special_file_names(repo, name):
    write(repo, "base.txt", "b\n")
    commit(repo)
    write(repo, name, "x = 1\n")
    git(repo, "add", "-A")
    changes = by_path(gitdiff.staged_changes(repo))
    assert changes[name].added == ((1, 1),)


def test_submodule_gitlink_is_skipped(repo):
    write(repo, "a.txt", "a\n")
    commit(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/lib")
    (c,) = [c for c in gitdiff.staged_changes(repo) if c.path == "vendor/lib"]
    assert c.submodule and c.new_mode == gitdiff.GITLINK_MODE


def test_merge_counts_only_lines_new_against_every_parent(repo):
    write(repo, "app.py", "".join(f"line{i}\n" for i in range(1, 11)))
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "app.py", "".join(f"line{i}\n" if i != 2 else "feature2\n" for i in range(1, 11)))
    write(repo, "feature_only.py", "f = 1\n")
    commit(repo, "feature")
    git(repo, "checkout", "-q", "main")
    write(repo, "app.py", "".join(f"line{i}\n" if i != 9 else "main9\n" for i in range(1, 11)))
    commit(repo, "main")
    # A clean merge: everything the merge stages came from one parent or the other.
    git(repo, "merge", "--no-commit", "--no-ff", "-q", "feature")
    changes = by_path(gitdiff.staged_changes(repo))
    assert changes["app.py"].added == ()
    assert changes["feature_only.py"].added == ()
    # An edit made in the merge itself is new against both parents.
    text = (repo / "app.py").read_text().replace("line5\n", "merge5\n")
    write(repo, "app.py", text)
    git(repo, "add", "app.py")
    changes = by_path(gitdiff.staged_changes(repo))
    assert changes["app.py"].added == ((5, 5),)


def test_range_two_and_three_dots(repo):
    write(repo, "a.py", "a = 1\n")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    write(repo, "a.py", "a = 1\ntopic = 2\n")
    commit(repo, "topic")
    git(repo, "checkout", "-q", "main")
    write(repo, "b.py", "main_only = 3\n")
    commit(repo, "main moves on")
    three = by_path(gitdiff.range_changes("main...topic", repo))
    assert set(three) == {"a.py"} and three["a.py"].added == ((2, 2),)
    two = by_path(gitdiff.range_changes("main..topic", repo))
    assert two["b.py"].status == "deleted"  # two dots: a plain diff of the two trees


@pytest.mark.parametrize("spec", ["main", "..HEAD", "main..", "-x..y", "a..b..c"])
def test_bad_ranges_are_usage_errors(spec):
    with pytest.raises(UsageError, match="BASE..HEAD"):
        parse_range(spec)


def test_git_failures_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="not a git repository"):
        gitdiff.repo_root(tmp_path)


def test_worktree_line_maps_follow_unstaged_edits(repo):
    write(repo, "w.py", "".join(f"l{i}\n" for i in range(1, 11)))
    git(repo, "add", "w.py")
    write(repo, "w.py", "top\n" + "".join(f"l{i}\n" for i in range(1, 11) if i != 5))
    maps = gitdiff.worktree_line_maps(repo, ["w.py"])
    m = maps["w.py"]
    assert [m.map(n) for n in (1, 4, 5, 6, 10)] == [2, 5, None, 6, 10]


# --- properties ---------------------------------------------------------------------------------


def git_quote(name: bytes) -> bytes:
    """git's C-style path quoting (written from git's documented rules)."""
    special = {
        7: b"\\a",
        8: b"\\b",
        9: b"\\t",
        10: b"\\n",
        11: b"\\v",
        12: b"\\f",
        13: b"\\r",
        34: b'\\"',
        92: b"\\\\",
    }
    if not any(b < 32 or b in (34, 92, 127) or b >= 128 for b in name):
        return name
    out = bytearray(b'"')
    for b in name:
        if b in special:
            out += special[b]
        elif b < 32 or b >= 127:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return bytes(out + b'"')


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s and "/" not in s))
def test_unquote_inverts_git_quoting(name):
    raw = name.encode("utf-8", "surrogateescape")
    assert unquote(git_quote(raw)) == os.fsdecode(raw)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_parse_diff_never_raises(data):
    for c in parse_diff(b"diff --git a/x b/x\n" + data):
        assert all(a <= b for a, b in c.added)


def hunks_from(old: list[str], new: list[str]) -> list[tuple[int, int, int, int]]:
    """Zero-context hunks in git's numbering (a zero count points at the line before)."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old_count, new_count = i2 - i1, j2 - j1
        out.append((i1 + 1 if old_count else i1, old_count, j1 + 1 if new_count else j1, new_count))
    return out


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from("abcde"), max_size=25),
    st.lists(st.sampled_from("abcdef"), max_size=25),
)
def test_line_mapper_agrees_with_the_edit_script(old, new):
    mapper = LineMapper(hunks_from(old, new))
    expected: dict[int, int | None] = {i: None for i in range(1, len(old) + 1)}
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                expected[i1 + k + 1] = j1 + k + 1
    assert {i: mapper.map(i) for i in expected} == expected


@given(st.sets(st.integers(1, 200)))
def test_ranges_cover_exactly_the_lines(lines):
    rs = ranges(lines)
    assert {n for a, b in rs for n in range(a, b + 1)} == lines
    assert all(rs[i][1] + 1 < rs[i + 1][0] for i in range(len(rs) - 1))


def test_renames_since_the_baseline_was_committed(repo):
    body = "".join(f"setting_{i} = {i}\n" for i in range(20))
    write(repo, "a.py", body)
    write(repo, "baseline.json", "{}\n")
    commit(repo, "baseline")
    git(repo, "mv", "a.py", "b.py")
    commit(repo, "first move")
    git(repo, "mv", "b.py", "c.py")
    git(repo, "add", "-A")
    assert gitdiff.renames_since(repo, "baseline.json") == {"c.py": "a.py"}  # up to the index
    assert gitdiff.renames_since(repo, "baseline.json", "HEAD") == {"b.py": "a.py"}
    assert gitdiff.renames_since(repo, "never-committed.json") == {}
