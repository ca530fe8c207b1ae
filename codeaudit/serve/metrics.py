"""Prometheus text-format metrics (exposition format 0.0.4), kept in process without a library.

>>> m = Metrics()
>>> m.request("/v1/completions", 200, 0.012)
>>> 'codeaudit_serve_requests_total{route="/v1/completions",status="200"} 1' in m.render()
True
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
AUDIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += value

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        out = [
            f'{name}_bucket{{{labels}{sep}le="{b:g}"}} {c}'
            for b, c in zip(self.buckets, self.counts)
        ]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.total}')
        wrap = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{wrap} {self.sum:.6f}")
        out.append(f"{name}_count{wrap} {self.total}")
        return out


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {}
        self.audit = Histogram(AUDIT_BUCKETS)
        self.findings: dict[tuple[str, str], int] = defaultdict(int)
        self.choices: dict[str, int] = defaultdict(int)
        self.gauges: dict[str, Callable[[], float]] = {}

    def request(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, status)] += 1
            self.latency.setdefault(route, Histogram(LATENCY_BUCKETS)).observe(seconds)

    def choice(self, action: str, findings: list[dict], audit_seconds: float | None) -> None:
        with self._lock:
            self.choices[action] += 1
            for f in findings:
                self.findings[(f["rule_id"], f["action"])] += 1
            if audit_seconds is not None:
                self.audit.observe(audit_seconds)

    def render(self) -> str:
        with self._lock:
            out = [
                "# HELP codeaudit_serve_requests_total Requests answered, by route and status.",
                "# TYPE codeaudit_serve_requests_total counter",
            ]
            for (route, status), n in sorted(self.requests.items()):
                out.append(
                    f'codeaudit_serve_requests_total{{route="{_label(route)}",status="{status}"}} {n}'
                )
            out += [
                "# HELP codeaudit_serve_request_seconds Request latency, by route.",
                "# TYPE codeaudit_serve_request_seconds histogram",
            ]
            for route, h in sorted(self.latency.items()):
                out += h.lines("codeaudit_serve_request_seconds", f'route="{_label(route)}"')
            out += [
                "# HELP codeaudit_serve_audit_seconds Audit time per choice.",
                "# TYPE codeaudit_serve_audit_seconds histogram",
                *self.audit.lines("codeaudit_serve_audit_seconds", ""),
                "# HELP codeaudit_serve_findings_total Findings in answered choices, by rule and action.",
                "# TYPE codeaudit_serve_findings_total counter",
            ]
            for (rule, action), n in sorted(self.findings.items()):
                out.append(
                    f'codeaudit_serve_findings_total{{rule="{_label(rule)}",action="{action}"}} {n}'
                )
            out += [
                "# HELP codeaudit_serve_choices_total Choices answered, by the policy's action.",
                "# TYPE codeaudit_serve_choices_total counter",
            ]
            for action, n in sorted(self.choices.items()):
                out.append(f'codeaudit_serve_choices_total{{action="{action}"}} {n}')
            out += [
                "# HELP codeaudit_serve_blocked_choices_total Choices withheld by the policy.",
                "# TYPE codeaudit_serve_blocked_choices_total counter",
                f"codeaudit_serve_blocked_choices_total {self.choices.get('block', 0)}",
            ]
            for name, get in sorted(self.gauges.items()):
                out += [f"# TYPE {name} gauge", f"{name} {get():g}"]
        return "\n".join(out) + "\n"
