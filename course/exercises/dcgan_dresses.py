"""Notebook 06's exercises: a DCGAN that dreams up dresses, and the discriminator's move written by the learner."""

from __future__ import annotations

import math

import numpy as np

from course.exercises.answers import (
    _call_learner,
    _close,
    _half_unit,
    _hint,
    _hint_matching,
    _kind,
    _matches,
    _never_a_traceback,
    _not_a_function,
    _number,
    _unanswered,
    _verdict,
)


def check_transposed_conv_size(width_with_kernel_5: object, layers_from_4_to_64: object) -> None:
    """Exercise 6.1: the width a transposed convolution with k=5, s=2, p=2 makes from 7, and how many k=4, s=2, p=1
    layers take a 4-wide map to 64 wide."""
    if _unanswered(width_with_kernel_5, layers_from_4_to_64):
        return
    formula = "(w - 1)·s - 2p + k with w = 7, s = 2, p = 2, k = 5"
    width_mistakes = [
        (
            (7 + 2 * 2 - 5) // 2 + 1,
            f"that is the convolution's formula, which shrinks; a transposed convolution makes {formula}.",
        ),
        ((7 - 1) * 2 - 2 + 5, f"the padding comes off both sides: {formula}, so subtract 2p = 4, not p."),
        ((7 - 1) * 2 + 5, f"{formula}; mind the 2p."),
        (
            2 * 7,
            "at stride 2 the width doubles exactly only when k = 2p + 2, which no odd kernel meets; "
            f"put this one through {formula}.",
        ),
    ]
    if not _close(
        width_with_kernel_5,
        (7 - 1) * 2 - 2 * 2 + 5,
        "the width the 5 x 5 kernel makes from 7",
        rel_tol=0,
        mistakes=width_mistakes,
    ):
        return
    layer_mistakes = [
        (5, "that counts the widths 4, 8, 16, 32 and 64; the layers are the steps between them."),
        (64 // 4, "that is how many times wider 64 is than 4; each layer doubles the width, so count the doublings."),
    ]
    _close(layers_from_4_to_64, 4, "the number of layers from 4 to 64 wide", rel_tol=0, mistakes=layer_mistakes)


def check_dress_share(answer: object, samples: np.ndarray) -> None:
    """Exercise 6.2: the share of the upside-down samples (`samples[:, ::-1]`) that the course's classifier calls Dress.

    `samples` are the images as the learner should score them, already turned upside down.
    """
    from course.quality import dressness

    if _unanswered(answer):
        return
    samples = np.asarray(samples)
    share = dressness(samples)
    if share in (0.0, 1.0):
        print(
            f"(The classifier calls {'none' if share == 0 else 'all'} of these {len(samples)} samples dresses, "
            "as after a very short run: a slip in the class or the scaling may give the same share. "
            "Samples from the laptop scale test your code for real.)"
        )
    percentage = "give a share between 0 and 1, not a count or a percentage."
    mistakes = [(100 * share, percentage)]
    count = round(share * len(samples))
    if count > 1:
        mistakes.append((count, percentage))
    if samples.ndim == 3:  # the same images the right way up, or mirrored left to right instead
        upright = dressness(np.ascontiguousarray(samples[:, ::-1]))
        mirrored = dressness(np.ascontiguousarray(samples[:, ::-1, ::-1]))
        mistakes += _distinct_shares(
            share,
            [
                (
                    upright,
                    "that is the dressness of the samples the right way up "
                    "(samples[::-1] reverses their order, not their rows): "
                    "turn each image upside down, samples[:, ::-1].",
                ),
                (
                    mirrored,
                    "that mirrors the samples left to right (samples[:, :, ::-1]); "
                    "upside down reverses the rows: samples[:, ::-1].",
                ),
            ],
        )
    if not _close(
        answer, share, "the dressness of the samples turned upside down", rel_tol=1e-3, abs_tol=0.002, mistakes=mistakes
    ):
        value = _number(answer)
        if (
            value is not None
            and value > 1
            and not any(_matches(value, _half_unit(answer), wrong, 1e-3, 0.002) for wrong, _ in mistakes)
        ):
            _hint(percentage)


def _distinct_shares(share: float, mistakes: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The typical wrong shares that differ from the right one by more than the check's tolerance."""
    return [(wrong, hint) for wrong, hint in mistakes if abs(wrong - share) > 0.002]


def check_nearest_distance(answer: object, sample: np.ndarray, others: np.ndarray) -> None:
    """Exercise 6.3: the distance from a sample to the nearest of `others` (the other samples), pixels scaled to 0-1."""
    if _unanswered(answer):
        return
    others, sample = np.asarray(others), np.asarray(sample)
    differences = others.reshape(len(others), -1) / 255 - sample.reshape(1, -1) / 255
    distance = np.linalg.norm(differences, axis=1).min()
    mistakes = [
        (distance * 255, "that is in grey levels 0-255; divide the pixels by 255 first."),
        (distance**2, "that is the squared distance; take the square root."),
    ]
    if others.dtype == np.uint8 and sample.dtype == np.uint8:
        wrapped = (
            others.reshape(len(others), -1) - sample.reshape(1, -1)
        ) / 255  # uint8 arithmetic wraps around below 0
        wrap = (
            "the images are uint8, so a difference below 0 wraps around to 256 minus it: "
            "divide by 255 (or use .astype(float)) before subtracting."
        )
        mistakes.append((np.linalg.norm(wrapped, axis=1).min(), wrap))
    if distance > 0:
        mistakes.append(
            (0.0, "0 is the sample's distance to itself: compare it with the other samples only, samples[1:].")
        )
    _close(answer, distance, "the distance to the nearest other sample", rel_tol=1e-3, mistakes=mistakes)


# The discriminator's move, written by the learner


@_never_a_traceback
def _same_weights(one, other) -> bool:
    """Whether two networks' weights agree, within the float error of the same steps taken in another order."""
    import torch

    return all(
        torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(one.parameters(), other.parameters(), strict=True)
    )


def check_discriminator_move(answer: object) -> None:
    """Exercise 6.4: a function move(discriminator, d_optimizer, real, fake) that makes the DCGAN discriminator's move.

    It should score the real images (target 0.9) and the fakes (target 0) with the cross-entropy of
    `course.gan.discriminator_loss`, take one optimiser step, leave the generator alone, and return the
    loss. It is run on small networks beside the course's own move, from the same weights.
    """
    import copy

    import torch

    from course import gan
    from course.gan_networks import Discriminator, Generator

    if _unanswered(answer) or _not_a_function(answer, "discriminator, d_optimizer, real, fake"):
        return
    torch.manual_seed(6)
    generator, discriminator = Generator(latent_size=8, width=4), Discriminator(width=4)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    fake = generator(torch.randn(16, 8))  # still attached to the generator, as in the game
    theirs, ours, start = discriminator, copy.deepcopy(discriminator), copy.deepcopy(discriminator)
    before = [parameter.detach().clone() for parameter in theirs.parameters()]
    their_optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1)  # plain steps: the new weights show the gradient
    our_optimizer = torch.optim.SGD(ours.parameters(), lr=0.1)
    for network in (theirs, ours):
        for parameter in network.parameters():
            parameter.grad = torch.ones_like(parameter)  # left over from an earlier move: zero_grad must clear it
    real_scores, fake_scores = ours(real), ours(fake.detach())
    expected = gan.discriminator_loss("dcgan", real_scores, fake_scores, label_smoothing=0.1)
    our_optimizer.zero_grad()
    expected.backward()
    our_optimizer.step()
    answered, returned = _call_learner(
        answer, (theirs, their_optimizer, real, fake), "move(discriminator, d_optimizer, real, fake)", "the loss"
    )
    if not answered:
        return
    value, wanted = _number(returned), expected.item()
    if value is None:
        _verdict(False, f"move should return the loss, one number (a tensor with one element), got {_kind(returned)}.")
        return
    if not math.isclose(value, wanted, rel_tol=1e-4, abs_tol=1e-6):
        _verdict(False, f"your loss is {value:.4f} for these scores; the discriminator's loss is {wanted:.4f}.")
        ones, zeros = torch.ones_like(real_scores), torch.zeros_like(fake_scores)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        mistakes = [
            (
                bce(real_scores, ones) + bce(fake_scores, zeros),
                "the real images' target is 0.9, not 1 (one-sided label smoothing).",
            ),
            (
                bce(real_scores, 0.9 * ones) + bce(fake_scores, 0.1 + zeros),
                "only the real images' target is smoothed: the fakes' target stays 0.",
            ),
            (-expected, "a loss to minimise is minus the log-likelihood: check the sign."),
            (bce(real_scores, 0.9 * ones), "the fakes' term, with target 0, is missing."),
            (bce(fake_scores, zeros), "the real images' term, with target 0.9, is missing."),
            (
                bce(real_scores, zeros) + bce(fake_scores, 0.9 + zeros),
                "the targets are swapped: real images aim at 0.9, fakes at 0.",
            ),
            (
                bce(torch.cat([real_scores, fake_scores]), torch.cat([0.9 * ones, zeros])),
                "one mean over both batches halves the loss: average each, then add.",
            ),
        ]
        with torch.no_grad():  # both batches through the network at once: batch norm's statistics mix them
            joint = copy.deepcopy(start)(torch.cat([real, fake.detach()]))
        one_pass = gan.discriminator_loss("dcgan", joint[: len(real)], joint[len(real) :], label_smoothing=0.1)
        mistakes.append(
            (
                one_pass,
                "scoring both batches in one call mixes them in batch norm's statistics, which changes every score: "
                "score the real images and the fakes in two calls.",
            )
        )
        _hint_matching(value, mistakes, rel_tol=1e-4, abs_tol=1e-6)
        return
    if any(parameter.grad is not None and parameter.grad.abs().sum() > 0 for parameter in generator.parameters()):
        _verdict(
            False,
            "the loss is right, but the generator got gradients: "
            "score `fake.detach()`, so this move leaves the generator alone.",
        )
        return
    if not fake.requires_grad:
        _verdict(
            False,
            "the loss is right, but `fake.detach_()` detached the fakes themselves, in place: "
            "the generator's move after it can no longer learn from them. "
            "Use `fake.detach()`, which makes a new tensor.",
        )
        return
    unchanged = all(torch.equal(a, b) for a, b in zip(theirs.parameters(), before, strict=True))
    if not _same_weights(theirs, ours):
        if unchanged:
            _verdict(
                False,
                "the loss is right, but the weights did not move: "
                "call loss.backward() and then this move's d_optimizer.step().",
            )
            return
        _verdict(False, "the loss is right, but the weights moved differently from the course's move.")
        real_only, kept = copy.deepcopy(start), copy.deepcopy(start)
        for network, clear in ((real_only, True), (kept, False)):
            optimizer = torch.optim.SGD(network.parameters(), lr=0.1)
            for parameter in network.parameters():
                parameter.grad = torch.ones_like(parameter)
            scores_real, scores_fake = network(real), network(fake.detach())
            if clear:  # the fakes' term without a gradient: the scores detached, or the fakes scored under no_grad
                scores_fake = scores_fake.detach()
                optimizer.zero_grad()
            gan.discriminator_loss("dcgan", scores_real, scores_fake, label_smoothing=0.1).backward()
            optimizer.step()
        if _same_weights(theirs, real_only):
            _hint(
                "the fakes' term sent no gradient: "
                "detach the fakes before scoring them (discriminator(fake.detach())), "
                "not the scores after, and do not score them under torch.no_grad()."
            )
        elif _same_weights(theirs, kept):
            _hint(
                "the gradients left over from an earlier move were added in: "
                "call d_optimizer.zero_grad() before loss.backward()."
            )
        else:
            _hint("zero_grad, backward, then step, all on this move's d_optimizer and its loss.")
        return
    _verdict(
        True,
        f"your move gives the course's loss ({value:.4f}) and the same new weights, and leaves the generator alone.",
    )
