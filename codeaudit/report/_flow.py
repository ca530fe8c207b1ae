"""``evidence.flow`` of a taint finding (source, steps, sink), shared by the report formats.

A flow is ``{"source": {line, text, kind}, "steps": [{line, text}], "sink": {line, text}}``;
lines count inside the completion, and a step outside it carries ``"in": "prompt"|"suffix"``.

>>> flow = {"source": {"line": 1, "text": "q = req.query.q", "kind": "request data"},
...         "steps": [], "sink": {"line": 2, "text": "exec(q)"}}
>>> flow_steps({"flow": flow})
[('source', 1, 'q = req.query.q (request data)'), ('sink', 2, 'exec(q)')]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flow_steps(evidence: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """(role, line, text) for each point of the finding's flow; ``[]`` when it has none."""
    flow = evidence.get("flow")
    if not isinstance(flow, Mapping):
        return []
    out: list[tuple[str, int, str]] = []

    def add(role: str, point: Any, extra: str = "") -> None:
        if not isinstance(point, Mapping) or not isinstance(point.get("line"), int):
            return
        text = str(point.get("text", ""))
        if extra:
            text = f"{text} ({extra})"
        if point.get("in"):
            text = f"{text} [in the {point['in']}]"
        out.append((role, point["line"], text))

    source = flow.get("source")
    add("source", source, str(source.get("kind", "")) if isinstance(source, Mapping) else "")
    for step in flow.get("steps") or ():
        add("step", step)
    add("sink", flow.get("sink"))
    return out


def without_flow(evidence: Mapping[str, Any]) -> Mapping[str, Any]:
    """The evidence without its flow (rendered on its own)."""
    if "flow" not in evidence:
        return evidence
    return {k: v for k, v in evidence.items() if k != "flow"}
