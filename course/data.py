"""The course's two datasets, always checked before use.

* Windsor house prices (Anglin & Gencay 1996): 546 sales, committed as `data/housing.csv` and
  shipped inside the installed package as `course/data_files/housing.csv`.
* Fashion-MNIST: 70,000 grey 28x28 images in ten classes. Looked for in the course's data
  folder, then the per-user one, then where Debian's package `dataset-fashion-mnist` puts it,
  then downloaded into the first of these.

Fashion-MNIST files may be gzipped or not, and Debian re-compresses them, so the check that
counts is on what is inside: the size and SHA-256 of each decompressed IDX file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from course.checksums import file_sha256
from course.places import PACKAGE_DIR, repository_dir, user_data_dir

HOUSING_SHA256 = "8b2ae10b051d64d8f6bfc8aad588abdd9bcf18458e430ae0e515010215f65400"

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DRESS = CLASS_NAMES.index("Dress")  # label 3

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


class DataError(ValueError):
    """A data file is there but is not what the course expects (truncated, tampered, wrong format)."""


class DataNotFoundError(FileNotFoundError):
    """No usable copy of a dataset was found; the message lists the ways to get one."""


@dataclass(frozen=True)
class IdxFile:
    """One IDX file: its name, and the size and SHA-256 of its decompressed bytes."""

    name: str
    size: int
    sha256: str
    published_md5: str  # MD5 of the .gz file at the download location (Debian's differ)


FASHION_FILES = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte",
        47_040_016,
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte",
        60_008,
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "25c81989df183df01b3e8a0aad5dffbe",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte",
        7_840_016,
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "bef4ecab320f06d8554ea6380940ec79",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte",
        10_008,
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ),
}


def data_dir() -> Path:
    """The course's data folder: `COURSE_DATA_DIR`, else `data/` at the repository's top, else the per-user folder."""
    from_env = os.environ.get("COURSE_DATA_DIR")
    if from_env:
        return Path(from_env)
    repository = repository_dir()
    return repository / "data" if repository else user_data_dir()


def shipped_housing() -> Path:
    """The committed house prices: `data/housing.csv` in a repository, which an installed course carries inside itself.

    pyproject.toml maps the package course.data_files onto the repository's data/ folder, so a built
    package holds course/data_files/housing.csv while git keeps the one copy in data/.
    """
    repository = repository_dir()
    return repository / "data" / "housing.csv" if repository else PACKAGE_DIR / "data_files" / "housing.csv"


# ---------------------------------------------------------------------------------------------
# Windsor house prices
# ---------------------------------------------------------------------------------------------


def load_housing(path: Path | None = None) -> pd.DataFrame:
    """The 546 Windsor house sales, indexed by sale number (1 to 546), checked against the checksum."""
    if path is None:
        path = data_dir() / "housing.csv" if os.environ.get("COURSE_DATA_DIR") else shipped_housing()
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"The house-price file {path.name} is missing from {path.parent}. {_restore_housing(path)}"
        )
    digest = file_sha256(path)
    if digest != HOUSING_SHA256:
        raise DataError(
            f"{path.name} has been changed (SHA-256 {digest[:12]}..., expected {HOUSING_SHA256[:12]}...). "
            f"{_restore_housing(path)}"
        )
    return pd.read_csv(path).rename(columns={"rownames": "sale"}).set_index("sale")


def _restore_housing(path: Path) -> str:
    """How to put the committed housing.csv back at `path`, wherever the course was told to look."""
    if path.resolve() == shipped_housing().resolve() and repository_dir():
        return "It is part of the course's repository: restore it with `git checkout -- data/housing.csv`."
    if path.resolve() == shipped_housing().resolve():
        return (
            "It is part of the installed course: reinstall it with `pip install --force-reinstall --no-deps .` "
            "in the course's repository."
        )
    if os.environ.get("COURSE_DATA_DIR") and path.parent == data_dir():
        return (
            f"COURSE_DATA_DIR points at {data_dir()}: copy data/housing.csv from the course's repository there, "
            "or unset COURSE_DATA_DIR to use the repository's data folder."
        )
    return f"Copy data/housing.csv from the course's repository to {path}."


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FashionMNIST:
    """Fashion-MNIST's two splits as uint8 arrays: images (N, 28, 28) and labels (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str  # where the files came from, in words
    class_names: tuple[str, ...] = CLASS_NAMES

    def dresses(self, split: str = "train") -> np.ndarray:
        """The images labelled Dress (6,000 in train, 1,000 in test)."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        images = self.train_images if split == "train" else self.test_images
        labels = self.train_labels if split == "train" else self.test_labels
        return images[labels == DRESS]


def read_idx(path: Path, expected: IdxFile) -> np.ndarray:
    """Read one IDX file (gzipped or not) after checking its size, header and SHA-256."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise DataError(
                f"{path} is not a complete gzip file ({error}); "
                f"it was probably cut short while downloading or copying. {_fix_for(path)}"
            ) from None
    if len(raw) < expected.size:
        raise DataError(
            f"{path} is truncated: it holds {len(raw):,} bytes of IDX data, {expected.size:,} expected. "
            f"{_fix_for(path)}"
        )
    if len(raw) > expected.size:
        raise DataError(
            f"{path} is too long: {len(raw):,} bytes of IDX data, {expected.size:,} expected. {_fix_for(path)}"
        )
    shape = _idx_shape(raw, path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected.sha256:
        raise DataError(
            f"{path} does not match its checksum (SHA-256 {digest[:12]}..., expected "
            f"{expected.sha256[:12]}...): the file is damaged or not the real {expected.name}. "
            f"{_fix_for(path)}"
        )
    header = 4 + 4 * len(shape)
    return np.frombuffer(bytearray(raw), dtype=np.uint8, offset=header).reshape(shape)


def _idx_shape(raw: bytes, path: Path) -> tuple[int, ...]:
    """Parse an IDX header: two zero bytes, 0x08 for unsigned bytes, the number of dimensions."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise DataError(
            f"{path} does not start with an IDX magic number for unsigned bytes "
            f"(got {raw[:4].hex() or 'nothing'}, expected 00000801 or 00000803): it is not a "
            f"Fashion-MNIST file. {_fix_for(path)}"
        )
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 4 + 4 * ndim + int(np.prod(shape)) != len(raw):
        raise DataError(f"{path}: header says shape {shape}, which does not match the file's size.")
    return shape


def _fix_for(path: Path) -> str:
    if path.parent == DEBIAN_DIR:
        return "Reinstall Debian's copy with `sudo apt-get install --reinstall dataset-fashion-mnist`."
    return "Delete it and run `python -m course data` to fetch a fresh copy."


def _find_file(folder: Path, spec: IdxFile) -> Path | None:
    for name in (spec.name + ".gz", spec.name):
        if (folder / name).is_file():
            return folder / name
    return None


def fashion_mnist_folders() -> list[Path]:
    """Where the course looks for Fashion-MNIST, in order; a download goes to the first.

    The course's data folder (`data_dir()`), the per-user folder (the same one for an installed course),
    then Debian's. Every copy is checked before use, so which of two copies is read makes no difference.
    """
    folders = [data_dir() / "fashion-mnist", user_data_dir() / "fashion-mnist", DEBIAN_DIR]
    return list(dict.fromkeys(folders))


def find_fashion_mnist(folders: list[Path] | None = None) -> Path | None:
    """The first folder that holds all four Fashion-MNIST files (not yet checked), or None."""
    for folder in folders if folders is not None else fashion_mnist_folders():
        if all(_find_file(folder, spec) for spec in FASHION_FILES.values()):
            return folder
    return None


def load_fashion_mnist(download: bool = True, folders: list[Path] | None = None) -> FashionMNIST:
    """Fashion-MNIST's train and test splits, every file checked; downloaded if no copy is found."""
    folders = folders if folders is not None else fashion_mnist_folders()
    folder = find_fashion_mnist(folders)
    if folder is None:
        if not download:
            raise DataNotFoundError(_not_found_message(folders))
        folder = download_fashion_mnist(folders[0])
    arrays = {key: read_idx(_find_file(folder, spec), spec) for key, spec in FASHION_FILES.items()}
    if folder == DEBIAN_DIR:
        source = "Debian package dataset-fashion-mnist"
    elif folder == user_data_dir() / "fashion-mnist":
        source = f"your data folder {folder}"
    elif folder == data_dir() / "fashion-mnist":
        source = "the course's data folder"
    else:
        source = f"folder {folder.name}"
    return FashionMNIST(**arrays, source=source)


def download_fashion_mnist(folder: Path, base_url: str = DOWNLOAD_URL) -> Path:
    """Download the four .gz files into `folder`, checking the published MD5 and the contents."""
    from course.progress import tqdm  # text in a terminal, a widget in JupyterLab

    folder.mkdir(parents=True, exist_ok=True)
    for spec in FASHION_FILES.values():
        target = folder / (spec.name + ".gz")
        if target.is_file():
            continue
        url = base_url.rstrip("/") + "/" + target.name
        try:
            with (
                urllib.request.urlopen(url, timeout=60) as response,
                tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as part,
            ):
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                    while chunk := response.read(1 << 16):
                        part.write(chunk)
                        bar.update(len(chunk))
        except OSError as error:
            raise DataNotFoundError(
                f"Could not download {url} ({error}).\n" + _not_found_message(fashion_mnist_folders())
            ) from None
        md5 = hashlib.md5(Path(part.name).read_bytes()).hexdigest()
        if md5 != spec.published_md5:
            os.unlink(part.name)
            raise DataError(
                f"The download of {target.name} has MD5 {md5}, not the published "
                f"{spec.published_md5}: it was damaged on the way. Run `python -m course data` again."
            )
        shutil.move(part.name, target)
    return folder


def _not_found_message(folders: list[Path]) -> str:
    looked = ", ".join(str(folder) for folder in folders)
    names = ", ".join(spec.name + ".gz" for spec in FASHION_FILES.values())
    return (
        f"Fashion-MNIST was not found (looked in: {looked}). Any one of these fixes it:\n"
        "  1. On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "  2. With internet access: python -m course data  (downloads and checks the files)\n"
        f"  3. Copy the four files ({names}) into {folders[0]}"
    )


# ---------------------------------------------------------------------------------------------
# From arrays to what a lesson needs
# ---------------------------------------------------------------------------------------------


def split_sales(count: int, held_out_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random indices of training and held-out rows: the same split for the same seed, every time.

    The held-out part has round(held_out_share * count) rows, at least one and at most count - 1.
    """
    if not isinstance(count, (int, np.integer)) or count < 2:
        raise ValueError(f"count must be an int of at least 2, got {count!r}.")
    if not 0 < held_out_share < 1:
        raise ValueError(f"held_out_share must be between 0 and 1 (0.2 keeps a fifth aside), got {held_out_share!r}.")
    order = np.random.default_rng(seed).permutation(count)
    n_held_out = max(1, min(count - 1, round(held_out_share * count)))
    return order[n_held_out:], order[:n_held_out]


def image_tensors(images: np.ndarray, labels: np.ndarray | None = None, device: str | torch.device = "cpu"):
    """uint8 images (N, H, W) as float32 (N, 1, H, W) in [0, 1] on `device`, with int64 labels if given.

    The whole of Fashion-MNIST is 190 MB as floats, small enough to live on the device, so training
    loops index it directly instead of copying batch by batch.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(
            "images must be a uint8 array (N, H, W) of grey levels 0-255, "
            f"got {images.dtype} with shape {images.shape}."
        )
    as_tensor = torch.from_numpy(images).to(device).float().div_(255).unsqueeze(1)
    if labels is None:
        return as_tensor
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},), one per image, got {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer) or (len(labels) and labels.min() < 0):
        raise ValueError(f"labels must be non-negative integers (class numbers), got {labels.dtype} values.")
    return as_tensor, torch.from_numpy(labels.astype(np.int64)).to(device)
