"""Exercise checks: each prints "Correct!" or what is off, and never gives the answer away.

A check prints one line (and sometimes a hint) and returns nothing, so the notebook cell shows
only the verdict. An answer still left as `None` is reported as not answered yet, not as wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

NOT_ANSWERED = "Not answered yet: replace the None values above with your answers and run the cell again."


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _unanswered(*answers: object) -> bool:
    if any(answer is None for answer in answers):
        print(NOT_ANSWERED)
        return True
    return False


def _as_plain_number(value: object) -> object:
    """A single-number NumPy array or torch tensor as a Python number; anything else unchanged."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _is_numeric_array(value: object) -> bool:
    """True for anything NumPy reads as an array of numbers (a list, an array, a CPU tensor)."""
    try:
        return np.asarray(value).dtype.kind in "iuf"
    except (TypeError, ValueError, RuntimeError):
        return False


def _is_number(value: object) -> bool:
    value = _as_plain_number(value)
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _close(answer: object, expected: float, name: str, rel_tol: float, abs_tol: float = 0.0) -> bool:
    """Print whether `answer` is within `rel_tol` (or `abs_tol`) of `expected`, and if not which way it is off."""
    answer = _as_plain_number(answer)
    if not _is_number(answer):
        return _verdict(False, f"{name} should be a number, got {type(answer).__name__}.")
    answer = float(answer)
    shown = f"{answer:,.0f}" if abs(answer) >= 1000 else f"{answer:.4g}"
    if math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return _verdict(True, f"{name}: {shown}.")
    direction = "too large" if answer > expected else "too small"
    return _verdict(False, f"{name}: {shown} is {direction}.")


# ---------------------------------------------------------------------------------------------
# Notebook 00: how exercises work
# ---------------------------------------------------------------------------------------------


def check_dress_count(answer: object, fashion) -> None:
    """Exercise 0.1: how many training images are dresses?"""
    if _unanswered(answer):
        return
    if not _close(answer, len(fashion.dresses("train")), "the number of training dresses", rel_tol=0):
        if _is_number(answer) and answer == len(fashion.dresses("test")):
            print("  Hint: that is the test split; count the training images.")


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
    if not _close(slope, true_slope, "the slope", rel_tol=0.01):
        _, price_slope = _least_squares([log_lotsize], housing["price"])
        if _is_number(slope) and math.isclose(float(slope), price_slope, rel_tol=0.01):
            print("  Hint: that is the slope with price itself on the left; take the log of price too.")
        return
    _close(intercept, true_intercept, "the intercept", rel_tol=0.01)


def check_bedroom_price(coefficient: object, housing: pd.DataFrame) -> None:
    """Exercise 1.2: the bedrooms coefficient in price ~ log(lotsize) + bedrooms."""
    if _unanswered(coefficient):
        return
    log_lotsize = np.log(housing["lotsize"].to_numpy(dtype=float))
    weights = _least_squares([log_lotsize, housing["bedrooms"].to_numpy(dtype=float)], housing["price"])
    if not _close(coefficient, weights[2], "the price of one more bedroom at the same lot size", rel_tol=0.01):
        print("  Hint: fit both inputs together in one model, with an intercept, on all 546 sales.")


def check_diverging_learning_rate(learning_rate: object, threshold: object) -> None:
    """Exercise 1.3: a learning rate at which gradient descent blows up, and where blowing up starts.

    For the mean squared error of a line on standardised data, each step multiplies the distance
    to the best weights by (1 - 2 * learning_rate): it shrinks below a rate of 1 and grows above.
    """
    if _unanswered(learning_rate, threshold):
        return
    if not (_is_number(learning_rate) and _is_number(threshold)):
        _verdict(False, "both answers should be numbers.")
        return
    factor = abs(1 - 2 * float(learning_rate))
    if factor <= 1:
        _verdict(False, f"at learning rate {learning_rate:g} each step shrinks the error (x{factor:.2f}); it does not blow up.")
    elif not math.isclose(float(threshold), 1.0, rel_tol=0.05):
        _verdict(False, f"{learning_rate:g} does blow up, but the threshold {threshold:g} is off: try rates between 0.5 and 2.")
    else:
        _verdict(True, f"at {learning_rate:g} each step multiplies the error by {factor:.2f}; above 1, every step overshoots.")


# ---------------------------------------------------------------------------------------------
# Notebook 02: learning the transform
# ---------------------------------------------------------------------------------------------


def check_parameter_count(answer: object, model) -> None:
    """Exercise 2.1: how many numbers does the network learn? (every weight and every bias)"""
    if _unanswered(answer):
        return
    total = sum(p.numel() for p in model.parameters())
    if not _close(answer, total, "the number of parameters", rel_tol=0):
        weights_only = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
        if _is_number(answer) and answer == weights_only:
            print("  Hint: that counts the weights; every unit also has a bias.")


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
    if not answer.is_floating_point() or answer.max() > 1:
        _verdict(False, "the values should be floats between 0 and 1: divide the 0-255 levels by 255.")
        return
    expected = torch.from_numpy(picture).permute(2, 0, 1).float() / 255
    if not torch.allclose(answer.float().cpu(), expected, atol=1e-6):
        _verdict(
            False,
            "the shape is right but the pixels are mixed up: the axes must come in the order channels, "
            "height, width, moved with permute (reshape keeps the numbers' order and scrambles the picture).",
        )
        return
    _verdict(True, f"shape {tuple(answer.shape)}: red, green and blue, each a {height}x{width} grey image.")


def check_dress_confusion(answer: object, matrix: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Exercise 2.3: which other class are true dresses most often predicted as?"""
    if _unanswered(answer):
        return
    dress = class_names.index("Dress")
    row = np.array(matrix[dress], copy=True)
    row[dress] = -1
    if answer == "Dress":
        _verdict(False, "leave out the diagonal: the question is which *other* class dresses are mistaken for.")
    elif answer not in class_names:
        _verdict(False, f"answer with one of the class names: {', '.join(class_names)}.")
    else:
        count = matrix[dress, class_names.index(answer)]
        _verdict(count == row.max(), f"{count} test dresses were predicted as {answer}.")
        column = np.array(matrix[:, dress], copy=True)
        column[dress] = -1
        if count != row.max() and answer == class_names[int(column.argmax())]:
            print("  Hint: that is the class most often *mistaken for* a dress (a column); read the Dress row instead.")


# ---------------------------------------------------------------------------------------------
# Notebook 03: convolutions
# ---------------------------------------------------------------------------------------------


def check_conv_output_size(size_without_padding: object, padding_to_keep_size: object) -> None:
    """Exercise 3.1: a 5x5 kernel on a 28x28 image: the output size without padding, and the padding that keeps 28."""
    if _unanswered(size_without_padding, padding_to_keep_size):
        return
    if _close(size_without_padding, 28 - 5 + 1, "the output size without padding", rel_tol=0):
        _close(padding_to_keep_size, 2, "the padding that keeps 28x28", rel_tol=0)
    elif _is_number(size_without_padding) and size_without_padding == 23:
        print("  Hint: count the positions where a 5-wide window fits in 28 pixels, the first and the last included.")


def check_horizontal_edge_kernel(kernel: object) -> None:
    """Exercise 3.2: a 3x3 kernel that answers to horizontal edges (dark above, light below) and not to vertical ones."""
    import torch
    from torch.nn import functional as F

    if _unanswered(kernel):
        return
    try:
        kernel = torch.as_tensor(kernel, dtype=torch.float32)
    except (TypeError, ValueError):
        _verdict(False, "the kernel should be a 3x3 grid of numbers: a list of three lists of three numbers.")
        return
    if kernel.shape != (3, 3):
        _verdict(False, f"the kernel should be 3x3, got shape {tuple(kernel.shape)}.")
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
    if not _close(answer, recall, f"the recall of {class_name}", rel_tol=1e-3, abs_tol=0.005):
        precision = matrix[index, index] / matrix[:, index].sum()
        if _is_number(answer) and math.isclose(float(answer), precision, rel_tol=1e-3):
            print("  Hint: that divides by the column (everything *called* a dress); divide by the row (every true dress).")
        elif _is_number(answer) and answer > 1:
            print("  Hint: give a share between 0 and 1, not a count or a percentage.")


# ---------------------------------------------------------------------------------------------
# Notebook 04: transfer learning
# ---------------------------------------------------------------------------------------------


def check_trainable_count(answer: object, model) -> None:
    """Exercise 4.1: how many of the transfer model's parameters are still trained?"""
    if _unanswered(answer):
        return
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if not _close(answer, trainable, "the number of trainable parameters", rel_tol=0):
        if _is_number(answer) and answer == sum(p.numel() for p in model.parameters()):
            print("  Hint: that is every parameter; leave out those with requires_grad == False.")


def check_only_output_trainable(model) -> None:
    """Exercise 4.2: freeze everything except the output layer (classifier[-1])."""
    if _unanswered(model):
        return
    output_layer = {id(p) for p in model.classifier[-1].parameters()}
    still_trained = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in output_layer]
    frozen_output = [name for name, p in model.classifier[-1].named_parameters() if not p.requires_grad]
    if still_trained:
        _verdict(False, f"these are still trained: {', '.join(still_trained)}.")
    elif frozen_output:
        _verdict(False, "the output layer is frozen too, so nothing would learn.")
    else:
        count = sum(p.numel() for p in model.classifier[-1].parameters())
        _verdict(True, f"only the output layer's {count} parameters are trained.")


def check_best_budget(answer: object, results: pd.DataFrame) -> None:
    """Exercise 4.3: at which label budget does transfer learning beat scratch by the most test accuracy?"""
    if _unanswered(answer):
        return
    means = results.groupby(["labels_per_class", "method"])["test_accuracy"].mean().unstack("method")
    advantage = means["transfer"] - means["scratch"]
    best = int(advantage.idxmax())
    if answer not in list(advantage.index):
        _verdict(False, f"answer with one of the budgets: {', '.join(str(b) for b in advantage.index)}.")
    else:
        _verdict(answer == best, f"at {answer} labels per class transfer's mean test accuracy is {advantage[answer]:+.1%} against scratch.")


# ---------------------------------------------------------------------------------------------
# Notebook 05: the GAN game
# ---------------------------------------------------------------------------------------------


def check_equilibrium(discriminator_output: object, discriminator_loss: object) -> None:
    """Exercise 5.1: when the fakes are distributed exactly like the data, the best discriminator's output and its loss.

    The loss is the one the discriminator is trained on: -log D(x) on a real sample plus -log(1 - D(G(z))) on a fake.
    """
    if _unanswered(discriminator_output, discriminator_loss):
        return
    if not _close(discriminator_output, 0.5, "the best discriminator's output", rel_tol=0, abs_tol=1e-3):
        if _is_number(discriminator_output) and float(_as_plain_number(discriminator_output)) in (0.0, 1.0):
            print("  Hint: a real and a fake sample are equally likely at every point: how sure can the discriminator be?")
        return
    if not _close(discriminator_loss, 2 * math.log(2), "the discriminator's loss", rel_tol=1e-3):
        loss = float(_as_plain_number(discriminator_loss)) if _is_number(discriminator_loss) else None
        if loss is not None and math.isclose(loss, math.log(2), rel_tol=1e-3):
            print("  Hint: that is one half of it; add the loss on the real sample and the loss on the fake one.")
        elif loss is not None and loss < 0:
            print("  Hint: each half is minus the log of a number below 1, so the loss is positive.")
        elif loss is not None and (math.isclose(loss, 2 * math.log10(2), rel_tol=1e-3) or math.isclose(loss, 2.0, rel_tol=1e-3)):
            print("  Hint: the losses use the natural logarithm (math.log, torch.log).")


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
        if not _close(answer, expected[name], f"the {name} loss's gradient", rel_tol=1e-3):
            value = float(_as_plain_number(answer)) if _is_number(answer) else None
            if value is not None and math.isclose(value, -expected[name], rel_tol=1e-3):
                print("  Hint: the loss falls as the logit rises (the fake looks more real), so the gradient is negative.")
            elif value is not None and math.isclose(value, with_respect_to_d[name], rel_tol=1e-3):
                print("  Hint: that is the gradient with respect to D(G(z)) itself; take it with respect to the logit.")
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
    if not _close(value_at_one, real / (real + fake), "D* at x = 1", rel_tol=1e-3, abs_tol=1e-4):
        value = float(_as_plain_number(value_at_one)) if _is_number(value_at_one) else None
        if value is not None and math.isclose(value, fake / (real + fake), rel_tol=1e-3):
            print("  Hint: that is the fakes' share; D* is the chance that the sample is real.")
        elif value is not None and math.isclose(value, real / fake, rel_tol=1e-3):
            print("  Hint: divide by the sum of both densities, not by the fakes' density alone.")
        return
    if not _is_number(point_of_doubt):
        _verdict(False, f"the point should be a number, got {type(point_of_doubt).__name__}.")
        return
    x = float(_as_plain_number(point_of_doubt))
    real, fake = _density_at(real_density, x), _density_at(fake_density, x)
    if real + fake < 1e-12:
        _verdict(False, f"at x = {x:g} neither real nor fake samples ever appear; look where the densities are not both zero.")
        return
    value = real / (real + fake)
    if abs(value - 0.5) <= 0.02:
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
    if not _close(answer, covered, f"the number of modes covered at a share of {min_share:.3g}", rel_tol=0):
        if _is_number(answer) and answer == int((shares >= 0.02).sum()) and not math.isclose(min_share, 0.02):
            print("  Hint: that is the count with the 2% rule of the lesson; pass the stricter share.")
        elif _is_number(answer) and answer == len(shares):
            print("  Hint: that is every mode of the data; count only those the samples reach.")


# ---------------------------------------------------------------------------------------------
# Notebook 06: a DCGAN that dreams up dresses
# ---------------------------------------------------------------------------------------------


def check_transposed_conv_size(width_after_first: object, width_after_a_third: object) -> None:
    """Exercise 6.1: output widths of transposed convolutions with kernel 4, stride 2, padding 1."""
    if _unanswered(width_after_first, width_after_a_third):
        return
    if _close(width_after_first, (7 - 1) * 2 - 2 + 4, "the width after the first transposed convolution", rel_tol=0):
        _close(width_after_a_third, (28 - 1) * 2 - 2 + 4, "the width a third one would make from 28", rel_tol=0)
    elif _is_number(width_after_first) and _as_plain_number(width_after_first) in (13, 16):
        print("  Hint: (w - 1)·s - 2p + k with w = 7, s = 2, p = 1, k = 4; mind the 2p.")


def check_dress_share(answer: object, samples: np.ndarray) -> None:
    """Exercise 6.2: the share of samples the course's classifier calls Dress."""
    from course.quality import dressness

    if _unanswered(answer):
        return
    if not _close(answer, dressness(samples), "the dressness of the samples", rel_tol=1e-3, abs_tol=0.002):
        if _is_number(answer) and _as_plain_number(answer) > 1:
            print("  Hint: give a share between 0 and 1, not a count or a percentage.")


def check_nearest_distance(answer: object, sample: np.ndarray, training_images: np.ndarray) -> None:
    """Exercise 6.3: the distance from one sample to its nearest training image, pixels scaled to 0-1."""
    if _unanswered(answer):
        return
    differences = training_images.reshape(len(training_images), -1) / 255 - sample.reshape(1, -1) / 255
    distances = np.linalg.norm(differences, axis=1)
    if not _close(answer, distances.min(), "the distance to the nearest training dress", rel_tol=1e-3):
        value = _as_plain_number(answer)
        if _is_number(answer) and math.isclose(float(value), distances.min() * 255, rel_tol=1e-3):
            print("  Hint: that is in grey levels 0-255; divide the pixels by 255 first.")
        elif _is_number(answer) and math.isclose(float(value), distances.min() ** 2, rel_tol=1e-3):
            print("  Hint: that is the squared distance; take the square root.")


# ---------------------------------------------------------------------------------------------
# Notebook 07: Wasserstein GANs
# ---------------------------------------------------------------------------------------------


def check_gradient_penalty(answer: object, slope: float = 0.1, weight: float = 10.0) -> None:
    """Exercise 7.1: the gradient penalty of the critic f(x) = slope * (sum of the 784 pixels)."""
    if _unanswered(answer):
        return
    gradient_norm = slope * math.sqrt(28 * 28)
    if not _close(answer, weight * (gradient_norm - 1) ** 2, "the gradient penalty", rel_tol=1e-3):
        value = _as_plain_number(answer)
        if _is_number(answer) and math.isclose(float(value), (gradient_norm - 1) ** 2, rel_tol=1e-3):
            print(f"  Hint: the penalty is multiplied by its weight, {weight:g}.")
        elif _is_number(answer) and math.isclose(float(value), weight * (slope * 28 * 28 - 1) ** 2, rel_tol=1e-3):
            print("  Hint: the gradient's norm is the square root of the sum of its 784 squared entries.")


def check_best_loss(answer: object, table: pd.DataFrame) -> None:
    """Exercise 7.2: the loss whose samples are closest to the real dresses in `table`."""
    if _unanswered(answer):
        return
    best = str(table["distance_over_floor"].idxmin())
    if not isinstance(answer, str) or answer not in table.index:
        _verdict(False, f"answer with one of the table's row names: {', '.join(map(repr, table.index))}.")
        return
    if not _verdict(answer == best, f"{answer!r} has distance {table.loc[answer, 'distance_over_floor']:.1f}x the floor."):
        print("  Hint: the best loss has the smallest Fréchet distance over the floor, not the largest.")


def check_rank_correlation(answer: object, signal: object, distance: object) -> None:
    """Exercise 7.3: the Spearman (rank) correlation between a loss curve's values and the distance."""
    if _unanswered(answer):
        return
    expected = pd.Series(np.asarray(signal, dtype=float)).corr(pd.Series(np.asarray(distance, dtype=float)), method="spearman")
    if not _close(answer, expected, "the rank correlation", rel_tol=1e-6, abs_tol=1e-6):
        value = _as_plain_number(answer)
        pearson = np.corrcoef(np.asarray(signal, dtype=float), np.asarray(distance, dtype=float))[0, 1]
        if _is_number(answer) and math.isclose(float(value), pearson, rel_tol=1e-6, abs_tol=1e-6):
            print("  Hint: that is Pearson's correlation of the values; Spearman's correlates their ranks.")


# ---------------------------------------------------------------------------------------------
# Notebook 08: what the discriminator gives back
# ---------------------------------------------------------------------------------------------


def check_real_image_loss(answer: object, num_classes: int = 5) -> None:
    """Exercise 8.1: -log(1 - p(fake)) for a real image whose K + 1 scores are all 0."""
    if _unanswered(answer):
        return
    expected = math.log((num_classes + 1) / num_classes)
    if not _close(answer, expected, "the real image's loss", rel_tol=1e-3):
        value = _as_plain_number(answer)
        if _is_number(answer) and math.isclose(float(value), math.log(num_classes + 1), rel_tol=1e-3):
            print("  Hint: that is -log p(fake), the loss of a fake; a real image pays -log(1 - p(fake)).")
        elif _is_number(answer) and math.isclose(float(value), 1 / (num_classes + 1), rel_tol=1e-3):
            print("  Hint: that is p(fake) itself; the loss is -log(1 - p(fake)).")


def check_accuracy_difference(answer: object, means: pd.DataFrame, budget: int, method: str, baseline: str) -> None:
    """Exercise 8.2: test accuracy of `method` minus that of `baseline` at `budget` labels per class."""
    if _unanswered(answer):
        return
    expected = means.loc[(budget, method), "test_accuracy"] - means.loc[(budget, baseline), "test_accuracy"]
    if not _close(answer, expected, "the difference in test accuracy", rel_tol=1e-3, abs_tol=1e-4):
        value = _as_plain_number(answer)
        if _is_number(answer) and math.isclose(float(value), 100 * expected, rel_tol=1e-3, abs_tol=1e-2):
            print("  Hint: give it as a share (0.03 for 3 points), not in percentage points.")
        elif _is_number(answer) and math.isclose(float(value), -expected, rel_tol=1e-3, abs_tol=1e-4):
            print(f"  Hint: {method} minus {baseline}, not the other way round.")


def check_smallest_gap(answer: object, means: pd.DataFrame, budget: int) -> None:
    """Exercise 8.3: the method with the smallest train-test gap at `budget` labels per class."""
    if _unanswered(answer):
        return
    gaps = means.loc[budget, "gap"]
    if not isinstance(answer, str) or answer not in gaps.index:
        _verdict(False, f"answer with one of the methods: {', '.join(map(repr, gaps.index))}.")
        return
    if not _verdict(answer == gaps.idxmin(), f"{answer!r} has a gap of {gaps[answer]:.1%} at {budget} labels per class."):
        print("  Hint: the gap is train accuracy minus test accuracy; look for the smallest, at this budget only.")


# ---------------------------------------------------------------------------------------------
# Notebook 09
# ---------------------------------------------------------------------------------------------


def check_class_accuracy(answer: object, asked: object, judged: object, num_classes: int = 10) -> None:
    """Exercise 9.1: for each class, the share of images asked for as that class that the classifier judged so."""
    if _unanswered(answer):
        return
    asked, judged = np.asarray(asked), np.asarray(judged)
    expected = np.array([(judged[asked == k] == k).mean() for k in range(num_classes)])
    answer = np.asarray(answer, dtype=float) if _is_numeric_array(answer) else None
    if answer is None or answer.shape != (num_classes,):
        _verdict(False, f"answer with {num_classes} numbers, one accuracy per class (a share from 0 to 1).")
        return
    if not _verdict(np.allclose(answer, expected, atol=1e-6), f"the mean over classes is {answer.mean():.1%}."):
        overall = (judged == asked).mean()
        if np.allclose(answer, overall):
            print("  Hint: that is the overall accuracy repeated; take each class's images separately (asked == k).")
        else:
            print("  Hint: for class k, keep the images with asked == k and compute the share with judged == k.")


def check_noise_step(answer: object, noise: object, direction: object, amount: float) -> None:
    """Exercise 9.2: the noise vector moved `amount` along the unit vector of `direction`."""
    if _unanswered(answer):
        return
    noise, direction = np.asarray(noise, dtype=float), np.asarray(direction, dtype=float)
    expected = noise + amount * direction / np.linalg.norm(direction)
    answer = np.asarray(answer, dtype=float) if _is_numeric_array(answer) else None
    if answer is None or answer.shape != expected.shape:
        _verdict(False, f"answer with one vector of {len(expected)} numbers, the moved noise.")
        return
    if not _verdict(np.allclose(answer, expected, atol=1e-5), f"it is {np.linalg.norm(answer - noise):.3g} away from where it started."):
        if np.allclose(answer, noise + amount * direction, atol=1e-5):
            print("  Hint: divide the direction by its length first, so the amount alone says how far you go.")


def check_crop_box(answer: object, width: int, height: int, size: int) -> None:
    """Exercise 9.3: (left, top, right, bottom) of the centre square once the shorter side is scaled to `size`."""
    if _unanswered(answer):
        return
    shorter = min(width, height)
    scaled_width, scaled_height = max(size, round(width * size / shorter)), max(size, round(height * size / shorter))
    left, top = (scaled_width - size) // 2, (scaled_height - size) // 2
    expected = (left, top, left + size, top + size)
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        _verdict(False, "answer with four whole numbers: (left, top, right, bottom).")
        return
    if not _verdict(tuple(answer) == expected, f"the box {tuple(answer)} in the {scaled_width}x{scaled_height} scaled picture."):
        print(f"  Hint: the picture becomes {scaled_width}x{scaled_height}; the square is {size} wide and centred in it.")


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
    theirs, ours = discriminator, copy.deepcopy(discriminator)
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
        for wrong, hint in mistakes:
            if math.isclose(value, wrong.item(), rel_tol=1e-4, abs_tol=1e-6):
                print(f"  Hint: {hint}")
                break
        return
    if any(parameter.grad is not None and parameter.grad.abs().sum() > 0 for parameter in generator.parameters()):
        _verdict(False, "the loss is right, but the generator got gradients: score `fake.detach()`, so this move leaves the generator alone.")
        return
    unchanged = all(torch.equal(a, b) for a, b in zip(theirs.parameters(), before, strict=True))
    moved_like_ours = all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(theirs.parameters(), ours.parameters(), strict=True))
    if not moved_like_ours:
        if unchanged:
            _verdict(False, "the loss is right, but the weights did not move: call loss.backward() and then d_optimizer.step().")
        else:
            _verdict(False, "the loss is right, but the weights moved differently: call d_optimizer.zero_grad() before loss.backward().")
        return
    _verdict(True, f"your move gives the course's loss ({value:.4f}) and the same new weights, and leaves the generator alone.")


# ---------------------------------------------------------------------------------------------
# Notebook 07: the gradient penalty, written by the learner
# ---------------------------------------------------------------------------------------------


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
            (10 * (lengths.clamp(min=1) - 1).pow(2).mean(), "that is the one-sided penalty, zero under 1; WGAN-GP's penalises both sides."),
            (10 * ((swapped_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(), "the points are mix * real + (1 - mix) * fake: mix goes with the real images."),
            (10 * ((real_gradient.flatten(1).norm(dim=1) - 1) ** 2).mean(), "that is the gradient at the real images; take it between real and fake."),
        ]
        for wrong, hint in mistakes:
            if math.isfinite(value) and math.isclose(value, wrong.item(), rel_tol=1e-4, abs_tol=1e-6):
                print(f"  Hint: {hint}")
                break
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
