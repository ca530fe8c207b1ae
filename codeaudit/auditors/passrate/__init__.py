"""The ``tests`` auditor: pass@k of suggestions against their unit tests in the sandbox, and the
HumanEval evaluation it shares with ``codeaudit eval humaneval`` (:mod:`.humaneval`, :mod:`.passk`).

The package is not named ``tests``: that name belongs to the test suite.
"""

from codeaudit.auditors.passrate.auditor import TestsAuditor

__all__ = ["TestsAuditor"]
