def f():
    with open("$SSH_KEY") as fh:
        return fh.read()
