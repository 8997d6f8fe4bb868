import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course.plots import image_grid, use_course_style  # noqa: E402


def test_style_sets_the_course_defaults():
    use_course_style()
    assert plt.rcParams["axes.grid"] and not plt.rcParams["axes.spines.top"]


def test_grid_lays_out_grey_and_colour_images():
    grey = image_grid(np.zeros((10, 28, 28), dtype=np.uint8), titles=[str(i) for i in range(10)], ncols=4)
    assert len(grey.axes) == 12 and sum(bool(ax.images) for ax in grey.axes) == 10
    assert grey.axes[0].get_title() == "0"
    colour = image_grid(np.random.default_rng(0).random((3, 8, 8, 3)), ncols=8)
    assert len(colour.axes) == 3  # never more columns than images
    plt.close("all")


@pytest.mark.parametrize(
    "images, kwargs, message",
    [
        (np.zeros((28, 28)), {}, r"\(N, H, W\)"),
        (np.zeros((2, 8, 8, 5)), {}, r"\(N, H, W, 3\)"),
        (np.zeros((0, 28, 28)), {}, "empty"),
        (np.zeros((2, 28, 28)), {"titles": ["one"]}, "1 titles for 2 images"),
        (np.zeros((2, 28, 28)), {"ncols": 0}, "at least 1"),
    ],
)
def test_bad_inputs_say_what_was_expected(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_grid(images, **kwargs)
