"""Notebook 05's exercises: the GAN game (the equilibrium, the generator's gradients, the best discriminator, modes)."""

from __future__ import annotations

import math

import numpy as np

from course.exercises.answers import _close, _describe, _distinct, _half_unit, _hint, _matches, _number, _unanswered, _verdict


def check_equilibrium(discriminator_output: object, discriminator_loss: object) -> None:
    """Exercise 5.1: when the fakes are distributed exactly like the data, the best discriminator's output and its loss.

    The loss is the one the discriminator is trained on: -log D(x) on a real sample plus -log(1 - D(G(z))) on a fake.
    """
    if _unanswered(discriminator_output, discriminator_loss):
        return
    sure = "a real and a fake sample are equally likely at every point: how sure can the discriminator be?"
    if not _close(discriminator_output, 0.5, "the best discriminator's output", rel_tol=0, abs_tol=1e-3, mistakes=[(0.0, sure), (1.0, sure)]):
        return
    natural = "the losses use the natural logarithm (math.log, torch.log)."
    mistakes = [
        (math.log(2), "that is one half of it; add the loss on the real sample and the loss on the fake one."),
        (-2 * math.log(2), "each half is minus the log of a number below 1, so the loss is positive."),
        (2 * math.log10(2), natural),
        (2.0, natural),
    ]
    if not _close(discriminator_loss, 2 * math.log(2), "the discriminator's loss", rel_tol=1e-3, mistakes=mistakes):
        loss = _number(discriminator_loss)
        if loss is not None and loss < 0 and not _matches(loss, _half_unit(discriminator_loss), -2 * math.log(2), 1e-3, 0.0):
            _hint("each half is minus the log of a number below 1, so the loss is positive.")


def check_generator_gradients(minimax_gradient: object, non_saturating_gradient: object, fake_score: float = 0.01) -> None:
    """Exercise 5.2: each generator loss's gradient with respect to the discriminator's logit, where D(G(z)) = fake_score.

    With D = sigmoid(logit): d/dlogit log(1 - D) = -D and d/dlogit (-log D) = -(1 - D).
    """
    if _unanswered(minimax_gradient, non_saturating_gradient):
        return
    expected = {"minimax": -fake_score, "non-saturating": -(1 - fake_score)}
    with_respect_to_d = {"minimax": -1 / (1 - fake_score), "non-saturating": -1 / fake_score}
    answers = {"minimax": minimax_gradient, "non-saturating": non_saturating_gradient}
    for name, answer in answers.items():
        mistakes = [
            (-expected[name], "the loss falls as the logit rises (the fake looks more real), so the gradient is negative."),
            (with_respect_to_d[name], "that is the gradient with respect to D(G(z)) itself; take it with respect to the logit."),
        ]
        if not _close(answer, expected[name], f"the {name} loss's gradient", rel_tol=1e-3, mistakes=mistakes):
            return
    ratio = expected["non-saturating"] / expected["minimax"]
    print(f"  At D(G(z)) = {fake_score:g} the non-saturating loss pushes the generator {ratio:.0f} times harder.")


def _density_at(density, x: float) -> float:
    return float(np.asarray(density(np.asarray([x], dtype=float)), dtype=float).ravel()[0])


def check_optimal_discriminator(value_at_one: object, point_of_doubt: object, real_density, fake_density) -> None:
    """Exercise 5.3: the best discriminator D*(x) = p_real(x) / (p_real(x) + p_fake(x)) at x = 1, and a point where it is 1/2."""
    if _unanswered(value_at_one, point_of_doubt):
        return
    real, fake = _density_at(real_density, 1.0), _density_at(fake_density, 1.0)
    mistakes = [
        (fake / (real + fake), "that is the fakes' share; D* is the chance that the sample is real."),
        (real / fake, "divide by the sum of both densities, not by the fakes' density alone."),
    ]
    if not _close(value_at_one, real / (real + fake), "D* at x = 1", rel_tol=1e-3, abs_tol=1e-4, mistakes=mistakes):
        return
    x = _number(point_of_doubt)
    if x is None or not math.isfinite(x):
        _verdict(False, f"the point should be a number, got {_describe(point_of_doubt) if x is None else x}.")
        return
    real, fake = _density_at(real_density, x), _density_at(fake_density, x)
    if real + fake < 1e-12:
        _verdict(False, f"at x = {x:g} neither real nor fake samples ever appear; look where the densities are not both zero.")
        return
    value = real / (real + fake)

    def best_at(point: float) -> float | None:
        both = _density_at(real_density, point) + _density_at(fake_density, point)
        return _density_at(real_density, point) / both if both >= 1e-12 else None

    step = min(_half_unit(point_of_doubt), 0.5)  # a crossing within the precision the point was given to counts
    low, high = best_at(x - step), best_at(x + step)
    crossed = low is not None and high is not None and (low - 0.5) * (high - 0.5) <= 0
    if abs(value - 0.5) <= 0.02 or crossed:
        _verdict(True, f"D*({x:.3g}) = {value:.3f}: there, real and fake samples are equally dense.")
    else:
        denser = "real samples are" if value > 0.5 else "fakes are"
        _verdict(False, f"D*({x:.3g}) = {value:.3f}: at that point {denser} denser; look where the two densities cross.")


def check_modes_covered(answer: object, samples: object, centres: object, std: float, min_share: float) -> None:
    """Exercise 5.4: how many modes hold at least `min_share` of the samples within 3 standard deviations of their centre?"""
    if _unanswered(answer):
        return
    from course.metrics import mode_shares

    shares = mode_shares(samples, centres, std)
    covered = int((shares >= min_share).sum())
    mistakes = []
    if not math.isclose(min_share, 0.02):
        mistakes.append((int((shares >= 0.02).sum()), "that is the count with the 2% rule of the lesson; pass the stricter share."))
    mistakes.append((len(shares), "that is every mode of the data; count only those the samples reach."))
    distinct = _distinct(mistakes, covered)
    blind = len(distinct) < len(mistakes)  # a slip that gives the right count cannot be told apart
    if _close(answer, covered, f"the number of modes covered at a share of {min_share:.3g}", rel_tol=0, mistakes=distinct) and blind:
        print("  (With these samples a typical slip gives the same count, so this check cannot tell them apart; a snapshot from the laptop scale can.)")
