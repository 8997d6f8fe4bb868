"""Exercise checks: each prints "Correct!" or what is off, and never gives the answer away.

A check prints one line (and sometimes a hint) and returns nothing, so the notebook cell shows
only the verdict. An answer still left as `None` is reported as not answered yet, not as wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

NOT_ANSWERED = "Not answered yet: replace the None values above with your answers and run the cell again."


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _unanswered(*answers: object) -> bool:
    if any(answer is None for answer in answers):
        print(NOT_ANSWERED)
        return True
    return False


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _close(answer: object, expected: float, name: str, rel_tol: float) -> bool:
    """Print whether `answer` is within `rel_tol` of `expected`, and if not which way it is off."""
    if not _is_number(answer):
        return _verdict(False, f"{name} should be a number, got {type(answer).__name__}.")
    answer = float(answer)
    shown = f"{answer:,.0f}" if abs(answer) >= 1000 else f"{answer:.4g}"
    if math.isclose(answer, expected, rel_tol=rel_tol):
        return _verdict(True, f"{name}: {shown}.")
    direction = "too large" if answer > expected else "too small"
    return _verdict(False, f"{name}: {shown} is {direction}.")


# ---------------------------------------------------------------------------------------------
# Notebook 00: how exercises work
# ---------------------------------------------------------------------------------------------


def check_dress_count(answer: object, fashion) -> None:
    """Exercise 0.1: how many training images are dresses?"""
    if _unanswered(answer):
        return
    if not _close(answer, len(fashion.dresses("train")), "the number of training dresses", rel_tol=0):
        if _is_number(answer) and answer == len(fashion.dresses("test")):
            print("  Hint: that is the test split; count the training images.")


# ---------------------------------------------------------------------------------------------
# Notebook 01: a straight line through house prices
# ---------------------------------------------------------------------------------------------


def _least_squares(columns: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    """Weights of target ~ intercept + columns, by least squares."""
    design = np.column_stack([np.ones(len(target)), *columns])
    weights, *_ = np.linalg.lstsq(design, np.asarray(target, dtype=float), rcond=None)
    return weights


def check_log_log(slope: object, intercept: object, housing: pd.DataFrame) -> None:
    """Exercise 1.1: the line through log(price) against log(lotsize)."""
    if _unanswered(slope, intercept):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    true_intercept, true_slope = _least_squares([log_lotsize], np.log(housing["price"]))
    if not _close(slope, true_slope, "the slope", rel_tol=0.01):
        _, price_slope = _least_squares([log_lotsize], housing["price"])
        if _is_number(slope) and math.isclose(float(slope), price_slope, rel_tol=0.01):
            print("  Hint: that is the slope with price itself on the left; take the log of price too.")
        return
    _close(intercept, true_intercept, "the intercept", rel_tol=0.01)


def check_bedroom_price(coefficient: object, housing: pd.DataFrame) -> None:
    """Exercise 1.2: the bedrooms coefficient in price ~ log(lotsize) + bedrooms."""
    if _unanswered(coefficient):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    weights = _least_squares([log_lotsize, housing["bedrooms"].to_numpy(dtype=float)], housing["price"])
    if not _close(coefficient, weights[2], "the price of one more bedroom at the same lot size", rel_tol=0.01):
        print("  Hint: fit both inputs together in one model, with an intercept, on all 546 sales.")


def check_diverging_learning_rate(learning_rate: object, threshold: object) -> None:
    """Exercise 1.3: a learning rate at which gradient descent blows up, and where blowing up starts.

    For the mean squared error of a line on standardised data, each step multiplies the distance
    to the best weights by (1 - 2 * learning_rate): it shrinks below a rate of 1 and grows above.
    """
    if _unanswered(learning_rate, threshold):
        return
    if not (_is_number(learning_rate) and _is_number(threshold)):
        _verdict(False, "both answers should be numbers.")
        return
    factor = abs(1 - 2 * float(learning_rate))
    if factor <= 1:
        _verdict(False, f"at learning rate {learning_rate:g} each step shrinks the error (x{factor:.2f}); it does not blow up.")
    elif not math.isclose(float(threshold), 1.0, rel_tol=0.05):
        _verdict(False, f"{learning_rate:g} does blow up, but the threshold {threshold:g} is off: try rates between 0.5 and 2.")
    else:
        _verdict(True, f"at {learning_rate:g} each step multiplies the error by {factor:.2f}; above 1, every step overshoots.")
