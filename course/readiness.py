"""Is this machine ready for the course? Versions, device, scale and data, with a fix for each gap."""

from __future__ import annotations

import platform
from importlib import metadata

import torch

from course import data
from course.device import describe_device, pick_device
from course.scale import resolve_scale

PACKAGES = ("numpy", "pandas", "matplotlib", "statsmodels", "torch", "tqdm", "jupyterlab")


def versions() -> dict[str, str]:
    """Python's version and each course dependency's, or 'missing'."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing (run the README's set-up command)"
    return found


def data_report(download: bool = False) -> list[str]:
    """One line per dataset: found and verified, or PROBLEM with what is wrong and how to fix it."""
    lines = []
    try:
        housing = data.load_housing()
        lines.append(f"Windsor house prices: {len(housing)} sales, checksum verified")
    except (data.DataError, data.DataNotFoundError) as error:
        lines.append(f"Windsor house prices: PROBLEM. {error}")
    try:
        fashion = data.load_fashion_mnist(download=download)
        lines.append(
            f"Fashion-MNIST: {len(fashion.train_images):,} train + {len(fashion.test_images):,} test images, "
            f"checksums verified, from {fashion.source}"
        )
    except (data.DataError, data.DataNotFoundError) as error:
        lines.append(f"Fashion-MNIST: PROBLEM. {error}")
    return lines


def report(scale: str | None = None) -> None:
    """Print everything a learner needs to know before starting."""
    for name, version in versions().items():
        print(f"{name:>12}: {version}")
    device = pick_device()
    print(f"\n{'device':>12}: {describe_device(device)}")
    if device.type == "cpu":
        print(" " * 14 + "no GPU found: training runs on the CPU at the 'laptop' scale by default")
    print(f"{'scale':>12}: {resolve_scale(scale)}")
    print()
    for line in data_report():
        print(line)
    print(f"\nPyTorch threads: {torch.get_num_threads()}")
