"""Notebook 07's checks.

A colour image's gradient penalty by hand, the improvement factor, the rank correlation, and the penalty function.
"""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from test_exercises_answers import one_line, verdict

from course import exercises

NO_PENALTY_SLOPE, COLOUR_PENALTY = 1 / math.sqrt(3072), 10 * (0.1 * math.sqrt(3072) - 1) ** 2  # 0.01804 and 206.3


def test_notebook_07_checks(capsys):
    exercises.check_gradient_penalty(None, COLOUR_PENALTY)
    assert verdict(capsys).startswith("Not answered yet")
    exercises.check_gradient_penalty(NO_PENALTY_SLOPE, COLOUR_PENALTY)
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_gradient_penalty(NO_PENALTY_SLOPE, COLOUR_PENALTY / 10)
    assert "multiplied by its weight" in verdict(capsys)
    exercises.check_gradient_penalty(NO_PENALTY_SLOPE, 10 * (307.2 - 1) ** 2)
    assert "square root" in verdict(capsys)

    stages = pd.DataFrame({"distance_over_floor": [80.0, 40.0, 20.0, 25.0]}, index=[100, 200, 300, 400])
    exercises.check_improvement_factor(3.2, stages)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_improvement_factor(0.3125, stages)
    assert "first divided by last" in verdict(capsys)

    signal, distance = [3.0, 2.0, 1.5, 1.0, 0.2], [40.0, 10.0, 12.0, 5.0, 4.0]
    exercises.check_rank_correlation(0.9, signal, distance)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_rank_correlation(np.corrcoef(signal, distance)[0, 1], signal, distance)
    assert "ranks" in verdict(capsys)


def test_gradient_penalty_takes_the_printed_answers(capsys):
    assert f"{NO_PENALTY_SLOPE:.4f} {COLOUR_PENALTY:.1f}" == "0.0180 206.3"
    for slope, penalty in [
        (0.018, 206.3),
        (0.01804, 206),
        (np.float32(NO_PENALTY_SLOPE), torch.tensor([206.35])),
        (1 / 3072**0.5, 206.349),
    ]:
        exercises.check_gradient_penalty(slope, penalty)
        out = verdict(capsys)
        assert out.count("Correct!") == 2 and "Not yet" not in out, (slope, penalty, out)
    exercises.check_gradient_penalty(0.019, 206.3)
    out = verdict(capsys)
    assert "too large" in out and "Hint" not in out and "penalty on a colour image" not in out


@pytest.mark.parametrize(
    "slope, penalty, hint",
    [
        (1 / 28, COLOUR_PENALTY, "counts the 784 pixels"),
        (1 / 3072, COLOUR_PENALTY, "square root of the sum of its 3,072 squared entries"),
        (1 / 32, COLOUR_PENALTY, "one channel's 1,024 pixels"),
        (NO_PENALTY_SLOPE, 32.4, "counts the 784 pixels"),
        (NO_PENALTY_SLOPE, 20.63, "multiplied by its weight, 10"),
        (NO_PENALTY_SLOPE, 937_584, "square root of the sum of its 3,072 squared entries"),
        (NO_PENALTY_SLOPE, 8_832.8, "squared length"),
        (NO_PENALTY_SLOPE, 48.4, "one channel's 1,024 pixels"),
    ],
)
def test_gradient_penalty_names_each_slip(capsys, slope, penalty, hint):
    exercises.check_gradient_penalty(slope, penalty)
    out = verdict(capsys)
    assert out.splitlines()[-2].startswith("Not yet") and hint in out.splitlines()[-1], out


def test_gradient_penalty_answers_garbage_in_one_line(capsys):
    exercises.check_gradient_penalty("0.018", COLOUR_PENALTY)
    assert "the slope that pays no penalty should be a number, got str" in one_line(capsys)
    exercises.check_gradient_penalty(NO_PENALTY_SLOPE, [206.3, 32.4])
    out = verdict(capsys)
    assert out.startswith("Correct!") and out.splitlines()[-1].startswith(
        "Not yet: the penalty on a colour image should be a number"
    )


def test_improvement_factor_takes_rounded_answers_and_names_each_slip(capsys):
    stages = pd.DataFrame({"distance_over_floor": [80.0, 40.0, 20.0, 25.0]}, index=[100, 200, 300, 400])
    for right in (3.2, 3.20, np.float32(3.2), torch.tensor([3.2]), pd.Series([3.2]), 16 / 5):
        exercises.check_improvement_factor(right, stages)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "from 80.0 to 25.0 times the floor (fell)" in out, right
    for wrong, hint in (
        (0.3125, "first divided by last"),
        (55, "not a difference"),
        (4.0, "best stage on the way"),
        (0.8, "the one before it"),
    ):
        exercises.check_improvement_factor(wrong, stages)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (wrong, out)
    exercises.check_improvement_factor(3, stages)  # one significant digit is too coarse
    assert verdict(capsys).startswith("Not yet")


def test_improvement_factor_at_one_stage_asks_for_the_laptop_run(capsys):
    exercises.check_improvement_factor(1.0, pd.DataFrame({"distance_over_floor": [80.0]}, index=[10]))
    out = verdict(capsys)
    assert "laptop scale" in out and "Correct" not in out and "Not yet" not in out
    two = pd.DataFrame({"distance_over_floor": [80.0, 100.0]}, index=[10, 20])  # the smoke scale: two stages, a rise
    exercises.check_improvement_factor(0.8, two)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "(did not fall)" in out
    exercises.check_improvement_factor(1.25, two)
    assert "first divided by last" in verdict(capsys)


def test_rank_correlation_takes_rounded_answers_and_names_misaligned_indices(capsys):
    signal, values = [3.0, 2.0, 1.5, 1.0, 0.2, 0.1], [40.0, 10.0, 12.0, 5.0, 4.0, 1.0]
    distance = pd.Series(values, index=[2, 3, 4, 5, 6, 7])  # the stages' own index, not 0-5
    exact = pd.Series(signal).corr(pd.Series(values), method="spearman")
    assert f"{exact:.2f}" == "0.94"
    for right in (0.94, round(exact, 3), np.array([exact]), torch.tensor(exact)):
        exercises.check_rank_correlation(right, signal, distance)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_rank_correlation(pd.Series(signal).corr(distance, method="spearman"), signal, distance)
    assert "pairs two Series by their index" in verdict(capsys)
    far = pd.Series(values, index=[10, 11, 12, 13, 14, 15])
    exercises.check_rank_correlation(pd.Series(signal).corr(far, method="spearman"), signal, far)
    out = verdict(capsys)
    assert "nan" in out and "too small" not in out and "no pairs of values lined up" in out
    exercises.check_rank_correlation(round(float(np.corrcoef(signal, values)[0, 1]), 3), signal, distance)
    assert "ranks" in verdict(capsys)


def test_rank_correlation_with_two_stages_says_it_means_little(capsys):
    exercises.check_rank_correlation(-1.0, [2.0, 1.0], [1.0, 3.0])
    out = verdict(capsys)
    assert "With 2 stages" in out and "laptop scale" in out and out.splitlines()[-1].startswith("Correct!")
    exercises.check_rank_correlation(1.0, [2.0, 1.0], [1.0, 3.0])
    assert verdict(capsys).splitlines()[-1].startswith("Not yet")
    exercises.check_rank_correlation(
        float("nan"), [1.0, 1.0, 1.0], [1.0, 3.0, 2.0]
    )  # a constant loss has no correlation
    out = verdict(capsys)
    assert out.startswith("Correct!") and "constant" in out
    exercises.check_rank_correlation(0.5, [1.0, 1.0, 1.0], [1.0, 3.0, 2.0])
    assert verdict(capsys).startswith("Not yet")


# Exercise 7.4: the gradient penalty, written by the learner


def _penalty(
    critic,
    real,
    fake,
    mix,
    weight=10.0,
    lengths=lambda gradient: gradient.flatten(1).norm(dim=1),
    term=lambda length: (length - 1) ** 2,
    create_graph=True,
    reduce=torch.mean,
):
    # A gradient penalty with one piece swapped for a learner's usual mistake.
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=create_graph)
    return weight * reduce(term(lengths(gradient)))


@pytest.mark.parametrize(
    "function, expected",
    [
        (lambda *args: _penalty(*args), "Correct!"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.pow(2).sum(dim=(1, 2, 3)).sqrt()), "Correct!"),
        (lambda *args: _penalty(*args, create_graph=False), "create_graph=True"),
        (lambda *args: _penalty(*args).item(), "create_graph=True"),
        (lambda *args: _penalty(*args, weight=1.0), "without its weight"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.flatten(1).pow(2).sum(dim=1)), "squared length"),
        (lambda *args: _penalty(*args, term=lambda length: (length + 1) ** 2), "check the sign"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm()), "whole batch"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=0)), "across the batch"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=1)), "per pixel"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=(2, 3))), "per channel"),
        (lambda *args: _penalty(*args, reduce=torch.sum), "sums over the batch"),
        (lambda *args: _penalty(*args, term=lambda length: (length.clamp(min=1) - 1) ** 2), "one-sided"),
        (lambda critic, real, fake, mix: _penalty(critic, fake, real, mix), "mix goes with the real images"),
        (
            lambda critic, real, fake, mix: _penalty(critic, real, fake, mix, reduce=lambda terms: terms),
            "one per image",
        ),
    ],
)
def test_penalty_function_accepts_the_penalty_and_names_each_mistake(capsys, function, expected):
    exercises.check_penalty_function(function)
    out = verdict(capsys)
    assert expected in out, out
    assert ("Correct!" in out) == (expected == "Correct!")


def test_penalty_function_accepts_the_course_penalty_and_answers_bad_input_in_one_line(capsys):
    from course import gan

    exercises.check_penalty_function(gan.gradient_penalty)
    assert verdict(capsys).startswith("Correct!")
    before = torch.random.get_rng_state()
    for answer, expected in [
        (None, "Not answered yet"),
        (3, "should be a function"),
        (lambda *args: None, "returns None"),
        (lambda *args: 1 / 0, "raised ZeroDivisionError"),
        (lambda critic, real: real, "raised TypeError"),
        (lambda *args: "ten", "got str"),
        (lambda *args: float("nan"), "your penalty is nan"),
        (lambda critic, real, fake, mix: real, "shape (8, 3, 6, 6)"),
    ]:
        exercises.check_penalty_function(answer)
        out = verdict(capsys)
        assert expected in out and "Traceback" not in out and out.count("\n") <= 2, out
    assert torch.equal(torch.random.get_rng_state(), before), "the check leaves the learner's random numbers alone"


@pytest.mark.parametrize(
    "function, expected",
    [
        (lambda critic, real, fake, mix, weight=10.0: torch.tensor(0.0), "exactly 0"),
        (
            lambda critic, real, fake, mix, weight=10.0: _penalty(critic, real, fake, mix, weight=10.0),
            "multiply by the weight argument",
        ),
        (
            lambda *args: _penalty(*args, lengths=lambda g: g.flatten(1).norm(dim=1).mean()),
            "Not yet",
        ),  # (mean length - 1)²
    ],
)
def test_penalty_function_catches_a_zero_a_fixed_weight_and_the_mean_length(capsys, function, expected):
    exercises.check_penalty_function(function)
    out = verdict(capsys)
    assert expected in out and "Correct!" not in out, out
