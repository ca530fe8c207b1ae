"""The HTTP side of ``codeaudit serve``: routes, streaming, security (request checking is
:mod:`.requests`).

Routes: ``POST /v1/completions`` (OpenAI), ``POST /v1/engines/{engine}/completions`` (the
FauxPilot / Copilot-proxy shape), ``POST /infill`` (llama.cpp), ``GET /v1/models``,
``GET /health`` and ``GET /metrics``. Every error is OpenAI-shaped JSON
(``{"error": {"message", "type", "param", "code"}}``) and never carries a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ..generators.postprocess import first_stop
from .backends import Backend, Job, PromptTooLong, QueueFull
from .gate import Audited, Auditing, LineGate
from .metrics import Metrics
from .policy import Action, Decision
from .requests import (
    ApiError,
    Params,
    ServeSettings,
    error_response,
    parse_completion,
    read_json,
)
from .suggestion_log import SuggestionLog, choice_record


# -- the application ---------------------------------------------------------------------------
class Server:
    """Everything one server holds: backend, auditing, log, metrics, settings."""

    def __init__(
        self,
        backend: Backend,
        auditing: Auditing,
        settings: ServeSettings,
        *,
        log: SuggestionLog | None = None,
    ) -> None:
        self.backend = backend
        self.auditing = auditing
        self.settings = settings
        self.log = log
        self.metrics = Metrics()
        self.metrics.gauges["codeaudit_serve_queue_waiting"] = lambda: backend.waiting
        self.metrics.gauges["codeaudit_serve_batch_running"] = lambda: backend.running
        self.metrics.gauges["codeaudit_serve_streams_open"] = lambda: self.open_streams
        self.open_streams = 0
        self.started = time.time()

    # -- shared steps ----------------------------------------------------------------------
    def _job(self, p: Params) -> Job:
        job = Job(
            prompt=p.prompt,
            suffix=p.suffix,
            n=p.n,
            max_tokens=p.max_tokens,
            temperature=p.temperature,
            top_p=p.top_p,
            seed=p.seed,
            stop=p.stop + p.extra_stops,
        )
        try:
            self.backend.prepare(job, cut=self.settings.prompt_overflow == "cut")
        except PromptTooLong as exc:
            raise ApiError(400, str(exc), param="prompt", code="context_length_exceeded") from None
        return job

    def _submit(self, job: Job) -> None:
        try:
            self.backend.submit(job)
        except QueueFull:
            raise ApiError(
                503,
                f"the server is busy ({self.backend.queue_size} requests wait); retry shortly",
                kind="server_error",
                code="server_overloaded",
                headers={"Retry-After": str(self.settings.retry_after)},
            ) from None

    def _check(self, p: Params):
        auditing = self.auditing

        def check(text: str) -> Audited:
            return auditing.check([(text, p.prompt, p.suffix, p.language)])[0]

        return check

    def _log(self, route: str, request_id: str, p: Params, choices: list[dict[str, Any]]) -> None:
        for c in choices:
            self.metrics.choice(
                str(c["decision"].action), list(c["decision"].findings), c.get("audit_s")
            )
        if self.log is None:
            return
        sampling = {
            "max_tokens": p.max_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "n": p.n,
            "seed": p.seed,
            "stop": list(p.stop),
            "stream": p.stream,
        }
        records = [
            choice_record(
                request_id=request_id,
                index=i,
                prompt=p.prompt,
                suffix=p.suffix,
                text=c["text"],
                sent=c["sent"],
                decision=c["decision"],
                result=c["result"],
                model=p.model,
                engine=self.backend.name,
                sampling=sampling,
                finish_reason=c["finish_reason"],
                route=route,
                language=p.language,
            )
            for i, c in enumerate(choices)
        ]
        try:
            self.log.write(records)
        except OSError as exc:
            print(
                f"codeaudit serve: cannot write the suggestion log: {exc.strerror}", file=sys.stderr
            )

    # -- non-streaming -------------------------------------------------------------------
    async def complete(self, request: Request, p: Params, route: str, shape: str) -> Response:
        loop = asyncio.get_running_loop()
        job = self._job(p)
        done: asyncio.Future = loop.create_future()

        def on_done(results, error) -> None:
            def settle() -> None:
                if not done.done():
                    done.set_result((results, error))

            _threadsafe(loop, settle)

        job.on_done = on_done
        self._submit(job)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            finished, _ = await asyncio.wait(
                {done, gone}, timeout=self.settings.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            gone.cancel()
        if done not in finished:
            job.cancel()
            if gone in finished:
                return Response(status_code=499)
            raise ApiError(
                504,
                f"the request took longer than {self.settings.timeout:g} s",
                kind="server_error",
                code="timeout",
            )
        results, error = done.result()
        if error is not None:
            raise error
        texts = [(_cut(text, job.stop), reason, tokens) for text, reason, tokens in results or []]
        audited = await self.auditing.check_batched(
            [(t, p.prompt, p.suffix, p.language) for t, _, _ in texts]
        )
        request_id = _request_id("cmpl")
        choices = []
        for (text, reason, tokens), a in zip(texts, audited):
            finish = "content_filter" if a.decision.blocked else reason
            choices.append(
                {
                    "text": text,
                    "sent": a.decision.text,
                    "decision": a.decision,
                    "result": a.result,
                    "finish_reason": finish,
                    "tokens": tokens,
                    "audit_s": a.seconds if self.auditing.enabled else None,
                }
            )
        self._log(route, request_id, p, choices)
        if shape == "infill":
            c = choices[0]
            return JSONResponse(
                {
                    "content": c["sent"],
                    "stop": True,
                    "stop_type": _llama_stop(c["finish_reason"]),
                    "model": p.model,
                    "tokens_predicted": c["tokens"],
                    "tokens_evaluated": job.prompt_tokens,
                    "truncated": job.cut_tokens > 0,
                    "codeaudit": c["decision"].annotation(),
                },
                headers={"x-codeaudit-audit-ms": f"{(c['audit_s'] or 0) * 1000:.3f}"},
            )
        audit_ms = {"x-codeaudit-audit-ms": f"{sum(c['audit_s'] or 0 for c in choices) * 1000:.3f}"}
        completion_tokens = sum(c["tokens"] for c in choices)
        prompt_tokens = job.prompt_tokens - job.cut_tokens
        return JSONResponse(
            {
                "id": request_id,
                "object": "text_completion",
                "created": int(time.time()),
                "model": p.model,
                "choices": [
                    {
                        "text": c["sent"],
                        "index": i,
                        "logprobs": None,
                        "finish_reason": c["finish_reason"],
                        "codeaudit": c["decision"].annotation(),
                    }
                    for i, c in enumerate(choices)
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            headers=audit_ms,
        )

    # -- streaming ------------------------------------------------------------------------
    def stream(self, p: Params, route: str, shape: str) -> StreamingResponse:
        loop = asyncio.get_running_loop()
        job = self._job(p)
        events: asyncio.Queue = asyncio.Queue()
        stopped = [False] * p.n

        def on_delta(i: int, text: str) -> bool:
            if stopped[i] or job.cancelled:
                return False
            return _threadsafe(loop, events.put_nowait, ("delta", i, text))

        def on_done(results, error) -> None:
            _threadsafe(loop, events.put_nowait, ("done", results, error))

        job.on_delta = on_delta
        job.on_done = on_done
        self._submit(job)
        return StreamingResponse(
            self._events(job, events, stopped, p, route, shape),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(
        self,
        job: Job,
        events: asyncio.Queue,
        stopped: list[bool],
        p: Params,
        route: str,
        shape: str,
    ) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        request_id = _request_id("cmpl")
        created = int(time.time())
        check = self._check(p)
        max_stop = max((len(s) for s in job.stop), default=0)
        gates = [
            LineGate(check, hold_chars=self.auditing.hold_chars, hold_stop_chars=max_stop)
            for _ in range(p.n)
        ]
        texts = [""] * p.n
        sent = [""] * p.n
        finish: list[str | None] = [None] * p.n
        tokens = [0] * p.n
        deadline = loop.time() + self.settings.timeout
        complete = False
        self.open_streams += 1

        def chunk(i: int, text: str, reason: str | None, decision: Decision | None) -> bytes:
            if shape == "infill":
                body: dict[str, Any] = {"content": text, "stop": reason is not None}
                if reason is not None:
                    body["stop_type"] = _llama_stop(reason)
                    body["model"] = p.model
                if decision is not None:
                    body["codeaudit"] = decision.annotation()
                return _sse(body)
            choice: dict[str, Any] = {
                "text": text,
                "index": i,
                "logprobs": None,
                "finish_reason": reason,
            }
            if decision is not None:
                choice["codeaudit"] = decision.annotation()
            return _sse(
                {
                    "id": request_id,
                    "object": "text_completion",
                    "created": created,
                    "model": p.model,
                    "choices": [choice],
                }
            )

        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    job.cancel()
                    yield _sse(
                        {
                            "error": {
                                "message": f"the request took longer than {self.settings.timeout:g} s",
                                "type": "server_error",
                                "param": None,
                                "code": "timeout",
                            }
                        }
                    )
                    break
                try:
                    kind, a, b = await asyncio.wait_for(events.get(), remaining)
                except TimeoutError:
                    continue
                if kind == "delta":
                    i, delta = a, b
                    if finish[i] is not None:
                        continue
                    texts[i] += delta
                    cut = first_stop(texts[i], job.stop) if job.stop else None
                    if cut is not None:
                        texts[i] = texts[i][:cut]
                        stopped[i] = True
                    gate = gates[i]
                    if gate.releasable(texts[i]) <= gate.released_lines:
                        continue
                    out = await loop.run_in_executor(self.auditing.executor, gate.feed, texts[i])
                    if gate.blocked is not None:
                        stopped[i] = True
                        finish[i] = "content_filter"
                        yield chunk(i, "", "content_filter", gate.blocked.decision)
                    elif out:
                        sent[i] += out
                        yield chunk(i, out, None, None)
                    continue
                results, error = a, b
                if error is not None:
                    yield _sse(
                        {
                            "error": {
                                "message": "generation failed",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        }
                    )
                    break
                for i, (text, reason, n_tokens) in enumerate(results or []):
                    tokens[i] = n_tokens
                    if finish[i] is not None:
                        continue
                    final = _cut(text, job.stop)
                    texts[i] = final
                    gate = gates[i]
                    out = await loop.run_in_executor(self.auditing.executor, gate.finish, final)
                    if gate.blocked is not None:
                        finish[i] = "content_filter"
                        yield chunk(i, "", "content_filter", gate.blocked.decision)
                        continue
                    finish[i] = reason
                    sent[i] += out
                    decision = gate.last.decision if gate.last else None
                    yield chunk(i, out, reason, decision)
                complete = True
                if shape != "infill":
                    yield b"data: [DONE]\n\n"
                break
        finally:
            self.open_streams -= 1
            if not complete:
                job.cancel()
            choices = []
            for i, gate in enumerate(gates):
                audited = gate.blocked or gate.last
                decision = (
                    audited.decision
                    if audited is not None
                    else Decision(action=Action.PASS, text="", findings=())
                )
                choices.append(
                    {
                        "text": texts[i] if audited is not None else "",
                        "sent": sent[i],
                        "decision": decision,
                        "result": audited.result if audited is not None else None,
                        "finish_reason": finish[i] or "cancelled",
                        "audit_s": audited.seconds
                        if audited is not None and self.auditing.enabled
                        else None,
                    }
                )
            self._log(route, request_id, p, choices)


def _cut(text: str, stops: tuple[str, ...]) -> str:
    cut = first_stop(text, stops) if stops else None
    return text if cut is None else text[:cut]


def _llama_stop(reason: str) -> str:
    return {"length": "limit", "stop": "eos", "content_filter": "content_filter"}.get(
        reason, reason
    )


def _sse(body: Mapping[str, Any]) -> bytes:
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


def _request_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def _threadsafe(loop: asyncio.AbstractEventLoop, fn, *args) -> bool:
    try:
        loop.call_soon_threadsafe(fn, *args)
        return True
    except RuntimeError:  # the loop is closed: the server is stopping
        return False


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


# -- routes --------------------------------------------------------------------------------------
def build_app(server: Server) -> Any:
    """The ASGI application: Starlette routes inside the security/limits/error wrapper."""
    settings = server.settings

    async def completions(request: Request) -> Response:
        return await _completion(request, "/v1/completions", "openai")

    async def engine_completions(request: Request) -> Response:
        return await _completion(request, "/v1/engines/{engine}/completions", "openai")

    async def infill(request: Request) -> Response:
        return await _completion(request, "/infill", "infill")

    async def _completion(request: Request, route: str, shape: str) -> Response:
        body = await read_json(request)
        default_model = request.path_params.get("engine") or server.backend.model_name
        p = parse_completion(body, settings, model=default_model, infill=shape == "infill")
        if p.stream:
            return server.stream(p, route, shape)
        return await server.complete(request, p, route, shape)

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {
                        "id": server.backend.model_name,
                        "object": "model",
                        "created": int(server.started),
                        "owned_by": "codeaudit",
                    }
                ],
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "engine": server.backend.name,
                "model": server.backend.model_name,
                "auditors": list(server.auditing.names),
                "queue": {"waiting": server.backend.waiting, "limit": server.backend.queue_size},
                "batch_running": server.backend.running,
                "streams_open": server.open_streams,
                "tasks": len(asyncio.all_tasks()),
            }
        )

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(
            server.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return error_response(405, f"{request.method} is not allowed on {request.url.path}")
        return error_response(404, f"no route {request.url.path}", code="not_found")

    routes = [
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/engines/{engine}/completions", engine_completions, methods=["POST"]),
        Route("/infill", infill, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def internal(request: Request, exc: Exception) -> Response:
        return error_response(500, f"internal error ({type(exc).__name__})", kind="server_error")

    app = Starlette(
        routes=routes,
        exception_handlers={
            404: not_found,
            405: not_found,
            ApiError: api_error,
            Exception: internal,
        },
    )
    inner: Any = app
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        inner = CORSMiddleware(
            app,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return Guard(inner, server)


class Guard:
    """ASGI wrapper: bearer key (constant-time), API errors as JSON, never a traceback, metrics."""

    OPEN = frozenset({"/health"})

    def __init__(self, app: Any, server: Server) -> None:
        self.app = app
        self.server = server
        key = server.settings.api_key
        self._key = f"Bearer {key}".encode() if key else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 500, "started": False}

        async def tracked_send(message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
            await send(message)

        path = scope.get("path", "")
        route = _route_label(path)
        try:
            if self._key is not None and path not in self.OPEN and not self._authorized(scope):
                response: Response = error_response(
                    401,
                    "missing or wrong API key (send 'Authorization: Bearer <key>')",
                    kind="authentication_error",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, tracked_send)
            else:
                await self.app(scope, receive, tracked_send)
        except ApiError as exc:
            if not state["started"]:
                await exc.response()(scope, receive, tracked_send)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback to the client
            if not state["started"]:
                await error_response(
                    500, f"internal error ({type(exc).__name__})", kind="server_error"
                )(scope, receive, tracked_send)
            print(
                f"codeaudit serve: internal error on {route}: {type(exc).__name__}",
                file=sys.stderr,
            )
        finally:
            self.server.metrics.request(route, state["status"], time.perf_counter() - started)

    def _authorized(self, scope) -> bool:
        assert self._key is not None
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                given = value
                break
        return hmac.compare_digest(given, self._key)


def _route_label(path: str) -> str:
    if path.startswith("/v1/engines/") and path.endswith("/completions"):
        return "/v1/engines/{engine}/completions"
    if path in ("/v1/completions", "/infill", "/v1/models", "/health", "/metrics"):
        return path
    return "other"


# -- running ---------------------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0: an ephemeral port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Running:
    """A server running on a background thread (tests, benchmarks); ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.sock = bind(host, port)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.uvicorn.serve(sockets=[self.sock])),
            name="codeaudit-serve",
            daemon=True,
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.uvicorn.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
