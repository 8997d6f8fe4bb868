"""Exercise checks: each prints "Correct!" or what is off, and never gives the answer away.

A check prints one line (and sometimes a hint) and returns nothing, so the notebook cell shows
only the verdict. An answer still left as `None` is reported as not answered yet, not as wrong.
Any other input, of whatever type or shape, gets one line saying what was expected, never a traceback.

Numbers. A Python number, a NumPy scalar, and an array, tensor or Series holding one element all
count as a number; a sequence of numbers may be a list, a tuple, an array, a tensor or a Series.
One rule decides whether a number is right: it is accepted when it matches the right value to the
precision it was given with (half a unit in its last digit: 0.94 accepts 0.935 to 0.945; the digits
are read from the shortest form of the number, so 0.25 counts as two decimals), or within the
check's small relative tolerance, whichever is looser; but a precision coarser than 5% of the right
value does not widen the tolerance (one significant digit is too few), and a value closer to one of
the typical wrong answers the check knows than to the right one is never accepted. A wrong number
that matches a typical wrong answer by the same rule gets the hint that names that mistake.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

NOT_ANSWERED = "Not answered yet: replace the None values above with your answers and run the cell again."
COARSEST_PRECISION = 0.05  # a precision given counts only down to 5% of the right value


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _hint(text: str) -> None:
    print(f"  Hint: {text}")


def _unanswered(*answers: object) -> bool:
    if any(answer is None for answer in answers):
        print(NOT_ANSWERED)
        return True
    return False


def _one_element(value: object) -> bool:
    size = getattr(value, "size", None)
    if callable(size):  # a torch tensor
        size = value.numel() if hasattr(value, "numel") else None
    return size == 1 and hasattr(value, "item")


def _as_plain_number(value: object) -> object:
    """A NumPy scalar, or an array, tensor or Series holding one element, as a Python number; anything else unchanged."""
    if _one_element(value):
        try:
            return value.item()
        except (TypeError, ValueError, RuntimeError):
            return value
    return value


def _is_number(value: object) -> bool:
    value = _as_plain_number(value)
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    """The answer as a float if it is one number (see the module's rule), else None."""
    if not _is_number(value):
        return None
    try:
        return float(_as_plain_number(value))
    except OverflowError:  # a whole number too large for a float
        return float("inf")


def _as_array(value: object, keep_dtype: bool = False) -> np.ndarray | None:
    """A list, tuple, array, tensor or Series of numbers as a float array (or in its own dtype); None for anything else."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, wherever it lives
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.dtype.kind not in "iuf":
        return None
    return array if keep_dtype else array.astype(float)


def _half_unit(value: object) -> float:
    """Half a unit in the last digit of `value` as it was given: 0.5 for a whole number (24 or 24.0), 0.005 for 0.94."""
    dtype = str(getattr(value, "dtype", ""))
    plain = _as_plain_number(value)
    if isinstance(plain, (int, np.integer)):
        return 0.5
    number = float(plain)
    if not math.isfinite(number):
        return 0.0
    if "float16" in dtype:
        text = str(np.float16(number))
    elif "float32" in dtype:
        text = str(np.float32(number))
    else:
        text = repr(number)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0"))  # 24.0 was given to units, like 24
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def _matches(value: float, half_unit: float, target: float, rel_tol: float, abs_tol: float, others: Iterable[float] = ()) -> bool:
    """The module's rule: `value`, given to `half_unit`, stands for `target` and not for any of `others`."""
    if not (math.isfinite(value) and math.isfinite(target)):
        return False
    distance = abs(value - target)
    tolerance = max(rel_tol * abs(target), abs_tol, min(half_unit, COARSEST_PRECISION * abs(target)))
    if distance > tolerance * (1 + 1e-9):  # a value on the edge, 0.63 for 0.625, rounds to it
        return False
    return distance == 0 or all(distance < abs(value - other) for other in others if math.isfinite(other))


def _close(answer: object, expected: float, name: str, rel_tol: float, abs_tol: float = 0.0,
           mistakes: Iterable[tuple[float, str]] = ()) -> bool:  # fmt: skip
    """Print whether `answer` is `expected` by the module's rule; if not, which way it is off and the hint of the mistake it matches."""
    value = _number(answer)
    if value is None:
        return _verdict(False, f"{name} should be a number, got {_describe(answer)}.")
    mistakes = [(float(wrong), hint) for wrong, hint in mistakes]
    half_unit = _half_unit(answer)
    if _matches(value, half_unit, expected, rel_tol, abs_tol, [wrong for wrong, _ in mistakes]):
        return _verdict(True, f"{name}: {_shown(value)}.")
    if not math.isfinite(value):
        _verdict(False, f"{name} is {value}, not a number you can compare.")
    else:
        _verdict(False, f"{name}: {_shown(value)} is {'too large' if value > expected else 'too small'}.")
    for index, (wrong, hint) in enumerate(mistakes):
        others = [expected] + [other for other_index, (other, _) in enumerate(mistakes) if other_index != index]
        if _matches(value, half_unit, wrong, rel_tol, abs_tol, others):
            _hint(hint)
            break
    return False


def _distinct(mistakes: Iterable[tuple[float, str]], expected: float) -> list[tuple[float, str]]:
    """The typical wrong answers that differ from the right one (at a small scale several can coincide with it)."""
    return [(wrong, hint) for wrong, hint in mistakes if math.isfinite(wrong) and not math.isclose(wrong, expected, rel_tol=1e-6, abs_tol=1e-9)]


def _shown(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _describe(answer: object) -> str:
    """The answer's type, with the shape of an array or tensor."""
    shape = getattr(answer, "shape", None)
    if shape is not None and not _one_element(answer):
        return f"{type(answer).__name__} of shape {tuple(shape)}"
    return type(answer).__name__


# ---------------------------------------------------------------------------------------------
# Notebook 00: how exercises work
# ---------------------------------------------------------------------------------------------


def check_dress_count(answer: object, fashion) -> None:
    """Exercise 0.1: how many training images are dresses?"""
    if _unanswered(answer):
        return
    test_count = len(fashion.dresses("test"))
    _close(answer, len(fashion.dresses("train")), "the number of training dresses", rel_tol=0,
           mistakes=[(test_count, "that is the test split; count the training images.")])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Notebook 01: a straight line through house prices
# ---------------------------------------------------------------------------------------------


def _least_squares(columns: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    """Weights of target ~ intercept + columns, by least squares."""
    design = np.column_stack([np.ones(len(target)), *columns])
    weights, *_ = np.linalg.lstsq(design, np.asarray(target, dtype=float), rcond=None)
    return weights


def check_log_log(slope: object, intercept: object, housing: pd.DataFrame) -> None:
    """Exercise 1.1: the line through log(price) against log(lotsize)."""
    if _unanswered(slope, intercept):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    true_intercept, true_slope = _least_squares([log_lotsize], np.log(housing["price"]))
    _, price_slope = _least_squares([log_lotsize], housing["price"])
    price_mistake = (price_slope, "that is the slope with price itself on the left; take the log of price too.")
    if _close(slope, true_slope, "the slope", rel_tol=0.01, mistakes=[price_mistake]):
        _close(intercept, true_intercept, "the intercept", rel_tol=0.01)


def check_bedroom_price(coefficient: object, housing: pd.DataFrame) -> None:
    """Exercise 1.2: the bedrooms coefficient in price ~ log(lotsize) + bedrooms."""
    if _unanswered(coefficient):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    weights = _least_squares([log_lotsize, housing["bedrooms"].to_numpy(dtype=float)], housing["price"])
    if not _close(coefficient, weights[2], "the difference per bedroom at the same lot size", rel_tol=0.01) and _is_number(coefficient):
        value = _number(coefficient)
        if value is not None and math.isfinite(value) and abs(value - weights[2]) <= 0.05 * abs(weights[2]):
            _hint("close: the method is right; give the coefficient as the fit prints it, to the dollar, not rounded.")
        else:
            _hint("fit both inputs together in one model, with an intercept, on all 546 sales.")


def check_diverging_learning_rate(learning_rate: object, threshold: object, sales: int = 546) -> None:
    """Exercise 1.3: a learning rate at which gradient descent blows up, and where blowing up starts (a round number).

    The lesson standardises with the sample standard deviation (ddof=1), so the mean of x² over the n sales is
    (n - 1) / n, and each step multiplies the weight's distance to its best value by 1 - 2 * rate * (n - 1) / n:
    the error shrinks up to a rate of n / (n - 1) (546/545, about 1.0018 for the 546 sales) and grows above it.
    The threshold may be given as that number or rounded to 1.
    """
    if _unanswered(learning_rate, threshold):
        return
    rate, limit = _number(learning_rate), _number(threshold)
    if rate is None or limit is None:
        _verdict(False, "both answers should be numbers: a learning rate and the rate where blowing up starts.")
        return
    if not math.isfinite(rate):
        _verdict(False, f"the learning rate should be a finite number, got {rate}: gradient descent cannot take a step with it.")
        return
    mean_square = (sales - 1) / sales
    exact = sales / (sales - 1)
    factor = abs(1 - 2 * rate * mean_square)
    if rate < 0:
        _verdict(False, f"at learning rate {rate:g} every step goes uphill, so the loss grows for a reason other than overshooting.")
        _hint("a learning rate is positive; find a positive rate so large that each step overshoots the minimum.")
    elif factor <= 1:
        _verdict(False, f"at learning rate {rate:g} each step shrinks the error (x{factor:.4f}); it does not blow up.")
        if 1 <= rate <= exact:
            _hint(f"on data standardised with ddof=1 the mean of x² is {sales - 1}/{sales}, so blowing up starts only above "
                  f"{sales}/{sales - 1} ≈ {exact:.4f}; a rate a little further above 1 shows it.")  # fmt: skip
    elif not _matches(limit, _half_unit(threshold), exact, rel_tol=0.0, abs_tol=2 * (exact - 1), others=[0.5, 2.0]):
        _verdict(False, f"{rate:g} does blow up, but the threshold {limit:g} is off: try rates between 0.5 and 2.")
        if _matches(limit, _half_unit(threshold), 0.5, rel_tol=0.01, abs_tol=0.0, others=[exact]):
            _hint(
                "at about 0.5 (rate x curvature = 1) a step lands right on the minimum; above it the steps overshoot, "
                "but the error still shrinks until rate x curvature = 2."
            )
        elif _matches(limit, _half_unit(threshold), 2.0, rel_tol=0.01, abs_tol=0.0, others=[exact]):
            _hint(
                "blowing up starts where rate x curvature = 2, and the curvature of the mean squared error on standardised data "
                "is about 2, not 1 (the square's derivative brings a factor 2)."
            )
    else:
        _verdict(True, f"at {rate:g} each step multiplies the error by {factor:.2f}: more than 1, so the error grows at every step.")


# ---------------------------------------------------------------------------------------------
# Notebook 02: learning the transform
# ---------------------------------------------------------------------------------------------


def check_parameter_count(answer: object, model) -> None:
    """Exercise 2.1: how many numbers does the network learn? (every weight and every bias)"""
    if _unanswered(answer):
        return
    total = sum(p.numel() for p in model.parameters())
    weights_only = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
    _close(answer, total, "the number of parameters", rel_tol=0, mistakes=[(weights_only, "that counts the weights; every unit also has a bias.")])


def check_channels_first(answer: object, picture: np.ndarray) -> None:
    """Exercise 2.2: the picture as PyTorch wants it, channels first: a float tensor (3, H, W) in [0, 1]."""
    import torch

    if _unanswered(answer):
        return
    if not isinstance(answer, torch.Tensor):
        _verdict(False, f"the answer should be a torch tensor, got {type(answer).__name__}.")
        return
    height, width, channels = picture.shape
    if tuple(answer.shape) != (channels, height, width):
        hint = " (that is still height x width x channels: move the channel axis to the front)" if tuple(answer.shape) == picture.shape else ""
        _verdict(False, f"the shape should be {(channels, height, width)}, got {tuple(answer.shape)}{hint}.")
        return
    if answer.is_complex() or answer.dtype == torch.bool:
        _verdict(False, f"the values should be float32 numbers between 0 and 1, got dtype {answer.dtype}.")
        return
    values = answer.detach().cpu().double()
    expected = torch.from_numpy(picture).permute(2, 0, 1).double() / 255
    if not answer.is_floating_point() or values.max() > 1:
        _verdict(False, "the values should be floats between 0 and 1: divide the 0-255 levels by 255.")
        return
    precision = 2 * torch.finfo(answer.dtype).eps
    if torch.allclose(values, expected, rtol=precision, atol=1e-6):
        if answer.dtype in (torch.float16, torch.bfloat16):
            _verdict(False, f"the axes and the scale are right, but the dtype is {answer.dtype}: the network's weights are float32, so use .float().")
            return
        _verdict(True, f"shape {tuple(answer.shape)}: red, green and blue, each a {height}x{width} grey image.")
        return
    if not torch.allclose(values.flatten().sort().values, expected.flatten().sort().values, rtol=precision, atol=1e-6):
        scale = float(values.max() / expected.max()) if expected.max() > 0 else float("nan")
        if math.isfinite(scale) and scale > 0 and torch.allclose(values, scale * expected, rtol=precision, atol=1e-6):
            brightest = float(values.max())
            _verdict(False, f"the axes are right, but the scale is off (the brightest value is {brightest:.4g}): divide the 0-255 levels by 255.")
        else:
            _verdict(False, "the values differ from the picture's levels divided by 255: start from the picture itself, divided by 255.")
        return
    _verdict(
        False,
        "the shape is right but the pixels are mixed up: the axes must come in the order channels, "
        "height, width, moved with permute (reshape keeps the numbers' order and scrambles the picture).",
    )


def check_dress_confusion(answer: object, matrix: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Exercise 2.3: which other class are true dresses most often predicted as?"""
    if _unanswered(answer):
        return
    answer = _as_plain_number(answer)  # a one-element array or Series holding the name
    dress = class_names.index("Dress")
    row = np.array(matrix[dress], copy=True)
    row[dress] = -1
    if not isinstance(answer, str) or answer not in class_names:
        _verdict(False, f"answer with one of the class names: {', '.join(class_names)}.")
    elif answer == "Dress":
        _verdict(False, "leave out the diagonal: the question is which *other* class dresses are mistaken for.")
    else:
        count = matrix[dress, class_names.index(answer)]
        _verdict(count == row.max(), f"{count} test dresses were predicted as {answer}.")
        column = np.array(matrix[:, dress], copy=True)
        column[dress] = -1
        if count != row.max() and answer == class_names[int(column.argmax())]:
            _hint("that is the class most often *mistaken for* a dress (a column); read the Dress row instead.")


# ---------------------------------------------------------------------------------------------
# Notebook 03: convolutions
# ---------------------------------------------------------------------------------------------


def check_conv_output_size(size_without_padding: object, padding_to_keep_size: object) -> None:
    """Exercise 3.1: a 5x5 kernel on a 28x28 image: the output size without padding, and the padding that keeps 28."""
    if _unanswered(size_without_padding, padding_to_keep_size):
        return
    window = [(23, "count the positions where a 5-wide window fits in 28 pixels, the first and the last included.")]
    if _close(size_without_padding, 28 - 5 + 1, "the output size without padding", rel_tol=0, mistakes=window):
        total = [(4, "4 is the padding of both sides together; padding= adds that many pixels on *each* side, so give half.")]
        _close(padding_to_keep_size, 2, "the padding that keeps 28x28", rel_tol=0, mistakes=total)


def check_horizontal_edge_kernel(kernel: object) -> None:
    """Exercise 3.2: a 3x3 kernel that answers to horizontal edges (dark above, light below) and not to vertical ones."""
    import torch
    from torch.nn import functional as F

    if _unanswered(kernel):
        return
    try:
        kernel = torch.as_tensor(kernel.detach().cpu() if isinstance(kernel, torch.Tensor) else kernel, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        _verdict(False, "the kernel should be a 3x3 grid of numbers: a list of three lists of three numbers.")
        return
    if kernel.shape != (3, 3):
        _verdict(False, f"the kernel should be 3x3, got shape {tuple(kernel.shape)}.")
        return
    if not torch.isfinite(kernel).all():
        _verdict(False, "the kernel should hold finite numbers, not nan or inf.")
        return
    flat = torch.ones(1, 1, 9, 9)
    horizontal_edge = torch.zeros(1, 1, 9, 9)
    horizontal_edge[..., 5:, :] = 1  # light below row 5
    vertical_edge = horizontal_edge.transpose(2, 3)
    respond = lambda image: F.conv2d(image, kernel.view(1, 1, 3, 3)).abs().max().item()  # noqa: E731
    if respond(flat) > 1e-6:
        _verdict(False, "the kernel answers to an even, edgeless image: its numbers should add up to zero.")
    elif respond(horizontal_edge) < 1e-6:
        _verdict(False, "the kernel gives nothing on a horizontal edge: weigh the row above against the row below.")
    elif respond(vertical_edge) > 0.1 * respond(horizontal_edge):
        _verdict(False, "the kernel also answers to vertical edges: make each column of the kernel add up to zero.")
    else:
        _verdict(True, "it lights up on horizontal edges and stays dark on vertical ones.")


def check_class_recall(answer: object, matrix: np.ndarray, class_names: tuple[str, ...], class_name: str = "Dress") -> None:
    """Exercise 3.3: the share of true dresses that the network calls dresses (the recall of the class)."""
    if _unanswered(answer):
        return
    index = class_names.index(class_name)
    recall = matrix[index, index] / matrix[index].sum()
    precision = matrix[index, index] / matrix[:, index].sum()
    mistakes = [
        (precision, "that divides by the column (everything *called* a dress); divide by the row (every true dress)."),
        (100 * recall, "give a share between 0 and 1, not a count or a percentage."),
        (matrix[index, index], "give a share between 0 and 1, not a count or a percentage."),
    ]
    if not _close(answer, recall, f"the recall of {class_name}", rel_tol=1e-3, abs_tol=0.005, mistakes=mistakes):
        value = _number(answer)
        if value is not None and value > 1 and not any(_matches(value, _half_unit(answer), wrong, 1e-3, 0.005) for wrong, _ in mistakes):
            _hint("give a share between 0 and 1, not a count or a percentage.")


# ---------------------------------------------------------------------------------------------
# Notebook 04: transfer learning
# ---------------------------------------------------------------------------------------------


def check_trainable_count(answer: object, model) -> None:
    """Exercise 4.1: how many of the transfer model's parameters are still trained?"""
    if _unanswered(answer):
        return
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    _close(answer, trainable, "the number of trainable parameters", rel_tol=0,
           mistakes=[(total, "that is every parameter; leave out those with requires_grad == False.")])  # fmt: skip


def check_only_output_trainable(model) -> None:
    """Exercise 4.2: freeze everything except the output layer (classifier[-1]).

    `freeze` works in place and returns None, so a learner who kept its result passes None: the answer
    to None says so beside the usual "not answered yet".
    """
    from torch import nn

    if model is None:
        print(NOT_ANSWERED)
        print("  (If you wrote strict_model = freeze(...): freeze works in place and returns None. Keep the model "
              "transfer_model gives, freeze its layers, and pass that model.)")  # fmt: skip
        return
    if not isinstance(model, nn.Module):
        _verdict(False, f"the answer should be the model, with its layers frozen in place, got {type(model).__name__}.")
        return
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Sequential) or len(classifier) == 0:
        _verdict(False, f"the answer should be the whole transfer model (it has a classifier), got a {type(model).__name__} without one.")
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


def check_smallest_paired_difference(answer: object, results: pd.DataFrame, budget: int, method: str, baseline: str) -> None:
    """Exercises 4.3 and 8.2: the smallest, over the draws, of `method` minus `baseline` in test accuracy (same seed) at `budget`."""
    if _unanswered(answer):
        return
    draws = _draws(results, budget, method, baseline)
    differences = draws[method] - draws[baseline]
    expected = float(differences.min())
    pairing = "pair each draw's two runs (same seed), subtract, and take the smallest of those differences."
    mistakes = _distinct([
        (float(draws[method].mean() - draws[baseline].mean()), f"that is the difference of the means over the draws; {pairing}"),
        (float(differences.max()), "that is the largest of the per-draw differences; the question asks for the smallest."),
        (-expected, f"{method} minus {baseline}, not the other way round."),
        (float(draws[method].min() - draws[baseline].max()), f"that sets the worst {method} run against the best {baseline} run; {pairing}"),
        (100 * expected, "give it as a share (0.03 for 3 points), not in percentage points."),
    ], expected)  # fmt: skip
    draws_told = "one draw" if len(draws) == 1 else f"{len(draws)} draws"
    if _close(answer, expected, f"the smallest per-draw difference over {draws_told}", rel_tol=1e-3, abs_tol=1e-4, mistakes=mistakes):
        ahead = int((differences > 0).sum())
        print(f"  {method} is ahead of {baseline} in {ahead} of the {len(draws)} draw(s) at {budget} labels per class.")


# ---------------------------------------------------------------------------------------------
# Notebook 05: the GAN game
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Notebook 06: a DCGAN that dreams up dresses
# ---------------------------------------------------------------------------------------------


def check_transposed_conv_size(width_after_first: object, width_after_a_third: object) -> None:
    """Exercise 6.1: output widths of transposed convolutions with kernel 4, stride 2, padding 1."""
    if _unanswered(width_after_first, width_after_a_third):
        return

    def mistakes(width: int) -> list[tuple[int, str]]:
        formula = f"(w - 1)·s - 2p + k with w = {width}, s = 2, p = 1, k = 4"
        return [
            ((width - 1) * 2 - 1 + 4, f"the padding comes off both sides: {formula}, so subtract 2p = 2, not p."),
            ((width - 1) * 2 + 4, f"{formula}; mind the 2p."),
            ((width - 1) * 2 - 2 + 4 - 1, f"{formula}; mind the 2p."),
        ]

    if _close(width_after_first, (7 - 1) * 2 - 2 + 4, "the width after the first transposed convolution", rel_tol=0, mistakes=mistakes(7)):
        _close(width_after_a_third, (28 - 1) * 2 - 2 + 4, "the width a third one would make from 28", rel_tol=0, mistakes=mistakes(28))


def check_dress_share(answer: object, samples: np.ndarray) -> None:
    """Exercise 6.2: the share of samples the course's classifier calls Dress."""
    from course.quality import dressness

    if _unanswered(answer):
        return
    share = dressness(samples)
    if share in (0.0, 1.0):
        print(
            f"(The classifier calls {'none' if share == 0 else 'all'} of these {len(samples)} samples dresses, as after a very short run:"
            " a slip in the class or the scaling may give the same share. Samples from the laptop scale test your code for real.)"
        )
    mistakes = [(100 * share, "give a share between 0 and 1, not a count or a percentage.")]
    count = round(share * len(samples))
    if count > 1:
        mistakes.append((count, "give a share between 0 and 1, not a count or a percentage."))
    if not _close(answer, share, "the dressness of the samples", rel_tol=1e-3, abs_tol=0.002, mistakes=mistakes):
        value = _number(answer)
        if value is not None and value > 1 and not any(_matches(value, _half_unit(answer), wrong, 1e-3, 0.002) for wrong, _ in mistakes):
            _hint("give a share between 0 and 1, not a count or a percentage.")


def check_nearest_distance(answer: object, sample: np.ndarray, training_images: np.ndarray) -> None:
    """Exercise 6.3: the distance from one sample to its nearest training image, pixels scaled to 0-1."""
    if _unanswered(answer):
        return
    training, sample = np.asarray(training_images), np.asarray(sample)
    differences = training.reshape(len(training), -1) / 255 - sample.reshape(1, -1) / 255
    distance = np.linalg.norm(differences, axis=1).min()
    mistakes = [
        (distance * 255, "that is in grey levels 0-255; divide the pixels by 255 first."),
        (distance**2, "that is the squared distance; take the square root."),
    ]
    if training.dtype == np.uint8 and sample.dtype == np.uint8:
        wrapped = (training.reshape(len(training), -1) - sample.reshape(1, -1)) / 255  # uint8 arithmetic wraps around below 0
        wrap = "the images are uint8, so a difference below 0 wraps around to 256 minus it: divide by 255 (or use .astype(float)) before subtracting."
        mistakes.append((np.linalg.norm(wrapped, axis=1).min(), wrap))
    _close(answer, distance, "the distance to the nearest training dress", rel_tol=1e-3, mistakes=mistakes)


# ---------------------------------------------------------------------------------------------
# Notebook 07: Wasserstein GANs
# ---------------------------------------------------------------------------------------------


def check_gradient_penalty(answer: object, slope: float = 0.1, weight: float = 10.0) -> None:
    """Exercise 7.1: the gradient penalty of the critic f(x) = slope * (sum of the 784 pixels)."""
    if _unanswered(answer):
        return
    gradient_norm = slope * math.sqrt(28 * 28)
    mistakes = [
        ((gradient_norm - 1) ** 2, f"the penalty is multiplied by its weight, {weight:g}."),
        (weight * (slope * 28 * 28 - 1) ** 2, "the gradient's norm is the square root of the sum of its 784 squared entries."),
    ]
    _close(answer, weight * (gradient_norm - 1) ** 2, "the gradient penalty", rel_tol=1e-3, mistakes=mistakes)


def check_improvement_factor(answer: object, stages: pd.DataFrame) -> None:
    """Exercise 7.2: the distance over the floor at a run's first measured stage divided by that at its last."""
    if _unanswered(answer):
        return
    distances = stages["distance_over_floor"].to_numpy(dtype=float)
    if len(distances) < 2:
        print("This run was measured at one stage only, so nothing can have changed yet: run the notebook at the laptop scale to answer.")
        return
    first, last = distances[0], distances[-1]
    expected = first / last
    mistakes = _distinct([
        (last / first, "first divided by last, so that a factor above 1 means the distance fell."),
        (first - last, "a factor is a division, not a difference."),
        (first / distances.min(), "that divides by the best stage on the way; the question is about the last one."),
        (distances[-2] / last, "that is the last stage against the one before it; start from the first stage."),
    ], expected)  # fmt: skip
    if _close(answer, expected, "the factor", rel_tol=1e-3, mistakes=mistakes):
        print(
            f"  From step {stages.index[0]:,} to step {stages.index[-1]:,} the distance went from {first:.1f} to {last:.1f} times the floor"
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
        _verdict(value is not None and math.isnan(value), "one of the two series is constant here, so the rank correlation is nan (undefined).")
        return
    pearson = np.corrcoef(signal_values, distance_values)[0, 1]
    misaligned = "pandas pairs two Series by their index, and these have different ones; use .to_numpy() on one of them so the values pair up by position."
    mistakes = [(pearson, "that is Pearson's correlation of the values; Spearman's correlates their ranks.")]
    if isinstance(distance, pd.Series) and not distance.index.equals(pd.RangeIndex(len(distance))):
        paired_by_index = pd.Series(signal_values).corr(distance, method="spearman")
        if math.isfinite(paired_by_index) and not math.isclose(paired_by_index, expected, abs_tol=1e-9):
            mistakes.append((paired_by_index, misaligned))
    if not _close(answer, expected, "the rank correlation", rel_tol=1e-6, abs_tol=1e-6, mistakes=_distinct(mistakes, expected)):
        value = _number(answer)
        if value is not None and math.isnan(value):
            _hint(f"a correlation of nan means no pairs of values lined up: {misaligned}")


# ---------------------------------------------------------------------------------------------
# Notebook 08: what the discriminator gives back
# ---------------------------------------------------------------------------------------------


def check_real_image_loss(answer: object, num_classes: int = 5) -> None:
    """Exercise 8.1: -log(1 - p(fake)) for a real image whose K + 1 scores are all 0."""
    if _unanswered(answer):
        return
    mistakes = [
        (math.log(num_classes + 1), "that is -log p(fake), the loss of a fake; a real image pays -log(1 - p(fake))."),
        (1 / (num_classes + 1), "that is p(fake) itself; the loss is -log(1 - p(fake))."),
    ]
    _close(answer, math.log((num_classes + 1) / num_classes), "the real image's loss", rel_tol=1e-3, mistakes=mistakes)


def check_largest_gain(answer: object, results: pd.DataFrame, fewest: int, most: int) -> None:
    """Exercise 8.3: the method whose mean test accuracy rises most from `fewest` to `most` labels per class."""
    if _unanswered(answer):
        return
    answer = _as_plain_number(answer)  # a one-element array or Series holding the name
    means = results.groupby(["labels_per_class", "method"])["test_accuracy"].mean().unstack("method")
    if fewest not in means.index or most not in means.index:
        print(f"These results have no runs at {fewest} and {most} labels per class: run the notebook at the laptop scale to answer.")
        return
    gains = means.loc[most] - means.loc[fewest]
    if not isinstance(answer, str) or answer not in gains.index:
        _verdict(False, f"answer with one of the methods: {', '.join(map(repr, gains.index))}.")
        return
    best = str(gains.idxmax())
    if _verdict(answer == best, f"{answer!r} rises by {gains[answer]:+.1%} from {fewest} to {most} labels per class."):
        return
    if answer == str(means.loc[most].idxmax()):
        _hint(f"that method is the most accurate at {most} labels per class; the question is how much each one gained on the way from {fewest}.")
    elif answer == str(gains.idxmin()):
        _hint("that method gained the least; look for the largest rise.")
    else:
        _hint(f"for each method, mean test accuracy at {most} labels per class minus that at {fewest}; take the largest.")


# ---------------------------------------------------------------------------------------------
# Notebook 09
# ---------------------------------------------------------------------------------------------


def _array_half_unit(raw: np.ndarray) -> float:
    """The finest precision among the numbers of an array, each read as in `_half_unit`."""
    units = [_half_unit(number) for number in np.asarray(raw).ravel()]
    return min(units) if units else 0.0


def _arrays_match(values: np.ndarray, half_unit: float, target: np.ndarray, abs_tol: float, others: Iterable[np.ndarray] = ()) -> bool:
    """The module's rule, number by number, for an array; the 5% limit is taken of the target's largest number."""
    if not (np.isfinite(values).all() and values.shape == target.shape):
        return False
    scale = float(np.abs(target).max()) if target.size else 0.0
    tolerance = max(abs_tol, min(half_unit, COARSEST_PRECISION * scale))
    distance = float(np.abs(values - target).max()) if target.size else 0.0
    if distance > tolerance * (1 + 1e-9):
        return False
    return distance == 0 or all(distance < float(np.abs(values - other).max()) for other in others)


def _coarsely_rounded(values: np.ndarray, half_unit: float, target: np.ndarray, abs_tol: float) -> bool:
    """True when the numbers match only because of a precision coarser than the rule accepts."""
    return not _arrays_match(values, half_unit, target, abs_tol) and _arrays_match(values, half_unit, target, abs_tol=max(abs_tol, half_unit))


def check_class_precision(answer: object, asked: object, judged: object, num_classes: int = 10) -> None:
    """Exercise 9.1: for each class, the share of the images judged to be that class that were asked for as it (nan if never judged so)."""
    if _unanswered(answer):
        return
    asked, judged = np.asarray(asked), np.asarray(judged)
    chosen = np.array([(judged == k).any() for k in range(num_classes)])
    expected = np.array([(asked[judged == k] == k).mean() if chosen[k] else np.nan for k in range(num_classes)])
    recall = np.array([(judged[asked == k] == k).mean() if (asked == k).any() else np.nan for k in range(num_classes)])
    raw = _as_array(answer, keep_dtype=True)
    if raw is None or raw.shape != (num_classes,):
        _verdict(False, f"answer with {num_classes} numbers, one precision per class (a share from 0 to 1).")
        return
    values, half_unit = raw.astype(float), _array_half_unit(raw)
    if not np.array_equal(np.isnan(values), ~chosen):
        never = [str(k) for k in range(num_classes) if not chosen[k]]
        told = (
            f"the judge never chose class {', '.join(never)}: put np.nan there, and a share everywhere else."
            if never
            else ("every class was chosen at least once, so every precision is a number: divide by the count of images judged to be k, never by 0.")
        )
        _verdict(False, told)
        return
    recall_differs = np.isfinite(recall[chosen]).all() and not np.allclose(recall[chosen], expected[chosen], rtol=0, atol=1e-9)
    correct = _arrays_match(values[chosen], half_unit, expected[chosen], abs_tol=1e-6, others=[recall[chosen]] if recall_differs else [])
    if not _verdict(correct, f"the mean over the classes the judge chose is {np.nanmean(values):.1%}."):
        if recall_differs and _arrays_match(values[chosen], half_unit, recall[chosen], abs_tol=1e-6, others=[expected[chosen]]):
            _hint("that is each class's accuracy, shown above (divided by the images asked to be k); precision divides by the images judged to be k.")
        elif _coarsely_rounded(values[chosen], half_unit, expected[chosen], 1e-6):
            _hint("the method is right, but the numbers are rounded too coarsely to tell: keep at least two significant digits.")
        elif _arrays_match(values[chosen], half_unit, 100 * expected[chosen], abs_tol=1e-4):
            _hint("give each precision as a share between 0 and 1, not a percentage.")
        else:
            _hint("for class k, keep the images with judged == k and compute the share with asked == k.")


def check_noise_step(answer: object, noise: object, direction: object, amount: float) -> None:
    """Exercise 9.2: the noise vector moved `amount` along the unit vector of `direction`."""
    if _unanswered(answer):
        return
    noise, direction = np.asarray(noise, dtype=float), np.asarray(direction, dtype=float)
    expected = noise + amount * direction / np.linalg.norm(direction)
    not_unit = noise + amount * direction
    raw = _as_array(answer, keep_dtype=True)
    if raw is None or raw.shape != expected.shape:
        _verdict(False, f"answer with one vector of {len(expected)} numbers, the moved noise.")
        return
    values, half_unit = raw.astype(float), _array_half_unit(raw)
    if not np.isfinite(values).all():
        _verdict(False, "the vector holds nan or inf; compute it again from the noise and the direction.")
        return
    correct = _arrays_match(values, half_unit, expected, abs_tol=1e-5, others=[not_unit])
    if not _verdict(correct, f"it is {np.linalg.norm(values - noise):.3g} away from where it started."):
        step, unit = values - noise, direction / np.linalg.norm(direction)
        if _arrays_match(values, half_unit, not_unit, abs_tol=1e-5, others=[expected]):
            _hint("divide the direction by its length first, so the amount alone says how far you go.")
        elif _coarsely_rounded(values, half_unit, expected, 1e-5):
            _hint("the step is right, but the numbers are rounded too coarsely to tell: keep at least two significant digits.")
        elif np.allclose(step, -amount * unit, atol=1e-4):
            _hint("that step goes against the direction: add amount times the unit vector, do not subtract it.")
        elif abs(np.linalg.norm(step) - abs(amount)) <= 1e-3 * max(1.0, abs(amount)):
            _hint(f"the step is {abs(amount):g} long, as it should be, but it does not point along the direction: "
                  "move along direction divided by its length.")  # fmt: skip
        else:
            _hint(f"the step should be {abs(amount):g} long and point along the direction: noise + amount * direction / its length.")


def check_crop_box(answer: object, width: int, height: int, size: int) -> None:
    """Exercise 9.3: (left, top, right, bottom) of the centre square once the shorter side is scaled to `size`."""
    if _unanswered(answer):
        return
    shorter = min(width, height)
    scaled_width, scaled_height = max(size, round(width * size / shorter)), max(size, round(height * size / shorter))
    left, top = (scaled_width - size) // 2, (scaled_height - size) // 2
    expected = (left, top, left + size, top + size)
    numbers = _as_array(answer)
    if numbers is None or numbers.shape != (4,) or not (np.isfinite(numbers).all() and (numbers == np.round(numbers)).all()):
        _verdict(False, "answer with four whole numbers: (left, top, right, bottom).")
        return
    box = tuple(int(number) for number in numbers)
    lefts, tops = {left, (scaled_width - size + 1) // 2}, {top, (scaled_height - size + 1) // 2}  # two, when the spare pixels are odd
    centred = box[0] in lefts and box[1] in tops and (box[2] - box[0], box[3] - box[1]) == (size, size)
    other = "" if box == expected else f" (the loader takes {expected}: with an odd number of spare pixels, both are centred)"
    if not _verdict(centred, f"the box {box} in the {scaled_width}x{scaled_height} scaled picture{other}."):
        _hint(f"the picture becomes {scaled_width}x{scaled_height}; the square is {size} wide and centred in it.")


# ---------------------------------------------------------------------------------------------
# Notebook 08: the unlabelled loss, written by the learner
# ---------------------------------------------------------------------------------------------


def _one_line(error: Exception) -> str:
    """An exception as a short, single line: its type and the first line of its message."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = message if len(message) <= 120 else message[:117] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _loss_value(function, real_logits, fake_logits) -> tuple[float | None, str]:
    """What `function(real_logits, fake_logits)` returns, as a float; else None and why it is not one number ("" if it returned None)."""
    import torch

    try:
        value = function(real_logits.clone(), fake_logits.clone())
    except Exception as error:  # the learner's code may raise anything
        return None, f"calling it on two batches of scores raised {_one_line(error)}."
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            per_image = " (one per image? take the mean over each batch)" if value.ndim == 1 else ""
            return None, f"it should return one number (a tensor with one element), got a tensor of shape {tuple(value.shape)}{per_image}."
        return float(value.detach().cpu().double().reshape(())), ""
    if _is_number(value):
        return float(_as_plain_number(value)), ""
    if value is None:
        return None, ""
    return None, f"it should return one number (a tensor with one element), got {type(value).__name__}."


def _never_a_traceback(check):
    """For a check that runs the learner's code: anything that code leaves behind that the check cannot read (a network
    turned to double, a sparse or meta tensor) ends the check with one line, not a traceback."""

    @functools.wraps(check)
    def guarded(*answers):
        try:
            return check(*answers)
        except Exception as error:  # the learner's code may have changed the networks or returned anything
            _verdict(False, f"your answer left something the check cannot read ({_one_line(error)}): keep the networks and "
                            "tensors as they are given (no .double(), no sparse or meta tensors), and return an ordinary tensor.")  # fmt: skip

    return guarded


def _call_learner(function, arguments: tuple, call: str, returns: str) -> tuple[bool, object]:
    """Run the learner's function: (True, what it returned), or (False, None) once it printed why there is nothing to check."""
    try:
        returned = function(*arguments)
    except Exception as error:  # the learner's code may raise anything
        _verdict(False, f"calling {call} raised {_one_line(error)}.")
        return False, None
    if returned is None:
        print(f"Not answered yet: your function returns None; write its body, return {returns} and run the cell again.")
        return False, None
    return True, returned


@_never_a_traceback
def check_unlabelled_loss(answer: object) -> None:
    """Exercise 8.4: a function of (real_logits, fake_logits), each (N, K + 1), giving the unlabelled loss.

    The loss is -mean log(1 - p(fake)) over the real images plus -mean log p(fake) over the fakes, with p the
    softmax of the K + 1 scores, "fake" last. It is compared with course.semi_supervised.unlabelled_loss on
    random scores, then on extreme ones, where forming the probabilities first overflows.
    """
    import torch

    from course.semi_supervised import unlabelled_loss

    if _unanswered(answer):
        return
    if not callable(answer):
        _verdict(False, f"the answer should be a function of (real_logits, fake_logits) that returns one number, got {type(answer).__name__}.")
        return
    draws = torch.Generator().manual_seed(8)
    real, fake = 2 * torch.randn(7, 6, generator=draws), 2 * torch.randn(5, 6, generator=draws)  # batches of different sizes
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
            (fake_term, "the real images' term is missing or 0. A softmax over the K class scores alone sums to 1: normalise over all K + 1, fake included."),
            (real_term, "the fakes' term, -log p(fake) averaged over the fakes, is missing."),
            (no_normaliser, "log(1 - p(fake)) is logsumexp of the K class scores minus logsumexp of all K + 1 scores: subtract the second."),
            (summed, "that sums over the images; take the mean over each batch, then add the two means."),
            (pooled, "one mean over both batches weighs them by their sizes; average each batch on its own, then add the two."),
            (real_as_fake, "a real image should come out *not* fake: its term is -log(1 - p(fake)), not -log p(fake)."),
            (swapped, "the roles are swapped: real images pay -log(1 - p(fake)), fakes pay -log p(fake)."),
        ]
        for wrong, hint in mistakes:
            if math.isfinite(value) and math.isclose(value, wrong, rel_tol=1e-4, abs_tol=1e-5):
                print(f"  Hint: {hint}")
                break
        return
    extreme_real = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 30.0]])  # p(fake) rounds to 1 in float32
    extreme_fake = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, -120.0]])  # p(fake) rounds to 0
    extreme, problem = _loss_value(answer, extreme_real, extreme_fake)
    expected_extreme = unlabelled_loss(extreme_real, extreme_fake).item()
    if extreme is None or not (math.isfinite(extreme) and math.isclose(extreme, expected_extreme, rel_tol=1e-4)):
        shown = f"it gives {extreme:.4g} instead of {expected_extreme:.4g}." if extreme is not None else problem or "it returns None."
        _verdict(False, f"right on ordinary scores, but not on the extreme scores (0, 0, 0, 0, 0, 30) and (0, 0, 0, 0, 0, -120): {shown}")
        print("  Hint: a probability that rounds to 0 or 1 has no useful log; compute the logs with logsumexp (or log_softmax), never log(softmax).")
        return
    _verdict(True, f"your loss matches the course's on random scores ({value:.4f}) and on extreme ones ({extreme:.2f}).")


# ---------------------------------------------------------------------------------------------
# Notebook 06: the discriminator's move, written by the learner
# ---------------------------------------------------------------------------------------------


@_never_a_traceback
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

    if _unanswered(answer):
        return
    if not callable(answer):
        _verdict(False, f"the answer should be a function of (discriminator, d_optimizer, real, fake), got {type(answer).__name__}.")
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
    answered, returned = _call_learner(answer, (theirs, their_optimizer, real, fake), "move(discriminator, d_optimizer, real, fake)", "the loss")
    if not answered:
        return
    value = _as_plain_number(returned.detach() if isinstance(returned, torch.Tensor) and returned.numel() == 1 else returned)
    if not _is_number(value):
        _verdict(False, f"move should return the loss, one number (a tensor with one element), got {type(returned).__name__}.")
        return
    value, wanted = float(value), expected.item()
    if not math.isclose(value, wanted, rel_tol=1e-4, abs_tol=1e-6):
        _verdict(False, f"your loss is {value:.4f} for these scores; the discriminator's loss is {wanted:.4f}.")
        ones, zeros = torch.ones_like(real_scores), torch.zeros_like(fake_scores)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        mistakes = [
            (bce(real_scores, ones) + bce(fake_scores, zeros), "the real images' target is 0.9, not 1 (one-sided label smoothing)."),
            (bce(real_scores, 0.9 * ones) + bce(fake_scores, 0.1 + zeros), "only the real images' target is smoothed: the fakes' target stays 0."),
            (-expected, "a loss to minimise is minus the log-likelihood: check the sign."),
            (bce(real_scores, 0.9 * ones), "the fakes' term, with target 0, is missing."),
            (bce(fake_scores, zeros), "the real images' term, with target 0.9, is missing."),
            (bce(real_scores, zeros) + bce(fake_scores, 0.9 + zeros), "the targets are swapped: real images aim at 0.9, fakes at 0."),
            (bce(torch.cat([real_scores, fake_scores]), torch.cat([0.9 * ones, zeros])), "one mean over both batches halves the loss: average each, then add."),
        ]
        with torch.no_grad():  # both batches through the network at once: batch norm's statistics mix them
            joint = copy.deepcopy(start)(torch.cat([real, fake.detach()]))
        one_pass = gan.discriminator_loss("dcgan", joint[: len(real)], joint[len(real) :], label_smoothing=0.1)
        mistakes.append((one_pass, "scoring both batches in one call mixes them in batch norm's statistics, which changes every score: "
                                   "score the real images and the fakes in two calls."))  # fmt: skip
        for wrong, hint in mistakes:
            if math.isclose(value, wrong.item(), rel_tol=1e-4, abs_tol=1e-6):
                print(f"  Hint: {hint}")
                break
        return
    if any(parameter.grad is not None and parameter.grad.abs().sum() > 0 for parameter in generator.parameters()):
        _verdict(False, "the loss is right, but the generator got gradients: score `fake.detach()`, so this move leaves the generator alone.")
        return
    if not fake.requires_grad:
        _verdict(False, "the loss is right, but `fake.detach_()` detached the fakes themselves, in place: the generator's move after it "
                        "can no longer learn from them. Use `fake.detach()`, which makes a new tensor.")  # fmt: skip
        return
    unchanged = all(torch.equal(a, b) for a, b in zip(theirs.parameters(), before, strict=True))
    moved_like_ours = all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(theirs.parameters(), ours.parameters(), strict=True))
    if not moved_like_ours:
        if unchanged:
            _verdict(False, "the loss is right, but the weights did not move: call loss.backward() and then this move's d_optimizer.step().")
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
        if all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(theirs.parameters(), real_only.parameters(), strict=True)):
            print("  Hint: the fakes' term sent no gradient: detach the fakes before scoring them (discriminator(fake.detach())), "
                  "not the scores after, and do not score them under torch.no_grad().")  # fmt: skip
        elif all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(theirs.parameters(), kept.parameters(), strict=True)):
            print("  Hint: the gradients left over from an earlier move were added in: call d_optimizer.zero_grad() before loss.backward().")
        else:
            print("  Hint: zero_grad, backward, then step, all on this move's d_optimizer and its loss.")
        return
    _verdict(True, f"your move gives the course's loss ({value:.4f}) and the same new weights, and leaves the generator alone.")


# ---------------------------------------------------------------------------------------------
# Notebook 07: the gradient penalty, written by the learner
# ---------------------------------------------------------------------------------------------


def _probe_points():
    """Real and fake images of very different sizes, and where between them the penalty looks: gradient lengths that differ."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(8)
        real, fake, mix = torch.randn(8, 3, 6, 6), torch.randn(8, 3, 6, 6), torch.rand(8, 1, 1, 1)
    return real * torch.linspace(0.05, 0.6, 8).view(8, 1, 1, 1), fake * 0.1, mix


class _SquareCritic:
    """f(x) = half the sum of squares of x's pixels, per image: its gradient at x is x itself (a torch module in all but name)."""

    def __call__(self, images):
        return 0.5 * (images**2).flatten(1).sum(dim=1)

    def parameters(self):
        return iter(())


@_never_a_traceback
def check_penalty_function(answer: object) -> None:
    """Exercise 7.4: a function penalty(critic, real, fake, mix) giving WGAN-GP's gradient penalty, weight 10 by default.

    It is run on random three-channel images and a small random critic beside `course.gan.gradient_penalty`,
    from the same points; a wrong number is compared with the usual mistakes, and a right one must also
    let the critic learn from it (the gradient taken with create_graph=True).
    """
    import torch
    from torch import nn

    from course import gan

    if _unanswered(answer):
        return
    if not callable(answer):
        _verdict(False, f"the answer should be a function of (critic, real, fake, mix) that returns the penalty, got {type(answer).__name__}.")
        return
    with torch.random.fork_rng():  # the learner's random numbers stay as they were
        torch.manual_seed(7)
        critic = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 6 * 6, 1))
        real, fake, mix = torch.randn(8, 3, 6, 6), torch.randn(8, 3, 6, 6), torch.rand(8, 1, 1, 1)
        expected = gan.gradient_penalty(critic, real, fake, mix).item()
        call = "penalty(critic, real, fake, mix) on images (8, 3, 6, 6) and mix (8, 1, 1, 1)"
        answered, returned = _call_learner(answer, (critic, real.clone(), fake.clone(), mix.clone()), call, "the penalty")
    if not answered:
        return
    if isinstance(returned, torch.Tensor) and returned.numel() != 1:
        per_image = " (one per image? take the mean over the batch)" if returned.shape == (8,) else ""
        _verdict(False, f"it should return one number (a tensor with one element), got a tensor of shape {tuple(returned.shape)}{per_image}.")
        return
    value = _as_plain_number(returned.detach().cpu().double().reshape(()) if isinstance(returned, torch.Tensor) else returned)
    if not _is_number(value):
        _verdict(False, f"it should return one number (a tensor with one element), got {type(returned).__name__}.")
        return
    value = float(value)
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
            (10 * ((lengths**2 - 1) ** 2).mean(), "that uses the squared length; take the length itself, the square root of the sum of squares."),
            (10 * ((lengths + 1) ** 2).mean(), "the penalty is (length - 1)², zero at length 1: check the sign inside the square."),
            (10 * (gradient.norm() - 1) ** 2, "that is one length for the whole batch; take one per image, gradient.flatten(1).norm(dim=1)."),
            (10 * ((gradient.norm(dim=0) - 1) ** 2).mean(), "that takes lengths across the batch; take one per image: gradient.flatten(1).norm(dim=1)."),
            (10 * ((gradient.norm(dim=1) - 1) ** 2).mean(), "that takes a length per pixel, across the channels; take one per image: flatten(1) first."),
            (10 * ((gradient.norm(dim=(2, 3)) - 1) ** 2).mean(), "that takes a length per channel; take one per image, over all its channels: flatten(1)."),
            (10 * ((lengths - 1) ** 2).sum(), "that sums over the batch; take the mean over the images."),
            (10 * (lengths.mean() - 1) ** 2, "that squares the difference of the mean length; take the mean of each image's (length - 1)²."),
            (10 * (lengths.clamp(min=1) - 1).pow(2).mean(), "that is the one-sided penalty, zero under 1; WGAN-GP's penalises both sides."),
            (10 * ((swapped_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(), "the points are mix * real + (1 - mix) * fake: mix goes with the real images."),
            (10 * ((real_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(), "that is the gradient at the real images; take it between real and fake."),
        ]
        if value == 0:  # on this critic every length is under 1, so a one-sided penalty is 0 too: tell them apart on another
            real_sizes, fake_sizes, mix_sizes = _probe_points()
            answered, probe = _call_learner(answer, (_SquareCritic(), real_sizes, fake_sizes, mix_sizes), call, "the penalty")
            if not answered:
                return
            squares = (mix_sizes * real_sizes + (1 - mix_sizes) * fake_sizes).flatten(1).norm(dim=1)  # the square critic's lengths
            one_sided = (10 * (squares.clamp(min=1) - 1) ** 2).mean().item()
            got = _as_plain_number(probe.detach().double().reshape(()) if isinstance(probe, torch.Tensor) and probe.numel() == 1 else probe)
            if _is_number(got) and math.isclose(float(got), one_sided, rel_tol=1e-4, abs_tol=1e-6):
                print("  Hint: that is the one-sided penalty, zero under 1; WGAN-GP's penalises both sides.")
            else:
                print("  Hint: a penalty of exactly 0 means every gradient has length exactly 1; compute the lengths at the points between.")
            return
        for wrong, hint in mistakes:
            if math.isfinite(value) and math.isclose(value, wrong.item(), rel_tol=1e-4, abs_tol=1e-6):
                print(f"  Hint: {hint}")
                break
        return
    real, fake, mix = _probe_points()
    squares = _SquareCritic()  # its gradient at x is x, so the lengths are the points' own sizes
    for probe_critic, weight_given, what in [(critic, 3.0, "with weight=3"), (squares, 10.0, "on a critic whose gradient lengths differ from image to image")]:
        expected_here = gan.gradient_penalty(probe_critic, real, fake, mix, weight=weight_given).item()
        answered, probe = _call_learner(answer, (probe_critic, real.clone(), fake.clone(), mix.clone(), weight_given), call, "the penalty")
        if not answered:
            return
        got = _as_plain_number(probe.detach().cpu().double().reshape(()) if isinstance(probe, torch.Tensor) and probe.numel() == 1 else probe)
        if not (_is_number(got) and math.isfinite(float(got)) and math.isclose(float(got), expected_here, rel_tol=1e-4, abs_tol=1e-6)):
            _verdict(False, f"{what}, your penalty is {got if not _is_number(got) else f'{float(got):.4g}'}, the course's {expected_here:.4g}.")
            if weight_given != 10.0:
                print("  Hint: multiply by the weight argument, not by a fixed 10.")
            else:
                print("  Hint: take the mean of (length - 1)² over the images, not (mean length - 1)²: square each image's own difference first.")
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
        _verdict(False, f"the number is right ({value:.4f}), but no gradient reaches the critic's weights, so the critic cannot learn from it.")
        print("  Hint: take the gradient with torch.autograd.grad(..., create_graph=True), and return the tensor (no .item(), no .detach()).")
        return
    _verdict(True, f"your penalty matches the course's on a random critic ({value:.4f}), and the critic can learn from it.")
