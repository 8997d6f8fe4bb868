"""Transfer learning with few labels, as notebook 04 teaches it and notebook 08 compares against it.

The source task has plenty of labels and no dresses; the target task has the other five classes,
Dress among them, with only a few labelled images per class. One network is pretrained on the
source; for the target its convolution layers are frozen and its top is fine-tuned slowly. The
same network trained from scratch on the same few labels is the comparison.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from course.data import CLASS_NAMES, FashionMNIST, image_tensors
from course.models import SmallCNN, freeze
from course.runs import ResultsStore, load_json, load_weights, run_folder, save_json, save_weights
from course.scale import by_scale, require_scale
from course.training import evaluate, train_classifier

VALIDATION_DRAW = 54321  # the seed of the validation images' draw: the same ones for every run
SOURCE_CLASSES = (0, 1, 2, 7, 9)  # T-shirt/top, Trouser, Pullover, Sneaker, Ankle boot: no dresses
TARGET_CLASSES = (3, 4, 5, 6, 8)  # Dress, Coat, Sandal, Shirt, Bag
METHODS = ("scratch", "transfer")


@dataclass(frozen=True)
class TransferSettings:
    """Sizes of the experiment; `for_scale` gives the course's choice at each scale."""

    scale: str
    labels_per_class: tuple[int, ...] = (10, 50, 200)
    seeds: int = 3  # repeats, each with its own draw of labelled images and its own initial weights
    steps: int = 300  # gradient steps for every target-task training run, whatever the budget
    batch_size: int = 32
    learning_rate: float = 3e-3
    fine_tune_factor: float = 0.3  # the pretrained top layer learns this much slower than the new output
    pretrain_epochs: int = 3
    source_images_per_class: int = 6000  # 6,000 is every training image of a source class
    test_images_per_class: int = 1000  # 1,000 is the whole test split

    @classmethod
    def for_scale(cls, scale: str) -> TransferSettings:
        require_scale(scale)
        return cls(
            scale=scale,
            seeds=by_scale(scale, smoke=1, laptop=3, full=5),
            steps=by_scale(scale, smoke=10, laptop=300, full=300),
            pretrain_epochs=by_scale(scale, smoke=1, laptop=3, full=5),
            source_images_per_class=by_scale(scale, smoke=300, laptop=6000, full=6000),
            test_images_per_class=by_scale(scale, smoke=100, laptop=1000, full=1000),
        )

    def as_json(self) -> dict:
        """The settings as saved beside results (a list for the budgets), to tell whether saved results match."""
        return {**asdict(self), "labels_per_class": list(self.labels_per_class)}


@dataclass(frozen=True)
class Task:
    """A classification task on some Fashion-MNIST classes, relabelled 0..K-1, as tensors on a device.

    The validation images, when there are any, are labelled training images set aside for choosing
    settings, so that the test images are scored only once, at the end.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    class_names: tuple[str, ...]
    validation_images: torch.Tensor | None = None
    validation_labels: torch.Tensor | None = None


def pick_classes(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The images of `classes`, with labels renumbered 0..len(classes)-1 in that order."""
    if len(set(classes)) != len(classes) or not all(0 <= c < len(CLASS_NAMES) for c in classes):
        raise ValueError(f"classes must be distinct Fashion-MNIST labels 0-9, got {classes}.")
    keep = np.isin(labels, classes)
    renumber = np.full(len(CLASS_NAMES), -1)
    renumber[list(classes)] = np.arange(len(classes))
    return images[keep], renumber[labels[keep]]


def few_per_class(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` randomly drawn examples of each class, in a random order."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if not isinstance(per_class, (int, np.integer)) or not 1 <= per_class <= len(members):
            raise ValueError(
                f"per_class must be an int from 1 to {len(members)} (class {label}'s size), got {per_class!r}."
            )
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return rng.permutation(np.concatenate(chosen))


def make_task(
    fashion: FashionMNIST,
    classes: tuple[int, ...],
    device: torch.device,
    per_class: int | None = None,
    seed: int = 0,
    test_per_class: int = 1000,
    validation_per_class: int = 0,
) -> Task:
    """The task on `classes`: all training images, or `per_class` of each; `test_per_class` test images of each.

    With `validation_per_class`, that many training images of each class (one fixed draw) are set
    aside as validation images first; the training images, all or `per_class`, come from the rest.
    """
    train_images, train_labels = pick_classes(fashion.train_images, fashion.train_labels, classes)
    validation = {}
    if validation_per_class:
        held_out = np.sort(few_per_class(train_labels, validation_per_class, VALIDATION_DRAW))
        images, labels = image_tensors(train_images[held_out], train_labels[held_out], device)
        validation = {"validation_images": images, "validation_labels": labels}
        rest = np.setdiff1d(np.arange(len(train_labels)), held_out)
        train_images, train_labels = train_images[rest], train_labels[rest]
    if per_class is not None:
        keep = few_per_class(train_labels, per_class, seed)
        train_images, train_labels = train_images[keep], train_labels[keep]
    test_images, test_labels = pick_classes(fashion.test_images, fashion.test_labels, classes)
    keep = few_per_class(test_labels, test_per_class, seed=12345)  # the same test images for every run
    train = image_tensors(train_images, train_labels, device)
    test = image_tensors(test_images[np.sort(keep)], test_labels[np.sort(keep)], device)
    return Task(*train, *test, class_names=tuple(CLASS_NAMES[c] for c in classes), **validation)


def transfer_model(pretrained: SmallCNN, num_classes: int) -> SmallCNN:
    """A copy of the pretrained network with frozen convolutions and a new, untrained output layer."""
    model = copy.deepcopy(pretrained)
    freeze(model.features)
    hidden = model.classifier[-1].in_features
    model.classifier[-1] = nn.Linear(hidden, num_classes).to(next(model.parameters()).device)
    return model


ADAM_BETAS = (0.9, 0.999)  # Adam's own defaults: how much of the past its two running averages keep


def fine_tune_optimizer(model: SmallCNN, learning_rate: float, fine_tune_factor: float) -> torch.optim.Optimizer:
    """Adam with two groups: the pretrained top, then the new output layer.

    The pretrained top learns at `learning_rate * fine_tune_factor`, the new output layer at `learning_rate`.
    """
    output_layer = model.classifier[-1]
    pretrained_top = [p for p in model.classifier[:-1].parameters() if p.requires_grad]
    return torch.optim.Adam(
        [
            {"params": pretrained_top, "lr": learning_rate * fine_tune_factor},
            {"params": output_layer.parameters(), "lr": learning_rate},
        ]
    )


def steps_per_run(settings: TransferSettings, num_images: int) -> tuple[int, int, int]:
    """The batch size, the epochs and the gradient steps they make, for a run on `num_images` labelled images.

    Whole epochs come as close to `settings.steps` as they can: exactly, when the batches of an epoch divide it.
    """
    batch_size = min(settings.batch_size, num_images)
    batches_per_epoch = -(-num_images // batch_size)
    epochs = max(1, round(settings.steps / batches_per_epoch))
    return batch_size, epochs, epochs * batches_per_epoch


def train_on_few_labels(
    method: str,
    task: Task,
    settings: TransferSettings,
    seed: int,
    pretrained: SmallCNN | None = None,
    score_test: bool = True,
    betas: tuple[float, float] = ADAM_BETAS,
    make_model: Callable = transfer_model,
    make_optimizer: Callable = fine_tune_optimizer,
) -> tuple[SmallCNN, dict[str, float]]:
    """Train one network on the task's few labels, from scratch or by transfer; return it and its accuracies.

    A task with validation images is scored on them during training and at the end; `score_test=False`
    leaves the test images unscored (while settings are being chosen). `betas` are Adam's. Transfer builds
    its network with `make_model(pretrained, num_classes)` and its optimiser with `make_optimizer(model,
    learning_rate, fine_tune_factor)` (by default the course's; notebook 04 passes the ones it wrote).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    torch.manual_seed(seed)
    num_classes = len(task.class_names)
    device = task.train_images.device
    if method == "scratch":
        model = SmallCNN(num_classes).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate, betas=betas)
    else:
        if pretrained is None:
            raise ValueError("transfer needs the pretrained source network: pass pretrained=...")
        model = make_model(pretrained, num_classes)
        optimizer = make_optimizer(model, settings.learning_rate, settings.fine_tune_factor)
        for group in optimizer.param_groups:
            group["betas"] = betas  # Adam's, whichever function made the groups
    batch_size, epochs, _ = steps_per_run(settings, len(task.train_images))
    validating = task.validation_images is not None
    held_out = (task.validation_images, task.validation_labels) if validating else (task.test_images, task.test_labels)
    train_classifier(
        model,
        task.train_images,
        task.train_labels,
        *held_out,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=settings.learning_rate,
        optimizer=optimizer,
        eval_every=epochs,
        seed=seed,
        progress=False,
    )
    scores = {"train_accuracy": evaluate(model, task.train_images, task.train_labels)[1]}
    if validating:
        scores["validation_accuracy"] = evaluate(model, task.validation_images, task.validation_labels)[1]
    if score_test:
        scores["test_accuracy"] = evaluate(model, task.test_images, task.test_labels)[1]
    return model, scores


def pretrain(
    fashion: FashionMNIST, settings: TransferSettings, device: torch.device, progress: bool = True
) -> tuple[SmallCNN, float]:
    """The network trained on every labelled source image; returns it and its source test accuracy."""
    source = make_task(
        fashion, SOURCE_CLASSES, device, settings.source_images_per_class, test_per_class=settings.test_images_per_class
    )
    torch.manual_seed(0)
    model = SmallCNN(len(SOURCE_CLASSES)).to(device)
    train_classifier(
        model,
        source.train_images,
        source.train_labels,
        source.test_images,
        source.test_labels,
        epochs=settings.pretrain_epochs,
        learning_rate=settings.learning_rate,
        progress=progress,
        description="pretraining on the source task",
    )
    return model, evaluate(model, source.test_images, source.test_labels)[1]


def load_or_pretrain(fashion: FashionMNIST, settings: TransferSettings, device: torch.device) -> tuple[SmallCNN, float]:
    """The pretrained source network from the run folder, or trained now and saved there."""
    folder = run_folder(f"transfer/{settings.scale}")
    saved = load_json(folder / "source_model.json")
    if saved and saved.get("settings") == settings.as_json() and (folder / "source_model.pt").is_file():
        model = SmallCNN(len(SOURCE_CLASSES)).to(device)
        load_weights(model, folder / "source_model.pt")
        print(f"Loaded the pretrained source network from runs/transfer/{settings.scale}/source_model.pt")
        return model, saved["source_test_accuracy"]
    model, accuracy = pretrain(fashion, settings, device)
    save_weights(model, folder / "source_model.pt")
    save_json({"settings": settings.as_json(), "source_test_accuracy": accuracy}, folder / "source_model.json")
    return model, accuracy


def run_experiment(
    fashion: FashionMNIST,
    settings: TransferSettings,
    device: torch.device,
    make_model: Callable = transfer_model,
    make_optimizer: Callable = fine_tune_optimizer,
) -> pd.DataFrame:
    """Scratch against transfer at every label budget and seed; one row per run.

    Every transfer run builds its network and optimiser with `make_model` and `make_optimizer` (see
    `train_on_few_labels`). Results are saved to runs/transfer/<scale>/results.json after every run and
    reused when the settings match, so an interrupted experiment resumes where it stopped and notebook 08
    can read it.
    """
    shown = f"runs/transfer/{settings.scale}/results.json"
    store = ResultsStore(run_folder(f"transfer/{settings.scale}") / "results.json", settings.as_json(), shown=shown)
    pretrained = None  # loaded, or trained, only when a run is left to do

    def run(method: str, per_class: int, seed: int) -> dict:
        nonlocal pretrained
        if pretrained is None:
            pretrained, _ = load_or_pretrain(fashion, settings, device)
        task = make_task(fashion, TARGET_CLASSES, device, per_class, seed, settings.test_images_per_class)
        _, scores = train_on_few_labels(
            method, task, settings, seed, pretrained, make_model=make_model, make_optimizer=make_optimizer
        )
        return {"method": method, "labels_per_class": per_class, "seed": seed, **scores}

    def planned_run(row: dict) -> tuple[str, int, int]:
        return row["method"], row["labels_per_class"], row["seed"]

    plan = [(m, n, s) for n in settings.labels_per_class for s in range(settings.seeds) for m in METHODS]
    rows = store.run_missing(plan, planned_run, run, "scratch and transfer runs")
    results = pd.DataFrame(rows, columns=["method", "labels_per_class", "seed", "train_accuracy", "test_accuracy"])
    results["gap"] = results["train_accuracy"] - results["test_accuracy"]
    return results.sort_values(["labels_per_class", "method", "seed"], ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean train and test accuracy and gap per method and label budget, over the seeds."""
    columns = ["train_accuracy", "test_accuracy", "gap"]
    return results.groupby(["labels_per_class", "method"])[columns].mean().unstack("method")
