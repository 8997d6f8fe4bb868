import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile, PngImagePlugin

from course import photos

RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


pytestmark = pytest.mark.usefixtures("runs_dir")  # each test has a runs folder of its own


def three_bands(scale=1):
    """A 120x40 picture (times `scale`): red on the left quarter, green in the middle half, blue on the right.

    Scaled to 96x32, the centre 32x32 square (x 32 to 64) lies inside the green (x 24 to 72).
    """
    pixels = np.zeros((40, 120, 3), dtype=np.uint8)
    pixels[:, :30], pixels[:, 30:90], pixels[:, 90:] = RED, GREEN, BLUE
    return Image.fromarray(pixels).resize((120 * scale, 40 * scale), Image.Resampling.NEAREST)


def save_picture(path, width=48, height=48, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def mixed_folder(tmp_path):
    """Two good PNGs, one good JPEG, a broken JPEG, a too-small PNG, a text file and a sub-folder of pictures."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    save_picture(folder / "a.png", 48, 64, seed=1)
    save_picture(folder / "b.PNG", 80, 40, seed=2)
    save_picture(folder / "c.jpg", 50, 50, seed=3)
    (folder / "bad.jpg").write_bytes(np.random.default_rng(4).integers(0, 256, 500, dtype=np.uint8).tobytes())
    save_picture(folder / "tiny.png", 20, 40, seed=5)
    (folder / "notes.txt").write_text("not a picture")
    (folder / "inner").mkdir()
    save_picture(folder / "inner" / "deeper.png", 48, 48, seed=6)
    return folder


# --- read_image -----------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "name, scale, tall, tolerance",
    [
        ("wide.png", 1, False, 2),
        ("tall.png", 1, True, 2),
        ("large-photo.JPG", 10, False, 12),
    ],
)
def test_read_image_scales_the_shorter_side_and_keeps_the_centre(tmp_path, channels, name, scale, tall, tolerance):
    picture = three_bands(scale)
    (picture.transpose(Image.Transpose.ROTATE_90) if tall else picture).save(tmp_path / name, quality=95)
    image = photos.read_image(tmp_path / name, 32, channels)
    assert image.shape == (channels, 32, 32) and image.dtype == np.uint8
    if channels == 3:
        assert np.abs(image.astype(int) - np.array(GREEN)[:, None, None]).max() <= tolerance  # no red or blue left
    else:
        green_grey = Image.new("RGB", (1, 1), GREEN).convert("L").getpixel((0, 0))
        assert np.abs(image.astype(int) - green_grey).max() <= tolerance


def test_read_image_turns_photos_the_way_their_exif_says(tmp_path):
    pixels = np.zeros((32, 64, 3), dtype=np.uint8)
    pixels[:, :32], pixels[:, 32:] = RED, BLUE  # stored wide: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show, so the left edge goes to the top
    Image.fromarray(pixels).save(tmp_path / "phone.png", exif=exif)
    image = photos.read_image(tmp_path / "phone.png", 32, 3)
    assert (image[:, :16] == np.array(RED)[:, None, None]).all()  # top half red
    assert (image[:, 16:] == np.array(BLUE)[:, None, None]).all()  # bottom half blue


def test_read_image_keeps_the_exact_pixels_when_no_resize_is_needed(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "exact.png")
    image = photos.read_image(tmp_path / "exact.png", 32, 3)
    np.testing.assert_array_equal(image, pixels[:, 4:36].transpose(2, 0, 1))


def test_read_image_puts_transparent_parts_on_white(tmp_path):
    pixels = np.zeros((32, 32, 4), dtype=np.uint8)  # fully transparent black
    Image.fromarray(pixels).save(tmp_path / "clear.png")
    assert (photos.read_image(tmp_path / "clear.png", 32, 3) == 255).all()


def test_a_too_small_image_is_refused_by_name_and_sizes(tmp_path):
    save_picture(tmp_path / "small.png", 100, 30)
    with pytest.raises(photos.ImageTooSmall, match=r"small\.png is 100x30 .*at least 32") as caught:
        photos.read_image(tmp_path / "small.png", 32, 3)
    assert isinstance(caught.value, ValueError)


def grey_16_bit(path, dtype=np.uint16):
    """A 32x32 grey picture rising from 0 (top left) to 65535 (bottom right) in 16 bits: Pillow opens the PNG in mode
    "I;16"; a TIFF of 32-bit ints opens in mode "I", as older Pillows opened 16-bit PNGs."""
    values = np.linspace(0, 65535, 32 * 32).round().astype(dtype).reshape(32, 32)
    Image.fromarray(values).save(path)
    return values


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name, dtype, mode", [("grey16.png", np.uint16, "I;16"), ("grey32.tif", np.int32, "I")])
def test_read_image_scales_16_bit_grey_to_8_bits_instead_of_clipping(tmp_path, channels, name, dtype, mode):
    values = grey_16_bit(tmp_path / name, dtype)
    with Image.open(tmp_path / name) as opened:
        assert opened.mode == mode
    image = photos.read_image(tmp_path / name, 32, channels)
    assert image.shape == (channels, 32, 32) and image.dtype == np.uint8
    assert image.min() == 0 and image.max() == 255 and abs(int(image[0, 16, 0]) - 128) <= 1  # not all white
    for channel in image:  # grey in colour: three equal channels
        np.testing.assert_array_equal(channel, np.rint(values / 257).astype(np.uint8))


def test_read_image_puts_the_transparent_value_of_a_16_bit_grey_picture_on_white(tmp_path):
    values = np.full((32, 32), 1128, dtype=np.uint16)  # 1128 / 257 is about 4: nearly black
    values[:, :16] = 1000  # also about 4 in 8 bits, but this exact 16-bit value is the see-through one
    Image.fromarray(values).save(tmp_path / "clear16.png", transparency=1000)
    image = photos.read_image(tmp_path / "clear16.png", 32, 3)
    assert (image[:, :, :16] == 255).all() and (image[:, :, 16:] == 4).all()


def oversized_text_png(path, chunks=1, length=PngImagePlugin.MAX_TEXT_CHUNK + 10):
    """A small PNG with zTXt chunks that inflate past PngImagePlugin.MAX_TEXT_CHUNK (one chunk too long) or
    MAX_TEXT_MEMORY (all of them together): Pillow raises ValueError when it opens it. (Uncompressed tEXt
    chunks that long open fine.)"""
    text = PngImagePlugin.PngInfo()
    for index in range(chunks):
        text.add_text(f"comment{index}", "x" * length, zip=True)
    Image.fromarray(np.zeros((48, 48, 3), dtype=np.uint8)).save(path, pnginfo=text)
    return path


def test_read_image_refuses_a_png_with_an_oversized_text_chunk_as_unreadable(tmp_path):
    oversized_text_png(tmp_path / "comment.png")
    with pytest.raises(OSError, match=r"comment\.png cannot be read: Decompressed data too large"):
        photos.read_image(tmp_path / "comment.png", 32, 3)


# --- load_image_folder ----------------------------------------------------------------------


def test_load_image_folder_uses_the_good_files_and_names_the_rest(tmp_path, capsys):
    images, report = photos.load_image_folder(mixed_folder(tmp_path), size=32, channels=3)
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    assert report == {"found": 5, "used": 3, "unreadable": ["bad.jpg"], "too_large": [], "too_small": ["tiny.png"]}
    out = capsys.readouterr().out
    assert out.strip() == "skipped 2 of 5 files: 1 unreadable (bad.jpg), 1 smaller than 32 pixels (tiny.png)"
    np.testing.assert_array_equal(images[0], photos.read_image(tmp_path / "pictures" / "a.png", 32, 3))  # by name


def test_load_image_folder_in_grey_and_at_64_pixels(tmp_path, capsys):
    folder = tmp_path / "big"
    folder.mkdir()
    for index in range(2):
        save_picture(folder / f"p{index}.jpeg", 70, 90, seed=index)
    images, report = photos.load_image_folder(folder, size=64, channels=1)
    assert images.shape == (2, 1, 64, 64) and report["used"] == 2
    assert capsys.readouterr().out == ""  # nothing skipped, nothing said


@pytest.mark.parametrize("too_much", ["one-chunk", "all-chunks"])
def test_a_png_with_oversized_text_chunks_is_skipped_as_unreadable(tmp_path, monkeypatch, capsys, too_much):
    folder = tmp_path / "pictures"
    folder.mkdir()
    save_picture(folder / "good.png")
    if too_much == "one-chunk":
        oversized_text_png(folder / "comment.png")
    else:
        monkeypatch.setattr(PngImagePlugin, "MAX_TEXT_MEMORY", 2500)  # "Too much memory used in text chunks"
        oversized_text_png(folder / "comment.png", chunks=3, length=1000)
    images, report = photos.load_image_folder(folder, cache=False)
    assert images.shape == (1, 3, 32, 32) and report["used"] == 1 and report["unreadable"] == ["comment.png"]
    assert capsys.readouterr().out == "skipped 1 of 2 files: 1 unreadable (comment.png)\n"

    def broken_course_code(picture):
        raise ValueError("a fault in the course")

    monkeypatch.setattr(photos, "_on_white", broken_course_code)  # only Pillow's errors count as unreadable
    with pytest.raises(ValueError, match="a fault in the course"):
        photos.load_image_folder(folder, cache=False)


def test_the_skipped_line_names_at_most_five_files_per_kind(tmp_path, capsys):
    folder = tmp_path / "many"
    folder.mkdir()
    save_picture(folder / "good.png")
    for index in range(7):
        (folder / f"broken{index}.png").write_bytes(b"not a png")
    photos.load_image_folder(folder, cache=False)
    line = capsys.readouterr().out.strip()
    assert line.startswith("skipped 7 of 8 files: 7 unreadable (broken0.png, ")
    assert "broken4.png, …)" in line and "broken5.png" not in line


def test_a_folder_without_pictures_says_which_files_are_read(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    (folder / "inner").mkdir()
    save_picture(folder / "inner" / "hidden.png")
    with pytest.raises(ValueError, match=r"no PNG or JPEG files .*\.png, \.jpg, \.jpeg.*sub-folders are not searched"):
        photos.load_image_folder(folder)


def test_a_missing_folder_or_a_file_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="There is no folder"):
        photos.load_image_folder(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="is a file, not a folder"):
        photos.load_image_folder(save_picture(tmp_path / "one.png"))


def test_a_folder_of_only_unusable_files_is_an_error_with_the_counts(tmp_path, runs_dir):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    save_picture(folder / "small.png", 10, 10)
    with pytest.raises(ValueError, match=r"None of the 2 .* 1 unreadable, 1 smaller than 32 pixels"):
        photos.load_image_folder(folder)
    assert list((runs_dir / "image_cache").glob("*.pt")) == []  # a failure is not cached


@pytest.mark.parametrize("size, channels", [(48, 3), (16, 1), (32, 2), (32, 4), (32, True)])
def test_sizes_and_channels_the_course_cannot_use_are_refused(tmp_path, size, channels):
    folder = mixed_folder(tmp_path)
    with pytest.raises(ValueError, match="size must be one of|channels must be 1"):
        photos.load_image_folder(folder, size=size, channels=channels)
    with pytest.raises(ValueError, match="size must be one of|channels must be 1"):
        photos.read_image(folder / "a.png", size, channels)


# --- the cache ------------------------------------------------------------------------------


def refuse_to_read(path, size, channels):
    raise AssertionError(f"{path.name} was read again instead of coming from the cache")


def test_a_second_call_comes_from_the_cache_and_still_reports(tmp_path, monkeypatch, capsys, runs_dir):
    folder = mixed_folder(tmp_path)
    first, first_report = photos.load_image_folder(folder)
    cached = list((runs_dir / "image_cache").glob("pictures-32px-3ch-*.pt"))
    assert len(cached) == 1 and len(cached[0].stem.rsplit("-", 1)[1]) == 16
    first_line = capsys.readouterr().out
    monkeypatch.setattr(photos, "read_image", refuse_to_read)
    second, second_report = photos.load_image_folder(folder)
    np.testing.assert_array_equal(second, first)
    assert second.dtype == np.uint8 and second_report == first_report
    assert capsys.readouterr().out == first_line  # the learner sees the skipped files every time


def test_the_cache_is_kept_apart_per_size_and_channels(tmp_path, runs_dir):
    folder = mixed_folder(tmp_path)
    grey, _ = photos.load_image_folder(folder, size=28, channels=1)
    colour, _ = photos.load_image_folder(folder, size=28, channels=3)
    assert grey.shape == (3, 1, 28, 28) and colour.shape == (3, 3, 28, 28)
    assert len(list((runs_dir / "image_cache").glob("*.pt"))) == 2


def test_a_changed_folder_is_read_again(tmp_path, monkeypatch):
    folder = mixed_folder(tmp_path)
    before, _ = photos.load_image_folder(folder)
    save_picture(folder / "d.png", 40, 40, seed=9)
    after, report = photos.load_image_folder(folder)
    assert len(after) == len(before) + 1 and report["found"] == 6
    monkeypatch.setattr(photos, "read_image", refuse_to_read)
    np.testing.assert_array_equal(photos.load_image_folder(folder)[0], after)  # the new cache is used


def test_cache_false_always_reads_and_writes_nothing(tmp_path, monkeypatch, runs_dir):
    folder = mixed_folder(tmp_path)
    photos.load_image_folder(folder)
    monkeypatch.setattr(photos, "read_image", refuse_to_read)
    with pytest.raises(AssertionError, match="was read again"):
        photos.load_image_folder(folder, cache=False)


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path, runs_dir):
    folder = mixed_folder(tmp_path)
    first, _ = photos.load_image_folder(folder)
    (cache_file,) = (runs_dir / "image_cache").glob("*.pt")
    cache_file.write_bytes(cache_file.read_bytes()[:100])  # cut short, as by a crash or a full disk
    again, report = photos.load_image_folder(folder)
    np.testing.assert_array_equal(again, first)
    saved = torch.load(cache_file, weights_only=True)
    assert torch.equal(saved["images"], torch.from_numpy(first)) and saved["report"] == report


# --- pictures over Pillow's pixel limit, and names that are not UTF-8 ------------------------


def decoded_files(monkeypatch):
    """The names of the files whose pixels Pillow decodes from now on, in a list that grows as it happens."""
    names = []
    load = ImageFile.ImageFile.load

    def spying_load(self):
        names.append(Path(self.filename).name)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    return names


def non_utf8_name(folder, name: bytes) -> Path:
    """`folder / name` for a name of raw bytes, as Python shows it (surrogates); skips where names must be UTF-8."""
    path = folder / os.fsdecode(name)
    try:
        path.write_bytes(b"")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system only takes UTF-8 file names")
    path.unlink()
    return path


@pytest.mark.parametrize("width", [40, 60], ids=["warned-between-1x-and-2x-the-limit", "refused-above-2x"])
def test_read_image_refuses_a_picture_over_the_pixel_limit_without_decoding_it(tmp_path, monkeypatch, width):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1200)  # 40x40 is 1600 pixels, 60x60 is 3600
    save_picture(tmp_path / "huge.png", width, width)
    decoded = decoded_files(monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(photos.ImageTooLarge, match=r"huge\.png is too large to open safely") as error:
            photos.read_image(tmp_path / "huge.png", 32, 3)
    assert isinstance(error.value, ValueError) and decoded == [] and caught == []


def test_pictures_over_the_pixel_limit_are_skipped_and_named_as_their_own_kind(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1200)  # a 32x32 picture (1024 pixels) is still fine
    folder = tmp_path / "pictures"
    folder.mkdir()
    save_picture(folder / "a.png", 32, 32, seed=1)
    save_picture(folder / "b.png", 32, 32, seed=2)
    save_picture(folder / "big.png", 40, 40, seed=3)  # Pillow warns
    save_picture(folder / "huge.png", 60, 60, seed=4)  # Pillow refuses
    (folder / "bad.jpg").write_bytes(b"not a jpeg")
    decoded = decoded_files(monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, report = photos.load_image_folder(folder)
    assert images.shape == (2, 3, 32, 32) and report["used"] == 2 and caught == []
    assert report["too_large"] == ["big.png", "huge.png"] and report["unreadable"] == ["bad.jpg"]
    assert set(decoded) == {"a.png", "b.png"}  # the large ones were never decoded
    out, err = capsys.readouterr()
    assert out == "skipped 3 of 5 files: 1 unreadable (bad.jpg), 2 too large to open safely (big.png, huge.png)\n"
    assert err == ""

    monkeypatch.setattr(photos, "read_image", refuse_to_read)
    assert photos.load_image_folder(folder)[1] == report  # from the cache, with the same report
    assert capsys.readouterr().out == out


def test_raising_the_pixel_limit_reads_the_folder_again(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    save_picture(folder / "a.png", 32, 32)
    save_picture(folder / "large.png", 60, 60)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1200)
    assert photos.load_image_folder(folder)[1]["too_large"] == ["large.png"]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    images, report = photos.load_image_folder(folder)
    assert len(images) == 2 and report["too_large"] == []


def test_a_folder_of_only_too_large_pictures_is_an_error_that_says_so(tmp_path, monkeypatch, runs_dir):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    folder = tmp_path / "large"
    folder.mkdir()
    save_picture(folder / "huge.png", 48, 48)
    with pytest.raises(ValueError, match=r"None of the 1 .* 0 unreadable, .* 1 too large to open safely"):
        photos.load_image_folder(folder)
    assert list((runs_dir / "image_cache").glob("*.pt")) == []


def test_printable_replaces_undecodable_bytes_and_line_breaks_only():
    assert photos.printable(os.fsdecode(b"caf\xe9.png")) == "caf\ufffd.png"
    assert photos.printable("two\nlines.png") == "two\ufffdlines.png"
    assert photos.printable("résumé 🙂 photo.png") == "résumé 🙂 photo.png"
    assert photos.printable(Path("/a") / os.fsdecode(b"\xff.jpg")) == str(Path("/a") / "\ufffd.jpg")


def test_pictures_whose_names_are_not_utf8_are_read_cached_and_named_printably(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    cafe = non_utf8_name(folder, b"caf\xe9.png")
    save_picture(cafe, 48, 48, seed=1)
    save_picture(folder / "plain.png", 48, 48, seed=2)
    non_utf8_name(folder, b"bro\xffken.jpg").write_bytes(b"not a jpeg")
    save_picture(non_utf8_name(folder, b"t\xe9ny.png"), 20, 20)
    images, report = photos.load_image_folder(folder)
    assert len(images) == 2 and report["used"] == 2
    np.testing.assert_array_equal(images[0], photos.read_image(cafe, 32, 3))  # sorted by name: "caf\udce9" first
    assert report["unreadable"] == [os.fsdecode(b"bro\xffken.jpg")]  # the real name, to find the file by
    out = capsys.readouterr().out
    assert out == "skipped 2 of 4 files: 1 unreadable (bro\ufffdken.jpg), 1 smaller than 32 pixels (t\ufffdny.png)\n"
    out.encode("utf-8")  # printable: no surrogates left

    monkeypatch.setattr(photos, "read_image", refuse_to_read)
    cached_images, cached_report = photos.load_image_folder(folder)  # the cache holds such names too
    np.testing.assert_array_equal(cached_images, images)
    assert cached_report == report and capsys.readouterr().out == out


def test_errors_name_files_and_folders_that_are_not_utf8_printably(tmp_path, monkeypatch):
    small = non_utf8_name(tmp_path, b"sm\xe4ll.png")
    save_picture(small, 20, 20)
    with pytest.raises(photos.ImageTooSmall) as too_small:
        photos.read_image(small, 32, 3)
    assert str(too_small.value).startswith("sm\ufffdll.png is 20x20 pixels")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(photos.ImageTooLarge) as too_large:
        photos.read_image(small, 28, 3)
    assert str(too_large.value).startswith("sm\ufffdll.png is too large")
    folder = non_utf8_name(tmp_path, b"fold\xe9r")
    folder.mkdir()
    for call in (lambda: photos.load_image_folder(folder), lambda: photos.load_image_folder(folder / "missing")):
        with pytest.raises((ValueError, FileNotFoundError)) as refused:
            call()
        assert "fold\ufffdr" in str(refused.value)
        str(refused.value).encode("utf-8")
