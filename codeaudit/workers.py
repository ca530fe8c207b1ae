"""The one place codeaudit runs work in other processes.

* :func:`ordered_map`: a function over many items in a pool of worker processes, results in
  order (corpus builds, ``corpus build --workers``). The pool is multiprocessing's, started by
  forkserver (else spawn): workers do not inherit the caller's threads or open indexes.
* :class:`Forked`: one function started at once in a forked child, answering with messages
  through a pipe (``hook --parallel`` runs each auditor in one). A bare fork costs nothing to
  import, where multiprocessing's process objects cost 8 ms of imports on a 0.3 s hook run.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(func: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``func`` over ``items`` in up to ``workers`` processes, yielding results in item order
    (in this process when ``workers`` is 1 or there is a single item). ``func`` must be
    picklable, and a script that calls this must guard its top level with
    ``if __name__ == "__main__":``, as for any multiprocessing pool.

    >>> list(ordered_map(abs, [-1, 2, -3], workers=1))
    [1, 2, 3]
    """
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield func(item)
        return
    import multiprocessing as mp

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(min(workers, len(items))) as pool:
        # imap keeps item order; chunks of one keep the pipe busy without holding everything.
        yield from pool.imap(func, items, chunksize=1)


class Forked:
    """``target(send, *args)`` run in a forked child started now; :meth:`receive` returns what it
    sent, in order (``None`` once the child is gone without sending more).

    The child leaves with ``os._exit`` (never running the parent's exit code); messages are
    pickled, so they must be plain data. :meth:`close` reaps the child, killing it if it is still
    running (the parent stopped early).

    >>> child = Forked(lambda send, n: [send(i * i) for i in range(n)], 3)
    >>> [child.receive() for _ in range(4)]
    [0, 1, 4, None]
    >>> child.close()
    """

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, answer, leave without running the parent's exit code
            os.close(read)
            try:
                with os.fdopen(write, "wb") as channel:

                    def send(message: Any) -> None:
                        pickle.dump(message, channel, protocol=pickle.HIGHEST_PROTOCOL)
                        channel.flush()

                    target(send, *args)
            finally:
                os._exit(0)
        os.close(write)
        self._pid: int | None = pid
        self._channel: Any = os.fdopen(read, "rb")

    @staticmethod
    def available() -> bool:
        """Whether this platform can fork (not Windows)."""
        return hasattr(os, "fork")

    def receive(self) -> Any | None:
        if self._channel is None:
            return None
        try:
            return pickle.load(self._channel)
        except Exception:  # noqa: BLE001 - the child died before it could answer (EOF, a torn message)
            return None

    def close(self) -> None:
        """Reap the child; one still running is killed first."""
        if self._pid is not None:
            import signal

            try:
                if os.waitpid(self._pid, os.WNOHANG) == (0, 0):
                    os.kill(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
            except OSError:
                pass
            self._pid = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
