"""Plotting helpers shared by the notebooks: one look for every figure, image grids, and tables."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def use_course_style() -> None:
    """Readable defaults for every figure in the course (size, grid, no top/right spines)."""
    plt.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 90,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "medium",
            "legend.frameon": False,
            "image.interpolation": "nearest",  # pixels drawn as sharp squares, as they are
        }
    )


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    size: float = 1.3,
    cmap: str = "gray_r",
) -> plt.Figure:
    """Show images (N, H, W) grey or (N, H, W, 3) colour, uint8 or floats in [0, 1], in a grid."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3), got shape {images.shape}.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images.")
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one image.")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}.")
    top = 255 if images.dtype == np.uint8 else 1.0  # grey images on the full scale, not stretched one by one
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    figure, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * (titles is not None)), squeeze=False
    )
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap=cmap if images.ndim == 3 else None, vmin=0, vmax=top)  # one scale for all
            if titles is not None:
                axis.set_title(titles[index], fontsize=8)
    figure.tight_layout()
    return figure


def learning_curves(history, title: str = "Learning curves") -> plt.Figure:
    """Loss and accuracy per epoch, on the training batches and on the held-out images."""
    if not history.epoch:
        raise ValueError("the history is empty: train for at least one epoch first.")
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 3.6))
    for axis, metric, label in ((loss_axis, "loss", "cross-entropy loss"), (accuracy_axis, "accuracy", "accuracy")):
        axis.plot(
            history.epoch, getattr(history, f"train_{metric}"), "o-", label="training (mean while the epoch learnt)"
        )
        axis.plot(history.epoch, getattr(history, f"eval_{metric}"), "o-", label="held out (after the epoch)")
        axis.set(xlabel="epoch", ylabel=label)
        axis.legend()
    accuracy_axis.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_plot(matrix: np.ndarray, class_names: Sequence[str], title: str = "Confusion matrix") -> plt.Figure:
    """The confusion matrix as a heat map with counts: row = true class, column = predicted class."""
    matrix = np.asarray(matrix)
    if matrix.shape != (len(class_names), len(class_names)):
        raise ValueError(
            f"matrix must be {len(class_names)}x{len(class_names)}, one row per class name; got {matrix.shape}."
        )
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
    shown = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axis, label="images")
    axis.grid(False)
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        axis.text(column, row, f"{count}", ha="center", va="center", fontsize=7, color=colour)
    axis.set(xlabel="predicted class", ylabel="true class", title=title)
    figure.tight_layout()
    return figure


def filter_grid(weights, ncols: int = 8, size: float = 1.0) -> plt.Figure:
    """A first convolution layer's filters (out_channels, 1, k, k), blue for negative, red for positive."""
    weights = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights)
    if weights.ndim != 4 or weights.shape[1] != 1:
        raise ValueError(
            f"weights must have shape (out_channels, 1, k, k), a first layer's on grey images; got {weights.shape}."
        )
    if len(weights) == 0 or ncols < 1:
        raise ValueError(f"need at least one filter and ncols >= 1; got {len(weights)} filters and ncols={ncols}.")
    limit = np.abs(weights).max() or 1.0
    ncols = min(ncols, len(weights))
    nrows = -(-len(weights) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(weights):
            axis.imshow(weights[index, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.tight_layout()
    return figure


def feature_maps(maps, title: str = "", ncols: int = 8, size: float = 1.0, colour_bar: bool = False) -> plt.Figure:
    """The channels of one image's feature maps (channels, H, W), each on its own brightness scale.

    With `colour_bar`, each map is divided by its own largest absolute value, so that all are drawn on one scale
    (0 to 1, or -1 to 1 if any value is negative) and one colour bar reads as a share of each map's strongest response.
    """
    maps = np.asarray(maps.detach().cpu() if hasattr(maps, "detach") else maps)
    if maps.ndim != 3:
        raise ValueError(
            f"maps must have shape (channels, H, W), one image's; got {maps.shape}. Pick one image with maps[0]."
        )
    if len(maps) == 0 or ncols < 1:
        raise ValueError(f"need at least one channel and ncols >= 1; got {len(maps)} channels and ncols={ncols}.")
    scale = {}
    if colour_bar:
        largest = np.abs(maps).max(axis=(1, 2), keepdims=True)
        maps = maps / np.where(largest > 0, largest, 1.0)  # a map with no response at all stays 0
        scale = {"vmin": -1.0 if (maps < 0).any() else 0.0, "vmax": 1.0}
    ncols = min(ncols, len(maps))
    nrows = -(-len(maps) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4 * bool(title)), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(maps):
            shown = axis.imshow(maps[index], cmap="magma", **scale)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if colour_bar:
        figure.subplots_adjust(right=0.9)
        bar = figure.colorbar(shown, cax=figure.add_axes([0.92, 0.12, 0.012, 0.7]))
        bar.set_label("share of the map's\nstrongest response")
    return figure


def tile(images: np.ndarray, ncols: int | None = None, gap: int = 1) -> np.ndarray:
    """Images, grey (N, H, W) or colour (N, H, W, 3), laid out as one image.

    They are laid `ncols` across (default: a square), `gap` pixels apart.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3) or len(images) == 0:
        raise ValueError(f"images must be a non-empty array (N, H, W) or (N, H, W, 3), got shape {images.shape}.")
    count, height, width = images.shape[:3]
    ncols = ncols or int(np.ceil(np.sqrt(count)))
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}.")
    nrows = -(-count // ncols)
    canvas_shape = (nrows * (height + gap) - gap, ncols * (width + gap) - gap) + images.shape[3:]
    canvas = (
        np.zeros(canvas_shape, dtype=images.dtype)
        if images.ndim == 3
        else np.full(canvas_shape, 255, dtype=images.dtype)
    )
    for index, image in enumerate(images):
        row, column = divmod(index, ncols)
        canvas[
            row * (height + gap) : row * (height + gap) + height,
            column * (width + gap) : column * (width + gap) + width,
        ] = image
    return canvas


SEEN_SIDE = 112  # pixels: a saved grid draws each image at least this wide, so a dress can be seen on a screen


def save_image_grid(images: np.ndarray, path, ncols: int | None = None) -> None:
    """Write uint8 images as one PNG grid (to a path or an open binary file): grey (N, H, W) ink dark on white as in the
    course's figures, or colour (N, H, W, 3). Each pixel becomes a sharp square, so every image is at least
    SEEN_SIDE pixels wide (a 28-pixel dress at 4x)."""
    zoom = max(1, -(-SEEN_SIDE // np.asarray(images).shape[2]))
    grid = tile(images, ncols).repeat(zoom, axis=0).repeat(zoom, axis=1)
    if grid.ndim == 3:
        plt.imsave(path, grid, format="png")
    else:
        plt.imsave(path, grid, cmap="gray_r", vmin=0, vmax=255, format="png")


def show_table(frame, formats: str | dict) -> None:
    """Show a pandas table with its numbers formatted (`"{:.1%}"`, or one format per column): styled HTML in
    JupyterLab, and the same numbers as aligned text wherever only text is shown (a terminal, a saved record)."""
    from IPython.display import display

    per_column = formats if isinstance(formats, dict) else dict.fromkeys(frame.columns, formats)
    text = frame.astype(object)
    for column, pattern in per_column.items():
        text[column] = frame[column].map(pattern.format)
    plain = text.to_string()
    uuid = hashlib.sha256(plain.encode()).hexdigest()[
        :6
    ]  # the HTML's ids follow from the table, so a rerun stores the same HTML
    display({"text/html": frame.style.set_uuid(uuid).format(formats).to_html(), "text/plain": plain}, raw=True)


def log_scale(axis: plt.Axes, which: str = "y") -> None:
    """Put one axis of a plot on a log scale with several ticks labelled in plain numbers (1, 2 and 5 times each
    power of ten, finer where the data span less than a decade or two), so that values can be read off. Call it after
    plotting, when the limits are known."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', got {which!r}.")
    getattr(axis, f"set_{which}scale")("log")
    low, high = getattr(axis, f"get_{which}lim")()
    for subs in ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)):
        ticks = LogLocator(subs=subs).tick_values(low, high)
        if ((ticks >= low) & (ticks <= high)).sum() >= 4:
            break
    ruler = getattr(axis, f"{which}axis")
    ruler.set_major_locator(LogLocator(subs=subs))
    ruler.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ruler.set_minor_formatter(NullFormatter())
