"""Notebook 07's exercises: Wasserstein GANs, and the gradient penalty written by the learner."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from course.exercises.answers import (
    _call_learner,
    _close,
    _distinct,
    _hint,
    _hint_matching,
    _kind,
    _never_a_traceback,
    _not_a_function,
    _number,
    _unanswered,
    _verdict,
)


def check_gradient_penalty(
    no_penalty_slope: object,
    colour_penalty: object,
    numbers: int = 3 * 32 * 32,
    slope: float = 0.1,
    weight: float = 10.0,
) -> None:
    """Exercise 7.1: for the critic f(x) = c * (sum of an image's numbers), on colour images of 3 x 32 x 32 numbers:
    the slope c that pays no gradient penalty, and the penalty (weight 10) at c = `slope`."""
    if _unanswered(no_penalty_slope, colour_penalty):
        return
    one_channel = numbers // 3
    slope_mistakes = [
        (
            1 / math.sqrt(28 * 28),
            "that counts the 784 pixels of a grey 28 x 28 image; "
            f"a colour image has {numbers:,} numbers, every channel's.",
        ),
        (
            1 / numbers,
            f"the gradient's length is the square root of the sum of its {numbers:,} squared entries: c times the "
            f"square root of {numbers:,}.",
        ),
        (
            1 / math.sqrt(one_channel),
            f"that counts one channel's {one_channel:,} pixels; "
            f"the gradient has an entry for every number of the image, {numbers:,}.",
        ),
    ]
    if not _close(
        no_penalty_slope,
        1 / math.sqrt(numbers),
        "the slope that pays no penalty",
        rel_tol=1e-3,
        mistakes=slope_mistakes,
    ):
        return
    length = slope * math.sqrt(numbers)
    penalty_mistakes = [
        ((length - 1) ** 2, f"the penalty is multiplied by its weight, {weight:g}."),
        (
            weight * (slope * numbers - 1) ** 2,
            f"the gradient's length is the square root of the sum of its {numbers:,} squared entries.",
        ),
        (
            weight * (slope**2 * numbers - 1) ** 2,
            "that uses the squared length; take the length itself, the square root of the sum of squares.",
        ),
        (
            weight * (slope * 28 - 1) ** 2,
            "that counts the 784 pixels of a grey 28 x 28 image; "
            f"a colour image has {numbers:,} numbers, every channel's.",
        ),
        (
            weight * (slope * math.sqrt(one_channel) - 1) ** 2,
            f"that counts one channel's {one_channel:,} pixels; "
            "the gradient has an entry for every number of the image.",
        ),
    ]
    _close(
        colour_penalty,
        weight * (length - 1) ** 2,
        "the penalty on a colour image",
        rel_tol=1e-3,
        mistakes=penalty_mistakes,
    )


def check_improvement_factor(answer: object, stages: pd.DataFrame) -> None:
    """Exercise 7.2: the distance over the floor at a run's first measured stage divided by that at its last."""
    if _unanswered(answer):
        return
    distances = stages["distance_over_floor"].to_numpy(dtype=float)
    if len(distances) < 2:
        print(
            "This run was measured at one stage only, so nothing can have changed yet: run the notebook at the laptop "
            "scale to answer."
        )
        return
    first, last = distances[0], distances[-1]
    expected = first / last
    mistakes = _distinct(
        [
            (last / first, "first divided by last, so that a factor above 1 means the distance fell."),
            (first - last, "a factor is a division, not a difference."),
            (first / distances.min(), "that divides by the best stage on the way; the question is about the last one."),
            (distances[-2] / last, "that is the last stage against the one before it; start from the first stage."),
        ],
        expected,
    )
    if _close(answer, expected, "the factor", rel_tol=1e-3, mistakes=mistakes):
        print(
            f"  From step {stages.index[0]:,} to step {stages.index[-1]:,} the distance went from {first:.1f} to "
            f"{last:.1f} times the floor"
            f" ({'fell' if expected > 1 else 'did not fall'})."
        )


def check_rank_correlation(answer: object, signal: object, distance: object) -> None:
    """Exercise 7.3: the Spearman (rank) correlation between a loss curve's values and the distance."""
    if _unanswered(answer):
        return
    signal_values, distance_values = np.asarray(signal, dtype=float).ravel(), np.asarray(distance, dtype=float).ravel()
    with warnings.catch_warnings():  # a constant series has no correlation: nan, said below in words
        warnings.simplefilter("ignore")
        expected = pd.Series(signal_values).corr(pd.Series(distance_values), method="spearman")
    if len(signal_values) < 3:
        print(
            f"With {len(signal_values)} stages a rank correlation can only be -1, +1 or nan, whatever the run did: "
            "run the notebook at the laptop scale for one that means something. Checking your number all the same:"
        )
    if math.isnan(expected):
        value = _number(answer)
        _verdict(
            value is not None and math.isnan(value),
            "one of the two series is constant here, so the rank correlation is nan (undefined).",
        )
        return
    pearson = np.corrcoef(signal_values, distance_values)[0, 1]
    misaligned = (
        "pandas pairs two Series by their index, and these have different ones; "
        "use .to_numpy() on one of them so the values pair up by position."
    )
    mistakes = [(pearson, "that is Pearson's correlation of the values; Spearman's correlates their ranks.")]
    if isinstance(distance, pd.Series) and not distance.index.equals(pd.RangeIndex(len(distance))):
        paired_by_index = pd.Series(signal_values).corr(distance, method="spearman")
        if math.isfinite(paired_by_index) and not math.isclose(paired_by_index, expected, abs_tol=1e-9):
            mistakes.append((paired_by_index, misaligned))
    if not _close(
        answer, expected, "the rank correlation", rel_tol=1e-6, abs_tol=1e-6, mistakes=_distinct(mistakes, expected)
    ):
        value = _number(answer)
        if value is not None and math.isnan(value):
            _hint(f"a correlation of nan means no pairs of values lined up: {misaligned}")


# The gradient penalty, written by the learner


def _probe_points():
    """Real and fake images of very different sizes, and where between them the penalty looks.

    The gradient lengths at those points differ.
    """
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(8)
        real, fake, mix = torch.randn(8, 3, 6, 6), torch.randn(8, 3, 6, 6), torch.rand(8, 1, 1, 1)
    return real * torch.linspace(0.05, 0.6, 8).view(8, 1, 1, 1), fake * 0.1, mix


class _SquareCritic:
    """f(x) = half the sum of squares of x's pixels, per image: its gradient at x is x itself.

    A torch module in all but name.
    """

    def __call__(self, images):
        return 0.5 * (images**2).flatten(1).sum(dim=1)

    def parameters(self):
        return iter(())


@_never_a_traceback
def check_penalty_function(answer: object) -> None:
    """Exercise 7.4: a function penalty(critic, real, fake, mix) giving WGAN-GP's gradient penalty, default weight 10.

    It is run on random three-channel images and a small random critic beside `course.gan.gradient_penalty`,
    from the same points; a wrong number is compared with the usual mistakes, and a right one must also
    let the critic learn from it (the gradient taken with create_graph=True).
    """
    import torch
    from torch import nn

    from course import gan

    if _unanswered(answer) or _not_a_function(answer, "critic, real, fake, mix", " that returns the penalty"):
        return
    with torch.random.fork_rng():  # the learner's random numbers stay as they were
        torch.manual_seed(7)
        critic = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 6 * 6, 1))
        real, fake, mix = torch.randn(8, 3, 6, 6), torch.randn(8, 3, 6, 6), torch.rand(8, 1, 1, 1)
        expected = gan.gradient_penalty(critic, real, fake, mix).item()
        call = "penalty(critic, real, fake, mix) on images (8, 3, 6, 6) and mix (8, 1, 1, 1)"
        answered, returned = _call_learner(
            answer, (critic, real.clone(), fake.clone(), mix.clone()), call, "the penalty"
        )
    if not answered:
        return
    if isinstance(returned, torch.Tensor) and returned.numel() != 1:
        per_image = " (one per image? take the mean over the batch)" if returned.shape == (8,) else ""
        _verdict(
            False,
            "it should return one number (a tensor with one element), got a tensor of shape "
            f"{tuple(returned.shape)}{per_image}.",
        )
        return
    value = _number(returned)
    if value is None:
        _verdict(False, f"it should return one number (a tensor with one element), got {_kind(returned)}.")
        return
    if not (math.isfinite(value) and math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6)):
        shown = f"{value:.4g}" if math.isfinite(value) else str(value)
        _verdict(False, f"on a random critic your penalty is {shown}, the course's {expected:.4g}.")
        between = (mix * real + (1 - mix) * fake).requires_grad_(True)
        (gradient,) = torch.autograd.grad(critic(between).sum(), between)
        lengths = gradient.flatten(1).norm(dim=1)
        swapped = (mix * fake + (1 - mix) * real).requires_grad_(True)
        (swapped_gradient,) = torch.autograd.grad(critic(swapped).sum(), swapped)
        on_real = real.clone().requires_grad_(True)
        (real_gradient,) = torch.autograd.grad(critic(on_real).sum(), on_real)
        mistakes = [
            (((lengths - 1) ** 2).mean(), "that is the penalty without its weight: multiply by weight (λ = 10)."),
            (
                10 * ((lengths**2 - 1) ** 2).mean(),
                "that uses the squared length; take the length itself, the square root of the sum of squares.",
            ),
            (
                10 * ((lengths + 1) ** 2).mean(),
                "the penalty is (length - 1)², zero at length 1: check the sign inside the square.",
            ),
            (
                10 * (gradient.norm() - 1) ** 2,
                "that is one length for the whole batch; take one per image, gradient.flatten(1).norm(dim=1).",
            ),
            (
                10 * ((gradient.norm(dim=0) - 1) ** 2).mean(),
                "that takes lengths across the batch; take one per image: gradient.flatten(1).norm(dim=1).",
            ),
            (
                10 * ((gradient.norm(dim=1) - 1) ** 2).mean(),
                "that takes a length per pixel, across the channels; take one per image: flatten(1) first.",
            ),
            (
                10 * ((gradient.norm(dim=(2, 3)) - 1) ** 2).mean(),
                "that takes a length per channel; take one per image, over all its channels: flatten(1).",
            ),
            (10 * ((lengths - 1) ** 2).sum(), "that sums over the batch; take the mean over the images."),
            (
                10 * (lengths.mean() - 1) ** 2,
                "that squares the difference of the mean length; take the mean of each image's (length - 1)².",
            ),
            (
                10 * (lengths.clamp(min=1) - 1).pow(2).mean(),
                "that is the one-sided penalty, zero under 1; WGAN-GP's penalises both sides.",
            ),
            (
                10 * ((swapped_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(),
                "the points are mix * real + (1 - mix) * fake: mix goes with the real images.",
            ),
            (
                10 * ((real_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(),
                "that is the gradient at the real images; take it between real and fake.",
            ),
        ]
        if (
            value == 0
        ):  # on this critic every length is under 1, so a one-sided penalty is 0 too: tell them apart on another
            real_sizes, fake_sizes, mix_sizes = _probe_points()
            answered, probe = _call_learner(
                answer, (_SquareCritic(), real_sizes, fake_sizes, mix_sizes), call, "the penalty"
            )
            if not answered:
                return
            squares = (
                (mix_sizes * real_sizes + (1 - mix_sizes) * fake_sizes).flatten(1).norm(dim=1)
            )  # the square critic's lengths
            one_sided = (10 * (squares.clamp(min=1) - 1) ** 2).mean().item()
            got = _number(probe)
            if got is not None and math.isclose(got, one_sided, rel_tol=1e-4, abs_tol=1e-6):
                _hint("that is the one-sided penalty, zero under 1; WGAN-GP's penalises both sides.")
            else:
                _hint(
                    "a penalty of exactly 0 means every gradient has length exactly 1; compute the lengths at the "
                    "points between."
                )
            return
        _hint_matching(value, mistakes, rel_tol=1e-4, abs_tol=1e-6)
        return
    real, fake, mix = _probe_points()
    squares = _SquareCritic()  # its gradient at x is x, so the lengths are the points' own sizes
    for probe_critic, weight_given, what in [
        (critic, 3.0, "with weight=3"),
        (squares, 10.0, "on a critic whose gradient lengths differ from image to image"),
    ]:
        expected_here = gan.gradient_penalty(probe_critic, real, fake, mix, weight=weight_given).item()
        answered, probe = _call_learner(
            answer, (probe_critic, real.clone(), fake.clone(), mix.clone(), weight_given), call, "the penalty"
        )
        if not answered:
            return
        got = _number(probe)
        if not (
            got is not None and math.isfinite(got) and math.isclose(got, expected_here, rel_tol=1e-4, abs_tol=1e-6)
        ):
            shown = f"{got:.4g}" if got is not None else _kind(probe)
            _verdict(False, f"{what}, your penalty is {shown}, the course's {expected_here:.4g}.")
            if weight_given != 10.0:
                _hint("multiply by the weight argument, not by a fixed 10.")
            else:
                _hint(
                    "take the mean of (length - 1)² over the images, not (mean length - 1)²: square each image's own "
                    "difference first."
                )
            return
    weight = next(critic.parameters())
    reaches = isinstance(returned, torch.Tensor) and returned.requires_grad
    if reaches:
        try:
            (weight_gradient,) = torch.autograd.grad(returned.reshape(()), weight, allow_unused=True)
        except RuntimeError:  # the graph was already freed, or has no path back
            weight_gradient = None
        reaches = weight_gradient is not None and bool(weight_gradient.abs().sum() > 0)
    if not reaches:
        _verdict(
            False,
            f"the number is right ({value:.4f}), but no gradient reaches the critic's weights, so the critic cannot "
            "learn from it.",
        )
        _hint(
            "take the gradient with torch.autograd.grad(..., create_graph=True), and return the tensor "
            "(no .item(), no .detach())."
        )
        return
    _verdict(
        True, f"your penalty matches the course's on a random critic ({value:.4f}), and the critic can learn from it."
    )
