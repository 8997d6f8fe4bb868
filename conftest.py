"""The notebook harness for `pytest --nbval`: every notebook starts with an empty run folder of its own.

nbval starts a fresh kernel for each notebook, and the kernel inherits this process's environment.
Pointing COURSE_RUNS_DIR at a new, empty folder just before each notebook's kernel starts means
that a notebook which quietly reads what another notebook saved fails here, whatever the order,
so one run over the notebooks proves both that each one runs and that each one stands alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_run_folders: dict[str, Path] = {}  # notebook path -> its own runs folder, made on its first cell

# Under pytest-xdist the cores are shared among the workers (and their notebooks' kernels) instead of each
# taking them all: threads that outnumber the cores wait on each other. Set before anything imports torch.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _threads = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, _threads)


# Progress bars as text in the notebooks' kernels (they inherit this environment), to compare with the saved
# outputs, and in the unit tests: see course/progress.py. The JupyterLab test starts JupyterLab without it.
os.environ.setdefault("COURSE_PROGRESS", "text")


def _is_notebook_cell(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item):
    """Around the set-up of a notebook's cells (the first one starts its kernel): its own COURSE_RUNS_DIR."""
    if not _is_notebook_cell(item):
        yield
        return
    notebook = str(item.path)
    if notebook not in _run_folders:
        _run_folders[notebook] = Path(tempfile.mkdtemp(prefix=f"runs-{Path(notebook).stem}-"))
    before = os.environ.get("COURSE_RUNS_DIR")
    os.environ["COURSE_RUNS_DIR"] = str(_run_folders[notebook])
    try:
        yield
    finally:  # the unit tests that follow in this process see the environment as it was
        if before is None:
            os.environ.pop("COURSE_RUNS_DIR", None)
        else:
            os.environ["COURSE_RUNS_DIR"] = before


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """nbval's cells carry the `notebooks` mark, as the tests that run whole notebooks do."""
    for item in items:
        if _is_notebook_cell(item):
            item.add_marker(pytest.mark.notebooks)


def pytest_sessionfinish() -> None:
    for folder in _run_folders.values():
        shutil.rmtree(folder, ignore_errors=True)
