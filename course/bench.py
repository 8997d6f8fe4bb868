"""How fast is the course's GAN trainer? A benchmark against the loop most people copy.

The reference is written in the style of the well-known DCGAN example: the images in a
`TensorDataset`, a shuffling `DataLoader`, one host-to-device copy per batch, float32 throughout.
The course's trainer (`course.gan_training.train_gan`) keeps the images on the device as one tensor
and draws each batch there. Both train the same networks on the same dresses with the same batch
size, in float32. They take turns, round after round, so a machine that is busy slows both alike: compare their
ratio, not the raw numbers.
"""

from __future__ import annotations

import dataclasses
import platform
import resource
import statistics
import tempfile
import time

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from course.gan import GANConfig, build
from course.gan_sampling import to_training_range
from course.gan_training import train_gan
from course.progress import tqdm
from course.validation import require_positive_int


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reference_loop(images: np.ndarray, config: GANConfig, device: torch.device, steps: int) -> None:
    """`steps` batches of the textbook DCGAN loop on uint8 dresses (N, 28, 28)."""
    generator, discriminator, g_optimizer, d_optimizer = build(config, device)
    dataset = TensorDataset(torch.from_numpy(images).float().div(127.5).sub(1).unsqueeze(1))  # on the host
    workers = 2 if device.type == "cuda" else 0  # as the example; on a CPU, workers would compete for the same cores
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    done = 0
    while done < steps:
        for (batch,) in loader:
            real = batch.to(device)  # one copy per batch
            ones = torch.ones(len(real), device=device)
            zeros = torch.zeros(len(real), device=device)
            d_optimizer.zero_grad()
            F.binary_cross_entropy_with_logits(discriminator(real), ones).backward()
            fake = generator(torch.randn(len(real), config.latent_size, device=device))
            F.binary_cross_entropy_with_logits(discriminator(fake.detach()), zeros).backward()
            d_optimizer.step()
            g_optimizer.zero_grad()
            F.binary_cross_entropy_with_logits(discriminator(fake), ones).backward()
            g_optimizer.step()
            done += 1
            if done == steps:
                break
    _synchronise(device)


def course_loop(images: torch.Tensor, config: GANConfig, steps: int) -> None:
    """`steps` generator steps of the course's trainer at its defaults (images already on the device)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(config, steps=steps, sample_every=steps, checkpoint_every=steps)
        train_gan(settings, images, folder, progress=False)
    _synchronise(images.device)


def flops_per_image(images: np.ndarray, config: GANConfig) -> float:
    """Floating-point operations of one DCGAN training step per real image (both networks, forward and backward).

    Counted by PyTorch's FlopCounterMode on one step of the reference loop on the CPU: multiply-adds of
    the convolutions and linear layers count as two operations, everything else (activations,
    optimiser updates) as none, which is how model FLOPs are usually compared with a chip's peak.
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        reference_loop(images[: config.batch_size], config, torch.device("cpu"), steps=1)
    return counter.get_total_flops() / config.batch_size


def _timed(run, steps: int, device: torch.device) -> tuple[float, float | None]:
    """Seconds `run(steps)` takes, and the peak memory it allocated on a CUDA device in MiB (None elsewhere)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    _synchronise(device)
    started = time.perf_counter()
    run(steps)
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return seconds, peak


def benchmark(
    images: np.ndarray,
    device: torch.device,
    batch_size: int = 64,
    steps: int = 200,
    rounds: int = 3,
    progress: bool = True,
) -> dict:
    """Time both loops, `rounds` times each in turn, after one short warm-up round of each.

    Returns a JSON-ready dict: the settings, each loop's median images per second (real images
    trained on per second) with every round's figure, the ratio course / reference and peak memory.
    """
    for name, value in (("batch_size", batch_size), ("steps", steps), ("rounds", rounds)):
        require_positive_int(name, value)
    if len(images) < batch_size:
        raise ValueError(f"{len(images)} images is fewer than one batch of {batch_size}; lower the batch size.")
    config = GANConfig(loss="dcgan", steps=steps, batch_size=batch_size)
    on_device = to_training_range(images, device)
    loops = {
        "reference": lambda count: reference_loop(images, config, device, count),
        "course": lambda count: course_loop(on_device, config, count),
    }
    for run in loops.values():  # warm-up: first calls pay for allocation and kernel selection
        run(max(2, steps // 10))
    rates: dict[str, list[float]] = {name: [] for name in loops}
    peaks: dict[str, float | None] = {name: None for name in loops}
    bar = tqdm(total=rounds * len(loops), desc=f"benchmark, batch {batch_size}", unit="run", disable=not progress)
    for _ in range(rounds):
        for name, run in loops.items():
            seconds, peak = _timed(run, steps, device)
            rates[name].append(steps * batch_size / seconds)
            peaks[name] = peak if peaks[name] is None else max(peaks[name], peak)
            bar.update()
    bar.close()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    flops = flops_per_image(images, config)
    return {
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "batch_size": batch_size,
        "steps_per_round": steps,
        "rounds": rounds,
        "images_per_second": medians,
        "images_per_second_each_round": rates,
        "ratio": medians["course"] / medians["reference"],
        "peak_cuda_memory_mib": peaks if device.type == "cuda" else None,
        "peak_process_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "flops_per_image": flops,
        "course_tflops": medians["course"] * flops / 1e12,
    }


def summary(result: dict) -> str:
    """The benchmark's result as a few printable lines."""
    rates = result["images_per_second"]
    lines = [
        f"device {result['device']} ({result['device_name']}, {result['threads']} threads), torch {result['torch']}, "
        f"batch {result['batch_size']}, {result['rounds']} rounds of {result['steps_per_round']} steps each",
    ]
    for name in ("reference", "course"):
        each = ", ".join(f"{rate:,.0f}" for rate in result["images_per_second_each_round"][name])
        memory = result["peak_cuda_memory_mib"]
        peak = f"; peak CUDA memory {memory[name]:,.0f} MiB" if memory else ""
        lines.append(f"  {name:>9}: {rates[name]:8,.0f} images/s (median of {each}){peak}")
    lines.append(
        f"  ratio course / reference: {result['ratio']:.2f}x; the course's loop takes "
        f"{rates['course'] / result['batch_size']:,.0f} steps a second"
    )
    lines.append(
        f"  {result['flops_per_image'] / 1e6:,.1f} MFLOP per image and step: "
        f"the course's loop computes {result['course_tflops']:.3f} TFLOP/s"
    )
    if result.get("peak_tflops"):
        lines.append(f"  that is {result['fraction_of_peak']:.2%} of the {result['peak_tflops']:g} TFLOP/s peak given")
    if not result["peak_cuda_memory_mib"]:
        lines.append(f"  peak memory of the whole process: {result['peak_process_memory_mib']:,.0f} MiB")
    return "\n".join(lines)


def table(results: list[dict]) -> str:
    """Several benchmarks (one per batch size) as one compact table: how each loop's speed grows with the batch."""
    lines = [
        f"{'batch':>6} {'reference':>12} {'course':>12} {'ratio':>7} {'course':>9}",
        f"{'':>6} {'images/s':>12} {'images/s':>12} {'':>7} {'steps/s':>9}",
    ]
    for result in results:
        rates, batch = result["images_per_second"], result["batch_size"]
        lines.append(
            f"{batch:>6} {rates['reference']:>12,.0f} {rates['course']:>12,.0f} {result['ratio']:>6.2f}x "
            f"{rates['course'] / batch:>9,.0f}"
        )
    return "\n".join(lines)
