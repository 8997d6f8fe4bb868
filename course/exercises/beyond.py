"""Notebook 09's exercises: beyond the course (precision per class, a step in the noise, a crop box)."""

from __future__ import annotations

import numpy as np

from course.exercises.answers import (
    _array_half_unit,
    _arrays_match,
    _as_array,
    _coarsely_rounded,
    _hint,
    _unanswered,
    _verdict,
)


def check_class_precision(answer: object, asked: object, judged: object, num_classes: int = 10) -> None:
    """Exercise 9.1: for each class, the share of the images judged to be that class that were asked for as it.

    The share is nan for a class never judged so.
    """
    if _unanswered(answer):
        return
    asked, judged = np.asarray(asked), np.asarray(judged)
    chosen = np.array([(judged == k).any() for k in range(num_classes)])
    expected = np.array([(asked[judged == k] == k).mean() if chosen[k] else np.nan for k in range(num_classes)])
    recall = np.array([(judged[asked == k] == k).mean() if (asked == k).any() else np.nan for k in range(num_classes)])
    raw = _as_array(answer, keep_dtype=True)
    if raw is None or raw.shape != (num_classes,):
        _verdict(False, f"answer with {num_classes} numbers, one precision per class (a share from 0 to 1).")
        return
    values, half_unit = raw.astype(float), _array_half_unit(raw)
    if not np.array_equal(np.isnan(values), ~chosen):
        never = [str(k) for k in range(num_classes) if not chosen[k]]
        told = (
            f"the judge never chose class {', '.join(never)}: put np.nan there, and a share everywhere else."
            if never
            else (
                "every class was chosen at least once, so every precision is a number: "
                "divide by the count of images judged to be k, never by 0."
            )
        )
        _verdict(False, told)
        return
    recall_differs = np.isfinite(recall[chosen]).all() and not np.allclose(
        recall[chosen], expected[chosen], rtol=0, atol=1e-9
    )
    correct = _arrays_match(
        values[chosen], half_unit, expected[chosen], abs_tol=1e-6, others=[recall[chosen]] if recall_differs else []
    )
    if not _verdict(correct, f"the mean over the classes the judge chose is {np.nanmean(values):.1%}."):
        if recall_differs and _arrays_match(
            values[chosen], half_unit, recall[chosen], abs_tol=1e-6, others=[expected[chosen]]
        ):
            _hint(
                "that is each class's accuracy, shown above (divided by the images asked to be k); "
                "precision divides by the images judged to be k."
            )
        elif _coarsely_rounded(values[chosen], half_unit, expected[chosen], 1e-6):
            _hint(
                "the method is right, but the numbers are rounded too coarsely to tell: "
                "keep at least two significant digits."
            )
        elif _arrays_match(values[chosen], half_unit, 100 * expected[chosen], abs_tol=1e-4):
            _hint("give each precision as a share between 0 and 1, not a percentage.")
        else:
            _hint("for class k, keep the images with judged == k and compute the share with asked == k.")


def check_noise_step(answer: object, noise: object, direction: object, amount: float) -> None:
    """Exercise 9.2: the noise vector moved `amount` along the unit vector of `direction`."""
    if _unanswered(answer):
        return
    noise, direction = np.asarray(noise, dtype=float), np.asarray(direction, dtype=float)
    expected = noise + amount * direction / np.linalg.norm(direction)
    not_unit = noise + amount * direction
    raw = _as_array(answer, keep_dtype=True)
    if raw is None or raw.shape != expected.shape:
        _verdict(False, f"answer with one vector of {len(expected)} numbers, the moved noise.")
        return
    values, half_unit = raw.astype(float), _array_half_unit(raw)
    if not np.isfinite(values).all():
        _verdict(False, "the vector holds nan or inf; compute it again from the noise and the direction.")
        return
    correct = _arrays_match(values, half_unit, expected, abs_tol=1e-5, others=[not_unit])
    if not _verdict(correct, f"it is {np.linalg.norm(values - noise):.3g} away from where it started."):
        step, unit = values - noise, direction / np.linalg.norm(direction)
        if _arrays_match(values, half_unit, not_unit, abs_tol=1e-5, others=[expected]):
            _hint("divide the direction by its length first, so the amount alone says how far you go.")
        elif _coarsely_rounded(values, half_unit, expected, 1e-5):
            _hint(
                "the step is right, but the numbers are rounded too coarsely to tell: "
                "keep at least two significant digits."
            )
        elif np.allclose(step, -amount * unit, atol=1e-4):
            _hint("that step goes against the direction: add amount times the unit vector, do not subtract it.")
        elif abs(np.linalg.norm(step) - abs(amount)) <= 1e-3 * max(1.0, abs(amount)):
            _hint(
                f"the step is {abs(amount):g} long, as it should be, but it does not point along the direction: "
                "move along direction divided by its length."
            )
        else:
            _hint(
                f"the step should be {abs(amount):g} long and point along the direction: "
                "noise + amount * direction / its length."
            )


def check_crop_box(answer: object, width: int, height: int, size: int) -> None:
    """Exercise 9.3: (left, top, right, bottom) of the centre square once the shorter side is scaled to `size`."""
    if _unanswered(answer):
        return
    shorter = min(width, height)
    scaled_width, scaled_height = max(size, round(width * size / shorter)), max(size, round(height * size / shorter))
    left, top = (scaled_width - size) // 2, (scaled_height - size) // 2
    expected = (left, top, left + size, top + size)
    numbers = _as_array(answer)
    if (
        numbers is None
        or numbers.shape != (4,)
        or not (np.isfinite(numbers).all() and (numbers == np.round(numbers)).all())
    ):
        _verdict(False, "answer with four whole numbers: (left, top, right, bottom).")
        return
    box = tuple(int(number) for number in numbers)
    lefts, tops = (
        {left, (scaled_width - size + 1) // 2},
        {top, (scaled_height - size + 1) // 2},
    )  # two, when the spare pixels are odd
    centred = box[0] in lefts and box[1] in tops and (box[2] - box[0], box[3] - box[1]) == (size, size)
    other = (
        ""
        if box == expected
        else f" (the loader takes {expected}: with an odd number of spare pixels, both are centred)"
    )
    if not _verdict(centred, f"the box {box} in the {scaled_width}x{scaled_height} scaled picture{other}."):
        _hint(f"the picture becomes {scaled_width}x{scaled_height}; the square is {size} wide and centred in it.")
