"""Exercise checks: each says "Correct" or what is off, and never gives the answer away.

A check returns True or False and prints one line, so a notebook cell shows the verdict.
An answer still left as `None` is reported as not answered yet, not as wrong.
"""

from __future__ import annotations

import math

import numpy as np


def report(correct: bool, message: str) -> bool:
    """Print the verdict on one line and return it."""
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def unanswered(*answers: object) -> bool:
    """True (after saying so) when any answer is still None."""
    if any(answer is None for answer in answers):
        print("Not answered yet: replace the None values above with your answers and run the cell again.")
        return True
    return False


def check_number(answer: object, expected: float, name: str, rel_tol: float = 0.01) -> bool:
    """Compare a number with the expected one, within a relative tolerance, and say how far off it is."""
    if unanswered(answer):
        return False
    if not isinstance(answer, (int, float, np.number)) or isinstance(answer, bool):
        return report(False, f"{name} should be a number, got {type(answer).__name__}.")
    answer = float(answer)
    if math.isclose(answer, expected, rel_tol=rel_tol):
        return report(True, f"{name} = {answer:,.4g}.")
    direction = "too large" if answer > expected else "too small"
    return report(False, f"{name} = {answer:,.4g} is {direction} (off by more than {rel_tol:.0%}).")


# ---------------------------------------------------------------------------------------------
# Notebook 01: a straight line through house prices
# ---------------------------------------------------------------------------------------------


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def check_log_log(slope: object, intercept: object, lotsize: np.ndarray, price: np.ndarray) -> bool:
    """Exercise 01.1: the line through log(price) against log(lotsize)."""
    if unanswered(slope, intercept):
        return False
    true_slope, true_intercept = _fit_line(np.log(lotsize), np.log(price))
    if not check_number(slope, true_slope, "the slope (an elasticity)"):
        if isinstance(slope, (int, float)) and math.isclose(float(slope), _fit_line(np.log(lotsize), price)[0], rel_tol=0.01):
            print("  Hint: that is the slope with price itself on the left; take the log of price too.")
        return False
    return check_number(intercept, true_intercept, "the intercept")


def check_bedrooms(coefficient: object, table) -> bool:
    """Exercise 01.2: the bedrooms coefficient in price ~ log(lotsize) + bedrooms."""
    if unanswered(coefficient):
        return False
    design = np.column_stack([np.ones(len(table)), np.log(table["lotsize"]), table["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, table["price"].to_numpy(dtype=float), rcond=None)
    if check_number(coefficient, weights[2], "the price of one more bedroom, at the same lot size", rel_tol=0.02):
        return True
    print("  Hint: fit both inputs together in one model, with an intercept, on all 546 sales.")
    return False


def check_diverging_learning_rate(learning_rate: object, threshold: object) -> bool:
    """Exercise 01.3: a learning rate at which gradient descent blows up, and where that starts.

    For the mean squared error of a line on a standardised input, each step multiplies the error
    by (1 - 2 * learning_rate): the loss shrinks below a learning rate of 1 and grows above it.
    """
    if unanswered(learning_rate, threshold):
        return False
    lr = float(learning_rate)
    factor = abs(1 - 2 * lr)
    if factor <= 1:
        return report(False, f"with learning rate {lr:g} the error shrinks by {factor:.2f} a step; it does not blow up.")
    if not math.isclose(float(threshold), 1.0, rel_tol=0.05):
        return report(False, f"{lr:g} diverges, but the threshold {float(threshold):g} is off; try rates between 0.5 and 2.")
    return report(True, f"learning rate {lr:g} multiplies the error by {factor:.2f} a step; above 1, every step overshoots.")
