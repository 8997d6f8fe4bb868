"""Every committed notebook holds a clean, real top-to-bottom run that any machine can show."""

import json
import re

import pytest
from paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 2_000_000
LOCAL_PATH = re.compile(r"(/root/|/home/\w|/Users/\w|/work/|/tmp/|[A-Za-z]:\\\\Users|site-packages)")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.fixture(params=NOTEBOOKS, ids=lambda path: path.name)
def notebook(request):
    path = request.param
    return path, json.loads(path.read_text())


def code_cells(nb):
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def test_size_is_under_budget(notebook):
    path, _ = notebook
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"


def test_every_code_cell_ran_once_in_order(notebook):
    _, nb = notebook
    counts = [cell["execution_count"] for cell in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}"


def test_no_error_outputs_or_warnings(notebook):
    _, nb = notebook
    for index, cell in enumerate(code_cells(nb)):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"code cell {index} stores an error"
            if output.get("name") == "stderr":
                assert "Warning" not in "".join(output["text"]), f"code cell {index} stores a warning"


def test_no_local_paths_in_outputs_or_metadata(notebook):
    _, nb = notebook
    outputs = [output for cell in code_cells(nb) for output in cell["outputs"]]
    for text in [json.dumps(outputs), json.dumps(nb["metadata"])] + [json.dumps(c["metadata"]) for c in nb["cells"]]:
        match = LOCAL_PATH.search(text)
        assert match is None, f"local path {match.group(0)!r} in {text[max(0, match.start() - 80) : match.end() + 40]}"


def test_kernel_spec_is_generic(notebook):
    _, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_one_parameters_cell_near_the_top(notebook):
    _, nb = notebook
    tagged = [i for i, cell in enumerate(code_cells(nb)) if "parameters" in cell["metadata"].get("tags", [])]
    assert tagged in ([0], [1]), f"parameters cell(s) at code cells {tagged}"
    assert "resolve_scale" in "".join(code_cells(nb)[tagged[0]]["source"])


def test_exercises_come_before_their_solutions(notebook):
    _, nb = notebook
    headings = [
        line
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("## ")
    ]
    assert "## Solutions" in headings, (
        "every notebook ends with its exercises' solutions under a '## Solutions' heading"
    )
    assert headings.index("## Solutions") == len(headings) - 1, "the solutions close the notebook"


def _text_of(cell) -> str:
    return "".join("".join(output.get("text", "")) for output in cell.get("outputs", []))


def test_every_solution_is_accepted_by_its_check(notebook):
    """In the committed run, every solution cell that calls a check printed "Correct!" and never "Not yet"."""
    path, nb = notebook
    start = next(
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "markdown" and "## Solutions" in "".join(cell["source"])
    )
    checked = [
        cell
        for cell in nb["cells"][start:]
        if cell["cell_type"] == "code" and re.search(r"\bcheck_\w+\(", "".join(cell["source"]))
    ]
    assert checked, f"{path.name} has no solution cell that runs a check"
    for cell in checked:
        text = _text_of(cell)
        assert "Correct!" in text and "Not yet" not in text, (
            f"{path.name}: a solution was not accepted:\n{''.join(cell['source'])}\n{text}"
        )


def test_every_notebook_is_valid_for_the_format_version_it_declares(notebook):
    # A cell id in a version 4.4 notebook, say, makes Jupyter and the course's runner refuse the whole file.
    import nbformat

    path, nb = notebook
    nbformat.validate(nbformat.from_dict(nb))  # raises, naming the offending field, when it is not valid
