"""nbgrader's settings for a workshop on the workbook (README.md, "For instructors"); run nbgrader from this folder.

The course's files for grading go under grading/: source/<assignment>/ the complete notebooks, release/ what
generate_assignment makes of them (the workbook's notebooks), submitted/<learner>/<assignment>/ the learners'
notebooks, autograded/ and gradebook.db the scores.
"""

import os
from pathlib import Path

from course.workbook import release_preprocessors

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.root = str(Path(__file__).resolve().parent / "grading")
c.GenerateAssignment.preprocessors = release_preprocessors()  # each blank says what to write, as in the workbook
c.CourseDirectory.ignore.append("runs")  # a learner's runs (below) stay out of the feedback nbgrader copies back
c.Execute.timeout = 600  # seconds a cell may take when autograde runs a notebook (nbgrader's default is 30)

# Autograde runs the learners' notebooks at the smoke scale unless COURSE_SCALE says otherwise: the tests score the
# pieces, not the long runs. Each learner's runs go to runs/ beside their autograded notebook (a path relative to the
# folder the notebook runs in), never into the course's runs/ nor another learner's.
os.environ.setdefault("COURSE_SCALE", "smoke")
os.environ["COURSE_RUNS_DIR"] = "runs"
