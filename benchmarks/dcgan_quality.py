"""Quality against training time of the DCGAN, read two ways from the same runs.

Trains notebook 06's DCGAN (with the moving average of the generator, `ema_decay`) in stages with
`course.quality_over_training.train_and_measure`, which scores 1,000 samples of the moving average after
every stage with the course's Fréchet distance over its real-vs-real floor; beside it, 1,000 samples of
the generator's last weights are scored too. The average does not change the training, so the two
columns compare the old way to draw (the last weights) with the new one (the average) at equal training
time. With --seconds, a run stops after the first stage that ends past that much training time (a budget
of time rather than steps, for a sweep of settings). Prints one line per stage and appends every number
to a JSON-lines file.

    python benchmarks/dcgan_quality.py --seeds 0 1 --steps 10000 --every 1000 --out runs/bench/dcgan_quality.jsonl
    python benchmarks/dcgan_quality.py --seeds 0 --seconds 240 --every 500 --learning-rate 4e-4 --label "lr 4e-4"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from course.data import load_fashion_mnist
from course.device import pick_device
from course.gan import GANConfig
from course.gan_sampling import generate, to_training_range
from course.quality import evaluate_samples
from course.quality_over_training import stage_ends, train_and_measure


def measure(
    config: GANConfig, every: int, seconds_budget: float, folder: Path, fashion, images, label: str
) -> list[dict]:
    """Train `config` in stages of `every` steps (up to config.steps, or past `seconds_budget` of training time) with
    `train_and_measure`, whose scores are the moving average's; score the last weights beside them."""
    rows = []
    for end in stage_ends(config.steps, every):
        run, measured = train_and_measure(
            dataclasses.replace(config, steps=end), images, folder, every, fashion, progress=False
        )
        if run.interrupted:
            break
        average, seconds = measured[-1], measured[-1]["seconds"]  # this stage's scores of the moving average
        raw = evaluate_samples(generate(run.generator, 1000, seed=0), fashion)
        # the average's precision and recall (train_and_measure records its distance and dressness only)
        coverage = evaluate_samples(generate(run.sampling_generator, 1000, seed=0), fashion)
        rows.append(
            {
                "label": label,
                "seed": config.seed,
                "step": end,
                "seconds": seconds,
                "raw_over_floor": raw.distance_over_floor,
                "raw_dressness": raw.dressness,
                "average_over_floor": average["distance_over_floor"],
                "average_dressness": average["dressness"],
                "average_precision": coverage.precision,
                "average_recall": coverage.recall,
                "real_precision": coverage.real_precision,
                "real_recall": coverage.real_recall,
                "config": dataclasses.asdict(config),
            }
        )
        print(
            f"{label}  seed {config.seed}  step {end:>6,}  {seconds:6.0f} s   "
            f"last weights {raw.distance_over_floor:5.2f}x floor "
            f"(dressness {raw.dressness:.2f})   average {average['distance_over_floor']:5.2f}x "
            f"(dressness {average['dressness']:.2f}, precision {coverage.precision:.2f}, recall {coverage.recall:.2f})",
            flush=True,
        )
        if seconds >= seconds_budget:
            break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument(
        "--seconds",
        type=float,
        default=float("inf"),
        help="stop a run after the stage that passes this much training time",
    )
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--loss", default="dcgan", help="dcgan (default) or hinge: the game, on the same networks")
    parser.add_argument("--critic-steps", type=int, default=None)
    parser.add_argument("--label", default="default")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/dcgan_quality.jsonl"))
    args = parser.parse_args()
    fashion = load_fashion_mnist()
    images = to_training_range(fashion.dresses("train"), pick_device())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        config = GANConfig(
            loss=args.loss,
            steps=args.steps,
            batch_size=args.batch_size,
            width=args.width,
            seed=seed,
            ema_decay=args.ema_decay,
            learning_rate=args.learning_rate,
            critic_steps=args.critic_steps,
            sample_every=args.every,
            checkpoint_every=args.every,
        )
        with tempfile.TemporaryDirectory() as folder:
            rows = measure(config, args.every, args.seconds, Path(folder), fashion, images, args.label)
        with args.out.open("a") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
