"""Corpus sources: a folder tree, a git repository at a revision, JSONL or Parquet shards.

Every source yields :class:`Document` records (repository, path, licence, language, text) through
*work units*: small picklable descriptions of a slice of the source (a few hundred files, a byte
range of a JSONL shard, a Parquet row group) that any process (or Dask worker) can read on its
own. The list of units depends only on the source, never on the number of workers, which is why
``--workers`` and ``--scheduler`` builds produce the same index as a single process.

Bad input never stops a build: a file that cannot be read, is binary, is too large, is not valid
UTF-8, or a record without content becomes a :class:`Skipped` with its reason, counted in the
build report and the index manifest.

>>> spec = parse_field_map("content=text,repo=repo_name")
>>> spec.content, spec.repo, spec.path
('text', 'repo_name', 'max_stars_repo_path')
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sysconfig
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from .. import languages
from ..errors import UsageError
from . import licenses

#: Files larger than this are skipped (``too-large``): generated or data files, not code to copy.
MAX_FILE_BYTES = 1_000_000
#: Reasons a corpus file is skipped, in report order.
SKIP_REASONS = ("unreadable", "binary", "too-large", "encoding", "bad-record")
#: Folders never indexed in folder sources.
SKIP_DIRS = frozenset(
    (
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
    )
)
#: Bytes of source per work unit (folder and git sources) and per JSONL byte range.
UNIT_BYTES = 1_000_000
JSONL_RANGE_BYTES = 32_000_000


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus file."""

    repo: str
    path: str
    license: str
    language: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A corpus file left out, and why (one of :data:`SKIP_REASONS`)."""

    where: str
    reason: str
    detail: str = ""


class Unit(Protocol):
    """A picklable slice of a source that a worker reads by itself."""

    def read(self) -> Iterator[Document | Skipped]: ...


def decode(data: bytes, where: str, max_bytes: int) -> str | Skipped:
    """UTF-8 text of a file's bytes, or why it is skipped (binary, too large, mis-encoded)."""
    if len(data) > max_bytes:
        return Skipped(where, "too-large", f"{len(data):,} bytes")
    if b"\x00" in data:
        return Skipped(where, "binary", "NUL bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Skipped(where, "encoding", f"not UTF-8 at byte {exc.start}")
    return text[1:] if text.startswith("\ufeff") else text


def _checked_text(text: Any, where: str, max_bytes: int) -> str | Skipped:
    if not isinstance(text, str):
        return Skipped(where, "bad-record", "content missing or not a string")
    if len(text) > max_bytes:  # characters: at least as many bytes
        return Skipped(where, "too-large", f"{len(text):,} characters")
    if "\x00" in text:
        return Skipped(where, "binary", "NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Skipped(where, "encoding", "unpaired surrogates")
    return text


# --- folder trees ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FolderUnit:
    root: str
    repo: str
    prefix: str
    paths: tuple[str, ...]
    licenses: tuple[str, ...]
    max_bytes: int

    def read(self) -> Iterator[Document | Skipped]:
        for rel, lic in zip(self.paths, self.licenses):
            where = f"{self.repo}:{self.prefix}{rel}"
            try:
                with open(os.path.join(self.root, rel), "rb") as fh:
                    data = fh.read(self.max_bytes + 1)
            except OSError as exc:
                yield Skipped(where, "unreadable", exc.strerror or type(exc).__name__)
                continue
            text = decode(data, where, self.max_bytes)
            if isinstance(text, Skipped):
                yield text
                continue
            yield Document(
                self.repo,
                self.prefix + rel,
                licenses.spdx_from_source(text) or lic,
                languages.from_path(rel),
                text,
            )


def _is_code(name: str, suffixes: tuple[str, ...] | None) -> bool:
    if suffixes is not None:
        return name.endswith(suffixes)
    lang = languages.from_path(name)
    return lang is not None and languages.LANGUAGES[lang].code


def _read_license(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return licenses.classify_text(fh.read(200_000).decode("utf-8", "replace"))
    except OSError:
        return licenses.UNKNOWN


def _dist_info_license(root: Path) -> str | None:
    """For a package folder in site-packages: the licence its ``*.dist-info`` declares."""
    parent = root.parent
    try:
        infos = [p for p in parent.iterdir() if p.name.endswith(".dist-info")]
    except OSError:
        return None
    name = root.name.lower().replace("-", "_")
    for info in sorted(infos):
        top = info / "top_level.txt"
        owns = info.name.split("-", 1)[0].lower().replace("-", "_").replace(".", "_") == name
        if not owns and top.is_file():
            try:
                owns = name in top.read_text("utf-8", "replace").split()
            except OSError:
                owns = False
        if not owns:
            continue
        for cand in sorted(
            [*info.glob("LICEN[CS]E*"), *info.glob("COPYING*"), *info.glob("licenses/*")]
        ):
            if cand.is_file():
                found = _read_license(str(cand))
                if found != licenses.UNKNOWN:
                    return found
        try:
            meta = (info / "METADATA").read_text("utf-8", "replace")
        except OSError:
            return None
        m = re.search(r"^License-Expression:\s*(\S.*)$", meta, re.MULTILINE)
        if m:
            return m.group(1).strip()
        for classifier in re.findall(
            r"^Classifier: License :: OSI Approved :: (.+)$", meta, re.MULTILINE
        ):
            found = _CLASSIFIER_SPDX.get(classifier.strip())
            if found:
                return found
    return None


_CLASSIFIER_SPDX = {
    "MIT License": "MIT",
    "BSD License": "BSD-3-Clause",
    "Apache Software License": "Apache-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "ISC License (ISCL)": "ISC",
}


@dataclass(frozen=True)
class FolderSource:
    """Every code file under ``root`` (by extension, or only ``suffixes``), in sorted order.

    The licence of a file is its own SPDX line, else the nearest licence file in its folder or
    above (up to ``root``), else, for a package in site-packages, its distribution's licence.
    """

    root: str
    repo: str | None = None
    prefix: str = ""
    suffixes: tuple[str, ...] | None = None
    exclude_dirs: frozenset[str] = frozenset()
    license: str | None = None
    max_bytes: int = MAX_FILE_BYTES

    def describe(self) -> dict[str, Any]:
        return {"kind": "folder", "root": self.root, "repo": self.repo_name}

    @property
    def repo_name(self) -> str:
        return self.repo or Path(self.root).resolve().name

    def units(self, unit_bytes: int = UNIT_BYTES) -> list[FolderUnit]:
        root = Path(self.root)
        if not root.is_dir():
            raise UsageError(f"corpus source {self.root}: not a folder")
        inherited = self.license or _dist_info_license(root.resolve()) or licenses.UNKNOWN
        dir_license: dict[str, str] = {}
        batch: list[tuple[str, str]] = []
        size = 0
        out: list[FolderUnit] = []

        def flush() -> None:
            nonlocal batch, size
            if batch:
                out.append(
                    FolderUnit(
                        str(root),
                        self.repo_name,
                        self.prefix,
                        tuple(p for p, _ in batch),
                        tuple(label for _, label in batch),
                        self.max_bytes,
                    )
                )
            batch, size = [], 0

        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d for d in dirnames if d not in SKIP_DIRS and d not in self.exclude_dirs
            )
            rel_dir = os.path.relpath(dirpath, root)
            parent = dir_license.get(os.path.dirname(rel_dir) if rel_dir != "." else "", inherited)
            here = parent
            if self.license is None:
                for name in sorted(filenames):
                    if licenses.is_license_file(name):
                        found = _read_license(os.path.join(dirpath, name))
                        if found != licenses.UNKNOWN:
                            here = found
                            break
            dir_license["" if rel_dir == "." else rel_dir] = here
            for name in sorted(filenames):
                if not _is_code(name, self.suffixes):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                try:
                    size += os.lstat(full).st_size
                except OSError:
                    pass  # reported as unreadable when the unit reads it
                batch.append((rel, here))
                if size >= unit_bytes:
                    flush()
        flush()
        return out


def stdlib_source() -> FolderSource:
    """The running interpreter's standard library (Python files, without its test suites)."""
    root = sysconfig.get_paths()["stdlib"]
    lic = _read_license(os.path.join(root, "LICENSE.txt"))
    return FolderSource(
        root=root,
        repo="python/cpython",
        prefix="Lib/",
        suffixes=(".py",),
        exclude_dirs=frozenset(
            ("site-packages", "dist-packages", "test", "tests", "idle_test", "__phello__")
        ),
        license=lic if lic != licenses.UNKNOWN else "PSF-2.0",
    )


# --- git repositories --------------------------------------------------------------------------


def _git(repo: str, *args: str, input: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", repo, *args], input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("corpus source: git is not installed") from None
    if done.returncode != 0:
        msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(
            f"corpus source {repo}: git {args[0]} failed: {msg[-1] if msg else done.returncode}"
        )
    return done.stdout


@dataclass(frozen=True, slots=True)
class GitUnit:
    git_dir: str
    repo: str
    entries: tuple[tuple[str, str, int, str], ...]  # (path, blob sha, size, licence)
    max_bytes: int

    def read(self) -> Iterator[Document | Skipped]:
        wanted = [(p, sha, lic) for p, sha, size, lic in self.entries if size <= self.max_bytes]
        for p, sha, size, lic in self.entries:
            if size > self.max_bytes:
                yield Skipped(f"{self.repo}:{p}", "too-large", f"{size:,} bytes")
        if not wanted:
            return
        try:
            out = _git(
                self.git_dir,
                "cat-file",
                "--batch",
                input="".join(f"{sha}\n" for _, sha, _ in wanted).encode(),
            )
        except UsageError as exc:
            for p, _, _ in wanted:
                yield Skipped(f"{self.repo}:{p}", "unreadable", str(exc))
            return
        buf = io.BytesIO(out)
        for p, sha, lic in wanted:
            where = f"{self.repo}:{p}"
            header = buf.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                yield Skipped(where, "unreadable", "blob missing from the repository")
                continue
            data = buf.read(int(header[2]))
            buf.read(1)
            text = decode(data, where, self.max_bytes)
            if isinstance(text, Skipped):
                yield text
            else:
                yield Document(
                    self.repo,
                    p,
                    licenses.spdx_from_source(text) or lic,
                    languages.from_path(p),
                    text,
                )


def _repo_name_from_url(url: str) -> str | None:
    m = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$", url.strip())
    return m.group(1) if m else None


@dataclass(frozen=True)
class GitSource:
    """The files tracked at revision ``rev`` of the git repository at ``path`` (read with git's
    plumbing commands, so the work tree's state does not matter)."""

    path: str
    rev: str = "HEAD"
    repo: str | None = None
    max_bytes: int = MAX_FILE_BYTES

    def _commit(self) -> str:
        return (
            _git(self.path, "rev-parse", "--verify", "--quiet", f"{self.rev}^{{commit}}")
            .decode()
            .strip()
        )

    @property
    def repo_name(self) -> str:
        if self.repo:
            return self.repo
        try:
            url = _git(self.path, "config", "--get", "remote.origin.url").decode()
        except UsageError:
            url = ""
        return _repo_name_from_url(url) or Path(self.path).resolve().name

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "git",
            "root": self.path,
            "rev": self.rev,
            "commit": self._commit(),
            "repo": self.repo_name,
        }

    def units(self, unit_bytes: int = UNIT_BYTES) -> list[GitUnit]:
        commit = self._commit()
        listing = _git(self.path, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)
        items: list[tuple[str, str, int]] = []
        license_blobs: dict[str, str] = {}  # folder -> blob of its licence file
        for entry in listing.split(b"\0"):
            if not entry:
                continue
            meta, _, raw_path = entry.partition(b"\t")
            mode, kind, sha, size = meta.split()
            if kind != b"blob" or mode == b"120000":  # links are not files
                continue
            path = raw_path.decode("utf-8", "surrogateescape")
            folder, _, name = path.rpartition("/")
            if licenses.is_license_file(name) and folder not in license_blobs:
                license_blobs[folder] = sha.decode()
            if _is_code(name, None):
                items.append((path, sha.decode(), int(size) if size != b"-" else 0))
        folder_license: dict[str, str] = {}
        for folder, sha in license_blobs.items():
            text = _git(self.path, "cat-file", "blob", sha).decode("utf-8", "replace")
            folder_license[folder] = licenses.classify_text(text)

        def license_of(path: str) -> str:
            folder = path.rpartition("/")[0]
            while True:
                found = folder_license.get(folder)
                if found and found != licenses.UNKNOWN:
                    return found
                if not folder:
                    return licenses.UNKNOWN
                folder = folder.rpartition("/")[0]

        repo = self.repo_name
        out: list[GitUnit] = []
        batch: list[tuple[str, str, int, str]] = []
        size = 0
        for path, sha, n in items:
            batch.append((path, sha, n, license_of(path)))
            size += n
            if size >= unit_bytes:
                out.append(GitUnit(self.path, repo, tuple(batch), self.max_bytes))
                batch, size = [], 0
        if batch:
            out.append(GitUnit(self.path, repo, tuple(batch), self.max_bytes))
        return out


# --- dataset shards -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Record field names; the defaults are The Stack's."""

    content: str = "content"
    repo: str = "max_stars_repo_name"
    path: str = "max_stars_repo_path"
    license: str = "max_stars_repo_licenses"
    language: str = "lang"


def parse_field_map(text: str | None) -> FieldMap:
    """``content=text,repo=repo_name`` -> a :class:`FieldMap` (unnamed fields keep The Stack's)."""
    if not text:
        return FieldMap()
    known = {f.name for f in fields(FieldMap)}
    changes: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise UsageError(f"--field-map: {part.strip()!r} is not FIELD=NAME")
        if key not in known:
            raise UsageError(
                f"--field-map: unknown field {key!r} (known: {', '.join(sorted(known))})"
            )
        changes[key] = value
    return replace(FieldMap(), **changes)


def _record_document(record: Any, fm: FieldMap, where: str, max_bytes: int) -> Document | Skipped:
    if not isinstance(record, dict):
        return Skipped(where, "bad-record", "not a JSON object")
    text = _checked_text(record.get(fm.content), where, max_bytes)
    if isinstance(text, Skipped):
        return text
    repo = record.get(fm.repo)
    path = record.get(fm.path)
    repo = str(repo) if repo not in (None, "") else "unknown"
    path = str(path) if path not in (None, "") else where
    lic = (
        licenses.spdx_from_source(text)
        or licenses.from_record(record.get(fm.license))
        or licenses.UNKNOWN
    )
    lang = languages.normalize(str(record.get(fm.language) or "")) or languages.from_path(path)
    return Document(repo, path, lic, lang, text)


@dataclass(frozen=True, slots=True)
class JsonlUnit:
    """The records of a JSONL shard whose first byte lies in ``[start, end)`` (``end`` < 0: all)."""

    path: str
    start: int
    end: int
    fields: FieldMap
    max_bytes: int

    def read(self) -> Iterator[Document | Skipped]:
        name = os.path.basename(self.path)
        try:
            fh: Any = (
                gzip.open(self.path, "rb") if self.path.endswith(".gz") else open(self.path, "rb")
            )
        except OSError as exc:
            yield Skipped(name, "unreadable", exc.strerror or type(exc).__name__)
            return
        with fh:
            try:
                pos = self.start
                if self.start > 0:
                    fh.seek(self.start - 1)
                    pos = self.start - 1 + len(fh.readline())
                while self.end < 0 or pos < self.end:
                    line = fh.readline()
                    if not line:
                        break
                    where = f"{name}@{pos}"
                    pos += len(line)
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except (ValueError, RecursionError) as exc:
                        yield Skipped(where, "bad-record", f"invalid JSON: {str(exc)[:80]}")
                        continue
                    yield _record_document(record, self.fields, where, self.max_bytes)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                yield Skipped(name, "unreadable", f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class ParquetUnit:
    path: str
    row_group: int
    fields: FieldMap
    max_bytes: int

    def read(self) -> Iterator[Document | Skipped]:
        name = os.path.basename(self.path)
        try:
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(self.path)
            have = set(pf.schema_arrow.names)
            cols = [
                c
                for c in dict.fromkeys(
                    (
                        self.fields.content,
                        self.fields.repo,
                        self.fields.path,
                        self.fields.license,
                        self.fields.language,
                    )
                )
                if c in have
            ]
            table = pf.read_row_group(self.row_group, columns=cols)
        except ImportError:
            raise UsageError(
                "Parquet shards need pyarrow: pip install 'codeaudit[parquet]'"
            ) from None
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a damaged file
            yield Skipped(
                f"{name}#rg{self.row_group}", "unreadable", f"{type(exc).__name__}: {exc}"
            )
            return
        rows = table.to_pylist()
        for i, record in enumerate(rows):
            yield _record_document(
                record, self.fields, f"{name}#rg{self.row_group}:{i}", self.max_bytes
            )


@dataclass(frozen=True)
class ShardSource:
    """JSONL (optionally gzipped) or Parquet shards with one file per record."""

    paths: tuple[str, ...]
    fields: FieldMap = field(default_factory=FieldMap)
    max_bytes: int = MAX_FILE_BYTES

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "shards",
            "paths": list(self.paths),
            "fields": {f.name: getattr(self.fields, f.name) for f in fields(FieldMap)},
        }

    def units(self, unit_bytes: int = JSONL_RANGE_BYTES) -> list[JsonlUnit | ParquetUnit]:
        out: list[JsonlUnit | ParquetUnit] = []
        for path in self.paths:
            if not os.path.isfile(path):
                raise UsageError(f"corpus source {path}: no such file")
            if path.endswith(".parquet"):
                try:
                    import pyarrow.parquet as pq
                except ImportError:
                    raise UsageError(
                        "Parquet shards need pyarrow: pip install 'codeaudit[parquet]'"
                    ) from None
                try:
                    groups = pq.ParquetFile(path).num_row_groups
                except Exception as exc:  # noqa: BLE001
                    raise UsageError(
                        f"corpus source {path}: not a readable Parquet file ({type(exc).__name__}: {exc})"
                    ) from None
                out.extend(ParquetUnit(path, g, self.fields, self.max_bytes) for g in range(groups))
            elif path.endswith(".gz"):
                out.append(JsonlUnit(path, 0, -1, self.fields, self.max_bytes))
            else:
                size = os.path.getsize(path)
                starts = list(range(0, max(size, 1), unit_bytes))
                out.extend(
                    JsonlUnit(
                        path,
                        s,
                        min(s + unit_bytes, size) if s + unit_bytes < size else -1,
                        self.fields,
                        self.max_bytes,
                    )
                    for s in starts
                )
        return out


# --- parsing SOURCE arguments ---------------------------------------------------------------------

Source = FolderSource | GitSource | ShardSource
SHARD_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".json", ".json.gz", ".parquet")


def parse_source(
    spec: str, *, fields: FieldMap | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Source:
    """One ``SOURCE`` argument: ``stdlib``, a folder, a git work tree (``PATH`` or ``git:PATH[@REV]``),
    or a JSONL/Parquet shard."""
    if spec == "stdlib":
        return replace(stdlib_source(), max_bytes=max_bytes)
    if spec.startswith("git:"):
        path, _, rev = spec[4:].partition("@")
        return GitSource(path, rev or "HEAD", max_bytes=max_bytes)
    if spec.endswith(SHARD_SUFFIXES):
        return ShardSource((spec,), fields or FieldMap(), max_bytes)
    p = Path(spec)
    if p.is_dir():
        if (p / ".git").exists():
            return GitSource(spec, "HEAD", max_bytes=max_bytes)
        return FolderSource(spec, max_bytes=max_bytes)
    if p.is_file():
        raise UsageError(
            f"corpus source {spec}: not a folder, git repository or shard ({', '.join(SHARD_SUFFIXES)})"
        )
    raise UsageError(f"corpus source {spec}: no such file or folder")


def parse_sources(
    specs: Sequence[str], *, fields: FieldMap | None = None, max_bytes: int = MAX_FILE_BYTES
) -> list[Source]:
    """Parse SOURCE arguments; consecutive shard files form one source."""
    out: list[Source] = []
    for spec in specs:
        src = parse_source(spec, fields=fields, max_bytes=max_bytes)
        if isinstance(src, ShardSource) and out and isinstance(out[-1], ShardSource):
            out[-1] = replace(out[-1], paths=out[-1].paths + src.paths)
        else:
            out.append(src)
    return out
