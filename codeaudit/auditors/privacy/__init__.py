"""The privacy auditor: user names in paths and remotes, credentials, e-mail and IP addresses,
internal hosts (:mod:`.leakage`) and secrets (detect-secrets, :mod:`.secrets`)."""

from codeaudit.auditors.privacy.auditor import PrivacyAuditor

__all__ = ["PrivacyAuditor"]
