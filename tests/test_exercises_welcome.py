"""Notebook 00's check: the number of training dresses."""

import numpy as np
import torch
from test_exercises_answers import FakeFashion, verdict

from course import exercises


def test_dress_count_hints_at_the_wrong_split(capsys):
    exercises.check_dress_count(6000, FakeFashion())
    assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_count(1000, FakeFashion())
    assert "test split" in verdict(capsys)


def test_dress_count_takes_any_number_form(capsys):
    for right in (6000, np.int64(6000), torch.tensor([6000]), 6000.0):
        exercises.check_dress_count(right, FakeFashion())
        assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_count(np.array([1000]), FakeFashion())
    assert "test split" in verdict(capsys)
    exercises.check_dress_count(7000, FakeFashion())
    out = verdict(capsys)
    assert "too large" in out and "Hint" not in out


def test_dress_count_not_answered_and_garbage(capsys):
    exercises.check_dress_count(None, FakeFashion())
    assert verdict(capsys).startswith("Not answered yet")
    for odd in ("six thousand", [6000, 1000], object()):
        exercises.check_dress_count(odd, FakeFashion())
        out = verdict(capsys)
        assert out.startswith("Not yet: the number of training dresses should be a number") and out.count("\n") == 1, (
            out
        )
