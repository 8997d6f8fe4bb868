"""Run the course's notebooks headless, in fresh kernels, and keep what is saved clean."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def course_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The lesson notebooks, in course order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only portable metadata: a generic kernel spec and the language, nothing from this machine."""
    language = notebook.metadata.get("language_info", {})
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNEL_SPEC, "language_info": {"name": language.get("name", "python")}})
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def run_notebook(path: Path, scale: str, timeout: int = 1800) -> float:
    """Execute one notebook top to bottom in a fresh kernel at `scale`, save it, return the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=True,  # one output per stream, a progress bar saved as its last state
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, "COURSE_SCALE": scale})  # the kernel's environment
    seconds = time.perf_counter() - start
    nbformat.write(clean(notebook), path)
    return seconds
