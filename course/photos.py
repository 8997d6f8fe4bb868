"""Your own pictures for the GAN trainer: a folder of PNG/JPEG files read as one cached array.

`load_image_folder` reads every PNG and JPEG file directly in a folder, scales each so its shorter side fits,
crops the centre square and returns them as one uint8 array (N, channels, size, size). Files it cannot use are
skipped and named, never fatal: unreadable ones, ones too small, and ones with more pixels than Pillow opens
safely (Image.MAX_IMAGE_PIXELS), which are never decoded; a PNG whose text chunks are too large for Pillow
(zTXt/iTXt beyond PngImagePlugin.MAX_TEXT_CHUNK or MAX_TEXT_MEMORY) counts as unreadable. 16-bit grey pictures are
scaled to 8 bits (0..65535 to 0..255), not clipped to white. Bytes of a name that are not UTF-8 are shown as "�"
(`printable`). The result is cached under the run folder `image_cache/`, keyed on the files' names, sizes and
modification times, so a second call with an unchanged folder reads one file instead of many.

Writing pictures is `course.picture_output`'s job; the colour dresses to try the reader on come from
`course.colour_pictures`.
"""

from __future__ import annotations

import hashlib
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from course.gan_networks import SIZES, require_image_settings
from course.runs import atomic_torch_save, run_folder

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # matched in any case: .JPG counts
MAX_NAMES = 5  # file names shown in one message, at most: per kind of skipped file, or of files already there
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


def printable_names(names: list[str]) -> str:
    """Up to MAX_NAMES file names, each `printable`, joined by commas; "…" stands for the rest."""
    shown = ", ".join(printable(name) for name in names[:MAX_NAMES])
    return shown + (", …" if len(names) > MAX_NAMES else "")


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


def _skipped_line(report: dict, size: int) -> str | None:
    """'skipped 2 of 40 files: 1 unreadable (bad.jpg), 1 smaller than 32 pixels (tiny.png)', or None."""
    kinds = {
        "unreadable": "unreadable",
        "too_large": "too large to open safely",
        "too_small": f"smaller than {size} pixels",
    }
    parts = [
        f"{len(report[key])} {said} ({printable_names(report[key])})" for key, said in kinds.items() if report[key]
    ]
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
