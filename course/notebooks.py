"""Run the course's notebooks headless, in fresh kernels, and keep what is saved clean."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
import zmq
from nbclient import NotebookClient
from nbformat.reader import NotJSONError
from traitlets.config import Config

from course.runs import write_atomically

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def course_notebooks(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks in `folder` (default: the repository's notebooks/), in course order."""
    return sorted((folder or NOTEBOOK_DIR).glob("[0-9][0-9]_*.ipynb"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, as format version 4.

    A file that is not UTF-8 text, not JSON, or not a notebook raises a ValueError whose one sentence names
    the file and says how to get a good copy back, so a command can check every notebook before it runs any.
    """
    try:
        notebook = nbformat.convert(nbformat.reader.reads(Path(path).read_text(encoding="utf-8")), 4)
        nbformat.validate(notebook)
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except NotJSONError:
        problem = "is not valid JSON"
    except nbformat.ValidationError as error:
        problem = f"is not a valid notebook ({str(error).strip().splitlines()[0]})"
    except (ValueError, AttributeError, KeyError, TypeError):  # how nbformat fails on JSON of another shape
        problem = "is JSON but not a notebook"
    else:
        return notebook
    raise ValueError(f"{path} {problem}: restore it with `git checkout -- {path}`, or open it in JupyterLab to see what is wrong.")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only portable metadata: a generic kernel spec and the language, nothing from this machine.

    Live widgets (notebook 09's sliders) are left out too: a saved file does not keep their state, so they
    could only show an error until the cell runs again.
    """
    language = notebook.metadata.get("language_info", {})
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNEL_SPEC, "language_info": {"name": language.get("name", "python")}})
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
    """Make SIGINT and SIGTERM stop the run, noting them in `received` (an nbclient hook, once the kernel is up).

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
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop, number)  # in place of nbclient's, which it removes when the run ends
    except (RuntimeError, NotImplementedError):  # not the main thread, or Windows: nbclient's handling stays
        pass


SOCKET_PATH_LIMIT = 100  # bytes in a socket file's path: 108 on Linux and 104 on macOS, less room for the kernel's "-NN"


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


def run_notebook(path: Path, scale: str, timeout: int = 1800) -> float:
    """Execute one notebook top to bottom in a fresh kernel at `scale`, save it, return the seconds taken.

    Ctrl-C or SIGTERM raise KeyboardInterrupt once the kernel is shut down, and the notebook is left unchanged.
    """
    notebook = read_notebook(path)
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
        client.execute(env={**os.environ, "COURSE_SCALE": scale, "COURSE_PROGRESS": "text"})  # the kernel's environment; saved bars are text
    except asyncio.CancelledError:  # a signal while the kernel was starting, when nbclient's handlers still act
        raise KeyboardInterrupt from None
    except Exception:
        if received:  # nbclient reports a run cancelled part way through a cell as a dead kernel
            raise KeyboardInterrupt from None
        raise
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        if cell.cell_type == "code":
            _collapse_streams(cell)
    save_notebook(clean(notebook), path)
    return seconds
