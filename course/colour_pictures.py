"""Colour pictures the course makes itself, with nothing to download.

`colour_picture` draws notebook 02's colour picture, a red dress on grass under a blue sky, to show a picture
as an array of red, green and blue channels. `recolour_dresses` turns grey Fashion-MNIST dresses into colour
ones (plain, striped, dotted, checked): notebook 09 writes them as a folder of PNG files to try the GAN
trainer's picture reader on before using your own pictures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import hsv_to_rgb

CHUNK = 1024  # dresses painted at a time
PATTERNS = ("plain", "horizontal stripes", "vertical stripes", "polka dots", "checks")


def colour_picture(size: int = 48) -> np.ndarray:
    """A small colour picture drawn by the course (no download): a red dress on grass under a blue sky.

    Returns uint8 (size, size, 3): height x width x the red, green and blue channels.
    """
    if not isinstance(size, int) or size < 16:
        raise ValueError(f"size must be an int of at least 16 pixels, got {size!r}.")
    y, x = np.mgrid[0:size, 0:size] / size  # 0 at the top-left corner, 1 at the far edges
    picture = np.zeros((size, size, 3))
    picture[...] = np.stack([0.35 + 0.4 * y, 0.6 + 0.3 * y, np.ones_like(y)], axis=-1)  # sky, paler low down
    picture[(x - 0.82) ** 2 + (y - 0.16) ** 2 < 0.01] = (1.0, 0.85, 0.1)  # the sun
    picture[y > 0.78] = (0.2, 0.6, 0.15)  # grass
    half_width = np.where(y < 0.42, 0.075 - 0.1 * (y - 0.22), 0.055 + 0.42 * (y - 0.42))  # bodice, then skirt
    dress = (np.abs(x - 0.4) < half_width) & (y > 0.22) & (y < 0.86)
    picture[dress] = (0.85, 0.1, 0.15)
    return (picture * 255).round().astype(np.uint8)


def recolour_dresses(dresses: np.ndarray, seed: int = 0) -> np.ndarray:
    """Grey Fashion-MNIST dresses uint8 (N, 28, 28), 0 = background, as colour dresses uint8 (N, 3, 32, 32).

    Each dress is padded to 32x32 and gets two random colours and one pattern: plain, horizontal stripes,
    vertical stripes, polka dots or checks (period 3 to 6 pixels, random phase). The grey level says how much
    of the pattern's colour covers the white background, so an empty pixel is white and full ink is the colour.
    The same seed gives the same dresses.
    """
    dresses = np.asarray(dresses)
    if dresses.dtype != np.uint8 or dresses.ndim != 3 or dresses.shape[1:] != (28, 28):
        raise ValueError(
            f"dresses must be a uint8 array (N, 28, 28) of Fashion-MNIST grey levels, as "
            f"FashionMNIST.dresses() returns, got {dresses.dtype} with shape {dresses.shape}."
        )
    if len(dresses) == 0:
        raise ValueError("dresses is empty: pass at least one dress.")
    count = len(dresses)
    rng = np.random.default_rng(seed)
    main_hue = rng.uniform(0, 1, count)
    second_hue = (main_hue + rng.uniform(0.25, 0.75, count)) % 1  # far round the colour wheel from the main one
    saturation = rng.uniform(0.55, 1.0, (2, count))  # strong enough to read as a colour
    value = rng.uniform(0.45, 0.85, (2, count))  # dark enough to show on white
    main = hsv_to_rgb(np.stack([main_hue, saturation[0], value[0]], axis=1)) * 255  # (N, 3) in [0, 255]
    second = hsv_to_rgb(np.stack([second_hue, saturation[1], value[1]], axis=1)) * 255
    pattern = rng.integers(0, len(PATTERNS), count)
    period = rng.integers(3, 7, count)  # 3 to 6 pixels
    phase_y, phase_x = rng.integers(0, period), rng.integers(0, period)

    main, second = main.astype(np.float32), second.astype(np.float32)
    painted = np.empty((count, 3, 32, 32), dtype=np.uint8)
    for start in range(0, count, CHUNK):  # a chunk at a time keeps the float arrays small
        part = slice(start, start + CHUNK)
        use_second = _second_colour_mask(pattern[part], period[part], phase_y[part], phase_x[part])
        colour = np.where(use_second[..., None], second[part, None, None], main[part, None, None])  # (n, 32, 32, 3)
        ink = np.pad(dresses[part], ((0, 0), (2, 2), (2, 2))).astype(np.float32)[..., None] / 255
        pixels = (1 - ink) * 255 + ink * colour  # white where there is no ink, the pattern's colour at full ink
        painted[part] = pixels.round().clip(0, 255).astype(np.uint8).transpose(0, 3, 1, 2)
    return painted


def _second_colour_mask(pattern: np.ndarray, period: np.ndarray, phase_y: np.ndarray, phase_x: np.ndarray):
    """Which pixels of each 32x32 dress take the second colour, as bool (N, 32, 32), given each dress's pattern."""
    count = len(pattern)
    across = np.arange(32)
    p = period[:, None, None]
    row = (across[None, :, None] + phase_y[:, None, None]) % p  # position within the period, down the dress
    column = (across[None, None, :] + phase_x[:, None, None]) % p  # and across it
    horizontal = np.broadcast_to(row < p // 2, (count, 32, 32))
    vertical = np.broadcast_to(column < p // 2, (count, 32, 32))
    centre = (p - 1) / 2
    dots = (row - centre) ** 2 + (column - centre) ** 2 <= (0.3 * p) ** 2
    kind = pattern[:, None, None]
    masks = [horizontal, vertical, dots, horizontal ^ vertical]  # PATTERNS[1:], in order; plain is all False
    return np.select([kind == index for index in range(1, len(PATTERNS))], masks, False)
