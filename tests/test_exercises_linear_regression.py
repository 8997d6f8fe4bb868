"""Notebook 01's checks: the log-log line, the price of a bedroom, and the learning rate that blows up."""

import numpy as np
import pytest
import torch
from test_exercises_answers import verdict

from course import exercises
from course.data import load_housing


@pytest.fixture(scope="module")
def housing():
    return load_housing()


def test_unanswered_is_not_called_wrong(capsys, housing):
    exercises.check_log_log(None, None, housing)
    assert verdict(capsys).startswith("Not answered yet")


def test_log_log_accepts_the_fit_and_rejects_the_price_slope(capsys, housing):
    x, y = np.log(housing["lotsize"]), np.log(housing["price"])
    slope, intercept = np.polyfit(x, y, 1)
    exercises.check_log_log(slope, intercept, housing)
    assert verdict(capsys).count("Correct!") == 2
    price_slope, _ = np.polyfit(x, housing["price"], 1)
    exercises.check_log_log(price_slope, intercept, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "take the log of price too" in out


def test_bedroom_price_is_checked_against_the_joint_fit(capsys, housing):
    design = np.column_stack([np.ones(len(housing)), np.log(housing["lotsize"]), housing["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, housing["price"].to_numpy(float), rcond=None)
    exercises.check_bedroom_price(weights[2], housing)
    assert verdict(capsys).startswith("Correct!")
    alone = np.polyfit(housing["bedrooms"], housing["price"], 1)[0]  # bedrooms without the lot
    exercises.check_bedroom_price(alone, housing)
    assert verdict(capsys).startswith("Not yet")
    exercises.check_bedroom_price("ten thousand", housing)
    assert "should be a number" in verdict(capsys)


@pytest.mark.parametrize(
    "rate, threshold, expected",
    [(1.1, 1.0, "Correct!"), (0.5, 1.0, "does not blow up"), (1.5, 2.0, "threshold"), (-0.2, 1.0, "goes uphill")],
)
def test_diverging_learning_rate(capsys, rate, threshold, expected):
    exercises.check_diverging_learning_rate(rate, threshold)
    assert expected in verdict(capsys)


@pytest.mark.parametrize(
    "rate, threshold, expected, hint",
    [
        (1.1, 1, "Correct! at 1.1 each step multiplies the error by 1.20", None),
        (1.1, 10**400, "the threshold inf is off", None),
        (np.float64(1.5), torch.tensor([1.0]), "Correct!", None),
        (1.1, 546 / 545, "Correct!", None),
        (
            1.001,
            1.0,
            "does not blow up",
            "the mean of x² is 545/546, not 1",
        ),  # above 1 but below where blowing up starts
        (1, 1, "does not blow up", "the mean of x² is 545/546, not 1"),
        (-0.2, 1.0, "goes uphill", "a learning rate is positive"),
        (1.1, 0.5, "the threshold 0.5 is off", "lands right on the minimum"),
        (1.1, np.float32(0.5), "the threshold 0.5 is off", "lands right on the minimum"),
        (1.1, 2, "the threshold 2 is off", "about 2, not 1"),
        (1.1, 1.1, "the threshold 1.1 is off", None),
    ],
)
def test_diverging_learning_rate_starts_above_546_545(capsys, rate, threshold, expected, hint):
    exercises.check_diverging_learning_rate(rate, threshold)
    out = verdict(capsys)
    assert expected in out and ("Correct!" in out) == expected.startswith("Correct!"), out
    assert (hint is None and "Hint" not in out) or (hint is not None and hint in out), out
    assert "546/545" not in out and "1.0018" not in out  # the hints never name where blowing up starts


def test_log_log_and_bedroom_take_rounded_and_one_element_answers(capsys, housing):
    slope, intercept = np.polyfit(np.log(housing["lotsize"]), np.log(housing["price"]), 1)
    for right in ((round(slope, 3), round(intercept, 2)), (np.array([slope]), torch.tensor(intercept))):
        exercises.check_log_log(*right, housing)
        assert verdict(capsys).count("Correct!") == 2
    exercises.check_log_log(-slope, intercept, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet: the slope") and "Hint" not in out
    design = np.column_stack([np.ones(len(housing)), np.log(housing["lotsize"]), housing["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, housing["price"].to_numpy(float), rcond=None)
    for right in (round(weights[2]), np.array([weights[2]]), torch.tensor([weights[2]])):
        exercises.check_bedroom_price(right, housing)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_bedroom_price(2 * weights[2], housing)
    assert "fit both inputs together" in verdict(capsys)


@pytest.mark.parametrize("rate, threshold", [(float("nan"), 1.0), (float("inf"), 1.0)])
def test_diverging_learning_rate_refuses_nan_and_infinity(capsys, rate, threshold):
    exercises.check_diverging_learning_rate(rate, threshold)
    assert "should be a finite number" in verdict(capsys)


def test_bedroom_price_rounded_too_far_is_told_the_method_is_right(capsys):
    housing = load_housing()
    exercises.check_bedroom_price(10_000, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the method is right" in out
    exercises.check_bedroom_price(5_000, housing)
    assert "fit both inputs together" in verdict(capsys)
