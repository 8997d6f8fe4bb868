"""Training GANs: three losses, one trainer, checkpoints. The networks are in course.gan_networks.

By default the networks are the DCGAN pair for Fashion-MNIST's 28x28 grey images; a config can ask
for the ResNet pair, colour images of 32 or 64 pixels, or class-conditional networks (then the
trainer takes a label with every image and draws a class for every fake).

The three losses share everything but the game's rules:

* `dcgan`: the discriminator tells real from fake with a cross-entropy loss, aiming at 0.9 rather
  than 1 for real images (one-sided label smoothing, Salimans et al. 2016, so it never grows
  overconfident); the generator uses the non-saturating loss, -log D(G(z)). Adam, learning rate
  2e-4, betas (0.5, 0.999).
* `wgan`: a critic scores images; the generator raises the score of its fakes. The critic is kept
  Lipschitz by clipping its weights to [-0.01, 0.01]; RMSprop 5e-5, five critic steps per
  generator step, as in Arjovsky et al. (2017).
* `wgan-gp`: the same game, with a gradient penalty (weight 10) instead of clipping and no batch
  norm in the critic; Adam 1e-4, betas (0.5, 0.9), five critic steps (Gulrajani et al., 2017).

Each generator step follows the discriminator's step(s): the discriminator learns from a batch of
fakes (for the critics, the last of five), then the generator learns from its new verdict on those
same fakes, as in the well-known DCGAN example, which saves generating a second batch.

Training writes a checkpoint (models, optimisers, step, random state, history) every so often,
always atomically, and `resume=True` continues from it with the same result as an uninterrupted
run. A loss that turns NaN or explodes stops the run with a message; the last good checkpoint stays.
Under torchrun (see course.distributed) the same trainer runs on several processes: each takes its
share of every batch, DistributedDataParallel averages the gradients, and process 0 writes the files.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from course.checks import check_positive_int
from course.distributed import rank_and_world
from course.gan_networks import CHANNELS, MODELS, check_image_settings, make_networks
from course.runs import atomic_torch_save, load_state, write_atomically

LOSSES = ("dcgan", "wgan", "wgan-gp")
CHECKPOINT = "checkpoint.pt"
SAMPLES = "samples"  # sub-folder with the fixed noise batch rendered every `sample_every` steps
RESUMABLE = ("steps", "sample_every", "checkpoint_every")  # settings a resumed run may change


# ---------------------------------------------------------------------------------------------
# Images in and out
# ---------------------------------------------------------------------------------------------


def to_training_range(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 images, grey (N, H, W) or (N, C, H, W), as float32 (N, C, H, W) in [-1, 1], the generator's range."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] not in CHANNELS):
        raise ValueError(f"images must be uint8, grey (N, H, W) or (N, C, H, W) with C = 1 or 3, levels 0-255; "
                         f"got {images.dtype} {images.shape}.")  # fmt: skip
    if images.ndim == 3:
        images = images[:, None]
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).float().div_(127.5).sub_(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Generated images (N, C, H, W) in [-1, 1] as uint8: grey as (N, H, W), the dataset's format; colour as (N, 3, H, W)."""
    if images.ndim != 4 or images.shape[1] not in CHANNELS:
        raise ValueError(f"images must have shape (N, 1, H, W) or (N, 3, H, W), got {tuple(images.shape)}.")
    levels = ((images.detach().float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    return levels[:, 0] if images.shape[1] == 1 else levels


def class_labels(labels, count: int, classes: int) -> torch.Tensor | None:
    """`labels` (one class number, or one per image) as the long tensor a conditional generator takes."""
    if classes == 0:
        if labels is not None:
            raise ValueError("this generator was trained without classes: ask for no class.")
        return None
    if labels is None:
        raise ValueError(f"this generator draws one of {classes} classes: say which (a class number from 0 to {classes - 1}).")
    labels = torch.as_tensor(labels).long().reshape(-1)
    if len(labels) == 1:
        labels = labels.expand(count)
    if len(labels) != count or labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must be one class number, or {count} of them, each from 0 to {classes - 1}.")
    return labels


@torch.no_grad()
def images_from_noise(generator: nn.Module, noise: torch.Tensor, labels=None, batch_size: int = 1000) -> np.ndarray:
    """The generator's images (in eval mode) for the given noise vectors (and classes), as uint8."""
    device = next(generator.parameters()).device
    labels = class_labels(labels, len(noise), generator.classes)
    generator.eval()
    chunks = []
    for i in range(0, len(noise), batch_size):
        chunk_labels = None if labels is None else labels[i : i + batch_size].to(device)
        chunks.append(to_uint8(generator(noise[i : i + batch_size].to(device), chunk_labels)))
    return np.concatenate(chunks)


def generate(generator: nn.Module, count: int, seed: int = 0, labels=None, batch_size: int = 1000) -> np.ndarray:
    """`count` new images from the generator, as uint8; a conditional generator needs `labels` (one class, or one per image)."""
    check_positive_int("count", count)
    noise = torch.randn(count, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    return images_from_noise(generator, noise, labels, batch_size)


def style_variations(generator: nn.Module, noise: torch.Tensor, label=None, directions: int = 3,
                     amounts=(-2.0, -1.0, 0.0, 1.0, 2.0), seed: int = 0) -> np.ndarray:  # fmt: skip
    """One image's neighbours: its noise vector moved along `directions` random unit directions by each amount.

    Returns uint8 images (directions, len(amounts), ...): row d walks along direction d, and the
    column of amount 0 is the image itself. The class, when there is one, stays fixed.
    """
    noise = torch.as_tensor(noise, dtype=torch.float32).reshape(-1)
    if noise.shape != (generator.latent_size,):
        raise ValueError(f"noise must be one vector of {generator.latent_size} numbers, got shape {tuple(noise.shape)}.")
    check_positive_int("directions", directions)
    amounts = torch.as_tensor(amounts, dtype=torch.float32).reshape(-1)
    walks = torch.randn(directions, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    walks = walks / walks.norm(dim=1, keepdim=True)
    moved = noise + amounts[None, :, None] * walks[:, None, :]  # (directions, amounts, latent)
    images = images_from_noise(generator, moved.reshape(-1, generator.latent_size), label)
    return images.reshape(directions, len(amounts), *images.shape[1:])


# ---------------------------------------------------------------------------------------------
# Settings and the game's rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a run. `steps` counts generator updates."""

    loss: str = "dcgan"
    steps: int = 3000
    batch_size: int = 64
    latent_size: int = 64
    width: int = 32
    seed: int = 0
    sample_every: int = 250
    checkpoint_every: int = 500
    critic_steps: int = field(default=None)  # default: 1 for dcgan, 5 for the Wasserstein losses
    learning_rate: float = field(default=None)  # default: the loss's own, see the module's docstring
    label_smoothing: float = field(default=None)  # dcgan: real images' target is 1 - this (default 0.1)
    batch_norm: bool = True  # in the generator and (never for wgan-gp) the discriminator
    model: str = "dcgan"  # the networks: "dcgan" or "resnet" (course.gan_networks)
    channels: int = 1  # 1 for grey images, 3 for colour
    size: int = 28  # image side in pixels: 28, 32 or 64
    classes: int = 0  # 0: unconditional; K: both networks take a class from 0 to K - 1 with every image

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}: expected one of {', '.join(LOSSES)}.")
        for name in ("steps", "batch_size", "latent_size", "width", "sample_every", "checkpoint_every"):
            check_positive_int(name, getattr(self, name))
        if self.critic_steps is None:
            object.__setattr__(self, "critic_steps", 1 if self.loss == "dcgan" else 5)
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", {"dcgan": 2e-4, "wgan": 5e-5, "wgan-gp": 1e-4}[self.loss])
        if not isinstance(self.batch_norm, bool):
            raise ValueError(f"batch_norm must be True or False, got {self.batch_norm!r}.")
        if self.label_smoothing is None:
            object.__setattr__(self, "label_smoothing", 0.1 if self.loss == "dcgan" else 0.0)
        if not isinstance(self.label_smoothing, (int, float)) or not 0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be a number from 0 up to 0.5, got {self.label_smoothing!r}.")
        if self.loss != "dcgan" and self.label_smoothing != 0:
            raise ValueError(f"label_smoothing applies to the dcgan loss only; {self.loss} critics score, they do not classify.")
        check_positive_int("critic_steps", self.critic_steps)
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ValueError(f"learning_rate must be a number between 0 and 1, got {self.learning_rate!r}.")
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}: expected one of {', '.join(MODELS)}.")
        check_image_settings(self.channels, self.size, self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, size, size): the shape of one training image."""
        return (self.channels, self.size, self.size)


def networks(config: GANConfig) -> tuple[nn.Module, nn.Module]:
    """The config's generator and discriminator, initialised from its seed, on the CPU."""
    torch.manual_seed(config.seed)
    discriminator_batch_norm = config.batch_norm and config.loss != "wgan-gp"
    return make_networks(config.model, config.latent_size, config.width, config.batch_norm, discriminator_batch_norm,
                         config.channels, config.size, config.classes)  # fmt: skip


def build(config: GANConfig, device: torch.device) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    """The two networks (initialised from the config's seed) and their optimisers."""
    generator, discriminator = (network.to(device) for network in networks(config))
    if config.loss == "wgan":
        make = lambda params: torch.optim.RMSprop(params, lr=config.learning_rate)  # noqa: E731
    else:
        betas = (0.5, 0.999) if config.loss == "dcgan" else (0.5, 0.9)
        make = lambda params: torch.optim.Adam(params, lr=config.learning_rate, betas=betas)  # noqa: E731
    return generator, discriminator, make(generator.parameters()), make(discriminator.parameters())


def discriminator_loss(loss: str, real_scores: torch.Tensor, fake_scores: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """The discriminator's (or critic's) loss, without the gradient penalty.

    For dcgan the real images' target is 1 - label_smoothing; fakes always aim at 0.
    """
    if loss == "dcgan":
        real_target = torch.full_like(real_scores, 1.0 - label_smoothing)
        return F.binary_cross_entropy_with_logits(real_scores, real_target) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
    return fake_scores.mean() - real_scores.mean()  # the critic widens the gap between real and fake scores


def generator_loss(loss: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss: non-saturating for dcgan, the negated critic score for the Wasserstein losses."""
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
    scores = critic(between) if labels is None else critic(between, labels)  # a conditional critic: the real images' classes
    (gradient,) = torch.autograd.grad(scores.sum(), between, create_graph=True)
    return weight * ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


class TrainingDiverged(RuntimeError):
    """A loss became NaN or exploded; the run stopped and the last good checkpoint was kept."""


@dataclass
class GANRun:
    """What `train_gan` returns: the networks, the per-step history and where things were written."""

    generator: nn.Module
    discriminator: nn.Module
    history: dict[str, list[float]]
    folder: Path
    step: int
    images_per_second: float
    interrupted: bool = False


@contextlib.contextmanager
def _stop_between_steps():
    """Turn Ctrl-C (or a notebook's stop button) into a request the loop honours after the current step.

    Yields a one-element list that becomes [True] once a stop is requested. Where signals cannot be
    caught (outside the main thread), an interruption stays an ordinary KeyboardInterrupt.
    """
    requested = [False]

    def request_stop(signum, frame):
        requested[0] = True

    try:
        previous = signal.signal(signal.SIGINT, request_stop)
    except ValueError:  # not the main thread
        yield requested
        return
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)


def _batch_indices(count: int, batch_size: int, seed: int, batch_number: int) -> torch.Tensor:
    """The indices of critic batch number `batch_number`: a fresh shuffle each epoch, from the seed alone."""
    per_epoch = count // batch_size
    epoch, position = divmod(batch_number, per_epoch)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return order[position * batch_size : (position + 1) * batch_size]


def _check_room_to_write(folder: Path, generator: nn.Module, discriminator: nn.Module) -> None:
    """Before any training: the run folder can be created and written, with room for a few checkpoints."""
    weights = sum(p.numel() * p.element_size() for net in (generator, discriminator) for p in net.parameters())
    needed = 3 * (3 * weights) + 2**20  # three checkpoints of weights and two Adam moments, and samples
    try:
        (folder / SAMPLES).mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        free = shutil.disk_usage(folder).free
    except OSError as error:
        raise OSError(f"Cannot write to the run folder {folder} ({error.strerror or error}): choose a writable folder "
                      "(or set COURSE_RUNS_DIR) before training.") from None  # fmt: skip
    if free < needed:
        raise OSError(f"The disk holding {folder} has {free / 2**20:.1f} MiB free; training needs about {needed / 2**20:.0f} "
                      "MiB for its checkpoints and samples. Free some space or choose another folder before training.")  # fmt: skip


def train_gan(
    config: GANConfig,
    images: torch.Tensor,
    folder: Path,
    resume: bool = False,
    progress: bool = True,
    max_loss: float = 1e4,
    labels: torch.Tensor | None = None,
) -> GANRun:
    """Train a GAN on `images` ((N, C, H, W) in [-1, 1], already on the device) and write to `folder`.

    A conditional config (`classes` > 0) needs `labels`, each image's class (a long tensor on the device).

    Every `sample_every` steps the fixed noise batch is rendered to `folder/samples/step_XXXXXX.npy`
    (uint8); every `checkpoint_every` steps, at the end and on an interruption, a checkpoint is
    written. With `resume=True` training continues from `folder/checkpoint.pt` when there is one.
    Under torchrun, `config.batch_size` is the batch of all processes together.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1:] != config.image_shape:
        shape = ", ".join(map(str, config.image_shape))
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor (N, {shape}) in [-1, 1] for this config, got {got}; make one with "
                         "course.gan.to_training_range, or set the config's channels and size to match the images.")  # fmt: skip
    if config.classes and (labels is None or labels.shape != (len(images),) or labels.dtype != torch.long):
        raise ValueError(f"a conditional GAN ({config.classes} classes) needs labels: a long tensor with one class per image ({len(images)}).")
    if config.classes and (labels.min() < 0 or labels.max() >= config.classes):
        raise ValueError(f"labels must be class numbers from 0 to {config.classes - 1}, got {labels.min()} to {labels.max()}.")
    if not config.classes and labels is not None:
        raise ValueError("labels were given to an unconditional GAN: set classes in the config, or pass no labels.")
    if len(images) < config.batch_size:
        raise ValueError(f"{len(images)} images is fewer than one batch of {config.batch_size}; lower batch_size.")
    if images.min() < -1.001 or images.max() > 1.001:
        raise ValueError(f"images must lie in [-1, 1], got values from {images.min():.2f} to {images.max():.2f}.")
    rank, world = rank_and_world()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} does not split evenly over {world} processes; choose a multiple of {world}.")
    share = slice(rank * config.batch_size // world, (rank + 1) * config.batch_size // world)  # this process's part of a batch
    writes = rank == 0  # one process writes samples and checkpoints
    folder = Path(folder)
    device = images.device
    generator, discriminator, g_optimizer, d_optimizer = build(config, device)
    if writes:
        _check_room_to_write(folder, generator, discriminator)
    noise_source = torch.Generator(device=device).manual_seed(config.seed)
    fixed_noise = torch.randn(64, config.latent_size, generator=torch.Generator().manual_seed(config.seed + 1)).to(device)
    fixed_labels = torch.arange(64, device=device) % config.classes if config.classes else None  # every class in turn
    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    step = 0
    if resume and not (folder / CHECKPOINT).is_file():
        if writes:
            print(f"No checkpoint in {folder.name} yet: starting from step 0.")
    elif resume:
        step = _load_checkpoint(folder / CHECKPOINT, config, generator, discriminator, g_optimizer, d_optimizer, noise_source, history)
    # Every process computes on its share; the wrappers average the gradients across processes.
    synced_generator, synced_discriminator = generator, discriminator
    if world > 1:
        device_ids = [device.index] if device.type == "cuda" else None
        synced_generator = DistributedDataParallel(generator, device_ids=device_ids)
        synced_discriminator = DistributedDataParallel(discriminator, device_ids=device_ids)

    def save() -> None:
        if writes:
            _save_checkpoint(folder / CHECKPOINT, config, step, generator, discriminator, g_optimizer, d_optimizer, noise_source, history)

    def batch_of_noise() -> torch.Tensor:
        # Every process draws the whole batch's noise from the same source and keeps its share.
        return torch.randn(config.batch_size, config.latent_size, generator=noise_source, device=device)[share]

    def batch_of_classes() -> torch.Tensor | None:
        # The class each fake is asked to be, drawn uniformly (conditional runs only).
        if not config.classes:
            return None
        return torch.randint(config.classes, (config.batch_size,), generator=noise_source, device=device)[share]

    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    squash = torch.sigmoid if config.loss == "dcgan" else (lambda scores: scores)
    bar = tqdm(total=config.steps, initial=step, desc=f"{config.loss} training", unit="step", mininterval=1.0,
               disable=not (progress and writes))  # fmt: skip
    started, first_step, stopping = time.perf_counter(), step, False
    try:
        with _stop_between_steps() as stop_requested:
            while step < config.steps and not stopping:
                generator.train()
                discriminator.train()
                for critic_step in range(config.critic_steps):
                    batch_number = step * config.critic_steps + critic_step
                    chosen = _batch_indices(len(images), config.batch_size, config.seed, batch_number)[share].to(device)
                    real, real_labels = images[chosen], None if labels is None else labels[chosen]
                    noise, fake_labels = batch_of_noise(), batch_of_classes()
                    last = critic_step == config.critic_steps - 1  # the generator's move reuses these fakes
                    with autocast:
                        with torch.set_grad_enabled(last):
                            fake = synced_generator(noise, fake_labels)
                        real_scores = synced_discriminator(real, real_labels)
                        fake_scores = synced_discriminator(fake.detach(), fake_labels)
                        d_loss = discriminator_loss(config.loss, real_scores, fake_scores, config.label_smoothing)
                    if config.loss == "wgan-gp":
                        mix = torch.rand(config.batch_size, 1, 1, 1, generator=noise_source, device=device)[share]
                        d_loss = d_loss + gradient_penalty(discriminator, real, fake.detach().float(), mix, labels=real_labels)
                    d_optimizer.zero_grad(set_to_none=True)
                    d_loss.backward()
                    d_optimizer.step()
                    if config.loss == "wgan":
                        for parameter in discriminator.parameters():
                            parameter.data.clamp_(-0.01, 0.01)
                # The generator's move: the discriminator, just updated, scores the last fakes again.
                with autocast:
                    g_loss = generator_loss(config.loss, discriminator(fake, fake_labels))
                g_optimizer.zero_grad(set_to_none=True)
                g_loss.backward()
                g_optimizer.step()

                # One transfer per step: the numbers to record, and whether to stop, agreed by every process.
                numbers = torch.stack([d_loss.detach().float(), g_loss.detach().float(), squash(real_scores.detach().float()).mean(),
                                       squash(fake_scores.detach().float()).mean(), torch.tensor(float(stop_requested[0]), device=device)])  # fmt: skip
                if world > 1:
                    dist.all_reduce(numbers)
                    numbers[:4] /= world
                d_value, g_value, d_real, d_fake, stops = numbers.tolist()
                if not all(math.isfinite(value) and abs(value) < max_loss for value in (d_value, g_value)):
                    if (folder / CHECKPOINT).is_file():
                        kept = f"the last good checkpoint (step {read_checkpoint(folder / CHECKPOINT)['step']}) is kept"
                    else:
                        kept = "no checkpoint had been written yet"
                    raise TrainingDiverged(
                        f"{config.loss} training diverged at step {step + 1}: discriminator loss {d_value:.3g}, generator "
                        f"loss {g_value:.3g}; {kept}. Lower the learning rate (now {config.learning_rate:g}) and try again."
                    )
                step += 1
                stopping = stops > 0
                history["d_loss"].append(d_value)
                history["g_loss"].append(g_value)
                history["d_real"].append(d_real)
                history["d_fake"].append(d_fake)
                bar.update()
                if (step % config.sample_every == 0 or step == config.steps) and writes:
                    generator.eval()
                    with torch.no_grad():
                        snapshot = to_uint8(generator(fixed_noise, fixed_labels))
                    write_atomically(folder / SAMPLES / f"step_{step:06d}.npy", lambda file, images=snapshot: np.save(file, images))
                    bar.set_postfix(d_loss=f"{d_value:.3f}", g_loss=f"{g_value:.3f}")
                if step % config.checkpoint_every == 0 or step == config.steps:
                    save()
            if stopping:
                save()
                if writes:
                    print(f"Stopped at step {step} as asked: checkpoint saved; continue with resume=True (or --resume).")
    finally:
        bar.close()
    if world > 1:
        for buffer in [*generator.buffers(), *discriminator.buffers()]:
            dist.broadcast(buffer, src=0)  # batch norm's running statistics: process 0's, the ones its checkpoint holds
        dist.barrier()  # the last checkpoint is complete before any process reads it again
    seconds = time.perf_counter() - started
    images_seen = (step - first_step) * config.batch_size * (config.critic_steps + 1)
    generator.eval()
    return GANRun(generator, discriminator, history, folder, step, images_seen / seconds if seconds > 0 else 0.0, stopping)


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def _save_checkpoint(path, config, step, generator, discriminator, g_optimizer, d_optimizer, noise_source, history) -> None:
    atomic_torch_save(
        {
            "config": asdict(config),
            "step": step,
            "generator": generator.state_dict(),
            "discriminator": discriminator.state_dict(),
            "g_optimizer": g_optimizer.state_dict(),
            "d_optimizer": d_optimizer.state_dict(),
            "noise_source": noise_source.get_state(),
            "history": history,
        },
        path,
    )


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's contents (tensors on the CPU), loaded with weights_only=True, with a clear error if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: train first, or point to a run folder's {CHECKPOINT}.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or tampered file: torch raises several kinds
        raise ValueError(f"{path.name} is not a readable checkpoint ({type(error).__name__}): it is damaged or not one of the course's.") from None
    missing = {"config", "step", "generator", "discriminator"} - set(checkpoint if isinstance(checkpoint, dict) else {})
    if missing:
        raise ValueError(f"{path.name} is not a GAN checkpoint of this course: it lacks {', '.join(sorted(missing))}.")
    return checkpoint


def _load_checkpoint(path, config, generator, discriminator, g_optimizer, d_optimizer, noise_source, history) -> int:
    checkpoint = read_checkpoint(path)
    saved, asked = asdict(checkpoint_config(checkpoint, path)), asdict(config)
    differences = [f"{name} {saved.get(name)!r} there, {asked[name]!r} now" for name in asked if name not in RESUMABLE and saved.get(name) != asked[name]]
    if differences:
        raise ValueError(
            f"{path} was written with other settings ({'; '.join(differences)}). Resume with the same settings "
            "(only steps, sample_every and checkpoint_every may change), or start a new run folder."
        )
    load_state(generator, checkpoint["generator"], f"{path.name} (generator)")
    load_state(discriminator, checkpoint["discriminator"], f"{path.name} (discriminator)")
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    noise_source.set_state(checkpoint["noise_source"])
    for name, values in checkpoint["history"].items():
        history[name] = list(values)
    return int(checkpoint["step"])


def checkpoint_config(checkpoint: dict, path: Path) -> GANConfig:
    """The settings a checkpoint was trained with (settings added to the course since then take their defaults)."""
    try:
        return GANConfig(**checkpoint["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{Path(path).name} holds settings this course cannot read ({error}): it is not one of its checkpoints.") from None


def load_generator(path: Path, device: str | torch.device = "cpu") -> nn.Module:
    """The generator of a checkpoint, in eval mode, ready for `generate`."""
    checkpoint = read_checkpoint(path)
    generator, _ = networks(checkpoint_config(checkpoint, path))
    load_state(generator, checkpoint["generator"], f"{Path(path).name} (generator)")
    return generator.to(device).eval()
