"""Where tensors live (CUDA, then Apple's MPS, then the CPU) and one call that seeds everything."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from course.validation import require_seed


def pick_device(prefer: str | None = None) -> torch.device:
    """The fastest device here: CUDA, then MPS, then CPU; `prefer` (or COURSE_DEVICE) overrides."""
    choice = prefer or os.environ.get("COURSE_DEVICE") or None
    if choice is not None:
        try:
            device = torch.device(choice)
        except RuntimeError:
            where = f"{choice!r} is" if prefer else f"COURSE_DEVICE is {choice!r}, which is"
            raise ValueError(f"{where} not a device: choose cpu, cuda or mps.") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"Device {choice!r} asked for, but PyTorch sees no CUDA GPU here: "
                "use cpu (COURSE_DEVICE=cpu, or leave it unset)."
            )
        if device.type == "mps" and not _mps_available():
            raise ValueError(
                f"Device {choice!r} asked for, but MPS is not available here: "
                "use cpu (COURSE_DEVICE=cpu, or leave it unset)."
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """A one-line, human description: the GPU's name, or the CPU's thread count."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (all devices) so a run can be repeated."""
    require_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
