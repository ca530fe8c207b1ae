"""The memorization auditor: near-copies of corpus code, with source and licence (the index lives
in :mod:`codeaudit.corpus`)."""

from codeaudit.auditors.memorization.auditor import MemorizationAuditor

__all__ = ["MemorizationAuditor"]
