"""The on-disk corpus index: a folder of flat little-endian arrays and a checked manifest.

Layout (``N`` windows, ``T`` tokens, ``F`` files; every array is memory-mapped on load, so opening
an index costs a few system calls and a query touches only the pages it reads)::

    manifest.json     format and tokenizer versions, IndexParams, the MinHash permutations (as
                      datasketch draws them for num_perm and seed), counts, sources, skipped
                      files, and each array's dtype, shape, size and CRC-32; plus its own SHA-256
    lsh.keys          uint32 (E)         band keys, band after band, each band sorted ascending
    lsh.ids           uint32 (E)         the window of each key (ties in id order); a bucket of
                                         more than max_bucket windows (boilerplate) is one
                                         entry with id POPULAR, which queries skip
    lsh.bands         uint64 (bands+1)   where each band starts in lsh.keys / lsh.ids
    lsh.dir           uint32 (bands, D+1) where each band's keys with top bits p start (relative
                                         to the band), D = 2**bits with 2 to 4 keys per entry:
                                         a lookup reads one short run, not a 20-step search
    tok.norm          uint16 (T)         normal-form token codes of all files, file after file
    tok.raw           uint8  (T)         hashes of the tokens' exact text
    tok.dline         uint8  (T)         line step from the previous token; 255 = see line.esc
    line.esc_idx      uint64 (E)         tokens whose line is stored absolutely: every file's first
    line.esc_line     uint32 (E)         token, every 1024th token, and steps over 254 lines
    files.tab         record (F)         per file: first token, first window, sizes, repo, path,
                                         licence (offsets into strings.bin)
    strings.bin       UTF-8              repository names, paths and licence expressions

Window ``i`` of file ``f`` starts at token ``files.tok[f] + (i - files.win[f]) * stride``: windows
need no table of their own. That is what keeps the index near 150 bytes per window.

Integrity: :meth:`CorpusIndex.open` refuses (with :class:`~codeaudit.errors.InputError`, exit 2)
an index whose manifest checksum, format, tokenizer or parameters do not match, whose arrays
have the wrong size, or whose CRC-32 differ. CRCs are checked in full the first time an index is
opened after any of its files changed (size, mtime or inode); a stamp in the user cache folder
then lets later opens skip the 2 GB/s scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .params import FORMAT_VERSION, SHINGLE_HASH, IndexParams
from .tokens import TOKENIZER_VERSION

FORMAT_NAME = "codeaudit.corpus-index"
MANIFEST = "manifest.json"
#: The id of a band bucket collapsed because it held more than ``max_bucket`` windows.
POPULAR = 0xFFFFFFFF
#: Every this many tokens the absolute line is stored, bounding the work to decode one line.
LINE_CHECKPOINT = 1024
#: Line steps at or above this are stored absolutely.
LINE_ESCAPE = 255

FILE_DTYPE = np.dtype(
    [
        ("tok", "<u8"),  # first token
        ("win", "<u8"),  # first window id
        ("ntok", "<u4"),
        ("nwin", "<u4"),
        ("nlines", "<u4"),
        ("repo_off", "<u8"),
        ("repo_len", "<u4"),
        ("path_off", "<u8"),
        ("path_len", "<u4"),
        ("lic_off", "<u8"),
        ("lic_len", "<u4"),
        ("lang_off", "<u8"),
        ("lang_len", "<u4"),
    ]
)

#: name -> dtype of every array file.
ARRAYS: dict[str, str] = {
    "lsh.keys": "<u4",
    "lsh.ids": "<u4",
    "lsh.dir": "<u4",
    "lsh.bands": "<u8",
    "tok.norm": "<u2",
    "tok.raw": "u1",
    "tok.dline": "u1",
    "line.esc_idx": "<u8",
    "line.esc_line": "<u4",
    "files.tab": "record",
    "strings.bin": "u1",
}


def directory_bits(windows: int) -> int:
    """Bits of the band-key prefix the LSH directory is indexed by (2 to 4 keys per entry)."""
    return min(24, max(4, (max(windows, 1) - 1).bit_length() - 2))


def crc32_file(path: Path, chunk: int = 1 << 22) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            crc = zlib.crc32(block, crc)
    return crc


def manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceFile:
    """Where a window's tokens come from."""

    repo: str
    path: str
    license: str
    language: str | None


class CorpusIndex:
    """A corpus index opened for queries (read-only, memory-mapped).

    >>> from codeaudit.corpus import build_index, FolderSource   # doctest: +SKIP
    >>> build_index([FolderSource("src")], "src.idx")             # doctest: +SKIP
    >>> idx = CorpusIndex.open("src.idx")                          # doctest: +SKIP
    >>> idx.windows, idx.params.num_perm                          # doctest: +SKIP
    (1234, 64)
    """

    def __init__(self, path: Path, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.path = path
        self.manifest = manifest
        self.params = IndexParams.from_dict(manifest["params"])
        # Plain ndarray views of the maps: the same pages, without np.memmap's per-slice overhead.
        self.keys = np.asarray(arrays["lsh.keys"])
        self.ids = np.asarray(arrays["lsh.ids"])
        self.directory = np.asarray(arrays["lsh.dir"])
        self.band_start = np.asarray(arrays["lsh.bands"]).astype(np.int64)
        bits = (int(self.directory.shape[1]) - 1).bit_length() - 1
        self.directory_shift = 32 - bits
        self.norm = np.asarray(arrays["tok.norm"])
        self.raw = np.asarray(arrays["tok.raw"])
        self.dline = np.asarray(arrays["tok.dline"])
        self.esc_idx = np.asarray(arrays["line.esc_idx"])
        self.esc_line = np.asarray(arrays["line.esc_line"])
        self.files = np.asarray(arrays["files.tab"])
        self.strings = np.asarray(arrays["strings.bin"])
        self.file_win = np.asarray(self.files["win"]) if len(self.files) else np.empty(0, np.uint64)
        self.file_tok = np.asarray(self.files["tok"]) if len(self.files) else np.empty(0, np.uint64)
        self._perms: tuple[np.ndarray, np.ndarray] | None = None
        self._file_cache: dict[int, SourceFile] = {}
        self._families: frozenset[str] | None = None

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: str = "auto") -> CorpusIndex:
        """Open an index folder. ``verify``: ``auto`` (CRCs when files changed since the last
        verified open), ``full`` (always), ``none`` (sizes and manifest only)."""
        folder = Path(path)
        where = f"corpus index {folder}"
        mpath = folder / MANIFEST
        if not folder.is_dir():
            raise InputError(
                f"{where}: not found (build one with: codeaudit corpus build SOURCE -o {folder})"
            )
        try:
            manifest = json.loads(mpath.read_text("utf-8"))
        except FileNotFoundError:
            raise InputError(f"{where}: no {MANIFEST}; not a corpus index") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"{where}: unreadable {MANIFEST} ({exc}); rebuild the index") from None
        check_manifest(manifest, where)
        arrays: dict[str, np.ndarray] = {}
        changed = []
        for name, spec in manifest["arrays"].items():
            fpath = folder / name
            try:
                st = fpath.stat()
            except OSError:
                raise InputError(
                    f"{where}: missing {name}; the index is incomplete, rebuild it"
                ) from None
            if st.st_size != spec["bytes"]:
                raise InputError(
                    f"{where}: {name} has {st.st_size} bytes, the manifest says {spec['bytes']}; the index is corrupt, rebuild it"
                )
            changed.append((name, fpath, st))
        if verify != "none":
            stamp = _stamp_path(folder)
            fresh = {name: [st.st_size, st.st_mtime_ns, st.st_ino] for name, _, st in changed}
            known = _read_stamp(stamp) if verify == "auto" else None
            if known != {"checksum": manifest["checksum"], "files": fresh}:
                for name, fpath, _ in changed:
                    if crc32_file(fpath) != manifest["arrays"][name]["crc32"]:
                        raise InputError(
                            f"{where}: {name} fails its CRC-32 check; the index is corrupt, rebuild it"
                        )
                _write_stamp(stamp, {"checksum": manifest["checksum"], "files": fresh})
        for name, fpath, _ in changed:
            spec = manifest["arrays"][name]
            dtype = FILE_DTYPE if spec["dtype"] == "record" else np.dtype(spec["dtype"])
            shape = tuple(spec["shape"])
            if spec["bytes"] == 0:
                arrays[name] = np.zeros(shape, dtype=dtype)
            else:
                arrays[name] = np.memmap(fpath, dtype=dtype, mode="r", shape=shape)
        return cls(folder, manifest, arrays)

    # -- facts ----------------------------------------------------------------------------------
    @property
    def windows(self) -> int:
        return int(self.manifest["counts"]["windows"])

    @property
    def tokens(self) -> int:
        return int(self.manifest["counts"]["tokens"])

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    def band(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Band ``b``'s sorted keys and their window ids."""
        lo, hi = int(self.band_start[b]), int(self.band_start[b + 1])
        return self.keys[lo:hi], self.ids[lo:hi]

    def perms(self) -> tuple[np.ndarray, np.ndarray]:
        """The MinHash permutations, as stored at build time (numpy.random is slow to import)."""
        if self._perms is None:
            a, b = self.manifest["permutations"]
            self._perms = (np.array(a, dtype=np.uint32), np.array(b, dtype=np.uint32))
        return self._perms

    def _string(self, off: int, length: int) -> str:
        return bytes(self.strings[off : off + length]).decode("utf-8", "surrogateescape")

    def source_file(self, f: int) -> SourceFile:
        cached = self._file_cache.get(f)
        if cached is None:
            r = self.files[f]
            lang = self._string(int(r["lang_off"]), int(r["lang_len"])) or None
            cached = SourceFile(
                self._string(int(r["repo_off"]), int(r["repo_len"])),
                self._string(int(r["path_off"]), int(r["path_len"])),
                self._string(int(r["lic_off"]), int(r["lic_len"])),
                lang,
            )
            self._file_cache[f] = cached
        return cached

    def file_of_windows(self, wins: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.file_win, wins.astype(np.uint64), side="right") - 1

    def window_token(self, wins: np.ndarray, files: np.ndarray) -> np.ndarray:
        """First token (global offset) of each window."""
        return (
            self.file_tok[files].astype(np.int64)
            + (wins.astype(np.int64) - self.file_win[files].astype(np.int64)) * self.params.stride
        )

    def file_span(self, f: int) -> tuple[int, int]:
        start = int(self.file_tok[f])
        return start, start + int(self.files[f]["ntok"])

    def lines(self, start: int, end: int) -> np.ndarray:
        """Absolute line of each token in ``[start, end)`` (one file's tokens)."""
        if end <= start:
            return np.empty(0, dtype=np.int64)
        j = int(np.searchsorted(self.esc_idx, start, side="right")) - 1
        e = int(self.esc_idx[j])
        d = np.asarray(self.dline[e:end], dtype=np.int64)
        k = int(np.searchsorted(self.esc_idx, end, side="left"))
        # Escaped tokens restart the running sum at their stored absolute line.
        out = np.empty(end - e, dtype=np.int64)
        idx = [int(x) - e for x in self.esc_idx[j:k]] + [end - e]
        for n, (a, b) in enumerate(zip(idx[:-1], idx[1:])):
            base = int(self.esc_line[j + n])
            seg = d[a:b].copy()
            seg[0] = 0
            out[a:b] = base + np.cumsum(seg)
        return out[start - e :]

    @property
    def families(self) -> frozenset[str]:
        """The lexer families of the indexed files (a query is lexed the same way)."""
        if self._families is None:
            from .tokens import family_of

            self._families = frozenset(
                family_of(None if lang == "unknown" else lang)
                for lang in self.manifest.get("languages", {})
            )
        return self._families

    def describe(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "name": self.name,
            "path": str(self.path),
            "files": m["counts"]["files"],
            "windows": m["counts"]["windows"],
            "tokens": m["counts"]["tokens"],
        }


def check_manifest(manifest: Any, where: str) -> None:
    """Refuse a manifest that this version cannot answer from correctly."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InputError(f"{where}: {MANIFEST} is not a codeaudit corpus index manifest")
    if manifest.get("checksum") != manifest_checksum(manifest):
        raise InputError(
            f"{where}: {MANIFEST} fails its checksum; the index is corrupt, rebuild it"
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"{where}: index format {version}, this codeaudit reads format {FORMAT_VERSION}; rebuild the index"
        )
    params = manifest.get("params", {})
    if params.get("tokenizer_version") != TOKENIZER_VERSION:
        raise InputError(
            f"{where}: built with tokenizer version {params.get('tokenizer_version')}, this codeaudit has {TOKENIZER_VERSION}; rebuild the index"
        )
    try:
        p = IndexParams.from_dict(params)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: bad parameters in {MANIFEST}: {exc}") from None
    if p.shingle_hash != SHINGLE_HASH:
        raise InputError(
            f"{where}: shingle hash {p.shingle_hash!r} is not {SHINGLE_HASH!r}; rebuild the index"
        )
    perms = manifest.get("permutations")
    if not (
        isinstance(perms, list)
        and len(perms) == 2
        and all(isinstance(x, list) and len(x) == p.num_perm for x in perms)
    ):
        raise InputError(f"{where}: {MANIFEST} lacks the {p.num_perm} MinHash permutations")
    arrays = manifest.get("arrays", {})
    if set(arrays) != set(ARRAYS):
        missing = sorted(set(ARRAYS) - set(arrays))
        raise InputError(
            f"{where}: {MANIFEST} lists the wrong arrays (missing: {', '.join(missing) or 'none'})"
        )
    n = manifest["counts"]["windows"]
    entries = manifest["counts"].get("lsh_entries")
    if (
        arrays["lsh.keys"]["shape"] != [entries]
        or arrays["lsh.ids"]["shape"] != [entries]
        or arrays["lsh.bands"]["shape"] != [p.bands + 1]
    ):
        raise InputError(
            f"{where}: the LSH arrays do not match the manifest's {entries} entries in {p.bands} bands"
        )
    if arrays["lsh.dir"]["shape"] != [p.bands, (1 << directory_bits(n)) + 1]:
        raise InputError(f"{where}: the LSH directory does not fit {n} windows")


def _stamp_path(folder: Path) -> Path:
    from ..cache import cache_dir

    key = hashlib.sha1(str(folder.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return cache_dir() / "verified" / f"{key}.json"


def _read_stamp(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _write_stamp(path: Path, data: dict[str, Any]) -> None:
    # A cache: failing to write it only costs a re-check next time.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
