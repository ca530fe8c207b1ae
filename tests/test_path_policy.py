"""The path policy's conventions beyond tests, docs and examples: fuzzing harnesses count as test
code, build and release tooling is its own kind (``build``); both lower findings through the real
pipeline and the real privacy auditor, and both are configurable."""

from __future__ import annotations

import pytest

from codeaudit import Config, audit
from codeaudit.config import config_from_mapping
from codeaudit.model import Severity
from codeaudit.pipeline import PathPolicy

LEAK = "DATA = '/home/mkowalski/churn/data.csv'\n"


def found(path: str, config: Config | None = None) -> list[tuple[Severity, str | None]]:
    item = {"id": "s", "completion": LEAK, "language": "python", "path": path}
    report = audit([item], config or Config(), auditors=["privacy"])
    return [(f.severity, f.evidence.get("path_policy")) for _, f in report.findings()]


@pytest.mark.parametrize(
    "path",
    [
        "fuzz/fuzz_targets/parse_url.rs",  # cargo-fuzz
        "tests/fuzz/corpus_reader.py",
        "lib/fuzzing/harness.c",
        "fuzzers/decode.c",
        "projects/png/ossfuzz/read.c",
        "oss-fuzz/build.sh",
        "contrib/libpng_read_fuzzer.cc",
        "src/json_fuzzer.cpp",
        "src/fuzz_header.c",
        "fuzz_decoder.py",  # atheris
    ],
)
def test_fuzzing_harnesses_are_test_code(path):
    assert PathPolicy().kind(path) == "test"
    assert found(path) == [(Severity.LOW, "test (medium)")]


@pytest.mark.parametrize(
    "path",
    [
        "setup.py",
        "noxfile.py",
        "configure",
        "vendor/zlib/configure",
        "build-aux/config.guess",
        "config.sub",
        "install-sh",
        "build-aux/depcomp",
        "ltmain.sh",
        "aclocal.m4",
        "m4/ax_pthread.m4",
        "gradlew",
        "gradlew.bat",
        "mvnw",
        "services/api/mvnw.cmd",
    ],
)
def test_build_tooling_is_its_own_kind(path):
    assert PathPolicy().kind(path) == "build"
    assert found(path) == [(Severity.LOW, "build (medium)")]


@pytest.mark.parametrize(
    "path",
    [
        "homeassistant/setup.py",  # a module named setup inside a package is shipped code
        "src/build.rs",
        "Makefile",
        "CMakeLists.txt",
        "build.gradle",
        "src/fuzzy_match.py",
        "thefuzz/fuzz.py",
        "src/configure.py",
        "macros/site.m4",
    ],
)
def test_shipped_code_with_similar_names_is_not_lowered(path):
    assert PathPolicy().kind(path) is None
    assert found(path) == [(Severity.MEDIUM, None)]


def test_build_kind_is_configurable_and_a_leading_slash_anchors_at_the_top():
    off = config_from_mapping({"paths": {"build": []}})
    assert found("setup.py", off) == [(Severity.MEDIUM, None)]
    mine = config_from_mapping({"paths": {"build": ["/tools/*", "/release.py"]}})
    assert found("tools/bump_version.py", mine) == [(Severity.LOW, "build (medium)")]
    assert found("release.py", mine) == [(Severity.LOW, "build (medium)")]
    assert found("pkg/release.py", mine) == [(Severity.MEDIUM, None)]
    assert found("setup.py", mine) == [(Severity.MEDIUM, None)]  # replaced, not added
    keep = config_from_mapping({"paths": {"production": ["setup.py"]}})
    assert found("setup.py", keep) == [(Severity.MEDIUM, None)]
