"""Notebook 03's checks: a convolution's output size and padding, a horizontal edge kernel, and a class's recall."""

import numpy as np
import pytest
import torch
from test_exercises_answers import dress_confusion, one_line, verdict

from course import exercises
from course.data import CLASS_NAMES, DRESS
from course.models import mlp


@pytest.mark.parametrize(
    "size, padding, expected",
    [
        (
            24,
            3,
            [
                "Correct! the output size without padding: 24",
                "Correct! the padding that makes a 7x7 kernel at stride 2 give 14x14: 3",
            ],
        ),
        (23, 3, ["Not yet: the output size without padding: 23 is too small", "the first and the last included"]),
        (28, 3, ["Not yet: the output size without padding: 28 is too large"]),
        (
            24,
            1,
            [
                "Correct! the output size",
                "Not yet: the padding that makes a 7x7 kernel at stride 2 give 14x14: 1 is too small",
            ],
        ),
        (24, 2, ["Correct! the output size", "2 is too small", "= 13: one short"]),
        (24, 4, ["Correct! the output size", "4 is too large", "= 15: one too many"]),
        (24, 6, ["Correct! the output size", "6 is too large", "on *each* side"]),
        ("24", 3, ["Not yet: the output size without padding should be a number, got str"]),
    ],
)
def test_conv_output_size(capsys, size, padding, expected):
    exercises.check_conv_output_size(size, padding)
    out = verdict(capsys)
    assert all(part in out for part in expected)
    assert ("Not yet" in out) == any(part.startswith("Not yet") or "too" in part for part in expected)
    assert ("Hint" in out) == (size == 23 or (size == 24 and padding in (2, 4, 6)))


def test_conv_output_size_names_the_total_padding(capsys):
    exercises.check_conv_output_size(np.array([24]), torch.tensor([3]))
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_conv_output_size(24, 5)
    out = verdict(capsys)
    assert "5 is too large" in out and "Hint" not in out


def test_conv_output_size_takes_torch_and_numpy_scalars(capsys):
    exercises.check_conv_output_size(torch.tensor(24), np.int64(3))
    assert verdict(capsys).count("Correct!") == 2


@pytest.mark.parametrize(
    "kernel, expected",
    [
        ([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], "Correct! it lights up on horizontal edges"),
        (np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]), "Correct! it lights up on horizontal edges"),
        (torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]), "Correct!"),  # light above also counts
        ([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], "Not yet: the kernel answers to an even, edgeless image"),
        ([[1.0, 1.0, 1.0]] * 3, "its numbers should add up to zero"),
        ([[-1.0, 0.0, 1.0]] * 3, "Not yet: the kernel gives nothing on a horizontal edge"),  # a vertical-edge kernel
        ([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]], "Not yet: the kernel also answers to vertical edges"),
        ([[-1.0, -1.0], [1.0, 1.0]], "Not yet: the kernel should be 3x3, got shape (2, 2)"),
    ],
    ids=["sobel", "numpy", "sign", "identity", "ones", "vertical", "diagonal", "2x2"],
)
def test_horizontal_edge_kernel(capsys, kernel, expected):
    exercises.check_horizontal_edge_kernel(kernel)
    out = verdict(capsys)
    assert expected in out and out.count("\n") == 1


def test_horizontal_edge_kernel_answers_odd_input_in_one_line(capsys):
    exercises.check_horizontal_edge_kernel(
        torch.tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], requires_grad=True)
    )
    assert verdict(capsys).startswith("Correct!")
    exercises.check_horizontal_edge_kernel([[float("nan")] * 3] * 3)
    assert "finite numbers" in one_line(capsys)
    for odd in (object(), {"a": 1}, mlp(1, (2,), 1), "abc"):
        exercises.check_horizontal_edge_kernel(odd)
        assert "3x3 grid of numbers" in one_line(capsys)


def test_horizontal_edge_kernel_refuses_malformed_grids(capsys):
    for malformed in ("abc", [[1, 2, 3], [1, 2]]):
        exercises.check_horizontal_edge_kernel(malformed)
        assert "3x3 grid of numbers" in verdict(capsys)


def test_class_recall_divides_by_the_row(capsys):
    matrix = dress_confusion()
    matrix[CLASS_NAMES.index("Bag"), DRESS] = 5  # the Dress column now sums to 85, the Dress row to 80
    recall, precision = 50 / 80, 50 / 85
    assert matrix[DRESS, DRESS] / matrix[DRESS].sum() == recall
    assert matrix[DRESS, DRESS] / matrix[:, DRESS].sum() == precision
    exercises.check_class_recall(recall, matrix, CLASS_NAMES)
    assert verdict(capsys).startswith("Correct! the recall of Dress: 0.625")
    exercises.check_class_recall(np.float64(recall) * (1 + 5e-4), matrix, CLASS_NAMES)  # within the tolerance
    assert verdict(capsys).startswith("Correct!")
    exercises.check_class_recall(precision, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "divide by the row" in out
    exercises.check_class_recall(100 * recall, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "not a count or a percentage" in out
    exercises.check_class_recall(0.5, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Hint" not in out


def test_class_recall_of_another_class(capsys):
    matrix = dress_confusion()
    shirt = CLASS_NAMES.index("Shirt")
    exercises.check_class_recall(1.0, matrix, CLASS_NAMES, class_name="Shirt")  # every true shirt called a shirt
    assert verdict(capsys).startswith("Correct! the recall of Shirt")
    exercises.check_class_recall(matrix[shirt, shirt] / matrix[:, shirt].sum(), matrix, CLASS_NAMES, class_name="Shirt")
    out = verdict(capsys)
    assert out.startswith("Not yet") and "divide by the row" in out


def test_class_recall_takes_rounded_answers_and_names_the_count(capsys):
    matrix = dress_confusion()
    matrix[CLASS_NAMES.index("Bag"), DRESS] = 5  # recall 0.625, precision 0.588
    for right in (0.625, 0.63, np.array([0.625]), torch.tensor(0.625)):
        exercises.check_class_recall(right, matrix, CLASS_NAMES)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_class_recall(0.59, matrix, CLASS_NAMES)  # the precision, rounded
    assert "divide by the row" in verdict(capsys)
    exercises.check_class_recall(50, matrix, CLASS_NAMES)  # the count of dresses called dresses
    assert "not a count or a percentage" in verdict(capsys)
