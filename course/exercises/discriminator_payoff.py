"""Notebook 08's exercises: what the discriminator gives back, and the unlabelled loss written by the learner."""

from __future__ import annotations

import math

import pandas as pd

from course.exercises.answers import (
    _as_plain_number,
    _close,
    _distinct,
    _hint,
    _hint_matching,
    _kind,
    _never_a_traceback,
    _not_a_function,
    _number,
    _one_line,
    _unanswered,
    _verdict,
)


def check_real_image_loss(answer: object, num_classes: int = 5) -> None:
    """Exercise 8.1: -log(1 - p(fake)) for a real image whose K + 1 scores are all 0."""
    if _unanswered(answer):
        return
    mistakes = [
        (math.log(num_classes + 1), "that is -log p(fake), the loss of a fake; a real image pays -log(1 - p(fake))."),
        (1 / (num_classes + 1), "that is p(fake) itself; the loss is -log(1 - p(fake))."),
    ]
    _close(answer, math.log((num_classes + 1) / num_classes), "the real image's loss", rel_tol=1e-3, mistakes=mistakes)


def check_most_variable(method: object, spread: object, results: pd.DataFrame, labels_per_class: int) -> None:
    """Exercise 8.3: the method whose test accuracy at `labels_per_class` varies most over the draws, and that
    standard deviation as a share (pandas' default, the sample standard deviation, which divides by n - 1)."""
    if _unanswered(method, spread):
        return
    method = _as_plain_number(method)  # a one-element array or Series holding the name
    at_budget = results[results["labels_per_class"] == labels_per_class].groupby("method")["test_accuracy"]
    if at_budget.ngroups == 0 or at_budget.size().min() < 2:
        print(
            f"These results have fewer than two draws per method at {labels_per_class} labels per class, so nothing "
            "can vary yet: run the notebook at the laptop scale to answer."
        )
        return
    spreads = at_budget.std()
    if not isinstance(method, str) or method not in spreads.index:
        _verdict(False, f"answer with one of the methods: {', '.join(map(repr, spreads.index))}.")
        return
    most = str(spreads.idxmax())
    if method != most:
        _verdict(False, f"{method!r} is not the method whose draws vary most at {labels_per_class} labels per class.")
        all_budgets = results.groupby("method")["test_accuracy"].std()
        if method == str(all_budgets.idxmax()):
            _hint(
                "that method varies most over all budgets together; take only its draws at "
                f"{labels_per_class} labels per class."
            )
        elif method == str(at_budget.mean().idxmax()):
            _hint(
                f"that method is the most accurate at {labels_per_class} labels per class; the question is how much "
                "its draws differ."
            )
        elif math.isclose(spreads[method], spreads.min(), rel_tol=1e-9):
            _hint("that method varies least; look for the largest standard deviation.")
        else:
            _hint(
                f"for each method, the standard deviation of its test accuracy over the draws at {labels_per_class} "
                "labels per class; take the largest."
            )
        return
    _verdict(True, f"{method!r} varies most at {labels_per_class} labels per class.")
    draws = results[(results["labels_per_class"] == labels_per_class) & (results["method"] == most)]["test_accuracy"]
    mixed = results[results["method"] == most]["test_accuracy"]
    expected = float(spreads[most])
    mistakes = _distinct(
        [
            (
                draws.std(ddof=0),
                "that is the population standard deviation (NumPy's default, ddof=0); pandas' .std() divides by n - 1, "
                "the sample standard deviation the question asks for.",
            ),
            (
                draws.mean(),
                "that is the method's mean test accuracy; the question asks how much its draws vary: .std().",
            ),
            (
                mixed.std(),
                "that takes its draws at every budget together; take only those at "
                f"{labels_per_class} labels per class.",
            ),
            (draws.var(), "that is the variance; take its square root, the standard deviation."),
            (
                draws.max() - draws.min(),
                "that is the range, highest minus lowest; the question asks for the standard deviation.",
            ),
            (100 * expected, "give it as a share (0.01 is one point), not in percent."),
        ],
        expected,
    )
    _close(spread, expected, "its standard deviation over the draws", rel_tol=1e-3, mistakes=mistakes)


# The unlabelled loss, written by the learner


def _loss_value(function, real_logits, fake_logits) -> tuple[float | None, str]:
    """What `function(real_logits, fake_logits)` returns, as a float; else None and why it is not one number.

    The reason is "" when the function returned None.
    """
    import torch

    try:
        value = function(real_logits.clone(), fake_logits.clone())
    except Exception as error:  # the learner's code may raise anything
        return None, f"calling it on two batches of scores raised {_one_line(error)}."
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            per_image = " (one per image? take the mean over each batch)" if value.ndim == 1 else ""
            return (
                None,
                "it should return one number (a tensor with one element), got a tensor of shape "
                f"{tuple(value.shape)}{per_image}.",
            )
        return float(value.detach().cpu().double().reshape(())), ""
    number = _number(value)
    if number is not None:
        return number, ""
    if value is None:
        return None, ""
    return None, f"it should return one number (a tensor with one element), got {_kind(value)}."


@_never_a_traceback
def check_unlabelled_loss(answer: object) -> None:
    """Exercise 8.4: a function of (real_logits, fake_logits), each (N, K + 1), giving the unlabelled loss.

    The loss is -mean log(1 - p(fake)) over the real images plus -mean log p(fake) over the fakes, with p the
    softmax of the K + 1 scores, "fake" last. It is compared with course.semi_supervised.unlabelled_loss on
    random scores, then on extreme ones, where forming the probabilities first overflows.
    """
    import torch

    from course.semi_supervised import unlabelled_loss

    if _unanswered(answer) or _not_a_function(answer, "real_logits, fake_logits", " that returns one number"):
        return
    draws = torch.Generator().manual_seed(8)
    real, fake = (
        2 * torch.randn(7, 6, generator=draws),
        2 * torch.randn(5, 6, generator=draws),
    )  # batches of different sizes
    value, problem = _loss_value(answer, real, fake)
    if value is None and not problem:
        print("Not answered yet: your function returns None; write its body, return the loss and run the cell again.")
        return
    if value is None:
        _verdict(False, problem)
        return
    log_real_not_fake = torch.logsumexp(real[:, :-1], dim=1) - torch.logsumexp(real, dim=1)
    log_real_fake = real[:, -1] - torch.logsumexp(real, dim=1)
    log_fake_fake = fake[:, -1] - torch.logsumexp(fake, dim=1)
    log_fake_not_fake = torch.logsumexp(fake[:, :-1], dim=1) - torch.logsumexp(fake, dim=1)
    expected = unlabelled_loss(real, fake).item()
    if not (math.isfinite(value) and math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-5)):
        shown = f"{value:.4g}" if math.isfinite(value) else str(value)
        _verdict(False, f"on random scores your loss is {shown}, the course's {expected:.4g}.")
        real_term, fake_term = -log_real_not_fake.mean().item(), -log_fake_fake.mean().item()
        no_normaliser = -torch.logsumexp(real[:, :-1], dim=1).mean().item() + fake_term
        summed = -log_real_not_fake.sum().item() - log_fake_fake.sum().item()
        pooled = -torch.cat([log_real_not_fake, log_fake_fake]).mean().item()
        real_as_fake = -log_real_fake.mean().item() + fake_term
        swapped = -log_real_fake.mean().item() - log_fake_not_fake.mean().item()
        mistakes = [
            (-expected, "each term is minus the log of a probability, so the loss is positive: check the signs."),
            (
                fake_term,
                "the real images' term is missing or 0. A softmax over the K class scores alone sums to 1: normalise "
                "over all K + 1, fake included.",
            ),
            (real_term, "the fakes' term, -log p(fake) averaged over the fakes, is missing."),
            (
                no_normaliser,
                "log(1 - p(fake)) is logsumexp of the K class scores minus logsumexp of all K + 1 scores: "
                "subtract the second.",
            ),
            (summed, "that sums over the images; take the mean over each batch, then add the two means."),
            (
                pooled,
                "one mean over both batches weighs them by their sizes; average each batch on its own, then add the "
                "two.",
            ),
            (real_as_fake, "a real image should come out *not* fake: its term is -log(1 - p(fake)), not -log p(fake)."),
            (swapped, "the roles are swapped: real images pay -log(1 - p(fake)), fakes pay -log p(fake)."),
        ]
        _hint_matching(value, mistakes, rel_tol=1e-4, abs_tol=1e-5)
        return
    extreme_real = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 30.0]])  # p(fake) rounds to 1 in float32
    extreme_fake = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, -120.0]])  # p(fake) rounds to 0
    extreme, problem = _loss_value(answer, extreme_real, extreme_fake)
    expected_extreme = unlabelled_loss(extreme_real, extreme_fake).item()
    if extreme is None or not (math.isfinite(extreme) and math.isclose(extreme, expected_extreme, rel_tol=1e-4)):
        shown = (
            f"it gives {extreme:.4g} instead of {expected_extreme:.4g}."
            if extreme is not None
            else problem or "it returns None."
        )
        _verdict(
            False,
            "right on ordinary scores, but not on the extreme scores (0, 0, 0, 0, 0, 30) and (0, 0, 0, 0, 0, -120): "
            f"{shown}",
        )
        _hint(
            "a probability that rounds to 0 or 1 has no useful log; compute the logs with logsumexp (or log_softmax), "
            "never log(softmax)."
        )
        return
    _verdict(
        True, f"your loss matches the course's on random scores ({value:.4f}) and on extreme ones ({extreme:.2f})."
    )
