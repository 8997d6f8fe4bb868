"""Notebook 04's checks: the trainable parameters, freezing all but the output layer, the smallest paired difference."""

import numpy as np
import pandas as pd
import torch
from test_exercises_answers import frozen_except_output, one_line, paired_results, verdict

from course import exercises
from course.models import SmallCNN, freeze, mlp
from course.transfer import transfer_model


def test_trainable_count_leaves_out_frozen_parameters(capsys):
    model = transfer_model(SmallCNN(num_classes=5), 5)
    trainable = (32 * 7 * 7 * 64 + 64) + (64 * 5 + 5)  # the classifier; the convolutions are frozen
    total = trainable + (1 * 16 * 5 * 5 + 16) + (16 * 32 * 3 * 3 + 32)
    assert total == sum(p.numel() for p in model.parameters())
    exercises.check_trainable_count(trainable, model)
    assert verdict(capsys).startswith("Correct! the number of trainable parameters: 100,741")
    exercises.check_trainable_count(total, model)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "requires_grad == False" in out
    exercises.check_trainable_count(64 * 5 + 5, model)  # the output layer alone
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "Hint" not in out


def test_trainable_count_takes_one_element_answers(capsys):
    model = transfer_model(SmallCNN(num_classes=5), 5)
    exercises.check_trainable_count(np.array([100741]), model)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_trainable_count(pd.Series([sum(p.numel() for p in model.parameters())]), model)
    assert "requires_grad == False" in verdict(capsys)


def test_only_output_trainable(capsys):
    exercises.check_only_output_trainable(frozen_except_output())
    assert verdict(capsys).startswith("Correct! only the output layer's 325 parameters are trained")
    exercises.check_only_output_trainable(transfer_model(SmallCNN(num_classes=5), 5))  # hidden layer still trained
    out = verdict(capsys)
    assert out.startswith("Not yet") and "classifier.1.weight, classifier.1.bias" in out and "features" not in out
    exercises.check_only_output_trainable(SmallCNN(num_classes=5))  # nothing frozen at all
    out = verdict(capsys)
    assert out.startswith("Not yet") and "features.0.weight" in out and "classifier.3" not in out
    everything_frozen = SmallCNN(num_classes=5)
    freeze(everything_frozen)
    exercises.check_only_output_trainable(everything_frozen)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the output layer is frozen too" in out


def test_only_output_trainable_explains_a_none_from_freezing_in_place(capsys):
    strict_model = transfer_model(SmallCNN(num_classes=5), 5)
    answer = freeze(strict_model.classifier[:-1])  # freeze works in place: this is None
    exercises.check_only_output_trainable(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not answered yet") and "freeze works in place and returns None" in out
    exercises.check_only_output_trainable(strict_model)
    assert verdict(capsys).startswith("Correct! only the output layer's 325 parameters")
    for odd, expected in [
        ("abc", "should be the model"),
        (torch.zeros(3), "should be the model"),
        (strict_model.classifier, "without one"),
        (mlp(1, (2,), 1), "without one"),
    ]:
        exercises.check_only_output_trainable(odd)
        assert expected in one_line(capsys)


def test_smallest_paired_difference_pairs_the_draws(capsys):
    results = paired_results()
    check = lambda answer: exercises.check_smallest_paired_difference(answer, results, 10, "transfer", "scratch")  # noqa: E731
    for right in (0.05, 0.050, np.float64(0.05), np.array([0.05]), torch.tensor(0.05), pd.Series([0.05])):
        check(right)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "ahead of scratch in 3 of the 3 draw(s)" in out, right
    for wrong, hint in (
        (0.107, "difference of the means"),
        (0.21, "largest of the per-draw"),
        (-0.05, "not the other way round"),
        (0.03, "worst transfer run against the best scratch run"),
        (5.0, "percentage points"),
    ):
        check(wrong)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (wrong, out)
    check(0.5)
    out = verdict(capsys)
    assert "too large" in out and "Hint" not in out


def test_smallest_paired_difference_with_one_draw_is_that_draw(capsys):
    results = paired_results()
    one_draw = results[
        results["seed"] == 1
    ]  # the smoke scale has one draw: every slip but the sign gives the same number
    exercises.check_smallest_paired_difference(0.05, one_draw, 10, "transfer", "scratch")
    assert "ahead of scratch in 1 of the 1 draw(s)" in verdict(capsys)
    exercises.check_smallest_paired_difference(-0.05, one_draw, 10, "transfer", "scratch")
    assert "not the other way round" in verdict(capsys)
    exercises.check_smallest_paired_difference(0.04, one_draw, 10, "transfer", "scratch")
    assert verdict(capsys).startswith("Not yet")
