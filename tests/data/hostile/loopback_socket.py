import socket


def f():
    with socket.create_connection(("127.0.0.1", $PORT), timeout=1) as conn:
        conn.sendall(b"hello from the sandbox")
    return "connected"
