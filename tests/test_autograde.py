"""nbgrader grades the workbook with the course's nbgrader_config.py.

What it releases is the workbook, and its autograder scores each test cell of a learner's notebook (here notebook 07,
the quickest with pieces, at the smoke scale).
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from paths import ROOT

from course.notebooks import read_notebook
from course.workbook import build_workbook, workbook_notebook

pytestmark = pytest.mark.notebooks  # nbgrader executes a notebook three times
NOTEBOOK = ROOT / "notebooks" / "07_wasserstein.ipynb"
ASSIGNMENT = "wasserstein"
MISTAKE = (
    "d_loss = fake_scores.mean() - real_scores.mean()",
    "d_loss = real_scores.mean() - fake_scores.mean()",
)  # the critic's loss upside down


def nbgrader(*arguments: str, course: Path) -> None:
    """Run nbgrader as the README says, with the course elsewhere.

    It runs from the repository's top, so that it reads nbgrader_config.py.
    """
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "COURSE_SCALE": "smoke",
    }  # nbgrader runs alembic
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments, f"--CourseDirectory.root={course}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"nbgrader {' '.join(arguments)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )


def test_nbgrader_releases_the_workbook_and_scores_each_piece(tmp_path):
    course = tmp_path / "grading"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "source" / ASSIGNMENT / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())
    nbgrader("generate_assignment", ASSIGNMENT, course=course)
    released = read_notebook(course / "release" / ASSIGNMENT / NOTEBOOK.name)
    assert nbformat.writes(released) == nbformat.writes(
        workbook_notebook(read_notebook(NOTEBOOK))
    )  # the blanks say what to write

    # Three learners hand in the workbook's notebook: every piece as the course writes it, nothing written, one mistake.
    (workbook,) = build_workbook([NOTEBOOK], tmp_path / "workbook")
    complete = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in read_notebook(NOTEBOOK).cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for learner in ["complete", "released", "mistake"]:
        notebook = read_notebook(workbook)
        for cell in notebook.cells:
            if learner != "released" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = complete[cell.metadata["nbgrader"]["grade_id"]]
                if learner == "mistake" and MISTAKE[0] in cell.source:
                    cell.source = cell.source.replace(*MISTAKE)
            if learner == "mistake" and cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "print('Correct!')"  # a test cell changed too: autograde puts back the one it released
        handed_in = course / "submitted" / learner / ASSIGNMENT
        handed_in.mkdir(parents=True)
        nbformat.write(notebook, handed_in / NOTEBOOK.name)
    assert MISTAKE[1] in (course / "submitted" / "mistake" / ASSIGNMENT / NOTEBOOK.name).read_text()

    nbgrader("autograde", ASSIGNMENT, course=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            learner: {
                grade.name: (grade.auto_score, grade.max_score)
                for grade in gradebook.find_submission_notebook(NOTEBOOK.stem, ASSIGNMENT, learner).grades
            }
            for learner in ["complete", "released", "mistake"]
        }
    assert scores["complete"] == {"07-gradient-penalty-test": (1, 1), "07-critic-step-test": (3, 3)}
    assert scores["released"] == {"07-gradient-penalty-test": (0, 1), "07-critic-step-test": (0, 3)}
    assert scores["mistake"] == {"07-gradient-penalty-test": (1, 1), "07-critic-step-test": (0, 3)}

    graded = read_notebook(course / "autograded" / "mistake" / ASSIGNMENT / NOTEBOOK.name)
    (test,) = [
        cell for cell in graded.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "07-critic-step-test"
    ]
    assert "Not yet:" in "".join(
        output.get("text", "") for output in test.outputs
    )  # the check's verdict, for the learner's feedback
    assert (
        course / "autograded" / "mistake" / ASSIGNMENT / "runs"
    ).is_dir()  # each learner's runs beside their notebook

    nbgrader("export", f"--to={tmp_path / 'grades.csv'}", course=course)
    with open(tmp_path / "grades.csv", newline="") as table:
        assert {row["student_id"]: (row["score"], row["max_score"]) for row in csv.DictReader(table)} == {
            "complete": ("4.0", "4.0"),
            "released": ("0.0", "4.0"),
            "mistake": ("1.0", "4.0"),
        }
