"""The warm process that runs inside the sandbox and forks one pair of processes per attempt.

This file is run as ``python -I -B -c <this source> <settings JSON>`` by
:mod:`codeaudit.sandbox`; it imports nothing from codeaudit (the package is not visible inside the
sandbox) and only the standard library.

Per attempt the zygote forks two children from its own clean state:

* the **sample** process runs the untrusted code (prompt + completion) under its own unprivileged
  uid, in a fresh working folder, with resource limits, and serves requests over a socket;
* the **tests** process runs the test code (``check(entry_point)``). It never executes the
  completion: the completion's functions reach it as proxies (:class:`RemoteRef`) whose calls go
  over the socket, and their results come back as plain data (numbers, strings, containers) that
  a restricted unpickler rebuilds, or as further proxies. Assertions are evaluated in this
  process, which the sample cannot read, signal or trace (another uid, not dumpable).

A pass is reported only by the tests process, after ``check`` returns, on a pipe that only it
holds, prefixed with a per-attempt secret that the zygote draws *after* forking the sample process
(so no copy exists in the sample's memory). The zygote accepts a result only with that secret.
Nothing is inferred from an exit code.

Why one long file (over the 800-line guide): it is handed to the interpreter as one ``-c`` source
string, and inside the sandbox neither codeaudit nor any other file of it can be imported, so
framing, the sample process, the tests process and the zygote cannot live in sibling modules
without a build step that stitches sources together (and line numbers in its tracebacks apart).
"""

from __future__ import annotations

import bisect  # noqa: F401
import builtins
import cmath  # noqa: F401

# Preloaded so that forks start with them imported, and so that the code under test finds them
# even where its unprivileged uid cannot read the interpreter's files (rlimit mode with Python
# installed under /root, as pyenv does).
import collections  # noqa: F401
import copy  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import encodings.idna  # noqa: F401
import fcntl
import fractions  # noqa: F401
import functools  # noqa: F401
import hashlib  # noqa: F401
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import json
import math  # noqa: F401
import operator
import os
import pickle
import random  # noqa: F401
import re  # noqa: F401
import resource
import select
import signal
import socket
import statistics  # noqa: F401
import string  # noqa: F401
import struct
import sys
import time
import types
import typing  # noqa: F401
import unicodedata  # noqa: F401

_LEN = struct.Struct(">I")
_MAX_FRAME = 64 << 20
_SECRET_BYTES = 16
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_libc = None


def _prctl(option: int, arg: int) -> None:
    global _libc
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.prctl(option, arg, 0, 0, 0) != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed: {os.strerror(err)}")


# --- framing ------------------------------------------------------------------------------------
def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        try:
            chunk = os.read(fd, n)
        except InterruptedError:
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_frame(fd: int) -> bytes | None:
    head = _read_exact(fd, _LEN.size)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    if size > _MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    return _read_exact(fd, size)


def write_frame(fd: int, payload: bytes) -> None:
    _write_all(fd, _LEN.pack(len(payload)) + payload)


# --- values that may cross from the sample to the tests ------------------------------------------
_SCALARS = (int, float, complex, str, bytes, bool, type(None))
_CONTAINERS = (list, tuple, set, frozenset, dict, bytearray)


def _is_plain(value: object, budget: list[int], depth: int = 0) -> bool:
    """Exactly-typed builtin data (no subclasses, no user objects), bounded in size and depth."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 200:
        return False
    kind = type(value)
    if kind in _SCALARS or kind is bytearray:
        return True
    if kind in (list, tuple, set, frozenset):
        return all(_is_plain(v, budget, depth + 1) for v in value)  # type: ignore[union-attr]
    if kind is dict:
        return all(
            _is_plain(k, budget, depth + 1) and _is_plain(v, budget, depth + 1)
            for k, v in value.items()
        )  # type: ignore[union-attr]
    return False


class _PlainUnpickler(pickle.Unpickler):
    """Rebuilds only builtin data: no classes, no callables (``complex`` is the one constructor)."""

    def find_class(self, module: str, name: str):
        if module == "builtins" and name == "complex":
            return complex
        raise pickle.UnpicklingError(f"the sample sent a {module}.{name} object")


# --- the sample process -------------------------------------------------------------------------
def serve_sample(fd: int, setup_source: str) -> None:
    """Run the untrusted code and answer the tests process. Everything here can be subverted by the
    sample; nothing the tests process believes depends on it behaving."""
    objects: dict[int, object] = {}
    namespace: dict[str, object] = {}

    def encode(value: object) -> tuple:
        if _is_plain(value, [100_000]):
            return ("val", value)
        ref = id(value)
        objects[ref] = value
        return ("ref", ref, type(value).__name__, callable(value))

    def decode(payload: bytes) -> object:
        unpickler = pickle.Unpickler(io.BytesIO(payload))
        unpickler.persistent_load = lambda pid: objects[pid[1]]  # type: ignore[method-assign]
        return unpickler.load()

    _unary = {
        "len": len,
        "repr": repr,
        "str": str,
        "iter": iter,
        "next": next,
        "hash": hash,
        "bool": bool,
        "abs": abs,
    }

    def handle(op: str, payload: bytes) -> tuple:
        if op == "setup":
            exec(compile(setup_source, "<sample>", "exec"), namespace)
            names = []
            for name, value in list(namespace.items()):
                if name == "__builtins__":
                    continue
                if type(value) is types.ModuleType:
                    names.append((name, ("module", value.__name__)))
                else:
                    names.append((name, encode(value)))
            return ("ok", names)
        args = decode(payload)
        if op == "call":
            target, a, kw = args  # type: ignore[misc]
            return ("ok", encode(target(*a, **kw)))
        if op == "getattr":
            target, name = args  # type: ignore[misc]
            return ("ok", encode(getattr(target, name)))
        if op == "setattr":
            target, name, value = args  # type: ignore[misc]
            setattr(target, name, value)
            return ("ok", ("val", None))
        name, operands = args  # type: ignore[misc]
        fn = _unary.get(name) or getattr(operator, name)
        return ("ok", encode(fn(*operands)))

    while True:
        frame = read_frame(fd)
        if frame is None:
            os._exit(0)
        op, _, payload = frame.partition(b"\0")
        try:
            reply = handle(op.decode(), payload)
        except BaseException as exc:  # noqa: BLE001 - every exception is a result to report
            reply = ("exc", type(exc).__name__, _safe_str(exc), _sample_line(exc))
        try:
            data = pickle.dumps(reply, protocol=5)
        except BaseException as exc:  # noqa: BLE001
            data = pickle.dumps(("exc", "PicklingError", _safe_str(exc), None), protocol=5)
        write_frame(fd, data)


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = "<unprintable>"
    return text if len(text) <= 500 else text[:499] + "…"


def _sample_line(exc: BaseException) -> int | None:
    if isinstance(exc, SyntaxError) and exc.filename == "<sample>":
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<sample>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# --- the tests process --------------------------------------------------------------------------
class RemoteDied(Exception):
    """The sample process closed the connection (exited, crashed or was killed)."""


class RemoteError(Exception):
    """An exception raised in the sample process whose type is not a builtin one."""


class _Conn:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def request(self, op: str, *args: object) -> object:
        payload = b""
        if args:
            buf = io.BytesIO()
            pickler = pickle.Pickler(buf, protocol=5)
            pickler.persistent_id = lambda obj: (
                ("ref", obj._ref) if type(obj) is RemoteRef else None
            )  # type: ignore[method-assign]
            try:
                pickler.dump(args)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise TypeError(f"cannot pass this value to the code under test: {exc}") from None
            payload = buf.getvalue()
        try:
            write_frame(self.fd, op.encode() + b"\0" + payload)
            frame = read_frame(self.fd)
        except OSError:
            frame = None
        if frame is None:
            raise RemoteDied("the code under test exited or was killed")
        try:
            reply = _PlainUnpickler(io.BytesIO(frame)).load()
            if not isinstance(reply, tuple) or reply[0] not in ("ok", "exc"):
                raise ValueError("not a reply")
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the sample sent instead of a reply
            raise _rebuild_exception(
                "ProtocolError",
                f"the code under test sent malformed data ({type(exc).__name__})",
                None,
            ) from None
        if reply[0] == "exc":
            _, name, message, line = reply
            raise _rebuild_exception(name, message, line)
        return reply[1]

    def value(self, encoded: tuple) -> object:
        if encoded[0] == "val":
            return encoded[1]
        return RemoteRef(self, encoded[1], encoded[2])


def _rebuild_exception(name: str, message: str, line: int | None) -> BaseException:
    cls = getattr(builtins, name, None) if isinstance(name, str) else None
    exc: BaseException
    if (
        isinstance(cls, type)
        and issubclass(cls, BaseException)
        and cls not in (KeyboardInterrupt, GeneratorExit)
    ):
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError wants five arguments
            exc = RemoteError(f"{name}: {message}")
    else:
        exc = RemoteError(f"{name}: {message}")
    exc.remote_type = name  # type: ignore[attr-defined]
    exc.remote_line = line  # type: ignore[attr-defined]
    return exc


class RemoteRef:
    """An object that lives in the sample process; every operation on it is a request there."""

    __slots__ = ("_conn", "_ref", "_type")

    def __init__(self, conn: _Conn, ref: int, type_name: str) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_type", type_name)

    def _op(self, name: str, *operands: object) -> object:
        return self._conn.value(self._conn.request("op", name, operands))  # type: ignore[arg-type]

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._conn.value(self._conn.request("call", self, args, kwargs))  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._conn.value(self._conn.request("getattr", self, name))  # type: ignore[arg-type]

    def __setattr__(self, name: str, value: object) -> None:
        self._conn.request("setattr", self, name, value)

    def __repr__(self) -> str:
        return str(self._op("repr", self))

    def __str__(self) -> str:
        return str(self._op("str", self))

    def __hash__(self) -> int:
        return int(self._op("hash", self))  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self._op("bool", self))

    def __len__(self) -> int:
        return int(self._op("len", self))  # type: ignore[arg-type]

    def __iter__(self):
        return self._op("iter", self)

    def __next__(self) -> object:
        return self._op("next", self)

    def __abs__(self) -> object:
        return self._op("abs", self)

    def __neg__(self) -> object:
        return self._op("neg", self)

    def __contains__(self, item: object) -> bool:
        return bool(self._op("contains", self, item))

    def __getitem__(self, key: object) -> object:
        return self._op("getitem", self, key)

    def __setitem__(self, key: object, value: object) -> None:
        self._op("setitem", self, key, value)

    def __delitem__(self, key: object) -> None:
        self._op("delitem", self, key)


def _binary(name: str, reverse: bool = False):
    if reverse:
        return lambda self, other: self._op(name, other, self)
    return lambda self, other: self._op(name, self, other)


for _name in (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "and",
    "or",
    "xor",
):
    _op_name = {"and": "and_", "or": "or_"}.get(_name, _name)
    setattr(RemoteRef, f"__{_name}__", _binary(_op_name))
    if _name not in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(RemoteRef, f"__r{_name}__", _binary(_op_name, reverse=True))


def run_tests(
    sock_fd: int, result_fd: int, secret: bytes, job: dict, compiled: tuple | None
) -> None:
    """Evaluate the tests against the sample process and write the secret-prefixed result.

    ``compiled`` holds the tests and the ``check`` call already compiled by the zygote (a fresh
    fork pays for page faults that the warm zygote does not); ``None`` compiles them here.
    """
    conn = _Conn(sock_fd)
    tests_source = job.get("tests") or ""
    call = job.get("call")
    try:
        names = conn.request("setup")
        namespace: dict[str, object] = {}
        for name, encoded in names:  # type: ignore[union-attr]
            if encoded[0] == "module":
                try:
                    namespace[name] = __import__(encoded[1], fromlist=["_"])
                except BaseException:  # noqa: BLE001 - a module only the sample has: leave the name out
                    continue
            else:
                namespace[name] = conn.value(encoded)
        if compiled is None:
            compiled = _compile_tests(tests_source, call)
        tests_code, check_code = compiled
        exec(tests_code, namespace)
        if check_code is not None:
            eval(check_code, namespace)
        result = {"outcome": "passed"}
    except RemoteDied:
        result = {"outcome": "remote-died"}
    except BaseException as exc:  # noqa: BLE001 - anything but a normal return is not a pass
        result = _describe(exc, tests_source)
    try:
        _write_all(result_fd, secret + json.dumps(result).encode())
    finally:
        os._exit(0)


def _compile_tests(source: str, call: str | None) -> tuple:
    check = compile(f"check({call})", "<check>", "eval") if call else None
    return compile(source, "<tests>", "exec"), check


def _describe(exc: BaseException, tests_source: str) -> dict:
    kind = getattr(exc, "remote_type", None) or type(exc).__name__
    message = _safe_str(exc)
    if isinstance(exc, RemoteError):
        message = message.partition(": ")[2]
    if kind == "MemoryError":
        outcome = "oom"
    elif isinstance(exc, AssertionError) and getattr(exc, "remote_type", None) is None:
        outcome = "failed"
    else:
        outcome = "error"
    out: dict = {"outcome": outcome, "type": kind, "message": message}
    line = getattr(exc, "remote_line", None)
    if line:
        out["sample_line"] = line
    if isinstance(exc, SyntaxError) and exc.filename == "<tests>":
        out["tests_line"] = exc.lineno
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<tests>":
            out["tests_line"] = tb.tb_lineno
        tb = tb.tb_next
    if "tests_line" in out:
        # Lines as Python numbers them (codeaudit.context.split_lines' rule, written out here
        # because this file imports nothing from codeaudit): a form feed does not end a line.
        lines = tests_source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if 0 < out["tests_line"] <= len(lines):
            out["tests_source"] = lines[out["tests_line"] - 1].strip()[:300]
    return out


def _from_status(status: int | None, who: str) -> dict:
    if status is None:
        return {"outcome": "killed", "type": "Killed", "message": f"{who} stopped without a result"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU:
            return {
                "outcome": "timeout",
                "type": "CPUTimeLimit",
                "message": f"{who} used up its CPU time ({name})",
            }
        if sig == signal.SIGXFSZ:
            return {
                "outcome": "killed",
                "type": name,
                "message": f"{who} wrote more output than allowed ({name})",
            }
        return {"outcome": "killed", "type": name, "message": f"{who} was killed by {name}"}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return {
        "outcome": "error",
        "type": "Exit",
        "message": f"{who} exited with status {code} before the tests finished",
    }


def _kill_minus_one() -> None:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _descendants(root: int) -> list[int]:
    """Processes below ``root`` (by parent links in /proc), for modes without a PID namespace."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


# --- the zygote ---------------------------------------------------------------------------------
class Zygote:
    def __init__(self, settings: dict) -> None:
        self.s = settings
        self.limits = settings["limits"]
        self.base = settings["base"]
        self.drop = settings["drop_privileges"]
        self.pidns = settings["pid_namespace"]
        self.sample_uid = settings.get("sample_uid")
        self.tests_uid = settings.get("tests_uid")
        self.counter = 0
        self.compiled: dict[tuple[str, str | None], tuple] = {}

    def _compiled_tests(self, job: dict) -> tuple | None:
        """The job's tests compiled once and kept (benchmarks repeat the same tests many times).

        Only the tests are compiled here, never the code under test; large or invalid tests are
        left to the tests process, where errors are reported and time limits apply.
        """
        source, call = job.get("tests") or "", job.get("call")
        if len(source) > 200_000:
            return None
        key = (source, call)
        code = self.compiled.get(key)
        if code is None:
            try:
                code = _compile_tests(source, call)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                return None
            if len(self.compiled) >= 1024:
                self.compiled.clear()
            self.compiled[key] = code
        return code

    # The sample and tests processes start here.
    def _child(
        self, uid: int | None, keep: dict[int, int], cwd: str, output: str | None, cpu: int
    ) -> None:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        if output is not None:
            out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
        else:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        # Move the kept descriptors out of the way first, so no target overwrites another source.
        high = {fcntl.fcntl(src, fcntl.F_DUPFD, 100): dst for src, dst in keep.items()}
        for src, dst in high.items():
            os.dup2(src, dst)
        os.closerange(max(keep.values(), default=2) + 1, 1 << 16)
        lim = self.limits
        mem = lim["memory_bytes"]
        nproc = lim["max_procs"] + (0 if self.drop else self.s.get("nproc_base", 0))
        for what, value in (
            (resource.RLIMIT_AS, mem),
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_NOFILE, lim["max_files"]),
            (resource.RLIMIT_FSIZE, lim["max_output_bytes"]),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NPROC, nproc),
        ):
            resource.setrlimit(what, (value, value))
        if uid is not None and self.drop:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        # Set after the uid change, which clears it: the child dies with the zygote.
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 0)
        os.chdir(cwd)
        if os.getppid() != self.pid:
            os._exit(70)

    def run(self, job: dict) -> dict:
        started = time.monotonic()
        timeout = float(job["timeout"])
        cpu = int(timeout) + 2
        self.counter += 1
        work = os.path.join(self.base, f"run-{self.counter}")
        os.mkdir(work, 0o700)
        if self.drop:
            os.chown(work, self.sample_uid, self.sample_uid)
        sample_sock, tests_sock = socket.socketpair()
        result_r, result_w = os.pipe()
        compiled = self._compiled_tests(job)
        sample_pid = os.fork()
        if sample_pid == 0:
            try:
                os.environ["TMPDIR"] = work
                os.environ["HOME"] = work
                self._child(
                    self.sample_uid,
                    {sample_sock.fileno(): 3},
                    work,
                    os.path.join(work, ".output"),
                    cpu,
                )
                serve_sample(3, job["setup"])
            finally:
                os._exit(71)
        sample_sock.close()
        # Drawn after the sample's fork: no copy of it exists in the sample's memory.
        secret = os.urandom(_SECRET_BYTES)
        tests_pid = os.fork()
        if tests_pid == 0:
            try:
                os.close(result_r)
                self._child(self.tests_uid, {tests_sock.fileno(): 3, result_w: 4}, "/", None, cpu)
                run_tests(3, 4, secret, job, compiled)
            finally:
                os._exit(71)
        tests_sock.close()
        os.close(result_w)

        raw, timed_out = self._collect(result_r, started + timeout)
        os.close(result_r)
        duration = time.monotonic() - started
        sample_status = None
        if not timed_out and raw[_SECRET_BYTES:].startswith(b'{"outcome": "remote-died"'):
            # Let the sample process finish dying so its own exit status, not our kill, is read.
            sample_status = self._wait_exit(sample_pid, time.monotonic() + 0.5)
        statuses = self._kill_all({sample_pid, tests_pid})
        if sample_status is None:
            sample_status = statuses.get(sample_pid)
        self._rmtree(work)
        record = self._classify(
            raw, secret, timed_out, timeout, statuses.get(tests_pid), sample_status
        )
        record["duration_s"] = round(duration, 6)
        return record

    @staticmethod
    def _collect(fd: int, deadline: float) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"".join(chunks), True
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return b"".join(chunks), True
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                return b"".join(chunks), False

    @staticmethod
    def _wait_exit(pid: int, deadline: float) -> int | None:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)

    def _kill_all(self, watched: set[int]) -> dict[int, int]:
        """Kill every process the attempt started and reap them; return the watched ones' statuses.

        One ``kill(-1, SIGKILL)`` reaches every process it may signal while new forks are held
        off, so a fork bomb cannot outrun it; as the child subreaper, the zygote then inherits and
        reaps every orphan of the attempt.
        """
        if self.pidns:
            # Inside our own PID namespace, -1 is everything but the namespace's init and us.
            _kill_minus_one()
        elif self.drop:
            # Each worker's uids are its own, so "every process of that uid" is exact.
            for uid in (self.sample_uid, self.tests_uid):
                reaper = os.fork()
                if reaper == 0:
                    try:
                        os.setresuid(uid, uid, uid)
                        _kill_minus_one()
                    finally:
                        os._exit(0)
                os.waitpid(reaper, 0)
        else:
            for _ in range(100):
                victims = _descendants(os.getpid())
                if not victims:
                    break
                for pid in victims:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self._reap(watched, {}, block=False)
        statuses: dict[int, int] = {}
        self._reap(watched, statuses, block=True)
        return statuses

    @staticmethod
    def _reap(watched: set[int], statuses: dict[int, int], block: bool) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in watched:
                statuses[pid] = status

    @staticmethod
    def _rmtree(path: str) -> None:
        try:  # the usual case: the attempt left only its output file
            os.unlink(os.path.join(path, ".output"))
            os.rmdir(path)
            return
        except OSError:
            pass
        import shutil

        def unlock(func, target, _exc):
            try:
                os.chmod(os.path.dirname(target), 0o700)
                os.chmod(target, 0o700)
                func(target)
            except OSError:
                pass

        shutil.rmtree(path, onerror=unlock)

    @staticmethod
    def _classify(
        raw: bytes,
        secret: bytes,
        timed_out: bool,
        timeout: float,
        tests_status: int | None,
        sample_status: int | None,
    ) -> dict:
        if timed_out:
            return {
                "outcome": "timeout",
                "type": "Timeout",
                "message": f"no result within {timeout:g} s",
            }
        if not raw:
            return _from_status(tests_status, "the tests process")
        if raw[:_SECRET_BYTES] != secret:
            return {
                "outcome": "sandbox-error",
                "type": "BadMarker",
                "message": "a result without this attempt's secret was rejected",
            }
        try:
            result = json.loads(raw[_SECRET_BYTES:])
        except ValueError:
            return {
                "outcome": "sandbox-error",
                "type": "BadResult",
                "message": "unreadable result from the tests process",
            }
        if result.get("outcome") == "remote-died":
            return _from_status(sample_status, "the code under test")
        return result

    def loop(self) -> None:
        self.pid = os.getpid()
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o711)  # the attempt's own uid must reach its folder inside
        write_frame(1, json.dumps({"ready": True, "pid": self.pid}).encode())
        while True:
            frame = read_frame(0)
            if frame is None:
                return
            job = json.loads(frame)
            write_frame(1, json.dumps(self.run(job)).encode())


def main() -> None:
    settings = json.loads(sys.argv[1])
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _prctl(PR_SET_DUMPABLE, 0)  # also loads libc once, before any fork
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.umask(0o077)
    import gc

    gc.freeze()
    Zygote(settings).loop()


if __name__ == "__main__":
    main()
