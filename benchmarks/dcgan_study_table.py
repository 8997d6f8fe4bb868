"""The two-core study's table: each setting's quality at equal steps and at equal training time, over its seeds.

Reads the JSON-lines file that benchmarks/dcgan_quality.py appends to and prints, for every setting, the moving
average's d² over the real floor, precision and recall at a few step counts and training times (the stage
reached first at or after each), as the mean over seeds with the seeds' range, and the steps per second.

    python benchmarks/dcgan_study_table.py benchmarks/results/dcgan_study_two_cores.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

STEPS = (5_000, 10_000, 15_000)
SECONDS = (60, 120, 180, 300)


def first_at_or_after(rows: list[dict], key: str, value: float) -> dict | None:
    """The first stage whose `key` reaches `value`, or None when the run stopped short of it."""
    return next((row for row in rows if row[key] >= value), None)


def summary(values: list[float], form: str = ".2f") -> str:
    """Mean over seeds and the seeds' range, e.g. '2.41 (2.29-2.53)'; '-' when there are none."""
    if not values:
        return "-"
    return f"{statistics.mean(values):{form}} ({min(values):{form}}-{max(values):{form}})"


def table(path: Path) -> str:
    runs: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for line in path.read_text().splitlines():
        row = json.loads(line)
        runs[row["label"]][row["seed"]].append(row)
    lines = []
    for budget_key, budgets, unit in (("step", STEPS, "steps"), ("seconds", SECONDS, "s")):
        header = " | ".join(f"{budget:,} {unit}" for budget in budgets)
        lines += [
            f"\nd² / floor of the moving average (mean over seeds, range), at equal {unit}",
            "",
            f"| setting | seeds | {header} |",
        ]
        lines.append("|---|---|" + "---|" * len(budgets))
        for label, seeds in runs.items():
            cells = []
            for budget in budgets:
                reached = [first_at_or_after(rows, budget_key, budget) for rows in seeds.values()]
                values = [row["average_over_floor"] for row in reached if row is not None]
                cells.append(summary(values) if len(values) == len(seeds) else "-")
            lines.append(f"| {label} | {len(seeds)} | " + " | ".join(cells) + " |")
    lines += ["\nAt the end of each run (mean over seeds, range)", ""]
    lines.append("| setting | steps | steps/s | d² / floor | precision | recall | real precision, recall |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, seeds in runs.items():
        last = [rows[-1] for rows in seeds.values()]
        rates = [row["step"] / row["seconds"] for row in last]
        cells = [
            summary([row["step"] for row in last], ",.0f"),
            summary(rates, ".0f"),
            *(
                summary([row[key] for row in last])
                for key in ("average_over_floor", "average_precision", "average_recall")
            ),
            f"{last[0]['real_precision']:.2f}, {last[0]['real_recall']:.2f}",
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    print(table(parser.parse_args().results))


if __name__ == "__main__":
    main()
