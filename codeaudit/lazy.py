"""The one lazy-import helper: a package's public names, each imported from its module on first
use, so importing the package (and ``codeaudit --version``) stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from importlib import import_module
from typing import Any


def lazy_names(
    namespace: MutableMapping[str, Any], table: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is
    ``namespace``: ``table`` maps a name to its module (``".match"`` is relative to the package);
    a name, once imported, is kept in ``namespace`` so the next use is a plain global.

    >>> ns = {"__name__": "codeaudit"}
    >>> getattr_, dir_ = lazy_names(ns, {"split_lines": ".context"}, ["split_lines"])
    >>> getattr_("split_lines")("a\\nb") == ns["split_lines"]("a\\nb") == ["a", "b"]
    True
    >>> getattr_("nope")
    Traceback (most recent call last):
    AttributeError: module 'codeaudit' has no attribute 'nope'
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
