with open("$CANARY_DIR/planted.txt", "w") as fh:
    fh.write("written from the sandbox")
with open("$CANARY_FILE", "a") as fh:
    fh.write("appended from the sandbox")


def f():
    return 1
