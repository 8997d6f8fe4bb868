import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course.plots import confusion_plot, feature_maps, filter_grid, image_grid, learning_curves, use_course_style  # noqa: E402
from course.training import History  # noqa: E402


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


def showing_images(figure) -> int:
    return sum(bool(axis.images) for axis in figure.axes)


def suptitle(figure) -> str:
    return figure._suptitle.get_text()  # Figure.get_suptitle() needs matplotlib 3.8; the course allows 3.7


def test_learning_curves_plot_loss_and_accuracy_for_training_and_held_out():
    history = History(
        epoch=[1, 2, 3],
        train_loss=[1.0, 0.6, 0.4],
        train_accuracy=[0.5, 0.7, 0.8],
        eval_loss=[1.1, 0.8, 0.7],
        eval_accuracy=[0.45, 0.6, 0.7],
    )
    figure = learning_curves(history, title="tiny")
    loss_axis, accuracy_axis = figure.axes
    assert [len(axis.lines) for axis in figure.axes] == [2, 2]
    assert list(loss_axis.lines[1].get_ydata()) == [1.1, 0.8, 0.7]
    assert list(accuracy_axis.lines[0].get_xdata()) == [1, 2, 3]
    assert [text.get_text() for text in loss_axis.get_legend().get_texts()] == [
        "training (mean while the epoch learnt)",
        "held out (after the epoch)",
    ]
    assert suptitle(figure) == "tiny"
    plt.close(figure)


def test_learning_curves_of_an_empty_history_say_to_train_first():
    with pytest.raises(ValueError, match="history is empty"):
        learning_curves(History())


def test_confusion_plot_shows_the_matrix_with_its_counts():
    matrix = np.array([[5, 1, 0], [2, 7, 0], [0, 0, 9]])
    figure = confusion_plot(matrix, ("a", "b", "c"))
    axis, colour_bar = figure.axes
    assert colour_bar.get_ylabel() == "images"
    assert showing_images(figure) == 1
    np.testing.assert_array_equal(axis.images[0].get_array(), matrix)
    assert sorted(text.get_text() for text in axis.texts) == sorted(str(count) for count in matrix.flat)
    assert [label.get_text() for label in axis.get_xticklabels()] == ["a", "b", "c"]
    assert (axis.get_xlabel(), axis.get_ylabel()) == ("predicted class", "true class")
    plt.close(figure)


@pytest.mark.parametrize("shape", [(2, 3), (3, 3), (4,)])
def test_confusion_plot_wants_one_row_and_column_per_class(shape):
    with pytest.raises(ValueError, match="matrix must be 2x2"):
        confusion_plot(np.zeros(shape, dtype=int), ("a", "b"))


def test_filter_grid_shows_one_filter_per_axis_on_a_shared_scale():
    weights = torch.randn(10, 1, 5, 5)
    figure = filter_grid(weights, ncols=4)
    assert len(figure.axes) == 12 and showing_images(figure) == 10
    limit = weights.abs().max().item()
    assert figure.axes[0].images[0].get_clim() == pytest.approx((-limit, limit))
    np.testing.assert_allclose(figure.axes[3].images[0].get_array(), weights[3, 0].numpy())
    plt.close(figure)
    assert showing_images(filter_grid(np.zeros((3, 1, 3, 3)))) == 3  # all-zero filters and numpy arrays too
    plt.close("all")


@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (4, 5, 5), (5, 5)])
def test_filter_grid_wants_a_first_layers_weights(shape):
    with pytest.raises(ValueError, match=r"\(out_channels, 1, k, k\)"):
        filter_grid(torch.zeros(shape))


def test_feature_maps_show_each_channel():
    maps = torch.rand(6, 7, 7)
    figure = feature_maps(maps, title="after the first layer", ncols=4)
    assert len(figure.axes) == 8 and showing_images(figure) == 6
    np.testing.assert_allclose(figure.axes[5].images[0].get_array(), maps[5].numpy())
    assert suptitle(figure) == "after the first layer"
    plt.close(figure)


def test_feature_maps_can_share_one_colour_bar_each_map_on_its_own_scale():
    maps = torch.rand(6, 7, 7) * torch.arange(1.0, 7.0).view(6, 1, 1)  # maps of different sizes
    maps[2] = 0.0  # a map with no response at all
    figure = feature_maps(maps, ncols=4, colour_bar=True)
    assert showing_images(figure) == 6 and len(figure.axes) == 9  # 8 panels and the colour bar
    np.testing.assert_allclose(figure.axes[5].images[0].get_array(), (maps[5] / maps[5].max()).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(figure.axes[2].images[0].get_array(), np.zeros((7, 7)))
    assert all(axis.images[0].get_clim() == (0.0, 1.0) for axis in figure.axes if axis.images)
    assert "strongest response" in figure.axes[-1].get_ylabel()
    plt.close(figure)
    signed = feature_maps(torch.tensor([[[-2.0, 1.0]], [[0.5, 0.25]]]), colour_bar=True)
    assert signed.axes[0].images[0].get_clim() == (-1.0, 1.0)
    np.testing.assert_allclose(signed.axes[0].images[0].get_array(), [[-1.0, 0.5]])
    plt.close(signed)


@pytest.mark.parametrize("shape", [(1, 6, 7, 7), (7, 7)])
def test_feature_maps_want_one_images_maps(shape):
    with pytest.raises(ValueError, match=r"\(channels, H, W\).*maps\[0\]"):
        feature_maps(torch.zeros(shape))


def test_a_saved_grid_draws_every_image_large_enough_to_see(tmp_path):
    from PIL import Image

    from course.plots import SEEN_SIDE, save_image_grid

    dresses = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    save_image_grid(dresses, tmp_path / "grid.png")
    with Image.open(tmp_path / "grid.png") as grid:
        width, height = grid.size
    assert width >= 8 * SEEN_SIDE and width == height  # 8 x 8 dresses, each at least SEEN_SIDE pixels wide
    with Image.open(tmp_path / "grid.png") as grid:
        pixels = np.asarray(grid.convert("L"))
    assert (pixels[:4, :4] == pixels[0, 0]).all()  # each pixel a sharp square, not blurred


def test_a_table_shows_formatted_numbers_as_html_and_as_text(monkeypatch):
    import IPython.display
    import pandas as pd

    from course.plots import show_table

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw: shown.append(bundle))
    table = pd.DataFrame(
        {"parameters": [7850, 52000], "test accuracy": [0.8412, 0.9031]}, index=["softmax on pixels", "small CNN"]
    )
    show_table(table, {"parameters": "{:,}", "test accuracy": "{:.1%}"})
    text, html = shown[0]["text/plain"], shown[0]["text/html"]
    assert "Styler" not in text and "52,000" in text and "90.3%" in text and "<table" in html and "84.1%" in html
    assert text.splitlines()[1].split() == ["softmax", "on", "pixels", "7,850", "84.1%"]


@pytest.mark.parametrize("low, high", [(5.0, 40.0), (80.0, 450.0), (30.0, 330.0), (50.0, 4000.0)])
def test_a_log_scale_labels_several_ticks_in_plain_numbers(low, high):
    from course.plots import log_scale

    figure, axis = plt.subplots()
    axis.plot([1, 2], [low, high])
    log_scale(axis)
    figure.canvas.draw()
    bottom, top = axis.get_ylim()
    labels = [
        tick.get_text()
        for tick in axis.get_yticklabels()
        if tick.get_text() and bottom <= tick.get_position()[1] <= top
    ]
    assert axis.get_yscale() == "log" and len(labels) >= 3
    assert all(float(label) > 0 for label in labels)  # plain numbers such as 20 or 0.5, not 10^1
    plt.close(figure)


def test_a_log_scale_wants_x_or_y():
    from course.plots import log_scale

    figure, axis = plt.subplots()
    with pytest.raises(ValueError, match="'x' or 'y'"):
        log_scale(axis, "z")
    plt.close(figure)


def test_image_grid_draws_every_grey_image_on_the_full_scale_not_stretched_to_its_own():
    faint = np.full((2, 8, 8), 10, dtype=np.uint8)
    faint[1, 0, 0] = 20
    figure = image_grid(faint, ncols=2)
    scales = [(axis.images[0].norm.vmin, axis.images[0].norm.vmax) for axis in figure.axes if axis.images]
    assert scales == [(0, 255), (0, 255)]
    floats = image_grid(np.full((1, 8, 8), 0.1), ncols=1)
    assert (floats.axes[0].images[0].norm.vmin, floats.axes[0].images[0].norm.vmax) == (0, 1.0)
    plt.close("all")
