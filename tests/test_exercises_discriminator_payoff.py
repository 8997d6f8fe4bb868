"""Notebook 08's checks: a real image's loss, the paired difference and the largest gain, and the unlabelled loss."""

import numpy as np
import pandas as pd
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
    exercises.check_largest_gain("scratch", paired_results(), 10, 200)
    assert verdict(capsys).startswith("Correct!")


def test_real_image_loss_takes_the_printed_answers(capsys):
    for right in (0.182, 0.1823, np.float32(np.log(1.2)), torch.tensor([np.log(1.2)])):
        exercises.check_real_image_loss(right)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_real_image_loss(1.79)
    assert "loss of a fake" in verdict(capsys)
    exercises.check_real_image_loss(0.167)
    assert "p(fake) itself" in verdict(capsys)


def test_largest_gain_answers_arrays_and_series_in_one_line(capsys):
    results = paired_results()
    for right in ("scratch", np.array(["scratch"]), pd.Series(["scratch"])):
        exercises.check_largest_gain(right, results, 10, 200)
        assert verdict(capsys).startswith("Correct! 'scratch' rises by +38.7%")
    for odd in (np.array(["scratch", "transfer"]), 10, "dcgan", object(), ["scratch"]):
        exercises.check_largest_gain(odd, results, 10, 200)
        assert "answer with one of the methods" in one_line(capsys)


def test_largest_gain_names_the_mistake(capsys):
    results = paired_results()
    exercises.check_largest_gain("semi-supervised GAN", results, 10, 200)  # the most accurate at 200
    out = verdict(capsys)
    assert out.startswith("Not yet") and "most accurate at 200" in out
    exercises.check_largest_gain("transfer", results, 10, 200)  # the smallest gain
    out = verdict(capsys)
    assert out.startswith("Not yet") and "gained the least" in out
    exercises.check_largest_gain("scratch", results[results["labels_per_class"] == 10], 10, 200)
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
        "fake included": lambda real, fake: -torch.log(torch.softmax(real[:, :-1], dim=1).sum(dim=1)).mean() + fake_term(fake).mean(),
        "take the mean over each batch": lambda real, fake: -torch.log_softmax(real, dim=1)[:, :-1].logsumexp(dim=1).sum() + fake_term(fake).sum(),
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
