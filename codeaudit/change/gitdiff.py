"""What a change adds: staged changes or a ``BASE..HEAD`` range, as added line ranges per file.

git is asked for a zero-context patch (``git diff -U0 --full-index -M``) whose hunk headers
give the added lines of each file in the *new* version; the new content itself is read by blob
id (``git cat-file --batch``), so the staged version is audited, never the working tree.

>>> patch = (b"diff --git a/app.py b/app.py\\n"
...          b"index 1111111111111111111111111111111111111111..2222222222222222222222222222222222222222 100644\\n"
...          b"--- a/app.py\\n+++ b/app.py\\n"
...          b"@@ -3,0 +4,2 @@ def f():\\n+    x = 1\\n+    y = 2\\n")
>>> [(c.path, c.status, c.added) for c in parse_diff(patch)]
[('app.py', 'modified', ((4, 5),))]

Every option that a user's git configuration could change in the output is given explicitly
(prefixes, colour, external diff and textconv drivers, rename detection, relative paths), so the
parser sees the same format whatever ``~/.gitconfig`` says.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codeaudit.errors import InputError, UsageError

#: A run of added lines in the new file: 1-based, inclusive (start, end).
LineRange = tuple[int, int]

_GIT_CONFIG = (
    "-c",
    "core.quotePath=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
)
_DIFF_OPTIONS = (
    "-U0",
    "--full-index",
    "--find-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_HUNK = re.compile(rb"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,(\d+))? @@")
_NULL_OID = re.compile(r"^0+$")
GITLINK_MODE = "160000"


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a diff.

    ``path`` is the path in the new version (the old one for a deletion); ``old_path`` the path in
    the old version (``None`` for an added file). ``added`` holds the runs of added lines of the
    new version. ``new_oid`` is the blob to read the new content from (``None`` when deleted).
    """

    path: str
    old_path: str | None
    status: str  # added | modified | renamed | copied | deleted
    added: tuple[LineRange, ...] = ()
    binary: bool = False
    new_oid: str | None = None
    old_oid: str | None = None
    new_mode: str | None = None
    similarity: int | None = None

    @property
    def submodule(self) -> bool:
        return self.new_mode == GITLINK_MODE

    def added_lines(self) -> set[int]:
        return {n for start, end in self.added for n in range(start, end + 1)}


# --- parsing ---------------------------------------------------------------------------------

_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def unquote(raw: bytes) -> str:
    """A path as git prints it: plain, or C-quoted (``"a\\tb\\303\\251"``) when it holds special bytes.

    >>> unquote(b'"sp\\\\303\\\\251cial \\\\"x\\\\".py"')
    'spécial "x".py'
    """
    if len(raw) < 2 or not (raw.startswith(b'"') and raw.endswith(b'"')):
        return _decode_path(raw)
    out = bytearray()
    body, i, n = raw[1:-1], 0, len(raw) - 2
    while i < n:
        c = body[i]
        if c != 92 or i + 1 >= n:  # not a backslash (or a trailing one: kept as is)
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if 48 <= nxt <= 55:  # octal \ooo, one byte of the UTF-8 path
            j = i + 1
            while j < n and j < i + 4 and 48 <= body[j] <= 55:
                j += 1
            out.append(int(body[i + 1 : j], 8) & 0xFF)
            i = j
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    return _decode_path(bytes(out))


def _header_path(raw: bytes, prefix: str) -> str:
    """The path of a ``---``/``+++`` line. git appends a tab to unquoted names holding a space (a
    name with a real tab is always quoted, so the tab can go)."""
    if raw.endswith(b"\t") and not raw.startswith(b'"'):
        raw = raw[:-1]
    return _strip_prefix(unquote(raw), prefix)


def _decode_path(raw: bytes) -> str:
    # Paths are bytes in git; undecodable ones survive a round trip through surrogateescape.
    return os.fsdecode(raw) if os.name != "nt" else raw.decode("utf-8", "replace")


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _split_quoted_pair(rest: bytes) -> tuple[bytes, bytes] | None:
    """``a/x b/y`` (or with quoted halves) from a ``diff --git`` line, when unambiguous."""
    if rest.startswith(b'"'):
        m = re.match(rb'^("(?:[^"\\]|\\.)*") (.+)$', rest)
        return (m.group(1), m.group(2)) if m else None
    if rest.endswith(b'"'):
        m = re.match(rb'^(\S+) ("(?:[^"\\]|\\.)*")$', rest)
        return (m.group(1), m.group(2)) if m else None
    # Unquoted: both halves name the same file unless it was renamed (then the rename lines win).
    length = len(rest)
    if length % 2 == 1:
        half = (length - 1) // 2
        if rest[half : half + 1] == b" " and rest[2:half] == rest[half + 3 :]:
            return rest[:half], rest[half + 1 :]
    return None


class _Builder:
    __slots__ = (
        "old",
        "new",
        "status",
        "added",
        "binary",
        "new_oid",
        "old_oid",
        "new_mode",
        "similarity",
    )

    def __init__(self) -> None:
        self.old: str | None = None
        self.new: str | None = None
        self.status = "modified"
        self.added: list[LineRange] = []
        self.binary = False
        self.new_oid: str | None = None
        self.old_oid: str | None = None
        self.new_mode: str | None = None
        self.similarity: int | None = None

    def build(self) -> FileChange | None:
        path = self.new if self.status != "deleted" else self.old
        if path is None:
            path = self.old or self.new
        if path is None:
            return None
        old = None if self.status == "added" else (self.old or path)
        return FileChange(
            path=path,
            old_path=old,
            status=self.status,
            added=tuple(self.added),
            binary=self.binary,
            new_oid=None if self.status == "deleted" else self.new_oid,
            old_oid=self.old_oid,
            new_mode=self.new_mode,
            similarity=self.similarity,
        )


def parse_diff(patch: bytes) -> list[FileChange]:
    """Parse ``git diff -U0 --full-index -M`` output (a, b prefixes) into :class:`FileChange` records.

    Content lines are skipped without being decoded, so files in any encoding are fine; only the
    headers and the ``@@`` hunk lines are read.
    """
    changes: list[FileChange] = []
    cur: _Builder | None = None
    in_hunks = False
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git "):
            if cur is not None and (built := cur.build()) is not None:
                changes.append(built)
            cur, in_hunks = _Builder(), False
            pair = _split_quoted_pair(line[11:])
            if pair is not None:
                cur.old = _strip_prefix(unquote(pair[0]), "a/")
                cur.new = _strip_prefix(unquote(pair[1]), "b/")
            continue
        if cur is None:
            continue
        if in_hunks:
            if line.startswith(b"@@"):
                _add_hunk(cur, line)
            # content lines ('+', '-', ' ', '\\ No newline') carry nothing we need
            continue
        if line.startswith(b"@@"):
            in_hunks = True
            _add_hunk(cur, line)
        elif line.startswith(b"--- "):
            if line[4:] != b"/dev/null":
                cur.old = _header_path(line[4:], "a/")
        elif line.startswith(b"+++ "):
            if line[4:] != b"/dev/null":
                cur.new = _header_path(line[4:], "b/")
        elif line.startswith(b"index "):
            m = re.match(rb"index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?", line)
            if m:
                cur.old_oid = m.group(1).decode()
                cur.new_oid = m.group(2).decode()
                if m.group(3):
                    cur.new_mode = m.group(3).decode()
                if _NULL_OID.match(cur.old_oid):
                    cur.old_oid = None
                if _NULL_OID.match(cur.new_oid):
                    cur.new_oid = None
        elif line.startswith(b"new file mode "):
            cur.status = "added"
            cur.new_mode = line[14:].decode()
        elif line.startswith(b"deleted file mode "):
            cur.status = "deleted"
        elif line.startswith(b"new mode "):
            cur.new_mode = line[9:].decode()
        elif line.startswith(b"rename from "):
            cur.status, cur.old = "renamed", unquote(line[12:])
        elif line.startswith(b"rename to "):
            cur.status, cur.new = "renamed", unquote(line[10:])
        elif line.startswith(b"copy from "):
            cur.status, cur.old = "copied", unquote(line[10:])
        elif line.startswith(b"copy to "):
            cur.status, cur.new = "copied", unquote(line[8:])
        elif line.startswith(b"similarity index "):
            digits = line[17:].rstrip(b"%")
            cur.similarity = int(digits) if digits.isdigit() else None
        elif line.startswith(b"Binary files ") or line == b"GIT binary patch":
            cur.binary = True
    if cur is not None and (built := cur.build()) is not None:
        changes.append(built)
    return changes


def _add_hunk(cur: _Builder, line: bytes) -> None:
    m = _HUNK.match(line)
    if not m:
        return
    start = int(m.group(1))
    count = int(m.group(2)) if m.group(2) is not None else 1
    if count > 0:
        cur.added.append((start, start + count - 1))


# --- running git -----------------------------------------------------------------------------


def git(
    args: Sequence[str], *, cwd: str | os.PathLike[str] | None = None, input: bytes | None = None
) -> bytes:
    """Run git and return its standard output; a failure becomes a one-line :class:`InputError`."""
    try:
        proc = subprocess.run(
            ["git", *_GIT_CONFIG, *args], cwd=cwd, input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        raise InputError(f"git {args[0]}: {detail.removeprefix('fatal: ')}")
    return proc.stdout


_LOCATED: dict[str, tuple[Path, Path]] = {}


def locate(cwd: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """The top folder of the git work tree holding ``cwd``, and its git folder (one git call,
    remembered for the process: the hook asks more than once and every git call costs ~5 ms)."""
    key = os.path.abspath(cwd if cwd is not None else os.curdir)
    if key not in _LOCATED:
        out = git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], cwd=cwd).split(b"\n")
        _LOCATED[key] = Path(os.fsdecode(out[0])), Path(os.fsdecode(out[1]))
    return _LOCATED[key]


def repo_root(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The top folder of the git work tree holding ``cwd``."""
    return locate(cwd)[0]


def staged_changes(
    root: str | os.PathLike[str], git_folder: Path | None = None
) -> list[FileChange]:
    """What the next commit adds: the index against ``HEAD`` (or the empty tree before the first commit).

    During a merge the added lines are those new against *every* parent (``HEAD`` and each
    ``MERGE_HEAD``): lines the merge brings in from the other branch were added (and checked)
    there, so only conflict resolutions and other edits made in the merge itself count.
    """
    changes = parse_diff(git(["diff", "--cached", *_DIFF_OPTIONS], cwd=root))
    merge_heads = _merge_heads(git_folder if git_folder is not None else locate(root)[1])
    if not merge_heads:
        return changes
    for head in merge_heads:
        other = {
            c.path: c for c in parse_diff(git(["diff", "--cached", *_DIFF_OPTIONS, head], cwd=root))
        }
        changes = [_intersect(c, other.get(c.path)) for c in changes]
    return changes


def _merge_heads(git_folder: Path) -> list[str]:
    try:
        text = (git_folder / "MERGE_HEAD").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _intersect(change: FileChange, other: FileChange | None) -> FileChange:
    """Keep only the lines ``other`` (the same new file against another parent) also adds."""
    from dataclasses import replace

    if other is None:  # identical to that parent: the merge adds nothing new to this file
        return replace(change, added=())
    keep = change.added_lines() & other.added_lines()
    return replace(change, added=ranges(keep))


def range_changes(spec: str, root: str | os.PathLike[str]) -> list[FileChange]:
    """What ``BASE..HEAD`` (``git diff BASE HEAD``) or ``BASE...HEAD`` (from their merge base) adds.

    For a pull request use the three-dot form: it shows what the branch adds, even after ``BASE``
    moved on or was merged into the branch.
    """
    parse_range(spec)
    return parse_diff(git(["diff", *_DIFF_OPTIONS, spec, "--"], cwd=root))


def parse_range(spec: str) -> tuple[str, str, bool]:
    """``A..B`` -> (A, B, False); ``A...B`` -> (A, B, True). Both ends are required."""
    three = "..." in spec
    base, sep, head = spec.partition("..." if three else "..")
    if not sep or not base.strip() or not head.strip() or ".." in head or spec.startswith("-"):
        raise UsageError(
            f"--diff {spec!r}: expected BASE..HEAD or BASE...HEAD (e.g. origin/main...HEAD)"
        )
    return base, head, three


def read_blobs(root: str | os.PathLike[str], oids: Iterable[str]) -> dict[str, bytes]:
    """Contents of blobs by object id, in one ``git cat-file --batch`` process."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    out = git(["cat-file", "--batch"], cwd=root, input=("\n".join(wanted) + "\n").encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split(b" ")
        pos = nl + 1
        if len(header) != 3:  # "<oid> missing"
            raise InputError(f"git cat-file: object {oid} is missing")
        size = int(header[2])
        blobs[oid] = out[pos : pos + size]
        pos += size + 1
    return blobs


def tracked_files(root: str | os.PathLike[str], paths: Sequence[str] = ()) -> list[str]:
    """Files git tracks under ``paths`` (all when empty), relative to ``root``."""
    out = git(["ls-files", "-z", "--", *paths], cwd=root)
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


# --- line arithmetic -------------------------------------------------------------------------


def ranges(lines: Iterable[int]) -> tuple[LineRange, ...]:
    """Sorted runs of consecutive line numbers.

    >>> ranges({7, 1, 2, 3, 9, 8})
    ((1, 3), (7, 9))
    """
    out: list[list[int]] = []
    for n in sorted(set(lines)):
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return tuple((a, b) for a, b in out)


class LineMapper:
    """Maps line numbers of an old version to the new one through zero-context diff hunks.

    Hunks are ``(old_start, old_count, new_start, new_count)`` as in ``@@ -a,b +c,d @@``; a
    zero count means "after that line". Lines the diff removed or rewrote map to ``None``.

    >>> m = LineMapper([(3, 1, 3, 2)])   # line 3 rewritten as two lines
    >>> [m.map(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, None, 5, 6]
    """

    def __init__(self, hunks: Sequence[tuple[int, int, int, int]] = ()) -> None:
        self._hunks = sorted(hunks)

    def map(self, line: int) -> int | None:
        shift = 0
        for old_start, old_count, new_start, new_count in self._hunks:
            first = old_start if old_count else old_start + 1
            if line < first:
                break
            old_after = old_start + old_count if old_count else old_start + 1
            if line < old_after:
                return None
            shift = (new_start + new_count if new_count else new_start + 1) - old_after
        return line + shift


_FULL_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def hunks_of(patch: bytes) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per new path, the ``(old_start, old_count, new_start, new_count)`` of every hunk."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    path: str | None = None
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git "):
            path = None
        elif line.startswith(b"+++ ") and path is None:
            path = None if line[4:] == b"/dev/null" else _header_path(line[4:], "b/")
        elif line.startswith(b"@@ ") and path is not None:
            m = _FULL_HUNK.match(line)
            if m:
                a, b, c, d = m.groups()
                out.setdefault(path, []).append(
                    (int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d))
                )
    return out


def worktree_line_maps(root: str | os.PathLike[str], paths: Iterable[str]) -> dict[str, LineMapper]:
    """For files whose working-tree copy differs from the index: staged line -> working-tree line."""
    paths = list(paths)
    if not paths:
        return {}
    opts = [o for o in _DIFF_OPTIONS if o != "--find-renames"]
    patch = git(["diff", *opts, "--no-renames", "--", *(":(literal)" + p for p in paths)], cwd=root)
    return {p: LineMapper(h) for p, h in hunks_of(patch).items()}


def renames_since(
    root: str | os.PathLike[str], path: str, head: str | None = None
) -> dict[str, str]:
    """New path -> old path for files renamed since the commit that last changed ``path`` (a
    baseline), up to ``head`` (default: the index). Empty when ``path`` was never committed."""
    ref = [head] if head else []
    last = git(["log", "-1", "--format=%H", *ref, "--", path], cwd=root).strip().decode()
    if not last:
        return {}
    target = [last, head] if head else ["--cached", last]
    out = git(
        [
            "diff",
            *target,
            "--find-renames",
            "--name-status",
            "-z",
            "--no-ext-diff",
            "--no-relative",
            "--diff-filter=R",
        ],
        cwd=root,
    )
    fields = [os.fsdecode(f) for f in out.split(b"\0")]
    renames: dict[str, str] = {}
    i = 0
    while i + 2 < len(fields):
        if fields[i].startswith("R"):
            renames[fields[i + 2]] = fields[i + 1]
        i += 3
    return renames


def rename_map(changes: Iterable[FileChange]) -> Mapping[str, str]:
    """New path -> old path for renamed files."""
    return {c.path: c.old_path for c in changes if c.status == "renamed" and c.old_path}
