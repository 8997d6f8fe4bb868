"""The GANs' networks: the DCGAN pair and a ResNet pair, for grey or colour images, with or without classes.

Image sizes are 28 (Fashion-MNIST), 32 or 64 pixels, with 1 or 3 channels. The generator's output
lies in [-1, 1] (tanh). The discriminator returns one score per image: a logit for the dcgan loss,
the critic's unbounded score for the Wasserstein losses.

Class-conditional networks (`classes` > 0) take a label with every image:

* the generator reads its noise with the class's one-hot code appended (Mirza & Osindero, 2014);
* the discriminator adds a class term to its score, the inner product of the image's features with
  a learnt vector for the class: the "projection discriminator" of Miyato & Koyama (2018).

The ResNet pair replaces each strided convolution with a residual block that up- or down-samples,
in the style of the ResNet GANs of Gulrajani et al. (2017) and Miyato et al. (2018): two 3x3
convolutions beside a shortcut. It is deeper at the same width, and several times slower per step.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course.gan_settings import CHANNELS, MODELS, SIZES


def resamplings(size: int) -> int:
    """How many times the networks halve or double the image side: 28 -> 7, 32 -> 8 (two), 64 -> 8 (three)."""
    if size not in SIZES:
        raise ValueError(f"image size must be one of {', '.join(map(str, SIZES))} pixels, got {size!r}.")
    return 3 if size == 64 else 2


def require_image_settings(channels: int, size: int, classes: int = 0) -> None:
    """A ValueError unless the image shape and the number of classes are ones the networks are built for."""
    resamplings(size)
    if isinstance(channels, bool) or channels not in CHANNELS:
        raise ValueError(f"channels must be 1 (grey) or 3 (colour), got {channels!r}.")
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 0:
        raise ValueError(f"classes must be 0 (unconditional) or the number of classes, got {classes!r}.")


def _check_labels(labels: torch.Tensor | None, count: int, classes: int) -> None:
    if classes == 0:
        if labels is not None:
            raise ValueError("this network was built without classes: pass no labels (or build it with classes=K).")
        return
    if labels is None:
        raise ValueError(
            f"this network is conditional on {classes} classes: pass labels, a tensor of {count} class numbers."
        )
    if labels.shape != (count,) or labels.dtype != torch.long:
        raise ValueError(f"labels must be a long tensor of shape ({count},), got {labels.dtype} {tuple(labels.shape)}.")
    if count and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be class numbers from 0 to {classes - 1}, got {labels.min()} to {labels.max()}.")


class _ImageNetwork(nn.Module):
    """What every network here shares: its image shape and classes, and the checks on its inputs."""

    def __init__(self, channels: int, size: int, classes: int):
        super().__init__()
        require_image_settings(channels, size, classes)
        self.channels, self.size, self.classes = channels, size, classes

    def _check_images(self, images: torch.Tensor, labels: torch.Tensor | None) -> None:
        expected = (self.channels, self.size, self.size)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}), got {tuple(images.shape)}.")
        _check_labels(labels, len(images), self.classes)


class _Generator(_ImageNetwork):
    """Checks the noise and appends the class code; subclasses turn the result into images."""

    def __init__(self, latent_size: int, channels: int, size: int, classes: int):
        super().__init__(channels, size, classes)
        self.latent_size = latent_size

    def _inputs(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if noise.ndim != 2 or noise.shape[1] != self.latent_size:
            raise ValueError(f"noise must have shape (N, {self.latent_size}), got {tuple(noise.shape)}.")
        _check_labels(labels, len(noise), self.classes)
        if self.classes == 0:
            return noise
        return torch.cat([noise, F.one_hot(labels, self.classes).to(noise.dtype)], dim=1)


class _Discriminator(_ImageNetwork):
    """A score from the image's features, plus the projection term for conditional networks.

    Subclasses build their body first and then call `_add_score`, so the weights are drawn in that order.
    """

    def _add_score(self, features: int) -> None:
        self.score = nn.Linear(features, 1)
        self.class_vectors = nn.Embedding(self.classes, features) if self.classes else None
        if self.class_vectors is not None:
            nn.init.zeros_(
                self.class_vectors.weight
            )  # start as an unconditional critic; random vectors would swamp the score

    def _score(self, features: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        score = self.score(features).squeeze(1)
        if self.class_vectors is not None:
            score = score + (self.class_vectors(labels) * features).sum(dim=1)
        return score


# ---------------------------------------------------------------------------------------------
# DCGAN
# ---------------------------------------------------------------------------------------------


class Generator(_Generator):
    """Noise (N, latent_size) -> images (N, channels, size, size): a projection, then transposed convolutions.

    At 28 pixels: 7x7 -> 14x14 -> 28x28, with 2 * width then width feature maps.
    """

    def __init__(
        self,
        latent_size: int = 64,
        width: int = 32,
        batch_norm: bool = True,
        channels: int = 1,
        size: int = 28,
        classes: int = 0,
    ):
        super().__init__(latent_size, channels, size, classes)
        self.width = width
        steps = resamplings(size)
        self.start, self.start_width = size // 2**steps, width * 2 ** (steps - 1)
        features = self.start_width * self.start**2
        self.project = nn.Sequential(
            nn.Linear(latent_size + classes, features),
            nn.BatchNorm1d(features) if batch_norm else nn.Identity(),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        maps = self.start_width
        for _ in range(steps - 1):  # each doubles the side and halves the maps
            layers += [
                nn.ConvTranspose2d(maps, maps // 2, kernel_size=4, stride=2, padding=1),
                nn.BatchNorm2d(maps // 2) if batch_norm else nn.Identity(),
                nn.ReLU(),
            ]
            maps //= 2
        layers += [nn.ConvTranspose2d(maps, channels, kernel_size=4, stride=2, padding=1), nn.Tanh()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        start = self.project(self._inputs(noise, labels))
        return self.upsample(start.view(-1, self.start_width, self.start, self.start))


class Discriminator(_Discriminator):
    """Images (N, channels, size, size) -> one score each: strided convolutions and a linear layer.

    `batch_norm=False` for WGAN-GP, whose gradient penalty is defined per image.
    """

    def __init__(self, width: int = 32, batch_norm: bool = True, channels: int = 1, size: int = 28, classes: int = 0):
        super().__init__(channels, size, classes)
        steps = resamplings(size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        maps = width
        for _ in range(steps - 1):  # each halves the side and doubles the maps
            layers += [
                nn.Conv2d(maps, 2 * maps, kernel_size=4, stride=2, padding=1),
                nn.BatchNorm2d(2 * maps) if batch_norm else nn.Identity(),
                nn.LeakyReLU(0.2),
            ]
            maps *= 2
        self.body = nn.Sequential(*layers, nn.Flatten())
        self._add_score(maps * (size // 2**steps) ** 2)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self._check_images(images, labels)
        return self._score(self.body(images), labels)


# ---------------------------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------------------------


class UpBlock(nn.Module):
    """Doubles the side: (BN, ReLU, upsample, 3x3 conv, BN, ReLU, 3x3 conv) + (upsample, 1x1 conv)."""

    def __init__(self, maps_in: int, maps_out: int, batch_norm: bool = True):
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else (lambda maps: nn.Identity())
        self.residual = nn.Sequential(
            norm(maps_in),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(maps_in, maps_out, 3, padding=1),
            norm(maps_out),
            nn.ReLU(),
            nn.Conv2d(maps_out, maps_out, 3, padding=1),
        )
        self.shortcut = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(maps_in, maps_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class DownBlock(nn.Module):
    """Halves the side: (ReLU, 3x3 conv, ReLU, 3x3 conv, average pool) + (1x1 conv, average pool).

    The first block of a discriminator sees raw pixels, so it starts without the ReLU.
    """

    def __init__(self, maps_in: int, maps_out: int, first: bool = False):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Identity() if first else nn.ReLU(),
            nn.Conv2d(maps_in, maps_out, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(maps_out, maps_out, 3, padding=1),
            nn.AvgPool2d(2),
        )
        self.shortcut = nn.Sequential(nn.Conv2d(maps_in, maps_out, 1), nn.AvgPool2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ResNetGenerator(_Generator):
    """Noise (N, latent_size) -> images: a projection to 7x7 (8x8) maps, residual up-blocks, a 3x3 conv to pixels."""

    def __init__(
        self,
        latent_size: int = 64,
        width: int = 32,
        batch_norm: bool = True,
        channels: int = 1,
        size: int = 28,
        classes: int = 0,
    ):
        super().__init__(latent_size, channels, size, classes)
        self.width = width
        steps = resamplings(size)
        self.start = size // 2**steps
        self.project = nn.Linear(latent_size + classes, width * self.start**2)
        norm = nn.BatchNorm2d(width) if batch_norm else nn.Identity()
        self.blocks = nn.Sequential(*[UpBlock(width, width, batch_norm) for _ in range(steps)])
        self.to_pixels = nn.Sequential(norm, nn.ReLU(), nn.Conv2d(width, channels, 3, padding=1), nn.Tanh())

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        start = self.project(self._inputs(noise, labels)).view(-1, self.width, self.start, self.start)
        return self.to_pixels(self.blocks(start))


class ResNetDiscriminator(_Discriminator):
    """Images -> one score each: residual down-blocks, ReLU, the average over positions, a linear layer.

    No batch norm: each image's score depends on that image alone, as the gradient penalty needs.
    """

    def __init__(self, width: int = 32, channels: int = 1, size: int = 28, classes: int = 0):
        super().__init__(channels, size, classes)
        steps = resamplings(size)
        blocks = [DownBlock(channels, width, first=True)] + [DownBlock(width, width) for _ in range(steps - 1)]
        self.body = nn.Sequential(*blocks, nn.ReLU())
        self._add_score(width)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self._check_images(images, labels)
        return self._score(self.body(images).mean(dim=(2, 3)), labels)


def make_networks(
    model: str,
    latent_size: int,
    width: int,
    batch_norm: bool,
    discriminator_batch_norm: bool,
    channels: int = 1,
    size: int = 28,
    classes: int = 0,
) -> tuple[_Generator, _Discriminator]:
    """A generator and a discriminator of the named model ("dcgan" or "resnet")."""
    if model == "dcgan":
        return (
            Generator(latent_size, width, batch_norm, channels, size, classes),
            Discriminator(width, discriminator_batch_norm, channels, size, classes),
        )
    if model == "resnet":
        return (
            ResNetGenerator(latent_size, width, batch_norm, channels, size, classes),
            ResNetDiscriminator(width, channels, size, classes),
        )
    raise ValueError(f"Unknown model {model!r}: expected one of {', '.join(MODELS)}.")


def with_spectral_norm(network: nn.Module) -> nn.Module:
    """`network` with every convolution's and linear layer's weight spectrally normalised, in place.

    Each such weight is divided by an estimate of its largest singular value (one power-iteration step per
    forward pass in training), so no layer stretches its input by more than about 1 (Miyato et al. 2018).
    """
    for module in list(network.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(module)
    return network


class WithWeightsOf(nn.Module):
    """`network`'s forward pass, run on the weights and batch norm statistics of `owner`, a network of the same layers.

    The course's trainer builds its networks and their optimisers from a config; a notebook's step can play the
    game through a learner's own classes by handing `with_weights_of(theirs, trainer's)` to `course.gan.train_step`.
    The gradients and batch norm's updates reach the owner's tensors (torch.func.functional_call), so the trainer's
    optimisers move them as usual; `network`'s own weights are never used.
    """

    def __init__(self, network: nn.Module, owner: nn.Module):
        super().__init__()
        shapes = {name: tuple(value.shape) for name, value in network.state_dict().items()}
        if shapes != {name: tuple(value.shape) for name, value in owner.state_dict().items()}:
            raise ValueError(
                f"{type(network).__name__} has other layers than {type(owner).__name__} (names or shapes): "
                "it cannot run on its weights."
            )
        self.owner = owner  # a submodule: parameters() are the owner's, and train() or eval() reach it
        self.__dict__["network"] = network  # not a submodule: only its forward pass is used

    def forward(self, *inputs: torch.Tensor | None) -> torch.Tensor:
        self.network.train(self.owner.training)
        return torch.func.functional_call(self.network, self.owner.state_dict(keep_vars=True), inputs, strict=True)


def with_weights_of(network: nn.Module, owner: nn.Module) -> WithWeightsOf:
    """`network`'s forward pass on `owner`'s weights (see WithWeightsOf)."""
    return WithWeightsOf(network, owner)
