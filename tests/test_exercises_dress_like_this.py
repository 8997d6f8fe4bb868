"""Notebook 10's checks: the sphere penalty of two noise vectors, and the direction from light to dark dresses."""

import numpy as np
import pandas as pd
import pytest
import torch
from test_exercises_answers import one_line, verdict

from course import exercises


def test_sphere_penalties_take_right_answers_of_any_number_type(capsys):
    for zeros, twos in [(1, 1), (1.0, 1.0), (torch.tensor(1.0), np.float32(1.0)), (np.array([1.0]), 1.0000001)]:
        exercises.check_sphere_penalties(zeros, twos)
        out = verdict(capsys)
        lines = out.splitlines()
        assert lines[0].startswith("Correct! the penalty of the vector of zeros"), out
        assert lines[1].startswith("Correct! the penalty of the vector of twos"), out
        assert "Not yet" not in out and "Hint" not in out, out


def test_sphere_penalties_name_each_slip(capsys):
    slips = [
        ((-1, 1), "never negative"),  # no square: 0 / 8 - 1
        ((0, 1), "the zero vector lies at the centre"),
        ((1, 9), "squared length"),  # (256 / 64 - 1)²
        ((1, 225), "divide the length by sqrt(d) = 8"),  # (16 - 1)²
        ((1, 0.5625), "not by d itself"),  # (16 / 64 - 1)²
        ((1, 4), "subtract 1 before squaring"),  # (16 / 8)²
    ]
    for answers, hint in slips:
        exercises.check_sphere_penalties(*answers)
        out = verdict(capsys)
        assert out.count("Not yet") == 1 and hint in out and "Traceback" not in out, (answers, out)


def test_sphere_penalties_judge_the_twos_once_the_zeros_are_right(capsys):
    exercises.check_sphere_penalties(9, 9)
    out = one_line(capsys)
    assert out.startswith("Not yet: the penalty of the vector of zeros") and "twos" not in out
    exercises.check_sphere_penalties(1, 9)
    lines = verdict(capsys).splitlines()
    assert lines[0].startswith("Correct!") and lines[1].startswith("Not yet: the penalty of the vector of twos")


@pytest.mark.parametrize(
    "answers",
    [(None, 1), (1, None), (None, None)],
    ids=["zeros", "twos", "both"],
)
def test_sphere_penalties_not_answered(capsys, answers):
    exercises.check_sphere_penalties(*answers)
    assert one_line(capsys).startswith("Not answered yet")


@pytest.mark.parametrize(
    "odd",
    ["1", float("nan"), float("inf"), [1.0, 1.0], np.ones(64), object(), 1.3],
    ids=["str", "nan", "inf", "list", "vector", "object", "wrong"],
)
def test_sphere_penalties_answer_anything_else_in_one_line_without_a_hint(capsys, odd):
    exercises.check_sphere_penalties(odd, 1)
    out = one_line(capsys)
    assert out.startswith("Not yet") and "Hint" not in out
    exercises.check_sphere_penalties(1, odd)
    lines = verdict(capsys).splitlines()
    assert len(lines) == 2 and lines[0].startswith("Correct!") and lines[1].startswith("Not yet"), lines


def noise_sets(dark_count: int = 7, light_count: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(dark_count, 64)).astype(np.float32), rng.normal(size=(light_count, 64)).astype(np.float32)


def test_direction_takes_arrays_tensors_and_lists(capsys):
    dark, light = noise_sets()
    expected = dark.astype(float).mean(axis=0) - light.astype(float).mean(axis=0)
    dark_tensor = torch.tensor(dark, requires_grad=True)
    for right in (
        expected,
        dark.mean(axis=0) - light.mean(axis=0),  # in float32
        dark_tensor.mean(dim=0) - torch.tensor(light).mean(dim=0),  # still attached to the graph
        (dark_tensor.mean(dim=0) - torch.tensor(light).mean(dim=0)).detach(),
        list(expected.round(4)),
        pd.Series(expected),
    ):
        exercises.check_direction(right, dark, light)
        out = verdict(capsys)
        assert out.startswith("Correct! the direction from light to dark is") and "Not yet" not in out, out
    exercises.check_direction(expected, torch.tensor(dark), torch.tensor(light))  # the sets as tensors too
    assert verdict(capsys).startswith("Correct!")


def test_direction_names_each_slip(capsys):
    dark, light = noise_sets()
    expected = dark.astype(float).mean(axis=0) - light.astype(float).mean(axis=0)
    unit = expected / np.linalg.norm(expected)
    slips = [
        (-expected, "from the dark dresses to the light ones"),
        (unit, "not normalised"),
        (-unit, "has length 1 and points from dark to light"),
        (dark.sum(axis=0) - light.sum(axis=0), "subtracts the sums"),
        ((dark[:4] - light).mean(axis=0), "drops the extra ones"),  # the mean of the differences of the first 4
        (expected.round(0), "rounded too coarsely"),
        (np.ones(64), "average each set's noise vectors over the vectors (axis 0)"),
    ]
    for answer, hint in slips:
        exercises.check_direction(answer, dark, light)
        out = verdict(capsys)
        lines = out.splitlines()
        assert len(lines) == 2 and lines[0].startswith("Not yet") and hint in lines[1], (hint, out)


def test_direction_means_over_the_wrong_axis_are_told_apart(capsys):
    dark, light = noise_sets()
    exercises.check_direction(dark.mean(axis=1), dark, light)  # one number per noise vector
    assert "one number per noise vector" in one_line(capsys)
    square_dark, square_light = noise_sets(64, 64, seed=1)  # as many vectors as numbers: the shape cannot tell
    exercises.check_direction(square_dark.mean(axis=1) - square_light.mean(axis=1), square_dark, square_light)
    assert "averages each noise vector's own numbers (axis 1)" in verdict(capsys)
    exercises.check_direction((dark.mean(axis=0) - light.mean(axis=0))[None], dark, light)  # keepdim=True
    assert "got shape (1, 64)" in one_line(capsys)
    exercises.check_direction(float(dark.mean() - light.mean()), dark, light)
    assert "got a single number" in one_line(capsys)


def test_direction_with_sets_of_equal_size_has_no_pairing_slip(capsys):
    dark, light = noise_sets(5, 5)
    exercises.check_direction((dark - light).mean(axis=0), dark, light)  # the same as the difference of the means
    assert verdict(capsys).startswith("Correct!")


@pytest.mark.parametrize(
    "odd",
    [
        "abc",
        object(),
        np.zeros(63),
        np.zeros((64, 2)),
        np.full(64, np.nan),
        torch.full((64,), float("inf")),
        ["a"] * 64,
        np.zeros(64, dtype=complex),
        torch.empty(64, device="meta"),
    ],
    ids=["str", "object", "short", "grid", "nan", "inf", "strings", "complex", "meta"],
)
def test_direction_answers_anything_else_in_one_line(capsys, odd):
    dark, light = noise_sets()
    exercises.check_direction(odd, dark, light)
    out = one_line(capsys)
    assert out.startswith("Not yet") and "Hint" not in out


def test_direction_not_answered(capsys):
    exercises.check_direction(None, *noise_sets())
    assert one_line(capsys).startswith("Not answered yet")


@pytest.mark.parametrize(
    "dark, light",
    [
        (None, np.zeros((3, 64))),
        (np.zeros((0, 64)), np.zeros((3, 64))),
        (np.zeros((3, 64)), np.zeros((3, 32))),
        (np.zeros(64), np.zeros((3, 64))),
        (np.full((3, 64), np.nan), np.zeros((3, 64))),
    ],
    ids=["none", "empty", "other-size", "one-vector", "nan"],
)
def test_direction_with_unreadable_sets_says_so_in_one_line(capsys, dark, light):
    exercises.check_direction(np.zeros(64), dark, light)
    assert "the check needs the dark and the light dresses' noise vectors" in one_line(capsys)
