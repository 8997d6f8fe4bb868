import numpy as np
import pytest
import torch

from course import quality
from course.precision_recall import manifold_radii, precision_recall

CPU = torch.device("cpu")


def column(*values: float) -> np.ndarray:
    """1-D points as an (N, 1) feature array."""
    return np.array(values, dtype=np.float64)[:, None]


def gaussian(rows: int, width: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, width)) + shift


@pytest.fixture(scope="module")
def test_dress_features(fashion):
    """The course classifier's features of the 1,000 test dresses (1000, 64)."""
    return quality.classifier_features(fashion.dresses("test"), quality.load_quality_classifier(CPU))


# --- the radii --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, [1, 1, 2, 4]), (2, [3, 2, 3, 6]), (3, [7, 6, 4, 7])],
)
def test_radii_are_the_distance_to_the_kth_nearest_other_point(k, expected):
    # points 0, 1, 3, 7: the distances from 0 are 1, 3, 7; from 1: 1, 2, 6; from 3: 2, 3, 4; from 7: 4, 6, 7
    np.testing.assert_array_equal(manifold_radii(column(0, 1, 3, 7), k), expected)


def test_an_equal_point_is_a_neighbour_at_distance_zero_but_a_point_is_not_its_own():
    np.testing.assert_array_equal(manifold_radii(column(0, 0, 5), k=1), [0, 0, 5])
    np.testing.assert_array_equal(manifold_radii(column(0, 0, 5), k=2), [5, 5, 5])


# --- known answers ----------------------------------------------------------------------------------------------


def test_a_hand_counted_one_dimensional_example():
    # k=1: real balls [-1, 1], [0, 2], [1, 5], [3, 11] make the real manifold [-1, 11];
    # fake radii 5, 5, 1, 1 make the fake manifold [1, 16] and [19, 22].
    real, fake = column(0, 1, 3, 7), column(6, 11, 20, 21)
    # fake inside [-1, 11]: 6 and 11 (on the edge of 7's ball) -> 2/4; real inside the fake one: 1 (on the edge), 3, 7
    assert precision_recall(real, fake, k=1) == (0.5, 0.75)
    # k=2: real radii 3, 2, 3, 6 make [-3, 13]; fake radii 14, 9, 9, 10 cover every real point
    assert precision_recall(real, fake, k=2) == (0.5, 1.0)


def test_a_point_just_past_the_edge_of_every_ball_is_outside():
    assert precision_recall(column(0, 1, 3, 7), column(6, 11.001, 20, 21), k=1)[0] == 0.25


def test_a_copy_of_the_real_set_scores_one_and_one():
    real = gaussian(200, 16, seed=0)
    shuffled = real[np.random.default_rng(1).permutation(len(real))]
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    assert precision_recall(real, shuffled) == (1.0, 1.0)


def test_one_repeated_real_point_is_all_precision_and_one_point_of_recall():
    real = gaussian(200, 8, seed=0)
    repeated = np.repeat(real[[17]], 50, axis=0)  # every fake ball has radius 0: the fake manifold is that point
    assert precision_recall(real, repeated) == (1.0, 1 / 200)
    real[3] = real[17]  # a second real point equal to it is covered too
    assert precision_recall(real, repeated) == (1.0, 2 / 200)


def test_points_far_from_the_real_ones_score_zero_and_zero():
    real, far = gaussian(300, 8, seed=0), gaussian(300, 8, seed=1, shift=1000.0)
    assert precision_recall(real, far) == (0.0, 0.0)


def test_swapping_the_sets_swaps_precision_and_recall():
    real = gaussian(150, 4, seed=0)
    fake = np.concatenate([gaussian(60, 4, seed=1, shift=0.5), gaussian(40, 4, seed=2, shift=3.0)])
    precision, recall = precision_recall(real, fake)
    assert 0 < precision < 1 and 0 < recall < 1 and precision != recall
    assert precision_recall(fake, real) == (recall, precision)


# --- computing --------------------------------------------------------------------------------------------------


def test_chunked_and_unchunked_agree():
    real = gaussian(257, 6, seed=0)
    fake = np.concatenate([gaussian(100, 6, seed=1, shift=0.3), gaussian(131, 6, seed=2, shift=2.0)])
    whole, whole_radii = precision_recall(real, fake, chunk_rows=10_000), manifold_radii(real, chunk_rows=10_000)
    assert 0 < whole[0] < 1 and 0 < whole[1] < 1
    for chunk_rows in (1, 7, 64, 256, 257):
        assert precision_recall(real, fake, chunk_rows=chunk_rows) == whole
        np.testing.assert_array_equal(manifold_radii(real, chunk_rows=chunk_rows), whole_radii)


def test_tensors_and_whole_numbers_are_accepted_and_give_the_same_answer():
    real = gaussian(100, 5, seed=0)
    fake = gaussian(80, 5, seed=1, shift=0.5)
    expected = precision_recall(real, fake)
    assert precision_recall(torch.from_numpy(real), torch.from_numpy(fake).requires_grad_()) == expected
    assert precision_recall(real, torch.from_numpy(fake)) == expected
    points = np.array([[0], [1], [3], [7]], dtype=np.int64)
    assert precision_recall(points, torch.tensor([[6], [11], [20], [21]]), k=1) == (0.5, 0.75)
    assert isinstance(manifold_radii(points, k=1), np.ndarray) and manifold_radii(points, k=1).dtype == np.float64


GOOD = gaussian(10, 3, seed=0)


@pytest.mark.parametrize(
    ("real", "fake", "k", "message"),
    [
        (GOOD[:, 0], GOOD, 3, r"real_features must be a 2-D array \(samples, features\).*got shape \(10,\).*Reshape"),
        (GOOD, GOOD[None], 3, r"fake_features must be a 2-D array.*got shape \(1, 10, 3\)"),
        (GOOD, GOOD[:, :0], 3, r"fake_features must be a 2-D array.*got shape \(10, 0\)"),
        (np.where(GOOD > 1, np.nan, GOOD), GOOD, 3, r"real_features .* holds NaN or infinite values. Remove or fix"),
        (GOOD, torch.tensor(GOOD).fill_(np.inf), 3, r"fake_features .* holds NaN or infinite values"),
        (GOOD > 0, GOOD, 3, r"real_features .*got an array of dtype bool. Pass real-valued features"),
        (GOOD, GOOD.astype(complex), 3, r"fake_features .*got an array of dtype complex128"),
        (GOOD, torch.zeros(10, 3, dtype=torch.complex64), 3, r"fake_features .*got a tensor of dtype torch.complex64"),
        (GOOD, GOOD[:, :2], 3, r"same width \(features per point\), got 3 and 2. Compute both with the same feature"),
        (GOOD[:3], GOOD, 3, r"real_features has 3 rows, but k=3 needs more than k.*Pass at least 4 rows, or a smaller"),
        (GOOD, GOOD[:5], 5, r"fake_features has 5 rows, but k=5 needs more than k"),
        (GOOD, GOOD, 0, r"k must be a positive int \(neighbours\), got 0"),
        (GOOD, GOOD, 2.0, r"k must be a positive int \(neighbours\), got 2.0"),
        (GOOD, GOOD, True, r"k must be a positive int \(neighbours\), got True"),
    ],
)
def test_bad_inputs_say_what_is_wrong_and_how_to_fix_it(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        precision_recall(real, fake, k)


def test_bad_inputs_to_the_radii_and_the_chunk_size_are_refused():
    with pytest.raises(ValueError, match=r"features has 3 rows, but k=3 needs more than k"):
        manifold_radii(GOOD[:3])
    with pytest.raises(ValueError, match=r"chunk_rows must be a positive int, got 0"):
        manifold_radii(GOOD, chunk_rows=0)
    with pytest.raises(ValueError, match=r"chunk_rows must be a positive int, got 0"):
        precision_recall(GOOD, GOOD, chunk_rows=0)


def test_a_list_is_not_an_array():
    with pytest.raises(TypeError, match=r"as a NumPy array or a torch tensor; got list. Convert it with np.asarray"):
        precision_recall(GOOD.tolist(), GOOD)


# --- in the course classifier's features -------------------------------------------------------------------------


def test_two_halves_of_the_real_test_dresses_score_high_on_both(test_dress_features):
    halves = {
        "first and last 500": (test_dress_features[:500], test_dress_features[500:]),
        "even and odd": (test_dress_features[::2], test_dress_features[1::2]),
    }
    for split, (real, fake) in halves.items():
        precision, recall = precision_recall(real, fake)
        print(f"{split}: precision {precision:.3f}, recall {recall:.3f}")  # seen: 0.882, 0.840 and 0.832, 0.880
        assert 0.75 < precision < 0.95 and 0.75 < recall < 0.95, split


@pytest.mark.slow
def test_the_numbers_the_module_quotes_are_what_it_measures(fashion, test_dress_features):
    first, last = test_dress_features[:500], test_dress_features[500:]
    quoted = {1: (0.59, 0.59), 3: (0.88, 0.84), 10: (0.97, 0.96), 30: (1.00, 0.99)}
    for k, (precision, recall) in quoted.items():
        assert precision_recall(first, last, k) == pytest.approx((precision, recall), abs=0.01), k
    classifier = quality.load_quality_classifier(CPU)
    noise = np.random.default_rng(0).integers(0, 256, (1000, 28, 28), dtype=np.uint8)
    noise_features = quality.classifier_features(noise, classifier)
    assert precision_recall(test_dress_features, noise_features) == pytest.approx((0.48, 0.0), abs=0.02)
    train_features = quality.classifier_features(fashion.dresses("train"), classifier)
    assert precision_recall(train_features, noise_features) == pytest.approx((0.002, 0.0), abs=0.005)
    # one test dress's ball holds about half of the noise: without it, noise falls outside the test dresses
    radii = manifold_radii(test_dress_features)
    distances = np.linalg.norm(noise_features[:, None] - test_dress_features[None], axis=2)
    inside = distances <= radii
    assert inside.sum(axis=0).max() > 400 and inside[:, inside.sum(axis=0) <= 400].any(axis=1).mean() < 0.05


def test_radii_computed_once_give_the_same_answer_and_the_wrong_ones_are_refused():
    generator = np.random.default_rng(7)
    real, fake = generator.normal(size=(300, 5)), generator.normal(0.3, 1.2, size=(200, 5))
    radii = manifold_radii(real)
    assert precision_recall(real, fake, real_radii=radii) == precision_recall(real, fake)
    assert precision_recall(real, fake, real_radii=radii * 0) != precision_recall(real, fake)  # the radii are used
    with pytest.raises(ValueError, match="one radius per real point"):
        precision_recall(real, fake, real_radii=radii[:-1])
