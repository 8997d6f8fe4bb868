"""The code passes the linter and the formatter configured in pyproject.toml ([tool.ruff])."""

import subprocess
import sys

from paths import ROOT

CHECKED = ["course", "tests", "conftest.py"]


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, *CHECKED], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_linter_finds_nothing():
    result = ruff("check", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, (
        f"ruff check found problems (fix them, or run `ruff check --fix`):\n{result.stdout}{result.stderr}"
    )


def test_the_code_is_formatted():
    result = ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, f"run `ruff format` on these files:\n{result.stdout}{result.stderr}"
