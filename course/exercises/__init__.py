"""Exercise checks: each prints "Correct!" or what is off, and never gives the answer away."""

from course.exercises.answers import *  # noqa: F403
from course.exercises.answers import _half_unit, _matches  # noqa: F401
