"""Runs inside benchmarks/.venv-codeshield: scans suggestions with Meta's CodeShield and times each scan.

Input (stdin): JSON lines ``{"id", "code", "language"}``. Output (stdout): one JSON line per
suggestion ``{"id", "seconds", "insecure", "issues": [{"line", "cwe", "analyzer", "pattern"}]}``,
then a final line ``{"summary": {...}}``.

semgrep check. CodeShield runs semgrep with ``--project-root /`` on a temporary file; recent
semgrep releases then scan no file and skip every rule *without an error*, so CodeShield's
semgrep rules silently never fire and a scan costs a few milliseconds. Before the real run the
worker scans a probe that only a semgrep rule flags (C ``malloc`` of an unchecked product,
CWE-680 — none of CodeShield's regex rules matches it). If the probe is not flagged, the
worker drops the ``--project-root /`` argument from the semgrep command line, *in this process
only* (a wrapper around ``insecure_code_detector._run_command``; nothing on disk changes), and
checks the probe again. The summary says whether semgrep really scanned and whether the
workaround was needed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from codeshield.cs import CodeShield
from codeshield.insecure_code_detector import insecure_code_detector as icd
from codeshield.insecure_code_detector.languages import Language

PROBE = "#include <stdlib.h>\nint *grid(int rows, int cols) {\n    int *g = malloc(rows * cols);\n    return g;\n}\n"


async def scan(code: str, language: str) -> tuple[float, object]:
    started = time.perf_counter()
    result = await CodeShield.scan_code(code, Language(language))
    return time.perf_counter() - started, result


def probe_flagged(result: object) -> bool:
    return any("680" in str(getattr(i, "cwe_id", "")) for i in (result.issues_found or []))


def drop_project_root() -> None:
    original = icd._run_command

    async def run_command(command: list[str]) -> str:
        if "--project-root" in command:
            at = command.index("--project-root")
            command = command[:at] + command[at + 2 :]
        return await original(command)

    icd._run_command = run_command


async def main() -> None:
    seconds, result = await scan(PROBE, "c")
    workaround = False
    if not probe_flagged(result):
        drop_project_root()
        workaround = True
        seconds, result = await scan(PROBE, "c")
    scanned = probe_flagged(result)
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    for item in items:
        elapsed, result = await scan(item["code"], item["language"])
        issues = [
            {"line": i.line, "cwe": i.cwe_id, "analyzer": str(i.analyzer), "pattern": i.pattern_id}
            for i in (result.issues_found or [])
        ]
        print(
            json.dumps(
                {
                    "id": item["id"],
                    "seconds": elapsed,
                    "insecure": bool(result.is_insecure),
                    "issues": issues,
                }
            ),
            flush=True,
        )
    print(
        json.dumps(
            {
                "summary": {
                    "semgrep_scanned": scanned,
                    "project_root_workaround": workaround,
                    "probe_seconds": seconds,
                }
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
