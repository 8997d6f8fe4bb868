"""Notebook 10's exercises: a dress like this one (the sphere penalty, the direction from light to dark dresses)."""

from __future__ import annotations

import math

import numpy as np

from course.exercises.answers import (
    _array_half_unit,
    _arrays_match,
    _as_array,
    _close,
    _coarsely_rounded,
    _distinct,
    _hint,
    _unanswered,
    _verdict,
)


def check_sphere_penalties(zeros_penalty: object, twos_penalty: object, numbers: int = 64) -> None:
    """Exercise 10.1: the sphere penalty (|z| / sqrt(d) - 1)² of two noise vectors of d = `numbers` numbers: all zeros,
    and all twos. The second is judged once the first is right."""
    if _unanswered(zeros_penalty, twos_penalty):
        return
    radius = math.sqrt(numbers)
    zeros_mistakes = [
        (-1.0, "the penalty is a square, so it is never negative: square the difference."),
        (
            0.0,
            f"the zero vector lies at the centre, not on the sphere of radius sqrt(d) = {radius:g}, so it pays a "
            "penalty: subtract 1 from |z| / sqrt(d) before squaring.",
        ),
    ]
    if not _close(
        zeros_penalty,
        (0.0 / radius - 1) ** 2,
        "the penalty of the vector of zeros",
        rel_tol=1e-3,
        abs_tol=1e-6,
        mistakes=_distinct(zeros_mistakes, 1.0),
    ):
        return
    length = 2.0 * radius  # the square root of numbers times 2²
    expected = (length / radius - 1) ** 2
    twos_mistakes = [
        (
            (length**2 / numbers - 1) ** 2,
            "that uses the squared length |z|²; take the length itself, the square root of the sum of squares.",
        ),
        (
            (length - 1) ** 2,
            f"divide the length by sqrt(d) = {radius:g} before subtracting 1: the penalty compares |z| with the "
            "sphere's radius.",
        ),
        ((length / numbers - 1) ** 2, "divide the length by the square root of d, not by d itself."),
        ((length / radius) ** 2, "subtract 1 before squaring: the penalty is zero on the sphere, not at the centre."),
    ]
    if _close(
        twos_penalty,
        expected,
        "the penalty of the vector of twos",
        rel_tol=1e-3,
        abs_tol=1e-6,
        mistakes=_distinct(twos_mistakes, expected),
    ):
        print(
            "  The two pay the same: the penalty measures how far |z| is from the sphere of radius sqrt(d), "
            "inside or outside."
        )


def _noise_rows(noise: object) -> np.ndarray | None:
    """A set of noise vectors (a list, array or tensor of shape (n, d), or (n, d, 1, 1)) as a float array (n, d).

    None if it is no such set, or an empty one, or holds nan or inf.
    """
    array = _as_array(noise)
    if array is None or array.ndim < 2 or array.size == 0 or not np.isfinite(array).all():
        return None
    return array.reshape(len(array), -1)


def check_direction(answer: object, dark_noise: object, light_noise: object) -> None:
    """Exercise 10.2: the direction from light to dark dresses in the noise: the mean of the dark dresses' noise
    vectors minus the mean of the light ones' (over the vectors, axis 0), not normalised."""
    if _unanswered(answer):
        return
    dark, light = _noise_rows(dark_noise), _noise_rows(light_noise)
    if dark is None or light is None or dark.shape[1] != light.shape[1]:
        _verdict(
            False,
            "the check needs the dark and the light dresses' noise vectors as given, each a non-empty array or tensor "
            "of shape (n, d) with the same d: run the cells above that make them, then this one again.",
        )
        return
    expected = dark.mean(axis=0) - light.mean(axis=0)
    numbers = len(expected)
    raw = _as_array(answer, keep_dtype=True)
    if raw is not None and raw.ndim == 2 and 1 in raw.shape and raw.size == numbers:
        _verdict(
            False,
            f"answer with one vector of {numbers} numbers, got shape {raw.shape}: "
            "drop the extra axis (no keepdim=True, or take [0]).",
        )
        return
    if raw is not None and raw.shape in {(len(dark),), (len(light),)} and raw.shape != (numbers,):
        _verdict(
            False,
            f"answer with one vector of {numbers} numbers; that has one number per noise vector: average over the "
            f"vectors (axis 0), which leaves one number for each of the {numbers} entries.",
        )
        return
    if raw is None or raw.shape != expected.shape:
        shape = "" if raw is None else f", got shape {raw.shape}" if raw.ndim else ", got a single number"
        _verdict(False, f"answer with one vector of {numbers} numbers, the direction from light to dark{shape}.")
        return
    values, half_unit = raw.astype(float), _array_half_unit(raw)
    if not np.isfinite(values).all():
        _verdict(
            False,
            "the vector holds nan or inf; compute it again from the two sets (the mean of an empty set is nan).",
        )
        return
    length = float(np.linalg.norm(expected))
    unit = expected / length if length > 0 else expected
    mistakes = [
        (-expected, "that points from the dark dresses to the light ones; the direction asked for goes the other way."),
        (unit, "that has length 1; the direction asked for is not normalised: keep the difference of the means."),
        (
            -unit,
            "that has length 1 and points from dark to light; keep the difference of the means as it is, "
            "and let it go from light to dark.",
        ),
        (
            dark.sum(axis=0) - light.sum(axis=0),
            "that subtracts the sums; take each set's mean, so that the set sizes do not matter.",
        ),
    ]
    fewer = min(len(dark), len(light))
    if len(dark) != len(light):
        mistakes.append(
            (
                (dark[:fewer] - light[:fewer]).mean(axis=0),
                "that pairs the vectors up and drops the extra ones; the sets differ in size, so average each set "
                "over all its own vectors first, then subtract.",
            )
        )
    elif len(dark) == numbers:
        mistakes.append(
            (
                dark.mean(axis=1) - light.mean(axis=1),
                "that averages each noise vector's own numbers (axis 1); average over the vectors (axis 0).",
            )
        )
    mistakes = [
        (wrong, hint)
        for wrong, hint in mistakes
        if not np.allclose(wrong, expected, rtol=1e-6, atol=1e-9) and np.isfinite(wrong).all()
    ]
    wrongs = [wrong for wrong, _ in mistakes]
    correct = _arrays_match(values, half_unit, expected, abs_tol=1e-5, others=wrongs)
    if correct:
        _verdict(True, f"the direction from light to dark is {np.linalg.norm(values):.3g} long.")
        return
    _verdict(False, f"your vector is {np.linalg.norm(values):.3g} long, and it is not the direction asked for.")
    for index, (wrong, hint) in enumerate(mistakes):
        others = [expected] + [other for other_index, other in enumerate(wrongs) if other_index != index]
        if _arrays_match(values, half_unit, wrong, abs_tol=1e-5, others=others):
            _hint(hint)
            return
    if _coarsely_rounded(values, half_unit, expected, 1e-5):
        _hint(
            "the direction is right, but the numbers are rounded too coarsely to tell: "
            "keep at least two significant digits."
        )
    elif abs(float(np.linalg.norm(values)) - 1) <= 1e-3:
        _hint("that has length 1; the direction asked for is not normalised: keep the difference of the means.")
    else:
        _hint(
            "average each set's noise vectors over the vectors (axis 0), one mean for the dark dresses and one for "
            "the light ones, then take the difference that goes from light to dark."
        )
