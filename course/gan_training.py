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
import hashlib
import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from course.distributed import AveragedGradients, rank_and_world
from course.errors import one_line
from course.gan import Batches, GANConfig, StepResult, build, networks, train_step, update_average
from course.gan_sampling import to_uint8
from course.progress import tqdm
from course.runs import atomic_torch_save, load_state, require_room, run_folder_lock, state_mismatch, write_atomically

CHECKPOINT = "checkpoint.pt"
SAMPLES = "samples"  # sub-folder with the fixed noise batch rendered every `sample_every` steps
RESUMABLE = ("steps", "sample_every", "checkpoint_every")  # settings a resumed run may change
READ_EVERY = 25  # steps between readings of the recorded numbers from the device (see _read_numbers)
AVERAGE = "generator_average"  # the checkpoint's key for the moving average of the generator, when the run keeps one
HISTORY = ("d_loss", "g_loss", "d_real", "d_fake")  # the numbers recorded at every step


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


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)  # SIGHUP: not on Windows


@contextlib.contextmanager
def _stop_between_steps():
    """Turn Ctrl-C (or a notebook's stop button), SIGTERM and SIGHUP (a closed terminal) into a request the loop
    honours after the current step, with a checkpoint.

    Yields a list that receives the name of each signal that asked for a stop. Where signals cannot be
    caught (outside the main thread), an interruption stays an ordinary KeyboardInterrupt.
    """
    requested: list[str] = []

    def request_stop(number, frame):
        requested.append(signal.Signals(number).name)

    try:
        previous = {number: signal.signal(number, request_stop) for number in STOP_SIGNALS}
    except ValueError:  # not the main thread
        yield requested
        return
    try:
        yield requested
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# ---------------------------------------------------------------------------------------------
# The state a checkpoint holds
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainingState:
    """Everything a checkpoint holds and a resume restores: the run's networks, optimisers, noise, history and step."""

    config: GANConfig
    data: dict  # what the run trains on: see data_record
    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    noise_source: torch.Generator  # the batches' random source (course.gan.Batches)
    average: nn.Module | None = None  # the moving average of the generator's weights, when config.ema_decay > 0
    history: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in HISTORY})
    step: int = 0  # generator steps done

    def save(self, path: Path) -> None:
        """Write the checkpoint atomically: a stop or a full disk mid-write leaves the previous one whole."""
        checkpoint = {
            "config": asdict(self.config),
            "data": self.data,
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(),
            "noise_source": self.noise_source.get_state(),
            "history": self.history,
        }
        if self.average is not None:
            checkpoint[AVERAGE] = self.average.state_dict()
        atomic_torch_save(checkpoint, path)

    def load(self, path: Path) -> None:
        """Continue from the checkpoint at `path`; refuse one written with other settings, on other data, or damaged."""
        checkpoint = read_checkpoint(path)
        missing = [key for key in RESUME_KEYS if key not in checkpoint]
        if missing:
            raise _damaged(path, f"it lacks {', '.join(missing)}, which a resume needs (sampling from it still works)")
        _refuse_other_settings(path, checkpoint_config(checkpoint, path), self.config)
        _refuse_other_data(path, checkpoint.get("data"), self.data)
        if self.average is not None and AVERAGE not in checkpoint:
            raise _damaged(path, "it keeps no average of the generator, though its settings ask for one")
        load_state(self.generator, checkpoint["generator"], f"{path.name} (generator)")
        load_state(self.discriminator, checkpoint["discriminator"], f"{path.name} (discriminator)")
        if self.average is not None:
            load_state(self.average, checkpoint[AVERAGE], f"{path.name} (generator average)")
        _load_optimizer(self.g_optimizer, checkpoint["g_optimizer"], "generator's optimiser", path)
        _load_optimizer(self.d_optimizer, checkpoint["d_optimizer"], "discriminator's optimiser", path)
        try:
            self.noise_source.set_state(checkpoint["noise_source"])
        except (TypeError, RuntimeError, ValueError) as error:
            raise _damaged(path, f"its noise state cannot be restored ({str(error).strip()[:160]})") from None
        self.step = checkpoint["step"]
        self.history = _read_history(path, checkpoint["history"], self.step)

    def advance(self) -> None:
        """Count one generator step done, and move the average towards the generator."""
        self.step += 1
        if self.average is not None:  # a decay that grows from 0.1: the random first weights fade from it early on
            update_average(self.average, self.generator, min(self.config.ema_decay, (1 + self.step) / (10 + self.step)))

    def record(self, rows: list[dict[str, float]]) -> None:
        """Add the numbers of the latest steps to the history, one row a step."""
        for numbers in rows:
            for name in HISTORY:
                self.history[name].append(numbers[name])

    def networks(self) -> list[nn.Module]:
        """The networks the run trains or keeps: generator, discriminator and, when kept, the average."""
        return [self.generator, self.discriminator] + ([self.average] if self.average is not None else [])


def _new_state(config: GANConfig, device: torch.device, data: dict, noise_source: torch.Generator) -> TrainingState:
    """A run at step 0: the networks initialised from the config's seed, their optimisers, and the average if asked."""
    generator, discriminator, g_optimizer, d_optimizer = build(config, device)
    average = copy.deepcopy(generator).requires_grad_(False).eval() if config.ema_decay > 0 else None
    return TrainingState(config, data, generator, discriminator, g_optimizer, d_optimizer, noise_source, average)


# ---------------------------------------------------------------------------------------------
# The long run
# ---------------------------------------------------------------------------------------------


def train_gan(
    config: GANConfig,
    images: torch.Tensor,
    folder: Path,
    resume: bool = False,
    progress: bool = True,
    max_loss: float = 1e4,
    labels: torch.Tensor | None = None,
    step: Callable = train_step,
    source: str | None = None,
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

    The checkpoint records the data it was trained on (`source`, a description such as "6,000 dresses", the
    number of images and a fingerprint of their pixels), and a resume on other data is refused.
    """
    _require_training_data(config, images, labels)
    rank, world = rank_and_world()
    _require_batch_split(config, world)
    writes = rank == 0  # one process writes samples and checkpoints, and holds the run folder
    folder, device = Path(folder), images.device
    # this process's part of a batch
    share = slice(rank * config.batch_size // world, (rank + 1) * config.batch_size // world)
    batches = Batches(images, config, labels, share)
    state = _new_state(config, device, data_record(images, source), batches.noise_source)
    if writes:
        _require_room_to_write(folder, state)
    with run_folder_lock(folder) if writes else contextlib.nullcontext():
        if resume:
            _resume(state, folder / CHECKPOINT, batches, announce=writes)
        # Several processes: each computes on its share; the gradients are averaged before every update.
        g_stepper, d_stepper = (
            (state.g_optimizer, state.d_optimizer)
            if world == 1
            else (AveragedGradients(state.g_optimizer), AveragedGradients(state.d_optimizer))
        )
        snapshots = Snapshots(folder / SAMPLES, config, device)
        save = (lambda: state.save(folder / CHECKPOINT)) if writes else (lambda: None)
        bar = tqdm(
            total=config.steps,
            initial=state.step,
            desc=f"{config.loss} training",
            unit="step",
            mininterval=1.0,
            disable=not (progress and writes),
        )
        started, first_step, stopping = time.perf_counter(), state.step, False
        unread: list[torch.Tensor] = []  # the numbers of the steps since the last reading, still on the device
        try:
            with _stop_between_steps() as stop_requested:
                while state.step < config.steps and not stopping:
                    state.generator.train()
                    state.discriminator.train()
                    result = step(config, state.generator, state.discriminator, g_stepper, d_stepper, batches)
                    unread.append(_step_numbers(result, config))
                    state.advance()
                    sample_due = state.step % config.sample_every == 0 or state.step == config.steps
                    checkpoint_due = state.step % config.checkpoint_every == 0 or state.step == config.steps
                    # One process may read whenever a stop is asked for; several read together, on schedule.
                    if sample_due or checkpoint_due or len(unread) == READ_EVERY or (stop_requested and world == 1):
                        rows, stopping = _read_numbers(unread, bool(stop_requested), world)
                        _refuse_divergence(rows, config, state.step - len(rows), folder / CHECKPOINT, max_loss)
                        state.record(rows)
                        unread.clear()
                        bar.update(len(rows))
                        if writes and sample_due:
                            snapshots.write(state)
                            bar.set_postfix(d_loss=f"{rows[-1]['d_loss']:.3f}", g_loss=f"{rows[-1]['g_loss']:.3f}")
                        if checkpoint_due:
                            save()
                if stopping:
                    save()
                    if writes:
                        asked_by = f" ({stop_requested[0]})" if stop_requested and stop_requested[0] != "SIGINT" else ""
                        print(
                            f"Stopped at step {state.step} as asked{asked_by}: checkpoint saved; continue with "
                            "resume=True (or --resume)."
                        )
        finally:
            bar.close()
        if world > 1:
            _agree_with_process_0(state)
        seconds = time.perf_counter() - started
        images_seen = (state.step - first_step) * config.batch_size * (config.critic_steps + 1)
        state.generator.eval()
        return GANRun(
            state.generator,
            state.discriminator,
            state.history,
            folder,
            state.step,
            images_seen / seconds if seconds > 0 else 0.0,
            stopping,
            state.average,
        )


def _require_training_data(config: GANConfig, images: torch.Tensor, labels: torch.Tensor | None) -> None:
    """Refuse images (and labels) this config cannot train on, saying how to fix them."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1:] != config.image_shape:
        shape = ", ".join(map(str, config.image_shape))
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"images must be a tensor (N, {shape}) in [-1, 1] for this config, got {got}; make one with "
            "course.gan_sampling.to_training_range, or set the config's channels and size to match the images."
        )
    if config.classes and (labels is None or labels.shape != (len(images),) or labels.dtype != torch.long):
        raise ValueError(
            f"a conditional GAN ({config.classes} classes) needs labels: a long tensor with one class per image "
            f"({len(images)})."
        )
    if config.classes and (labels.min() < 0 or labels.max() >= config.classes):
        raise ValueError(
            f"labels must be class numbers from 0 to {config.classes - 1}, got {labels.min()} to {labels.max()}."
        )
    if not config.classes and labels is not None:
        raise ValueError("labels were given to an unconditional GAN: set classes in the config, or pass no labels.")
    if len(images) < config.batch_size:
        raise ValueError(f"{len(images)} images is fewer than one batch of {config.batch_size}; lower batch_size.")
    if images.min() < -1.001 or images.max() > 1.001:
        raise ValueError(f"images must lie in [-1, 1], got values from {images.min():.2f} to {images.max():.2f}.")


def _require_batch_split(config: GANConfig, world: int) -> None:
    """Refuse a batch that does not split over `world` processes, or leaves batch norm too few images in each."""
    if config.batch_size % world:
        raise ValueError(
            f"batch_size {config.batch_size} does not split evenly over {world} processes; choose a multiple of "
            f"{world}."
        )
    if config.batch_norm and config.batch_size // world < 2:
        raise ValueError(
            f"batch norm needs at least 2 images per process, and batch_size {config.batch_size} over {world} "
            "processes "
            f"gives {config.batch_size // world}: use a batch size of at least {2 * world}, or batch_norm=False."
        )


def _require_room_to_write(folder: Path, state: TrainingState) -> None:
    """Before any training: the run folder can be created and written, with room for a few checkpoints."""
    weights = sum(p.numel() * p.element_size() for net in state.networks() for p in net.parameters())
    require_room(
        folder / SAMPLES, 3 * (3 * weights) + 2**20, "the run's checkpoints and samples"
    )  # three checkpoints of weights and two Adam moments


def _resume(state: TrainingState, checkpoint: Path, batches: Batches, announce: bool) -> None:
    """Continue from `checkpoint` when there is one (the batches too, where they were); start at step 0 when not."""
    if not checkpoint.is_file():
        if announce:
            print(f"No checkpoint in {checkpoint.parent.name} yet: starting from step 0.")
        return
    state.load(checkpoint)
    if state.step > state.config.steps:
        raise ValueError(
            f"{checkpoint} is at step {state.step}, past the {state.config.steps} steps asked for: resume with more "
            "steps "
            f"than {state.step} (--steps), or sample from it as it is."
        )
    batches.number = state.step * state.config.critic_steps


def _step_numbers(result: StepResult, config: GANConfig) -> torch.Tensor:
    """The step's numbers for the history, (d_loss, g_loss, D(real), D(fake)), left on the device.

    D(real) and D(fake) are the mean scores, as probabilities for the dcgan loss (its scores are logits).
    """
    squash = torch.sigmoid if config.loss == "dcgan" else (lambda scores: scores)
    return torch.stack(
        [
            result.d_loss.float(),
            result.g_loss.float(),
            squash(result.real_scores.float()).mean(),
            squash(result.fake_scores.float()).mean(),
        ]
    )


def _read_numbers(unread: list[torch.Tensor], stop_requested: bool, world: int) -> tuple[list[dict[str, float]], bool]:
    """The unread steps' numbers as rows, and whether to stop, agreed by every process: one transfer for them all.

    Reading every step would make the host wait for the device at every step; in between readings a GPU
    runs ahead of the Python that queues its work.
    """
    numbers = torch.cat([torch.stack(unread).flatten(), torch.tensor([float(stop_requested)], device=unread[0].device)])
    if world > 1:
        dist.all_reduce(numbers)
        numbers[:-1] /= world
    *values, stops = numbers.tolist()
    rows = [dict(zip(HISTORY, values[start : start + len(HISTORY)], strict=True)) for start in range(0, len(values), 4)]
    return rows, stops > 0


def _refuse_divergence(
    rows: list[dict[str, float]], config: GANConfig, steps_before: int, checkpoint: Path, max_loss: float
) -> None:
    """Stop the run when a loss turned NaN or exploded, saying at which step, which checkpoint stays and what to change.

    `rows` are the numbers of the steps after step `steps_before`; checkpoints are written only after their steps
    were read, so none holds a diverged step.
    """
    diverged = [
        (step, numbers)
        for step, numbers in enumerate(rows, start=steps_before + 1)
        if not all(math.isfinite(numbers[name]) and abs(numbers[name]) < max_loss for name in ("d_loss", "g_loss"))
    ]
    if not diverged:
        return
    step, numbers = diverged[0]
    kept = (
        f"the last good checkpoint (step {read_checkpoint(checkpoint)['step']}) is kept"
        if checkpoint.is_file()
        else "no checkpoint had been written yet"
    )
    raise TrainingDiverged(
        f"{config.loss} training diverged at step {step}: discriminator loss {numbers['d_loss']:.3g}, generator "
        f"loss {numbers['g_loss']:.3g}; {kept}. Lower the learning rate (now {config.learning_rate:g}) and try again."
    )


class Snapshots:
    """The fixed noise batch (and, for a conditional run, every class in turn), rendered into the samples folder."""

    def __init__(self, folder: Path, config: GANConfig, device: torch.device):
        self.folder = folder
        self.noise = torch.randn(64, config.latent_size, generator=torch.Generator().manual_seed(config.seed + 1)).to(
            device
        )
        self.labels = torch.arange(64, device=device) % config.classes if config.classes else None

    def write(self, state: TrainingState) -> None:
        """Draw the batch with the run's sampling generator (the average, when kept) into step_XXXXXX.npy."""
        drawing = state.generator.eval() if state.average is None else state.average
        with torch.no_grad():
            images = to_uint8(drawing(self.noise, self.labels))
        write_atomically(self.folder / f"step_{state.step:06d}.npy", lambda file: np.save(file, images))


def _agree_with_process_0(state: TrainingState) -> None:
    """After a run on several processes: every process takes process 0's batch norm statistics (the ones its checkpoint
    holds), and waits until that checkpoint is complete."""
    for network in state.networks():
        for buffer in network.buffers():
            dist.broadcast(buffer, src=0)
    dist.barrier()


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def data_record(images: torch.Tensor, source: str | None = None) -> dict:
    """What a run trains on, as its checkpoint keeps it: a description, the number of images and 16 hex digits that
    change when any pixel does (of the images as uint8, so the same data gives the same digits on any device)."""
    pixels = ((images.detach() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    digest = hashlib.sha256(str(pixels.shape).encode())
    digest.update(pixels.tobytes())
    return {
        "source": source or f"{len(images):,} images",
        "images": len(images),
        "fingerprint": digest.hexdigest()[:16],
    }


def _described(data: dict) -> str:
    return f"{data.get('source')} ({data.get('images')} images, fingerprint {data.get('fingerprint')})"


class DamagedCheckpoint(ValueError):
    """A checkpoint file whose contents are not what the course writes: cut short, edited, or mixed up."""


def _damaged(path: Path, what: str) -> DamagedCheckpoint:
    return DamagedCheckpoint(
        f"{path} is damaged: {what}. Use an earlier checkpoint (or a copy), or start a new run folder."
    )


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's contents (tensors on the CPU), loaded with weights_only=True, with a clear error if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: train first, or point to a run folder's {CHECKPOINT}.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or tampered file: torch raises several kinds
        raise DamagedCheckpoint(
            f"{path} is not a readable checkpoint ({_why_unreadable(error)}): it is damaged or not one of the "
            "course's. Use an earlier checkpoint (or a copy), or start a new run folder."
        ) from None
    missing = {"config", "step", "generator", "discriminator"} - set(checkpoint if isinstance(checkpoint, dict) else {})
    if missing:
        raise DamagedCheckpoint(
            f"{path} is not a GAN checkpoint of this course, or is damaged: it lacks {', '.join(sorted(missing))}."
        )
    step = checkpoint["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise _damaged(path, f"its step is {step!r}, where a whole number of at least 0 belongs")
    return checkpoint


def _why_unreadable(error: Exception) -> str:
    """The part of torch.load's error that says what is wrong: for a refused pickle, the unpickler's reason (a later
    line), rather than its first line's advice to load the file unchecked."""
    reasons = [line.strip() for line in str(error).splitlines() if line.strip().startswith("WeightsUnpickler error:")]
    return f"{type(error).__name__}: {reasons[0].split('. ')[0]}" if reasons else one_line(error, limit=160)


RESUME_KEYS = ("g_optimizer", "d_optimizer", "noise_source", "history")  # what a resume needs beyond the networks


def _refuse_other_settings(path: Path, saved: GANConfig, asked: GANConfig) -> None:
    """Refuse to resume with settings other than the checkpoint's, except those a resumed run may change."""
    saved_settings, asked_settings = asdict(saved), asdict(asked)
    differences = [
        f"{name} {saved_settings.get(name)!r} there, {value!r} now"
        for name, value in asked_settings.items()
        if name not in RESUMABLE and saved_settings.get(name) != value
    ]
    if differences:
        raise ValueError(
            f"{path} was written with other settings ({'; '.join(differences)}). Resume with the same settings "
            "(only steps, sample_every and checkpoint_every may change), or start a new run folder."
        )


def _refuse_other_data(path: Path, trained_on: object, data: dict) -> None:
    """Refuse to resume on data other than the checkpoint's; a checkpoint that records none resumes, with a note."""
    if trained_on is None:  # written before checkpoints recorded their data
        print(
            f"{path.name} does not record the data it was trained on (an older checkpoint): resuming on "
            f"{_described(data)}."
        )
    elif not isinstance(trained_on, dict) or trained_on.get("fingerprint") != data["fingerprint"]:
        trained_said = _described(trained_on) if isinstance(trained_on, dict) else repr(trained_on)
        raise ValueError(
            f"{path} was trained on {trained_said}, and this run was given {_described(data)}: resume with the data "
            "it was "
            "trained on, or start a new run folder for this data."
        )


def _load_optimizer(optimizer: torch.optim.Optimizer, state: object, name: str, path: Path) -> None:
    """Load an optimiser's state, refusing one that does not fit its network (another network's, or edited)."""
    try:
        optimizer.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError, AttributeError) as error:
        raise _damaged(path, f"its {name} does not fit its network ({str(error).strip()[:160]})") from None
    for parameter, moments in optimizer.state.items():
        for key, value in moments.items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape != parameter.shape:
                raise _damaged(
                    path,
                    f"its {name} holds a {key} of shape {tuple(value.shape)} for weights of shape "
                    f"{tuple(parameter.shape)} "
                    "(the two optimisers swapped, or an edited file)",
                )


def _read_history(path: Path, recorded: object, step: int) -> dict[str, list[float]]:
    """The checkpoint's history, refused unless it holds every number of every step."""
    if (
        not isinstance(recorded, dict)
        or set(recorded) != set(HISTORY)
        or any(not isinstance(values, list) or len(values) != step for values in recorded.values())
    ):
        raise _damaged(path, f"its history does not hold the {', '.join(HISTORY)} of its {step} steps")
    return {name: list(recorded[name]) for name in HISTORY}


def checkpoint_config(checkpoint: dict, path: Path) -> GANConfig:
    """The settings a checkpoint was trained with (settings added to the course since then take their defaults).

    The settings are checked against the shapes of the weights stored with them, on networks built on
    PyTorch's "meta" device (shapes without memory), so damaged settings never allocate networks of their size.
    """
    try:
        config = GANConfig(**checkpoint["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{Path(path).name} holds settings this course cannot read ({error}): it is not one of its checkpoints."
        ) from None
    with torch.device("meta"):
        shapes_only = networks(config)
    for name, network in zip(("generator", "discriminator"), shapes_only, strict=True):
        mismatch = state_mismatch(network, checkpoint[name])
        if mismatch:
            raise ValueError(
                f"{Path(path).name}'s settings do not match its {name}'s weights ({mismatch}): the file was damaged or "
                "edited. Use another checkpoint, or train again."
            )
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
    if not all(
        torch.isfinite(weights).all() for weights in generator.state_dict().values() if weights.is_floating_point()
    ):
        raise ValueError(
            f"{Path(path).name}'s {name} holds NaN or infinite weights, so it would draw blank images: the run "
            "diverged "
            "before this checkpoint was written. Use an earlier checkpoint, or train again with a lower learning rate."
        )
    return generator.to(device).eval()
