"""The generation layer (optional extra ``codeaudit[generate]``), installed as ``codeaudit.generators``."""
