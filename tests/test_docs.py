"""The README's contract, reports, configuration and Python API sections and docs/batch-contract.md
stay true: their examples run, validate and parse, and their links resolve."""

from __future__ import annotations

import doctest
import json
import re
import tomllib
from importlib.resources import files

import pytest
from helpers.paths import ROOT

from codeaudit.config import config_from_mapping

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRACT = (ROOT / "docs" / "batch-contract.md").read_text(encoding="utf-8")
MY_SECTIONS = ("The suggestion batch contract", "Reports", "Configuration", "Python API")


def section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, f"README has no section {title!r}"
    return m.group(1)


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def schema(name: str):
    return json.loads(
        files("codeaudit").joinpath(f"schemas/{name}.schema.json").read_text(encoding="utf-8")
    )


def test_readme_python_api_examples_run():
    examples = blocks(section("Python API"), "python")
    assert len(examples) >= 2
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for number, text in enumerate(examples):
        test = parser.get_doctest(
            text, {}, f"README Python API example {number + 1}", "README.md", 0
        )
        assert test.examples, "an example block without >>> lines"
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_contract_json_examples_match_the_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    marked = re.findall(r"<!-- validate: (\w+) -->\n```json\n(.*?)```", CONTRACT, re.S)
    assert {kind for kind, _ in marked} == {"suggestion", "report"}
    for kind, text in marked:
        jsonschema.validate(json.loads(text), schema(kind))
    for text in blocks(section("The suggestion batch contract"), "json"):
        jsonschema.validate(json.loads(text), schema("suggestion"))


def test_readme_configuration_example_is_a_valid_configuration():
    (text,) = blocks(section("Configuration"), "toml")
    table = tomllib.loads(text)["tool"]["codeaudit"]
    config = config_from_mapping(table, source="README.md")
    assert config.allowlist and config.severity and config.disable


def test_links_resolve():
    text = CONTRACT + "".join(section(t) for t in MY_SECTIONS)
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://")):
            continue
        base = ROOT if not target.startswith("../") else ROOT / "docs"
        assert (base / target).resolve().exists(), target
