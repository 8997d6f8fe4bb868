"""Each notebook stands on its own: a fresh kernel, no run folder from another notebook, any order."""

import shutil

from course.notebooks import course_notebooks, run_notebook


def test_every_notebook_runs_alone_in_reverse_order_with_nothing_left_over(tmp_path, monkeypatch):
    runs = tmp_path / "runs"  # empty: whatever a notebook reuses, it must remake
    monkeypatch.setenv("COURSE_RUNS_DIR", str(runs))
    notebooks = course_notebooks()
    assert len(notebooks) >= 10
    for path in reversed(notebooks):
        copy = tmp_path / path.name  # run a copy: the committed notebook keeps its laptop outputs
        shutil.copy(path, copy)
        run_notebook(copy, "smoke")  # a fresh kernel each; a failing cell raises CellExecutionError
    assert {"dcgan", "transfer", "wasserstein", "semi_supervised", "beyond"} <= {folder.name for folder in runs.iterdir()}  # remade here
