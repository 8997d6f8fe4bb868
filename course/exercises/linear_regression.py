"""Notebook 01's exercises: a straight line through house prices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course.exercises.answers import _close, _half_unit, _hint, _is_number, _matches, _number, _unanswered, _verdict


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
    _, price_slope = _least_squares([log_lotsize], housing["price"])
    price_mistake = (price_slope, "that is the slope with price itself on the left; take the log of price too.")
    if _close(slope, true_slope, "the slope", rel_tol=0.01, mistakes=[price_mistake]):
        _close(intercept, true_intercept, "the intercept", rel_tol=0.01)


def check_bedroom_price(coefficient: object, housing: pd.DataFrame) -> None:
    """Exercise 1.2: the bedrooms coefficient in price ~ log(lotsize) + bedrooms."""
    if _unanswered(coefficient):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    weights = _least_squares([log_lotsize, housing["bedrooms"].to_numpy(dtype=float)], housing["price"])
    if not _close(
        coefficient, weights[2], "the difference per bedroom at the same lot size", rel_tol=0.01
    ) and _is_number(coefficient):
        value = _number(coefficient)
        if value is not None and math.isfinite(value) and abs(value - weights[2]) <= 0.05 * abs(weights[2]):
            _hint("close: the method is right; give the coefficient as the fit prints it, to the dollar, not rounded.")
        else:
            _hint("fit both inputs together in one model, with an intercept, on all 546 sales.")


def check_diverging_learning_rate(learning_rate: object, threshold: object, sales: int = 546) -> None:
    """Exercise 1.3: a learning rate at which gradient descent blows up, and where blowing up starts (a round number).

    The lesson standardises with the sample standard deviation (ddof=1), so the mean of x² over the n sales is
    (n - 1) / n, and each step multiplies the weight's distance to its best value by 1 - 2 * rate * (n - 1) / n:
    the error shrinks up to a rate of n / (n - 1) (546/545, about 1.0018 for the 546 sales) and grows above it.
    The threshold may be given as that number or rounded to 1.
    """
    if _unanswered(learning_rate, threshold):
        return
    rate, limit = _number(learning_rate), _number(threshold)
    if rate is None or limit is None:
        _verdict(False, "both answers should be numbers: a learning rate and the rate where blowing up starts.")
        return
    if not math.isfinite(rate):
        _verdict(
            False,
            f"the learning rate should be a finite number, got {rate}: gradient descent cannot take a step with it.",
        )
        return
    mean_square = (sales - 1) / sales
    exact = sales / (sales - 1)
    factor = abs(1 - 2 * rate * mean_square)
    if rate < 0:
        _verdict(
            False,
            f"at learning rate {rate:g} every step goes uphill, "
            "so the loss grows for a reason other than overshooting.",
        )
        _hint("a learning rate is positive; find a positive rate so large that each step overshoots the minimum.")
    elif factor <= 1:
        _verdict(False, f"at learning rate {rate:g} each step shrinks the error (x{factor:.4f}); it does not blow up.")
        if 1 <= rate <= exact:
            _hint(
                f"on data standardised with ddof=1 the mean of x² is {sales - 1}/{sales}, not 1, which moves where "
                f"blowing up starts: find the rate at which each step's factor, 1 - 2 · rate · {sales - 1}/{sales}, "
                "reaches -1, and go beyond it."
            )
    elif not _matches(limit, _half_unit(threshold), exact, rel_tol=0.0, abs_tol=2 * (exact - 1), others=[0.5, 2.0]):
        _verdict(False, f"{rate:g} does blow up, but the threshold {limit:g} is off: try rates between 0.5 and 2.")
        if _matches(limit, _half_unit(threshold), 0.5, rel_tol=0.01, abs_tol=0.0, others=[exact]):
            _hint(
                "at about 0.5 (rate x curvature = 1) a step lands right on the minimum; above it the steps overshoot, "
                "but the error still shrinks until rate x curvature = 2."
            )
        elif _matches(limit, _half_unit(threshold), 2.0, rel_tol=0.01, abs_tol=0.0, others=[exact]):
            _hint(
                "blowing up starts where rate x curvature = 2, and the curvature of the mean squared error "
                "on standardised data is about 2, not 1 (the square's derivative brings a factor 2)."
            )
    else:
        _verdict(
            True,
            f"at {rate:g} each step multiplies the error by {factor:.2f}: "
            "more than 1, so the error grows at every step.",
        )
