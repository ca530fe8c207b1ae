"""codeaudit: audit AI-generated code for privacy leaks, memorised code, security smells and test
pass rate.

>>> import codeaudit
>>> report = codeaudit.audit([{"id": "s1", "completion": "print('hi')\\n"}], auditors=["privacy"])
>>> report.results[0].verdict.value
'pass'

Names are imported lazily so that ``import codeaudit`` (and ``codeaudit --version``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__
from .lazy import lazy_names

__all__ = [
    "__version__",
    "audit",
    "Suggestion",
    "Finding",
    "Report",
    "AuditResult",
    "Severity",
    "Confidence",
    "Verdict",
    "Config",
    "load_config",
    "read_input",
    "Auditor",
    "Outcome",
    "Rule",
]

_LAZY = {
    "audit": "codeaudit.pipeline",
    "Suggestion": "codeaudit.model",
    "Finding": "codeaudit.model",
    "Report": "codeaudit.model",
    "AuditResult": "codeaudit.model",
    "Severity": "codeaudit.model",
    "Confidence": "codeaudit.model",
    "Verdict": "codeaudit.model",
    "Config": "codeaudit.config",
    "load_config": "codeaudit.config",
    "read_input": "codeaudit.inputs",
    "Auditor": "codeaudit.auditors.base",
    "Outcome": "codeaudit.auditors.base",
    "Rule": "codeaudit.registry",
}

if TYPE_CHECKING:  # pragma: no cover
    from .auditors.base import Auditor, Outcome
    from .config import Config, load_config
    from .inputs import read_input
    from .model import AuditResult, Confidence, Finding, Report, Severity, Suggestion, Verdict
    from .pipeline import audit
    from .registry import Rule


__getattr__, __dir__ = lazy_names(globals(), _LAZY, __all__)
