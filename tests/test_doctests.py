"""Every docstring example in ``codeaudit`` runs: each module found by walking the package (no
hand-kept list), its examples run with doctest. Examples that need the generation extra or the
network are marked ``+SKIP`` in the docstring; a module that cannot be imported because an
optional extra is missing is skipped here, naming the extra."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import codeaudit

#: Optional libraries: a module that needs one is skipped when it is not installed.
EXTRAS = {
    "torch",
    "transformers",
    "onnxruntime",
    "onnx",
    "optimum",
    "ctranslate2",
    "dask",
    "distributed",
}


def modules() -> list[str]:
    names = ["codeaudit"]
    for info in pkgutil.walk_packages(codeaudit.__path__, "codeaudit."):
        if not info.name.endswith(".__main__"):  # importing it runs the command
            names.append(info.name)
    return sorted(names)


def test_the_walk_finds_every_layer():
    found = set(modules())
    for name in (
        "codeaudit.pipeline",
        "codeaudit.change.context",
        "codeaudit.auditors.memorization.auditor",
        "codeaudit.report.sarif",
        "codeaudit.generators.decode",
        "codeaudit.cli.hook",
    ):
        assert name in found


@pytest.mark.parametrize("name", modules())
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing in EXTRAS:
            pytest.skip(f"{name} needs {missing} (an optional extra)")
        raise
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name, globs=vars(module).copy()):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} fail"
