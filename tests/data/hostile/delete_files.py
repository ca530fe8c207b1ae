import os
import shutil

os.remove("$CANARY_FILE")
shutil.rmtree("$CANARY_DIR")


def f():
    return 1
