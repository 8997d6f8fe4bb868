import math

import numpy as np
import pytest
import torch

from course.metrics import accuracy, confusion_matrix, mode_coverage, most_confused, regression_errors


def test_regression_errors_on_a_hand_computed_example():
    # errors -1, 0, -1, 0; the true values' squared deviations from their mean 2.5 sum to 5
    errors = regression_errors(np.array([1, 2, 3, 4]), np.array([2, 2, 4, 4]))
    assert errors["RMSE ($)"] == pytest.approx(math.sqrt(0.5))
    assert errors["MAE ($)"] == pytest.approx(0.5)
    assert errors["R²"] == pytest.approx(1 - 2 / 5)


def test_r2_is_one_for_perfect_predictions_and_negative_when_worse_than_the_mean():
    true = [10.0, 20.0, 35.0]
    perfect = regression_errors(true, true)
    assert perfect == {"RMSE ($)": 0.0, "MAE ($)": 0.0, "R²": 1.0}
    assert regression_errors([1, 2, 3, 4], [4, 3, 2, 1])["R²"] < 0


@pytest.mark.parametrize("true, predicted", [([1, 2, 3], [1, 2]), ([[1, 2], [3, 4]], [[1, 2], [3, 4]]), ([1], [1])])
def test_regression_errors_want_two_1d_arrays_of_one_length(true, predicted):
    with pytest.raises(ValueError, match="1-D, of the same length >= 2"):
        regression_errors(true, predicted)


def test_accuracy_takes_numpy_and_torch_labels():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == pytest.approx(0.75)
    assert accuracy(torch.tensor([3, 3]), torch.tensor([3, 0])) == pytest.approx(0.5)
    assert accuracy(torch.tensor([1, 0, 1]), np.array([1, 0, 1], dtype=np.uint8)) == 1.0


@pytest.mark.parametrize(
    "predicted, labels, message",
    [
        (np.array([0.0, 1.0]), np.array([0, 1]), "predicted must be .*integer class labels"),
        (torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), "labels must be .*integer class labels"),
        (torch.tensor([True, False]), torch.tensor([1, 0]), "integer class labels"),
        (np.array([[0, 1]]), np.array([[0, 1]]), "1-D"),
        (np.array([0, 1, 1]), np.array([0, 1]), "same, non-zero length; got 3 and 2"),
        (np.array([], dtype=int), np.array([], dtype=int), "non-zero length"),
    ],
)
def test_accuracy_refuses_what_are_not_class_labels(predicted, labels, message):
    with pytest.raises(ValueError, match=message):
        accuracy(predicted, labels)


def test_confusion_matrix_rows_are_true_classes_and_columns_predictions():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 1, 1, 1, 2, 2]
    matrix = confusion_matrix(np.array(predicted), np.array(labels), num_classes=3)
    expected = np.array([[1, 2, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == len(labels)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy(predicted, labels))


def test_confusion_matrix_of_random_labels_sums_to_their_number():
    rng = np.random.default_rng(0)
    labels, predicted = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    matrix = confusion_matrix(torch.from_numpy(predicted), torch.from_numpy(labels), num_classes=10)
    assert matrix.shape == (10, 10) and matrix.sum() == 500
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(labels, minlength=10))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=10))


@pytest.mark.parametrize(
    "predicted, labels, message",
    [
        ([0, 1, 3], [0, 1, 2], "predicted must lie in 0..2"),
        ([0, 1, 2], [0, -1, 2], "labels must lie in 0..2"),
        ([0, 1], [0, 1, 2], "same length; got 2 and 3"),
    ],
)
def test_confusion_matrix_refuses_labels_outside_the_classes(predicted, labels, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(np.array(predicted), np.array(labels), num_classes=3)


def test_most_confused_lists_the_largest_mistakes_first_and_skips_the_diagonal():
    matrix = np.array([[50, 3, 0], [7, 40, 1], [0, 5, 60]])
    names = ("a", "b", "c")
    assert most_confused(matrix, names, top=3) == [("b", "a", 7), ("c", "b", 5), ("a", "b", 3)]
    assert most_confused(matrix, names, top=1) == [("b", "a", 7)]


def test_most_confused_never_lists_a_class_confused_with_itself():
    listed = most_confused(np.array([[5, 1], [0, 3]]), ("a", "b"), top=5)
    assert all(true != predicted for true, predicted, _ in listed)


def test_most_confused_wants_one_row_and_column_per_class():
    with pytest.raises(ValueError, match=r"matrix must be 3x3.*\(2, 3\)"):
        most_confused(np.zeros((2, 3), dtype=int), ("a", "b", "c"))


def ring(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(modes) * 2 * math.pi / modes
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def test_mode_coverage_of_a_perfect_mixture_and_of_one_that_dropped_modes():
    torch.manual_seed(0)
    centres = ring()
    perfect = centres[torch.arange(8000) % 8] + 0.05 * torch.randn(8000, 2)
    share, covered = mode_coverage(perfect, centres, 0.05, min_share=0.05)
    assert share == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # within 3 std in 2-D: 98.9%
    assert covered == 8
    three = centres[torch.arange(3000) % 3] + 0.05 * torch.randn(3000, 2)  # modes 0, 1, 2 only
    assert mode_coverage(three.numpy(), centres.numpy(), 0.05, min_share=0.05) == (pytest.approx(share, abs=0.01), 3)


def test_a_featureless_ring_is_low_quality_and_covers_no_mode():
    torch.manual_seed(0)
    angles = torch.rand(20_000) * 2 * math.pi
    circle = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # radius 2, through every centre
    share, covered = mode_coverage(circle, ring(), 0.05, min_share=0.05)
    assert share == pytest.approx(8 * 2 * math.asin(0.15 / 4) / math.pi, abs=0.01)  # about 19%: 2.4% per mode
    assert covered == 0
    assert mode_coverage(circle, ring(), 0.05, min_share=0.02)[1] == 8  # a 2% rule is met by a ring


def test_mode_coverage_counts_high_quality_samples_by_their_nearest_centre():
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    samples = torch.tensor(
        [[0.1, 0.0], [0.2, 0.0], [0.9, 0.0], [0.5, 0.0], [5.0, 5.0]]
    )  # 0.5 and (5, 5) are too far from both
    assert mode_coverage(samples, centres, std=0.1, min_share=0.4) == (
        pytest.approx(0.6),
        1,
    )  # 2 of 5 at the first, 1 at the second
    assert mode_coverage(samples, centres, std=0.1, min_share=0.2) == (pytest.approx(0.6), 2)
    assert mode_coverage(samples, centres, std=0.01, min_share=0.2) == (0.0, 0)


@pytest.mark.parametrize(
    "samples, centres, min_share, message",
    [
        (np.zeros((4, 2)), np.zeros((2, 3)), 0.1, "same dimension"),
        (np.zeros((0, 2)), np.zeros((2, 2)), 0.1, "non-empty"),
        (np.zeros((4, 2)), np.zeros((2, 2)), 0.0, "min_share"),
        (np.zeros((4, 2)), np.zeros((2, 2)), 1.5, "min_share"),
    ],
)
def test_mode_coverage_refuses_mismatched_inputs(samples, centres, min_share, message):
    with pytest.raises(ValueError, match=message):
        mode_coverage(samples, centres, 0.05, min_share)
