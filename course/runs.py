"""Run folders: where training results and weights are kept, written so that a crash never leaves half a file.

Every write goes to a temporary file in the same folder first and then replaces the target in one
step (`os.replace`), so a reader sees the old file or the new one, never a mixture. A resumable experiment
keeps its finished runs in a `ResultsStore`, whose `run_missing` runs only those not saved yet.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from course.places import WORKBOOK_MARKER, repository_dir, user_data_dir

try:
    import fcntl  # Linux and macOS; where it is missing, run folders are not locked
except ImportError:
    fcntl = None

LOCK = ".in-use"  # the lock file of a run folder that a training run is writing to


def runs_dir() -> Path:
    """The folder for run outputs.

    `COURSE_RUNS_DIR` if set, else `runs/` at the repository's top, else `runs/` in the per-user folder.

    Outside a repository, one per-user folder (not the current one) lets a notebook find what `prepare`
    or an earlier run saved, wherever the notebook was copied to. A notebook of the workbook (run in a folder
    that holds the workbook's marker) keeps its runs apart, in `workbook/` under that folder: the learner's
    own networks never resume the complete edition's runs.
    """
    from_env = os.environ.get("COURSE_RUNS_DIR")
    if not from_env:
        repository = repository_dir()
        runs = repository / "runs" if repository else user_data_dir() / "runs"
        return runs / "workbook" if (Path.cwd() / WORKBOOK_MARKER).is_file() else runs
    if Path(from_env).exists() and not Path(from_env).is_dir():
        raise ValueError(
            f"COURSE_RUNS_DIR is {from_env}, which is a file, not a folder: "
            "point it at a folder (it is created if missing), or unset it."
        )
    return Path(from_env)


def run_folder(name: str) -> Path:
    """`runs_dir()/name`, created if needed, with a clear error if it cannot be written to."""
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"a run name is a relative folder name like 'transfer/laptop', got {name!r}.")
    folder = runs_dir() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(
            f"Cannot create the run folder {folder} ({error.strerror}). Set COURSE_RUNS_DIR to a writable folder."
        ) from None
    if not os.access(folder, os.W_OK):
        raise OSError(f"The run folder {folder} is not writable. Set COURSE_RUNS_DIR to a writable folder.")
    return folder


def require_room(folder: Path, needed_bytes: int, what: str) -> None:
    """Before any work: `folder` can be created and written, and its disk has room for `needed_bytes` more."""
    folder = Path(folder)
    above = next((parent for parent in [folder, *folder.parents] if parent.exists()), None)
    if above is not None and not above.is_dir():
        raise NotADirectoryError(f"{what} would go under {above}, which is a file, not a folder: choose another place.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(handle)
        os.unlink(probe)
        free = shutil.disk_usage(folder).free
    except OSError as error:
        raise OSError(
            f"Cannot write {what} in {folder} ({error.strerror or error}): "
            "choose a writable place (or set COURSE_RUNS_DIR)."
        ) from None
    if free < needed_bytes:
        raise OSError(
            f"The disk holding {folder} has {free / 2**20:,.1f} MiB free, "
            f"and {what} need about {needed_bytes / 2**20:,.0f} MiB: "
            "free some space or choose another place."
        )


def require_output_file(path: Path, needed_bytes: int = 0, overwrite: bool = False) -> Path:
    """Before any work: `path` names a file that can be written (its folder made if needed), with room for it.

    An existing file is refused unless `overwrite` (a command's --force, or a file in the course's own runs
    folder); a folder, a device, a pipe or a socket is always refused, since writing would replace it.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder: give the name of a file to write, for example {path / 'out'}{path.suffix or ''}."
        )
    if path.exists() and not path.is_file():
        raise FileExistsError(
            f"{path} is not a regular file (a device, a pipe or a socket), "
            "and writing would replace it: choose a file name."
        )
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists: add --force to replace it, or choose another --out.")
    require_room(path.parent, needed_bytes + 2**20, f"{path.name} and its temporary copy")
    return path


def write_atomically(path: Path, write) -> None:
    """Call `write(file)` on a temporary file beside `path`, then put it in place in one step."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes files private; run outputs are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_npy_in_chunks(path: Path, shape: tuple[int, ...], chunks) -> None:
    """Write uint8 arrays, arriving in `chunks` along the first axis, as one .npy file of `shape`, atomically.

    Only one chunk is in memory at a time, so the file may be far larger than memory.
    """

    def write(file) -> None:
        np.lib.format.write_array_header_1_0(file, {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)})
        written = 0
        for chunk in chunks:
            file.write(np.ascontiguousarray(chunk, dtype=np.uint8).tobytes())
            written += len(chunk)
        if written != shape[0]:
            raise ValueError(f"{written} rows arrived for a .npy file of shape {shape}.")

    write_atomically(path, write)


def save_json(value: object, path: Path) -> None:
    """Write `value` as indented JSON, atomically."""
    text = json.dumps(value, indent=2, sort_keys=True).encode()
    write_atomically(path, lambda file: file.write(text))


def load_json(path: Path) -> object | None:
    """The JSON in `path`, or None if there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


class ResultsStore:
    """The finished rows of a resumable experiment: one JSON file holding them beside the settings that made them.

    Rows saved under other settings are not returned (the next save replaces them), so an experiment
    whose settings changed starts afresh, and an interrupted one carries on from its last saved row
    (`run_missing`). `shown` is how messages name the file (by default its path).
    """

    def __init__(self, path: Path, settings: dict, shown: str | None = None):
        self.path, self.settings = Path(path), settings
        self.shown = shown or str(self.path)

    def rows(self) -> list[dict]:
        """The rows saved under these settings, in the order they were saved (none if there are none)."""
        saved = load_json(self.path)
        same_settings = isinstance(saved, dict) and saved.get("settings") == self.settings
        return list(saved["rows"]) if same_settings else []

    def save(self, rows: list[dict]) -> None:
        """Write `rows` with the settings, atomically."""
        save_json({"settings": self.settings, "rows": rows}, self.path)

    def run_missing(
        self, plan: list[tuple], key: Callable[[dict], tuple], run: Callable[..., dict], description: str
    ) -> list[dict]:
        """Every saved row, and a new row for each run of `plan` that has none, saved as soon as it is made.

        `plan` lists the runs, each a tuple of the arguments of `run`, which returns that run's row; a saved row
        stands for the planned run `key(row)`. So a re-run trains nothing twice, and an interrupted one carries on
        after its last saved run. A progress bar named `description` counts the runs left.
        """
        from course.progress import tqdm  # a widget in JupyterLab: loaded only when an experiment runs

        rows = self.rows()
        done = {key(row) for row in rows}
        missing = [planned for planned in plan if planned not in done]
        if len(missing) < len(plan):
            print(f"Loaded {len(plan) - len(missing)} finished run(s) from {self.shown}")
        for planned in tqdm(missing, desc=description, unit="run", mininterval=1.0, disable=not missing):
            rows.append(run(*planned))
            self.save(rows)
        return rows


def atomic_torch_save(value: object, path: Path) -> None:
    """`torch.save(value, path)`, atomically: a crash mid-write leaves the previous file whole."""
    write_atomically(path, lambda file: torch.save(value, file))


def save_weights(module: torch.nn.Module, path: Path) -> None:
    """Save a module's state dict, atomically."""
    atomic_torch_save(module.state_dict(), path)


def load_weights(module: torch.nn.Module, path: Path) -> None:
    """Load weights saved by `save_weights` into `module`: plain tensors only, every key must match."""
    load_state(module, torch.load(path, map_location="cpu", weights_only=True), Path(path).name)


def state_mismatch(module: torch.nn.Module, state: object) -> str | None:
    """What keeps `state` from loading into `module` (names missing or unexpected, other shapes), or None if it fits."""
    expected = {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}
    found = (
        {name: tuple(getattr(tensor, "shape", ())) for name, tensor in state.items()} if isinstance(state, dict) else {}
    )
    if found == expected:
        return None
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    resized = sorted(name for name in set(found) & set(expected) if found[name] != expected[name])
    return f"missing: {missing or 'none'}; unexpected: {unexpected or 'none'}; other shapes: {resized or 'none'}"


def load_state(module: torch.nn.Module, state: object, source: str) -> None:
    """Load a state dict into `module` only if every name and shape matches; otherwise change nothing and say why."""
    mismatch = state_mismatch(module, state)
    if mismatch:  # checked before loading, so a refused file changes nothing
        raise ValueError(
            f"{source} does not hold weights for this model ({mismatch}). "
            "Retrain, or load it into the model it was saved from."
        )
    module.load_state_dict(state, strict=True)


class RunFolderInUse(RuntimeError):
    """Another training run is writing to this run folder."""


@contextlib.contextmanager
def run_folder_lock(folder: Path):
    """Hold `folder` for one training run: while held, a second run into it is refused, naming this process.

    The lock is the system's advisory lock (flock) on `folder/.in-use`, released when its process ends in
    any way, SIGKILL included. The file names the process that holds it; a file left by a run that was
    killed names a process that holds nothing, so the next run takes it over and says so.
    """
    if fcntl is None:
        yield
        return
    folder = Path(folder)
    file = open(folder / LOCK, "a+")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        holder = file.read().strip() or "a process that is still starting"
        file.close()
        raise RunFolderInUse(
            f"{folder} is in use by another training run ({holder}): wait for it to finish or stop it, "
            "or choose another run folder."
        ) from None
    file.seek(0)
    left_by = file.read().strip()
    if left_by:
        print(f"{folder.name}: the run that held it ({left_by}) ended without releasing it; taking it over.")
    file.seek(0)
    file.truncate()
    file.write(f"process {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    file.flush()
    try:
        yield
    finally:
        file.seek(0)
        file.truncate()  # an empty lock file: released cleanly
        fcntl.flock(file, fcntl.LOCK_UN)
        file.close()
