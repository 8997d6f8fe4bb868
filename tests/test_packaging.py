"""pyproject.toml and environment.yml must declare the same dependencies, with the same ranges."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
