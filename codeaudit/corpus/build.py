"""Building and extending corpus indexes, in one process, a process pool, or on a Dask cluster.

The work is split in two. :func:`process_unit` turns one work unit of a source (see
:mod:`codeaudit.corpus.sources`) into token arrays and band keys; it is a pure function of the unit
and the parameters, so it runs anywhere. :class:`IndexWriter` then appends the results *in unit
order* (whatever order they finished in), assigns file, token and window ids, and sorts each LSH
band once at the end. The same units in the same order give the same bytes, which is why
``--workers 4`` or ``--scheduler`` builds equal the single-process build, and why ``corpus add``
(which merges new sorted bands into the old ones) equals a fresh build of all sources.

>>> from codeaudit.corpus.sources import FolderSource           # doctest: +SKIP
>>> stats = build_index([FolderSource("src")], "src.idx")       # doctest: +SKIP
>>> stats["files"], stats["windows"]                            # doctest: +SKIP
(12, 3456)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import UsageError
from . import minhash
from .index import (
    ARRAYS,
    FILE_DTYPE,
    FORMAT_NAME,
    LINE_CHECKPOINT,
    LINE_ESCAPE,
    MANIFEST,
    POPULAR,
    CorpusIndex,
    crc32_file,
    directory_bits,
    manifest_checksum,
)
from .params import FORMAT_VERSION, IndexParams
from .sources import SKIP_REASONS, Document, Skipped
from .tokens import tokenize

#: How many skipped files are listed by name in the manifest (all are counted).
SKIP_EXAMPLES = 20

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class UnitResult:
    """Everything one work unit contributes to the index."""

    docs: list[tuple[str, str, str, str, int, int, int]] = field(
        default_factory=list
    )  # repo, path, licence, lang, ntok, nwin, nlines
    norm: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint16))
    raw: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8))
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    keys: np.ndarray = field(default_factory=lambda: np.empty((0, 1), np.uint32))
    skipped: list[Skipped] = field(default_factory=list)
    #: Files read but too short to hold one shingle (not an error; counted).
    short: int = 0
    bytes: int = 0


def process_unit(unit: Any, params: IndexParams) -> UnitResult:
    """Read one work unit and compute its token arrays and LSH band keys."""
    perms = minhash.permutations(params.num_perm, params.seed)
    out = UnitResult()
    norms, raws, lines, keys = [], [], [], []
    for item in unit.read():
        if isinstance(item, Skipped):
            out.skipped.append(item)
            continue
        doc: Document = item
        out.bytes += len(doc.text)
        ts = tokenize(doc.text, doc.language)
        hashes = minhash.shingle_hashes(ts.norm, params.shingle)
        if hashes.shape[0] == 0:
            out.short += 1
            continue
        sig = minhash.window_signatures(hashes, params, perms)
        k = minhash.band_keys(sig, params)
        out.docs.append(
            (
                doc.repo,
                doc.path,
                doc.license,
                doc.language or "",
                len(ts),
                int(k.shape[0]),
                doc.text.count("\n") + 1,
            )
        )
        norms.append(ts.norm)
        raws.append(ts.raw)
        lines.append(ts.line)
        keys.append(k)
    if out.docs:
        out.norm = np.concatenate(norms)
        out.raw = np.concatenate(raws)
        out.lines = np.concatenate(lines)
        out.keys = np.concatenate(keys)
    else:
        out.keys = np.empty((0, params.bands), np.uint32)
    return out


def _collapse_popular(
    keys: np.ndarray, ids: np.ndarray, max_bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """Replace each bucket of more than ``max_bucket`` windows (boilerplate that cannot point at
    one source) by a single :data:`POPULAR` entry. A bucket that already holds that entry stays
    collapsed when ``corpus add`` brings more windows to it, as a fresh build would."""
    if keys.shape[0] == 0:
        return keys, ids
    start = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    size = np.diff(np.append(start, keys.shape[0]))
    popular = (size > max_bucket) | (
        np.maximum.reduceat((ids == POPULAR).astype(np.int8), start) > 0
    )
    if not popular.any():
        return keys, ids
    bucket = np.repeat(np.arange(start.shape[0]), size)
    keep = ~popular[bucket] | (np.arange(keys.shape[0]) == start[bucket])
    ids = ids.copy()
    ids[start[popular]] = POPULAR
    return keys[keep], ids[keep]


class IndexWriter:
    """Appends unit results in order into a new index folder; :meth:`finish` sorts and seals it.

    With ``base`` (an open index with the same parameters) the new index starts as a copy of it:
    that is ``corpus add``.
    """

    def __init__(self, folder: Path, params: IndexParams, base: CorpusIndex | None = None) -> None:
        self.folder = folder
        self.params = params
        self.base = base
        folder.mkdir(parents=True, exist_ok=False)
        self._fh = {
            name: open(folder / name, "wb")
            for name in ("tok.norm", "tok.raw", "tok.dline", "strings.bin")
        }
        self._band_tmp = [open(folder / f".band{b}.tmp", "wb") for b in range(params.bands)]
        self.files: list[tuple] = []
        self.esc_idx: list[np.ndarray] = []
        self.esc_line: list[np.ndarray] = []
        self.tokens = 0
        self.windows = 0
        self.base_windows = 0
        self.strings_len = 0
        self._string_ids: dict[str, tuple[int, int]] = {}
        self.skipped: Counter[str] = Counter()
        self.skip_examples: list[dict[str, str]] = []
        self.short = 0
        self.languages: Counter[str] = Counter()
        self.bytes = 0
        if base is not None:
            self._copy_base(base)

    def _copy_base(self, base: CorpusIndex) -> None:
        for name in ("tok.norm", "tok.raw", "tok.dline"):
            with open(base.path / name, "rb") as src:
                shutil.copyfileobj(src, self._fh[name], 1 << 22)
        # Strings are re-added through the dedup table so new files reuse old repo names.
        for f in range(len(base.files)):
            r = base.files[f]
            sf = base.source_file(f)
            self.files.append(
                (
                    int(r["tok"]),
                    int(r["win"]),
                    int(r["ntok"]),
                    int(r["nwin"]),
                    int(r["nlines"]),
                    *self._intern(sf.repo),
                    *self._intern(sf.path),
                    *self._intern(sf.license),
                    *self._intern(sf.language or ""),
                )
            )
        self.esc_idx.append(np.array(base.esc_idx, dtype=np.uint64))
        self.esc_line.append(np.array(base.esc_line, dtype=np.uint32))
        self.tokens = base.tokens
        self.windows = self.base_windows = base.windows
        m = base.manifest
        self.skipped.update(m.get("skipped", {}))
        self.skip_examples = list(m.get("skipped_examples", []))
        self.short = int(m["counts"].get("short_files", 0))
        self.languages.update(m.get("languages", {}))
        self.bytes = int(m["counts"].get("bytes", 0))

    def _intern(self, s: str) -> tuple[int, int]:
        got = self._string_ids.get(s)
        if got is None:
            data = s.encode("utf-8", "surrogateescape")
            got = (self.strings_len, len(data))
            self._fh["strings.bin"].write(data)
            self.strings_len += len(data)
            self._string_ids[s] = got
        return got

    def add(self, result: UnitResult) -> None:
        for s in result.skipped:
            self.skipped[s.reason] += 1
            if len(self.skip_examples) < SKIP_EXAMPLES:
                self.skip_examples.append({"file": s.where, "reason": s.reason, "detail": s.detail})
        self.short += result.short
        self.bytes += result.bytes
        if not result.docs:
            return
        tok0 = self.tokens
        pos = 0
        esc_i: list[np.ndarray] = []
        esc_l: list[np.ndarray] = []
        dline = np.empty(result.lines.shape[0], dtype=np.uint8)
        for repo, path, lic, lang, ntok, nwin, nlines in result.docs:
            self.languages[lang or "unknown"] += 1
            ln = result.lines[pos : pos + ntok].astype(np.int64)
            step = np.diff(ln, prepend=ln[0])
            esc = (step >= LINE_ESCAPE) | (step < 0)
            esc[0] = True
            g = np.arange(tok0 + pos, tok0 + pos + ntok, dtype=np.uint64)
            esc |= (g % LINE_CHECKPOINT) == 0
            dline[pos : pos + ntok] = np.where(esc, LINE_ESCAPE, step).astype(np.uint8)
            where = np.flatnonzero(esc)
            esc_i.append(g[where])
            esc_l.append(ln[where].astype(np.uint32))
            self.files.append(
                (
                    tok0 + pos,
                    self.windows,
                    ntok,
                    nwin,
                    nlines,
                    *self._intern(repo),
                    *self._intern(path),
                    *self._intern(lic),
                    *self._intern(lang),
                )
            )
            self.windows += nwin
            pos += ntok
        self.esc_idx.extend(esc_i)
        self.esc_line.extend(esc_l)
        self._fh["tok.norm"].write(np.ascontiguousarray(result.norm, dtype="<u2").tobytes())
        self._fh["tok.raw"].write(np.ascontiguousarray(result.raw, dtype="u1").tobytes())
        self._fh["tok.dline"].write(dline.tobytes())
        self.tokens += pos
        keys = np.ascontiguousarray(result.keys.T, dtype="<u4")
        for b in range(self.params.bands):
            self._band_tmp[b].write(keys[b].tobytes())

    def finish(
        self,
        sources: list[dict[str, Any]],
        *,
        name: str | None = None,
        build: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        for fh in self._fh.values():
            fh.close()
        for fh in self._band_tmp:
            fh.close()
        p = self.params
        n, nb = self.windows, self.base_windows
        bits = directory_bits(n)
        fences = np.arange((1 << bits) + 1, dtype=np.uint64) << np.uint64(32 - bits)
        band_start = [0]
        with (
            open(self.folder / "lsh.keys", "wb") as kf,
            open(self.folder / "lsh.ids", "wb") as idf,
            open(self.folder / "lsh.dir", "wb") as df,
        ):
            for b in range(p.bands):
                tmp = self.folder / f".band{b}.tmp"
                keys = np.fromfile(tmp, dtype="<u4")
                tmp.unlink()
                order = np.argsort(keys, kind="stable")
                keys = keys[order]
                ids = (order + nb).astype("<u4")
                if self.base is not None and nb:
                    old_keys, old_ids = self.base.band(b)
                    # After every old entry with an equal key: the order a fresh build gives.
                    at = np.searchsorted(old_keys, keys, side="right")
                    keys = np.insert(old_keys, at, keys)
                    ids = np.insert(old_ids, at, ids)
                keys, ids = _collapse_popular(keys, ids, p.max_bucket)
                kf.write(keys.astype("<u4").tobytes())
                idf.write(ids.astype("<u4").tobytes())
                df.write(np.searchsorted(keys.astype(np.uint64), fences).astype("<u4").tobytes())
                band_start.append(band_start[-1] + int(keys.shape[0]))
        np.array(band_start, dtype="<u8").tofile(self.folder / "lsh.bands")
        entries = band_start[-1]
        files = np.array(self.files, dtype=FILE_DTYPE) if self.files else np.zeros(0, FILE_DTYPE)
        files.tofile(self.folder / "files.tab")
        esc_idx = np.concatenate(self.esc_idx) if self.esc_idx else np.zeros(0, np.uint64)
        esc_line = np.concatenate(self.esc_line) if self.esc_line else np.zeros(0, np.uint32)
        esc_idx.astype("<u8").tofile(self.folder / "line.esc_idx")
        esc_line.astype("<u4").tofile(self.folder / "line.esc_line")
        shapes = {
            "lsh.keys": [entries],
            "lsh.ids": [entries],
            "lsh.dir": [p.bands, (1 << bits) + 1],
            "lsh.bands": [p.bands + 1],
            "tok.norm": [self.tokens],
            "tok.raw": [self.tokens],
            "tok.dline": [self.tokens],
            "line.esc_idx": [int(esc_idx.shape[0])],
            "line.esc_line": [int(esc_line.shape[0])],
            "files.tab": [int(files.shape[0])],
            "strings.bin": [self.strings_len],
        }
        arrays = {}
        for arr_name, dtype in ARRAYS.items():
            fpath = self.folder / arr_name
            arrays[arr_name] = {
                "dtype": dtype,
                "shape": shapes[arr_name],
                "bytes": fpath.stat().st_size,
                "crc32": crc32_file(fpath),
            }
        base_sources = list(self.base.manifest.get("sources", [])) if self.base is not None else []
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": name or self.folder.name,
            "params": p.to_dict(),
            "permutations": [x.tolist() for x in minhash.permutations(p.num_perm, p.seed)],
            "counts": {
                "files": int(files.shape[0]),
                "windows": n,
                "lsh_entries": entries,
                "tokens": self.tokens,
                "bytes": self.bytes,
                "short_files": self.short,
                "skipped_files": sum(self.skipped.values()),
            },
            "skipped": {r: self.skipped[r] for r in SKIP_REASONS if self.skipped.get(r)},
            "languages": dict(sorted(self.languages.items())),
            "skipped_examples": self.skip_examples,
            "sources": base_sources + sources,
            "arrays": arrays,
            "codeaudit_version": __version__,
            "build": build or {},
        }
        manifest["checksum"] = manifest_checksum(manifest)
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
        return manifest

    def abort(self) -> None:
        for fh in [*self._fh.values(), *self._band_tmp]:
            with contextlib.suppress(OSError):
                fh.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- running the units -------------------------------------------------------------------------


def _run_local(units: Sequence[Any], params: IndexParams, workers: int) -> Iterator[UnitResult]:
    from functools import partial

    from ..workers import ordered_map

    yield from ordered_map(partial(process_unit, params=params), units, workers)


def _run_dask(
    units: Sequence[Any], params: IndexParams, scheduler: str, workers: int
) -> Iterator[UnitResult]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'codeaudit[cluster]'") from None
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    try:
        # Keep a bounded number of units in flight so results do not pile up on the workers.
        window = max(4, 4 * max(1, len(client.scheduler_info().get("workers", {})) or workers))
        futures = []
        nxt = 0
        for i in range(len(units)):
            while nxt < len(units) and nxt < i + window:
                futures.append(client.submit(process_unit, units[nxt], params, pure=False))
                nxt += 1
            fut = futures[i]
            yield fut.result()
            futures[i] = None  # release the result on the cluster
            del fut
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def build_index(
    sources: Sequence[Any],
    output: str | os.PathLike[str],
    *,
    params: IndexParams | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    base: str | os.PathLike[str] | None = None,
    force: bool = False,
    unit_bytes: int | None = None,
) -> dict[str, Any]:
    """Index ``sources`` into the folder ``output`` (written next to it, then renamed into place).

    With ``base`` (an existing index folder), the new index holds base's files followed by the
    sources' (``corpus add``); ``output`` may then be ``base`` itself. ``unit_bytes`` sets the
    size of a work unit (default: each source's own). Returns the manifest.

    ``workers > 1`` starts worker processes (forkserver): a script that calls this must guard
    its top level with ``if __name__ == "__main__":``, as for any multiprocessing pool.
    """
    out = Path(output)
    base_index = CorpusIndex.open(base, verify="full") if base is not None else None
    if base_index is not None:
        params = base_index.params
    params = params or IndexParams()
    if out.exists() and (base is None or Path(base).resolve() != out.resolve()):
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists()):
            raise UsageError(f"-o {out}: exists and is not a corpus index; not replacing it")
        if not force:
            raise UsageError(
                f"-o {out}: exists (use --force to replace it, or 'corpus add' to extend it)"
            )
    parent = out.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"-o {out}: folder {parent} does not exist")

    started = time.perf_counter()
    units: list[Any] = []
    described = []
    for src in sources:
        units.extend(src.units(unit_bytes) if unit_bytes else src.units())
        described.append(src.describe())
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=parent))
    tmp.rmdir()
    writer = IndexWriter(tmp, params, base_index)
    name = name or (base_index.name if base_index is not None else out.name)
    try:
        runner = (
            _run_dask(units, params, scheduler, workers)
            if scheduler
            else _run_local(units, params, workers)
        )
        for i, result in enumerate(runner, start=1):
            writer.add(result)
            if progress is not None:
                progress(i, len(units))
        manifest = writer.finish(
            described,
            name=name,
            build={
                "seconds": round(time.perf_counter() - started, 3),
                "workers": workers,
                "scheduler": scheduler,
            },
        )
    except BaseException:
        writer.abort()
        raise
    _replace_folder(tmp, out)
    return manifest


def _replace_folder(new: Path, target: Path) -> None:
    """Move ``new`` to ``target`` atomically when target is absent; else swap it in."""
    try:
        os.rename(new, target)
        return
    except OSError:
        if not target.exists():
            raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def iter_documents(sources: Iterable[Any]) -> Iterator[Document | Skipped]:
    """Every document of some sources in index order (for tools and tests)."""
    for src in sources:
        for unit in src.units():
            yield from unit.read()


__all__ = ["IndexWriter", "UnitResult", "build_index", "iter_documents", "process_unit"]
