"""Argument checks that many of the course's functions share, so that one mistake is always told the same way."""

from __future__ import annotations


def check_positive_int(name: str, value: object, unit: str = "") -> int:
    """`value` if it is a whole number of at least 1 (a bool is not); otherwise a ValueError naming `name`.

    `unit` says what is counted, as in "(generator steps)", when the name alone does not.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        counted = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be a positive int{counted}, got {value!r}.")
    return value
