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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd
import torch
from torch.nn import functional as F

from course.checks import check_positive_int
from course.data import FashionMNIST
from course.gan_networks import Generator
from course.metrics import accuracy
from course.models import SmallCNN
from course.progress import tqdm
from course.runs import ResultsStore, run_folder
from course.scale import by_scale, check_scale
from course.transfer import TARGET_CLASSES, Task, TransferSettings, make_task


@dataclass(frozen=True)
class SemiSupervisedSettings:
    """Sizes and rates of one semi-supervised run; `for_scale` gives the course's choice at each scale."""

    steps: int = 1000
    labelled_batch: int = 32  # drawn with replacement from the few labelled images
    unlabelled_batch: int = 64  # real images without their labels, and as many fakes
    learning_rate: float = 1e-3
    latent_size: int = 64

    @classmethod
    def for_scale(cls, scale: str) -> SemiSupervisedSettings:
        check_scale(scale)
        return cls(steps=by_scale(scale, smoke=10, laptop=1000, full=3000))

    def __post_init__(self):
        for name in ("steps", "labelled_batch", "unlabelled_batch", "latent_size"):
            check_positive_int(name, getattr(self, name))
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ValueError(f"learning_rate must be a number between 0 and 1, got {self.learning_rate!r}.")


def hidden_features(discriminator: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """The discriminator's penultimate features (after the hidden layer's ReLU): what feature matching compares."""
    return discriminator.classifier[:-1](discriminator.features(images))


@torch.no_grad()
def predicted_classes(discriminator: SmallCNN, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The discriminator's class for each image, 0..K-1: the largest of the K class scores, "fake" left out."""
    discriminator.eval()
    return torch.cat([discriminator(images[i : i + batch_size])[:, :-1].argmax(dim=1) for i in range(0, len(images), batch_size)])


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
    """The generator's loss: the squared difference between the mean features of real images and of fakes, averaged over the features.

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
    """One step of `train_semi_supervised`: the discriminator on the three batches, then the generator by feature matching.

    Returns the discriminator's and the generator's loss (without their graphs).
    """
    discriminator.train()
    generator.train()
    fake = (generator(noise) + 1) / 2  # tanh's -1..1 to the classifier's 0..1

    d_loss = labelled_loss(discriminator(labelled_images), labels) + unlabelled_loss(discriminator(real), discriminator(fake.detach()))
    d_optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    d_optimizer.step()

    g_loss = feature_matching_loss(hidden_features(discriminator, real).detach(), hidden_features(discriminator, fake))
    g_optimizer.zero_grad(set_to_none=True)
    g_loss.backward()
    g_optimizer.step()
    return d_loss.detach(), g_loss.detach()


def train_semi_supervised(
    task: Task, unlabelled: torch.Tensor, settings: SemiSupervisedSettings, seed: int, progress: bool = True, step: Callable = train_step
) -> tuple[SmallCNN, Generator, dict[str, float]]:
    """Train a K+1-output SmallCNN on the task's few labels, `unlabelled` images (N, 1, 28, 28) in 0..1 and fakes.

    Each step is one call of `step` (by default `train_step`; notebook 08 passes the one it wrote).
    Returns the discriminator, the generator, and the discriminator's accuracy on the labelled
    training images and on the task's test images.
    """
    if unlabelled.ndim != 4 or unlabelled.shape[1:] != (1, 28, 28) or len(unlabelled) < settings.unlabelled_batch:
        raise ValueError(f"unlabelled must hold at least {settings.unlabelled_batch} images of shape (1, 28, 28), got {tuple(unlabelled.shape)}.")
    device = task.train_images.device
    num_classes = len(task.class_names)
    torch.manual_seed(seed)
    discriminator = SmallCNN(num_classes + 1).to(device)
    generator = Generator(settings.latent_size).to(device)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=settings.learning_rate, betas=(0.5, 0.999))
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=settings.learning_rate, betas=(0.5, 0.999))
    draws = torch.Generator(device=device).manual_seed(seed)
    for _ in tqdm(range(settings.steps), desc="semi-supervised GAN", unit="step", mininterval=1.0, disable=not progress):
        labelled = torch.randint(len(task.train_images), (settings.labelled_batch,), generator=draws, device=device)
        real = unlabelled[torch.randint(len(unlabelled), (settings.unlabelled_batch,), generator=draws, device=device)]
        noise = torch.randn(settings.unlabelled_batch, settings.latent_size, generator=draws, device=device)
        step(discriminator, generator, d_optimizer, g_optimizer, task.train_images[labelled], task.train_labels[labelled], real, noise)
    scores = {
        "train_accuracy": accuracy(predicted_classes(discriminator, task.train_images), task.train_labels),
        "test_accuracy": accuracy(predicted_classes(discriminator, task.test_images), task.test_labels),
    }
    generator.eval()
    return discriminator, generator, scores


def _results(transfer_settings: TransferSettings, settings: SemiSupervisedSettings) -> ResultsStore:
    """Where the experiment's finished runs are kept: notebook 04's settings and these, with one row per run."""
    recorded = {"transfer": transfer_settings.as_json(), "semi_supervised": asdict(settings)}
    return ResultsStore(run_folder(f"semi_supervised/{transfer_settings.scale}") / "results.json", recorded)


def run_one(
    fashion: FashionMNIST,
    transfer_settings: TransferSettings,
    settings: SemiSupervisedSettings,
    device: torch.device,
    per_class: int,
    seed: int,
    progress: bool = True,
    step: Callable = train_step,
) -> tuple[Task, SmallCNN, Generator, dict[str, float]]:
    """One run of the experiment: notebook 04's draw `seed` of `per_class` labels per class, and the unlabelled pool.

    Its scores are added to the results file, so `run_experiment` does not train it again.
    Returns the task, the discriminator, the generator and the scores.
    """
    if per_class not in transfer_settings.labels_per_class or seed not in range(transfer_settings.seeds):
        raise ValueError(f"per_class must be one of {transfer_settings.labels_per_class} and seed from 0 to "
                         f"{transfer_settings.seeds - 1} at scale {transfer_settings.scale!r}; got {per_class} and {seed}.")  # fmt: skip
    pool = make_task(fashion, TARGET_CLASSES, device, None, 0, transfer_settings.test_images_per_class).train_images
    task = make_task(fashion, TARGET_CLASSES, device, per_class, seed, transfer_settings.test_images_per_class)
    discriminator, generator, scores = train_semi_supervised(task, pool, settings, seed, progress=progress, step=step)
    store = _results(transfer_settings, settings)
    rows = store.rows()
    if (per_class, seed) not in {(row["labels_per_class"], row["seed"]) for row in rows}:
        store.save([*rows, {"method": "semi-supervised GAN", "labels_per_class": per_class, "seed": seed, **scores}])
    return task, discriminator, generator, scores


def run_experiment(
    fashion: FashionMNIST, transfer_settings: TransferSettings, settings: SemiSupervisedSettings, device: torch.device, step: Callable = train_step
) -> pd.DataFrame:
    """The semi-supervised GAN at notebook 04's label budgets, seeds and test images; one row per run.

    Each run is saved to runs/semi_supervised/<scale>/results.json as it finishes (see `run_one`) and
    reused while the settings match, so an interrupted experiment resumes where it stopped.
    """
    store = _results(transfer_settings, settings)
    done = {(row["labels_per_class"], row["seed"]) for row in store.rows()}
    plan = [(n, s) for n in transfer_settings.labels_per_class for s in range(transfer_settings.seeds)]
    todo = [run for run in plan if run not in done]
    if done:
        print(f"Loaded {len(plan) - len(todo)} finished run(s) from runs/semi_supervised/{transfer_settings.scale}/results.json")
    for per_class, seed in tqdm(todo, desc="semi-supervised runs", unit="run", disable=not todo):
        run_one(fashion, transfer_settings, settings, device, per_class, seed, progress=False, step=step)
    results = pd.DataFrame(store.rows(), columns=["method", "labels_per_class", "seed", "train_accuracy", "test_accuracy"])
    results["gap"] = results["train_accuracy"] - results["test_accuracy"]
    return results.sort_values(["labels_per_class", "seed"], ignore_index=True)
