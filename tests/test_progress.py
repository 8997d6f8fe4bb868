"""Progress bars: a widget in a kernel by default, text where COURSE_PROGRESS=text (nbval, the runner, a terminal)."""

import json
import os
import subprocess
import sys

import nbformat
from nbclient import NotebookClient

from course.notebooks import WIDGET_VIEW, run_notebook

BAR_CELL = "from course.progress import tqdm\nfor _ in tqdm(range(3), desc='steps'):\n    pass"
SLIDER_CELL = "import ipywidgets\nipywidgets.IntSlider(value=3)"


def bar_class(environment: dict) -> str:
    code = "from course.progress import tqdm; print(tqdm.__module__)"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_terminal_gets_the_text_bar_with_or_without_the_setting():
    without = {name: value for name, value in os.environ.items() if name != "COURSE_PROGRESS"}
    assert bar_class(without) in ("tqdm.std", "tqdm.asyncio")  # tqdm.auto's choice outside a notebook: text
    assert bar_class({**without, "COURSE_PROGRESS": "text"}) == "tqdm.std"


def new_notebook(*sources: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


def test_a_kernel_without_the_setting_draws_a_widget_bar(tmp_path):
    notebook = new_notebook(BAR_CELL)
    environment = {name: value for name, value in os.environ.items() if name != "COURSE_PROGRESS"}
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute(env=environment)
    outputs = notebook.cells[0].outputs
    assert any(WIDGET_VIEW in output.get("data", {}) for output in outputs), f"no widget among the outputs: {outputs}"


def test_the_runner_saves_bars_as_text_and_leaves_live_widgets_out(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)  # the runner sets it for its kernel itself
    path = tmp_path / "bars.ipynb"
    nbformat.write(new_notebook(BAR_CELL, SLIDER_CELL), path)
    run_notebook(path, "smoke")
    bar_cell, slider_cell = json.loads(path.read_text())["cells"]
    assert [output["name"] for output in bar_cell["outputs"]] == ["stderr"]
    assert "".join(bar_cell["outputs"][0]["text"]).startswith("steps: 100%")
    assert slider_cell["outputs"] == []
