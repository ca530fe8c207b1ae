import os
import time

# A double-forked, detached sleeper that tries to outlive the attempt.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)


def f():
    return 1
