"""Built-in auditors: privacy, security, memorization, tests. See :mod:`codeaudit.auditors.base`."""
