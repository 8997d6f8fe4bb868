"""python -m course like: a picture redrawn by a checkpoint's generator, images like it in a grid, and one clear line
for every input it cannot use."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course import gan, gan_training
from course.cli import main
from course.plots import SEEN_SIDE

FAST = ["--steps", "5", "--restarts", "2"]
ERROR_LINE = re.compile(r"^reconstruction error \d\.\d{3} \(root mean squared, on a 0\.\.1 scale of intensities\)$")


def one_error_line(capsys) -> str:
    """stderr of the last command: exactly one line, starting with 'error:' (no traceback); returned for more checks."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def grid_size(count: int, side: int) -> tuple[int, int]:
    """(width, height) in pixels of course.plots.save_image_grid's grid of `count` images `side` pixels wide."""
    zoom = -(-SEEN_SIDE // side)
    columns = math.ceil(math.sqrt(count))
    rows = -(-count // columns)
    return (columns * (side + 1) - 1) * zoom, (rows * (side + 1) - 1) * zoom


@pytest.fixture
def dress_photo(tmp_path) -> Path:
    """A 40 x 56 grey picture of a dark dress on a white background, as a photo of clothes is taken."""
    pixels = np.full((56, 40), 255, np.uint8)
    pixels[8:50, 12:28] = 40
    path = tmp_path / "dress.png"
    Image.fromarray(pixels).save(path)
    return path


def trained_checkpoint(folder: Path, **settings) -> Path:
    """A tiny GAN's checkpoint after 2 steps on random images of the settings' shape (and classes, if any)."""
    config = gan.GANConfig(
        steps=2, batch_size=8, latent_size=8, width=4, sample_every=2, checkpoint_every=2, **settings
    )
    pixels = torch.rand(16, config.channels, config.size, config.size) * 2 - 1
    labels = torch.arange(16) % config.classes if config.classes else None
    gan_training.train_gan(config, pixels, folder, progress=False, labels=labels)
    return folder / gan_training.CHECKPOINT


def test_like_redraws_a_grey_picture_and_writes_the_grid(checkpoint, dress_photo, tmp_path, capsys):
    out = tmp_path / "like.png"
    arguments = ["like", "--checkpoint", str(checkpoint), "--image", str(dress_photo), "--out", str(out), *FAST]
    assert main([*arguments, "--n", "6"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert ERROR_LINE.match(said[0]), said
    assert said[-1] == f"wrote the picture, its reconstruction and 4 images like it to {out}"
    with Image.open(out) as grid:
        assert grid.format == "PNG" and grid.size == grid_size(6, 28)
        pixels = np.asarray(grid.convert("L")).astype(int)
    zoom = -(-SEEN_SIDE // 28)
    first = pixels[: 28 * zoom, : 28 * zoom]  # the picture, shown as it was read: a dark dress on white
    assert first[0, 0] > 250 and abs(first[14 * zoom, 14 * zoom] - 40) < 4
    assert main([*arguments, "--n", "16", "--force"]) == 0  # the default grid's size: 16 images
    with Image.open(out) as grid:
        assert grid.size == grid_size(16, 28)


def test_like_draws_colour_pictures_from_a_colour_generator(tmp_path, capsys):
    checkpoint = trained_checkpoint(tmp_path / "colour", channels=3, size=32)
    photo = tmp_path / "red.jpg"
    Image.new("RGB", (48, 40), (200, 30, 30)).save(photo)
    out = tmp_path / "red-like.png"
    assert (
        main(["like", "--checkpoint", str(checkpoint), "--image", str(photo), "--out", str(out), "--n", "4", *FAST])
        == 0
    )
    assert ERROR_LINE.match(capsys.readouterr().out.splitlines()[0])
    with Image.open(out) as grid:
        assert grid.size == grid_size(4, 32)
        first = np.asarray(grid.convert("RGB"))[16 * 4, 16 * 4].astype(int)  # the middle of the picture as read
    assert np.abs(first - [200, 30, 30]).max() < 8


def test_a_conditional_checkpoint_needs_the_pictures_class_and_a_plain_one_refuses_it(
    checkpoint, dress_photo, tmp_path, capsys
):
    conditional = trained_checkpoint(tmp_path / "conditional", classes=10)
    out = tmp_path / "like.png"
    common = ["like", "--image", str(dress_photo), "--out", str(out), "--n", "3", *FAST]
    assert main([*common, "--checkpoint", str(conditional)]) == 2
    assert "say which" in one_error_line(capsys) and not out.exists()
    assert main([*common, "--checkpoint", str(conditional), "--class", "Hat"]) == 2
    line = one_error_line(capsys)
    assert "no class 'Hat'" in line and "3 Dress" in line
    assert main([*common, "--checkpoint", str(checkpoint), "--class", "Dress"]) == 2
    assert "without classes" in one_error_line(capsys) and not out.exists()
    assert main([*common, "--checkpoint", str(conditional), "--class", "Dress"]) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    "arguments, code, says",
    [
        (["--image", "missing.png"], 2, "missing.png: no such file; give a PNG or JPEG file that exists"),
        (["--image", "FOLDER"], 2, "FOLDER is a folder: give one picture"),
        (["--image", "notes.png"], 2, "notes.png is not a picture: give a PNG or JPEG file"),
        (["--image", "small.png"], 2, "small.png is 20x30 pixels; its shorter side must be at least 28 pixels"),
        (["--out", "grid.jpg"], 2, "--out must end in .png"),
        (["--out", "taken.png"], 2, "taken.png already exists: add --force to replace it"),
        (["--out", "FOLDER.png"], 2, "FOLDER.png is a folder: give the name of a file"),
        (["--n", "2"], 2, "--n must be from 3 to 1,024"),
        (["--n", "1025"], 2, "--n must be from 3 to 1,024"),
        (["--checkpoint", "damaged.pt"], 1, "damaged.pt is not a readable checkpoint"),
        (["--checkpoint", "none.pt"], 1, "No checkpoint at"),
    ],
)
def test_like_answers_each_bad_input_with_one_line_before_any_work(
    arguments, code, says, checkpoint, dress_photo, tmp_path, capsys
):
    (tmp_path / "FOLDER").mkdir()
    (tmp_path / "FOLDER.png").mkdir()
    (tmp_path / "notes.png").write_text("not a picture\n")
    Image.new("L", (20, 30), 255).save(tmp_path / "small.png")
    (tmp_path / "taken.png").write_bytes(b"mine")
    (tmp_path / "damaged.pt").write_bytes(checkpoint.read_bytes()[:-100])
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    typed = {"--checkpoint": str(checkpoint), "--image": str(dress_photo), "--out": "grid.png", **given}
    for option in ("--checkpoint", "--image", "--out"):
        typed[option] = str(tmp_path / typed[option])  # a name in tmp_path; an absolute path stays as it is
    assert main(["like", *[part for pair in typed.items() for part in pair], *FAST]) == code
    assert says in one_error_line(capsys)
    assert not (tmp_path / "grid.png").exists() and (tmp_path / "taken.png").read_bytes() == b"mine"


@pytest.mark.parametrize("option, value", [("--spread", "0"), ("--steps", "0"), ("--restarts", "-1"), ("--n", "x")])
def test_like_refuses_counts_and_sizes_out_of_range_as_usage_errors(option, value, capsys):
    with pytest.raises(SystemExit) as usage_error:
        main(["like", "--checkpoint", "c.pt", "--image", "d.png", "--out", "g.png", option, value])
    assert usage_error.value.code == 2 and f"argument {option}: must be" in capsys.readouterr().err
