"""Colour pictures the course makes itself: notebook 02's dress on grass, and dresses recoloured from grey ones."""

import numpy as np
import pytest

from course import colour_pictures


def grey_dresses(count=12, seed=0):
    """Dress-like grey images: a filled block of full ink, a fringe of half ink, background 0."""
    rng = np.random.default_rng(seed)
    dresses = np.zeros((count, 28, 28), dtype=np.uint8)
    dresses[:, 4:24, 8:20] = 255
    dresses[:, 3, 8:20] = 128
    dresses[:, 24:26] = rng.integers(0, 256, (count, 2, 28), dtype=np.uint8)
    return dresses


# --- colour_picture ---------------------------------------------------------------------------


def dominant(picture: np.ndarray, channel: int) -> np.ndarray:
    """Where `channel` (0 red, 1 green, 2 blue) is clearly brighter than both others."""
    others = np.delete(picture.astype(int), channel, axis=-1)
    return picture[..., channel].astype(int) > others.max(axis=-1) + 40


@pytest.mark.parametrize("size", [16, 48, 100])
def test_colour_picture_is_height_by_width_by_rgb_bytes(size):
    picture = colour_pictures.colour_picture(size)
    assert picture.shape == (size, size, 3) and picture.dtype == np.uint8


def test_colour_picture_has_a_red_dress_green_grass_and_blue_sky():
    picture = colour_pictures.colour_picture(48)
    red, green, blue = (dominant(picture, channel) for channel in range(3))
    assert red.sum() > 48 and green.sum() > 48 and blue.sum() > 48
    assert blue[0].mean() > 0.5  # sky along the top row
    assert green[-1].mean() > 0.5  # grass along the bottom row
    rows, _ = np.nonzero(red)
    assert 0.2 * 48 < rows.mean() < 0.9 * 48  # the dress is in between
    np.testing.assert_array_equal(colour_pictures.colour_picture(48), picture)  # drawn, not random


@pytest.mark.parametrize("size", [15, 0, 32.0])
def test_colour_picture_refuses_a_size_below_16(size):
    with pytest.raises(ValueError, match="size must be an int of at least 16"):
        colour_pictures.colour_picture(size)


# --- recolour_dresses -----------------------------------------------------------------------


def test_recoloured_dresses_are_colour_on_white():
    grey = grey_dresses(40)
    colour = colour_pictures.recolour_dresses(grey)
    assert colour.shape == (40, 3, 32, 32) and colour.dtype == np.uint8
    ink = np.pad(grey, ((0, 0), (2, 2), (2, 2)))
    background = colour.transpose(0, 2, 3, 1)[ink == 0]
    assert len(background) > 0 and (background == 255).all()
    full = colour.transpose(0, 2, 3, 1)[:, 8:26, 12:22]  # inside every dress's full-ink block
    spread = full.max(axis=-1).astype(int) - full.min(axis=-1)
    assert (spread.min(axis=(1, 2)) > 40).mean() > 0.9  # not grey: the channels differ
    assert (full.max(axis=-1) < 250).all()  # dark enough to show on white


def test_recoloured_dresses_use_several_patterns():
    colour = colour_pictures.recolour_dresses(grey_dresses(60), seed=3)
    block = colour[:, :, 8:26, 12:22].reshape(60, 3, -1)
    distinct = [np.unique(block[index], axis=1).shape[1] for index in range(60)]  # colours in each dress
    assert 1 in distinct and max(distinct) >= 2  # some plain, some patterned in two colours
    assert sum(count == 1 for count in distinct) < 30  # mostly patterned (four kinds in five)


def test_the_same_seed_gives_the_same_dresses():
    grey = grey_dresses(10)
    np.testing.assert_array_equal(
        colour_pictures.recolour_dresses(grey, seed=7), colour_pictures.recolour_dresses(grey, seed=7)
    )
    assert not np.array_equal(
        colour_pictures.recolour_dresses(grey, seed=7), colour_pictures.recolour_dresses(grey, seed=8)
    )


def test_recolouring_does_not_depend_on_how_many_dresses_are_painted_at_once(monkeypatch):
    grey = grey_dresses(10)
    whole = colour_pictures.recolour_dresses(grey, seed=1)
    monkeypatch.setattr(colour_pictures, "CHUNK", 3)
    np.testing.assert_array_equal(colour_pictures.recolour_dresses(grey, seed=1), whole)


@pytest.mark.parametrize(
    "wrong",
    [
        np.zeros((2, 28, 28), dtype=np.float32),
        np.zeros((2, 32, 32), dtype=np.uint8),
        np.zeros((28, 28), dtype=np.uint8),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ],
    ids=["floats", "wrong-size", "one-image-without-batch", "empty"],
)
def test_recolour_dresses_refuses_what_is_not_a_batch_of_dresses(wrong):
    with pytest.raises(ValueError, match="dresses"):
        colour_pictures.recolour_dresses(wrong)
