"""course.data's helpers from arrays to what a lesson needs: a train/held-out split, and tensors."""

import numpy as np
import pytest
import torch

from course.data import image_tensors, split_sales

# --- split_sales ------------------------------------------------------------------------------


@pytest.mark.parametrize("count, share", [(546, 0.2), (10, 0.3), (7, 0.5), (2, 0.5)])
def test_split_sales_is_disjoint_and_covers_every_row(count, share):
    train, held_out = split_sales(count, share, seed=0)
    assert len(set(train.tolist()) & set(held_out.tolist())) == 0
    assert sorted(train.tolist() + held_out.tolist()) == list(range(count))
    assert len(held_out) == round(share * count)


def test_split_sales_is_the_same_for_the_same_seed_and_differs_for_another():
    train, held_out = split_sales(546, 0.2, seed=3)
    again_train, again_held_out = split_sales(546, 0.2, seed=3)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(held_out, again_held_out)
    assert set(split_sales(546, 0.2, seed=4)[1].tolist()) != set(held_out.tolist())


def test_split_sales_keeps_at_least_one_row_on_each_side():
    for share in (0.01, 0.99):
        train, held_out = split_sales(5, share, seed=0)
        assert len(train) >= 1 and len(held_out) >= 1 and len(train) + len(held_out) == 5


@pytest.mark.parametrize("share", [0, 1, -0.2, 1.5, 20, float("nan")])
def test_split_sales_refuses_a_share_outside_zero_to_one(share):
    with pytest.raises(ValueError, match="held_out_share must be between 0 and 1"):
        split_sales(546, share, seed=0)


@pytest.mark.parametrize("count", [1, 0, -5, 10.0, "546"])
def test_split_sales_refuses_a_count_below_two_or_not_an_int(count):
    with pytest.raises(ValueError, match="count must be an int of at least 2"):
        split_sales(count, 0.2, seed=0)


# --- image_tensors ----------------------------------------------------------------------------


def test_image_tensors_scale_uint8_images_to_floats_with_a_channel():
    images = np.array([[[0, 255], [51, 102]], [[255, 255], [0, 0]], [[1, 2], [3, 4]]], dtype=np.uint8)
    as_tensor, labels = image_tensors(images, np.array([2, 0, 9], dtype=np.uint8))
    assert as_tensor.shape == (3, 1, 2, 2) and as_tensor.dtype == torch.float32
    assert as_tensor.min().item() >= 0 and as_tensor.max().item() <= 1
    torch.testing.assert_close(as_tensor[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    assert labels.dtype == torch.int64 and labels.tolist() == [2, 0, 9]
    assert as_tensor.device.type == labels.device.type == "cpu"


def test_image_tensors_without_labels_returns_only_the_images():
    images = image_tensors(np.zeros((4, 28, 28), dtype=np.uint8))
    assert isinstance(images, torch.Tensor) and images.shape == (4, 1, 28, 28)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 4, 4), dtype=np.float32), "uint8 array .*got float32"),
        (np.zeros((2, 4, 4), dtype=np.int64), "uint8 array .*got int64"),
        (np.zeros((2, 1, 4, 4), dtype=np.uint8), r"\(N, H, W\).*shape \(2, 1, 4, 4\)"),
        (np.zeros((4, 4), dtype=np.uint8), r"\(N, H, W\).*shape \(4, 4\)"),
    ],
)
def test_image_tensors_refuse_what_are_not_grey_uint8_images(images, message):
    with pytest.raises(ValueError, match=message):
        image_tensors(images)


@pytest.mark.parametrize("labels", [np.array([0, 1]), np.array([0, 1, 2, 3]), np.array([[0, 1, 2]])])
def test_image_tensors_want_one_label_per_image(labels):
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\), one per image"):
        image_tensors(np.zeros((3, 4, 4), dtype=np.uint8), labels)
