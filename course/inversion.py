"""Inversion: the noise vector from which a trained generator redraws a given image.

Notebook 10 writes the objective and the optimisation step and checks them against these. The objective for
a target image x (in the generator's range, -1..1) and a noise vector z of d numbers is

    pixel error (mean squared) + feature_weight * feature error + prior_weight * (|z| / sqrt(d) - 1)^2,

where the feature error compares the course's quality classifier's 64 hidden features of G(z) and of x
(Zhu et al. 2016 and Creswell and Bharath 2016 invert by optimisation; the last term keeps z near the
sphere where the generator's Gaussian noise lies). `invert` runs Adam on z from several random starts,
side by side, and keeps each image's best; `train_encoder` learns a network that guesses z in one pass, and
its guess can start the optimisation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from course.models import SmallCNN
from course.progress import tqdm
from course.validation import require_positive_int, require_seed


@dataclass(frozen=True)
class InversionSettings:
    """How `invert` searches: Adam's steps and rate, the two extra terms' weights, and random starts per image."""

    steps: int = 300
    learning_rate: float = 0.1  # Adam's, on the noise
    feature_weight: float = 0.01  # the classifier's features are larger numbers than pixels: a small weight
    prior_weight: float = 0.1
    restarts: int = 1

    def __post_init__(self):
        require_positive_int("steps", self.steps)
        require_positive_int("restarts", self.restarts)
        for name in ("learning_rate", "feature_weight", "prior_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of at least 0, got {value!r}.")
        if self.learning_rate == 0:
            raise ValueError("learning_rate must be above 0: at 0 the noise vectors never move.")


@dataclass(frozen=True)
class Inversion:
    """What `invert` found: one noise vector per image, its redrawn image, their pixel errors and the seconds taken."""

    noise: torch.Tensor  # (N, d)
    images: torch.Tensor  # (N, C, H, W) in -1..1
    pixel_error: torch.Tensor  # (N,): root mean squared error, in units of the 0..1 intensity range
    seconds: float


def sphere_penalty(noise: torch.Tensor) -> torch.Tensor:
    """(|z| / sqrt(d) - 1)^2 for each row z of `noise`: 0 on the sphere where Gaussian noise of d numbers lies."""
    return (noise.norm(dim=1) / math.sqrt(noise.shape[1]) - 1) ** 2


def hidden_features(classifier: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """The classifier's 64 hidden features of images in the generator's range -1..1 (the classifier reads 0..1)."""
    return classifier.classifier[:-1](classifier.features((images + 1) / 2))


def pixel_error(images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Root mean squared difference per image, in units of the 0..1 intensity range (images in -1..1)."""
    return ((images - targets) / 2).pow(2).flatten(1).mean(dim=1).sqrt()


def inversion_loss(
    generator: nn.Module,
    classifier: SmallCNN | None,
    noise: torch.Tensor,
    targets: torch.Tensor,
    settings: InversionSettings,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """The objective for each image (N,): pixels, plus the classifier's features, plus the sphere penalty."""
    drawn = generator(noise, labels)
    loss = (drawn - targets).pow(2).flatten(1).mean(dim=1)
    if settings.feature_weight > 0:
        difference = hidden_features(classifier, drawn) - hidden_features(classifier, targets)
        loss = loss + settings.feature_weight * difference.pow(2).mean(dim=1)
    return loss + settings.prior_weight * sphere_penalty(noise)


def inversion_step(
    generator: nn.Module,
    classifier: SmallCNN | None,
    noise: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    targets: torch.Tensor,
    settings: InversionSettings,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """One Adam step on the noise (a leaf tensor with requires_grad) for every image at once; returns each loss.

    The losses are summed, not averaged, so that each image's noise moves by its own loss alone.
    """
    loss = inversion_loss(generator, classifier, noise, targets, settings, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.sum().backward()
    optimizer.step()
    return loss.detach()


def invert(
    generator: nn.Module,
    targets: torch.Tensor,
    settings: InversionSettings,
    classifier: SmallCNN | None = None,
    labels: torch.Tensor | None = None,
    start: torch.Tensor | None = None,
    seed: int = 0,
    step: Callable = inversion_step,
    progress: bool = True,
) -> Inversion:
    """The noise from which `generator` (in eval mode) redraws each target image (N, C, H, W) in -1..1.

    Every image gets `settings.restarts` random starts (standard normal noise from `seed`), or starts at
    `start` (N, d), e.g. an encoder's guess, with the other restarts random. All are optimised side by side
    for `settings.steps` Adam steps; each image keeps the start that ended with the lowest objective.
    `step` is the optimisation step (notebook 10 passes the one it wrote).
    """
    require_seed("seed", seed)
    latent_size = generator.latent_size
    if targets.ndim != 4 or targets.shape[1:] != (generator.channels, generator.size, generator.size):
        raise ValueError(
            f"targets must have shape (N, {generator.channels}, {generator.size}, {generator.size}) for this "
            f"generator, got {tuple(targets.shape)}."
        )
    if settings.feature_weight > 0 and classifier is None:
        raise ValueError("feature_weight is above 0, so pass the classifier whose features it compares.")
    count, restarts = len(targets), settings.restarts
    device = targets.device
    draws = torch.Generator().manual_seed(seed)  # one draw per restart: restart 0 starts alike however many follow
    noise = torch.stack([torch.randn(count, latent_size, generator=draws) for _ in range(restarts)]).to(device)
    if start is not None:
        if start.shape != (count, latent_size):
            raise ValueError(f"start must have shape ({count}, {latent_size}), got {tuple(start.shape)}.")
        noise[0] = start.to(device)
    noise = noise.reshape(restarts * count, latent_size).requires_grad_(True)
    every_target = targets.repeat(restarts, 1, 1, 1)
    every_label = None if labels is None else labels.repeat(restarts)
    generator.eval()
    learning = [parameter for parameter in generator.parameters() if parameter.requires_grad]
    for parameter in learning:
        parameter.requires_grad_(False)  # only the noise learns
    optimizer = torch.optim.Adam([noise], lr=settings.learning_rate)
    began = time.perf_counter()
    try:
        for _ in tqdm(range(settings.steps), desc="inverting", unit="step", mininterval=1.0, disable=not progress):
            step(generator, classifier, noise, optimizer, every_target, settings, every_label)
        with torch.no_grad():
            final = inversion_loss(generator, classifier, noise, every_target, settings, every_label)
    finally:
        for parameter in learning:
            parameter.requires_grad_(True)
    best = final.reshape(restarts, count).argmin(dim=0)
    found = noise.detach().reshape(restarts, count, latent_size)[best, torch.arange(count, device=device)]
    with torch.no_grad():
        images = generator(found, labels)
    return Inversion(found, images, pixel_error(images, targets), time.perf_counter() - began)


def train_encoder(
    generator: nn.Module,
    steps: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    labels_for: Callable[[int, torch.Generator], torch.Tensor] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> SmallCNN:
    """Notebook 03's SmallCNN with one output per noise number, trained to guess z from G(z).

    Each step draws a batch of noise, draws its images with the generator (in eval mode, without gradients),
    and moves the encoder towards the noise by the mean squared error, with Adam at a rate falling linearly
    to zero. The encoder reads images in 0..1, as every classifier of the course. For a conditional
    generator, `labels_for(count, draws)` gives each batch's classes.
    """
    require_positive_int("steps", steps)
    require_positive_int("batch_size", batch_size)
    require_seed("seed", seed)
    device = next(generator.parameters()).device
    torch.manual_seed(seed)
    encoder = SmallCNN(num_classes=generator.latent_size).to(device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda done: 1 - done / steps)
    draws = torch.Generator().manual_seed(seed)
    generator.eval()
    encoder.train()
    for _ in tqdm(range(steps), desc="training the encoder", unit="step", mininterval=1.0, disable=not progress):
        noise = torch.randn(batch_size, generator.latent_size, generator=draws).to(device)
        labels = None if labels_for is None else labels_for(batch_size, draws).to(device)
        with torch.no_grad():
            images = generator(noise, labels)
        loss = (encoder((images + 1) / 2) - noise).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return encoder.eval()


@torch.no_grad()
def encode(encoder: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """The encoder's guess of the noise for images in -1..1: (N, d)."""
    encoder.eval()
    return encoder((images + 1) / 2)
