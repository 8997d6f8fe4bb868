"""The headless notebook runner: atomic saves, unreadable notebooks refused, long output kept short, no kernel left behind."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import zmq

import course.notebooks
from course import runs
from course.notebooks import _last_states, _local_transport, read_notebook, run_notebook

ROOT = Path(__file__).resolve().parent.parent

LONG_OUTPUT_CELLS = [
    "for i in range(20_000):\n    print('x' * 50)",  # a megabyte, line by line
    "import sys\nfor i in range(100):\n    sys.stdout.write('y' * 10_000)\n    sys.stdout.flush()",  # a megabyte on one line
    "from tqdm import tqdm\nprint('before')\nfor step in tqdm(range(300), desc='steps', mininterval=0, miniters=1):\n    pass\nprint('after')",
]


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def long_output_run(tmp_path_factory):
    """The seconds a notebook of long outputs took to run, and its cells as saved."""
    path = write_notebook(tmp_path_factory.mktemp("long") / "long_output.ipynb", *LONG_OUTPUT_CELLS)
    seconds = run_notebook(path, "smoke")
    return seconds, json.loads(path.read_text())["cells"]


def test_a_megabyte_of_output_is_stored_whole_in_linear_time(long_output_run):
    seconds, cells = long_output_run
    # nbclient's own coalescing took about a minute for 300 kB on one line, and grows with the square of its length
    assert seconds < 60
    lines, one_line = ("".join(cell["outputs"][0]["text"]) for cell in cells[:2])
    assert [len(cell["outputs"]) for cell in cells[:2]] == [1, 1]
    assert lines == ("x" * 50 + "\n") * 20_000
    assert one_line == "y" * 1_000_000


def test_a_progress_bar_is_stored_as_its_last_state_after_the_printed_text(long_output_run):
    _, cells = long_output_run
    stdout, stderr = cells[2]["outputs"]
    assert (stdout["name"], "".join(stdout["text"])) == ("stdout", "before\nafter\n")
    bar = "".join(stderr["text"])
    assert stderr["name"] == "stderr" and bar.startswith("steps: 100%") and "300/300" in bar
    assert bar.count("\n") == 1 and bar.endswith("\n") and "\r" not in bar


def test_each_line_keeps_what_follows_its_last_carriage_return():
    assert _last_states("\r 10%\r 50%\r100%\n") == "100%\n"
    assert _last_states("a\rb\r\nc\rd") == "b\r\nd"  # a carriage return that ends a line stays, as nbclient leaves it
    assert _last_states("plain\ntext\n") == "plain\ntext\n"


class FullDisk:
    """A file that takes half of what is written to it, then fails as a full disk does."""

    def __init__(self, file):
        self.file = file

    def write(self, data: bytes) -> None:
        self.file.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_save_that_fails_part_way_leaves_the_previous_notebook_as_it_was(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "lesson.ipynb", "print('a new output')")
    before = path.read_bytes()
    monkeypatch.setattr(course.notebooks, "write_atomically", lambda target, write: runs.write_atomically(target, lambda file: write(FullDisk(file))))
    with pytest.raises(OSError, match="No space left"):
        run_notebook(path, "smoke")
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["lesson.ipynb"]  # no temporary file left beside it


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'{"cells": [', "is not valid JSON"),
        (b'{"hello": 1}', "is not a valid notebook"),
        (b"[1, 2]", "is JSON but not a notebook"),
        (b'{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "is not a valid notebook"),
        (b'{"cells": [], "note": "\xff"}', "is not UTF-8 text"),
    ],
)
def test_an_unreadable_notebook_is_refused_in_one_sentence_that_names_it(tmp_path, content, problem):
    path = tmp_path / "03_broken.ipynb"
    path.write_bytes(content)
    with pytest.raises(ValueError) as refused:
        read_notebook(path)
    message = str(refused.value)
    assert message.startswith(f"{path} {problem}") and f"git checkout -- {path}" in message and "\n" not in message


def test_a_readable_notebook_is_read_as_version_4(tmp_path):
    notebook = read_notebook(write_notebook(tmp_path / "lesson.ipynb", "1 + 1"))
    assert notebook.nbformat == 4 and notebook.cells[0].source == "1 + 1"


def kernel_is_running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie waiting to be reaped has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_runner_stopped_with_sigterm_shuts_its_kernel_down_and_leaves_the_notebook(tmp_path):
    kernel_pid = tmp_path / "kernel.pid"
    path = write_notebook(tmp_path / "slow.ipynb", f"import os, time\nopen({str(kernel_pid)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)")
    before = path.read_bytes()
    runner = subprocess.Popen(
        [sys.executable, "-m", "course", "run-notebooks", "--scale", "smoke", str(path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (kernel_pid.exists() and kernel_pid.read_text()) and runner.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert kernel_pid.exists(), f"the cell never ran: {runner.stderr.read() if runner.poll() is not None else 'still starting'}"
        kernel = int(kernel_pid.read_text())
        runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=30)
    finally:
        runner.kill()
    assert runner.returncode == 130 and "interrupted" in err
    deadline = time.monotonic() + 10
    while kernel_is_running(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    if kernel_is_running(kernel):
        os.kill(kernel, signal.SIGKILL)
        pytest.fail(f"the kernel (pid {kernel}) outlived its runner")
    assert path.read_bytes() == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["kernel.pid", "slow.ipynb"]


@pytest.mark.skipif(not zmq.has("ipc"), reason="no socket files on this system: the kernel talks over TCP, and warns that it does")
def test_a_headless_run_prints_the_notebook_and_its_time_and_the_kernels_own_warnings_only(tmp_path):
    cell = "get_ipython().kernel.log.warning('a real warning from the kernel')\nimport warnings\nwarnings.warn('a warning from the lesson')"
    path = write_notebook(tmp_path / "tiny.ipynb", cell)
    temporary = Path(tempfile.mkdtemp())  # short, unlike tmp_path, to leave room for the socket files' names
    env = {**os.environ, "TMPDIR": str(temporary)}  # where the kernel's socket files go, for a look afterwards
    run = subprocess.run([sys.executable, "-m", "course", "run-notebooks", "--scale", "smoke", str(path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert [line.split(" in ")[0] for line in run.stdout.splitlines()] == ["running tiny.ipynb at scale smoke ...", "  done", "1 notebook"]
    assert "without encryption" not in run.stdout + run.stderr
    assert [line for line in run.stderr.splitlines() if line.strip()] == ["[IPKernelApp] WARNING | a real warning from the kernel"]
    saved = "".join(json.loads(path.read_text())["cells"][0]["outputs"][0]["text"])
    assert "UserWarning: a warning from the lesson" in saved  # a lesson's warnings stay in the notebook, where the learner looks
    assert not list(temporary.glob("course-kernel-*"))  # the socket files' folder is gone
    shutil.rmtree(temporary)


def test_a_temporary_folder_too_long_for_socket_files_leaves_the_kernel_on_tcp(tmp_path):
    if zmq.has("ipc"):
        assert _local_transport(Path("/tmp/course-kernel-abc")).KernelManager.transport == "ipc"
    assert "transport" not in _local_transport(tmp_path / ("x" * 100)).KernelManager
