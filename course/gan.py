"""The GAN game, as the lessons write it: settings, networks and optimisers, the losses, one training step.

By default the networks are the DCGAN pair for Fashion-MNIST's 28x28 grey images (course.gan_networks);
a config can ask for the ResNet pair, colour images of 32 or 64 pixels, or class-conditional networks.
The four losses share everything but the game's rules:

* `dcgan`: the discriminator tells real from fake with a cross-entropy loss, aiming at 0.9 rather
  than 1 for real images (one-sided label smoothing, Salimans et al. 2016); the generator uses the
  non-saturating loss, -log D(G(z)) (Goodfellow et al. 2014). Adam, learning rate 2e-4, betas
  (0.5, 0.999) (Radford et al. 2016).
* `wgan`: a critic scores images; the generator raises the score of its fakes. The critic is kept
  Lipschitz by clipping its weights to [-0.01, 0.01]; RMSprop 5e-5, five critic steps per
  generator step (Arjovsky et al. 2017).
* `wgan-gp`: the same game, with a gradient penalty (weight 10) instead of clipping and no batch
  norm in the critic; Adam 1e-4, betas (0.5, 0.9), five critic steps (Gulrajani et al. 2017).
* `hinge`: the discriminator pushes real scores above 1 and fake scores below -1, a hinge loss (Lim and Ye
  2017), and the generator raises its fakes' scores; the discriminator is kept smooth by spectral
  normalisation of every layer's weights instead of batch norm (Miyato et al. 2018). Adam 2e-4, betas
  (0.5, 0.999), one discriminator step, as in that paper's setting for the DCGAN-style networks.

`train_step` is one step of the game: the discriminator's move(s), then the generator's. Notebooks
06 and 07 write it themselves; the long run (course.gan_training) calls this one, or theirs.
`update_average` keeps an exponential moving average of the generator's weights (`ema_decay`), which
often draws better images than the generator's latest weights (Yazici et al. 2019).
Images in and out of the generator's range, and sampling, are in course.gan_sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from course.gan_networks import make_networks, require_image_settings, with_spectral_norm
from course.gan_settings import (
    ADAM_BETAS,
    BATCH_SIZE,
    CHECKPOINT_EVERY,
    LOSSES,
    MODELS,
    PUBLISHED_LEARNING_RATES,
    SAMPLE_EVERY,
    critic_steps_for,
)
from course.validation import require_positive_int, require_seed

# ---------------------------------------------------------------------------------------------
# Settings, networks, optimisers, losses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a run. `steps` counts generator updates."""

    loss: str = "dcgan"
    steps: int = 3000
    batch_size: int = BATCH_SIZE
    latent_size: int = 64
    width: int = 32
    seed: int = 0
    sample_every: int = SAMPLE_EVERY
    checkpoint_every: int = CHECKPOINT_EVERY
    critic_steps: int = field(
        default=None
    )  # default: critic_steps_for(loss), 1 for dcgan and 5 for the Wasserstein losses
    learning_rate: float = field(default=None)  # default: the loss's published rate, see the module's docstring
    label_smoothing: float = field(default=None)  # dcgan: real images' target is 1 - this (default 0.1)
    batch_norm: bool = True  # in the generator and (never for wgan-gp or hinge) the discriminator
    model: str = "dcgan"  # the networks: "dcgan" or "resnet" (course.gan_networks)
    channels: int = 1  # 1 for grey images, 3 for colour
    size: int = 28  # image side in pixels: 28, 32 or 64
    classes: int = 0  # 0: unconditional; K: both networks take a class from 0 to K - 1 with every image
    ema_decay: float = (
        0.0  # 0: none; d in (0, 1): also keep a moving average of the generator's weights (update_average)
    )

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}: expected one of {', '.join(LOSSES)}.")
        for name in ("steps", "batch_size", "latent_size", "width", "sample_every", "checkpoint_every"):
            require_positive_int(name, getattr(self, name))
        require_seed("seed", self.seed)
        if self.critic_steps is None:
            object.__setattr__(self, "critic_steps", critic_steps_for(self.loss))
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", PUBLISHED_LEARNING_RATES[self.loss])
        if not isinstance(self.batch_norm, bool):
            raise ValueError(f"batch_norm must be True or False, got {self.batch_norm!r}.")
        if self.batch_norm and self.batch_size < 2:
            raise ValueError(
                "batch norm needs at least 2 images in a batch to measure their spread, and batch_size is "
                f"{self.batch_size}: "
                "use a batch size of 2 or more, or leave batch norm out (batch_norm=False, --no-batch-norm)."
            )
        if self.label_smoothing is None:
            object.__setattr__(self, "label_smoothing", 0.1 if self.loss == "dcgan" else 0.0)
        if not isinstance(self.label_smoothing, (int, float)) or not 0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be a number from 0 up to 0.5, got {self.label_smoothing!r}.")
        if self.loss != "dcgan" and self.label_smoothing != 0:
            raise ValueError(
                f"label_smoothing applies to the dcgan loss only; {self.loss} critics score, they do not classify."
            )
        require_positive_int("critic_steps", self.critic_steps)
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ValueError(f"learning_rate must be a number between 0 and 1, got {self.learning_rate!r}.")
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}: expected one of {', '.join(MODELS)}.")
        require_image_settings(self.channels, self.size, self.classes)
        if (
            isinstance(self.ema_decay, bool)
            or not isinstance(self.ema_decay, (int, float))
            or not 0 <= self.ema_decay < 1
        ):
            raise ValueError(
                f"ema_decay must be a number from 0 up to but not including 1, got {self.ema_decay!r}: use 0 for no "
                "average "
                "of the generator, or a decay such as 0.999 (an average over about the last 1 / (1 - decay) steps)."
            )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, size, size): the shape of one training image."""
        return (self.channels, self.size, self.size)


def networks(config: GANConfig) -> tuple[nn.Module, nn.Module]:
    """The config's generator and discriminator, initialised from its seed, on the CPU."""
    torch.manual_seed(config.seed)
    discriminator_batch_norm = config.batch_norm and config.loss not in ("wgan-gp", "hinge")
    generator, discriminator = make_networks(
        config.model,
        config.latent_size,
        config.width,
        config.batch_norm,
        discriminator_batch_norm,
        config.channels,
        config.size,
        config.classes,
    )
    if config.loss == "hinge":
        with_spectral_norm(discriminator)
    return generator, discriminator


def build(
    config: GANConfig, device: torch.device
) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    """The two networks (initialised from the config's seed) and their optimisers."""
    generator, discriminator = (network.to(device) for network in networks(config))
    if config.loss == "wgan":
        make = lambda params: torch.optim.RMSprop(params, lr=config.learning_rate)  # noqa: E731
    else:
        make = lambda params: torch.optim.Adam(params, lr=config.learning_rate, betas=ADAM_BETAS[config.loss])  # noqa: E731
    return generator, discriminator, make(generator.parameters()), make(discriminator.parameters())


def discriminator_loss(
    loss: str, real_scores: torch.Tensor, fake_scores: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """The discriminator's (or critic's) loss, without the gradient penalty.

    For dcgan the real images' target is 1 - label_smoothing; fakes always aim at 0. For hinge, real scores
    are pushed above 1 and fake scores below -1: max(0, 1 - D(x)) + max(0, 1 + D(G(z))), each averaged.
    """
    if loss == "dcgan":
        real_target = torch.full_like(real_scores, 1.0 - label_smoothing)
        return F.binary_cross_entropy_with_logits(real_scores, real_target) + F.binary_cross_entropy_with_logits(
            fake_scores, torch.zeros_like(fake_scores)
        )
    if loss == "hinge":
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
    return fake_scores.mean() - real_scores.mean()  # the critic widens the gap between real and fake scores


def generator_loss(loss: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss: non-saturating for dcgan, the negated score of its fakes for the other losses."""
    if loss == "dcgan":
        return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))  # -log D(G(z))
    return -fake_scores.mean()


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    mix: torch.Tensor | None = None,
    weight: float = 10.0,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP's penalty: (|grad of the critic| - 1)^2 at random points between real and fake images.

    `mix` (N, 1, 1, 1) places each point: mix * real + (1 - mix) * fake; by default uniform at random.
    The trainer draws it from its own seeded source, so a resumed run repeats it.
    """
    if mix is None:
        mix = torch.rand(len(real), 1, 1, 1, device=real.device)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    scores = (
        critic(between) if labels is None else critic(between, labels)
    )  # a conditional critic: the real images' classes
    (gradient,) = torch.autograd.grad(scores.sum(), between, create_graph=True)
    return weight * ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Move `average` towards `model`, in place: each weight a becomes decay * a + (1 - decay) * p.

    Batch norm's running statistics are averaged the same way, to suit the averaged weights; its count of batches
    is copied.

    Written out rather than PyTorch's `torch.optim.swa_utils.AveragedModel` because notebook 06's learner writes this
    very function, and the average stays a plain generator whose weights a checkpoint stores and `load_generator`
    reads like any other. AveragedModel wraps the network (its saved weights gain a `module.` prefix and a counter),
    and by default leaves batch norm's statistics as they were at the start (they then need a pass over data).
    """
    for mean, weight in zip(average.parameters(), model.parameters(), strict=True):
        mean.lerp_(weight, 1 - decay)
    for mean, buffer in zip(average.buffers(), model.buffers(), strict=True):
        if buffer.is_floating_point():
            mean.lerp_(buffer, 1 - decay)
        else:
            mean.copy_(buffer)


def clip_weights(critic: nn.Module, limit: float = 0.01) -> None:
    """WGAN's way to keep the critic Lipschitz: every weight clamped into [-limit, limit], in place."""
    with torch.no_grad():
        for parameter in critic.parameters():
            parameter.clamp_(-limit, limit)


# ---------------------------------------------------------------------------------------------
# One step of the game
# ---------------------------------------------------------------------------------------------


@dataclass
class Batch:
    """What one discriminator move needs: real images and noise (and classes, and the penalty's mix)."""

    real: torch.Tensor
    noise: torch.Tensor
    real_labels: torch.Tensor | None = None  # conditional runs: the real images' classes ...
    fake_labels: torch.Tensor | None = None  # ... and the class each fake is asked to be
    mix: torch.Tensor | None = None  # wgan-gp: where each penalty point sits between real and fake


@dataclass
class StepResult:
    """The last discriminator move's loss and scores, and the generator's loss (detached, on the device)."""

    d_loss: torch.Tensor
    g_loss: torch.Tensor
    real_scores: torch.Tensor
    fake_scores: torch.Tensor


class Batches:
    """The batches of one run, drawn from its seed: call it for the next `Batch`.

    Real images come in a fresh shuffle every epoch; noise (and, for conditional runs, classes; for
    wgan-gp, the penalty's mix) from `noise_source`, which a checkpoint saves. Under several
    processes each draws the whole batch and keeps its `share`, so together they see one batch.
    """

    def __init__(
        self, images: torch.Tensor, config: GANConfig, labels: torch.Tensor | None = None, share: slice = slice(None)
    ):
        self.images, self.labels, self.config, self.share = images, labels, config, share
        self.number = 0  # batches drawn so far
        self.epoch, self.order = -1, None  # the current epoch's shuffle, on the device
        self.noise_source = torch.Generator(device=images.device).manual_seed(config.seed)

    def __call__(self) -> Batch:
        config, device = self.config, self.images.device
        epoch, position = divmod(self.number, len(self.images) // config.batch_size)
        if epoch != self.epoch:  # a fresh shuffle, moved to the device once an epoch rather than a batch at a time
            self.order, self.epoch = _epoch_order(len(self.images), config.seed, epoch).to(device), epoch
        chosen = self.order[position * config.batch_size : (position + 1) * config.batch_size][self.share]
        self.number += 1
        draw = self.noise_source
        noise = torch.randn(config.batch_size, config.latent_size, generator=draw, device=device)[self.share]
        real_labels = fake_labels = mix = None
        if config.classes:
            real_labels = self.labels[chosen]
            fake_labels = torch.randint(config.classes, (config.batch_size,), generator=draw, device=device)[self.share]
        if config.loss == "wgan-gp":
            mix = torch.rand(config.batch_size, 1, 1, 1, generator=draw, device=device)[self.share]
        return Batch(self.images[chosen], noise, real_labels, fake_labels, mix)


def _epoch_order(count: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of the images in epoch `epoch`: a fresh shuffle each epoch, from the seed alone."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


def train_step(
    config: GANConfig,
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    next_batch: Callable[[], Batch],
) -> StepResult:
    """One step of the game: `config.critic_steps` moves of the discriminator, then one of the generator.

    The generator's move reuses the last discriminator move's fakes, which the discriminator has
    just learnt from (as the well-known DCGAN example does; it saves generating a second batch).
    """
    for move in range(config.critic_steps):
        batch = next_batch()
        last = move == config.critic_steps - 1
        with torch.set_grad_enabled(last):  # only the last fakes keep their graph, for the generator's move
            fake = generator(batch.noise, batch.fake_labels)
        # The discriminator's move: real images up, fakes down. detach: this move leaves the generator alone.
        real_scores = discriminator(batch.real, batch.real_labels)
        fake_scores = discriminator(fake.detach(), batch.fake_labels)
        d_loss = discriminator_loss(config.loss, real_scores, fake_scores, config.label_smoothing)
        if config.loss == "wgan-gp":
            d_loss = d_loss + gradient_penalty(
                discriminator, batch.real, fake.detach(), batch.mix, labels=batch.real_labels
            )
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()
        if config.loss == "wgan":
            clip_weights(discriminator, 0.01)
    # The generator's move: the discriminator, just updated, scores the same fakes again.
    g_loss = generator_loss(config.loss, discriminator(fake, batch.fake_labels))
    g_optimizer.zero_grad(set_to_none=True)
    g_loss.backward()
    g_optimizer.step()
    return StepResult(d_loss.detach(), g_loss.detach(), real_scores.detach(), fake_scores.detach())
