"""``--format json``: the stable ``codeaudit.report/1`` document (schema: ``schemas/report.schema.json``).

Secrets that one auditor masked in its snippet are masked in every other finding of the same
suggestion too (see :class:`~codeaudit.redact.Masker`), so an auditor that quotes a secret in its
message cannot leak it. The pipeline already did this for reports it built; doing it again here
also covers reports assembled by hand.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from ..redact import Masker, masked

if TYPE_CHECKING:
    from ..model import Report


def render(report: Report, stream: TextIO, *, indent: int | None = 2, **_: Any) -> None:
    doc = report.to_dict()
    doc["tool"] = _without_home(doc.get("tool"))
    for result, out in zip(report.results, doc["results"]):
        masker = Masker.of(result)
        out["findings"] = masked(out["findings"], masker)
        out["errors"] = masked(out["errors"], masker)
    json.dump(doc, stream, indent=indent, ensure_ascii=False)
    stream.write("\n")


def _without_home(value: Any) -> Any:
    """The tool section with the auditing user's own home folder written as ``~`` (the default
    corpus location and cache paths live there; a shared report should not name the user)."""
    import os

    home = os.path.expanduser("~")
    if not home or home in ("/", "~"):
        return value
    if isinstance(value, str):
        return (
            "~" + value[len(home) :] if value == home or value.startswith(home + os.sep) else value
        )
    if isinstance(value, list):
        return [_without_home(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_home(v) for k, v in value.items()}
    return value
