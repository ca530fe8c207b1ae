"""Real projects we did not write, from the package registries: fetch, audit, findings per 10 k lines.

Fetches pinned versions of mature projects in every language codeaudit supports into
``~/.cache/codeaudit-bench/realcode/`` (never into the repository) through the registries' own
clients:

* **PyPI** sdists: ``pip download --no-binary :all: --no-deps NAME==VER``;
* **npm** tarballs: ``npm pack NAME@VER``;
* **Debian** source packages: ``apt-get source --download-only PKG=VER`` with a private
  ``deb-src`` sources list and lists folder in the cache (the system's apt configuration is not
  read or touched), unpacked with ``dpkg-source -x --skip-debianization`` so only the upstream
  tree is audited (Debian's packaging folder is not the project).

Java comes from Debian, not Maven Central, because Maven Central is not reachable from the
machine this was built on (``mvn dependency:get`` fails with "Unknown host"); the Debian packages
are the same upstream sources. Every fetch is recorded in a manifest (name, version, registry,
sha256 of each downloaded file, lines audited); a fetched project is reused on reruns.

It then runs the default auditors (privacy, security, memorization; not tests) with the CLI,
``codeaudit audit DIR --auditors privacy,security,memorization --format json``, one project at a
time, so it keeps working whatever the auditors' internals become. It reports findings at medium
and above (not suppressed) per 10 k lines, by auditor and by rule, and the share of 30-line windows
of the audited files that hold at least one such finding (mature released code, so every flagged
window is a window a commit hook would block). Lines are the lines of the files the report covers.

Run: ``.venv/bin/python benchmarks/realcode.py`` (``--only NAME,…``, ``--refetch``,
``--reaudit``). Figures go to ``benchmarks/results/realcode.json``; the findings (for
``bench_precision.py``) to the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import write_results  # noqa: E402

CACHE = Path(os.environ.get("CODEAUDIT_BENCH_CACHE", Path.home() / ".cache" / "codeaudit-bench"))
REALCODE = CACHE / "realcode"
AUDITORS = ("privacy", "security", "memorization")
SEVERITIES = ("info", "low", "medium", "high", "critical")
BLOCKING = frozenset(("medium", "high", "critical"))
WINDOW = 30
DEBIAN_RELEASE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    registry: str  # pypi | npm | debian
    language: str  # the project's main language

    @property
    def key(self) -> str:
        return f"{self.registry}-{self.name}-{self.version}".replace("/", "_").replace(":", "_")


# Pinned: a version that disappears from its registry is an error, never silently replaced.
PROJECTS: tuple[Project, ...] = (
    Project("requests", "2.32.3", "pypi", "python"),
    Project("flask", "3.0.3", "pypi", "python"),
    Project("jinja2", "3.1.4", "pypi", "python"),
    Project("click", "8.1.7", "pypi", "python"),
    Project("paramiko", "3.4.0", "pypi", "python"),
    Project("express", "4.19.2", "npm", "javascript"),
    Project("lodash", "4.17.21", "npm", "javascript"),
    Project("axios", "1.7.2", "npm", "javascript"),
    Project("commander", "12.1.0", "npm", "javascript"),
    Project("moment", "2.30.1", "npm", "javascript"),
    Project("zod", "3.23.8", "npm", "typescript"),
    Project("zlib", "1:1.2.13.dfsg-1", "debian", "c"),
    Project("lz4", "1.9.4-1", "debian", "c"),
    Project("jq", "1.6-2.1+deb12u2", "debian", "c"),
    Project("libyaml", "0.2.5-1", "debian", "c"),
    Project("cjson", "1.7.15-1+deb12u4", "debian", "c"),
    Project("fmtlib", "9.1.0+ds1-2", "debian", "cpp"),
    Project("tinyxml2", "9.0.0+dfsg-3.1", "debian", "cpp"),
    Project("yaml-cpp", "0.7.0+dfsg-8", "debian", "cpp"),
    Project("pugixml", "1.13-0.2", "debian", "cpp"),
    Project("libjsoncpp", "1.9.5-4", "debian", "cpp"),
    Project("keepass2", "2.47+dfsg-2", "debian", "csharp"),
    Project("hyena", "0.5-4.1", "debian", "csharp"),
    Project("dbus-sharp", "0.8.1-2.1", "debian", "csharp"),
    Project("jsoup", "1.15.3-1", "debian", "java"),
    Project("libcommons-lang3-java", "3.12.0-2+deb12u1", "debian", "java"),
    Project("commons-io", "2.11.0-2", "debian", "java"),
    Project("libcommons-codec-java", "1.15-1", "debian", "java"),
    Project("libjackson2-core-java", "2.14.1-2~deb12u1", "debian", "java"),
    Project("php-monolog", "2.9.1-1", "debian", "php"),
    Project("php-twig", "3.5.1-1+deb12u3", "debian", "php"),
    Project("php-guzzlehttp-psr7", "2.4.5-1+deb12u1", "debian", "php"),
    Project("php-league-commonmark", "2.3.9-1+deb12u1", "debian", "php"),
    Project("php-parsedown", "1.7.4-1", "debian", "php"),
    Project("rust-clap", "4.0.32-1", "debian", "rust"),
    Project("rust-libc", "0.2.139-1", "debian", "rust"),
    Project("rust-ripgrep", "13.0.0-4", "debian", "rust"),
    Project("golang-github-spf13-cobra", "1.6.1-1", "debian", "go"),
    Project("golang-github-gorilla-mux", "1.8.0-1", "debian", "go"),
    Project("golang-logrus", "1.9.0-1", "debian", "go"),
    Project("golang-github-spf13-viper", "1.10.1-1", "debian", "go"),
    Project("golang-github-gorilla-websocket", "1.5.0-2", "debian", "go"),
)


class FetchError(RuntimeError):
    pass


def _run(cmd: list[str], *, cwd: Path | None = None, timeout: int = 600) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = proc.stdout.strip().splitlines()[-3:]
        raise FetchError(f"{' '.join(cmd[:4])} … exited {proc.returncode}: {' | '.join(tail)}")
    return proc.stdout


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _safe_extract(archive: Path, dest: Path) -> None:
    """Unpack a tar or zip archive below ``dest`` (members that would escape it are refused)."""
    dest.mkdir(parents=True)
    root = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not (dest / member).resolve().is_relative_to(root):
                    raise FetchError(f"{archive.name}: member {member!r} escapes the folder")
            zf.extractall(dest)
        return
    with tarfile.open(archive) as tf:
        tf.extractall(dest, filter="data")


def _single_child(folder: Path) -> Path:
    children = [c for c in folder.iterdir() if not c.name.startswith(".")]
    return children[0] if len(children) == 1 and children[0].is_dir() else folder


def _fetch_pypi(p: Project, work: Path) -> tuple[list[Path], Path]:
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps"]
    _run([*pip, f"{p.name}=={p.version}", "-d", str(work)], timeout=900)
    files = sorted(work.iterdir())
    if len(files) != 1:
        raise FetchError(f"pip download {p.name}=={p.version}: expected one sdist, got {files}")
    out = work / "src"
    _safe_extract(files[0], out)
    return files, _single_child(out)


def _fetch_npm(p: Project, work: Path) -> tuple[list[Path], Path]:
    _run(["npm", "pack", "--silent", f"{p.name}@{p.version}", "--pack-destination", str(work)])
    files = sorted(work.glob("*.tgz"))
    if len(files) != 1:
        raise FetchError(f"npm pack {p.name}@{p.version}: expected one tarball, got {files}")
    out = work / "src"
    _safe_extract(files[0], out)
    return files, _single_child(out)


def _apt_options() -> list[str]:
    """apt options that use only a private sources list and lists folder in the cache."""
    base = REALCODE / "apt"
    lists = base / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    sources = base / "sources.list"
    sources.write_text(f"deb-src {DEBIAN_MIRROR} {DEBIAN_RELEASE} main\n")
    return [
        "-o",
        f"Dir::Etc::SourceList={sources}",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::State::Lists={lists}",
        "-o",
        f"Dir::Cache={base / 'cache'}",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        "APT::Sandbox::User=root",
    ]


_apt_updated = False


def _fetch_debian(p: Project, work: Path) -> tuple[list[Path], Path]:
    global _apt_updated
    opts = _apt_options()
    if not _apt_updated:
        _run(["apt-get", *opts, "-qq", "update"])
        _apt_updated = True
    _run(["apt-get", *opts, "-qq", "source", "--download-only", f"{p.name}={p.version}"], cwd=work)
    files = sorted(f for f in work.iterdir() if f.is_file())
    dsc = [f for f in files if f.suffix == ".dsc"]
    if len(dsc) != 1:
        raise FetchError(f"apt-get source {p.name}={p.version}: no .dsc among {files}")
    out = work / "src"
    _run(
        ["dpkg-source", "--no-check", "--skip-debianization", "-x", dsc[0].name, str(out)], cwd=work
    )
    return files, out


FETCHERS = {"pypi": _fetch_pypi, "npm": _fetch_npm, "debian": _fetch_debian}


def fetch(p: Project, *, refetch: bool = False) -> dict:
    """The project's manifest entry; downloads and unpacks it on first use."""
    target = REALCODE / "projects" / p.key
    manifest_file = target / "manifest.json"
    if manifest_file.exists() and not refetch:
        return json.loads(manifest_file.read_text())
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=p.key + ".", dir=target.parent))
    try:
        files, src = FETCHERS[p.registry](p, work)
        entry = {
            "name": p.name,
            "version": p.version,
            "registry": p.registry,
            "language": p.language,
            "files": [
                {"name": f.name, "sha256": sha256(f), "bytes": f.stat().st_size} for f in files
            ],
            "source": str(src.relative_to(work)),
        }
        (work / "manifest.json").write_text(json.dumps(entry, indent=1))
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return entry


def project_source(p: Project) -> Path:
    target = REALCODE / "projects" / p.key
    entry = json.loads((target / "manifest.json").read_text())
    return target / entry["source"]


def codeaudit_cli() -> list[str]:
    exe = Path(sys.executable).with_name("codeaudit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "codeaudit"]


def audit(p: Project, *, reaudit: bool = False) -> tuple[dict, float | None]:
    """The CLI's JSON report of the project (cached per codeaudit commit), and seconds it took."""
    reports = REALCODE / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / f"{p.key}.{tree_state()}.json"
    if out.exists() and not reaudit:
        return json.loads(out.read_text()), None
    cmd = [*codeaudit_cli(), "audit", str(project_source(p)), "--auditors", ",".join(AUDITORS)]
    cmd += ["--format", "json", "-o", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not out.exists():
        raise RuntimeError(f"audit of {p.key} exited {proc.returncode}: {proc.stderr[-1500:]}")
    return json.loads(out.read_text()), seconds


_state: str | None = None


def tree_state() -> str:
    """A short id of the codeaudit code that audits: the git tree of ``codeaudit/`` (unchanged by
    commits elsewhere) plus a hash of its uncommitted changes."""
    global _state
    if _state is None:
        tree = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD:codeaudit"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "codeaudit"], cwd=ROOT, capture_output=True
        ).stdout
        _state = (tree or "nogit") + ("-" + hashlib.sha256(diff).hexdigest()[:8] if diff else "")
    return _state


def head_commit() -> str | None:
    out = subprocess.run(
        ["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return out or None


# --- keys that survive small line moves ----------------------------------------------------------

_WS = re.compile(r"\s+")
_MASKED = re.compile(r"REDACTED|\*\*\*\*")


def normalise_line(text: str) -> str:
    return _WS.sub(" ", text).strip()[:400]


def stable_evidence(evidence: dict | None) -> str:
    """The parts of a finding's evidence that name what was found, not how it was scored or masked."""
    parts: list[str] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k in sorted(value):
                walk(f"{prefix}{k}.", value[k])
        elif isinstance(value, str):
            name = prefix.rstrip(".").lower()
            if "hash" in name or "secret" in name or "license" in name or _MASKED.search(value):
                return
            if name.startswith("source.") and not name.endswith(("repo", "path")):
                return
            parts.append(f"{prefix.rstrip('.')}={value}")

    walk("", evidence or {})
    return ";".join(parts)


def finding_key(rule_id: str, line_text: str, evidence: dict | None) -> str:
    text = f"{rule_id}\n{normalise_line(line_text)}\n{stable_evidence(evidence)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def line_key(rule_id: str, line_text: str) -> str:
    return hashlib.sha256(f"{rule_id}\n{normalise_line(line_text)}".encode()).hexdigest()[:16]


# --- figures -------------------------------------------------------------------------------------


def _file_lines(src: Path, rel: str) -> list[str]:
    try:
        return (src / rel).read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return []


def collect(p: Project, report: dict) -> tuple[dict, list[dict]]:
    """Per-project figures and the blocking findings (with their keys) of one report."""
    src = project_source(p)
    lines = 0
    windows = 0
    flagged_windows: set[tuple[str, int]] = set()
    by_auditor: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    all_findings: Counter[str] = Counter()
    findings: list[dict] = []
    for result in report["results"]:
        text = _file_lines(src, result["id"])
        n = len(text)
        lines += n
        windows += max(1, -(-n // WINDOW))
        by_language[result.get("language") or "unknown"] += n
        for f in result.get("findings") or []:
            all_findings[f["severity"]] += 1
            if f["severity"] not in BLOCKING or f.get("suppressed"):
                continue
            by_auditor[f["auditor"]] += 1
            by_rule[f["rule_id"]] += 1
            line = f.get("line") or 1
            flagged_windows.add((result["id"], (line - 1) // WINDOW))
            line_text = text[line - 1] if 0 < line <= n else ""
            findings.append(
                {
                    "project": p.name,
                    "version": p.version,
                    "path": result["id"],
                    "language": result.get("language"),
                    "auditor": f["auditor"],
                    "rule_id": f["rule_id"],
                    "rule_name": f.get("rule_name"),
                    "severity": f["severity"],
                    "line": line,
                    "end_line": f.get("end_line") or line,
                    "message": f.get("message"),
                    "key": finding_key(f["rule_id"], line_text, f.get("evidence")),
                    "line_key": line_key(f["rule_id"], line_text),
                }
            )
    figures = {
        "files": len(report["results"]),
        "lines": lines,
        "lines_by_language": dict(by_language.most_common()),
        "findings_by_severity": {s: all_findings[s] for s in SEVERITIES},
        "blocking": len(findings),
        "blocking_per_10k_lines": round(1e4 * len(findings) / lines, 2) if lines else None,
        "blocking_by_auditor": dict(by_auditor.most_common()),
        "blocking_by_rule": dict(by_rule.most_common()),
        "windows": windows,
        "flagged_windows": len(flagged_windows),
        "input_errors": report.get("input_errors", 0),
    }
    return figures, findings


def per_10k(counter: Counter, lines: int) -> dict:
    return {k: round(1e4 * v / lines, 3) for k, v in counter.most_common()}


def run(
    projects: list[Project], *, refetch: bool = False, reaudit: bool = False, log=print
) -> dict:
    manifest: list[dict] = []
    per_project: dict[str, dict] = {}
    findings: list[dict] = []
    tools: dict = {}
    audit_seconds = 0.0
    failed: list[str] = []
    for p in projects:
        t0 = time.perf_counter()
        try:
            entry = fetch(p, refetch=refetch)
        except FetchError as exc:
            log(f"{p.registry:6} {p.name:30} {p.version:26} FETCH FAILED: {exc}")
            failed.append(f"{p.name} {p.version}: {exc}")
            continue
        fetched = time.perf_counter() - t0
        report, seconds = audit(p, reaudit=reaudit)
        tools = report.get("tool", tools)
        figures, found = collect(p, report)
        audit_seconds += seconds or 0.0
        manifest.append({**entry, "lines": figures["lines"], "files_audited": figures["files"]})
        per_project[p.name] = {"version": p.version, "language": p.language, **figures}
        findings.extend(found)
        log(
            f"{p.registry:6} {p.name:30} {p.version:26} {figures['lines']:>8,} lines "
            f"{figures['blocking']:>5} blocking ({figures['blocking_per_10k_lines']}/10k)"
            f"  fetch {fetched:5.1f}s audit {seconds if seconds is not None else 0:6.1f}s"
            + ("" if seconds is not None else " (cached)")
        )
    lines = sum(v["lines"] for v in per_project.values())
    by_auditor = Counter(f["auditor"] for f in findings)
    by_rule = Counter(f["rule_id"] for f in findings)
    by_language: Counter[str] = Counter()
    by_language_blocking: Counter[str] = Counter()
    for v in per_project.values():
        by_language[v["language"]] += v["lines"]
        by_language_blocking[v["language"]] += v["blocking"]
    windows = sum(v["windows"] for v in per_project.values())
    flagged = sum(v["flagged_windows"] for v in per_project.values())
    auditor_tools = (tools.get("auditors") or {}) if isinstance(tools, dict) else {}
    data = {
        "codeaudit": {
            "version": tools.get("version") if isinstance(tools, dict) else None,
            "commit": head_commit(),
            "codeaudit_tree": tree_state(),
            "bandit": (auditor_tools.get("security") or {}).get("bandit"),
            "tree_sitter": (auditor_tools.get("security") or {}).get("tree_sitter"),
            "detect_secrets": (auditor_tools.get("privacy") or {}).get("detect_secrets"),
        },
        "auditors": list(AUDITORS),
        "blocking_severities": sorted(BLOCKING, key=SEVERITIES.index),
        "projects": len(per_project),
        "lines": lines,
        "blocking_findings": len(findings),
        "blocking_per_10k_lines": round(1e4 * len(findings) / lines, 2) if lines else None,
        "blocking_per_10k_lines_by_auditor": per_10k(by_auditor, lines),
        "blocking_by_auditor": dict(by_auditor.most_common()),
        "blocking_per_10k_lines_by_rule": per_10k(by_rule, lines),
        "blocking_by_rule": dict(by_rule.most_common()),
        "by_project_language": {
            lang: {
                "lines": n,
                "blocking": by_language_blocking[lang],
                "blocking_per_10k_lines": round(1e4 * by_language_blocking[lang] / n, 2),
            }
            for lang, n in by_language.most_common()
        },
        "windows_of_30_lines": windows,
        "flagged_windows": flagged,
        "flagged_window_share": round(flagged / windows, 4) if windows else None,
        "audit_seconds": round(audit_seconds, 1),
        "per_project": per_project,
        "manifest": manifest,
    }
    if failed:
        raise FetchError("; ".join(failed))
    findings_file = REALCODE / "findings.jsonl"
    findings_file.write_text("".join(json.dumps(f) + "\n" for f in findings))
    data["findings_file"] = "~/.cache/codeaudit-bench/realcode/findings.jsonl"
    return data


def select(only: str | None) -> list[Project]:
    if not only:
        return list(PROJECTS)
    wanted = {n.strip() for n in only.split(",") if n.strip()}
    chosen = [p for p in PROJECTS if p.name in wanted]
    unknown = wanted - {p.name for p in chosen}
    if unknown:
        raise SystemExit(f"realcode: unknown project(s): {', '.join(sorted(unknown))}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated project names (default: all)")
    ap.add_argument("--refetch", action="store_true", help="download again even when cached")
    ap.add_argument("--reaudit", action="store_true", help="audit again even when cached")
    args = ap.parse_args(argv)
    try:
        data = run(select(args.only), refetch=args.refetch, reaudit=args.reaudit)
    except FetchError as exc:
        print(f"realcode: fetch failed: {exc}", file=sys.stderr)
        return 2
    byaud = data["blocking_per_10k_lines_by_auditor"]
    print(
        f"{data['projects']} projects, {data['lines']:,} lines: {data['blocking_findings']} "
        f"findings at medium+ = {data['blocking_per_10k_lines']} per 10k lines "
        f"({', '.join(f'{a} {v}' for a, v in byaud.items())}); 30-line windows flagged "
        f"{data['flagged_windows']}/{data['windows_of_30_lines']} = {data['flagged_window_share']}"
    )
    if not args.only:
        print("wrote", write_results("realcode", data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
