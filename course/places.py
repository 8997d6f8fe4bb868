"""Where the course keeps its files: beside it in a repository checkout, or in a per-user folder once installed."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
USER_FOLDER_NAME = "dreaming-up-dresses"  # the course's title, so the per-user folder says whose it is
WORKBOOK_MARKER = ".course-workbook"  # the file that makes a folder the learner's workbook (course.workbook builds it)


def repository_dir() -> Path | None:
    """The top of the course's repository when the course is imported from a checkout; None when it is installed."""
    top = PACKAGE_DIR.parent
    return top if (top / "course.sh").is_file() and (top / "data").is_dir() else None


def user_data_dir() -> Path:
    """The per-user folder for data and runs, `dreaming-up-dresses` in the user's data folder.

    That is `$XDG_DATA_HOME/dreaming-up-dresses`, else `~/.local/share/dreaming-up-dresses`. As the XDG base directory
    rules say, an XDG_DATA_HOME that is not an absolute path is ignored.
    """
    from_env = os.environ.get("XDG_DATA_HOME", "")
    base = Path(from_env) if from_env and Path(from_env).is_absolute() else Path.home() / ".local" / "share"
    return base / USER_FOLDER_NAME
