"""Your own pictures for the GAN trainer: a folder of PNG/JPEG files as one cached tensor, and a folder of
recoloured dresses to try it on.

`load_image_folder` reads every PNG and JPEG file directly in a folder, scales each so its shorter side fits,
crops the centre square and returns them as one uint8 array (N, channels, size, size). Files it cannot use are
skipped and named, never fatal: unreadable ones, ones too small, and ones with more pixels than Pillow opens
safely (Image.MAX_IMAGE_PIXELS), which are never decoded; a PNG whose text chunks are too large for Pillow
(zTXt/iTXt beyond PngImagePlugin.MAX_TEXT_CHUNK or MAX_TEXT_MEMORY) counts as unreadable. 16-bit grey pictures are
scaled to 8 bits (0..65535 to 0..255), not clipped to white. Bytes of a name that are not UTF-8 are shown as "�".
The result is cached under the run folder `image_cache/`, keyed on the files' names, sizes and modification
times, so a second call with an unchanged folder reads one file instead of many.

`recolour_dresses` turns grey Fashion-MNIST dresses into colour ones (plain, striped, dotted, checked) and
`write_image_folder` writes them as PNG files: a folder to try the loader on before using your own pictures.
"""

from __future__ import annotations

import hashlib
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import torch
from matplotlib.colors import hsv_to_rgb
from PIL import Image, ImageOps, UnidentifiedImageError

from course.gan_networks import CHANNELS, SIZES, require_image_settings
from course.runs import atomic_torch_save, run_folder, write_atomically

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # matched in any case: .JPG counts
MAX_NAMES = 5  # skipped files named per kind in the summary line
CHUNK = 1024  # dresses painted at a time
PATTERNS = ("plain", "horizontal stripes", "vertical stripes", "polka dots", "checks")
NOT_PRINTABLE = ("Cs", "Cc", "Zl", "Zp")  # Unicode categories: surrogates (undecodable bytes), controls, line breaks
SIXTEEN_BIT_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # Pillow's modes for 16-bit grey PNGs ("I": 32-bit ints)


class ImageTooSmall(ValueError):
    """A picture whose shorter side is below the size asked for: the course never scales pictures up."""


class ImageTooLarge(ValueError):
    """A picture with more pixels than Pillow opens safely (Image.MAX_IMAGE_PIXELS): it is not decoded."""


def printable(name) -> str:
    """A file name or path as it can always be printed on one line: bytes that are not UTF-8, and control
    characters such as a newline, become "�" (on Linux, Python keeps undecodable bytes as surrogates)."""
    return "".join("\ufffd" if unicodedata.category(char) in NOT_PRINTABLE else char for char in str(name))


# ---------------------------------------------------------------------------------------------
# Reading pictures
# ---------------------------------------------------------------------------------------------


def read_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One picture as uint8 (channels, size, size): shorter side scaled down to `size`, centre square kept.

    16-bit grey pictures are scaled to 8 bits (0..65535 to 0..255) before anything else, as `_grey_to_8_bits` says.
    Raises ImageTooSmall if the shorter side is below `size`, ImageTooLarge if the picture has more pixels than
    Image.MAX_IMAGE_PIXELS (checked before decoding), and Pillow's errors (OSError and its subclass
    UnidentifiedImageError) if the file cannot be read as a picture; a ValueError Pillow raises while decoding,
    as for a PNG with oversized text chunks, comes as an OSError too.
    """
    require_image_settings(channels, size)
    path = Path(path)
    try:
        with warnings.catch_warnings():  # Pillow only warns between 1x and 2x the limit: refuse those too
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                width, height = opened.size
                if min(width, height) < size:
                    raise ImageTooSmall(
                        f"{printable(path.name)} is {width}x{height} pixels; its shorter side must be at least "
                        f"{size} pixels, since pictures are only ever scaled down. Use a larger picture, or a "
                        f"smaller size (one of {SIZES})."
                    )
                opened.draft("L" if channels == 1 else "RGB", (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                picture = ImageOps.exif_transpose(opened)  # phone photos store "rotate me" in EXIF; this applies it
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        said = f"{printable(path.name)} is too large to open safely ({error}); it was not decoded."
        raise ImageTooLarge(said) from None
    except ImageTooSmall:
        raise
    except ValueError as error:  # Pillow decoding, e.g. "Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK"
        raise OSError(f"{printable(path.name)} cannot be read: {error}") from error
    picture = _on_white(_grey_to_8_bits(picture)).convert("L" if channels == 1 else "RGB")
    width, height = picture.size
    shorter = min(width, height)
    if shorter != size:  # a picture already `size` pixels on its shorter side keeps its exact pixels
        new_size = (max(size, round(width * size / shorter)), max(size, round(height * size / shorter)))
        picture = picture.resize(new_size, Image.Resampling.BICUBIC)
        width, height = picture.size
    left, top = (width - size) // 2, (height - size) // 2
    picture = picture.crop((left, top, left + size, top + size))
    pixels = np.asarray(picture, dtype=np.uint8)
    return np.ascontiguousarray(pixels[None] if channels == 1 else pixels.transpose(2, 0, 1))


def _grey_to_8_bits(picture: Image.Image) -> Image.Image:
    """A 16-bit grey picture (a mode in SIXTEEN_BIT_GREY) as 8-bit "L", or "LA" if it has a transparent value;
    others as they are.

    0..65535 becomes 0..255 (divided by 257 and rounded); mode "I" values outside 0..65535 are clipped. Pillow's
    own convert("L") would clip everything above 255 to white. Mode "F" (floats) is left to Pillow, which reads
    it as 0..255 and clips the rest; PNG and JPEG files never give it.
    """
    if picture.mode not in SIXTEEN_BIT_GREY:
        return picture
    values = np.asarray(picture).astype(np.int32).clip(0, 65535)
    grey = Image.fromarray(((values + 128) // 257).astype(np.uint8))  # round(value / 257) in whole numbers
    transparent = picture.info.get("transparency")
    if isinstance(transparent, int):  # a PNG tRNS chunk names the one 16-bit value that is see-through
        alpha = Image.fromarray(np.where(values == transparent, 0, 255).astype(np.uint8))
        grey = Image.merge("LA", (grey, alpha))
    return grey


def _on_white(picture: Image.Image) -> Image.Image:
    """A picture with transparent parts put on white, as the course shows its images; others as they are."""
    if picture.mode not in ("RGBA", "LA", "PA") and "transparency" not in picture.info:
        return picture
    with_alpha = picture.convert("RGBA")
    white = Image.new("RGBA", with_alpha.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, with_alpha)


def _image_files(folder: Path) -> list[Path]:
    """The PNG and JPEG files directly in `folder`, sorted by name."""
    return sorted(
        (path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda path: path.name,
    )


def _files_fingerprint(files: list[Path], size: int, channels: int) -> str:
    """16 hex digits that change when a file is added, removed, renamed, resized or touched, or the limit
    on pixels (Image.MAX_IMAGE_PIXELS) changes."""
    digest = hashlib.sha256(f"{size}px {channels}ch {Image.MAX_IMAGE_PIXELS}".encode())
    for path in files:
        stat = path.stat()  # surrogatepass: names that are not UTF-8 count too
        digest.update(f"\n{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _names(names: list[str]) -> str:
    shown = ", ".join(printable(name) for name in names[:MAX_NAMES])
    return shown + (", …" if len(names) > MAX_NAMES else "")


def _skipped_line(report: dict, size: int) -> str | None:
    """'skipped 2 of 40 files: 1 unreadable (bad.jpg), 1 smaller than 32 pixels (tiny.png)', or None."""
    kinds = {
        "unreadable": "unreadable",
        "too_large": "too large to open safely",
        "too_small": f"smaller than {size} pixels",
    }
    parts = [f"{len(report[key])} {said} ({_names(report[key])})" for key, said in kinds.items() if report[key]]
    if not parts:
        return None
    skipped = sum(len(report[key]) for key in kinds)
    return f"skipped {skipped} of {report['found']} files: " + ", ".join(parts)


def _load_cache(path: Path, size: int, channels: int) -> tuple[np.ndarray, dict] | None:
    """The cached images and report, or None if there is no cache file or it cannot be used."""
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        images, report = saved["images"], saved["report"]
    except Exception:  # a cut-short or foreign file: read the pictures again and rewrite it
        return None
    expected_keys = {"found", "used", "unreadable", "too_large", "too_small"}
    if (
        not isinstance(images, torch.Tensor)
        or images.dtype != torch.uint8
        or images.ndim != 4
        or tuple(images.shape[1:]) != (channels, size, size)
        or not isinstance(report, dict)
        or set(report) != expected_keys
        or report["used"] != len(images)
    ):
        return None
    return images.numpy(), report


def load_image_folder(folder, size: int = 32, channels: int = 3, cache: bool = True) -> tuple[np.ndarray, dict]:
    """Every PNG/JPEG file directly in `folder` as uint8 (N, channels, size, size), and a report.

    The report counts the files: "found" (PNG/JPEG files), "used", and the names of those skipped as
    "unreadable" (not a picture Pillow can decode), "too_large" (more pixels than Image.MAX_IMAGE_PIXELS;
    never decoded) or "too_small" (shorter side below `size`). Names are kept as the file system gives
    them and shown with `printable`. When any were skipped, one line says so. With `cache`, the result is
    kept under the run folder `image_cache/` and reused while the folder's files stay the same.
    """
    require_image_settings(channels, size)
    folder = Path(folder)
    shown_folder = printable(folder)
    if not folder.exists():
        raise FileNotFoundError(f"There is no folder {shown_folder}. Check the path, or create it and add pictures.")
    if not folder.is_dir():
        raise FileNotFoundError(f"{shown_folder} is a file, not a folder. Pass the folder that holds your pictures.")
    files = _image_files(folder)
    if not files:
        raise ValueError(
            f"{shown_folder} holds no PNG or JPEG files (read: {', '.join(IMAGE_SUFFIXES)} in any case; sub-folders "
            "are not searched). Put your pictures directly in this folder."
        )

    cache_path = None
    if cache:
        name = folder.resolve().name or "root"
        fingerprint = _files_fingerprint(files, size, channels)
        cache_path = run_folder("image_cache") / f"{name}-{size}px-{channels}ch-{fingerprint}.pt"
        cached = _load_cache(cache_path, size, channels)
        if cached is not None:
            images, report = cached
            line = _skipped_line(report, size)
            if line:
                print(line)
            return images, report

    pictures, unreadable, too_large, too_small = [], [], [], []
    for path in files:
        try:
            pictures.append(read_image(path, size, channels))
        except ImageTooSmall:
            too_small.append(path.name)
        except ImageTooLarge:
            too_large.append(path.name)
        except (UnidentifiedImageError, OSError, SyntaxError):  # SyntaxError: Pillow's word for some broken PNGs
            unreadable.append(path.name)
    report = {
        "found": len(files),
        "used": len(pictures),
        "unreadable": unreadable,
        "too_large": too_large,
        "too_small": too_small,
    }
    line = _skipped_line(report, size)
    if line:
        print(line)
    if not pictures:
        too_large_said = f", {len(too_large)} too large to open safely (scale those down)" if too_large else ""
        raise ValueError(
            f"None of the {len(files)} PNG/JPEG files in {shown_folder} could be used: {len(unreadable)} "
            f"unreadable, {len(too_small)} smaller than {size} pixels on their shorter side{too_large_said}. "
            f"Replace the broken files, add pictures at least {size}x{size} pixels, or choose a smaller size "
            f"(one of {SIZES})."
        )
    images = np.stack(pictures)
    if cache_path is not None:
        atomic_torch_save({"images": torch.from_numpy(images), "report": report}, cache_path)
    return images, report


# ---------------------------------------------------------------------------------------------
# Showing and writing pictures
# ---------------------------------------------------------------------------------------------


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in CHANNELS:
        raise ValueError(
            f"images must be a uint8 array (N, C, H, W) with C = 1 (grey) or 3 (colour), as load_image_folder "
            f"returns, got {images.dtype} with shape {images.shape}."
        )
    return images


def to_display(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) as (N, H, W) for grey or (N, H, W, 3) for colour: the layout plots and PNG files use."""
    images = _check_images(images)
    if images.shape[1] == 1:
        return np.ascontiguousarray(images[:, 0])
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))


def write_image_folder(images: np.ndarray, folder, prefix: str = "image") -> list[Path]:
    """Write uint8 (N, C, H, W) images as PNG files `prefix_00000.png`, ... in `folder` (created if needed).

    Each file is written whole. If any of those names is already taken, nothing is written: the folder's
    files are never replaced, so choose an empty folder or another prefix.
    """
    images = _check_images(images)
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one image to write.")
    if not prefix or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a plain file-name start like 'dress', got {prefix!r}.")
    folder = Path(folder)
    paths = [folder / f"{prefix}_{index:05d}.png" for index in range(len(images))]
    taken = [path.name for path in paths if path.exists() or path.is_symlink()]
    if taken:
        raise FileExistsError(f"{printable(folder)} already holds {len(taken)} of the files this would write ({_names(taken)}), "
                              "and they are never replaced: choose an empty folder or another prefix.")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for path, picture in zip(paths, to_display(images), strict=True):  # 2-D arrays become mode "L", (H, W, 3) mode "RGB"
        write_atomically(path, lambda file, picture=picture: Image.fromarray(picture).save(file, format="PNG"))
    return paths


# ---------------------------------------------------------------------------------------------
# Colour dresses from grey ones
# ---------------------------------------------------------------------------------------------


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
