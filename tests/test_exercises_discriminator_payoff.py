"""Notebook 08's checks: a real image's loss, the paired difference, the most variable method, the unlabelled loss."""

import numpy as np
import pandas as pd
import pytest
import torch
from test_exercises_answers import one_line, paired_results, verdict

from course import exercises


def test_notebook_08_checks(capsys):
    import math

    exercises.check_real_image_loss(math.log(6 / 5))
    assert verdict(capsys).startswith("Correct!")
    exercises.check_real_image_loss(math.log(6))
    assert "loss of a fake" in verdict(capsys)
    exercises.check_real_image_loss(None)
    assert verdict(capsys).startswith("Not answered yet")

    exercises.check_smallest_paired_difference(0.05, paired_results(), 10, "transfer", "scratch")
    assert verdict(capsys).startswith("Correct!")
    exercises.check_most_variable("transfer", 0.07, paired_results(), 10)
    assert verdict(capsys).count("Correct!") == 2


def test_real_image_loss_takes_the_printed_answers(capsys):
    for right in (0.182, 0.1823, np.float32(np.log(1.2)), torch.tensor([np.log(1.2)])):
        exercises.check_real_image_loss(right)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_real_image_loss(1.79)
    assert "loss of a fake" in verdict(capsys)
    exercises.check_real_image_loss(0.167)
    assert "p(fake) itself" in verdict(capsys)


def test_most_variable_takes_the_method_as_a_name_and_the_spread_as_printed(capsys):
    results = (
        paired_results()
    )  # at 10 labels per class transfer's draws are 0.61, 0.50 and 0.48: standard deviation 0.07
    for method in ("transfer", np.array(["transfer"]), pd.Series(["transfer"])):
        for spread in (0.07, 0.0700, np.float32(0.07), torch.tensor([0.07]), pd.Series([0.07])):
            exercises.check_most_variable(method, spread, results, 10)
            out = verdict(capsys)
            assert (
                out.startswith("Correct! 'transfer' varies most at 10 labels per class.") and out.count("Correct!") == 2
            ), out
    for odd in (np.array(["scratch", "transfer"]), 10, "dcgan", object(), ["transfer"]):
        exercises.check_most_variable(odd, 0.07, results, 10)
        assert "answer with one of the methods" in one_line(capsys)
    exercises.check_most_variable("transfer", "0.07", results, 10)
    out = verdict(capsys)
    assert out.startswith("Correct!") and out.splitlines()[-1].startswith(
        "Not yet: its standard deviation over the draws should be a number"
    )


@pytest.mark.parametrize(
    "spread, hint",
    [
        (0.0572, "population standard deviation"),  # sqrt(0.0098 / 3): ddof=0
        (0.53, "mean test accuracy"),
        (0.0049, "the variance"),
        (0.13, "the range"),
        (7.0, "not in percent"),
        (0.1756, "every budget together"),  # transfer's six draws at 10 and 200 labels per class
        (0.08, None),  # just wrong
    ],
)
def test_most_variable_names_each_slip_in_the_spread(capsys, spread, hint):
    exercises.check_most_variable("transfer", spread, paired_results(), 10)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet" in out, out
    assert (hint in out) if hint else "Hint" not in out, out


def test_most_variable_names_each_wrong_method(capsys):
    results = paired_results()
    exercises.check_most_variable("scratch", 0.07, results, 10)  # its draws spread most over 10 and 200 together
    out = verdict(capsys)
    assert (
        out.startswith("Not yet")
        and "over all budgets together" in out
        and "standard deviation over the draws" not in out
    )
    exercises.check_most_variable("semi-supervised GAN", 0.07, results, 10)  # as level as scratch's: the least
    assert "varies least" in verdict(capsys)
    steady = results.assign(
        test_accuracy=results["test_accuracy"].where(results["method"] != "transfer", 0.95)
    )  # transfer steady and best
    steady.loc[(steady["method"] == "semi-supervised GAN") & (steady["labels_per_class"] == 10), "test_accuracy"] = [
        0.50,
        0.60,
        0.40,
    ]
    exercises.check_most_variable("transfer", 0.1, steady, 10)
    assert "most accurate at 10 labels per class" in verdict(capsys)
    exercises.check_most_variable("scratch", 0.1, steady, 200)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Hint" in out


def test_most_variable_with_one_draw_asks_for_the_laptop_run(capsys):
    results = paired_results()
    exercises.check_most_variable("transfer", 0.07, results[results["seed"] == 0], 10)
    out = verdict(capsys)
    assert "laptop scale" in out and "Correct" not in out and "Not yet" not in out
    exercises.check_most_variable("transfer", 0.07, results, 50)  # no runs at that budget
    out = verdict(capsys)
    assert "laptop scale" in out and "Correct" not in out and "Not yet" not in out


def test_unlabelled_loss_check_accepts_right_answers_and_names_the_usual_mistakes(capsys):
    from course.semi_supervised import unlabelled_loss

    def with_log_softmax(real_logits, fake_logits):
        log_p_real, log_p_fake = torch.log_softmax(real_logits, dim=1), torch.log_softmax(fake_logits, dim=1)
        return -torch.logsumexp(log_p_real[:, :-1], dim=1).mean() - log_p_fake[:, -1].mean()

    def fake_term(fake_logits):
        return -torch.log_softmax(fake_logits, dim=1)[:, -1]

    for right in (unlabelled_loss, with_log_softmax, lambda real, fake: unlabelled_loss(real, fake).item()):
        exercises.check_unlabelled_loss(right)
        assert verdict(capsys).startswith("Correct!")

    mistakes = {
        "check the signs": lambda real, fake: -unlabelled_loss(real, fake),
        "fake included": lambda real, fake: (
            -torch.log(torch.softmax(real[:, :-1], dim=1).sum(dim=1)).mean() + fake_term(fake).mean()
        ),
        "take the mean over each batch": lambda real, fake: (
            -torch.log_softmax(real, dim=1)[:, :-1].logsumexp(dim=1).sum() + fake_term(fake).sum()
        ),
        "not -log p(fake)": lambda real, fake: fake_term(real).mean() + fake_term(fake).mean(),
        "roles are swapped": lambda real, fake: unlabelled_loss(fake, real),
        "is missing": lambda real, fake: fake_term(fake).mean(),
        "subtract the second": lambda real, fake: -torch.logsumexp(real[:, :-1], dim=1).mean() + fake_term(fake).mean(),
    }
    for hint, wrong in mistakes.items():
        exercises.check_unlabelled_loss(wrong)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (hint, out)

    def with_probabilities(real_logits, fake_logits):  # right in theory, but log(0) on extreme scores
        p_real, p_fake = torch.softmax(real_logits, dim=1), torch.softmax(fake_logits, dim=1)
        return -torch.log(1 - p_real[:, -1]).mean() - torch.log(p_fake[:, -1]).mean()

    exercises.check_unlabelled_loss(with_probabilities)
    out = verdict(capsys)
    assert out.startswith("Not yet: right on ordinary scores") and "logsumexp" in out

    def raises(real_logits, fake_logits):
        raise RuntimeError("shapes do not match\nmore detail")

    bad_inputs = {
        None: "Not answered yet",
        (lambda real, fake: None): "Not answered yet: your function returns None",
        "a string": "should be a function",
        raises: "raised RuntimeError: shapes do not match.",
        (lambda real: real): "raised TypeError",
        (lambda real, fake: fake_term(fake)): "take the mean over each batch",
        (lambda real, fake: "low"): "got str",
        (lambda real, fake: float("nan")): "your loss is nan",
    }
    for answer, message in bad_inputs.items():
        exercises.check_unlabelled_loss(answer)
        out = verdict(capsys)
        assert message in out and out.count("\n") == 1, (message, out)
