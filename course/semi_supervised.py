"""A semi-supervised GAN: a discriminator that learns the classes from a few labels, many unlabelled images and fakes.

After Odena (2016) and Salimans et al. (2016). The discriminator is notebook 03's SmallCNN with one
output more than there are classes: K scores for the K classes and one for "fake". It learns from
three kinds of batch at every step:

* labelled images: cross-entropy of all K+1 scores against their class (the only place labels enter);
* unlabelled real images: they should be some class, not fake, so -log(1 - p(fake));
* the generator's images: -log p(fake).

The generator does not try to fool the discriminator's verdict directly; it matches the mean of the
discriminator's hidden features on real images (feature matching), which keeps its fakes varied and
close to the data, where they teach the discriminator most. Images are in 0..1 throughout, as for
every classifier of the course; the generator's tanh output is mapped there. Notebook 08 writes
the losses and `train_step` out and checks them against these.

`run_comparison` sets it against notebook 04's scratch and transfer learning fairly: every method
takes the same number of gradient steps, chooses its learning rate on validation images, and is
scored on the test images once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import pandas as pd
import torch
from torch.nn import functional as F

from course.data import FashionMNIST
from course.gan_networks import Generator
from course.metrics import accuracy
from course.models import SmallCNN
from course.progress import tqdm
from course.runs import ResultsStore, run_folder
from course.scale import by_scale, require_scale
from course.transfer import TARGET_CLASSES, Task, TransferSettings, make_task, steps_per_run, train_on_few_labels
from course.validation import require_positive_int

METHODS = ("scratch", "transfer", "semi-supervised GAN")
BETAS = (0.5, 0.999)  # Adam's, for every method of the comparison: the GAN's usual choice (notebook 06)


@dataclass(frozen=True)
class SemiSupervisedSettings:
    """Sizes and rates of the semi-supervised runs and of the comparison.

    `for_scale` gives the course's choice at each scale.
    """

    steps: int = 640  # gradient steps of every run, whatever the method: the budget the comparison holds equal
    labelled_batch: int = 32  # drawn with replacement from the few labelled images; notebook 04's batch size
    unlabelled_batch: int = 64  # real images without their labels, and as many fakes
    learning_rate: float = 1e-3  # where the rate starts; it falls linearly to zero over the steps
    latent_size: int = 64
    learning_rates: tuple[float, ...] = (1e-3, 3e-3)  # each method's learning rate is chosen from these
    validation_images_per_class: int = 200  # set aside to choose on; the same at every scale, and so are the draws
    tuning_draw: int = 100  # the draw of labelled images the rates are chosen on: none of the reported draws

    @classmethod
    def for_scale(cls, scale: str) -> SemiSupervisedSettings:
        require_scale(scale)
        return cls(steps=by_scale(scale, smoke=10, laptop=640, full=2880))

    def __post_init__(self):
        for name in ("steps", "labelled_batch", "unlabelled_batch", "latent_size", "validation_images_per_class"):
            require_positive_int(name, getattr(self, name))
        rates = (
            (self.learning_rate, *self.learning_rates)
            if isinstance(self.learning_rates, tuple) and self.learning_rates
            else ((),)
        )
        for rate in rates:
            if isinstance(rate, bool) or not (isinstance(rate, (int, float)) and 0 < rate < 1):
                raise ValueError(
                    "learning_rate and learning_rates must be numbers between 0 and 1 "
                    f"(learning_rates a non-empty tuple), got {rate!r}."
                )
        if isinstance(self.tuning_draw, bool) or not isinstance(self.tuning_draw, int) or self.tuning_draw < 0:
            raise ValueError(f"tuning_draw must be an int from 0 up, got {self.tuning_draw!r}.")

    def as_json(self) -> dict:
        """The settings as saved beside results (a list for the rates), to tell whether saved results match."""
        return {**asdict(self), "learning_rates": list(self.learning_rates)}


def hidden_features(discriminator: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """The discriminator's penultimate features (after the hidden layer's ReLU): what feature matching compares."""
    return discriminator.classifier[:-1](discriminator.features(images))


@torch.no_grad()
def predicted_classes(discriminator: SmallCNN, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The discriminator's class for each image, 0..K-1: the largest of the K class scores, "fake" left out."""
    discriminator.eval()
    return torch.cat(
        [discriminator(images[i : i + batch_size])[:, :-1].argmax(dim=1) for i in range(0, len(images), batch_size)]
    )


def labelled_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of all K+1 scores against the true class (never the last, "fake"), averaged over the batch.

    "fake" stays in the softmax's normaliser. Salimans et al. (2016) renormalise over the K class
    scores instead, which would be F.cross_entropy(logits[:, :-1], labels).
    """
    return F.cross_entropy(logits, labels)


def unlabelled_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log(1 - p(fake)) on real images plus -log p(fake) on fakes, each averaged over its batch.

    With p = softmax of the K+1 scores, 1 - p(fake) is the sum of the K class probabilities, so
    log(1 - p(fake)) = logsumexp(class scores) - logsumexp(all scores): no probability is formed.
    """
    real_is_some_class = torch.logsumexp(real_logits[:, :-1], dim=1) - torch.logsumexp(real_logits, dim=1)
    fake_is_fake = fake_logits[:, -1] - torch.logsumexp(fake_logits, dim=1)
    return -real_is_some_class.mean() - fake_is_fake.mean()


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """The generator's loss: the mean squared difference between the mean features of real images and of fakes.

    That is the squared distance between the two means divided by the number of features.
    """
    return ((real_features.mean(dim=0) - fake_features.mean(dim=0)) ** 2).mean()


def train_step(
    discriminator: SmallCNN,
    generator: Generator,
    d_optimizer: torch.optim.Optimizer,
    g_optimizer: torch.optim.Optimizer,
    labelled_images: torch.Tensor,
    labels: torch.Tensor,
    real: torch.Tensor,
    noise: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One `train_semi_supervised` step: the discriminator on the three batches, then the generator by feature matching.

    Returns the discriminator's and the generator's loss (without their graphs).
    """
    discriminator.train()
    generator.train()
    fake = (generator(noise) + 1) / 2  # tanh's -1..1 to the classifier's 0..1

    d_loss = labelled_loss(discriminator(labelled_images), labels) + unlabelled_loss(
        discriminator(real), discriminator(fake.detach())
    )
    d_optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    d_optimizer.step()

    g_loss = feature_matching_loss(hidden_features(discriminator, real).detach(), hidden_features(discriminator, fake))
    g_optimizer.zero_grad(set_to_none=True)
    g_loss.backward()
    g_optimizer.step()
    return d_loss.detach(), g_loss.detach()


def train_semi_supervised(
    task: Task,
    unlabelled: torch.Tensor,
    settings: SemiSupervisedSettings,
    seed: int,
    progress: bool = True,
    step: Callable = train_step,
    score_test: bool = True,
) -> tuple[SmallCNN, Generator, dict[str, float]]:
    """Train a K+1-output SmallCNN on the task's few labels, `unlabelled` images (N, 1, 28, 28) in 0..1 and fakes.

    Each step is one call of `step` (by default `train_step`; notebook 08 passes the one it wrote).
    Both networks use Adam with `BETAS`; the rate starts at `settings.learning_rate` and falls linearly
    to zero over the steps, as in notebook 04's training. Returns the discriminator, the generator, and the
    discriminator's accuracy on the labelled training images, on the validation images (if the task
    has them) and on the test images (unless `score_test` is False).
    """
    if unlabelled.ndim != 4 or unlabelled.shape[1:] != (1, 28, 28) or len(unlabelled) < settings.unlabelled_batch:
        raise ValueError(
            f"unlabelled must hold at least {settings.unlabelled_batch} images of shape (1, 28, 28), "
            f"got {tuple(unlabelled.shape)}."
        )
    device = task.train_images.device
    num_classes = len(task.class_names)
    torch.manual_seed(seed)
    # channels-last memory layout: a CPU pools and convolves these small batches faster in it (the same sums, rounded
    # differently); notebook 08's runs take about a fifth less time
    discriminator = SmallCNN(num_classes + 1).to(device, memory_format=torch.channels_last)
    generator = Generator(settings.latent_size).to(device)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=settings.learning_rate, betas=BETAS)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=settings.learning_rate, betas=BETAS)
    schedules = [
        torch.optim.lr_scheduler.LambdaLR(optimizer, lambda done: 1 - done / settings.steps)
        for optimizer in (d_optimizer, g_optimizer)
    ]
    draws = torch.Generator(device=device).manual_seed(seed)
    for _ in tqdm(
        range(settings.steps), desc="semi-supervised GAN", unit="step", mininterval=1.0, disable=not progress
    ):
        labelled = torch.randint(len(task.train_images), (settings.labelled_batch,), generator=draws, device=device)
        real = unlabelled[torch.randint(len(unlabelled), (settings.unlabelled_batch,), generator=draws, device=device)]
        noise = torch.randn(settings.unlabelled_batch, settings.latent_size, generator=draws, device=device)
        step(
            discriminator,
            generator,
            d_optimizer,
            g_optimizer,
            task.train_images[labelled],
            task.train_labels[labelled],
            real,
            noise,
        )
        for schedule in schedules:
            schedule.step()
    scores = {"train_accuracy": accuracy(predicted_classes(discriminator, task.train_images), task.train_labels)}
    if task.validation_images is not None:
        scores["validation_accuracy"] = accuracy(
            predicted_classes(discriminator, task.validation_images), task.validation_labels
        )
    if score_test:
        scores["test_accuracy"] = accuracy(predicted_classes(discriminator, task.test_images), task.test_labels)
    generator.eval()
    return discriminator, generator, scores


def _results(transfer_settings: TransferSettings, settings: SemiSupervisedSettings) -> ResultsStore:
    """Where the comparison's finished runs are kept: notebook 04's settings and these, with one row per run."""
    recorded = {"transfer": transfer_settings.as_json(), "semi_supervised": settings.as_json()}
    name = f"semi_supervised/{transfer_settings.scale}"
    return ResultsStore(run_folder(name) / "results.json", recorded, shown=f"runs/{name}/results.json")


def run_one(
    method: str,
    fashion: FashionMNIST,
    transfer_settings: TransferSettings,
    settings: SemiSupervisedSettings,
    device: torch.device,
    per_class: int,
    seed: int,
    learning_rate: float,
    pretrained: SmallCNN | None = None,
    score_test: bool = False,
    step: Callable = train_step,
    progress: bool = True,
    record: bool = True,
) -> tuple[Task, SmallCNN, Generator | None, dict[str, float]]:
    """One run of the comparison: `method` on draw `seed` of `per_class` labels per class.

    The run trains at `learning_rate` for `settings.steps` steps.
    The task sets `settings.validation_images_per_class` validation images of each class aside; the
    semi-supervised GAN's unlabelled pool is every other training image of the five classes. With `record`,
    the run's scores are added to the results file, so `run_comparison` does not train it again.
    Returns the task, the trained classifier, the generator (None for scratch and transfer) and the scores.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if per_class not in transfer_settings.labels_per_class:
        raise ValueError(
            f"per_class must be one of {transfer_settings.labels_per_class} at scale {transfer_settings.scale!r}, "
            f"got {per_class}."
        )
    task = make_task(
        fashion,
        TARGET_CLASSES,
        device,
        per_class,
        seed,
        transfer_settings.test_images_per_class,
        settings.validation_images_per_class,
    )
    generator = None
    if method == "semi-supervised GAN":
        pool = make_task(
            fashion,
            TARGET_CLASSES,
            device,
            None,
            0,
            transfer_settings.test_images_per_class,
            settings.validation_images_per_class,
        ).train_images
        one_rate = replace(settings, learning_rate=learning_rate)
        model, generator, scores = train_semi_supervised(
            task, pool, one_rate, seed, progress=progress, step=step, score_test=score_test
        )
    else:
        same_budget = _same_budget(transfer_settings, settings, learning_rate)
        model, scores = train_on_few_labels(
            method, task, same_budget, seed, pretrained, score_test=score_test, betas=BETAS
        )
    if record:
        store = _results(transfer_settings, settings)
        rows, row = store.rows(), _row(method, per_class, seed, learning_rate, transfer_settings, settings, scores)
        if _planned_run(row) not in {_planned_run(saved) for saved in rows}:
            store.save([*rows, row])
    return task, model, generator, scores


def _same_budget(
    transfer: TransferSettings, settings: SemiSupervisedSettings, learning_rate: float
) -> TransferSettings:
    """Notebook 04's settings for scratch and transfer, at the semi-supervised GAN's steps and labelled batch."""
    return replace(transfer, steps=settings.steps, learning_rate=learning_rate, batch_size=settings.labelled_batch)


def _row(
    method: str,
    per_class: int,
    seed: int,
    learning_rate: float,
    transfer_settings: TransferSettings,
    settings: SemiSupervisedSettings,
    scores: dict[str, float],
) -> dict:
    """The results file's row for one run: which run it was, the gradient steps it took, and its scores."""
    if method == "semi-supervised GAN":
        steps = settings.steps
    else:  # whole epochs over the task's labelled images, as close to the GAN's steps as they come
        labelled_images = len(TARGET_CLASSES) * per_class
        steps = steps_per_run(_same_budget(transfer_settings, settings, learning_rate), labelled_images)[2]
    planned = {"method": method, "labels_per_class": per_class, "seed": seed, "learning_rate": learning_rate}
    return {**planned, "steps": steps, **scores}


def _planned_run(row: dict) -> tuple[str, int, int, float, bool]:
    """The run a saved row stands for: method, label budget, draw, rate, and whether it scored the test images."""
    return row["method"], row["labels_per_class"], row["seed"], row["learning_rate"], "test_accuracy" in row


COLUMNS = [
    "method",
    "labels_per_class",
    "seed",
    "learning_rate",
    "steps",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
]


def run_comparison(
    fashion: FashionMNIST,
    transfer_settings: TransferSettings,
    settings: SemiSupervisedSettings,
    device: torch.device,
    pretrained: SmallCNN,
    step: Callable = train_step,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scratch, transfer and the semi-supervised GAN at notebook 04's label budgets, `settings.steps` steps per run.

    First, for each budget and method, one run per rate in `settings.learning_rates` on the tuning
    draw, scored on the validation images only; the best (the smaller rate on a tie) is that
    method's rate at that budget. Then draws 0 to `transfer_settings.seeds` - 1, each trained once at
    its method's rate and scored on the test images once. Every run is saved to
    runs/semi_supervised/<scale>/results.json as it finishes and reused while the settings match.
    Returns the tuning runs and the reported runs, one row each, the latter with the gap (train - test).
    """
    if settings.tuning_draw in range(transfer_settings.seeds):
        raise ValueError(
            f"tuning_draw must not be one of the reported draws 0 to {transfer_settings.seeds - 1}, "
            f"got {settings.tuning_draw}."
        )
    store = _results(transfer_settings, settings)

    def run(method: str, per_class: int, seed: int, rate: float, score_test: bool) -> dict:
        arguments = (
            method,
            fashion,
            transfer_settings,
            settings,
            device,
            per_class,
            seed,
            rate,
            pretrained,
            score_test,
            step,
        )
        _, _, _, scores = run_one(*arguments, progress=False, record=False)
        return _row(method, per_class, seed, rate, transfer_settings, settings, scores)  # run_missing records it

    def rows(tested: bool) -> pd.DataFrame:
        return pd.DataFrame([row for row in store.rows() if ("test_accuracy" in row) == tested], columns=COLUMNS)

    budgets, draw = transfer_settings.labels_per_class, settings.tuning_draw
    plan = [(m, n, draw, r, False) for n in budgets for m in METHODS for r in settings.learning_rates]
    store.run_missing(plan, _planned_run, run, "choosing learning rates")
    tuning = rows(tested=False).drop(columns="test_accuracy")
    tuning = tuning[tuning["seed"] == draw].sort_values(
        ["labels_per_class", "method", "learning_rate"], ignore_index=True
    )
    best = tuning.loc[tuning.groupby(["labels_per_class", "method"])["validation_accuracy"].idxmax()]
    chosen = {(row.method, row.labels_per_class): row.learning_rate for row in best.itertuples()}

    plan = [(m, n, s, chosen[m, n], True) for n in budgets for s in range(transfer_settings.seeds) for m in METHODS]
    store.run_missing(plan, _planned_run, run, "reported runs")
    results = rows(tested=True)
    results = results[
        [chosen.get((row.method, row.labels_per_class)) == row.learning_rate for row in results.itertuples()]
    ]
    results = results.assign(gap=results["train_accuracy"] - results["test_accuracy"])
    return tuning, results.sort_values(["labels_per_class", "method", "seed"], ignore_index=True)
