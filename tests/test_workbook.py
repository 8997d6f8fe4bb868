"""The workbook: the learner's edition, built from the complete notebooks by nbgrader's preprocessors."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course.cli import main
from course.notebooks import course_notebooks, read_notebook
from course.runs import runs_dir
from course.workbook import MARKER, BlankWithMessage, build_workbook, count_pieces, workbook_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def solution(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True, "task": False}
    return cell


def graded_cell(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, outputs=[nbformat.v4.new_output("stream", text="Correct!\n")], execution_count=2)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": 1, "schema_version": 3, "solution": False, "task": False}
    return cell


@pytest.fixture
def small_notebook(tmp_path) -> Path:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Write `double`."),
            solution("def double(x):\n    ### BEGIN SOLUTION: return twice x.\n    return 2 * x\n    ### END SOLUTION", "double"),
            graded_cell("assert double(3) == 6\nprint('Correct!')", "double-test"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "language_info": {"name": "python"}},
    )
    path = tmp_path / "01_small.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_blank_says_what_to_write_and_the_complete_notebook_is_left_as_it_was(small_notebook):
    complete = read_notebook(small_notebook)
    before = nbformat.writes(complete)
    learner = workbook_notebook(complete)
    assert nbformat.writes(complete) == before
    assert learner.cells[1].source == "def double(x):\n    raise NotImplementedError('return twice x.')"
    assert learner.cells[2].outputs == [] and learner.cells[2].execution_count is None  # outputs cleared
    assert learner.cells[2].metadata["deletable"] is False and learner.cells[2].metadata["editable"] is False  # the test is locked
    assert "checksum" in learner.cells[2].metadata["nbgrader"]  # for nbgrader autograde
    assert count_pieces(complete) == 1 and count_pieces(learner) == 0


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "without the line that says what to write"),
        ("### BEGIN SOLUTION: one\n### BEGIN SOLUTION: two\n### END SOLUTION", "inside another one"),
        ("### BEGIN SOLUTION: one\nx = 1", "without its END SOLUTION"),
    ],
)
def test_a_malformed_solution_region_is_refused_with_what_is_wrong(source, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        BlankWithMessage()._replace_solution_region(solution(source, "x"), "python")


def test_the_workbook_folder_is_built_whole_and_a_folder_of_yours_is_refused(small_notebook, tmp_path):
    out = tmp_path / "workbook"
    written = build_workbook([small_notebook], out)
    assert written == [out / "01_small.ipynb"] and (out / MARKER).is_file()
    assert "NotImplementedError" in read_notebook(written[0]).cells[1].source
    assert build_workbook([small_notebook], out) == written  # a workbook the course built, untouched, is rebuilt

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(FileExistsError, match="is not a workbook the course built"):
        build_workbook([small_notebook], mine)
    assert sorted(path.name for path in mine.iterdir()) == ["notes.txt"] and (mine / "notes.txt").read_text() == "my notes"


def test_every_course_notebook_converts_and_every_blank_has_its_message():
    total = 0
    for path in course_notebooks():
        complete = read_notebook(path)
        learner = workbook_notebook(complete)
        total += count_pieces(complete)
        for cell in learner.cells:
            for line in cell.source.split("\n"):
                if "raise NotImplementedError(" in line and cell.metadata.get("nbgrader", {}).get("solution"):
                    assert len(line.split("NotImplementedError(", 1)[1]) > 20, f"{path.name}: a blank without its message"
    assert total >= 7  # notebook 06's pieces at least


def test_the_workbook_command_builds_and_says_how_many_pieces(tmp_path, capsys):
    assert main(["workbook", "--out", str(tmp_path / "wb")]) == 0
    out = capsys.readouterr().out
    assert "pieces to write" in out and (tmp_path / "wb" / MARKER).is_file()
    assert sorted(path.name for path in (tmp_path / "wb").glob("*.ipynb")) == [path.name for path in course_notebooks()]


def test_a_workbook_notebook_keeps_its_runs_apart_from_the_complete_editions(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_RUNS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    complete = runs_dir()
    (tmp_path / MARKER).write_text("workbook")
    assert runs_dir() == complete / "workbook"


def test_notebook_06_as_released_stops_at_its_first_blank_with_the_message(tmp_path, monkeypatch):
    # The learner's edition runs at the smoke scale until the first piece to write, and stops there with its one line.
    out = tmp_path / "wb"
    build_workbook([NOTEBOOKS / "06_dcgan_dresses.ipynb"], out)
    notebook = read_notebook(out / "06_dcgan_dresses.ipynb")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out)}})
    monkeypatch.setenv("COURSE_SCALE", "smoke")
    with pytest.raises(CellExecutionError) as stopped:
        client.execute()
    assert stopped.value.ename == "NotImplementedError"
    assert stopped.value.evalue.startswith("build self.project (Linear to 2 * width * 7 * 7 numbers")


@pytest.mark.parametrize("yours", ["a changed notebook", "a new file", "a checkpoint folder"])
def test_a_rebuild_never_replaces_the_learners_work(small_notebook, tmp_path, yours):
    out = tmp_path / "workbook"
    (written,) = build_workbook([small_notebook], out)
    if yours == "a changed notebook":
        written.write_text(written.read_text().replace("raise NotImplementedError('return twice x.')", "return x + x"))
    elif yours == "a new file":
        (out / "my_notes.md").write_text("notes")
    else:
        (out / ".ipynb_checkpoints").mkdir()
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    with pytest.raises(FileExistsError, match="holds work a rebuild would replace"):
        build_workbook([small_notebook], out)
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
