"""course.sh, the course's front door: its help, its commands without the data, and its quick test run."""

import re

import tomllib
from paths import ROOT


def registered_marks() -> set[str]:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {line.split(":")[0] for line in options["markers"]}


def test_the_quick_run_leaves_out_every_registered_mark_and_only_those():
    script = (ROOT / "course.sh").read_text()
    (expression,) = re.findall(r'-m "(not [^"]+)"', script)
    assert set(re.findall(r"not (\w+)", expression)) == registered_marks() == {"slow", "browser", "install", "notebooks"}
