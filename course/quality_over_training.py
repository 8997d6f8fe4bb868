"""Quality over training: train a GAN in stages and score its samples after each stage.

Each stage continues the same run (`train_gan` with `resume=True`), so the final networks are those
of one uninterrupted run. The scores are saved beside the checkpoint after every stage, so a re-run
skips the stages already measured, and an interrupted run continues where it stopped. Scores taken
with another number of samples are not reused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import torch

from course.data import FashionMNIST
from course.gan import GANConfig, train_step
from course.gan_sampling import generate
from course.gan_training import CHECKPOINT, GANRun, read_checkpoint, train_gan
from course.progress import tqdm
from course.quality import evaluate_samples
from course.runs import ResultsStore, load_json
from course.validation import require_positive_int

MEASUREMENTS = "quality.json"  # in the run folder: one entry per measured stage


def stage_ends(steps: int, measure_every: int) -> list[int]:
    """The steps after which samples are scored: every `measure_every` steps, and the last step."""
    require_positive_int("measure_every", measure_every, unit="(generator steps)")
    return sorted(set(range(measure_every, steps, measure_every)) | {steps})


def _measured_so_far(store: ResultsStore, folder: Path) -> list[dict]:
    """The saved scores that belong to the checkpoint in `folder` (none if there is no checkpoint)."""
    if not (folder / CHECKPOINT).is_file():
        return []  # scores without their run would mix two runs
    reached = read_checkpoint(folder / CHECKPOINT)["step"]
    saved = load_json(store.path)
    rows = (
        saved if isinstance(saved, list) else store.rows()
    )  # a bare list: scores saved before their settings were kept
    return [entry for entry in rows if entry["step"] <= reached]


def train_and_measure(
    config: GANConfig,
    images: torch.Tensor,
    folder: Path,
    measure_every: int,
    fashion: FashionMNIST | None = None,
    samples: int = 1000,
    progress: bool = True,
    step: Callable = train_step,
) -> tuple[GANRun, list[dict]]:
    """Train `config` into `folder`, scoring `samples` generated images after each stage.

    `step` is the game's training step that `train_gan` calls (a notebook may pass the one it wrote).

    The samples come from the run's `sampling_generator`: the moving average of the generator's
    weights when `config.ema_decay` > 0.

    Returns the run and one entry per stage: step, dressness, frechet_distance, floor,
    real_dressness, distance_over_floor and seconds (training time up to that stage, summed over sessions).
    """
    folder = Path(folder)
    # The checkpoint already ties the scores to one config (a resume with other settings is refused);
    # the sample count is kept beside them.
    store = ResultsStore(folder / MEASUREMENTS, {"samples": samples})
    measurements = _measured_so_far(store, folder)
    done = {entry["step"] for entry in measurements}
    reached = read_checkpoint(folder / CHECKPOINT)["step"] if (folder / CHECKPOINT).is_file() else 0
    seconds = measurements[-1]["seconds"] if measurements else 0.0
    name = config.loss if config.model == "dcgan" else f"{config.model} networks, {config.loss} loss"
    bar = tqdm(
        total=config.steps, desc=f"{name}, scored every {measure_every:,} steps", unit="step", disable=not progress
    )
    run = None
    try:
        for end in stage_ends(config.steps, measure_every):
            if end < config.steps and (end in done or end < reached):
                # the checkpoint is past this stage: measured in an earlier session, or (scores of another
                # number of samples) not measurable now
                continue
            started = time.perf_counter()
            run = train_gan(
                dataclasses.replace(config, steps=end), images, folder, resume=True, progress=False, step=step
            )
            seconds += time.perf_counter() - started
            bar.update(run.step - bar.n)
            if run.interrupted:
                print(f"Stopped at step {run.step:,}: run this again to continue from there.")
                break
            if end in done:
                break  # the last stage, measured before: nothing left to do
            report = evaluate_samples(
                generate(run.sampling_generator, samples, seed=0), fashion
            )  # the average, when the run keeps one
            measurements.append(
                {
                    "step": end,
                    "dressness": report.dressness,
                    "frechet_distance": report.frechet_distance,
                    "floor": report.floor,
                    "real_dressness": report.real_dressness,
                    "distance_over_floor": report.distance_over_floor,
                    "seconds": seconds,
                }
            )
            store.save(measurements)
            bar.set_postfix(distance=f"{report.distance_over_floor:.1f}x floor")
    finally:
        bar.close()
    return run, measurements
