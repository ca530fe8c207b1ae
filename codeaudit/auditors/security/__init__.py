"""The security auditor: bandit for Python (:mod:`.bandit_adapter`) and rule packs as data for the
other languages (:mod:`.rulepack`, rules in ``rules/*.yaml``)."""

from codeaudit.auditors.security.auditor import SecurityAuditor

__all__ = ["SecurityAuditor"]
