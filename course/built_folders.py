"""Folders the course builds and replaces whole: the book and the workbook.

Such a folder holds a marker file that says the course built it. A build writes into a hidden folder beside it
and swaps it in by renaming, so a failure or Ctrl-C leaves the old folder as it was. A folder of other files (no
marker) is refused before anything is written, and a lock file beside the folder refuses a second build into it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl  # Linux and macOS; where it is missing, built folders are not locked
except ImportError:
    fcntl = None

TEMPORARY_KINDS = (
    "building",
    "old",
)  # the hidden folders beside a built folder: .NAME.building-XXXXXXXX, .NAME.old-XXXXXXXX


class BuildRunning(RuntimeError):
    """Another build is writing the same folder."""


def require_notebooks(notebooks: list[Path], what: str, written_as: Callable[[Path], str]) -> None:
    """Fail before anything is written when there are no notebooks to build the `what` from, one is missing, or two
    would be written as the same file (`written_as` names what a notebook becomes, as "the page 01_x.html")."""
    if not notebooks:
        raise ValueError(f"no notebooks to build the {what} from: give at least one .ipynb file")
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}; give the paths of .ipynb files")
    outputs = [written_as(path) for path in notebooks]
    repeated = sorted({output for output in outputs if outputs.count(output) > 1})
    if repeated:
        raise ValueError(f"two notebooks would both be {repeated[0]}: give each notebook once, with distinct names")


def require_output_folder(out: Path, marker: str, what: str) -> None:
    """Refuse an `out` that a build must not replace.

    That is a file, a folder that holds files without `marker`, or the folder this process runs in.
    """
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a folder: choose another output folder, or move the file away")
    if not out.is_dir():
        return
    if not (out / marker).is_file() and any(out.iterdir()):
        raise FileExistsError(
            f"{out} holds files and is not a {what} the course built (it has no {marker}), "
            "and a build would replace it: choose another --out, or empty or remove that folder yourself"
        )
    folder, here = out.resolve(), Path.cwd()
    if folder == here or folder in here.parents:
        raise ValueError(
            f"{out} holds the folder this command runs in, and a build replaces it whole: "
            "run the command from another folder"
        )


def temporary_folder(folder: Path, kind: str) -> Path:
    """A new hidden name beside `folder`, for a build in progress or an old build on its way out.

    `kind` is one of TEMPORARY_KINDS.
    """
    return folder.parent / f".{folder.name}.{kind}-{secrets.token_hex(4)}"


def remove_leftovers(folder: Path, marker: str) -> None:
    """Remove the hidden folders a killed build into `folder` left beside it.

    Only ours (marked, or empty) are removed, and only under the lock.
    """
    for kind in TEMPORARY_KINDS:
        for leftover in folder.parent.glob(f".{glob.escape(folder.name)}.{kind}-{'?' * 8}"):
            if (
                leftover.is_dir()
                and not leftover.is_symlink()
                and ((leftover / marker).is_file() or not any(leftover.iterdir()))
            ):
                shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def build_lock(folder: Path, out: Path, what: str) -> Iterator[None]:
    """Hold the lock file beside `folder` (.NAME.lock, left in place) for one build; a second is refused at once."""
    if fcntl is None:
        yield
        return
    with open(folder.parent / f".{folder.name}.lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildRunning(f"another {what} build is writing {out}: wait for it to finish") from None
        yield  # the lock goes with the file, when it closes or the process ends


def swap_in(building: Path, folder: Path) -> None:
    """Put the built folder at `folder` by renaming.

    An old one (or an empty folder) there is renamed aside first, then removed.
    """
    if not folder.exists():
        os.rename(building, folder)
        return
    old = temporary_folder(folder, "old")
    os.rename(folder, old)
    try:
        os.rename(building, folder)
    except BaseException:
        os.rename(old, folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_folder(out: Path, marker: str, marker_text: str, what: str, write: Callable[[Path], list[str]]) -> list[Path]:
    """Build `out` whole: `write(new_folder)` fills a fresh hidden folder, which is then swapped in.

    `write` returns the names it wrote. The marker file is written first. On any failure or interruption the hidden
    folder is removed and `out` is left as it was. Returns the written names under `out`.
    """
    out = Path(out)
    require_output_folder(out, marker, what)
    folder = out.resolve()  # the folder to replace, through any symbolic link
    folder.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(folder, out, what):
        require_output_folder(out, marker, what)  # again, now that no other build can change it
        if fcntl is not None:  # only under a lock is no other build using them
            remove_leftovers(folder, marker)
        building = temporary_folder(folder, "building")
        building.mkdir()
        try:
            (building / marker).write_text(marker_text, encoding="utf-8")
            names = write(building)
            swap_in(building, folder)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return [out / name for name in names]
