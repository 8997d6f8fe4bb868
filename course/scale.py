"""The course's one size switch: `COURSE_SCALE` = smoke, laptop or full.

A scale changes sizes and counts (epochs, samples, steps), never which code runs.
"""

from __future__ import annotations

import os
from typing import TypeVar

import torch

SCALES = ("smoke", "laptop", "full")
ENV_VAR = "COURSE_SCALE"

T = TypeVar("T")


def default_scale() -> str:
    """`full` where a CUDA GPU is present, `laptop` everywhere else."""
    return "full" if torch.cuda.is_available() else "laptop"


def require_scale(scale: object) -> str:
    """Return `scale` if it names a scale, else raise a ValueError that lists the choices."""
    if not isinstance(scale, str) or scale not in SCALES:
        raise ValueError(
            f"Unknown scale {scale!r}: expected one of {', '.join(SCALES)} "
            f"(set it in the notebook's parameters cell, or with {ENV_VAR}=laptop for example)."
        )
    return scale


def resolve_scale(explicit: str | None = None) -> str:
    """The scale to run at: an explicit value wins, then `COURSE_SCALE`, then the default."""
    if explicit is not None:
        return require_scale(explicit)
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        try:
            return require_scale(from_env)
        except ValueError as error:
            raise ValueError(f"{ENV_VAR} is set to {from_env!r}. {error}") from None
    return default_scale()


def by_scale(scale: str, *, smoke: T, laptop: T, full: T) -> T:
    """Pick the value for `scale`: `by_scale(SCALE, smoke=2, laptop=20, full=200)`."""
    return {"smoke": smoke, "laptop": laptop, "full": full}[require_scale(scale)]


def announce(
    scale: str, device: torch.device, laptop: str, full: str = "not timed yet", cpu_only: bool = False
) -> None:
    """Print where a notebook will run, about how long that takes there, and how to change it.

    `laptop` is the time measured for the whole notebook at the laptop scale on two CPU cores. `cpu_only`: the
    notebook runs on the CPU whatever the machine has (networks too small for a GPU to help), so no device advice.
    """
    scale = require_scale(scale)
    expected = by_scale(
        scale,
        smoke="seconds (a quick check of every cell)",
        laptop=f"{laptop} (measured on two CPU cores)",
        full=f"{full} (sized for a GPU)" if not cpu_only else f"{full} (on the CPU)",
    )
    print(f"Running at the {scale!r} scale on {device.type}: expect {expected}.")
    if cpu_only:
        print(
            "To change it, put 'smoke', 'laptop' or 'full' in resolve_scale(None) above, "
            f"or start Jupyter with {ENV_VAR}=...; "
            "this notebook runs on the CPU whatever the machine has."
        )
        return
    if scale == "full" and device.type == "cpu":
        print(
            f"Warning: 'full' is sized for a GPU and this machine has none; on the CPU it takes many times the laptop "
            f"scale's {laptop}. Choose 'laptop' unless you mean to wait."
        )
    elif scale == "laptop" and device.type == "cpu" and torch.cuda.is_available():
        print("A CUDA GPU is here but not in use: COURSE_DEVICE is set to cpu.")
    print(
        f"To change it, put 'smoke', 'laptop' or 'full' in resolve_scale(None) above, or start Jupyter with "
        f"{ENV_VAR}=...; COURSE_DEVICE=cpu, cuda or mps chooses the device."
    )
