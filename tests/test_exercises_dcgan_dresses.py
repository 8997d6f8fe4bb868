"""Notebook 06's checks.

Transposed convolution sizes, the share of dresses upside down, the nearest other sample, and the discriminator's move.
"""

import numpy as np
import pytest
import torch
from test_exercises_answers import one_line, verdict

from course import exercises


def upside_down(images: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(images[:, ::-1])


def test_notebook_06_checks(capsys, fashion):
    exercises.check_transposed_conv_size(None, 4)
    assert verdict(capsys).startswith("Not answered yet")
    exercises.check_transposed_conv_size(13, 4)
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_transposed_conv_size(17, 4)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "mind the 2p" in out

    dresses = fashion.dresses("test")[:50]
    exercises.check_nearest_distance(
        np.linalg.norm(dresses[1:].reshape(49, -1) / 255 - dresses[0].reshape(1, -1) / 255, axis=1).min(),
        dresses[0],
        dresses[1:],
    )
    assert verdict(capsys).startswith("Correct! the distance to the nearest other sample")
    exact = np.linalg.norm(dresses[1:].reshape(49, -1) / 255 - dresses[0].reshape(1, -1) / 255, axis=1).min()
    exercises.check_nearest_distance(exact * 255, dresses[0], dresses[1:])
    assert "divide the pixels by 255" in verdict(capsys)
    exercises.check_nearest_distance(exact**2, dresses[0], dresses[1:])
    assert "squared distance" in verdict(capsys)

    from course.quality import dressness

    flipped = upside_down(dresses)
    share = dressness(flipped)
    exercises.check_dress_share(share, flipped)
    assert verdict(capsys).startswith("Correct! the dressness of the samples turned upside down")
    exercises.check_dress_share(share * 100, flipped)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "not a count or a percentage" in out
    assert "test your code for real" not in out
    blank = np.zeros((8, 28, 28), np.uint8)  # no dresses at all, like samples after a few steps
    exercises.check_dress_share(0.0, blank)
    out = verdict(capsys)
    assert "none of these 8 samples" in out and "laptop scale" in out and out.splitlines()[-1].startswith("Correct!")
    exercises.check_dress_share(0.5, blank)
    assert verdict(capsys).splitlines()[-1].startswith("Not yet")


@pytest.mark.parametrize(
    "width, layers, expected",
    [
        (13, 4, "Correct! the number of layers"),
        (np.int64(13), torch.tensor([4]), "Correct! the number of layers"),
        (13.0, 4.0, "Correct! the number of layers"),
        (4, 4, "the convolution's formula"),  # floor((7 + 4 - 5) / 2) + 1: the width of a convolution, which shrinks
        (15, 4, "subtract 2p = 4, not p"),
        (17, 4, "mind the 2p"),
        (14, 4, "the width doubles exactly only when k = 2p + 2"),
        (13, 5, "the layers are the steps between them"),
        (13, 16, "count the doublings"),
        (13, 3, "Not yet: the number of layers from 4 to 64 wide: 3 is too small."),
        (12, 4, "Not yet: the width the 5 x 5 kernel makes from 7: 12 is too small."),
    ],
)
def test_transposed_conv_size_names_each_slip(capsys, width, layers, expected):
    exercises.check_transposed_conv_size(width, layers)
    out = verdict(capsys)
    assert expected in out and "Traceback" not in out, out
    assert ("Correct! the number of layers" in out) == expected.startswith("Correct!")
    if "width" in expected or "formula" in expected or "2p" in expected or "doubles" in expected:
        assert "number of layers" not in out, out  # the second answer waits for the first


def test_transposed_conv_size_answers_garbage_in_one_line(capsys):
    exercises.check_transposed_conv_size("13", 4)
    assert "should be a number, got str" in one_line(capsys)
    exercises.check_transposed_conv_size(13, [4, 8])
    out = verdict(capsys)
    assert out.startswith("Correct!") and out.splitlines()[-1].startswith(
        "Not yet: the number of layers from 4 to 64 wide should be a number"
    )


@pytest.mark.slow
def test_dress_share_takes_the_share_as_printed_and_names_the_wrong_flip(capsys, fashion):
    from course.quality import dressness

    dresses = fashion.dresses("test")[:200]
    flipped = upside_down(dresses)
    share, upright, mirrored = (
        dressness(flipped),
        dressness(dresses),
        dressness(np.ascontiguousarray(dresses[:, :, ::-1])),
    )
    assert min(abs(share - upright), abs(share - mirrored)) > 0.05, (
        share,
        upright,
        mirrored,
    )  # far enough apart to tell
    for right in (round(share, 2), round(share, 3), torch.tensor([share], dtype=torch.float32), np.float32(share)):
        exercises.check_dress_share(right, flipped)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_dress_share(upright, flipped)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the right way up" in out and "samples[:, ::-1]" in out
    exercises.check_dress_share(round(mirrored, 3), flipped)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "mirrors the samples left to right" in out
    exercises.check_dress_share(round(share - 0.03, 3), flipped)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Hint" not in out
    exercises.check_dress_share(round(100 * share), flipped)
    assert "not a count or a percentage" in verdict(capsys)
    for odd in ("abc", np.array([share, share]), object()):
        exercises.check_dress_share(odd, flipped)
        assert "should be a number" in one_line(capsys)


def test_nearest_distance_takes_the_distance_as_printed_and_names_the_slips(capsys, fashion):
    dresses = fashion.dresses("test")[:50]
    sample, others = dresses[0], dresses[1:]
    exact = np.linalg.norm(others.reshape(49, -1) / 255 - sample.reshape(1, -1) / 255, axis=1).min()
    for right in (round(exact, 2), round(exact, 3), torch.tensor([exact]), np.float32(exact)):
        exercises.check_nearest_distance(right, sample, others)
        assert verdict(capsys).startswith("Correct!"), right
    wrapped = np.linalg.norm((others.reshape(49, -1) - sample.reshape(1, -1)) / 255, axis=1).min()
    exercises.check_nearest_distance(wrapped, sample, others)
    assert "wraps around" in verdict(capsys)
    exercises.check_nearest_distance(round(exact**2, 2), sample, others)
    assert "squared distance" in verdict(capsys)
    exercises.check_nearest_distance(0.0, sample, others)  # the sample itself left among the others
    out = verdict(capsys)
    assert out.startswith("Not yet") and "distance to itself" in out and "samples[1:]" in out
    for odd in ("abc", np.array([exact, exact]), object()):
        exercises.check_nearest_distance(odd, sample, others)
        assert "should be a number" in one_line(capsys)


# Exercise 6.4: the discriminator's move, written by the learner


def _discriminator_move(smoothing=0.1, detach=True, zero_grad=True, step=True, by_hand=False):
    """A discriminator move with one of the usual slips (or none)."""
    import torch

    from course import gan

    def move(discriminator, d_optimizer, real, fake):
        real_scores, fake_scores = discriminator(real), discriminator(fake.detach() if detach else fake)
        if by_hand:
            real_p, fake_p = torch.sigmoid(real_scores), torch.sigmoid(fake_scores)
            loss = -(0.9 * torch.log(real_p) + 0.1 * torch.log(1 - real_p)).mean() - torch.log(1 - fake_p).mean()
        else:
            loss = gan.discriminator_loss("dcgan", real_scores, fake_scores, smoothing)
        if zero_grad:
            d_optimizer.zero_grad()
        if step:
            loss.backward()
            d_optimizer.step()
        return loss

    return move


@pytest.mark.parametrize(
    "move, expected",
    [
        (_discriminator_move(), "Correct!"),
        (_discriminator_move(by_hand=True), "Correct!"),
        (_discriminator_move(smoothing=0.0), "target is 0.9, not 1"),
        (_discriminator_move(detach=False), "fake.detach()"),
        (_discriminator_move(zero_grad=False), "zero_grad"),
        (_discriminator_move(step=False), "did not move"),
        (lambda *args: None, "returns None"),
        (lambda *args: 1 / 0, "raised ZeroDivisionError"),
        (lambda *args: "loss", "got str"),
        (3, "should be a function"),
        (None, "Not answered yet"),
    ],
)
def test_the_discriminator_move_check_accepts_right_moves_and_names_each_slip(move, expected, capsys):
    exercises.check_discriminator_move(move)
    out = capsys.readouterr().out
    assert expected in out, out
    assert ("Correct!" in out) == (expected == "Correct!")


def _move_with(slip):
    """A discriminator move with one of the slips a probe of the check found."""
    from course import gan

    def move(discriminator, d_optimizer, real, fake):
        if slip == "detach in place":
            fake.detach_()
        if slip == "one pass":
            scores = discriminator(torch.cat([real, fake.detach()]))
            real_scores, fake_scores = scores[: len(real)], scores[len(real) :]
        elif slip == "scores detached":
            real_scores, fake_scores = discriminator(real), discriminator(fake).detach()
        elif slip == "no_grad fakes":
            real_scores = discriminator(real)
            with torch.no_grad():
                fake_scores = discriminator(fake)
        else:
            real_scores, fake_scores = discriminator(real), discriminator(fake.detach())
        loss = gan.discriminator_loss("dcgan", real_scores, fake_scores, 0.1)
        d_optimizer.zero_grad()
        loss.backward()
        d_optimizer.step()
        return loss

    return move


@pytest.mark.parametrize(
    "slip, expected",
    [
        ("detach in place", "detached the fakes themselves, in place"),
        ("one pass", "batch norm's statistics"),
        ("scores detached", "the fakes' term sent no gradient"),
        ("no_grad fakes", "the fakes' term sent no gradient"),
    ],
)
def test_the_discriminator_move_check_names_the_slips_a_probe_found(slip, expected, capsys):
    exercises.check_discriminator_move(_move_with(slip))
    out = verdict(capsys)
    assert expected in out and "Correct!" not in out, out
