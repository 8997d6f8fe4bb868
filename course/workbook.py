"""The workbook: the learner's edition of the course, built from the complete notebooks by nbgrader.

In the complete edition, each piece a learner writes (a network, a loss, a training step) sits in an nbgrader
solution cell, between `### BEGIN SOLUTION: <what to write>` and `### END SOLUTION`; the cell that proves the
piece is an nbgrader test cell. The workbook runs nbgrader's own preprocessors over every notebook: the solution
regions become `raise NotImplementedError("<what to write>")`, the exercises' Solutions section (its cells tagged
SOLUTION_TAG) is left out, every output is cleared, test cells are locked and
checksummed so that an instructor's `nbgrader autograde` can score them. The course's `nbgrader_config.py` gives
`nbgrader generate_assignment` the same blanks (`release_preprocessors`), so that what it releases is the workbook.

The workbook folder is the course's: it is built aside and swapped in whole (`course.built_folders`). Its marker
lists every notebook it wrote with a checksum, and a rebuild is refused while the folder holds anything else or a
notebook that differs from what was written: the learner's work is never replaced.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, LockCells

from course.built_folders import build_folder, require_notebooks, require_output_folder
from course.notebooks import read_notebook
from course.places import WORKBOOK_MARKER

MARKER = WORKBOOK_MARKER  # the file that makes a folder a workbook the course built; each build replaces it whole
MARKER_NOTE = (
    "This folder is the course's workbook (python -m course workbook). "
    "A rebuild replaces it only while every notebook is as it was written."
)
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
SOLUTION_TAG = (
    "exercise-solution"  # the cells of a notebook's Solutions section: the complete edition's, left out of the workbook
)


class BlankWithMessage(ClearSolutions):
    """nbgrader's ClearSolutions, whose blank says what to write: the text after `BEGIN SOLUTION:` on its line."""

    def _replace_solution_region(self, cell: nbformat.NotebookNode, language: str) -> bool:
        if cell.cell_type != "code":
            return super()._replace_solution_region(cell, language)
        kept, inside, replaced = [], False, False
        for line in cell.source.split("\n"):
            if self.begin_solution_delimeter in line:
                if inside:
                    raise RuntimeError(f"a {BEGIN} inside another one, in the cell that starts {cell.source[:60]!r}")
                message = line.split(self.begin_solution_delimeter, 1)[1].lstrip(":").strip()
                if not message:
                    raise ValueError(
                        f"a {BEGIN} without the line that says what to write, "
                        f"in the cell that starts {cell.source[:60]!r}"
                    )
                indent = re.match(r"\s*", line).group(0)
                kept.append(f"{indent}raise NotImplementedError({message!r})")
                inside = replaced = True
            elif self.end_solution_delimeter in line:
                inside = False
            elif not inside:
                kept.append(line)
        if inside:
            raise RuntimeError(f"a {BEGIN} without its {END}, in the cell that starts {cell.source[:60]!r}")
        cell.source = "\n".join(kept)
        return replaced


class LeaveOutSolutions(TagRemovePreprocessor):
    """nbconvert's TagRemovePreprocessor, on for the cells tagged SOLUTION_TAG: the exercises' solutions stay hidden."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enabled = True
        self.remove_cell_tags = {SOLUTION_TAG}


def release_preprocessors() -> list[type]:
    """nbgrader generate_assignment's own preprocessors, with BlankWithMessage in ClearSolutions' place and the
    exercises' solutions left out (for nbgrader_config.py)."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    if ClearSolutions not in default:
        raise RuntimeError(f"this nbgrader's generate_assignment has no ClearSolutions to replace: {default}")
    return [LeaveOutSolutions] + [
        BlankWithMessage if preprocessor is ClearSolutions else preprocessor for preprocessor in default
    ]


def workbook_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner's edition of one complete notebook (a new notebook; the one given is left as it was)."""
    notebook, resources = nbformat.from_dict(notebook), {}  # a deep copy
    for preprocessor in (LeaveOutSolutions(), BlankWithMessage(), ClearOutput(), LockCells(), ComputeChecksums()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    return notebook


def count_pieces(notebook: nbformat.NotebookNode) -> int:
    """How many pieces a complete notebook leaves for the learner to write: its solution regions."""
    return sum(count_regions(cell) for cell in notebook.cells)


def count_regions(cell: nbformat.NotebookNode) -> int:
    """How many solution regions a cell of a complete notebook holds (a code cell may hold several pieces)."""
    return (
        sum(line.strip().startswith(f"### {BEGIN}") for line in cell.source.split("\n"))
        if cell.cell_type == "code"
        else 0
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def require_nothing_of_yours(out: Path) -> None:
    """Refuse a workbook folder that holds the learner's work.

    That is anything the last build did not write, or a notebook changed since.
    """
    marker = out / MARKER
    if not marker.is_file():
        return  # a missing or empty folder; a folder of other files is refused by require_output_folder
    try:
        written = json.loads(marker.read_text(encoding="utf-8"))["notebooks"]
    except (ValueError, KeyError, TypeError):
        written = {}
    yours = sorted(
        path.name
        for path in out.iterdir()
        if path.name != MARKER
        and not (
            path.is_file() and written.get(path.name) == sha256(path.read_text(encoding="utf-8", errors="replace"))
        )
    )
    if yours:
        raise FileExistsError(
            f"{out} holds work a rebuild would replace ({', '.join(yours[:3])}{', ...' if len(yours) > 3 else ''}): "
            "move the folder away, or build into another --out"
        )


def build_workbook(notebooks: list[Path], out: Path) -> list[Path]:
    """Write the learner's edition of each notebook into the workbook folder `out`, replaced whole.

    `out` must be missing, empty, or a workbook the course built. Every notebook is read and converted before
    anything is written. Returns the notebooks written.
    """
    notebooks, out = [Path(path) for path in notebooks], Path(out)
    require_notebooks(notebooks, "workbook", lambda path: path.name)
    names = [path.name for path in notebooks]
    require_output_folder(out, MARKER, "workbook")
    require_nothing_of_yours(out)
    texts = [nbformat.writes(workbook_notebook(read_notebook(path))) + "\n" for path in notebooks]
    manifest = json.dumps(
        {"note": MARKER_NOTE, "notebooks": {name: sha256(text) for name, text in zip(names, texts, strict=True)}},
        indent=1,
    )

    def write(folder: Path) -> list[str]:
        for name, text in zip(names, texts, strict=True):
            (folder / name).write_text(text, encoding="utf-8")
        return names

    return build_folder(out, MARKER, manifest + "\n", "workbook", write)
