"""Notebook 05's exercises: the GAN game (the best discriminator and its loss at a point, the generator's gradients,
where the best discriminator doubts, the modes covered)."""

from __future__ import annotations

import math

import numpy as np

from course.exercises.answers import (
    _close,
    _describe,
    _distinct,
    _half_unit,
    _hint,
    _matches,
    _number,
    _unanswered,
    _verdict,
)


def check_best_discriminator_loss(best_output: object, discriminator_loss: object, fakes_per_real: float = 3.0) -> None:
    """Exercise 5.1: at a point where fakes are `fakes_per_real` times as dense as real samples, the best
    discriminator's output D*(x), and its loss on one real sample and one fake both at that point,
    -log D*(x) - log(1 - D*(x)).
    """
    if _unanswered(best_output, discriminator_loss):
        return
    best = 1 / (1 + fakes_per_real)
    mistakes = [
        (
            fakes_per_real / (1 + fakes_per_real),
            "that is the fakes' share there; D* is the chance that a sample there is real.",
        ),
        (1 / fakes_per_real, "divide the real density by the sum of both densities, not by the fakes' density alone."),
    ]
    if not _close(best_output, best, "D*(x)", rel_tol=1e-3, abs_tol=1e-4, mistakes=_distinct(mistakes, best)):
        return
    real_term, fake_term = -math.log(best), -math.log(1 - best)
    loss = real_term + fake_term
    natural = "the losses use the natural logarithm (math.log, torch.log)."
    mistakes = [
        (real_term, "that is the real sample's term alone, -log D*(x); add the fake's, -log(1 - D*(x))."),
        (fake_term, "that is the fake's term alone, -log(1 - D*(x)); add the real sample's, -log D*(x)."),
        (-loss, "each term is minus the log of a number below 1, so the loss is positive."),
        (loss / math.log(10), natural),
        (loss / math.log(2), natural),
        (
            real_term + fakes_per_real * fake_term,
            "that weights the fake's term by the densities; take one real sample and one fake.",
        ),
    ]
    if not _close(
        discriminator_loss, loss, "the discriminator's loss", rel_tol=1e-3, mistakes=_distinct(mistakes, loss)
    ):
        value = _number(discriminator_loss)
        if value is not None and value < 0 and not _matches(value, _half_unit(discriminator_loss), -loss, 1e-3, 0.0):
            _hint("each term is minus the log of a number below 1, so the loss is positive.")


def check_generator_gradients(
    minimax_gradient: object, non_saturating_gradient: object, fake_score: float = 0.2
) -> None:
    """Exercise 5.2: each generator loss's gradient with respect to the discriminator's logit at D(G(z)) = fake_score.

    With D = sigmoid(logit): d/dlogit log(1 - D) = -D and d/dlogit (-log D) = -(1 - D).
    """
    if _unanswered(minimax_gradient, non_saturating_gradient):
        return
    expected = {"minimax": -fake_score, "non-saturating": -(1 - fake_score)}
    with_respect_to_d = {"minimax": -1 / (1 - fake_score), "non-saturating": -1 / fake_score}
    answers = {"minimax": minimax_gradient, "non-saturating": non_saturating_gradient}
    for name, other in (("minimax", "non-saturating"), ("non-saturating", "minimax")):
        mistakes = [
            (
                -expected[name],
                "the loss falls as the logit rises (the fake looks more real), so the gradient is negative.",
            ),
            (
                with_respect_to_d[name],
                "that is the gradient with respect to D(G(z)) itself; take it with respect to the logit.",
            ),
            (expected[other], f"that is the {other} loss's gradient; the {name} loss is the other one."),
        ]
        if not _close(
            answers[name],
            expected[name],
            f"the {name} loss's gradient",
            rel_tol=1e-3,
            mistakes=_distinct(mistakes, expected[name]),
        ):
            return
    ratio = expected["non-saturating"] / expected["minimax"]
    print(f"  At D(G(z)) = {fake_score:g} the non-saturating loss pushes the generator {ratio:.3g} times harder.")


def _density_at(density, x: float) -> float:
    return float(np.asarray(density(np.asarray([x], dtype=float)), dtype=float).ravel()[0])


def check_optimal_discriminator(value_at_one: object, point_of_doubt: object, real_density, fake_density) -> None:
    """Exercise 5.3: the best discriminator D*(x) = p_real(x) / (p_real(x) + p_fake(x)).

    Its value at x = 1, and a point where it is 1/2.
    """
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
        _verdict(
            False,
            f"at x = {x:g} neither real nor fake samples ever appear; look where the densities are not both zero.",
        )
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
        _verdict(
            False, f"D*({x:.3g}) = {value:.3f}: at that point {denser} denser; look where the two densities cross."
        )


def check_modes_covered(answer: object, samples: object, centres: object, std: float, min_share: float) -> None:
    """Exercise 5.4: how many modes hold at least `min_share` of the samples within 3 `std` of their centre?"""
    if _unanswered(answer):
        return
    from course.metrics import mode_shares

    shares = mode_shares(samples, centres, std)
    covered = int((shares >= min_share).sum())
    mistakes = []
    if not math.isclose(min_share, 0.02):
        mistakes.append(
            (int((shares >= 0.02).sum()), "that is the count with the 2% rule of the lesson; pass the stricter share.")
        )
    mistakes.append((len(shares), "that is every mode of the data; count only those the samples reach."))
    distinct = _distinct(mistakes, covered)
    blind = len(distinct) < len(mistakes)  # a slip that gives the right count cannot be told apart
    if (
        _close(
            answer, covered, f"the number of modes covered at a share of {min_share:.3g}", rel_tol=0, mistakes=distinct
        )
        and blind
    ):
        print(
            "  (With these samples a typical slip gives the same count, so this check cannot tell them apart; "
            "a snapshot from the laptop scale can.)"
        )
