"""Validators that many of the course's functions share.

Each returns the value it is given, or raises a ValueError naming it.
"""

from __future__ import annotations


def require_positive_int(name: str, value: object, unit: str = "") -> int:
    """`value` if it is a whole number of at least 1 (a bool is not); otherwise a ValueError naming `name`.

    `unit` says what is counted, as in "(generator steps)", when the name alone does not.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        counted = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be a positive int{counted}, got {value!r}.")
    return value


SEED_LIMIT = 2**32  # seeds run from 0 to 2**32 - 1, the range every generator the course seeds accepts


def require_seed(name: str, value: object) -> int:
    """`value` if it is a whole number from 0 to 2**32 - 1; otherwise a ValueError naming `name`."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be a whole number from 0 to {SEED_LIMIT - 1:,}, got {value!r}.")
    return value
