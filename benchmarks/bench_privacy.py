"""Privacy auditor vs detect-secrets' own in-process scan, side by side on one core.

The batch (``privacy_corpus.build_batch``): suggestions of 20–40 real lines read from the standard
library and site-packages, a fifth of them with an injected secret or personal-data leak. Each
repeat times

* **codeaudit**: a fresh ``PrivacyAuditor`` (all CA1xx rules and detect-secrets' plug-ins) on the
  whole batch, in memory;
* **detect-secrets**: ``SecretsCollection().scan_file`` with ``default_settings()`` (every plug-in,
  default filters) over the same suggestions written to temporary files.

It then checks that every secret detect-secrets reports is reported by the privacy auditor on the
same line with the same type (``evidence.secret_types``). The only reports left out are the
*Public IP* plug-in's hits that CA105 rejects (0.0.0.0, netmasks, networks, version numbers); they
are listed with their reason, never silently dropped.

Run: ``flock /tmp/codeaudit-heavy.lock .venv/bin/python benchmarks/bench_privacy.py``
(``--suggestions``, ``--repeats``, ``--seed``). Figures go to ``benchmarks/results/privacy.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import machine, median, p99, write_results  # noqa: E402
from privacy_corpus import build_batch  # noqa: E402


def pin_one_core() -> int | None:
    """Run on a single core, as the target says; returns the core or None where unsupported."""
    try:
        core = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {core})
        return core
    except (AttributeError, OSError):
        return None


def run_ours(items: list[dict]):
    from codeaudit.auditors.privacy.auditor import PrivacyAuditor
    from codeaudit.model import Suggestion

    suggestions = [
        Suggestion(id=i["id"], completion=i["completion"], language=i["language"], path=i["path"])
        for i in items
    ]
    start = time.perf_counter()
    auditor = PrivacyAuditor()
    outcomes = auditor.audit_batch(suggestions)
    return time.perf_counter() - start, outcomes


def run_detect_secrets(files: list[Path]):
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    start = time.perf_counter()
    with default_settings():
        collection = SecretsCollection()
        for path in files:
            collection.scan_file(str(path))
    elapsed = time.perf_counter() - start
    found = {}
    for filename, secrets in collection.data.items():
        found[Path(filename).stem] = {(s.line_number, s.type) for s in secrets}
    return elapsed, found


def per_item_latency(items: list[dict]) -> list[float]:
    from codeaudit.auditors.privacy.auditor import PrivacyAuditor
    from codeaudit.model import Suggestion

    auditor = PrivacyAuditor()
    auditor.audit_batch([Suggestion(id="warm", completion="x = 1\n")])
    out = []
    for i in items:
        s = Suggestion(
            id=i["id"], completion=i["completion"], language=i["language"], path=i["path"]
        )
        t = time.perf_counter()
        auditor.audit_one(s)
        out.append(time.perf_counter() - t)
    return out


def compare(items: list[dict], outcomes, theirs: dict[str, set]) -> dict:
    """Every (line, type) detect-secrets reported must be among our findings, or excluded with a reason."""
    matched, missing, excluded = 0, [], []
    for item, outcome in zip(items, outcomes):
        ours = {(f.line, t) for f in outcome.findings for t in f.evidence.get("secret_types", ())}
        left_out = {
            (e["line"], e["secret_type"]): e["reason"]
            for e in outcome.data.get("excluded_reports", [])
        }
        for line, kind in sorted(theirs.get(item["id"], ())):
            if (line, kind) in ours:
                matched += 1
            elif (line, kind) in left_out:
                excluded.append(
                    {"id": item["id"], "line": line, "type": kind, "reason": left_out[(line, kind)]}
                )
            else:
                missing.append({"id": item["id"], "line": line, "type": kind})
    return {"matched": matched, "missing": missing, "excluded": excluded}


def import_cost() -> dict:
    """Cold import of the privacy auditor module (``-X importtime``), and whether it pulls in detect-secrets."""
    code = "import sys, codeaudit.auditors.privacy.auditor; print('detect_secrets' in sys.modules)"
    runs = []
    for _ in range(5):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
        )
        total = sum(
            int(m.group(1))
            for m in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| (?!\s)", proc.stderr)
        )
        runs.append(total / 1e6)
        loaded = proc.stdout.strip() == "True"
    return {"seconds_median": round(median(runs), 4), "imports_detect_secrets": loaded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suggestions", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    core = pin_one_core()
    items = build_batch(args.suggestions, seed=args.seed)
    lines = [item["completion"].count("\n") + 1 for item in items]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for item in items:
            path = Path(tmp) / (item["id"] + Path(item["path"]).suffix)
            path.write_text(item["completion"], encoding="utf-8", newline="")
            files.append(path)
        # Warm both (imports, plug-in set-up), then alternate them so drift hits both alike.
        run_ours(items[:20])
        run_detect_secrets(files[:20])
        ours_t, theirs_t = [], []
        for _ in range(args.repeats):
            t, outcomes = run_ours(items)
            ours_t.append(t)
            t, theirs = run_detect_secrets(files)
            theirs_t.append(t)
    latency = per_item_latency(items)
    check = compare(items, outcomes, theirs)
    n = len(items)
    ours_rate, theirs_rate = n / median(ours_t), n / median(theirs_t)
    ratio = ours_rate / theirs_rate
    imports = import_cost()
    found = sum(len(v) for v in theirs.values())
    rows = [
        ("codeaudit privacy auditor (all rules)", ours_rate, 1000 * median(ours_t) / n),
        ("detect-secrets scan_file (default settings)", theirs_rate, 1000 * median(theirs_t) / n),
    ]
    print(
        f"{n} suggestions, {min(lines)}-{max(lines)} lines (median {median(lines)}), {args.repeats} repeats, core {core}"
    )
    print(f"{'':45s} {'suggestions/s':>14s} {'ms/suggestion':>14s}")
    for name, rate, ms in rows:
        print(f"{name:45s} {rate:14.0f} {ms:14.3f}")
    print(f"{'ratio (codeaudit / detect-secrets)':45s} {ratio:14.2f}x")
    print(
        f"per-suggestion latency: median {1000 * median(latency):.3f} ms, p99 {1000 * p99(latency):.3f} ms"
    )
    print(
        f"detect-secrets reported {found} secrets: {check['matched']} matched (same line, same type), "
        f"{len(check['excluded'])} left out with a reason, {len(check['missing'])} missing"
    )
    for e in check["excluded"]:
        print(f"  left out: {e['id']}:{e['line']} {e['type']} ({e['reason']})")
    for e in check["missing"]:
        print(f"  MISSING: {e['id']}:{e['line']} {e['type']}")
    print(
        f"import codeaudit.auditors.privacy.auditor: {imports['seconds_median']:.3f} s cold, "
        f"imports detect-secrets: {imports['imports_detect_secrets']}"
    )
    targets = {"suggestions_per_second_min": 1000, "ratio_min": 2.5}
    met = {
        "suggestions_per_second": ours_rate >= 1000,
        "ratio": ratio >= 2.5,
        "no_missing_secrets": not check["missing"],
    }
    target = write_results(
        "privacy",
        {
            "benchmark": "privacy auditor vs detect-secrets SecretsCollection.scan_file, in process, one core",
            "machine_extra": {
                "pinned_core": core,
                **{k: v for k, v in machine().items() if k == "cores"},
            },
            "batch": {
                "suggestions": n,
                "seed": args.seed,
                "lines_min": min(lines),
                "lines_max": max(lines),
                "lines_median": median(lines),
                "injected": sum(1 for i in items if "injected" in i),
            },
            "repeats": args.repeats,
            "codeaudit": {
                "seconds": [round(t, 4) for t in ours_t],
                "median_seconds": round(median(ours_t), 4),
                "suggestions_per_second": round(ours_rate, 1),
                "latency_ms_median": round(1000 * median(latency), 4),
                "latency_ms_p99": round(1000 * p99(latency), 4),
            },
            "detect_secrets": {
                "seconds": [round(t, 4) for t in theirs_t],
                "median_seconds": round(median(theirs_t), 4),
                "files_per_second": round(theirs_rate, 1),
            },
            "ratio": round(ratio, 2),
            "secrets_check": {
                "reported_by_detect_secrets": found,
                "matched": check["matched"],
                "left_out_with_reason": check["excluded"],
                "missing": check["missing"],
            },
            "import": imports,
            "targets": targets,
            "met": met,
        },
    )
    print(f"results: {target.relative_to(HERE.parent)}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
