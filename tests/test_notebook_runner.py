"""The headless notebook runner: atomic saves, a learner's edits kept, unreadable or unsavable notebooks refused.

Also long output kept short, a dead kernel named, no kernel left behind.
"""

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
from shlex import quote

import nbformat
import pytest
import zmq
from paths import ROOT

import course.notebooks
from course import runs
from course.cli import main
from course.notebooks import (
    _last_states,
    _local_transport,
    _result_path,
    course_notebooks,
    read_notebook,
    run_notebook,
    without_colour,
)

pytestmark = pytest.mark.notebooks  # most tests start a kernel and run a notebook

LONG_OUTPUT_CELLS = [
    # a megabyte, line by line
    "for i in range(20_000):\n    print('x' * 50)",
    # a megabyte on one line
    "import sys\nfor i in range(100):\n    sys.stdout.write('y' * 10_000)\n    sys.stdout.flush()",
    (
        "from tqdm import tqdm\nprint('before')\n"
        "for step in tqdm(range(300), desc='steps', mininterval=0, miniters=1):\n    pass\nprint('after')"
    ),
]


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def long_output_run(tmp_path_factory):
    """A notebook of long outputs run: the nbclient clients it made, the length of each text the streams' merge
    went over (one call of _last_states each), and its cells as saved."""
    path = write_notebook(tmp_path_factory.mktemp("long") / "long_output.ipynb", *LONG_OUTPUT_CELLS)
    clients, passes = [], []

    class RecordedClient(course.notebooks.NotebookClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            clients.append(self)

    last_states = course.notebooks._last_states
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(course.notebooks, "NotebookClient", RecordedClient)
        patch.setattr(course.notebooks, "_last_states", lambda text: passes.append(len(text)) or last_states(text))
        run_notebook(path, "smoke")
    return clients, passes, json.loads(path.read_text())["cells"]


def test_a_megabyte_of_output_is_stored_whole_in_linear_time(long_output_run):
    clients, passes, cells = long_output_run
    # nbclient's own coalescing goes over a stream's text again and again, as it grows (about a minute for 300 kB on one
    # line): the run turns it off and merges each stream once, in one pass over its whole text.
    assert [client.coalesce_streams for client in clients] == [False]
    assert len(passes) == 4 and 1_020_000 in passes and 1_000_000 in passes  # stdout of each cell, and the bar's stderr
    lines, one_line = ("".join(cell["outputs"][0]["text"]) for cell in cells[:2])
    assert [len(cell["outputs"]) for cell in cells[:2]] == [1, 1]
    assert lines == ("x" * 50 + "\n") * 20_000
    assert one_line == "y" * 1_000_000


def test_a_progress_bar_is_stored_as_its_last_state_after_the_printed_text(long_output_run):
    *_, cells = long_output_run
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
    monkeypatch.setattr(
        course.notebooks,
        "write_atomically",
        lambda target, write: runs.write_atomically(target, lambda file: write(FullDisk(file))),
    )
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
        (
            b'{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
            "is not a valid notebook",
        ),
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


def test_a_notebook_of_a_newer_format_is_named_as_such_with_what_to_do(tmp_path):
    path = tmp_path / "03_future.ipynb"
    path.write_text('{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}')
    with pytest.raises(ValueError) as refused:
        read_notebook(path)
    assert str(refused.value) == (
        f"{path} is a notebook of format 5.0, newer than this course reads (4): "
        "open it in a newer JupyterLab and save it as format 4, or update nbformat."
    )


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
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_a_runner_stopped_with_sigterm_or_sighup_shuts_its_kernel_down_and_leaves_the_notebook(stop, tmp_path):
    kernel_pid = tmp_path / "kernel.pid"
    path = write_notebook(
        tmp_path / "slow.ipynb",
        f"import os, time\nopen({str(kernel_pid)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)",
    )
    before = path.read_bytes()
    runner = subprocess.Popen(
        [sys.executable, "-m", "course", "run-notebooks", "--scale", "smoke", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            not (kernel_pid.exists() and kernel_pid.read_text())
            and runner.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert kernel_pid.exists(), (
            f"the cell never ran: {runner.stderr.read() if runner.poll() is not None else 'still starting'}"
        )
        kernel = int(kernel_pid.read_text())
        runner.send_signal(getattr(signal, stop))
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


@pytest.mark.skipif(
    not zmq.has("ipc"), reason="no socket files on this system: the kernel talks over TCP, and warns that it does"
)
def test_a_headless_run_prints_the_notebook_and_its_time_and_the_kernels_own_warnings_only(tmp_path):
    cell = (
        "get_ipython().kernel.log.warning('a real warning from the kernel')\n"
        "import warnings\nwarnings.warn('a warning from the lesson')"
    )
    path = write_notebook(tmp_path / "tiny.ipynb", cell)
    temporary = Path(tempfile.mkdtemp())  # short, unlike tmp_path, to leave room for the socket files' names
    env = {**os.environ, "TMPDIR": str(temporary)}  # where the kernel's socket files go, for a look afterwards
    run = subprocess.run(
        [sys.executable, "-m", "course", "run-notebooks", "--scale", "smoke", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert [line.split(" in ")[0] for line in run.stdout.splitlines()] == [
        "each cell may run up to 30 minutes; Ctrl-C stops the run and leaves the notebook as it was",
        "running tiny.ipynb at scale smoke ...",
        "  done",
        "1 notebook",
    ]
    assert "without encryption" not in run.stdout + run.stderr
    assert [line for line in run.stderr.splitlines() if line.strip()] == [
        "[IPKernelApp] WARNING | a real warning from the kernel"
    ]
    saved = "".join(json.loads(path.read_text())["cells"][0]["outputs"][0]["text"])
    assert (
        "UserWarning: a warning from the lesson" in saved
    )  # a lesson's warnings stay in the notebook, where the learner looks
    assert not list(temporary.glob("course-kernel-*"))  # the socket files' folder is gone
    shutil.rmtree(temporary)


def test_a_temporary_folder_too_long_for_socket_files_leaves_the_kernel_on_tcp(tmp_path):
    if zmq.has("ipc"):
        assert _local_transport(Path("/tmp/course-kernel-abc")).KernelManager.transport == "ipc"
    assert "transport" not in _local_transport(tmp_path / ("x" * 100)).KernelManager


def test_a_notebook_saved_during_its_run_keeps_the_learners_edits_and_gets_the_result_beside_it(tmp_path, capsys):
    path = tmp_path / "07_lesson.ipynb"
    learners = tmp_path / "learners_version.json"  # what the learner saves in JupyterLab while the run goes on
    write_notebook(learners, "print('ran')  # and a note of the learner's own")
    write_notebook(path, f"import shutil\nprint('ran')\nshutil.copy({str(learners)!r}, {str(path)!r})")
    assert main(["run-notebooks", "--scale", "smoke", str(path)]) == 0
    assert path.read_bytes() == learners.read_bytes()
    [result] = tmp_path.glob("07_lesson.run-*.ipynb")
    assert "".join(json.loads(result.read_text())["cells"][0]["outputs"][0]["text"]) == "ran\n"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "each cell may run up to 30 minutes; Ctrl-C stops the run and leaves the notebook as it was"
    assert (
        "  07_lesson.ipynb changed on disk during the run, so it was left as you saved it; "
        f"the run's result is in {result.name}" in out
    )
    assert course_notebooks(tmp_path) == [path]  # the result is not a lesson


def test_a_runs_result_never_replaces_an_existing_file(tmp_path):
    path = tmp_path / "07_lesson.ipynb"
    taken = tmp_path / "07_lesson.run-20261205-231500.ipynb"
    taken.write_text("an earlier result")
    first = _result_path(path, "20261205-231500")
    assert first.name == "07_lesson.run-20261205-231500-2.ipynb" and first.read_bytes() == b""
    assert _result_path(path, "20261205-231500").name == "07_lesson.run-20261205-231500-3.ipynb"
    assert taken.read_text() == "an earlier result"


def test_a_kernel_that_dies_is_named_with_what_to_do_and_leaves_the_notebook(tmp_path, capsys):
    path = write_notebook(
        tmp_path / "05_hungry.ipynb", "import os\nos._exit(1)  # as the system ends a kernel that ran out of memory"
    )
    before = path.read_bytes()
    assert main(["run-notebooks", "--scale", "laptop", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: 05_hungry.ipynb's kernel died at scale laptop, most often because the machine ran out of memory, "
        "and the notebook was left unchanged: try a smaller scale (--scale smoke) or close other programs, "
        "then run it again.\n"
    )
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["05_hungry.ipynb"]


def test_no_color_takes_the_colours_out_of_a_failing_cells_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # colours would be kept for a terminal, but for NO_COLOR
    path = write_notebook(tmp_path / "98_broken.ipynb", "raise ValueError('broken lesson')")
    assert main(["run-notebooks", "--scale", "smoke", str(path)]) == 1
    err = capsys.readouterr().err
    assert "ValueError: broken lesson" in err and "\x1b" not in err


def test_colours_and_other_terminal_controls_are_taken_out_whole():
    coloured = (
        "\x1b[31m-----\x1b[39m\n\x1b[1;32mValueError\x1b[0m: broken \x1b]8;;https://example.org\x1b\\link\x1b]8;;\x07"
    )
    assert without_colour(coloured) == "-----\nValueError: broken link"


def can_make_private_mounts() -> bool:
    try:
        return subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=10).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(
    not can_make_private_mounts(), reason="`unshare --mount` is refused here: a read-only mount needs it (and root)"
)
def test_a_notebook_that_could_not_be_saved_is_refused_before_anything_runs(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    ran = tmp_path / "ran"  # outside the read-only mount: the cell leaves it if it runs
    path = write_notebook(folder / "02_lesson.ipynb", f"open({str(ran)!r}, 'w').close()")

    def run_with_read_only(mounts: str) -> subprocess.CompletedProcess:
        script = f'{mounts} && exec "$0" -m course run-notebooks --scale smoke "$1"'
        return subprocess.run(
            ["unshare", "--mount", "sh", "-c", script, sys.executable, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    fix = "make it writable, or copy the notebook to a folder you can write to and run the copy.\n"
    folder_read_only = f"mount --bind -o ro {quote(str(folder))} {quote(str(folder))}"
    read_only_file = run_with_read_only(folder_read_only)
    assert (read_only_file.returncode, read_only_file.stdout) == (1, "")
    assert read_only_file.stderr == f"error: {path} is read-only, so its run could not be saved: {fix}"
    file_writable = f"mount --bind {quote(str(path))} {quote(str(path))} && mount -o remount,bind,rw {quote(str(path))}"
    read_only_folder = run_with_read_only(f"{folder_read_only} && {file_writable}")
    assert (read_only_folder.returncode, read_only_folder.stdout) == (1, "")
    assert (
        read_only_folder.stderr
        == f"error: {path} is in a read-only folder ({folder}), so its run could not be saved: {fix}"
    )
    assert not ran.exists()
