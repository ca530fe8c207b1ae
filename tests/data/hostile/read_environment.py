import os


def f():
    return os.environ.get("CODEAUDIT_HOSTILE_SECRET")
