"""Run the course's notebooks headless, in fresh kernels, and keep what is saved clean."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import nbformat
import zmq
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.reader import NotJSONError
from traitlets.config import Config

from course.runs import write_atomically
from course.scale import SCALES

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# The notebooks whose long runs `python -m course prepare` saves ahead of a workshop: the transfer-learning
# experiment always, the GAN notebooks' runs with --with-gans.
LONG_RUNS = ("04_transfer_learning",)
GAN_RUNS = ("06_dcgan_dresses", "07_wasserstein", "08_discriminator_payoff", "09_beyond")
CELL_TIMEOUT = 1800  # seconds one cell may run before a headless run stops
RESULT_MARK = ".run-"  # in the name of a run's result saved beside a notebook edited during the run


def course_notebooks(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks in `folder` (default: the repository's notebooks/), in course order.

    A run's result saved beside a lesson (`_result_path`) is not a lesson, and is left out.
    """
    return sorted(path for path in (folder or NOTEBOOK_DIR).glob("[0-9][0-9]_*.ipynb") if RESULT_MARK not in path.name)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, as format version 4.

    A file that is not UTF-8 text, not JSON, not a notebook, or a notebook of a format newer than nbformat
    reads raises a ValueError whose one sentence names the file and says what to do, so a command can check
    every notebook before it runs any.
    """
    return _parse_notebook(path, Path(path).read_bytes())


def _parse_notebook(path: Path, data: bytes) -> nbformat.NotebookNode:
    """The notebook whose file `path` holds the bytes `data`, as format version 4, or read_notebook's ValueError."""
    try:
        text = data.decode("utf-8")
        notebook = nbformat.convert(nbformat.reader.reads(text), 4)
        nbformat.validate(notebook)
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except NotJSONError:
        problem = "is not valid JSON"
    except nbformat.ValidationError as error:
        problem = f"is not a valid notebook ({str(error).strip().splitlines()[0]})"
    except nbformat.NBFormatError:  # a format nbformat has no reader for
        major, minor = nbformat.reader.get_version(nbformat.reader.parse_json(text))
        if isinstance(major, int) and major > nbformat.current_nbformat:
            raise ValueError(
                f"{path} is a notebook of format {major}.{minor}, "
                f"newer than this course reads ({nbformat.current_nbformat}): "
                f"open it in a newer JupyterLab and save it as format {nbformat.current_nbformat}, or update nbformat."
            ) from None
        problem = "is JSON but not a notebook"
    except (ValueError, AttributeError, KeyError, TypeError):  # how nbformat fails on JSON of another shape
        problem = "is JSON but not a notebook"
    else:
        return notebook
    raise ValueError(
        f"{path} {problem}: restore it with `git checkout -- {path}`, or open it in JupyterLab to see what is wrong."
    )


def require_can_save(path: Path) -> None:
    """Refuse, with a ValueError of one sentence, a notebook whose run could not be saved over it.

    The save writes a temporary file in the notebook's folder and renames it over the notebook, so both the
    file and its folder must be writable; checked before any notebook runs, so no run is lost at its end.
    """
    path = Path(path)
    if not os.access(path, os.W_OK):
        problem = "is read-only"
    elif not os.access(path.parent, os.W_OK):
        problem = f"is in a read-only folder ({path.parent})"
    else:
        return
    raise ValueError(
        f"{path} {problem}, so its run could not be saved: make it writable, "
        "or copy the notebook to a folder you can write to and run the copy."
    )


ANSI_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
)  # colours and other terminal controls


def without_colour(text: str) -> str:
    """`text` without its ANSI escape sequences (the colours of IPython's tracebacks), for NO_COLOR or a file."""
    return ANSI_ESCAPE.sub("", text)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only portable metadata: a generic kernel spec and the language, nothing from this machine.

    Live widgets (notebook 09's sliders) are left out too: a saved file does not keep their state, so they
    could only show an error until the cell runs again.
    """
    language = notebook.metadata.get("language_info", {})
    notebook.metadata = nbformat.from_dict(
        {"kernelspec": KERNEL_SPEC, "language_info": {"name": language.get("name", "python")}}
    )
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if WIDGET_VIEW not in output.get("data", {})]
    return notebook


def _last_states(text: str) -> str:
    """`text` as a terminal shows it: each line keeps only what follows its last carriage return.

    A carriage return that ends a line (as in "\\r\\n") is kept, as nbclient keeps it, so a tqdm bar, which
    redraws itself after a "\\r", is left in its final state. One pass over the text.
    """
    return "\n".join(line[line.rfind("\r", 0, len(line) - 1) + 1 :] for line in text.split("\n"))


def _collapse_streams(cell: nbformat.NotebookNode) -> None:
    """Store a code cell's printed text once per stream, as nbclient's `coalesce_streams` did, in linear time.

    All of the cell's stdout becomes one output where stdout first appeared, all of its stderr likewise, the
    other outputs keep their order, and each stream keeps the last state of its lines (`_last_states`). The
    kernel sends stdout and stderr independently, so stderr just before stdout is put after it, as nbclient
    does, for a saved order that does not change from run to run.
    """
    outputs, texts = [], {}
    for output in cell.outputs:
        if output.output_type == "stream" and output.name in texts:
            texts[output.name].append(output.text)
            continue
        if output.output_type == "stream":
            texts[output.name] = [output.text]
        outputs.append(output)
    for output in outputs:
        if output.output_type == "stream":
            output.text = _last_states("".join(texts[output.name]))
    for index in range(len(outputs) - 1):
        first, second = outputs[index], outputs[index + 1]
        if first.get("name") == "stderr" and second.get("name") == "stdout":
            outputs[index], outputs[index + 1] = second, first
    cell.outputs = outputs


def save_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write `notebook` to `path` in one step: a failure part way (a full disk) leaves the old file as it was."""
    text = nbformat.writes(notebook)
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")  # byte for byte what nbformat.write makes
    write_atomically(path, lambda file: file.write(data))


def _stop_on_signals(received: list[int], **_) -> None:
    """Make SIGINT, SIGTERM and SIGHUP stop the run, noting them in `received`.

    An nbclient hook, run once the kernel is up.

    nbclient's own handlers for these signals shut the kernel down but let the run fail later with an
    AssertionError that reads like a fault in the course. Cancelling the run instead unwinds it through
    nbclient's clean-up, which shuts the kernel down, and run_notebook then reports an interruption. A SIGKILL
    cannot be caught: then the kernel exits by itself a second or two later, as ipykernel watches the parent
    that started it (jupyter_client gives it JPY_PARENT_PID). Either way the notebook on disk is left as it was.
    """
    loop = asyncio.get_running_loop()
    run = asyncio.current_task()

    def stop(number: int) -> None:
        received.append(number)
        run.cancel()

    try:
        for number in [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]:
            loop.add_signal_handler(number, stop, number)  # in place of nbclient's, which it removes when the run ends
    except (RuntimeError, NotImplementedError):  # not the main thread, or Windows: nbclient's handling stays
        pass


SOCKET_PATH_LIMIT = (
    100  # bytes in a socket file's path: 108 on Linux and 104 on macOS, less room for the kernel's "-NN"
)


def _local_transport(folder: Path) -> Config:
    """Kernel settings for talking to the kernel through socket files in `folder` where the system has them.

    Over TCP, even on this machine, ipykernel warns on every start that the traffic is not encrypted;
    socket files (ZeroMQ's ipc transport) stay on this machine, so it has nothing to warn about, and
    its other warnings still show. A folder of its own, removed after the run, keeps the files apart.
    Where there are no socket files (Windows), or the temporary folder's path is too long for one, the
    kernel keeps TCP, and its warning.
    """
    socket_path = folder / "kernel-99"
    if not zmq.has("ipc") or len(os.fsencode(socket_path)) > SOCKET_PATH_LIMIT:
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}})


class KernelDied(RuntimeError):
    """A notebook's kernel exited in the middle of a run, most often because the machine ran out of memory."""


class NotebookRun(NamedTuple):
    """What run_notebook did: the seconds it took, and the file its result is in.

    `saved_to` is the notebook itself, or a new file beside it when the notebook changed on disk during the run.
    """

    seconds: float
    saved_to: Path


def _sha256(path: Path) -> bytes | None:
    """The SHA-256 of the file at `path`, or None when there is no file there any more."""
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except FileNotFoundError:
        return None


def _result_path(path: Path, stamp: str) -> Path:
    """A new, empty file beside notebook `path` for a run's result, as `07_wasserstein.run-20261205-231500.ipynb`.

    `stamp` is the time of the run; a name that exists already gets "-2", "-3", ... added, and the name is
    claimed by creating the file, so no existing file is ever overwritten.
    """
    for number in itertools.count(1):
        candidate = path.with_name(f"{path.stem}{RESULT_MARK}{stamp}{'' if number == 1 else f'-{number}'}.ipynb")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return candidate


def _kernel_died(error: Exception) -> bool:
    """Whether nbclient raised `error` because the kernel exited (the message is older nbclients' only sign)."""
    return isinstance(error, DeadKernelError) or (
        isinstance(error, RuntimeError) and str(error).startswith("Kernel died")
    )


def _kernel_died_message(path: Path, scale: str) -> str:
    """One sentence for a kernel that died running `path` at `scale`: what most often causes it and what to do."""
    smaller = [f"--scale {name}" for name in reversed(SCALES[: SCALES.index(scale)])] if scale in SCALES else []
    advice = (
        f"try a smaller scale ({' or '.join(smaller)}) or close other programs" if smaller else "close other programs"
    )
    return (
        f"{path.name}'s kernel died at scale {scale}, "
        "most often because the machine ran out of memory, and the notebook "
        f"was left unchanged: {advice}, then run it again."
    )


def run_notebook(path: Path, scale: str, timeout: int = CELL_TIMEOUT) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel at `scale`, save it, return the seconds and the file saved.

    A cell may run up to `timeout` seconds. The result is saved over the notebook, unless the notebook changed
    on disk during the run (a learner saved it in JupyterLab): then the learner's file is left as it is and the
    result goes to a new file beside it (`_result_path`), which the returned NotebookRun's `saved_to` names.
    Ctrl-C or SIGTERM raise KeyboardInterrupt once the kernel is shut down, a kernel that exits raises
    KernelDied, and either way the notebook is left unchanged.
    """
    path = Path(path)
    data = path.read_bytes()  # the notebook as the run read it, to tell whether it changed by the end
    notebook = _parse_notebook(path, data)
    received = []  # the signals that stopped the run, if any did
    sockets = Path(tempfile.mkdtemp(prefix="course-kernel-"))
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=False,  # _collapse_streams does the same after the run, in linear time
        on_notebook_start=functools.partial(_stop_on_signals, received),
        config=_local_transport(sockets),
    )
    start = time.perf_counter()
    try:
        client.execute(
            env={**os.environ, "COURSE_SCALE": scale, "COURSE_PROGRESS": "text"}
        )  # the kernel's environment; saved bars are text
    except asyncio.CancelledError:  # a signal while the kernel was starting, when nbclient's handlers still act
        raise KeyboardInterrupt from None
    except Exception as error:
        if received:  # nbclient reports a run cancelled part way through a cell as a dead kernel
            raise KeyboardInterrupt from None
        if _kernel_died(error):
            raise KernelDied(_kernel_died_message(path, scale)) from error
        raise
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        if cell.cell_type == "code":
            _collapse_streams(cell)
    unchanged = _sha256(path) == hashlib.sha256(data).digest()
    target = path if unchanged else _result_path(path, time.strftime("%Y%m%d-%H%M%S"))
    try:
        save_notebook(clean(notebook), target)
    except BaseException:
        if target != path:  # the empty file that claimed the name
            target.unlink(missing_ok=True)
        raise
    return NotebookRun(seconds, target)
