"""The built wheel: packages, package data and entry points are found from an installed copy,
and the audit path never imports the generation layer's heavy libraries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from helpers.paths import ROOT

HEAVY = ("torch", "transformers", "onnxruntime", "optimum")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from a copy of the source tree and install it into a bare target folder."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "codeaudit", src / "codeaudit", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(src)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (work / "dist").glob("codeaudit-*.whl")
    target = work / "target"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return wheel, target


def run_installed(target: Path, code: str) -> str:
    # The installed copy comes first on the path, ahead of the editable checkout; the venv's
    # site-packages still provide the dependencies.
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=target.parent,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_wheel_holds_only_the_codeaudit_package(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        tops = {n.split("/")[0] for n in zf.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"codeaudit"}


def test_installed_wheel_holds_every_package_rules_and_schemas(installed):
    _, target = installed
    source = ROOT / "codeaudit"
    packages = sorted(
        ".".join(("codeaudit", *p.parent.relative_to(source).parts))
        for p in source.rglob("__init__.py")
        if "__pycache__" not in p.parts
    )
    rules_dir = source / "auditors" / "security" / "rules"
    source_yaml = sorted(p.name for p in rules_dir.glob("*.yaml"))
    out = run_installed(
        target,
        f"""
        import json, pathlib
        from importlib import import_module
        from importlib.resources import files
        root = pathlib.Path({str(target)!r})
        for name in {packages!r}:
            module = import_module(name)
            assert root in pathlib.Path(module.__file__).parents, module.__file__
        for name in ("report.schema.json", "suggestion.schema.json"):
            json.loads(files("codeaudit").joinpath("schemas", name).read_text())
        rules = pathlib.Path(str(files("codeaudit.auditors.security.rules")))
        found = sorted(p.name for p in rules.glob("*.yaml"))
        assert found == {source_yaml!r}, (found, {source_yaml!r})
        from importlib.metadata import entry_points
        names = {{ep.name for ep in entry_points(group="codeaudit.auditors")}}
        assert {{"privacy", "security", "memorization", "tests"}} <= names, names
        print("ok", len(found))
    """,
    )
    assert out.startswith("ok")


def test_installed_wheel_runs_an_audit(installed, tmp_path):
    _, target = installed
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"id": "a", "completion": "p = \\"/home/hkraus/x\\"\\n"}\n')
    out = run_installed(
        target,
        f"""
        import pathlib, sys
        from codeaudit.cli import main
        import codeaudit
        assert pathlib.Path({str(target)!r}) in pathlib.Path(codeaudit.__file__).parents
        code = main(["audit", {str(batch)!r}, "--auditors", "privacy", "--format", "sarif", "-o", {str(tmp_path / "r.sarif")!r}])
        print(code)
    """,
    )
    assert out.strip() == "1"
    assert "hkraus" in (tmp_path / "r.sarif").read_text()


def test_audit_path_never_imports_the_generation_libraries(tmp_path):
    example = ROOT / "examples" / "suggestions.jsonl"
    code = f"""
        import sys
        import codeaudit
        from codeaudit.cli import main
        code = main(["audit", {str(example)!r}, "--auditors", "privacy", "-o", {str(tmp_path / "r.html")!r}])
        import codeaudit.report.table, codeaudit.report.sarif, codeaudit.report.json
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print(code, heavy)
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1 []", proc.stdout
