# Kept in its own tiny module so `codeaudit --version` never imports the audit stack.
__version__ = "0.1.0"
