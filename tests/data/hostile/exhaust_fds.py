import os

held = []
while True:
    held.append(os.open("/dev/null", os.O_RDONLY))
