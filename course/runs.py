"""Run folders: where training results and weights are kept, written so that a crash never leaves half a file.

Every write goes to a temporary file in the same folder first and then replaces the target in one
step (`os.replace`), so a reader sees the old file or the new one, never a mixture.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch


def runs_dir() -> Path:
    """The folder for run outputs: `COURSE_RUNS_DIR` if set, else `runs/` at the repository's top."""
    from_env = os.environ.get("COURSE_RUNS_DIR")
    return Path(from_env) if from_env else Path(__file__).resolve().parent.parent / "runs"


def run_folder(name: str) -> Path:
    """`runs_dir()/name`, created if needed, with a clear error if it cannot be written to."""
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"a run name is a relative folder name like 'transfer/laptop', got {name!r}.")
    folder = runs_dir() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"Cannot create the run folder {folder} ({error.strerror}). Set COURSE_RUNS_DIR to a writable folder.") from None
    if not os.access(folder, os.W_OK):
        raise OSError(f"The run folder {folder} is not writable. Set COURSE_RUNS_DIR to a writable folder.")
    return folder


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
    whose settings changed starts afresh, and an interrupted one carries on from its last saved row.
    """

    def __init__(self, path: Path, settings: dict):
        self.path, self.settings = Path(path), settings

    def rows(self) -> list[dict]:
        """The rows saved under these settings, in the order they were saved (none if there are none)."""
        saved = load_json(self.path)
        same_settings = isinstance(saved, dict) and saved.get("settings") == self.settings
        return list(saved["rows"]) if same_settings else []

    def save(self, rows: list[dict]) -> None:
        """Write `rows` with the settings, atomically."""
        save_json({"settings": self.settings, "rows": rows}, self.path)


def atomic_torch_save(value: object, path: Path) -> None:
    """`torch.save(value, path)`, atomically: a crash mid-write leaves the previous file whole."""
    write_atomically(path, lambda file: torch.save(value, file))


def save_weights(module: torch.nn.Module, path: Path) -> None:
    """Save a module's state dict, atomically."""
    atomic_torch_save(module.state_dict(), path)


def load_weights(module: torch.nn.Module, path: Path) -> None:
    """Load weights saved by `save_weights` into `module`: plain tensors only, every key must match."""
    load_state(module, torch.load(path, map_location="cpu", weights_only=True), Path(path).name)


def load_state(module: torch.nn.Module, state: object, source: str) -> None:
    """Load a state dict into `module` only if every name and shape matches; otherwise change nothing and say why."""
    expected = {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in state.items()} if isinstance(state, dict) else {}
    if found != expected:  # checked before loading, so a refused file changes nothing
        missing = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        resized = sorted(name for name in set(found) & set(expected) if found[name] != expected[name])
        raise ValueError(
            f"{source} does not hold weights for this model (missing: {missing or 'none'}; "
            f"unexpected: {unexpected or 'none'}; other shapes: {resized or 'none'}). Retrain, or load it into "
            "the model it was saved from."
        )
    module.load_state_dict(state, strict=True)
