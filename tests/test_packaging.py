"""The built wheel: packages, package data and entry points are found from an installed copy,
and the audit path never imports the generation layer's heavy libraries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

HEAVY = ("torch", "transformers", "onnxruntime", "optimum")
#: Source folder -> the import name it is installed under (see [tool.setuptools.package-dir]).
PACKAGE_ROOTS = {"codeaudit": "codeaudit", "generators": "codeaudit.generators"}


def package_folders(root: Path) -> set[str]:
    """Import names of every folder under codeaudit/ and generators/ that holds Python code."""
    names = set()
    for folder, dotted in PACKAGE_ROOTS.items():
        base = root / folder
        for path in [base, *base.rglob("*")]:
            if not path.is_dir() or "__pycache__" in path.parts or path.name.startswith("."):
                continue
            if any(p.suffix == ".py" for p in path.iterdir()):
                rel = path.relative_to(base).parts
                names.add(".".join((dotted, *rel)))
    return names


def missing_packages(pyproject: str, root: Path) -> set[str]:
    listed = set(tomllib.loads(pyproject)["tool"]["setuptools"]["packages"])
    return package_folders(root) - listed


def test_every_package_folder_is_listed():
    missing = missing_packages((ROOT / "pyproject.toml").read_text(encoding="utf-8"), ROOT)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_the_listing_check_catches_a_missing_package():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for name in ("codeaudit.report", "codeaudit.generators"):
        broken = text.replace(f'    "{name}",\n', "", 1)
        assert broken != text
        assert name in missing_packages(broken, ROOT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from a copy of the source tree and install it into a bare target folder."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("codeaudit", "generators", "rules"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
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


def test_installed_wheel_finds_generators_rules_and_schemas(installed):
    _, target = installed
    source_yaml = sorted(
        p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.yaml")
    )
    out = run_installed(
        target,
        f"""
        import json, pathlib
        from importlib.resources import files
        import codeaudit, codeaudit.generators, codeaudit.rules
        root = pathlib.Path({str(target)!r})
        for module in (codeaudit, codeaudit.generators, codeaudit.rules):
            assert root in pathlib.Path(module.__file__).parents, module.__file__
        for name in ("report.schema.json", "suggestion.schema.json"):
            json.loads(files("codeaudit").joinpath("schemas", name).read_text())
        rules = files("codeaudit.rules")
        found = sorted(str(p.relative_to(pathlib.Path(str(rules)))) for p in pathlib.Path(str(rules)).rglob("*.yaml"))
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
