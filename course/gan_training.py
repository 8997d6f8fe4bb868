"""The long run of the game: the loop around `course.gan.train_step`, with checkpoints, resume and Ctrl-C.

Training writes a checkpoint (models, optimisers, step, random state, history) every so often,
always atomically, and `resume=True` continues from it with the same result as an uninterrupted
run. A loss that turns NaN or explodes stops the run with a message; the last good checkpoint stays.
Under torchrun (see course.distributed) the same step runs on several processes: each takes its
share of every batch, the gradients are averaged before every optimiser step, and process 0 writes
the files. With `config.ema_decay` > 0 the run also keeps a moving average of the generator's weights
(`course.gan.update_average`), saved, resumed and sampled from like the rest.
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from course.distributed import AveragedGradients, rank_and_world
from course.gan import Batches, GANConfig, build, networks, train_step, update_average
from course.gan_sampling import to_uint8
from course.progress import tqdm
from course.runs import atomic_torch_save, check_room, load_state, run_folder_lock, state_mismatch, write_atomically

CHECKPOINT = "checkpoint.pt"
SAMPLES = "samples"  # sub-folder with the fixed noise batch rendered every `sample_every` steps
RESUMABLE = ("steps", "sample_every", "checkpoint_every")  # settings a resumed run may change
AVERAGE = "generator_average"  # the checkpoint's key for the moving average of the generator, when the run keeps one


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
    average: nn.Module | None = None  # the moving average of the generator's weights, when config.ema_decay > 0

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to draw images from: the moving average when the run keeps one, else the generator itself."""
        return self.generator if self.average is None else self.average


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


def _check_room_to_write(folder: Path, *nets: nn.Module | None) -> None:
    """Before any training: the run folder can be created and written, with room for a few checkpoints of `nets` (None: no network)."""
    weights = sum(p.numel() * p.element_size() for net in nets if net is not None for p in net.parameters())
    check_room(folder / SAMPLES, 3 * (3 * weights) + 2**20, "the run's checkpoints and samples")  # three checkpoints of weights and two Adam moments


def train_gan(
    config: GANConfig,
    images: torch.Tensor,
    folder: Path,
    resume: bool = False,
    progress: bool = True,
    max_loss: float = 1e4,
    labels: torch.Tensor | None = None,
    step: Callable = train_step,
) -> GANRun:
    """Train a GAN on `images` ((N, C, H, W) in [-1, 1], already on the device) and write to `folder`.

    Each generator step is one call of `step` (by default `course.gan.train_step`; a notebook may
    pass the one it wrote), with the same arguments. A conditional config (`classes` > 0) needs
    `labels`, each image's class (a long tensor on the device).

    Every `sample_every` steps the fixed noise batch is rendered to `folder/samples/step_XXXXXX.npy`
    (uint8); every `checkpoint_every` steps, at the end and on an interruption, a checkpoint is
    written. With `resume=True` training continues from `folder/checkpoint.pt` when there is one.
    Under torchrun, `config.batch_size` is the batch of all processes together.

    With `config.ema_decay` > 0, a copy of the generator is moved towards it after every step
    (`update_average`), with the decay min(ema_decay, (1 + t) / (10 + t)) after step t, so that the
    random first weights fade from it early on; the snapshots are drawn from this average, and the
    returned run holds it as `average` (`sampling_generator` names the one to draw from).
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1:] != config.image_shape:
        shape = ", ".join(map(str, config.image_shape))
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor (N, {shape}) in [-1, 1] for this config, got {got}; make one with "
                         "course.gan_sampling.to_training_range, or set the config's channels and size to match the images.")  # fmt: skip
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
    if config.batch_norm and config.batch_size // world < 2:
        raise ValueError(f"batch norm needs at least 2 images per process, and batch_size {config.batch_size} over {world} processes "
                         f"gives {config.batch_size // world}: use a batch size of at least {2 * world}, or batch_norm=False.")  # fmt: skip
    share = slice(rank * config.batch_size // world, (rank + 1) * config.batch_size // world)  # this process's part of a batch
    writes = rank == 0  # one process writes samples and checkpoints, and holds the run folder
    folder = Path(folder)
    device = images.device
    generator, discriminator, g_optimizer, d_optimizer = build(config, device)
    average = copy.deepcopy(generator).requires_grad_(False).eval() if config.ema_decay > 0 else None
    if writes:
        _check_room_to_write(folder, generator, discriminator, average)
    with run_folder_lock(folder) if writes else contextlib.nullcontext():
        batches = Batches(images, config, labels, share)
        fixed_noise = torch.randn(64, config.latent_size, generator=torch.Generator().manual_seed(config.seed + 1)).to(device)
        fixed_labels = torch.arange(64, device=device) % config.classes if config.classes else None  # every class in turn
        history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        done = 0
        if resume and not (folder / CHECKPOINT).is_file():
            if writes:
                print(f"No checkpoint in {folder.name} yet: starting from step 0.")
        elif resume:
            done = _load_checkpoint(folder / CHECKPOINT, config, generator, discriminator, g_optimizer, d_optimizer, batches.noise_source, history, average)
            if done > config.steps:
                raise ValueError(f"{folder / CHECKPOINT} is at step {done}, past the {config.steps} steps asked for: resume with more steps "
                                 f"than {done} (--steps), or sample from it as it is.")  # fmt: skip
            batches.number = done * config.critic_steps
        # Several processes: each computes on its share; the gradients are averaged before every update.
        g_stepper, d_stepper = (g_optimizer, d_optimizer) if world == 1 else (AveragedGradients(g_optimizer), AveragedGradients(d_optimizer))

        def save() -> None:
            if writes:
                _save_checkpoint(folder / CHECKPOINT, config, done, generator, discriminator, g_optimizer, d_optimizer, batches.noise_source, history, average)

        squash = torch.sigmoid if config.loss == "dcgan" else (lambda scores: scores)
        bar = tqdm(total=config.steps, initial=done, desc=f"{config.loss} training", unit="step", mininterval=1.0,
                   disable=not (progress and writes))  # fmt: skip
        started, first_step, stopping = time.perf_counter(), done, False
        try:
            with _stop_between_steps() as stop_requested:
                while done < config.steps and not stopping:
                    generator.train()
                    discriminator.train()
                    result = step(config, generator, discriminator, g_stepper, d_stepper, batches)

                    # One transfer per step: the numbers to record, and whether to stop, agreed by every process.
                    numbers = torch.stack([result.d_loss.float(), result.g_loss.float(), squash(result.real_scores.float()).mean(),
                                           squash(result.fake_scores.float()).mean(), torch.tensor(float(stop_requested[0]), device=device)])  # fmt: skip
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
                            f"{config.loss} training diverged at step {done + 1}: discriminator loss {d_value:.3g}, generator "
                            f"loss {g_value:.3g}; {kept}. Lower the learning rate (now {config.learning_rate:g}) and try again."
                        )
                    done += 1
                    if average is not None:  # every process moves its own copy: their generators are the same
                        update_average(average, generator, min(config.ema_decay, (1 + done) / (10 + done)))
                    stopping = stops > 0
                    history["d_loss"].append(d_value)
                    history["g_loss"].append(g_value)
                    history["d_real"].append(d_real)
                    history["d_fake"].append(d_fake)
                    bar.update()
                    if (done % config.sample_every == 0 or done == config.steps) and writes:
                        drawing = generator.eval() if average is None else average
                        with torch.no_grad():
                            snapshot = to_uint8(drawing(fixed_noise, fixed_labels))
                        write_atomically(folder / SAMPLES / f"step_{done:06d}.npy", lambda file, images=snapshot: np.save(file, images))
                        bar.set_postfix(d_loss=f"{d_value:.3f}", g_loss=f"{g_value:.3f}")
                    if done % config.checkpoint_every == 0 or done == config.steps:
                        save()
                if stopping:
                    save()
                    if writes:
                        print(f"Stopped at step {done} as asked: checkpoint saved; continue with resume=True (or --resume).")
        finally:
            bar.close()
        if world > 1:
            for buffer in [*generator.buffers(), *discriminator.buffers(), *(average.buffers() if average is not None else [])]:
                dist.broadcast(buffer, src=0)  # batch norm's running statistics: process 0's, the ones its checkpoint holds
            dist.barrier()  # the last checkpoint is complete before any process reads it again
        seconds = time.perf_counter() - started
        images_seen = (done - first_step) * config.batch_size * (config.critic_steps + 1)
        generator.eval()
        return GANRun(generator, discriminator, history, folder, done, images_seen / seconds if seconds > 0 else 0.0, stopping, average)


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def _save_checkpoint(path, config, step, generator, discriminator, g_optimizer, d_optimizer, noise_source, history, average=None) -> None:
    checkpoint = {
        "config": asdict(config),
        "step": step,
        "generator": generator.state_dict(),
        "discriminator": discriminator.state_dict(),
        "g_optimizer": g_optimizer.state_dict(),
        "d_optimizer": d_optimizer.state_dict(),
        "noise_source": noise_source.get_state(),
        "history": history,
    }
    if average is not None:
        checkpoint[AVERAGE] = average.state_dict()
    atomic_torch_save(checkpoint, path)


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


def _load_checkpoint(path, config, generator, discriminator, g_optimizer, d_optimizer, noise_source, history, average=None) -> int:
    checkpoint = read_checkpoint(path)
    saved, asked = asdict(checkpoint_config(checkpoint, path)), asdict(config)
    differences = [f"{name} {saved.get(name)!r} there, {asked[name]!r} now" for name in asked if name not in RESUMABLE and saved.get(name) != asked[name]]
    if differences:
        raise ValueError(
            f"{path} was written with other settings ({'; '.join(differences)}). Resume with the same settings "
            "(only steps, sample_every and checkpoint_every may change), or start a new run folder."
        )
    if average is not None and AVERAGE not in checkpoint:
        raise ValueError(f"{path.name} keeps no average of the generator, though its settings ask for one: the file was damaged or edited. "
                         "Use another checkpoint, or start a new run folder.")  # fmt: skip
    load_state(generator, checkpoint["generator"], f"{path.name} (generator)")
    load_state(discriminator, checkpoint["discriminator"], f"{path.name} (discriminator)")
    if average is not None:
        load_state(average, checkpoint[AVERAGE], f"{path.name} (generator average)")
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    noise_source.set_state(checkpoint["noise_source"])
    for name, values in checkpoint["history"].items():
        history[name] = list(values)
    return int(checkpoint["step"])


def checkpoint_config(checkpoint: dict, path: Path) -> GANConfig:
    """The settings a checkpoint was trained with (settings added to the course since then take their defaults).

    The settings are checked against the shapes of the weights stored with them, on networks built on
    PyTorch's "meta" device (shapes without memory), so damaged settings never allocate networks of their size.
    """
    try:
        config = GANConfig(**checkpoint["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{Path(path).name} holds settings this course cannot read ({error}): it is not one of its checkpoints.") from None
    with torch.device("meta"):
        shapes_only = networks(config)
    for name, network in zip(("generator", "discriminator"), shapes_only, strict=True):
        mismatch = state_mismatch(network, checkpoint[name])
        if mismatch:
            raise ValueError(f"{Path(path).name}'s settings do not match its {name}'s weights ({mismatch}): the file was damaged or "
                             "edited. Use another checkpoint, or train again.")  # fmt: skip
    return config


def load_generator(path: Path, device: str | torch.device = "cpu", average: bool = True) -> nn.Module:
    """The generator of a checkpoint, in eval mode, ready for `course.gan_sampling.generate`.

    When the run kept a moving average of the generator's weights, that average is returned, unless
    `average=False` asks for the generator's own latest weights.
    """
    checkpoint = read_checkpoint(path)
    config = checkpoint_config(checkpoint, path)
    key, name = (AVERAGE, "generator average") if average and AVERAGE in checkpoint else ("generator", "generator")
    generator, _ = networks(config)
    load_state(generator, checkpoint[key], f"{Path(path).name} ({name})")
    if not all(torch.isfinite(weights).all() for weights in generator.state_dict().values() if weights.is_floating_point()):
        raise ValueError(f"{Path(path).name}'s {name} holds NaN or infinite weights, so it would draw blank images: the run diverged "
                         "before this checkpoint was written. Use an earlier checkpoint, or train again with a lower learning rate.")  # fmt: skip
    return generator.to(device).eval()
