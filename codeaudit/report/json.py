"""``--format json``: the stable ``codeaudit.report/1`` document (schema: ``schemas/report.schema.json``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..model import Report


def render(report: "Report", stream: TextIO, *, indent: int | None = 2, **_: Any) -> None:
    json.dump(report.to_dict(), stream, indent=indent, ensure_ascii=False)
    stream.write("\n")
