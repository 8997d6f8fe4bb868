"""Between pixels and the generator: images into its range and back, and new images from a trained generator."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from course.gan_settings import CHANNELS
from course.validation import require_positive_int, require_seed


def to_training_range(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 images, grey (N, H, W) or (N, C, H, W), as float32 (N, C, H, W) in [-1, 1], the generator's range."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] not in CHANNELS):
        raise ValueError(
            f"images must be uint8, grey (N, H, W) or (N, C, H, W) with C = 1 or 3, levels 0-255; "
            f"got {images.dtype} {images.shape}."
        )
    if images.ndim == 3:
        images = images[:, None]
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).float().div_(127.5).sub_(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Generated images (N, C, H, W) in [-1, 1] as uint8: grey as (N, H, W), the dataset's format; colour as is."""
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
        raise ValueError(
            f"this generator draws one of {classes} classes: say which (a class number from 0 to {classes - 1})."
        )
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
    """`count` new images from the generator, as uint8; a conditional one needs `labels` (a class, or one per image)."""
    return np.concatenate(list(generate_in_chunks(generator, count, seed, labels, batch_size)))


def generate_in_chunks(
    generator: nn.Module, count: int, seed: int = 0, labels=None, batch_size: int = 1000
) -> Iterator[np.ndarray]:
    """The images of `generate`, `batch_size` at a time: the same images, never more than one batch of them in memory.

    The noise is drawn batch by batch from one seeded source, which gives the same numbers as one draw of all of it.
    """
    require_positive_int("count", count)
    require_seed("seed", seed)
    labels = class_labels(labels, count, generator.classes)
    noise_source = torch.Generator().manual_seed(seed)
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        noise = torch.randn(size, generator.latent_size, generator=noise_source)
        yield images_from_noise(generator, noise, None if labels is None else labels[start : start + size], batch_size)


def style_variations(
    generator: nn.Module,
    noise: torch.Tensor,
    label=None,
    directions: int = 3,
    amounts=(-2.0, -1.0, 0.0, 1.0, 2.0),
    seed: int = 0,
) -> np.ndarray:
    """One image's neighbours: its noise vector moved along `directions` random unit directions by each amount.

    Returns uint8 images (directions, len(amounts), ...): row d walks along direction d, and the
    column of amount 0 is the image itself. The class, when there is one, stays fixed.
    """
    noise = torch.as_tensor(noise, dtype=torch.float32).reshape(-1)
    if noise.shape != (generator.latent_size,):
        raise ValueError(
            f"noise must be one vector of {generator.latent_size} numbers, got shape {tuple(noise.shape)}."
        )
    require_positive_int("directions", directions)
    amounts = torch.as_tensor(amounts, dtype=torch.float32).reshape(-1)
    walks = torch.randn(directions, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    walks = walks / walks.norm(dim=1, keepdim=True)
    moved = noise + amounts[None, :, None] * walks[:, None, :]  # (directions, amounts, latent)
    images = images_from_noise(generator, moved.reshape(-1, generator.latent_size), label)
    return images.reshape(directions, len(amounts), *images.shape[1:])
