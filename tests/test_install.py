"""The course installed with `pip install .` into a fresh virtual environment, used outside its repository.

To stay fast and offline, the fresh environment reaches the packages already installed here through a
folder of links to them that leaves the course itself out (here it is an editable install pointing back
at the repository), and pip builds the course from a copy of the repository's files, so the repository
is left as it was.
"""

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from paths import ROOT

from course import data

SOURCE_FILES = ["pyproject.toml", "README.md", "course", "data/housing.csv", "data/README.md"]


def installed(name: str) -> bool:
    """Whether a distribution is installed, asked without importing it or searching for it: a search for pip
    makes setuptools' distutils shim step aside for the rest of the process, and nbgrader's import of
    setuptools (course.workbook) then fails."""
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


pytestmark = [
    pytest.mark.install,
    pytest.mark.skipif(
        importlib.util.find_spec("venv") is None,
        reason="Python's venv module is missing (on Debian: apt-get install python3-venv)",
    ),
    pytest.mark.skipif(
        not (installed("setuptools") and installed("pip")),
        reason="pip and setuptools are needed here to build the course offline (`./course.sh test` installs both)",
    ),
    pytest.mark.skipif(
        sys.platform == "win32", reason="the virtual environment is laid out as on Linux and macOS (bin/python)"
    ),
]


def installed_packages_but_the_course(folder: Path) -> Path:
    """`folder`, filled with links to everything installed in this environment except the course."""
    folder.mkdir()
    for site_packages in dict.fromkeys(Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")):
        for entry in site_packages.iterdir():
            if (
                entry.name == "course"
                or entry.name.startswith(("course-", "__editable__"))
                or (folder / entry.name).exists()
            ):
                continue
            (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The fresh environment's python, a working folder outside the repository, and the environment to run in."""
    import venv

    top = tmp_path_factory.mktemp("installed")
    source = top / "source"
    for name in SOURCE_FILES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(
            ROOT / name,
            source / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}),
        )
    venv.create(top / "venv", with_pip=False, symlinks=True)
    python = top / "venv" / "bin" / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "COURSE_DATA_DIR", "COURSE_RUNS_DIR")
    }
    env.update(
        HOME=str(top / "home"),
        XDG_DATA_HOME=str(top / "home" / "data"),
        COURSE_SCALE="smoke",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=env,
        capture_output=True,
        text=True,
    )
    links = installed_packages_but_the_course(top / "dependencies")
    (Path(site_packages.stdout.strip()) / "dependencies.pth").write_text(f"{links}\n")
    # --no-deps: the dependencies are there through the links, and resolving them again would double the install's time
    install = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-build-isolation",
            "--no-cache-dir",
            "--no-deps",
            ".",
        ],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    work = top / "work"
    work.mkdir()
    return python, work, env


def run(installed, *arguments: str) -> subprocess.CompletedProcess:
    python, work, env = installed
    return subprocess.run([python, *arguments], cwd=work, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_course_is_imported_from_the_fresh_environment(installed):
    python = installed[0]
    found = run(installed, "-c", "import course; print(course.__file__)")
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()).is_relative_to(python.parent.parent) and not Path(
        found.stdout.strip()
    ).is_relative_to(ROOT)


def test_check_finds_the_shipped_house_prices_and_fashion_mnist_in_the_per_user_folder(installed):
    env = installed[2]
    local = data.find_fashion_mnist()
    assert local is not None, "Fashion-MNIST is not on this machine: run `python -m course data` first"
    user_folder = Path(env["XDG_DATA_HOME"]) / "dreaming-up-dresses" / "fashion-mnist"
    user_folder.mkdir(parents=True, exist_ok=True)
    for spec in data.FASHION_FILES.values():
        file = data._find_file(local, spec)
        if not (user_folder / file.name).exists():
            (user_folder / file.name).symlink_to(file)
    check = run(installed, "-m", "course", "check")
    assert check.returncode == 0, check.stderr
    assert "Windsor house prices: 546 sales, checksum verified" in check.stdout
    assert f"checksums verified, from your data folder {user_folder}\n" in check.stdout
    assert "PROBLEM" not in check.stdout + check.stderr


def test_a_notebook_copied_out_of_the_repository_runs_and_saves_its_runs_in_the_per_user_folder(installed):
    work, env = installed[1], installed[2]
    notebook = nbformat.read(ROOT / "notebooks" / "01_linear_regression.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell(
        "import course, course.runs\nprint(course.__file__)\nprint(course.runs.runs_dir())"
    )
    cell.pop("id")  # the lesson's format version (4.4) has no cell ids
    notebook.cells.append(cell)
    nbformat.write(notebook, work / "01_linear_regression.ipynb")
    ran = run(installed, "-m", "course", "run-notebooks", "01_linear_regression.ipynb")
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "1 notebook in" in ran.stdout
    printed = "".join(
        json.loads((work / "01_linear_regression.ipynb").read_text())["cells"][-1]["outputs"][0]["text"]
    ).split()
    assert printed[0].startswith(str(installed[0].parent.parent))  # the kernel, too, imports the installed course
    assert printed[1] == str(Path(env["XDG_DATA_HOME"]) / "dreaming-up-dresses" / "runs")
