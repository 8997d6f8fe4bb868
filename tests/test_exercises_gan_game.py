"""Notebook 05's checks.

The best discriminator and its loss at a point, the generator's gradients, the best discriminator, and the modes
covered.

The densities and samples are small and built by hand.
"""

import numpy as np
import pytest
import torch
from test_exercises_answers import normal, one_line, ring_centres, samples_on_modes, verdict

from course import exercises


@pytest.mark.parametrize(
    "call",
    [
        lambda: exercises.check_best_discriminator_loss(None, None),
        lambda: exercises.check_best_discriminator_loss(0.25, None),
        lambda: exercises.check_generator_gradients(None, -0.8),
        lambda: exercises.check_optimal_discriminator(None, None, normal(1.5), normal(0.0)),
        lambda: exercises.check_modes_covered(None, samples_on_modes([10]), ring_centres(), 0.05, 0.02),
    ],
    ids=["best", "best-loss", "gradients", "optimal", "modes"],
)
def test_gan_checks_call_none_not_answered(capsys, call):
    assert call() is None
    out = verdict(capsys)
    assert out.startswith("Not answered yet") and "Correct!" not in out and "Not yet" not in out


def test_best_discriminator_where_fakes_are_three_times_as_dense_is_one_quarter(capsys):
    best = 1 / (1 + 3)
    exercises.check_best_discriminator_loss(best, -np.log(best) - np.log(1 - best))
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "D*(x): 0.25." in out and "1.674" in out
    exercises.check_best_discriminator_loss(torch.tensor(0.25), torch.log(torch.tensor(16 / 3)))
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_best_discriminator_loss(0.75, np.log(16 / 3))  # the fakes' share
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the fakes' share" in out and "loss" not in out
    exercises.check_best_discriminator_loss(1 / 3, np.log(16 / 3))  # real over fake density
    assert "not by the fakes' density alone" in verdict(capsys)
    exercises.check_best_discriminator_loss(0.5, np.log(4))  # the equilibrium's answers
    out = verdict(capsys)
    assert out.startswith("Not yet: D*(x): 0.5 is too large") and "Hint" not in out
    for loss, hint in [
        (np.log(4), "the real sample's term alone"),
        (np.log(4 / 3), "the fake's term alone"),
        (-np.log(16 / 3), "positive"),
        (np.log10(16 / 3), "natural logarithm"),
        (np.log2(16 / 3), "natural logarithm"),
        (np.log(4) + 3 * np.log(4 / 3), "one real sample and one fake"),
    ]:
        exercises.check_best_discriminator_loss(0.25, loss)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "Not yet: the discriminator's loss" in out and hint in out, (loss, out)
    exercises.check_best_discriminator_loss(0.25, 1.0)
    out = verdict(capsys)
    assert "too small" in out and "Hint" not in out
    exercises.check_best_discriminator_loss(0.25, -0.5)  # negative, but no known slip
    assert "positive" in verdict(capsys)


def test_best_discriminator_takes_rounded_answers_and_other_densities(capsys):
    for best, loss in [
        (0.25, 1.67),
        (0.250, 1.674),
        (np.array([0.25]), np.float32(np.log(16 / 3))),
        (1 / 4, torch.tensor([np.log(16 / 3)])),
    ]:
        exercises.check_best_discriminator_loss(best, loss)
        assert verdict(capsys).count("Correct!") == 2, (best, loss)
    exercises.check_best_discriminator_loss(0.25, 1.39)  # the real sample's term, rounded
    assert "the real sample's term alone" in verdict(capsys)
    exercises.check_best_discriminator_loss(0.25, 0.73)  # log10, rounded
    assert "natural logarithm" in verdict(capsys)
    exercises.check_best_discriminator_loss(0.75, 1.67)
    assert "the fakes' share" in verdict(capsys)
    exercises.check_best_discriminator_loss(0.5, np.log(4), fakes_per_real=1.0)  # the equilibrium
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "1.386" in out
    exercises.check_best_discriminator_loss(0.5, np.log(2), fakes_per_real=1.0)
    assert "term alone" in verdict(capsys)
    for odd in ("abc", object(), [0.25, 0.25], np.array([0.25, 0.25]), torch.nn.Linear):
        exercises.check_best_discriminator_loss(odd, 1.674)
        assert "should be a number" in one_line(capsys)
    for odd in ("abc", torch.zeros(2), float("nan")):
        exercises.check_best_discriminator_loss(0.25, odd)
        out = verdict(capsys)
        assert out.startswith("Correct!") and out.count("Not yet") == 1 and "Traceback" not in out and "Hint" not in out


def test_generator_gradients_are_taken_with_respect_to_the_logit(capsys):
    logit = torch.logit(torch.tensor(0.2)).requires_grad_()
    (minimax,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(logit)), logit)
    (non_saturating,) = torch.autograd.grad(-torch.log(torch.sigmoid(logit)), logit)
    exercises.check_generator_gradients(minimax, non_saturating)
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "At D(G(z)) = 0.2" in out and "4 times harder" in out
    exercises.check_generator_gradients(0.2, 0.8)  # the sizes without the sign
    out = verdict(capsys)
    assert out.startswith("Not yet") and "gradient is negative" in out and out.count("Not yet") == 1
    exercises.check_generator_gradients(-1 / 0.8, -1 / 0.2)  # with respect to D(G(z)) instead of the logit
    out = verdict(capsys)
    assert out.startswith("Not yet") and "with respect to D(G(z)) itself" in out
    exercises.check_generator_gradients(-0.8, -0.2)  # swapped
    out = verdict(capsys)
    assert (
        out.startswith("Not yet: the minimax loss's gradient: -0.8 is too small")
        and "the non-saturating loss's gradient;" in out
    )
    exercises.check_generator_gradients(-0.2, -0.2)
    out = verdict(capsys)
    assert (
        out.startswith("Correct!")
        and "Not yet: the non-saturating" in out
        and "that is the minimax loss's gradient" in out
    )
    exercises.check_generator_gradients(-0.2, -1 / 0.2)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet: the non-saturating" in out and "with respect to D(G(z))" in out
    exercises.check_generator_gradients(-0.2, -0.5)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "too large" in out and "Hint" not in out
    exercises.check_generator_gradients(-0.01, -0.99, fake_score=0.01)
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "99 times harder" in out
    exercises.check_generator_gradients(
        -0.5, -0.5, fake_score=0.5
    )  # where the two coincide, no hint can tell them apart
    assert verdict(capsys).count("Correct!") == 2


def test_generator_gradients_take_one_element_tensors(capsys):
    for minimax, non_saturating in [
        (torch.tensor([-0.2]), np.array([-0.8])),
        (-0.2, torch.tensor([[-0.8]])),
        (np.float32(-0.2), -0.8),
        (-0.20, -0.80),
    ]:
        exercises.check_generator_gradients(minimax, non_saturating)
        assert verdict(capsys).count("Correct!") == 2
    exercises.check_generator_gradients(torch.tensor([0.2]), -0.8)
    assert "gradient is negative" in verdict(capsys)
    exercises.check_generator_gradients(-0.2, np.array([-5.0]))
    assert "with respect to D(G(z)) itself" in verdict(capsys)
    exercises.check_generator_gradients(torch.tensor(-0.2, requires_grad=True), -0.8)  # a tensor autograd still follows
    assert verdict(capsys).count("Correct!") == 2
    for odd in ("abc", torch.zeros(2), object(), torch.Tensor):
        exercises.check_generator_gradients(odd, -0.8)
        assert "should be a number" in one_line(capsys)


def test_optimal_discriminator_at_one_and_where_it_is_one_half(capsys):
    real, fake = normal(1.5), normal(0.0)  # equal densities at x = 0.75
    p, q = real(1.0), fake(1.0)
    exercises.check_optimal_discriminator(p / (p + q), 0.75, real, fake)
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "D*(0.75) = 0.500" in out
    exercises.check_optimal_discriminator(np.float64(p / (p + q)), torch.tensor(0.76), real, fake)  # close enough
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_optimal_discriminator(q / (p + q), 0.75, real, fake)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the fakes' share" in out and "D*(0.75)" not in out
    exercises.check_optimal_discriminator(p / q, 0.75, real, fake)
    assert "not by the fakes' density alone" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), 3.0, real, fake)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet: D*(3)" in out and "real samples are denser" in out
    exercises.check_optimal_discriminator(p / (p + q), -1.0, real, fake)
    assert "fakes are denser" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), 100.0, real, fake)
    assert "neither real nor fake samples" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), "0.75", real, fake)
    assert "should be a number, got str" in verdict(capsys)


def test_optimal_discriminator_takes_the_answer_as_printed(capsys):
    real, fake = normal(1.5), normal(0.0)
    p, q = real(1.0), fake(1.0)
    value = p / (p + q)
    assert f"{value:.4f}" == "0.5927"
    for right in (0.59, 0.593, round(value, 4), np.array([value]), torch.tensor([value])):
        exercises.check_optimal_discriminator(right, np.array([0.75]), real, fake)
        assert verdict(capsys).count("Correct!") == 2, right
    for wrong in (0.58, 0.595):
        exercises.check_optimal_discriminator(wrong, 0.75, real, fake)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "Hint" not in out
    exercises.check_optimal_discriminator(round(q / (p + q), 2), 0.75, real, fake)
    assert "the fakes' share" in verdict(capsys)
    exercises.check_optimal_discriminator(round(p / q, 3), 0.75, real, fake)
    assert "not by the fakes' density alone" in verdict(capsys)
    for odd in ("abc", np.array([0.7, 0.8]), object(), float("nan")):
        exercises.check_optimal_discriminator(value, odd, real, fake)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "Not yet: the point should be a number" in out and out.count("\n") == 2


def test_optimal_discriminator_accepts_a_crossing_given_to_the_precision_it_is_given(capsys):
    # Notebook 05's densities: two narrow modes against a wide forger; where D* = 1/2 it changes fast.
    def real(x):
        return (np.exp(-0.5 * ((x + 2) / 0.5) ** 2) / 3 + 2 * np.exp(-0.5 * ((x - 2) / 0.5) ** 2) / 3) / (
            0.5 * np.sqrt(2 * np.pi)
        )

    def fake(x):
        return np.exp(-0.5 * (x / 1.5) ** 2) / (1.5 * np.sqrt(2 * np.pi))

    grid = np.linspace(0.5, 2.0, 150_001)
    crossing = grid[np.argmin(np.abs(real(grid) / (real(grid) + fake(grid)) - 0.5))]
    value = real(1.0) / (real(1.0) + fake(1.0))
    exercises.check_optimal_discriminator(value, round(float(crossing), 1), real, fake)
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_optimal_discriminator(value, round(float(crossing), 1) + 0.3, real, fake)
    assert "Not yet: D*" in verdict(capsys)


def test_modes_covered_counts_modes_with_enough_samples(capsys):
    samples = samples_on_modes([60, 30, 10])  # shares 0.6, 0.3 and 0.1 on modes 0, 1 and 2
    exercises.check_modes_covered(3, samples, ring_centres(), 0.05, min_share=1 / 16)
    assert verdict(capsys).startswith("Correct! the number of modes covered at a share of 0.0625: 3")
    exercises.check_modes_covered(np.int64(2), torch.tensor(samples), torch.tensor(ring_centres()), 0.05, min_share=0.2)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(3, samples, ring_centres(), 0.05, min_share=0.2)  # the count under the 2% rule
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "the 2% rule" in out
    exercises.check_modes_covered(8, samples, ring_centres(), 0.05, min_share=1 / 16)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "every mode of the data" in out
    exercises.check_modes_covered(1, samples, ring_centres(), 0.05, min_share=1 / 16)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "Hint" not in out
    far_away = samples + 0.5  # every sample 0.7 away from its centre: more than 3 standard deviations
    exercises.check_modes_covered(0, far_away, ring_centres(), 0.05, min_share=1 / 16)  # as after a very short run
    out = verdict(capsys)
    assert out.startswith("Correct!") and "cannot tell them apart" in out
    exercises.check_modes_covered(2, samples, ring_centres(), 0.05, min_share=0.2)  # 2 by this rule, 3 by the 2% rule
    out = verdict(capsys)
    assert out.startswith("Correct!") and "cannot tell" not in out


def test_modes_covered_works_on_the_line(capsys):
    samples = np.concatenate([np.full(30, -2.1), np.full(70, 2.2)]).reshape(-1, 1)
    exercises.check_modes_covered(2, samples, np.array([[-2.0], [2.0]]), 0.5, min_share=0.02)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(1, samples.ravel(), np.array([-2.0, 2.0]), 0.5, min_share=0.5)  # flat arrays too
    assert verdict(capsys).startswith("Correct!")


def test_modes_covered_takes_one_element_answers(capsys):
    samples = samples_on_modes([60, 30, 10])
    exercises.check_modes_covered(torch.tensor([3]), samples, ring_centres(), 0.05, min_share=1 / 16)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(np.array([8]), samples, ring_centres(), 0.05, min_share=1 / 16)
    assert "every mode of the data" in verdict(capsys)
    exercises.check_modes_covered([3, 3], samples, ring_centres(), 0.05, min_share=1 / 16)
    assert "should be a number, got list" in one_line(capsys)
