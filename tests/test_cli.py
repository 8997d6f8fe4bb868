import json
import subprocess
import sys

import nbformat

from course.cli import main
from course.notebooks import course_notebooks


def test_data_command_verifies_what_is_there(capsys):
    assert main(["data", "--no-download"]) == 0
    out = capsys.readouterr().out
    assert "546 sales, checksum verified" in out and "60,000 train" in out


def test_the_course_notebooks_are_found_in_order():
    names = [path.name for path in course_notebooks()]
    assert names[:2] == ["00_welcome.ipynb", "01_linear_regression.ipynb"] and names == sorted(names)


def test_run_notebooks_executes_at_the_scale_and_saves_clean_metadata(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import course\nprint(course.resolve_scale())")]
    notebook.metadata["some_editor"] = {"path": str(tmp_path)}
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    result = subprocess.run(
        [sys.executable, "-m", "course", "run-notebooks", "--scale", "smoke", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "1 notebook in" in result.stdout
    saved = json.loads(path.read_text())
    assert "".join(saved["cells"][0]["outputs"][0]["text"]) == "smoke\n"
    assert saved["cells"][0]["execution_count"] == 1
    assert set(saved["metadata"]) == {"kernelspec", "language_info"}


def test_an_unknown_command_or_scale_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train-everything"])
    with pytest.raises(SystemExit):
        main(["run-notebooks", "--scale", "huge"])
    assert "invalid choice" in capsys.readouterr().err


def test_data_command_fails_clearly_when_nothing_is_found(monkeypatch, tmp_path, capsys):
    from course import data

    monkeypatch.setattr(data, "fashion_mnist_folders", lambda: [tmp_path / "nowhere"])
    assert main(["data", "--no-download"]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_run_notebooks_reports_a_failing_notebook_and_leaves_it_unchanged(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("raise RuntimeError('broken lesson')")]
    path = tmp_path / "98_broken.ipynb"
    nbformat.write(notebook, path)
    before = path.read_text()
    assert main(["run-notebooks", "--scale", "smoke", str(path)]) == 1
    assert "98_broken.ipynb failed at scale smoke" in capsys.readouterr().err
    assert path.read_text() == before
    assert main(["run-notebooks", str(tmp_path / "no_such.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err
