"""course.sh, the course's front door: its help, which commands need data, JupyterLab's settings, the quick test run.

The commands run against a stand-in environment: its python records what it is asked and answers `course data` as
told, its jupyter records its arguments, so no packages are installed, no data fetched and nothing started.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from paths import ROOT

COMMANDS = ["lab", "lab --headless", "lab --workbook", "test", "test --quick", "classroom", "book", "workbook", "help"]


def course_sh(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "course.sh"), *arguments], env=env, capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_command_on_stdout_and_exits_0():
    for asked in ("help", "-h", "--help"):
        done = course_sh(asked)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        listed = re.findall(r"^  (\S.*?)\s{2,}", done.stdout, re.MULTILINE)  # a command, then its description
        assert [" ".join(re.sub(r"\[.*?\]", "", command).split()) for command in listed] == COMMANDS


def test_an_unknown_or_missing_command_prints_the_help_on_stderr_and_exits_2():
    help_text = course_sh("help").stdout
    for arguments, says in [
        (["lecture"], "error: 'lecture' is not a command of course.sh"),
        ([], "error: no command given"),
    ]:
        done = course_sh(*arguments)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(says) and done.stderr.endswith(help_text)


def test_every_command_the_script_runs_is_in_its_help():
    script = (ROOT / "course.sh").read_text()
    handled = set(re.findall(r"^  ([a-z]+)\)$", script, re.MULTILINE))
    assert handled == {command.split()[0] for command in COMMANDS} - {"help"}


@pytest.fixture
def stand_in(tmp_path):
    """A VENV whose python and jupyter record their arguments (in the returned log) and whose set-up is up to date,
    an apt-get that installs nothing, and `course data` answering as DATA says (present or missing)."""
    venv, tools, log = tmp_path / "venv", tmp_path / "tools", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    tools.mkdir()
    (venv / "bin" / "python").write_text(
        '#!/bin/sh\necho "python $*" >> "$CALLS"\n'
        'if [ "$1 $2 $3" = "-m course data" ] && [ "$DATA" = missing ]; then\n'
        '  echo "Fashion-MNIST: PROBLEM. Fashion-MNIST was not found (looked in: nowhere)." >&2; exit 1\nfi\n'
    )
    (venv / "bin" / "jupyter").write_text('#!/bin/sh\necho "jupyter $*" >> "$CALLS"\n')
    (tools / "apt-get").write_text("#!/bin/sh\nexit 1\n")
    for tool in [venv / "bin" / "python", venv / "bin" / "jupyter", tools / "apt-get"]:
        tool.chmod(0o755)
    checksum = subprocess.run(
        "cksum < pyproject.toml", shell=True, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    (venv / ".course-installed").write_text(f"{checksum} torch:any\n")  # as the set-up leaves it: nothing to install
    env = {
        **os.environ,
        "VENV": str(venv),
        "PYTHON": sys.executable,
        "PATH": f"{tools}:{os.environ['PATH']}",
        "CALLS": str(log),
    }
    env.pop("TORCH_SPEC", None)
    log.write_text("")
    return env, venv, log


@pytest.mark.parametrize("command", ["book", "workbook"])
def test_book_and_workbook_run_without_the_data_and_say_what_is_missing(command, stand_in):
    env, _, log = stand_in
    done = course_sh(command, "--out", "somewhere", env={**env, "DATA": "missing"})
    assert done.returncode == 0, done.stderr
    assert f"The {command} does not need them" in done.stdout and "Fashion-MNIST was not found" in done.stdout
    assert f"python -m course {command} --out somewhere" in log.read_text().splitlines()
    assert "python -m course data\n" not in log.read_text()  # looked for, never downloaded


@pytest.mark.parametrize("command", [["lab"], ["lab", "--headless"], ["test", "--quick"], ["classroom"]])
def test_the_commands_that_use_the_data_stop_when_it_cannot_be_had(command, stand_in):
    env, _, log = stand_in
    done = course_sh(*command, env={**env, "DATA": "missing"})
    assert done.returncode == 1 and "Fashion-MNIST was not found" in done.stderr
    calls = log.read_text().splitlines()
    assert calls[-1] == "python -m course data"  # the last thing run: nothing after it


def test_lab_opens_jupyterlab_with_the_news_never_fetched(stand_in):
    env, venv, log = stand_in
    done = course_sh("lab", env={**env, "DATA": "present", "PORT": "8765"})
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines()[-1].startswith("jupyter lab --notebook-dir=notebooks --port=8765")
    overrides = json.loads((venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    assert overrides == {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


def test_the_news_setting_is_one_jupyterlab_knows():
    from jupyterlab.commands import get_app_dir

    schema = json.loads(
        (Path(get_app_dir()) / "schemas" / "@jupyterlab" / "apputils-extension" / "notification.json").read_text()
    )
    assert "false" in [choice["const"] for choice in schema["properties"]["fetchNews"]["oneOf"]]


def registered_marks() -> set[str]:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {line.split(":")[0] for line in options["markers"]}


def test_the_quick_run_leaves_out_every_registered_mark_and_only_those():
    script = (ROOT / "course.sh").read_text()
    (expression,) = re.findall(r'-m "(not [^"]+)"', script)
    assert (
        set(re.findall(r"not (\w+)", expression)) == registered_marks() == {"slow", "browser", "install", "notebooks"}
    )
