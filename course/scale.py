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


def check_scale(scale: object) -> str:
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
        return check_scale(explicit)
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        try:
            return check_scale(from_env)
        except ValueError as error:
            raise ValueError(f"{ENV_VAR} is set to {from_env!r}. {error}") from None
    return default_scale()


def by_scale(scale: str, *, smoke: T, laptop: T, full: T) -> T:
    """Pick the value for `scale`: `by_scale(SCALE, smoke=2, laptop=20, full=200)`."""
    return {"smoke": smoke, "laptop": laptop, "full": full}[check_scale(scale)]
