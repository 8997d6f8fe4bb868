"""Notebook 09's checks: precision per class, a step in the noise, and the crop box."""

import numpy as np
import pandas as pd
import torch
from test_exercises_answers import one_line, verdict

from course import exercises


def test_notebook_09_checks(capsys):
    asked = np.array([0, 0, 1, 1, 2, 2])
    judged = np.array([0, 1, 1, 1, 0, 0])
    exercises.check_class_precision([1 / 3, 2 / 3, np.nan], asked, judged, num_classes=3)  # class 2 never judged
    assert verdict(capsys).startswith("Correct!")
    exercises.check_class_precision([0.5, 1.0, 0.0], asked, judged, num_classes=3)
    assert "never chose class 2" in verdict(capsys)
    exercises.check_class_precision([0.5, 1.0], asked, judged, num_classes=3)
    assert "3 numbers" in verdict(capsys)
    exercises.check_class_precision(None, asked, judged, num_classes=3)
    assert verdict(capsys).startswith("Not answered yet")

    noise, direction = np.zeros(3), np.array([3.0, 4.0, 0.0])
    exercises.check_noise_step(np.array([0.6, 0.8, 0.0]) * 2, noise, direction, 2.0)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_noise_step(direction * 2, noise, direction, 2.0)
    assert "length first" in verdict(capsys)
    exercises.check_noise_step("far", noise, direction, 2.0)
    assert "one vector of 3" in verdict(capsys)

    exercises.check_crop_box((16, 0, 48, 32), 640, 320, 32)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_crop_box((0, 0, 32, 32), 640, 320, 32)
    assert "64x32" in verdict(capsys)
    exercises.check_crop_box((16, 0), 640, 320, 32)
    assert "four whole numbers" in verdict(capsys)


def test_class_precision_takes_rounded_arrays_and_names_each_slip(capsys):
    asked = np.repeat(np.arange(3), 8)
    judged = np.array(
        [0] * 7 + [1] + [1] * 5 + [0] * 3 + [2] * 2 + [0] * 6
    )  # judged 0: 16 (7 right), 1: 6 (5), 2: 2 (2)
    precision = np.array([7 / 16, 5 / 6, 1.0])
    for right in (
        precision,
        [0.44, 0.83, 1.0],
        torch.tensor(precision),
        pd.Series(precision),
        list(precision.round(3)),
    ):
        exercises.check_class_precision(right, asked, judged, num_classes=3)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_class_precision(
        [0.875, 0.625, 0.25], asked, judged, num_classes=3
    )  # the accuracy of each asked class
    out = verdict(capsys)
    assert out.startswith("Not yet") and "each class's accuracy" in out
    exercises.check_class_precision(100 * precision, asked, judged, num_classes=3)
    assert "not a percentage" in verdict(capsys)
    exercises.check_class_precision([0, 1, 1], asked, judged, num_classes=3)  # rounded to whole numbers
    assert "rounded too coarsely" in verdict(capsys)
    exercises.check_class_precision([0.1, 0.2, 0.3], asked, judged, num_classes=3)
    assert "judged == k" in verdict(capsys)
    exercises.check_class_precision([0.44, np.nan, 1.0], asked, judged, num_classes=3)
    assert "every class was chosen" in verdict(capsys)
    for odd in ("abc", [0.5, 1.0], object(), np.zeros((3, 1)), ["a", "b", "c"]):
        exercises.check_class_precision(odd, asked, judged, num_classes=3)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "Traceback" not in out


def test_noise_step_takes_rounded_vectors_and_names_coarse_rounding(capsys):
    noise, direction = np.array([0.3, -1.2, 0.7]), np.array([3.0, 4.0, 0.0])
    moved = noise + 2.0 * direction / 5.0
    for right in (moved, moved.round(2), torch.tensor(moved, dtype=torch.float32), list(moved.round(3))):
        exercises.check_noise_step(right, noise, direction, 2.0)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_noise_step(moved.round(0), noise, direction, 2.0)
    out = verdict(capsys)
    assert "rounded too coarsely" in out and "length first" not in out
    exercises.check_noise_step((noise + 2.0 * direction).round(2), noise, direction, 2.0)
    assert "length first" in verdict(capsys)
    for odd in ("abc", [1.0, 2.0], object(), [float("nan")] * 3):
        exercises.check_noise_step(odd, noise, direction, 2.0)
        assert verdict(capsys).startswith("Not yet") and "Traceback" not in out


def test_noise_step_in_a_wrong_direction_is_told_what_is_wrong(capsys):
    noise, direction = np.zeros(3), np.array([3.0, 4.0, 0.0])
    exercises.check_noise_step(-np.array([0.6, 0.8, 0.0]) * 2, noise, direction, 2.0)
    assert "goes against the direction" in verdict(capsys)
    exercises.check_noise_step(np.array([0.0, 0.0, 2.0]), noise, direction, 2.0)
    assert "does not point along the direction" in verdict(capsys)
    exercises.check_noise_step(np.array([0.06, 0.08, 0.0]), noise, direction, 2.0)
    assert "should be 2 long" in verdict(capsys)


def test_crop_box_takes_arrays_of_four_whole_numbers(capsys):
    for right in (
        (10, 0, 74, 64),
        [10, 0, 74, 64],
        np.array([10, 0, 74, 64]),
        torch.tensor([10, 0, 74, 64]),
        np.array([10.0, 0.0, 74.0, 64.0]),
    ):
        exercises.check_crop_box(right, 4000, 3000, 64)
        assert verdict(capsys).startswith("Correct! the box (10, 0, 74, 64) in the 85x64"), right
    exercises.check_crop_box(np.array([0, 0, 64, 64]), 4000, 3000, 64)
    assert "85x64" in verdict(capsys)
    for odd in ("abc", (10, 0, 74), np.array([10.5, 0, 74, 64]), object(), np.zeros((2, 2))):
        exercises.check_crop_box(odd, 4000, 3000, 64)
        assert "four whole numbers" in one_line(capsys)


def test_crop_box_accepts_both_centred_squares_when_the_spare_pixels_are_odd(capsys):
    # 117 x 64 scaled to a shorter side of 64 stays 117 x 64: 53 spare pixels, so left 26 or 27 are both centred.
    exercises.check_crop_box((26, 0, 90, 64), 117, 64, 64)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_crop_box((27, 0, 91, 64), 117, 64, 64)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "the loader takes (26, 0, 90, 64)" in out
    exercises.check_crop_box((28, 0, 92, 64), 117, 64, 64)
    assert verdict(capsys).startswith("Not yet")
