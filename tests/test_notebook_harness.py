"""The test command runs each notebook once; the harness makes that one run prove the notebook stands alone.

Two throwaway notebooks: the first saves a result in the runs folder, the second reads it. In one
shared runs folder the second passes; under the harness (the repository's conftest.py) it must fail.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from paths import ROOT

pytestmark = pytest.mark.notebooks  # runs notebooks under pytest --nbval

# The runs folder as course.runs.runs_dir() finds it, without importing the course (and torch) in each kernel.
SAVES = """import os, pathlib
folder = pathlib.Path(os.environ["COURSE_RUNS_DIR"]) / "first"
folder.mkdir(parents=True)
characters = (folder / "result.txt").write_text("saved by the first notebook")"""

READS = """import os, pathlib
print((pathlib.Path(os.environ["COURSE_RUNS_DIR"]) / "first" / "result.txt").read_text())"""


def notebook(folder: Path, name: str, source: str, output: str | None = None) -> None:
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    nb = nbformat.v4.new_notebook(
        cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nbformat.write(nb, folder / name)


def run_nbval(folder: Path, runs: Path) -> subprocess.CompletedProcess:
    """pytest --nbval over the folder's two notebooks, in order, in one process, as the test command runs them."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-current-env",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-q",
        "first.ipynb",
        "second.ipynb",
    ]
    env = {**os.environ, "COURSE_RUNS_DIR": str(runs)}
    env.pop("PYTEST_XDIST_WORKER_COUNT", None)
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def test_a_notebook_that_reads_another_notebooks_run_folder_fails_under_the_harness(tmp_path):
    notebook(tmp_path, "first.ipynb", SAVES)
    notebook(tmp_path, "second.ipynb", READS, output="saved by the first notebook\n")

    shared = run_nbval(tmp_path, tmp_path / "shared-runs")  # no harness: one runs folder for both
    assert shared.returncode == 0, shared.stdout[-3000:]
    assert "2 passed" in shared.stdout

    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")  # the harness the test command uses
    isolated = run_nbval(tmp_path, tmp_path / "isolated-runs")
    assert isolated.returncode == 1, isolated.stdout[-3000:]
    assert "1 failed, 1 passed" in isolated.stdout
    assert "second.ipynb::Cell 0" in isolated.stdout and "FileNotFoundError" in isolated.stdout
    assert not (tmp_path / "isolated-runs" / "first").exists()  # what the first saved went to its own folder
