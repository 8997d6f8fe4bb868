"""How good are generated dresses, measured rather than judged by eye.

A fixed Fashion-MNIST classifier, trained once and committed, looks at the samples:

* dressness: the share of samples it calls Dress (real test dresses score about 0.9, not 1).
* squared Fréchet distance d²: fit a Gaussian to the classifier's 64 penultimate features of the samples
  and another to those of the 6,000 training dresses, and measure how far apart the two are (the idea
  of FID, which is this squared distance too, with this small classifier in place of Inception).
  Even real dresses are not at zero: the 1,000 test dresses are the real-vs-real floor, what a
  perfect generator would score with 1,000 samples. The distance shrinks as the number of samples
  grows, so compare 1,000 samples with it.
* precision and recall (course.precision_recall): the share of samples that lie among the training
  dresses' features, and the share of training dresses that lie among the samples'. A distance cannot
  tell few but perfect dresses from varied but blurry ones; these two can. The 1,000 test dresses'
  values are their reference.

Samples are what Fashion-MNIST holds: uint8 arrays (N, 28, 28), 0 the white background, 255 black ink.
The classifier's recipe is here too (`train_quality_classifier`), for `python -m course train-classifier`.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course.checksums import file_sha256
from course.data import DRESS, FashionMNIST, image_tensors, load_fashion_mnist
from course.device import pick_device
from course.models import SmallCNN, freeze
from course.precision_recall import DEFAULT_K, manifold_radii, precision_recall
from course.runs import load_weights
from course.training import train_classifier
from course.validation import require_positive_int

CLASSIFIER_PATH = Path(__file__).resolve().parent / "weights" / "fashion_classifier.pt"
CLASSIFIER_SHA256 = "ae5816ba5358c4a6edfad7bab3a761908e89a7a51235ed0076d698540d1a9a1c"
IMAGE_SHAPE = (28, 28)


# ---------------------------------------------------------------------------------------------
# The measuring classifier
# ---------------------------------------------------------------------------------------------


def load_quality_classifier(device: str | torch.device | None = None) -> SmallCNN:
    """The committed classifier, checked against CLASSIFIER_SHA256, frozen and in eval mode.

    Loaded once per device (default: `pick_device()`) and shared: do not train it.
    """
    device = torch.device(device) if device is not None else pick_device()
    return _load_checked(CLASSIFIER_PATH, CLASSIFIER_SHA256, str(device))


@functools.cache
def _load_checked(path: Path, sha256: str, device: str) -> SmallCNN:
    if not path.is_file():
        raise FileNotFoundError(
            f"The quality classifier's weights {path.name} are missing from {path.parent}. They are part of "
            "the course's repository: restore them with `git checkout -- course/weights/fashion_classifier.pt`, "
            "or retrain with `python -m course train-classifier` and update CLASSIFIER_SHA256 in course/quality.py."
        )
    digest = file_sha256(path)
    if digest != sha256:
        raise ValueError(
            f"{path.name} has been changed (SHA-256 {digest[:12]}..., expected {sha256[:12]}...), so its "
            "scores would not be comparable. Restore it with `git checkout -- course/weights/fashion_classifier.pt`, "
            "or, if you retrained it on purpose with `python -m course train-classifier`, set CLASSIFIER_SHA256 "
            f"in course/quality.py to {digest}."
        )
    model = SmallCNN(num_classes=10)
    load_weights(model, path)  # torch.load with weights_only=True: plain tensors, no code
    freeze(model)
    return model.to(device).eval()


def train_quality_classifier(
    fashion: FashionMNIST, device: str | torch.device, epochs: int = 8, seed: int = 0, progress: bool = True
) -> SmallCNN:
    """A SmallCNN trained on all 60,000 training images, scored on the 10,000 test images as it goes.

    `python -m course train-classifier` runs this and saves the result; 8 epochs reach about 91%.
    """
    device = torch.device(device)
    train_images, train_labels = image_tensors(fashion.train_images, fashion.train_labels, device)
    test_images, test_labels = image_tensors(fashion.test_images, fashion.test_labels, device)
    torch.manual_seed(seed)  # the initial weights
    model = SmallCNN(num_classes=10).to(device)
    train_classifier(
        model,
        train_images,
        train_labels,
        test_images,
        test_labels,
        epochs=epochs,
        batch_size=128,
        learning_rate=2e-3,
        seed=seed,
        progress=progress,
        description="quality classifier",
    )
    return model


# ---------------------------------------------------------------------------------------------
# What the classifier sees in samples
# ---------------------------------------------------------------------------------------------


def read_samples(path: Path) -> np.ndarray:
    """The uint8 images (N, 28, 28) in a .npy file, its header checked against its size before anything is read.

    Raises a ValueError naming the file when it is not a .npy file, holds something other than uint8
    images, or is shorter than its header says (a damaged header could otherwise ask for terabytes).
    """
    path = Path(path)
    fix = "write it again with `python -m course sample --out FILE.npy` (or numpy.save of uint8 images)"
    with open(path, "rb") as file:
        try:
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            shape, fortran_order, dtype = read_header[np.lib.format.read_magic(file)](file)
        except (ValueError, KeyError, SyntaxError, UnicodeDecodeError, EOFError):
            raise ValueError(f"{path.name} is not a NumPy .npy file (it lacks NumPy's header): {fix}.") from None
        header_bytes = file.tell()
    if dtype != np.uint8 or fortran_order:
        what = "Python objects" if dtype.hasobject else f"{dtype} numbers"
        raise ValueError(f"{path.name} holds {what}, not uint8 grey levels 0-255: {fix}.")
    if len(shape) != 3 or shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{path.name} holds an array of shape {shape}, not images (N, 28, 28): {fix}.")
    claimed, held = int(np.prod(shape, dtype=object)), path.stat().st_size - header_bytes
    if claimed != held:
        raise ValueError(
            f"{path.name}'s header says {shape[0]:,} images ({claimed:,} bytes) but the file holds {held:,} bytes "
            "after it: "
            f"it was cut short or damaged; {fix}."
        )
    return np.load(path, allow_pickle=False)


def require_samples(images: object, name: str = "samples") -> np.ndarray:
    """`images` unchanged if they are uint8 (N, 28, 28) with N >= 4; otherwise a TypeError or ValueError.

    Four images is the least that can be scored: precision and recall reach each image's third-nearest neighbour.
    """
    expected = "expected a uint8 NumPy array (N, 28, 28) of grey levels 0-255 with N >= 4, like Fashion-MNIST"
    fix = "convert to uint8 0-255 (N, 28, 28)"
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{name}: {expected}, got {type(images).__name__}; {fix}.")
    if images.dtype != np.uint8:
        raise TypeError(f"{name}: {expected}, got dtype {images.dtype}; {fix}.")
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{name}: {expected}, got shape {images.shape}; {fix}.")
    if len(images) <= DEFAULT_K:
        raise ValueError(
            f"{name}: {expected}, got {len(images)} image(s); precision and recall measure each image's distance "
            f"to its {DEFAULT_K}rd-nearest neighbour, so score at least {DEFAULT_K + 1} "
            "(1,000 to compare with real dresses)."
        )
    return images


def _or_committed(classifier: SmallCNN | None) -> SmallCNN:
    """`classifier`, or the committed one when None."""
    if classifier is None:
        return load_quality_classifier()
    if not isinstance(classifier, SmallCNN):
        raise TypeError(
            f"classifier must be a SmallCNN such as load_quality_classifier() gives, got {type(classifier).__name__}."
        )
    return classifier


@torch.no_grad()
def _look_at(images: np.ndarray, classifier: SmallCNN, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's penultimate features (N, 64) as float64 and its predicted class (N,)."""
    require_positive_int("batch_size", batch_size)
    classifier.eval()
    device = next(classifier.parameters()).device
    hidden_layers, output_layer = classifier.classifier[:-1], classifier.classifier[-1]
    features, predictions = [], []
    for start in range(0, len(images), batch_size):
        batch = image_tensors(images[start : start + batch_size], device=device)
        hidden = hidden_layers(classifier.features(batch))
        features.append(hidden.cpu().double().numpy())
        predictions.append(output_layer(hidden).argmax(1).cpu().numpy())
    return np.concatenate(features), np.concatenate(predictions)


def classifier_features(images: np.ndarray, classifier: SmallCNN | None = None, batch_size: int = 1000) -> np.ndarray:
    """The classifier's penultimate features of each image (after the hidden layer's ReLU): (N, 64) float64."""
    images = require_samples(images, "images")
    return _look_at(images, _or_committed(classifier), batch_size)[0]


def classify(images: np.ndarray, classifier: SmallCNN | None = None) -> np.ndarray:
    """The classifier's class for each image (N,): how the course judges what a generated image shows."""
    images = require_samples(images, "images")
    return _look_at(images, _or_committed(classifier), 1000)[1]


def dressness(images: np.ndarray, classifier: SmallCNN | None = None) -> float:
    """The share of images the classifier calls Dress."""
    return float((classify(images, classifier) == DRESS).mean())


# ---------------------------------------------------------------------------------------------
# The squared Fréchet distance between two feature sets
# ---------------------------------------------------------------------------------------------


def _gaussian(features: object, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (N - 1 in the denominator) of 2-D features, in float64."""
    if not isinstance(features, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array (samples, features), got {type(features).__name__}.")
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"{name} must be a 2-D array (samples, features) with at least 2 rows, got shape {features.shape}."
        )
    if not np.issubdtype(features.dtype, np.number) or not np.isfinite(features).all():
        raise ValueError(f"{name} must hold finite numbers, got dtype {features.dtype} with NaN, inf or non-numbers.")
    features = features.astype(np.float64)
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _frechet(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    # tr((S_a S_b)^(1/2)) = tr((R S_b R)^(1/2)) with R = S_a^(1/2): S_a S_b = R (R S_b) has the eigenvalues
    # of (R S_b) R, which is symmetric, so eigh applies and no complex numbers appear.
    root_a = _symmetric_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_of_root = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_of_root
    return max(float(distance), 0.0)  # exactly >= 0; rounding can leave -1e-12 for identical sets


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Squared Fréchet distance d² between Gaussians fitted to two feature sets (rows are samples).

    ||mu_a - mu_b||² + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)); for one feature, the squared
    difference of the means plus the squared difference of the standard deviations.
    """
    mean_a, cov_a = _gaussian(features_a, "features_a")
    mean_b, cov_b = _gaussian(features_b, "features_b")
    if len(mean_a) != len(mean_b):
        raise ValueError(
            f"features_a and features_b must have the same number of columns, got {len(mean_a)} and {len(mean_b)}."
        )
    return _frechet(mean_a, cov_a, mean_b, cov_b)


# ---------------------------------------------------------------------------------------------
# Samples against real dresses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RealDresses:
    """What real dresses score: the yardstick for samples, computed once per data and classifier."""

    train_mean: np.ndarray  # the 6,000 training dresses' features: the Gaussian samples are compared with
    train_cov: np.ndarray
    train_features: np.ndarray  # ... and the features themselves, with each one's k-nearest-neighbour radius,
    train_radii: np.ndarray  # for precision and recall
    floor: float  # squared Fréchet distance from the 1,000 test dresses to the training dresses
    test_dressness: float  # share of the test dresses called Dress (the classifier's dress recall)
    test_precision: float  # precision and recall of the 1,000 test dresses against the training dresses
    test_recall: float


_real_dresses_cache: dict[tuple[str, str], _RealDresses] = {}


def _content_digest(arrays: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _real_dresses(fashion: FashionMNIST | None, classifier: SmallCNN) -> _RealDresses:
    # Keyed by content, not identity, so a classifier trained further or other data are never mistaken
    # for the cached ones; with fashion=None the data are the verified Fashion-MNIST, loaded only once.
    weights = [tensor.detach().cpu().numpy() for tensor in classifier.state_dict().values()]
    dresses = [] if fashion is None else [fashion.dresses("train"), fashion.dresses("test")]
    key = ("verified Fashion-MNIST" if fashion is None else _content_digest(dresses), _content_digest(weights))
    if key not in _real_dresses_cache:
        fashion = fashion if fashion is not None else load_fashion_mnist()
        train_features, _ = _look_at(require_samples(fashion.dresses("train"), "training dresses"), classifier, 1000)
        test_features, test_predictions = _look_at(
            require_samples(fashion.dresses("test"), "test dresses"), classifier, 1000
        )
        train_mean, train_cov = _gaussian(train_features, "training dress features")
        train_radii = manifold_radii(train_features)
        test_precision, test_recall = precision_recall(train_features, test_features, real_radii=train_radii)
        _real_dresses_cache[key] = _RealDresses(
            train_mean=train_mean,
            train_cov=train_cov,
            train_features=train_features,
            train_radii=train_radii,
            floor=_frechet(*_gaussian(test_features, "test dress features"), train_mean, train_cov),
            test_dressness=float((test_predictions == DRESS).mean()),
            test_precision=test_precision,
            test_recall=test_recall,
        )
    return _real_dresses_cache[key]


def real_floor(fashion: FashionMNIST | None = None, classifier: SmallCNN | None = None) -> float:
    """Squared Fréchet distance between the 1,000 test dresses and the 6,000 training dresses: real against real."""
    return _real_dresses(fashion, _or_committed(classifier)).floor


@dataclass(frozen=True)
class QualityReport:
    """How a set of samples scores, next to what real test dresses score."""

    samples: int
    dressness: float  # share of samples called Dress
    frechet_distance: float  # squared, d², to the 6,000 training dresses, in the classifier's feature space
    floor: float  # the same distance for the 1,000 real test dresses
    real_dressness: float  # share of the real test dresses called Dress
    precision: float  # share of samples within the training dresses' manifold (course.precision_recall)
    recall: float  # share of training dresses within the samples' manifold
    real_precision: float  # the same two for the 1,000 real test dresses
    real_recall: float

    @property
    def distance_over_floor(self) -> float:
        """How many times the real-vs-real floor the samples' d² is: a ratio of squared distances, 1 as good as real."""
        return self.frechet_distance / self.floor

    def __str__(self) -> str:
        line = (
            f"{self.samples:,} samples: dressness {self.dressness:.2f} (real test dresses: {self.real_dressness:.2f})"
            f" · squared Fréchet distance d² {self.frechet_distance:.3g} (real-vs-real floor {self.floor:.3g},"
            f" {self.distance_over_floor:.1f}x) · precision {self.precision:.2f}, recall {self.recall:.2f}"
            f" (real test dresses: {self.real_precision:.2f}, {self.real_recall:.2f})"
        )
        if self.samples != 1000:  # fewer samples inflate the distance: 100 real dresses score about 5x the floor
            line += " · the floor is for 1,000 samples: score 1,000 to compare with it"
        return line


def evaluate_samples(
    samples: np.ndarray, fashion: FashionMNIST | None = None, classifier: SmallCNN | None = None
) -> QualityReport:
    """Score samples against the 6,000 training dresses; use 1,000 samples to compare them with the floor.

    `fashion` defaults to the verified Fashion-MNIST and `classifier` to the committed one; what real
    dresses score is computed once and kept, so scoring many sample sets is cheap.
    """
    samples = require_samples(samples)
    classifier = _or_committed(classifier)
    real = _real_dresses(fashion, classifier)
    features, predictions = _look_at(samples, classifier, 1000)
    precision, recall = precision_recall(real.train_features, features, real_radii=real.train_radii)
    return QualityReport(
        samples=len(samples),
        dressness=float((predictions == DRESS).mean()),
        frechet_distance=_frechet(*_gaussian(features, "sample features"), real.train_mean, real.train_cov),
        floor=real.floor,
        real_dressness=real.test_dressness,
        precision=precision,
        recall=recall,
        real_precision=real.test_precision,
        real_recall=real.test_recall,
    )
