"""Notebook 04's exercises: transfer learning (frozen layers, paired differences between draws)."""

from __future__ import annotations

import pandas as pd

from course.exercises.answers import NOT_ANSWERED, _close, _distinct, _kind, _unanswered, _verdict


def check_trainable_count(answer: object, model) -> None:
    """Exercise 4.1: how many of the transfer model's parameters are still trained?"""
    if _unanswered(answer):
        return
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    _close(
        answer,
        trainable,
        "the number of trainable parameters",
        rel_tol=0,
        mistakes=[(total, "that is every parameter; leave out those with requires_grad == False.")],
    )


def check_only_output_trainable(model) -> None:
    """Exercise 4.2: freeze everything except the output layer (classifier[-1]).

    `freeze` works in place and returns None, so a learner who kept its result passes None: the answer
    to None says so beside the usual "not answered yet".
    """
    from torch import nn

    if model is None:
        print(NOT_ANSWERED)
        print(
            "  (If you wrote strict_model = freeze(...): freeze works in place and returns None. Keep the model "
            "transfer_model gives, freeze its layers, and pass that model.)"
        )
        return
    if not isinstance(model, nn.Module):
        _verdict(False, f"the answer should be the model, with its layers frozen in place, got {_kind(model)}.")
        return
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Sequential) or len(classifier) == 0:
        _verdict(
            False,
            "the answer should be the whole transfer model (it has a classifier), "
            f"got a {type(model).__name__} without one.",
        )
        return
    output_layer = {id(p) for p in classifier[-1].parameters()}
    still_trained = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in output_layer]
    frozen_output = [name for name, p in classifier[-1].named_parameters() if not p.requires_grad]
    if still_trained:
        _verdict(False, f"these are still trained: {', '.join(still_trained)}.")
    elif frozen_output:
        _verdict(False, "the output layer is frozen too, so nothing would learn.")
    else:
        count = sum(p.numel() for p in classifier[-1].parameters())
        _verdict(True, f"only the output layer's {count} parameters are trained.")


def _draws(results: pd.DataFrame, budget: int, method: str, baseline: str) -> pd.DataFrame:
    """Test accuracy of `method` and `baseline` at `budget` labels per class, one row per draw (seed) that has both."""
    runs = results[results["labels_per_class"] == budget]
    return runs.pivot_table(index="seed", columns="method", values="test_accuracy")[[method, baseline]].dropna()


def check_smallest_paired_difference(
    answer: object, results: pd.DataFrame, budget: int, method: str, baseline: str
) -> None:
    """Exercises 4.3 and 8.2: the smallest, over the draws, of `method` minus `baseline` in test accuracy at `budget`.

    Each difference is between the two runs of the same seed.
    """
    if _unanswered(answer):
        return
    draws = _draws(results, budget, method, baseline)
    differences = draws[method] - draws[baseline]
    expected = float(differences.min())
    pairing = "pair each draw's two runs (same seed), subtract, and take the smallest of those differences."
    mistakes = _distinct(
        [
            (
                float(draws[method].mean() - draws[baseline].mean()),
                f"that is the difference of the means over the draws; {pairing}",
            ),
            (
                float(differences.max()),
                "that is the largest of the per-draw differences; the question asks for the smallest.",
            ),
            (-expected, f"{method} minus {baseline}, not the other way round."),
            (
                float(draws[method].min() - draws[baseline].max()),
                f"that sets the worst {method} run against the best {baseline} run; {pairing}",
            ),
            (100 * expected, "give it as a share (0.03 for 3 points), not in percentage points."),
        ],
        expected,
    )
    draws_told = "one draw" if len(draws) == 1 else f"{len(draws)} draws"
    if _close(
        answer,
        expected,
        f"the smallest per-draw difference over {draws_told}",
        rel_tol=1e-3,
        abs_tol=1e-4,
        mistakes=mistakes,
    ):
        ahead = int((differences > 0).sum())
        print(f"  {method} is ahead of {baseline} in {ahead} of the {len(draws)} draw(s) at {budget} labels per class.")
