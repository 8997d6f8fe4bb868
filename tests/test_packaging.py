"""pyproject.toml and environment.yml declare the same dependencies, with the same ranges, and every import."""

import ast
import collections
import importlib.metadata
import json
import re
import sys
import tomllib

from paths import ROOT

CONDA_NAMES = {"pytorch": "torch"}  # conda-forge's name for a package -> its name on PyPI


def split_requirement(text: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", text)
    assert match, f"cannot read requirement {text!r}"
    name = match.group(1).lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [r for group in project["optional-dependencies"].values() for r in group]
    return dict(split_requirement(r) for r in listed)


def conda_requirements() -> dict[str, str]:
    """The conda packages under `dependencies:`, without python, pip and the pip section."""
    found, in_dependencies = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_dependencies = True
        elif in_dependencies and re.match(r"^  - [^ ]", line):
            item = line[4:].split("#")[0].strip()
            name, spec = split_requirement(item.split("=")[0] if item.startswith("python=") else item)
            if name not in ("python", "pip", "pip:"):
                found[name] = spec
        elif line and not line.startswith(" "):
            in_dependencies = False
    return found


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_the_course_is_installed_from_the_environment_file():
    assert re.search(r"^\s+- -e \.$", (ROOT / "environment.yml").read_text(), re.MULTILINE)


def test_the_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda_python = re.search(r"- python=(\d+\.\d+)", (ROOT / "environment.yml").read_text()).group(1)
    minimum = re.fullmatch(r">=(\d+\.\d+)", project["requires-python"]).group(1)
    assert tuple(map(int, conda_python.split("."))) >= tuple(map(int, minimum.split(".")))


# Modules a notebook may import without the course declaring them: Jupyter's kernel brings them.
PROVIDED_BY_THE_KERNEL = {"IPython"}


def imported_modules(source: str) -> set[str]:
    """The top-level names of the modules a piece of Python source needs (relative and optional imports left out).

    An import inside `try: ... except ImportError` is optional: the code says what to do without it.
    """
    tree = ast.parse(source)
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in node.handlers
        ):
            optional |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def third_party(modules: set[str]) -> set[str]:
    return {name for name in modules if name not in sys.stdlib_module_names and name not in ("course", "__future__")}


def module_providers() -> dict[str, set[str]]:
    """Each importable top-level module -> the installed distributions whose files hold it (PIL -> pillow).

    Read from every distribution's file list: Python 3.10's packages_distributions() reads only
    top_level.txt, which packages built without setuptools (numpy, say) do not have.
    """
    providers = collections.defaultdict(set)
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"].lower().replace("_", "-")
        for file in distribution.files or []:
            top = file.parts[0]
            if not top.endswith((".dist-info", ".egg-info", ".pth")) and top not in ("..", "__pycache__"):
                providers[top.removesuffix(".py")].add(name)
    return providers


def undeclared(modules: set[str]) -> set[str]:
    """The third-party modules among `modules` that no distribution declared in pyproject.toml provides."""
    declared, providers = set(pyproject_requirements()), module_providers()
    return {module for module in third_party(modules) if not providers[module] & declared}


def test_every_module_the_package_imports_is_declared():
    modules = set().union(*(imported_modules(path.read_text()) for path in (ROOT / "course").rglob("*.py")))
    assert not undeclared(modules), (
        f"course/ imports {sorted(undeclared(modules))}, which pyproject.toml does not declare"
    )


def test_every_module_a_notebook_imports_is_declared():
    modules = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        modules |= set().union(*(imported_modules("".join(c["source"])) for c in cells if c["cell_type"] == "code"))
    modules -= PROVIDED_BY_THE_KERNEL
    assert not undeclared(modules), (
        f"the notebooks import {sorted(undeclared(modules))}, which pyproject.toml does not declare"
    )


def test_the_import_check_tells_declared_from_undeclared_modules():
    source = """
import os
import numpy as np
from PIL import Image
import nobody_declared_this
from . import sibling
try:
    import optional_extra
except ImportError:
    optional_extra = None
"""
    assert third_party(imported_modules(source)) == {"numpy", "PIL", "nobody_declared_this"}
    assert undeclared(imported_modules(source)) == {"nobody_declared_this"}
