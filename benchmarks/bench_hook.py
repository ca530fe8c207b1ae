"""The pre-commit hook against bandit's and detect-secrets' own hooks, side by side, cold processes.

A temporary git repository gets a staged commit of 20 files with 1,000 added lines, made of real
code read at run time from this interpreter's standard library, its C headers and the installed
site-packages (Python, C, JavaScript, shell, Go, JSON/YAML): half the files are new (50 lines
each), half are real files with two 25-line blocks added back into them. Each repeat runs, in a
new process each time and in rotating order:

* ``codeaudit hook FILES`` (default auditors except tests: privacy, security, memorization with
  its default standard-library corpus already indexed; each auditor in a forked process, at the
  same time), and the same with ``--serial`` (one after another, in one process);
* ``bandit -q PY_FILES`` (bandit's hook runs on Python files);
* ``detect-secrets-hook FILES``;

and, for start-up cost, ``python -c pass`` and ``codeaudit --version`` (at least 10 runs each).
Targets (issue 7): hook ≤ 0.6 s; hook ≤ 0.5× each anchor; ``--version`` ≤ 150 ms over a bare
interpreter. It also records where the hook's time goes: per-auditor seconds from the report and
the import cost of the heavy packages (``-X importtime``).

Run: ``flock /tmp/codeaudit-heavy.lock .venv/bin/python benchmarks/bench_hook.py``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, p99, time_process, write_results

BIN = Path(sys.executable).parent
FILES = 20
ADDED_PER_FILE = 50
TARGET_WALL = 0.6
TARGET_RATIO = 0.5
TARGET_VERSION_OVERHEAD = 0.150
HEAVY = (
    "bandit",
    "detect_secrets",
    "datasketch",
    "scipy",
    "numpy",
    "tree_sitter",
    "rich",
    "pygments",
    "yaml",
    "stevedore",
    "requests",
    "codeaudit",
)


def _lines(p: Path) -> list[str] | None:
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.splitlines(keepends=True)
    if not lines or max(len(x) for x in lines) > 200 or "\x00" in text:
        return None  # minified or binary-ish: not what people commit by hand
    return lines


def pick_files() -> list[tuple[str, Path]]:
    """20 real files of several languages, chosen deterministically from this installation."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    include = Path(sysconfig.get_paths()["include"])
    site = Path(sysconfig.get_paths()["purelib"])
    pools = {
        "py": sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py")),
        "c": sorted(include.glob("*.h"))
        + sorted(site.glob("*/*.c"))
        + sorted(site.glob("*/*/*.c")),
        "js": sorted(site.glob("**/*.js")),
        "sh": sorted(site.glob("**/*.sh")),
        "go": sorted(site.glob("**/*.go")),
        "conf": sorted(site.glob("*/*.json"))
        + sorted(site.glob("*/*.yaml"))
        + sorted(site.glob("*/*/*.yaml")),
    }
    want = {"py": 9, "c": 3, "js": 3, "sh": 2, "go": 1, "conf": 2}
    chosen: list[tuple[str, Path]] = []
    for kind, count in want.items():
        got = 0
        # Spread the picks over the sorted pool so the set is varied but stable.
        pool = pools[kind]
        step = max(1, len(pool) // (count * 4 or 1))
        for p in pool[::step] + pool:
            if got == count:
                break
            if any(p == q for _, q in chosen):
                continue
            lines = _lines(p)
            if lines is not None and 120 <= len(lines) <= 2500:
                chosen.append((kind, p))
                got += 1
    for p in pools["py"]:  # languages this installation lacks are made up with Python files
        if len(chosen) >= FILES:
            break
        lines = _lines(p)
        if lines is not None and 120 <= len(lines) <= 2500 and all(p != q for _, q in chosen):
            chosen.append(("py", p))
    return chosen[:FILES]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def build_repo(repo: Path) -> tuple[list[str], dict]:
    """Commit the base versions, then stage the versions that add exactly 1,000 lines.

    Even-numbered picks become new files: a whole real file when it has 30-70 lines, else its
    first lines up to a top-level statement boundary (a new file is complete code, not a file
    cut mid-statement). The others are real files into which blocks of lines are added back
    (two per file, at a third and two thirds of the file), sized so the total is 1,000.
    """
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "commit.gpgsign", "false")
    picks = pick_files()
    staged: dict[str, str] = {}
    base: dict[str, str] = {}
    kinds: dict[str, int] = {}
    target = FILES * ADDED_PER_FILE
    new_lines = 0
    modified: list[tuple[str, list[str]]] = []
    for i, (kind, src) in enumerate(picks):
        lines = _lines(src) or []
        name = f"{kind}/{i:02d}_{src.name}"
        kinds[kind] = kinds.get(kind, 0) + 1
        if i % 2 == 0:
            cut = _boundary(lines, ADDED_PER_FILE)
            staged[name] = "".join(lines[:cut])
            new_lines += cut
        else:
            modified.append((name, lines))
    remaining = target - new_lines
    for j, (name, lines) in enumerate(modified):
        share = remaining // len(modified) + (1 if j < remaining % len(modified) else 0)
        first, second = share // 2, share - share // 2
        a, b = len(lines) // 3, 2 * len(lines) // 3
        base[name] = "".join(lines[:a] + lines[a + first : b] + lines[b + second :])
        staged[name] = "".join(lines)
    for name, text in base.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    (repo / "README").write_text("bench\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    for name, text in staged.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    numstat = subprocess.run(
        ["git", "diff", "--cached", "--numstat"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    added = sum(int(line.split("\t")[0]) for line in numstat.splitlines())
    facts = {
        "files": len(staged),
        "added_lines": added,
        "lines_in_staged_files": sum(t.count("\n") for t in staged.values()),
        "new_files": len(staged) - len(base),
        "modified_files": len(base),
        "languages": kinds,
        "sources": [str(src) for _, src in picks],
    }
    return sorted(staged), facts


def _boundary(lines: list[str], near: int) -> int:
    """A line count close to ``near`` after which a new top-level statement or block starts."""
    if len(lines) <= near + 20:
        return len(lines)
    for delta in range(0, near):
        for k in (near + delta, near - delta):
            if (
                10 <= k < len(lines)
                and lines[k][:1] not in ("", " ", "\t", "\n", ")", "]", "}", "#")
                and lines[k - 1].strip() == ""
            ):
                return k
    return near


#: Run in a fresh process inside the benchmark repository: the hook's phases one after another,
#: each auditor's import, construction and batch timed apart (what the lead needs to share out
#: the start-up budget). Same work as ``codeaudit hook FILES``, instrumented.
PHASES = r"""
import json, sys, time
t = [("start", time.perf_counter())]
def mark(name): t.append((name, time.perf_counter()))
from codeaudit import pipeline
from codeaudit.change import gitdiff, hook
from codeaudit.config import load_config
mark("codeaudit core imports")
top, gdir = gitdiff.locate()
changes = gitdiff.staged_changes(top, gdir)
files, skipped = hook._changed_files(top, changes, sys.argv[1:])
mark("git: staged diff and blobs")
config = load_config(search_from=top)
settings = hook.HookSettings.from_config(config)
mark("configuration")
suggestions, plan, _, _, _ = hook._plan(files)
mark("clusters and contexts")
from codeaudit.registry import load_auditor_class
from codeaudit.auditors.base import Auditor
per = {}
replays = []
for name in settings.auditors:
    a = time.perf_counter(); cls = load_auditor_class(name); b = time.perf_counter()
    inst = cls(config); c = time.perf_counter()
    outcomes = inst.audit_batch(suggestions); d = time.perf_counter()
    per[name] = {"import_s": round(b - a, 4), "init_s": round(c - b, 4), "audit_s": round(d - c, 4)}
    # The same outcomes, handed back instantly: what is left of audit_files is codeaudit's work.
    replay = type("Replay", (Auditor,), {"name": name, "rules": classmethod(lambda cls, i=inst: i.rules()),
                                         "audit_batch": lambda self, batch, progress=None, o=outcomes: o,
                                         "describe": lambda self, i=inst: i.describe()})
    replays.append(replay(config))
mark("auditors (import, construction, batch)")
result = hook.audit_files(files, config, settings=settings, auditors=replays)
mark("pipeline, mapping to file lines, suppressions, baseline, provenance")
import io
hook.write_text(result, io.StringIO())
mark("text output")
phases = {b[0]: round(b[1] - a[1], 4) for a, b in zip(t, t[1:])}
print(json.dumps({"phases": phases, "auditors": per}))
"""


def phase_costs(files: list[str], repo: Path, env: dict, runs: int = 3) -> dict:
    """Median seconds of each phase and of each auditor's import / construction / batch."""
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", PHASES, *files],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        samples.append(json.loads(proc.stdout))
    phases = {k: round(median([s["phases"][k] for s in samples]), 4) for k in samples[0]["phases"]}
    auditors = {
        name: {k: round(median([s["auditors"][name][k] for s in samples]), 4) for k in parts}
        for name, parts in samples[0]["auditors"].items()
    }
    return {"phases_s": phases, "auditors_s": auditors}


def import_costs(cmd: list[str], repo: Path, env: dict) -> dict[str, float]:
    """Cumulative import milliseconds of the heavy top-level packages in one cold run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    costs: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if m and m.group(3).split(".")[0] in HEAVY and "." not in m.group(3):
            costs[m.group(3)] = round(costs.get(m.group(3), 0) + int(m.group(1)) / 1000, 1)
    return dict(sorted(costs.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--startup-repeats", type=int, default=15)
    ap.add_argument("--auditors", help="override the hook's auditors (default: its defaults)")
    ap.add_argument(
        "--no-write",
        action="store_true",
        help="print only; do not write benchmarks/results/hook.json",
    )
    args = ap.parse_args(argv)

    codeaudit = str(BIN / "codeaudit")
    bandit = shutil.which("bandit", path=str(BIN)) or "bandit"
    detect = shutil.which("detect-secrets-hook", path=str(BIN)) or "detect-secrets-hook"
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        # Every tool runs with bytecode caching as in a normal installation: this machine sets
        # PYTHONDONTWRITEBYTECODE=1, which would make each process recompile its modules from
        # source. The caches go to a temporary prefix, warmed by the untimed first runs.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        repo = Path(tmp) / "repo"
        repo.mkdir()
        files, facts = build_repo(repo)
        py_files = [f for f in files if f.endswith(".py")]
        hook_cmd = [codeaudit, "hook", *files] + (
            ["--auditors", args.auditors] if args.auditors else []
        )
        commands = {
            "codeaudit hook": (hook_cmd, (0, 1)),
            "codeaudit hook --serial": ([*hook_cmd, "--serial"], (0, 1)),
            "bandit": ([bandit, "-q", *py_files], (0, 1)),
            "detect-secrets-hook": ([detect, *files], (0, 1)),
        }
        # One untimed run each: page cache, and the memorization corpus index if it is missing.
        for cmd, ok in commands.values():
            time_process(cmd, cwd=repo, ok=ok, env=env)
        time_process([sys.executable, "-c", "pass"], env=env)
        time_process([codeaudit, "--version"], env=env)
        report_path = Path(tmp) / "report.json"
        auditor_runs: dict[str, list[float]] = {}
        for _ in range(
            3
        ):  # where the time goes: each auditor's seconds, as the report records them
            subprocess.run(
                [*hook_cmd, "--format", "json", "-o", str(report_path)],
                cwd=repo,
                capture_output=True,
                env=env,
            )
            report = json.loads(report_path.read_text())
            for name, info in report["tool"]["auditors"].items():
                auditor_runs.setdefault(name, []).append(info.get("seconds") or 0.0)

        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for r in range(args.repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                cmd, ok = commands[name]
                times[name].append(time_process(cmd, cwd=repo, ok=ok, env=env))
        bare, version = [], []
        for _ in range(args.startup_repeats):
            bare.append(time_process([sys.executable, "-c", "pass"], env=env))
            version.append(time_process([codeaudit, "--version"], env=env))
        phases = phase_costs(files, repo, env) if not args.auditors else None
        # --serial: with the auditors in forked children, the parent would not see their imports.
        imports = import_costs(
            ["-m", "codeaudit", "hook", "--serial", *files]
            + (["--auditors", args.auditors] if args.auditors else []),
            repo,
            env,
        )

    ours = median(times["codeaudit hook"])
    rows = []
    for name, values in times.items():
        med = median(values)
        rows.append(
            {
                "command": name,
                "median_s": round(med, 4),
                "p99_s": round(p99(values), 4),
                "runs": len(values),
                "ours_over_this": round(ours / med, 3),
            }
        )
    version_overhead = median(version) - median(bare)
    auditors = report["tool"]["auditors"]
    per_auditor = {name: round(median(values), 4) for name, values in auditor_runs.items()}
    # codeaudit's own work (core imports, git, contexts, pipeline, output): every phase but the auditors'.
    own = (
        sum(v for k, v in phases["phases_s"].items() if not k.startswith("auditors"))
        if phases
        else None
    )
    summary = report["summary"]
    from importlib.metadata import version as dist_version

    results = {
        "anchors": {
            "bandit": dist_version("bandit"),
            "detect-secrets": dist_version("detect-secrets"),
        },
        "workload": facts,
        "hook_auditors": list(auditors),
        "hook_findings": summary["findings"],
        "timings": rows,
        "startup": {
            "bare_python_median_s": round(median(bare), 4),
            "codeaudit_version_median_s": round(median(version), 4),
            "overhead_s": round(version_overhead, 4),
            "runs": len(bare),
        },
        "hook_breakdown": {
            "python_start_s": round(median(bare), 4),
            "per_auditor_seconds_in_process": per_auditor,
            "codeaudit_own_work_s": round(own, 4) if own is not None else None,
            "phases": phases,
            "import_ms": imports,
        },
        "targets": {
            "hook_wall_le_0.6s": {"value": round(ours, 4), "met": ours <= TARGET_WALL},
            "hook_le_0.5x_bandit": {
                "value": round(ours / median(times["bandit"]), 3),
                "met": ours <= TARGET_RATIO * median(times["bandit"]),
            },
            "hook_le_0.5x_detect_secrets": {
                "value": round(ours / median(times["detect-secrets-hook"]), 3),
                "met": ours <= TARGET_RATIO * median(times["detect-secrets-hook"]),
            },
            "version_overhead_le_150ms": {
                "value": round(version_overhead, 4),
                "met": version_overhead <= TARGET_VERSION_OVERHEAD,
            },
        },
    }

    print(
        f"workload: {facts['files']} files, {facts['added_lines']} added lines ({facts['lines_in_staged_files']} lines in the staged files), languages {facts['languages']}"
    )
    print(f"hook auditors: {', '.join(auditors)}; findings on added lines: {summary['findings']}")
    print(f"{'command':<22}{'median s':>10}{'p99 s':>10}{'ours/this':>11}")
    for row in rows:
        print(
            f"{row['command']:<22}{row['median_s']:>10.3f}{row['p99_s']:>10.3f}{row['ours_over_this']:>11.2f}"
        )
    print(
        f"python -c pass {median(bare) * 1000:.1f} ms · codeaudit --version {median(version) * 1000:.1f} ms · overhead {version_overhead * 1000:.1f} ms"
    )
    print(
        f"hook breakdown: python start {median(bare):.3f} s; auditors' batches as the report times them {per_auditor}"
        + (
            f"; codeaudit's own work (core imports, git, contexts, pipeline, output) {own:.3f} s"
            if own is not None
            else ""
        )
    )
    print("import ms (cumulative, top-level):", imports)
    if phases:
        print("phases (s, one instrumented process, median of 3):", phases["phases_s"])
        print("auditors (s):", phases["auditors_s"])
    for name, target in results["targets"].items():
        print(f"  {name}: {target['value']} -> {'met' if target['met'] else 'NOT met'}")
    if not args.no_write:
        print("wrote", write_results("hook", results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
