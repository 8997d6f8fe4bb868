"""Helpers for the course "Dreaming up dresses": data, networks, training, GANs, measures, plots and checks.

Each module is named for one subject and says in its first line what it holds (`course.data` the datasets,
`course.photos` reading your own pictures, `course.transfer` notebook 04's experiment, ...); notebooks import what a
lesson needs and keep the lesson itself in view.
"""

import importlib

__version__ = "0.1.0"

__all__ = ["announce", "by_scale", "pick_device", "resolve_scale", "seed_everything", "__version__"]

_HOMES = {
    "announce": "course.scale",
    "by_scale": "course.scale",
    "resolve_scale": "course.scale",
    "pick_device": "course.device",
    "seed_everything": "course.device",
}


def __getattr__(name: str):
    """`from course import pick_device` loads course.device (and PyTorch) only then, so that `python -m course`
    is already listening for Ctrl-C while PyTorch loads."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")
