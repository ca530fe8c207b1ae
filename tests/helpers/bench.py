"""Benchmark modules (``benchmarks/*.py``, not a package) imported by file for the tests that
check their pure parts, without a test module editing ``sys.path``."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from helpers.paths import ROOT


def bench_module(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as module ``name`` (imported once; the benchmark scripts reach
    their siblings themselves)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
