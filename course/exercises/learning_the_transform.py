"""Notebook 02's exercises: learning the transform (parameters, channels first, the confusion matrix)."""

from __future__ import annotations

import math

import numpy as np

from course.exercises.answers import _as_plain_number, _close, _hint, _kind, _unanswered, _verdict


def check_parameter_count(answer: object, model) -> None:
    """Exercise 2.1: how many numbers does the network learn? (every weight and every bias)"""
    if _unanswered(answer):
        return
    total = sum(p.numel() for p in model.parameters())
    weights_only = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
    _close(
        answer,
        total,
        "the number of parameters",
        rel_tol=0,
        mistakes=[(weights_only, "that counts the weights; every unit also has a bias.")],
    )


def check_channels_first(answer: object, picture: np.ndarray) -> None:
    """Exercise 2.2: the picture as PyTorch wants it, channels first: a float tensor (3, H, W) in [0, 1]."""
    import torch

    if _unanswered(answer):
        return
    if not isinstance(answer, torch.Tensor):
        _verdict(False, f"the answer should be a torch tensor, got {_kind(answer)}.")
        return
    if answer.is_meta or answer.layout != torch.strided:
        kind = "a tensor on the meta device, which holds no values" if answer.is_meta else f"a {answer.layout} tensor"
        _verdict(False, f"the answer should be an ordinary tensor of pixels, as a network takes it, got {kind}.")
        return
    height, width, channels = picture.shape
    if tuple(answer.shape) != (channels, height, width):
        hint = (
            " (that is still height x width x channels: move the channel axis to the front)"
            if tuple(answer.shape) == picture.shape
            else ""
        )
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
            _verdict(
                False,
                f"the axes and the scale are right, but the dtype is {answer.dtype}: "
                "the network's weights are float32, so use .float().",
            )
            return
        _verdict(True, f"shape {tuple(answer.shape)}: red, green and blue, each a {height}x{width} grey image.")
        return
    if not torch.allclose(values.flatten().sort().values, expected.flatten().sort().values, rtol=precision, atol=1e-6):
        scale = float(values.max() / expected.max()) if expected.max() > 0 else float("nan")
        if math.isfinite(scale) and scale > 0 and torch.allclose(values, scale * expected, rtol=precision, atol=1e-6):
            brightest = float(values.max())
            _verdict(
                False,
                f"the axes are right, but the scale is off (the brightest value is {brightest:.4g}): "
                "divide the 0-255 levels by 255.",
            )
        else:
            _verdict(
                False,
                "the values differ from the picture's levels divided by 255: "
                "start from the picture itself, divided by 255.",
            )
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
