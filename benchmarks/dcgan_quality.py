"""Quality against training time of the DCGAN, read two ways from the same runs.

Trains notebook 06's DCGAN (with the moving average of the generator, `ema_decay`) in stages, and
after every stage scores 1,000 samples of the generator's last weights and 1,000 of the moving
average, with the course's Fréchet distance over its real-vs-real floor. The average does not change
the training, so the two columns compare the old way to draw (the last weights) with the new one
(the average) at equal training time. Prints one table per seed and saves every number as JSON.

    python benchmarks/dcgan_quality.py --seeds 0 1 --steps 10000 --every 1000 --out runs/bench/dcgan_quality.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from course.data import load_fashion_mnist
from course.device import pick_device
from course.gan import GANConfig
from course.gan_sampling import generate, to_training_range
from course.gan_training import train_gan
from course.quality import evaluate_samples


def measure(seed: int, steps: int, every: int, ema_decay: float, folder: Path, fashion, images) -> list[dict]:
    """One run of `steps` generator steps from `seed`, scored every `every` steps: seconds, raw and average distance over the floor."""
    config = GANConfig(loss="dcgan", steps=steps, batch_size=64, seed=seed, ema_decay=ema_decay, sample_every=every, checkpoint_every=every)
    rows, seconds = [], 0.0
    for end in range(every, steps + 1, every):
        started = time.perf_counter()
        run = train_gan(dataclasses.replace(config, steps=end), images, folder, resume=True, progress=False)
        seconds += time.perf_counter() - started
        raw = evaluate_samples(generate(run.generator, 1000, seed=0), fashion)
        average = evaluate_samples(generate(run.average, 1000, seed=0), fashion)
        rows.append({"seed": seed, "step": end, "seconds": seconds, "raw_over_floor": raw.distance_over_floor, "raw_dressness": raw.dressness,
                     "average_over_floor": average.distance_over_floor, "average_dressness": average.dressness})  # fmt: skip
        print(
            f"seed {seed}  step {end:>6,}  {seconds:6.0f} s   last weights {raw.distance_over_floor:5.2f}x floor "
            f"(dressness {raw.dressness:.2f})   average {average.distance_over_floor:5.2f}x (dressness {average.dressness:.2f})",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/dcgan_quality.json"))
    args = parser.parse_args()
    fashion = load_fashion_mnist()
    images = to_training_range(fashion.dresses("train"), pick_device())
    rows = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            rows += measure(seed, args.steps, args.every, args.ema_decay, Path(folder), fashion, images)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1))
    print(f"saved {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
