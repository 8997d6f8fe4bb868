"""The networks of the course, small enough to read in one go and to train on a laptop."""

from __future__ import annotations

import torch
from torch import nn


def mlp(in_features: int, hidden: tuple[int, ...], out_features: int) -> nn.Sequential:
    """A stack of Linear + Tanh layers (the learned transforms) with a plain Linear layer on top."""
    if not isinstance(hidden, tuple):
        raise ValueError(f"hidden must be a tuple of layer sizes such as (8, 8), got {hidden!r}.")
    sizes = (in_features, *hidden)
    if any(not isinstance(size, int) or isinstance(size, bool) or size < 1 for size in (*sizes, out_features)):
        raise ValueError(f"layer sizes must be positive ints, got {in_features}, {hidden}, {out_features}.")
    layers: list[nn.Module] = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(size_in, size_out), nn.Tanh()]
    layers.append(nn.Linear(sizes[-1], out_features))
    return nn.Sequential(*layers)


def softmax_classifier(num_pixels: int = 28 * 28, num_classes: int = 10) -> nn.Sequential:
    """A linear model on raw pixels: one score per class, turned into probabilities by softmax in the loss."""
    return nn.Sequential(nn.Flatten(), nn.Linear(num_pixels, num_classes))


class SmallCNN(nn.Module):
    """Two convolution blocks (the spatial transforms) and a small classifier on top, for 28x28 grey images.

    `features` maps (N, 1, 28, 28) to (N, 32, 7, 7); `classifier` maps those to one score per class.
    Transfer learning keeps `features` and replaces or retrains `classifier`.
    """

    def __init__(self, num_classes: int = 10, channels: tuple[int, int] = (16, 32), hidden: int = 64):
        super().__init__()
        first, second = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, first, kernel_size=5, padding=2),  # 5x5 filters: large enough to look at
            nn.ReLU(),
            nn.MaxPool2d(2),  # 28x28 -> 14x14
            nn.Conv2d(first, second, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14x14 -> 7x7
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(second * 7 * 7, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
            raise ValueError(f"SmallCNN expects images of shape (N, 1, 28, 28), got {tuple(images.shape)}.")
        return self.classifier(self.features(images))


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """How many numbers the model learns (only those with requires_grad, if `trainable_only`)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def freeze(module: nn.Module) -> None:
    """Stop training `module`: its parameters keep their values and get no gradients."""
    for parameter in module.parameters():
        parameter.requires_grad_(False)
