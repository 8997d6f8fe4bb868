"""Pictures out of the course: uint8 images (N, C, H, W), as `course.photos.load_image_folder` reads them and
`python -m course sample` draws them, laid out for plots (`to_display`) and written as a folder of PNG files
(`write_image_folder`) that the picture reader reads back unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from course.gan_networks import CHANNELS
from course.photos import printable, printable_names
from course.runs import write_atomically


def _require_images(images: np.ndarray) -> np.ndarray:
    """`images` as an array if they are uint8 (N, C, H, W) with C = 1 or 3; otherwise a ValueError."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in CHANNELS:
        raise ValueError(
            f"images must be a uint8 array (N, C, H, W) with C = 1 (grey) or 3 (colour), as load_image_folder "
            f"returns, got {images.dtype} with shape {images.shape}."
        )
    return images


def to_display(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) as (N, H, W) for grey or (N, H, W, 3) for colour: the layout plots and PNG files use."""
    images = _require_images(images)
    if images.shape[1] == 1:
        return np.ascontiguousarray(images[:, 0])
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))


def write_image_folder(images: np.ndarray, folder, prefix: str = "image") -> list[Path]:
    """Write uint8 (N, C, H, W) images as PNG files `prefix_00000.png`, ... in `folder` (created if needed).

    Each file is written whole. If any of those names is already taken, nothing is written: the folder's
    files are never replaced, so choose an empty folder or another prefix.
    """
    images = _require_images(images)
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one image to write.")
    if not prefix or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a plain file-name start like 'dress', got {prefix!r}.")
    folder = Path(folder)
    paths = [folder / f"{prefix}_{index:05d}.png" for index in range(len(images))]
    taken = [path.name for path in paths if path.exists() or path.is_symlink()]
    if taken:
        raise FileExistsError(
            f"{printable(folder)} already holds {len(taken)} of the files this would write ({printable_names(taken)}), "
            "and they are never replaced: choose an empty folder or another prefix."
        )
    folder.mkdir(parents=True, exist_ok=True)
    # Image.fromarray makes a 2-D array a grey picture (mode "L") and an (H, W, 3) one a colour picture (mode "RGB").
    for path, picture in zip(paths, to_display(images), strict=True):
        write_atomically(path, lambda file, picture=picture: Image.fromarray(picture).save(file, format="PNG"))
    return paths
