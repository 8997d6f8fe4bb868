"""Notebook 02's checks: the parameter count, the picture channels first, and the dress row of the confusion matrix."""

import numpy as np
import pandas as pd
import torch
from test_exercises_answers import dress_confusion, one_line, verdict

from course import exercises
from course.colour_pictures import colour_picture
from course.data import CLASS_NAMES, DRESS
from course.models import mlp


def test_parameter_count_counts_biases_too(capsys):
    net = mlp(1, (8, 8), 1)
    exercises.check_parameter_count((1 * 8 + 8) + (8 * 8 + 8) + (8 * 1 + 1), net)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_parameter_count(1 * 8 + 8 * 8 + 8 * 1, net)  # the weights alone
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "every unit also has a bias" in out
    exercises.check_parameter_count(98, net)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "Hint" not in out


def test_parameter_count_takes_one_element_answers(capsys):
    net = mlp(1, (8, 8), 1)
    for right in (np.int64(97), torch.tensor([97]), np.array(97.0)):
        exercises.check_parameter_count(right, net)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_parameter_count(torch.tensor(80), net)
    assert "every unit also has a bias" in verdict(capsys)


def test_channels_first_wants_a_permuted_scaled_float_tensor(capsys):
    picture = colour_picture()
    pixels = torch.from_numpy(picture)
    exercises.check_channels_first(pixels.permute(2, 0, 1).float() / 255, picture)
    assert verdict(capsys).startswith("Correct! shape (3, 48, 48)")
    exercises.check_channels_first(pixels.float() / 255, picture)  # still (H, W, 3)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "still height x width x channels" in out
    exercises.check_channels_first(pixels.reshape(3, 48, 48).float() / 255, picture)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "moved with permute" in out
    for unscaled in (pixels.permute(2, 0, 1).float(), pixels.permute(2, 0, 1)):  # 0-255 floats, then uint8
        exercises.check_channels_first(unscaled, picture)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "divide the 0-255 levels by 255" in out
    exercises.check_channels_first(picture.transpose(2, 0, 1) / 255, picture)  # numpy, not torch
    assert "should be a torch tensor, got ndarray" in verdict(capsys)


def test_channels_first_hint_names_the_picture_own_shape(capsys):
    picture = np.arange(20 * 30 * 3, dtype=np.uint8).reshape(20, 30, 3)  # not square: H and W differ
    exercises.check_channels_first(torch.from_numpy(picture).permute(2, 0, 1).float() / 255, picture)
    assert verdict(capsys).startswith("Correct! shape (3, 20, 30)")
    exercises.check_channels_first(torch.from_numpy(picture).permute(2, 1, 0).float() / 255, picture)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "(3, 20, 30), got (3, 30, 20)" in out and "still height" not in out


def test_channels_first_tells_scale_and_dtype_apart_from_axis_order(capsys):
    picture = colour_picture()
    channels_first = torch.from_numpy(picture).permute(2, 0, 1)
    for right in (
        channels_first.float() / 255,
        channels_first.double() / 255,
        torch.tensor(picture.transpose(2, 0, 1) / 255),
    ):
        exercises.check_channels_first(right, picture)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_channels_first(channels_first.half() / 255, picture)
    out = one_line(capsys)
    assert "dtype is torch.float16" in out and "mixed up" not in out
    exercises.check_channels_first(channels_first.float() / 256, picture)
    out = one_line(capsys)
    assert "scale is off" in out and "mixed up" not in out
    exercises.check_channels_first((channels_first.float() / 255) ** 2, picture)
    out = one_line(capsys)
    assert "differ from the picture's levels" in out and "mixed up" not in out
    exercises.check_channels_first(torch.from_numpy(picture).reshape(3, 48, 48).half() / 255, picture)
    assert "moved with permute" in one_line(capsys)


def test_channels_first_wants_an_ordinary_tensor_not_a_sparse_or_meta_one(capsys):
    picture = colour_picture()
    right = torch.from_numpy(picture).permute(2, 0, 1).float() / 255
    for odd, kind in [
        (right.to_sparse(), "a torch.sparse_coo tensor"),
        (right.to("meta"), "a tensor on the meta device, which holds no values"),
    ]:
        exercises.check_channels_first(odd, picture)
        assert (
            one_line(capsys)
            == f"Not yet: the answer should be an ordinary tensor of pixels, as a network takes it, got {kind}.\n"
        )


def test_dress_confusion_reads_the_dress_row(capsys):
    matrix = dress_confusion()
    exercises.check_dress_confusion("Shirt", matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "20 test dresses were predicted as Shirt" in out and "Hint" not in out
    exercises.check_dress_confusion("T-shirt/top", matrix, CLASS_NAMES)  # the largest cell of the Dress column
    out = verdict(capsys)
    assert out.startswith("Not yet") and "0 test dresses" in out and "read the Dress row instead" in out
    exercises.check_dress_confusion("Coat", matrix, CLASS_NAMES)  # second in the row: wrong, but no column hint
    out = verdict(capsys)
    assert out.startswith("Not yet") and "10 test dresses were predicted as Coat" in out and "Hint" not in out
    exercises.check_dress_confusion("Dress", matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "leave out the diagonal" in out
    for unknown in ("Skirt", "shirt", CLASS_NAMES.index("Shirt")):
        exercises.check_dress_confusion(unknown, matrix, CLASS_NAMES)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "answer with one of the class names" in out and "Ankle boot" in out


def test_dress_confusion_takes_either_of_two_tied_classes(capsys):
    matrix = np.zeros((10, 10), dtype=int)
    matrix[DRESS, DRESS] = 50
    matrix[DRESS, CLASS_NAMES.index("Coat")] = matrix[DRESS, CLASS_NAMES.index("Shirt")] = 20
    for tied in ("Coat", "Shirt"):
        exercises.check_dress_confusion(tied, matrix, CLASS_NAMES)
        assert verdict(capsys).startswith("Correct!")


def test_dress_confusion_answers_arrays_and_series_in_one_line(capsys):
    matrix = dress_confusion()
    exercises.check_dress_confusion(np.array(["Shirt"]), matrix, CLASS_NAMES)
    assert verdict(capsys).startswith("Correct!")
    for odd in (np.array(["Shirt", "Coat"]), pd.Series(["Shirt", "Coat"]), np.arange(3), object(), ["Shirt"]):
        exercises.check_dress_confusion(odd, matrix, CLASS_NAMES)
        assert "answer with one of the class names" in one_line(capsys)
