import numpy as np
import pytest

from course import exercises
from course.data import load_housing


@pytest.fixture(scope="module")
def housing():
    return load_housing()


def verdict(capsys) -> str:
    return capsys.readouterr().out


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
    [(1.1, 1.0, "Correct!"), (0.5, 1.0, "does not blow up"), (1.5, 2.0, "threshold"), (-0.2, 1.0, "Correct!")],
)
def test_diverging_learning_rate(capsys, rate, threshold, expected):
    exercises.check_diverging_learning_rate(rate, threshold)
    assert expected in verdict(capsys)


def test_dress_count_hints_at_the_wrong_split(capsys):
    class Fake:
        def dresses(self, split):
            return np.zeros((6000 if split == "train" else 1000, 28, 28))

    exercises.check_dress_count(6000, Fake())
    assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_count(1000, Fake())
    assert "test split" in verdict(capsys)
