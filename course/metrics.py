"""Scores for the course's models: regression errors, accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np
import torch


def regression_errors(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Root mean squared error, mean absolute error and R² of predictions against true values."""
    true, predicted = np.asarray(true, dtype=float), np.asarray(predicted, dtype=float)
    if true.shape != predicted.shape or true.ndim != 1 or len(true) < 2:
        raise ValueError(
            f"true and predicted must be 1-D, of the same length >= 2; got {true.shape} and {predicted.shape}."
        )
    errors = true - predicted
    spread = ((true - true.mean()) ** 2).sum()
    return {
        "RMSE ($)": float(np.sqrt((errors**2).mean())),
        "MAE ($)": float(np.abs(errors).mean()),
        "R²": float(1 - (errors**2).sum() / spread) if spread > 0 else float("nan"),  # undefined for constant truth
    }


def _as_labels(values, name: str) -> torch.Tensor:
    values = torch.as_tensor(values).cpu()
    if values.ndim != 1 or values.dtype.is_floating_point or values.dtype == torch.bool:
        raise ValueError(
            f"{name} must be a 1-D tensor or array of integer class labels, got {values.dtype} {tuple(values.shape)}."
        )
    return values.long()


def accuracy(predicted, labels) -> float:
    """The share of predicted labels that equal the true ones."""
    predicted, labels = _as_labels(predicted, "predicted"), _as_labels(labels, "labels")
    if len(predicted) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"predicted and labels must have the same, non-zero length; got {len(predicted)} and {len(labels)}."
        )
    return (predicted == labels).float().mean().item()


def confusion_matrix(predicted, labels, num_classes: int) -> np.ndarray:
    """Counts (num_classes x num_classes): row = true class, column = predicted class."""
    predicted, labels = _as_labels(predicted, "predicted"), _as_labels(labels, "labels")
    if len(predicted) != len(labels):
        raise ValueError(f"predicted and labels must have the same length; got {len(predicted)} and {len(labels)}.")
    for name, values in (("predicted", predicted), ("labels", labels)):
        if len(values) and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in 0..{num_classes - 1}, got values from {values.min()} to {values.max()}."
            )
    flat = torch.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).numpy()


def most_confused(matrix: np.ndarray, class_names: tuple[str, ...], top: int = 5) -> list[tuple[str, str, int]]:
    """The largest mistakes as (true class, predicted class, count), largest first: at most `top`, no correct cell."""
    matrix = np.asarray(matrix)
    if matrix.shape != (len(class_names), len(class_names)):
        raise ValueError(
            f"matrix must be {len(class_names)}x{len(class_names)}, one row per class, got {matrix.shape}."
        )
    mistakes = [(int(matrix[i, j]), i, j) for i, j in zip(*np.nonzero(matrix), strict=True) if i != j]
    mistakes.sort(key=lambda mistake: -mistake[0])  # stable: ties keep row-major order
    return [(class_names[i], class_names[j], count) for count, i, j in mistakes[:top]]


def mode_shares(samples, centres, std: float) -> np.ndarray:
    """For a mixture of Gaussians: the share of the samples within 3 standard deviations of each mode's centre."""
    samples = torch.as_tensor(np.asarray(samples), dtype=torch.float32).reshape(len(samples), -1)
    centres = torch.as_tensor(np.asarray(centres), dtype=torch.float32).reshape(len(centres), -1)
    if samples.shape[1] != centres.shape[1] or len(samples) == 0:
        raise ValueError(
            "samples and centres must be non-empty with the same dimension; "
            f"got {tuple(samples.shape)} and {tuple(centres.shape)}."
        )
    distances = torch.cdist(samples, centres)  # (samples, modes)
    return (distances <= 3 * std).float().mean(dim=0).numpy()


def modes_covered(samples, centres, std: float, min_share: float = 0.02) -> int:
    """How many modes hold at least `min_share` of the samples (see `mode_shares`)."""
    return int((mode_shares(samples, centres, std) >= min_share).sum())


def mode_coverage(samples, centres, std: float, min_share: float) -> tuple[float, int]:
    """For a mixture of Gaussians: the share of high-quality samples, and the number of modes they cover.

    A sample is high quality when it lies within 3 standard deviations of its nearest centre; a mode is
    covered when at least `min_share` of all the samples are high-quality samples nearest to its centre
    (the two numbers of Srivastava et al. 2017, who count a mode from a single sample).
    """
    samples, centres = (torch.as_tensor(np.asarray(points), dtype=torch.float32) for points in (samples, centres))
    if len(samples) == 0 or len(centres) == 0 or samples[0].numel() != centres[0].numel():
        raise ValueError(
            "samples and centres must be non-empty with the same dimension; "
            f"got {tuple(samples.shape)} and {tuple(centres.shape)}."
        )
    samples, centres = samples.reshape(len(samples), -1), centres.reshape(len(centres), -1)
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share is a share of the samples, in (0, 1]; got {min_share}.")
    distance, nearest = torch.cdist(samples, centres).min(dim=1)  # each sample's nearest centre
    high_quality = distance <= 3 * std
    per_mode = torch.bincount(nearest[high_quality], minlength=len(centres)) / len(samples)
    return high_quality.float().mean().item(), int((per_mode >= min_share).sum())
