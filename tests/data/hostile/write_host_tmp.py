with open("$HOST_TMP_FILE", "w") as fh:
    fh.write("written from the sandbox")


def f():
    return 1
