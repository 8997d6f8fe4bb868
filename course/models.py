"""The networks of the course, small enough to read in one go and to train on a laptop."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def mlp(
    in_features: int, hidden: tuple[int, ...], out_features: int, activation: Callable[[], nn.Module] = nn.Tanh
) -> nn.Sequential:
    """A stack of Linear + activation layers (the learned transforms) with a plain Linear layer on top.

    The activation is Tanh by default.
    """
    if not isinstance(hidden, tuple):
        raise ValueError(f"hidden must be a tuple of layer sizes such as (8, 8), got {hidden!r}.")
    sizes = (in_features, *hidden)
    if any(not isinstance(size, int) or isinstance(size, bool) or size < 1 for size in (*sizes, out_features)):
        raise ValueError(f"layer sizes must be positive ints, got {in_features}, {hidden}, {out_features}.")
    layers: list[nn.Module] = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(size_in, size_out), activation()]
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


class SideBySide(nn.Module):
    """`copies` separate networks of one shape (Linear layers with LeakyReLU(0.2) between), run as one module.

    The input's rows are cut into `copies` equal blocks, in order, and block k goes through copy k
    alone. A loss averaged over all the rows therefore trains each copy on its own block only, with
    its gradient divided by `copies`. Each copy starts as `nn.Linear` layers do: uniform in ±1/√fan_in.
    """

    def __init__(self, copies: int, sizes: tuple[int, ...]):
        super().__init__()
        if copies < 1 or len(sizes) < 2 or any(size < 1 for size in sizes):
            raise ValueError(f"need copies >= 1 and at least two positive layer sizes, got {copies} and {sizes}.")
        self.copies = copies
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for size_in, size_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = size_in**-0.5
            self.weights.append(nn.Parameter(torch.empty(copies, size_in, size_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(copies, 1, size_out).uniform_(-bound, bound)))

    def forward(self, rows: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # labels: ignored (the ring has no classes); taken so that gan.train_step, which passes them, can play the ring
        if rows.ndim != 2 or len(rows) % self.copies:
            raise ValueError(
                f"expected a (rows, features) tensor with rows a multiple of {self.copies}, got {tuple(rows.shape)}."
            )
        blocks = rows.reshape(self.copies, -1, rows.shape[1])  # (copies, rows per copy, features)
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            blocks = torch.baddbmm(bias, blocks, weight)  # each copy's own weights: bias + blocks @ weight
            if layer < len(self.weights) - 1:
                blocks = nn.functional.leaky_relu(blocks, 0.2)
        return blocks.reshape(len(rows), -1)

    def copy(self, k: int) -> nn.Sequential:
        """Copy k as a plain network of nn.Linear and nn.LeakyReLU layers, with its current weights."""
        layers: list[nn.Module] = []
        for weight, bias in zip(self.weights, self.biases, strict=True):
            linear = nn.Linear(weight.shape[1], weight.shape[2])
            with torch.no_grad():
                linear.weight.copy_(weight[k].T)
                linear.bias.copy_(bias[k, 0])
            layers += [linear, nn.LeakyReLU(0.2)]
        return nn.Sequential(*layers[:-1])
