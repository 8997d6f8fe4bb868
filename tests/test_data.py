import gzip
import hashlib
import os
import shutil
import socket
import subprocess

import numpy as np
import pytest
from paths import ROOT

from course import data, places
from course.data import DataError, DataNotFoundError, IdxFile

# --- Windsor house prices -------------------------------------------------------------------


def test_housing_has_the_546_sales_and_their_columns():
    table = data.load_housing()
    assert table.shape == (546, 12)
    assert table.index.name == "sale" and table.index.min() == 1 and table.index.max() == 546
    assert list(table.columns[:3]) == ["price", "lotsize", "bedrooms"]
    assert table["price"].between(25_000, 190_000).all()


def test_a_changed_housing_file_is_refused(tmp_path):
    copy = tmp_path / "housing.csv"
    text = (data.data_dir() / "housing.csv").read_text()
    copy.write_text(text.replace("42000", "42001", 1))
    with pytest.raises(DataError, match="has been changed .*Copy data/housing.csv from the course's repository"):
        data.load_housing(copy)


def test_a_missing_housing_file_names_the_fix(tmp_path):
    with pytest.raises(DataNotFoundError, match="Copy data/housing.csv from the course's repository"):
        data.load_housing(tmp_path / "housing.csv")


def test_a_missing_housing_file_under_course_data_dir_gets_advice_that_fixes_it(tmp_path, monkeypatch):
    from course import data

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(
        data.DataNotFoundError,
        match=f"COURSE_DATA_DIR points at {tmp_path}: copy data/housing.csv .* or unset COURSE_DATA_DIR",
    ):
        data.load_housing()


def test_the_data_keeps_its_bytes_whatever_git_does_with_line_endings():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    attributes = subprocess.run(
        ["git", "check-attr", "text", "data/housing.csv"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert attributes.stdout.strip() == "data/housing.csv: text: unset"  # never converted, so its checksum holds


# --- Where the data are looked for ------------------------------------------------------------


@pytest.fixture
def user_share(monkeypatch, tmp_path):
    """The per-user data folder's parent, in a temporary folder; no COURSE_DATA_DIR."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    return tmp_path / "share"


def test_the_per_user_folder_follows_xdg_data_home_or_the_home_folder(user_share, monkeypatch, tmp_path):
    assert places.user_data_dir() == user_share / "dreaming-up-dresses"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for ignored in ("", "relative/share"):  # the XDG rules ignore a relative path
        monkeypatch.setenv("XDG_DATA_HOME", ignored)
        assert places.user_data_dir() == tmp_path / "home" / ".local" / "share" / "dreaming-up-dresses"


def test_in_the_repository_fashion_mnist_is_looked_for_in_data_then_the_per_user_folder_then_debians(user_share):
    repository = places.repository_dir()
    assert repository is not None and (repository / "data" / "housing.csv").is_file()
    assert data.fashion_mnist_folders() == [
        repository / "data" / "fashion-mnist",
        user_share / "dreaming-up-dresses" / "fashion-mnist",
        data.DEBIAN_DIR,
    ]
    assert data.shipped_housing() == repository / "data" / "housing.csv"


def test_an_installed_course_keeps_its_data_in_the_per_user_folder_and_reads_the_house_prices_it_carries(
    user_share, monkeypatch
):
    monkeypatch.setattr(data, "repository_dir", lambda: None)  # as for an installed course
    user_folder = user_share / "dreaming-up-dresses"
    assert data.data_dir() == user_folder
    assert data.fashion_mnist_folders() == [
        user_folder / "fashion-mnist",
        data.DEBIAN_DIR,
    ]  # a download goes to the first
    assert data.shipped_housing() == places.PACKAGE_DIR / "data_files" / "housing.csv"
    with pytest.raises(
        DataNotFoundError,
        match=r"It is part of the installed course: reinstall it with `pip install --force-reinstall --no-deps \.`",
    ):
        data.load_housing()  # this checkout has no course/data_files: a build puts it there


# --- IDX files made here ---------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def spec_for(name: str, raw: bytes) -> IdxFile:
    return IdxFile(
        name, len(raw), hashlib.sha256(raw).hexdigest(), hashlib.md5(gzip.compress(raw, mtime=0)).hexdigest()
    )


@pytest.fixture
def tiny_images():
    array = np.arange(5 * 28 * 28, dtype=np.uint32).reshape(5, 28, 28) % 256
    raw = idx_bytes(array)
    return array, raw, spec_for("tiny-images-idx3-ubyte", raw)


def test_a_good_file_loads_gzipped_or_not(tmp_path, tiny_images):
    array, raw, spec = tiny_images
    (tmp_path / spec.name).write_bytes(raw)
    loaded = data.read_idx(tmp_path / spec.name, spec)
    assert loaded.dtype == np.uint8 and loaded.shape == (5, 28, 28)
    np.testing.assert_array_equal(loaded, array)
    (tmp_path / (spec.name + ".gz")).write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(data.read_idx(tmp_path / (spec.name + ".gz"), spec), array)


def test_a_truncated_file_is_an_error(tmp_path, tiny_images):
    _, raw, spec = tiny_images
    (tmp_path / spec.name).write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated.*python -m course data"):
        data.read_idx(tmp_path / spec.name, spec)


def test_a_truncated_gzip_is_an_error(tmp_path, tiny_images):
    _, raw, spec = tiny_images
    packed = gzip.compress(raw)
    (tmp_path / (spec.name + ".gz")).write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match="not a complete gzip file"):
        data.read_idx(tmp_path / (spec.name + ".gz"), spec)


def test_a_wrong_magic_number_is_an_error(tmp_path, tiny_images):
    _, raw, spec = tiny_images
    (tmp_path / spec.name).write_bytes(b"\x00\x00\x0d\x03" + raw[4:])  # 0x0d: floats, not bytes
    with pytest.raises(DataError, match="magic number"):
        data.read_idx(tmp_path / spec.name, spec)


def test_a_tampered_file_fails_its_checksum(tmp_path, tiny_images):
    _, raw, spec = tiny_images
    tampered = bytearray(raw)
    tampered[-1] ^= 0xFF
    (tmp_path / spec.name).write_bytes(bytes(tampered))
    with pytest.raises(DataError, match="does not match its checksum"):
        data.read_idx(tmp_path / spec.name, spec)


# --- Finding, downloading and the real Fashion-MNIST ----------------------------------------


@pytest.fixture
def tiny_dataset(monkeypatch, tmp_path):
    """Four tiny IDX files standing in for Fashion-MNIST, published as .gz files in a folder."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (6, 28, 28)),
        "train_labels": np.array([3, 3, 0, 1, 3, 9]),
        "test_images": rng.integers(0, 256, (2, 28, 28)),
        "test_labels": np.array([3, 4]),
    }
    specs, published = {}, tmp_path / "published"
    published.mkdir()
    for key, array in arrays.items():
        raw = idx_bytes(array)
        specs[key] = spec_for(data.FASHION_FILES[key].name, raw)
        (published / (specs[key].name + ".gz")).write_bytes(gzip.compress(raw, mtime=0))
    monkeypatch.setattr(data, "FASHION_FILES", specs)
    return arrays, published


def test_missing_data_without_download_lists_every_fix(tmp_path, tiny_dataset):
    with pytest.raises(DataNotFoundError) as error:
        data.load_fashion_mnist(download=False, folders=[tmp_path / "nowhere"])
    message = str(error.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "python -m course data" in message
    assert "Copy the four files" in message


def test_found_files_are_loaded_and_dresses_picked(tmp_path, tiny_dataset):
    arrays, published = tiny_dataset
    empty, folder = tmp_path / "empty", published
    fashion = data.load_fashion_mnist(download=False, folders=[empty, folder])
    np.testing.assert_array_equal(fashion.train_images, arrays["train_images"])
    assert len(fashion.dresses("train")) == 3 and len(fashion.dresses("test")) == 1
    with pytest.raises(ValueError, match="'train' or 'test'"):
        fashion.dresses("validation")


def test_download_checks_the_published_md5_and_then_loads(tmp_path, tiny_dataset):
    arrays, published = tiny_dataset
    target = tmp_path / "downloaded"
    data.download_fashion_mnist(target, base_url=published.as_uri())
    fashion = data.load_fashion_mnist(download=False, folders=[target])
    np.testing.assert_array_equal(fashion.test_labels, arrays["test_labels"])
    assert not list(target.glob("*.part"))


def test_a_download_damaged_on_the_way_is_refused(tmp_path, tiny_dataset):
    _, published = tiny_dataset
    victim = published / (data.FASHION_FILES["test_labels"].name + ".gz")
    victim.write_bytes(victim.read_bytes() + b"junk")
    target = tmp_path / "downloaded"
    with pytest.raises(DataError, match="published"):
        data.download_fashion_mnist(target, base_url=published.as_uri())
    assert not (target / victim.name).exists() and not list(target.glob("*.part"))


def test_an_unreachable_download_says_how_else_to_get_the_data(tmp_path, tiny_dataset):
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.download_fashion_mnist(tmp_path / "d", base_url=(tmp_path / "no-such-server").as_uri())


def test_the_real_fashion_mnist_is_there_and_verified():
    """The set-up command installs or downloads it; every file passes its SHA-256."""
    fashion = data.load_fashion_mnist(download=False)
    assert fashion.train_images.shape == (60_000, 28, 28) and fashion.train_images.dtype == np.uint8
    assert fashion.test_images.shape == (10_000, 28, 28)
    assert np.bincount(fashion.train_labels).tolist() == [6_000] * 10
    assert len(fashion.dresses("train")) == 6_000 and len(fashion.dresses("test")) == 1_000
    assert fashion.class_names[3] == "Dress"


def test_debian_recompressed_files_pass_on_their_contents(tmp_path):
    """Debian's .gz files differ byte for byte from the published ones; their contents still match."""
    if not data.DEBIAN_DIR.is_dir() and not os.environ.get("CI"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed here")  # in CI the set-up must install it
    spec = data.FASHION_FILES["test_labels"]
    debian_gz = data.DEBIAN_DIR / (spec.name + ".gz")
    assert hashlib.md5(debian_gz.read_bytes()).hexdigest() != spec.published_md5
    copy = tmp_path / debian_gz.name
    shutil.copy(debian_gz, copy)
    assert data.read_idx(copy, spec).shape == (10_000,)


def test_unit_tests_cannot_reach_the_network():
    with pytest.raises(AssertionError, match="unit tests must not use the network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # a documentation-only address: never really tried
