"""The workbook: the learner's edition, built from the complete notebooks by nbgrader's preprocessors."""

import ast
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from paths import ROOT

from course.cli import main
from course.notebooks import course_notebooks, read_notebook
from course.runs import runs_dir
from course.workbook import (
    BEGIN,
    END,
    MARKER,
    SOLUTION_TAG,
    BlankWithMessage,
    build_workbook,
    count_pieces,
    count_regions,
    workbook_notebook,
)

NOTEBOOKS = ROOT / "notebooks"


def solution(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return cell


def graded_cell(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        source, outputs=[nbformat.v4.new_output("stream", text="Correct!\n")], execution_count=2
    )
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


@pytest.fixture
def small_notebook(tmp_path) -> Path:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Write `double`."),
            solution(
                "def double(x):\n    ### BEGIN SOLUTION: return twice x.\n    return 2 * x\n    ### END SOLUTION",
                "double",
            ),
            graded_cell("assert double(3) == 6\nprint('Correct!')", "double-test"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
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
    assert (
        learner.cells[2].metadata["deletable"] is False and learner.cells[2].metadata["editable"] is False
    )  # the test is locked
    assert "checksum" in learner.cells[2].metadata["nbgrader"]  # for nbgrader autograde
    assert count_pieces(complete) == 1 and count_pieces(learner) == 0


def test_the_exercises_solutions_are_left_out_of_the_workbook_and_kept_in_the_complete_edition():
    complete = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("**Exercise 1.1.** What is 2 + 2?"),
            nbformat.v4.new_code_cell("answer = None  # your answer"),
            nbformat.v4.new_markdown_cell("## Solutions", metadata={"tags": [SOLUTION_TAG]}),
            nbformat.v4.new_code_cell("answer = 4", metadata={"tags": [SOLUTION_TAG]}),
        ]
    )
    learner = workbook_notebook(complete)
    assert [cell.source for cell in learner.cells] == [
        "**Exercise 1.1.** What is 2 + 2?",
        "answer = None  # your answer",
    ]
    assert len(complete.cells) == 4


def test_every_course_notebook_with_solutions_tags_all_of_them_for_the_workbook():
    # From its "## Solutions" heading to the end, every cell of a course notebook is tagged: the workbook leaves it out.
    for path in course_notebooks():
        cells = read_notebook(path).cells
        heading = [
            index
            for index, cell in enumerate(cells)
            if cell.cell_type == "markdown" and "## Solutions" in cell.source.split("\n")
        ]
        tagged = [index for index, cell in enumerate(cells) if SOLUTION_TAG in cell.metadata.get("tags", [])]
        assert tagged == (list(range(heading[0], len(cells))) if heading else []), (
            f"{path.name}: the cells tagged {SOLUTION_TAG} should be its Solutions section"
        )


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
    assert (
        sorted(path.name for path in mine.iterdir()) == ["notes.txt"] and (mine / "notes.txt").read_text() == "my notes"
    )


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


# Every course notebook, its pieces written back and left blank one at a time: a piece a notebook gains is tested here.

COURSE = course_notebooks()


def nbgrader_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    return [
        (index, cell.metadata["nbgrader"]) for index, cell in enumerate(notebook.cells) if "nbgrader" in cell.metadata
    ]


def one_blank(source: str, which: int) -> tuple[str, str]:
    """A complete solution cell's source with only its `which`-th solution region blanked, and the blank's message.

    The other regions keep their code.
    """
    lines, begins = source.split("\n"), 0
    kept, inside_other = [], False
    for line in lines:
        if BEGIN in line:
            inside_other, begins = begins != which, begins + 1
            if inside_other:
                continue  # another region: its code stays, its marker goes
        elif END in line and inside_other:
            inside_other = False
            continue
        kept.append(line)
    cell = solution("\n".join(kept), "one-blank")
    assert BlankWithMessage()._replace_solution_region(cell, "python"), (
        f"no region {which} in the cell that starts {source[:60]!r}"
    )
    (raised,) = [
        line.strip() for line in cell.source.split("\n") if line.strip().startswith("raise NotImplementedError(")
    ]
    return cell.source, ast.literal_eval(raised.removeprefix("raise NotImplementedError(").removesuffix(")"))


def released_and_complete(
    path: Path, tmp_path: Path, monkeypatch
) -> tuple[nbformat.NotebookNode, dict[str, str], Path]:
    """The notebook's workbook (built into a workbook folder under tmp_path), the complete edition's solution cells by
    grade_id, and the folder; its kernels will run at the smoke scale (their runs in the test's runs folder)."""
    out = tmp_path / "wb"
    (written,) = build_workbook([path], out)
    complete = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in read_notebook(path).cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    monkeypatch.setenv("COURSE_SCALE", "smoke")
    return read_notebook(written), complete, out


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


@pytest.mark.notebooks
@pytest.mark.usefixtures("runs_dir")
@pytest.mark.parametrize("path", COURSE, ids=[path.stem for path in COURSE])
def test_the_workbook_stops_at_each_blank_with_its_message_and_says_correct_once_written(path, tmp_path, monkeypatch):
    # Each blank alone, every other piece written back: the run stops at the blank's cell, its test cell or a cell
    # between that uses the piece, with NotImplementedError and the blank's whole line (raised, or printed by the
    # test's check).
    # One kernel runs the notebook with every piece written back, up to the last test cell; at each solution cell it
    # first runs the cell with one blank (for each of the cell's regions), then, if that did not stop, the cells up to
    # the test cell after it, as a learner who reached this blank would; then the complete cell again, and on. Every
    # test cell run on the written-back pieces must say "Correct!". (Past the last test cell the notebook is the
    # complete edition's, which pytest --nbval runs.)
    if not count_pieces(read_notebook(path)):
        pytest.skip("no pieces to write in this notebook")
    notebook, complete, out = released_and_complete(path, tmp_path, monkeypatch)
    cells = notebook.cells
    tests = [index for index, meta in nbgrader_cells(notebook) if meta.get("grade")]
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out)}})

    def run(index: int, source: str) -> tuple[nbformat.NotebookNode, CellExecutionError | None]:
        cell = nbformat.from_dict(cells[index])
        cell.source = source
        try:
            client.execute_cell(cell, index)
        except CellExecutionError as error:
            return cell, error
        return cell, None

    def written_back(index: int) -> str:
        meta = cells[index].metadata.get("nbgrader", {})
        return complete[meta["grade_id"]] if meta.get("solution") else cells[index].source

    problems = []
    with client.setup_kernel():
        for index in range(tests[-1] + 1):
            meta = cells[index].metadata.get("nbgrader", {})
            if cells[index].cell_type != "code":
                continue
            if meta.get("solution"):
                test = next(later for later in tests if later > index)
                for which in range(count_regions(nbformat.v4.new_code_cell(complete[meta["grade_id"]]))):
                    source, message = one_blank(complete[meta["grade_id"]], which)
                    where = f"{path.name}, {meta['grade_id']}, blank {which + 1} ({message[:50]}...)"
                    stopped_at, (cell, error) = index, run(index, source)
                    for later in range(index + 1, test + 1):
                        if error is not None:
                            break
                        if cells[later].cell_type == "code":
                            stopped_at, (cell, error) = later, run(later, written_back(later))
                    if error is None:
                        problems.append(f"{where}: the notebook ran on past the blank and its test cell")
                    elif not (
                        error.ename == "NotImplementedError" and error.evalue == message
                    ) and f"NotImplementedError: {message.rstrip('.')}" not in printed(cell):
                        problems.append(
                            f"{where}: cell {stopped_at} stopped with {error.ename}: {error.evalue}, "
                            f"not the blank's whole line; it printed:\n{printed(cell)}"
                        )
            cell, error = run(index, written_back(index))
            assert error is None, (
                f"{path.name}: cell {index} stopped with {error.ename}: {error.evalue}, every piece written back"
            )
            if meta.get("grade"):
                assert "Correct!" in printed(cell), (
                    f"{path.name}, test {meta['grade_id']}, every piece written back, printed:\n{printed(cell)}"
                )
    assert not problems, "\n".join(problems)


def test_the_pieces_and_their_tests_are_consistent_across_the_course():
    # Every piece is a solution cell with its blank's message, tested by a locked test cell after it; ids unique
    # in the course.
    seen = []
    for path in COURSE:
        complete = read_notebook(path)
        learner = workbook_notebook(complete)
        code = [index for index, cell in enumerate(complete.cells) if cell.cell_type == "code"]
        grades = nbgrader_cells(complete)
        seen += [meta["grade_id"] for _, meta in grades]
        for index, meta in grades:
            assert meta["grade_id"].startswith(f"{path.name[:2]}-"), (
                f"{path.name}: {meta['grade_id']} should start with {path.name[:2]}-"
            )
            if meta.get("solution"):
                assert count_regions(complete.cells[index]), f"{path.name}: {meta['grade_id']} has no BEGIN SOLUTION"
                assert any(later > index and other.get("grade") for later, other in grades), (
                    f"{path.name}: no test cell after {meta['grade_id']}"
                )
            if meta.get("grade"):
                before = complete.cells[max(earlier for earlier in code if earlier < index)]
                assert before.metadata.get("nbgrader", {}).get("solution"), (
                    f"{path.name}: test {meta['grade_id']} does not follow a solution cell"
                )
                assert meta.get("locked") and meta.get("points", 0) > 0, (
                    f"{path.name}: test {meta['grade_id']} should be locked and worth points"
                )
        for cell in learner.cells:
            for line in cell.source.split("\n"):
                if "raise NotImplementedError(" in line and cell.metadata.get("nbgrader", {}).get("solution"):
                    message = ast.literal_eval(
                        line.strip().removeprefix("raise NotImplementedError(").removesuffix(")")
                    )
                    assert len(message) > 20 and "\n" not in message, (
                        f"{path.name}: a blank without its one-line message"
                    )
    assert len(seen) == len(set(seen)), (
        f"grade_ids used twice: {sorted({grade_id for grade_id in seen if seen.count(grade_id) > 1})}"
    )


def test_the_course_has_its_pieces_to_write():
    # At least 25 pieces in all, and at least 3 in each GAN notebook (05 to 09).
    pieces = {path.name[:2]: count_pieces(read_notebook(path)) for path in COURSE}
    assert sum(pieces.values()) >= 25, f"{sum(pieces.values())} pieces in the course: {pieces}"
    assert all(pieces[number] >= 3 for number in ["05", "06", "07", "08", "09"]), f"pieces per notebook: {pieces}"
