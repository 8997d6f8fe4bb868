"""Notebook 03's exercises: convolutions (output sizes, an edge kernel, a class's recall)."""

from __future__ import annotations

import numpy as np

from course.exercises.answers import _close, _half_unit, _hint, _matches, _number, _tensor_values, _unanswered, _verdict


def check_conv_output_size(size_without_padding: object, padding_for_half_size: object) -> None:
    """Exercise 3.1: a 5x5 kernel on a 28x28 image without padding: the output size; and the padding with which a 7x7
    kernel at stride 2 turns 28x28 into 14x14."""
    if _unanswered(size_without_padding, padding_for_half_size):
        return
    window = [(23, "count the positions where a 5-wide window fits in 28 pixels, the first and the last included.")]
    if _close(size_without_padding, 28 - 5 + 1, "the output size without padding", rel_tol=0, mistakes=window):
        mistakes = [
            (
                6,
                "6 is the padding of both sides together; padding= adds that many pixels on *each* side, so give half.",
            ),
            (2, "with padding 2 the output is (28 + 2·2 − 7) // 2 + 1 = 13: one short."),
            (4, "with padding 4 the output is (28 + 2·4 − 7) // 2 + 1 = 15: one too many."),
        ]
        _close(
            padding_for_half_size,
            3,
            "the padding that makes a 7x7 kernel at stride 2 give 14x14",
            rel_tol=0,
            mistakes=mistakes,
        )


def check_horizontal_edge_kernel(kernel: object) -> None:
    """Exercise 3.2: a 3x3 kernel that answers to horizontal edges (dark above, light below), not to vertical ones."""
    import torch
    from torch.nn import functional as F

    if _unanswered(kernel):
        return
    try:
        kernel = torch.as_tensor(
            _tensor_values(kernel) if isinstance(kernel, torch.Tensor) else kernel, dtype=torch.float32
        )
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


def check_class_recall(
    answer: object, matrix: np.ndarray, class_names: tuple[str, ...], class_name: str = "Dress"
) -> None:
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
        if (
            value is not None
            and value > 1
            and not any(_matches(value, _half_unit(answer), wrong, 1e-3, 0.005) for wrong, _ in mistakes)
        ):
            _hint("give a share between 0 and 1, not a count or a percentage.")
