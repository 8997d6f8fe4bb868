"""Helpers for the course "Dreaming up dresses": data, scales, devices, plots and checks.

Each module has one job; notebooks import what a lesson needs and keep the lesson itself in view.
"""

from course.device import pick_device, seed_everything
from course.scale import announce, by_scale, resolve_scale

__version__ = "0.1.0"

__all__ = ["announce", "by_scale", "pick_device", "resolve_scale", "seed_everything", "__version__"]
