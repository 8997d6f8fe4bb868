"""Pictures out of the course: laid out for plots, and written as PNG files that read back unchanged."""

import numpy as np
import pytest
from PIL import Image
from test_colour_pictures import grey_dresses

from course.colour_pictures import recolour_dresses
from course.photos import load_image_folder
from course.picture_output import to_display, write_image_folder


def test_to_display_puts_channels_last_or_drops_them():
    colour = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    shown = to_display(colour)
    assert shown.shape == (2, 4, 5, 3) and shown[1, 2, 3, 0] == colour[1, 0, 2, 3]
    assert to_display(colour[:, :1]).shape == (2, 4, 5)
    for wrong in (colour.astype(np.float32), colour[0], colour[:, :2]):
        with pytest.raises(ValueError, match=r"uint8 array \(N, C, H, W\)"):
            to_display(wrong)


def test_recoloured_dresses_survive_a_round_trip_through_png_files(tmp_path, capsys):
    dresses = recolour_dresses(grey_dresses(6))
    paths = write_image_folder(dresses, tmp_path / "made" / "dresses", prefix="dress")
    assert [path.name for path in paths] == [f"dress_{index:05d}.png" for index in range(6)]
    assert Image.open(paths[0]).mode == "RGB"
    loaded, report = load_image_folder(tmp_path / "made" / "dresses", size=32, channels=3, cache=False)
    np.testing.assert_array_equal(loaded, dresses)
    assert report["used"] == 6 and capsys.readouterr().out == ""


def test_grey_images_are_written_as_grey_pngs(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, (2, 1, 28, 28), dtype=np.uint8)
    paths = write_image_folder(grey, tmp_path / "grey")
    assert Image.open(paths[1]).mode == "L"
    np.testing.assert_array_equal(load_image_folder(tmp_path / "grey", size=28, channels=1, cache=False)[0], grey)


def test_write_image_folder_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="uint8 array"):
        write_image_folder(np.zeros((1, 3, 8, 8), dtype=np.float32), tmp_path / "out")
    with pytest.raises(ValueError, match="empty"):
        write_image_folder(np.zeros((0, 3, 8, 8), dtype=np.uint8), tmp_path / "out")
    with pytest.raises(ValueError, match="prefix"):
        write_image_folder(np.zeros((1, 3, 8, 8), dtype=np.uint8), tmp_path / "out", prefix="../up")


def test_write_image_folder_never_replaces_a_file_and_writes_nothing_then(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, (3, 1, 28, 28), dtype=np.uint8)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "image_00001.png").write_bytes(b"my own picture")
    with pytest.raises(
        FileExistsError,
        match=r"already holds 1 of the files this would write \(image_00001.png\).*choose an empty folder",
    ):
        write_image_folder(grey, folder)
    assert sorted(path.name for path in folder.iterdir()) == ["image_00001.png"]
    assert (folder / "image_00001.png").read_bytes() == b"my own picture"
    assert len(write_image_folder(grey, folder, prefix="other")) == 3
