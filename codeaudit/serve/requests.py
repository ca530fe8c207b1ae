"""Request checking of ``codeaudit serve``: settings and limits, OpenAI-shaped errors, and the
parsing of a completion request's body (OpenAI, Copilot-proxy and llama.cpp shapes) into
:class:`Params`, with a one-line error for every bad field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

#: Bodies larger than this are refused with 413.
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """Limits and switches of one server (``[tool.codeaudit.serve]`` and the command line)."""

    api_key: str | None = None
    #: Largest ``max_tokens`` a request may ask for.
    max_tokens: int = 512
    #: ``max_tokens`` when a request gives none (OpenAI's default is 16).
    default_max_tokens: int = 16
    max_n: int = 8
    queue_size: int = 32
    #: Seconds a request may take from arrival to its last byte.
    timeout: float = 60.0
    #: ``cut`` (from the left, at a line boundary) or ``error`` (400) for too long prompts.
    prompt_overflow: str = "cut"
    cors_origins: tuple[str, ...] = ()
    retry_after: int = 1
    #: Stop a CodeGen completion where the text after the cursor begins (suffix as a stop).
    suffix_stop: bool = True


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return error_response(
            self.status, self.message, self.kind, self.param, self.code, self.headers
        )


def error_response(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


@dataclass
class Params:
    """One completion request, checked."""

    prompt: str
    suffix: str
    max_tokens: int
    temperature: float
    top_p: float
    n: int
    stop: tuple[str, ...]
    seed: int
    stream: bool
    model: str
    language: str | None = None
    extra_stops: tuple[str, ...] = field(default=())


# -- request checking --------------------------------------------------------------------------
async def read_json(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "Content-Length is not a number", param="Content-Length")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a JSON object")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"malformed JSON in the request body: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {_kind(data)}")
    return data


def _too_large() -> ApiError:
    return ApiError(
        413,
        f"the request body is over the {MAX_BODY_BYTES:,}-byte limit",
        code="request_too_large",
    )


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), "a number")


def _get(
    body: Mapping[str, Any], key: str, types: tuple[type, ...], default: Any, what: str
) -> Any:
    value = body.get(key, default)
    if value is None:
        return default
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        raise ApiError(400, f"'{key}' must be {what}, not {_kind(value)}", param=key)
    return value


def _number(body, key, default, *, low, high, what, low_open=False) -> float:
    value = float(_get(body, key, (int, float), default, what))
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        raise ApiError(400, f"'{key}' must be {what}, not {value:g}", param=key)
    return value


def parse_completion(
    body: Mapping[str, Any], settings: ServeSettings, *, model: str, infill: bool = False
) -> Params:
    if infill:
        prefix = _get(body, "input_prefix", (str,), None, "a string")
        extra = _get(body, "prompt", (str,), "", "a string")
        if prefix is None and not extra:
            raise ApiError(400, "'input_prefix' is required", param="input_prefix")
        prompt = (prefix or "") + extra
        suffix = _get(body, "input_suffix", (str,), "", "a string")
        tokens_key = "n_predict" if "n_predict" in body else "max_tokens"
        n = 1
    else:
        if "prompt" not in body or body["prompt"] is None:
            raise ApiError(400, "'prompt' is required", param="prompt")
        prompt = body["prompt"]
        if isinstance(prompt, list):
            if len(prompt) != 1 or not isinstance(prompt[0], str):
                raise ApiError(
                    400, "'prompt' must be a string or a list of one string", param="prompt"
                )
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise ApiError(400, f"'prompt' must be a string, not {_kind(prompt)}", param="prompt")
        suffix = _get(body, "suffix", (str,), "", "a string")
        tokens_key = "max_tokens"
        n = _get(body, "n", (int,), 1, "an integer")
        if not 1 <= n <= settings.max_n:
            raise ApiError(
                400,
                f"'n' must be between 1 and {settings.max_n} (the server's limit), not {n}",
                param="n",
            )
    max_tokens = _get(body, tokens_key, (int,), settings.default_max_tokens, "an integer")
    if not 1 <= max_tokens <= settings.max_tokens:
        raise ApiError(
            400,
            f"'{tokens_key}' must be between 1 and {settings.max_tokens} (the server's limit), "
            f"not {max_tokens}",
            param=tokens_key,
        )
    temperature = _number(
        body, "temperature", 0.0, low=0.0, high=2.0, what="a number between 0 and 2"
    )
    top_p = _number(body, "top_p", 1.0, low=0.0, high=1.0, what="a number in (0, 1]", low_open=True)
    stop_value = body.get("stop")
    if stop_value is None:
        stop: tuple[str, ...] = ()
    elif isinstance(stop_value, str):
        stop = (stop_value,) if stop_value else ()
    elif isinstance(stop_value, list) and all(isinstance(s, str) for s in stop_value):
        if len(stop_value) > 16:
            raise ApiError(400, "'stop' takes at most 16 sequences", param="stop")
        stop = tuple(s for s in stop_value if s)
    else:
        raise ApiError(400, "'stop' must be a string or a list of strings", param="stop")
    seed = _get(body, "seed", (int,), 0, "an integer")
    stream = _get(body, "stream", (bool,), False, "a boolean")
    language = _get(body, "language", (str,), None, "a string")
    requested = body.get("model")
    cursor_stop = suffix_stop(suffix)
    return Params(
        prompt=prompt,
        suffix=suffix,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        n=n,
        stop=stop,
        seed=seed,
        stream=stream,
        model=requested if isinstance(requested, str) and requested else model,
        language=language,
        extra_stops=(cursor_stop,) if settings.suffix_stop and cursor_stop else (),
    )


def suffix_stop(suffix: str) -> str | None:
    """For a model without fill-in-the-middle: stop where the code after the cursor begins.

    The first non-blank line of the suffix, on a line of its own (``"\\n" + line``), so that a
    model that goes on to write what already follows the cursor is cut before repeating it.

    >>> suffix_stop("\\n    return total\\n")
    '\\n    return total'
    >>> suffix_stop("") is None
    True
    """
    for line in suffix.split("\n"):
        if line.strip() and len(line.strip()) >= 3:
            return "\n" + line.rstrip()
    return None
