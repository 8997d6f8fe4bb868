"""Precision and recall of generated samples: how many are faithful, and how much of the real variety they cover.

One distance (like the course's Fréchet distance) cannot tell "few but perfect dresses" from "varied but blurry
ones". Kynkäänniemi et al. split it in two by estimating each set's manifold, the region of feature space its
points occupy, from the points themselves: around every point put a ball that reaches its k-th nearest neighbour
in the same set, and call the union of the balls the set's manifold. Then

* precision is the share of generated points inside the real manifold (are the samples realistic?), and
* recall is the share of real points inside the generated manifold (is all the real variety produced?).

In formulas, for a set of feature vectors Φ, a point φ and NN_k(φ', Φ) the k-th nearest neighbour of φ' in Φ
other than φ' itself:

    r(φ', Φ) = ‖φ' − NN_k(φ', Φ)‖
    f(φ, Φ)  = 1 if ‖φ − φ'‖ ≤ r(φ', Φ) for at least one φ' in Φ, else 0
    precision(Φ_real, Φ_fake) = (1 / |Φ_fake|) Σ_{φ in Φ_fake} f(φ, Φ_real)
    recall(Φ_real, Φ_fake)    = (1 / |Φ_real|) Σ_{φ in Φ_real} f(φ, Φ_fake)

A generator that repeats one perfect dress scores precision 1 and recall near 0 (the share of real points equal to
it); one that produces points far from every real one scores 0 and 0; a second sample of real dresses scores high
on both, though not 1. The real-against-real values are the reference to compare with, as the real-vs-real floor
is for the distance, and both sets should have the same size: the more points, the smaller the balls.

Why k = 3: it is the value the paper uses, kept here. k sets the size of the balls, and both numbers can only rise
with it. With k = 1 a ball reaches only the nearest neighbour, so the manifold has gaps even where points are
dense: the two halves of the 1,000 test dresses score precision 0.59 and recall 0.59 against each other. With
k = 3 they score 0.88 and 0.84, with k = 10 0.97 and 0.96, with k = 30 1.00 and 0.99, leaving ever less room for a
worse generator to score lower.

Outliers get large balls. One odd test dress's ball, in the course classifier's features, holds about half of
1,000 uniform-noise images: noise scores precision 0.48 against the test dresses (recall 0), and 0.002 against
the 6,000 training dresses. Read precision beside recall and the distance, never alone.

Distances are Euclidean, in float64, computed pair by pair (exact for equal points: a point's distance to a copy
of itself is 0), a block of rows at a time so that 10,000 against 10,000 points never holds the full matrix.

Reference: T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila, "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS 2019, https://arxiv.org/abs/1904.06991.
"""

from __future__ import annotations

import numpy as np
import torch

from course.validation import require_positive_int

DEFAULT_K = 3  # the paper's neighbourhood size
CHUNK_ROWS = 1000  # rows of a distance block: 1,000 x 10,000 float64 distances are 80 MB


def _distances(rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (len(rows), len(columns)) from each pair's difference: equal points are exactly 0 apart."""
    return torch.cdist(rows, columns, compute_mode="donot_use_mm_for_euclid_dist")


def _as_features(features: object, name: str) -> torch.Tensor:
    """`features` as a float64 CPU tensor (samples, width); a TypeError or ValueError saying why it cannot be."""
    expected = f"{name} must be a 2-D array (samples, features) of finite real numbers, one row per image"
    if isinstance(features, torch.Tensor):
        if features.dtype == torch.bool or features.is_complex():
            raise ValueError(f"{expected}; got a tensor of dtype {features.dtype}. Pass real-valued features.")
        tensor = features.detach().to("cpu", torch.float64)
    elif isinstance(features, np.ndarray):
        if features.dtype.kind not in "iuf":
            raise ValueError(f"{expected}; got an array of dtype {features.dtype}. Pass real-valued features.")
        tensor = torch.from_numpy(features.astype(np.float64))
    else:
        raise TypeError(
            f"{expected}, as a NumPy array or a torch tensor; got {type(features).__name__}. "
            "Convert it with np.asarray(...), or use course.quality.classifier_features(images)."
        )
    if tensor.ndim != 2 or tensor.shape[1] == 0:
        fix = "Reshape it to (samples, features), e.g. features.reshape(len(features), -1)."
        raise ValueError(f"{expected}; got shape {tuple(tensor.shape)}. {fix}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{expected}; it holds NaN or infinite values. Remove or fix those rows first.")
    return tensor


def _require_more_rows_than_k(features: torch.Tensor, name: str, k: int) -> None:
    if len(features) <= k:
        raise ValueError(
            f"{name} has {len(features)} rows, but k={k} needs more than k: each point's ball reaches its "
            f"k-th nearest other point in the same set. Pass at least {k + 1} rows, or a smaller k."
        )


def _radii(features: torch.Tensor, k: int, chunk_rows: int) -> torch.Tensor:
    """Each row's distance to its k-th nearest other row (itself left out by position, copies of it counted)."""
    radii = torch.empty(len(features), dtype=torch.float64)
    for start in range(0, len(features), chunk_rows):
        block = _distances(features[start : start + chunk_rows], features)
        rows = torch.arange(len(block))
        block[rows, start + rows] = torch.inf  # a point is not its own neighbour
        radii[start : start + len(block)] = block.topk(k, dim=1, largest=False).values[:, -1]  # the k smallest, sorted
    return radii


def manifold_radii(features: object, k: int = DEFAULT_K, *, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """Each point's distance to its k-th nearest neighbour in the same set, itself excluded: (N,) float64.

    These are the radii of the balls whose union is the set's estimated manifold. Other points equal to a point
    count as neighbours at distance 0. `features`: a NumPy array or torch tensor (N, width) with N > k.
    """
    k = require_positive_int("k", k, "(neighbours)")
    chunk_rows = require_positive_int("chunk_rows", chunk_rows)
    tensor = _as_features(features, "features")
    _require_more_rows_than_k(tensor, "features", k)
    return _radii(tensor, k, chunk_rows).numpy()


def precision_recall(
    real_features: object,
    fake_features: object,
    k: int = DEFAULT_K,
    *,
    chunk_rows: int = CHUNK_ROWS,
    real_radii: np.ndarray | None = None,
) -> tuple[float, float]:
    """(precision, recall) of fake against real features, with manifolds from k-nearest-neighbour balls.

    precision: the share of fake points within the ball of at least one real point (on its edge counts);
    recall: the share of real points within the ball of at least one fake point. Both sets are NumPy arrays or
    torch tensors (samples, width) of the same width with more than k rows, such as
    course.quality.classifier_features gives. Distances are computed `chunk_rows` rows at a time.
    `real_radii`, the real set's `manifold_radii` with the same k, saves computing them again when one real set
    scores many fake ones.
    """
    k = require_positive_int("k", k, "(neighbours)")
    chunk_rows = require_positive_int("chunk_rows", chunk_rows)
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real_features and fake_features must have the same width (features per point), got {real.shape[1]} "
            f"and {fake.shape[1]}. Compute both with the same feature extractor."
        )
    _require_more_rows_than_k(real, "real_features", k)
    _require_more_rows_than_k(fake, "fake_features", k)
    if real_radii is None:
        real_radii = _radii(real, k, chunk_rows)
    else:
        real_radii = torch.as_tensor(np.asarray(real_radii, dtype=np.float64))
        if real_radii.shape != (len(real),):
            raise ValueError(
                f"real_radii must hold one radius per real point ({len(real)}), got shape {tuple(real_radii.shape)}: "
                "pass manifold_radii(real_features, k), or leave it out."
            )
    fake_radii = _radii(fake, k, chunk_rows)
    fake_inside_real = torch.empty(len(fake), dtype=torch.bool)
    real_inside_fake = torch.zeros(len(real), dtype=torch.bool)
    for start in range(0, len(fake), chunk_rows):
        block = _distances(fake[start : start + chunk_rows], real)  # (fake rows, real rows)
        fake_inside_real[start : start + len(block)] = (block <= real_radii).any(dim=1)
        real_inside_fake |= (block <= fake_radii[start : start + len(block), None]).any(dim=0)
    return float(fake_inside_real.double().mean()), float(real_inside_fake.double().mean())
