import os


def f():
    return sorted(os.listdir("$FAKE_HOME"))
