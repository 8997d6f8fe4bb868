import numpy as np
import pandas as pd
import pytest
import torch

from course import exercises
from course.data import CLASS_NAMES, DRESS, colour_picture, load_housing
from course.models import SmallCNN, freeze, mlp
from course.transfer import transfer_model


@pytest.fixture(scope="module")
def housing():
    return load_housing()


def verdict(capsys) -> str:
    return capsys.readouterr().out


def test_unanswered_is_not_called_wrong(capsys, housing):
    exercises.check_log_log(None, None, housing)
    assert verdict(capsys).startswith("Not answered yet")


def test_log_log_accepts_the_fit_and_rejects_the_price_slope(capsys, housing):
    x, y = np.log(housing["lotsize"]), np.log(housing["price"])
    slope, intercept = np.polyfit(x, y, 1)
    exercises.check_log_log(slope, intercept, housing)
    assert verdict(capsys).count("Correct!") == 2
    price_slope, _ = np.polyfit(x, housing["price"], 1)
    exercises.check_log_log(price_slope, intercept, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "take the log of price too" in out


def test_bedroom_price_is_checked_against_the_joint_fit(capsys, housing):
    design = np.column_stack([np.ones(len(housing)), np.log(housing["lotsize"]), housing["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, housing["price"].to_numpy(float), rcond=None)
    exercises.check_bedroom_price(weights[2], housing)
    assert verdict(capsys).startswith("Correct!")
    alone = np.polyfit(housing["bedrooms"], housing["price"], 1)[0]  # bedrooms without the lot
    exercises.check_bedroom_price(alone, housing)
    assert verdict(capsys).startswith("Not yet")
    exercises.check_bedroom_price("ten thousand", housing)
    assert "should be a number" in verdict(capsys)


@pytest.mark.parametrize(
    "rate, threshold, expected",
    [(1.1, 1.0, "Correct!"), (0.5, 1.0, "does not blow up"), (1.5, 2.0, "threshold"), (-0.2, 1.0, "goes uphill")],
)
def test_diverging_learning_rate(capsys, rate, threshold, expected):
    exercises.check_diverging_learning_rate(rate, threshold)
    assert expected in verdict(capsys)


def test_dress_count_hints_at_the_wrong_split(capsys):
    class Fake:
        def dresses(self, split):
            return np.zeros((6000 if split == "train" else 1000, 28, 28))

    exercises.check_dress_count(6000, Fake())
    assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_count(1000, Fake())
    assert "test split" in verdict(capsys)


# Notebooks 02-04: every check says "Not answered yet" to None, "Correct!" to the answer, and
# "Not yet" (with the matching hint) to the typical mistakes. Inputs are small and built by hand.


def dress_confusion() -> np.ndarray:
    """A 10x10 matrix whose Dress row is most off at Shirt (20) and Dress column most off at T-shirt/top (30)."""
    matrix = np.eye(len(CLASS_NAMES), dtype=int) * 50
    matrix[DRESS, CLASS_NAMES.index("Shirt")] = 20
    matrix[DRESS, CLASS_NAMES.index("Coat")] = 10
    matrix[CLASS_NAMES.index("T-shirt/top"), DRESS] = 30
    return matrix


def paired_results() -> pd.DataFrame:
    """Three draws per method at 10 and 200 labels per class, chosen so that every typical slip gives its own number.

    At 10: transfer minus scratch is 0.21, 0.05 and 0.06 draw by draw (smallest 0.05, mean 0.1067, largest 0.21;
    worst transfer run against best scratch run: 0.03). From 10 to 200, scratch gains the most (0.387), transfer the
    least (0.31), and the semi-supervised GAN is the most accurate at 200.
    """
    accuracy = {
        ("scratch", 10): (0.40, 0.45, 0.42), ("transfer", 10): (0.61, 0.50, 0.48), ("semi-supervised GAN", 10): (0.55, 0.50, 0.52),
        ("scratch", 200): (0.80, 0.82, 0.81), ("transfer", 200): (0.83, 0.84, 0.85), ("semi-supervised GAN", 200): (0.86, 0.88, 0.87),
    }  # fmt: skip
    rows = [
        {"method": method, "labels_per_class": budget, "seed": seed, "test_accuracy": value}
        for (method, budget), values in accuracy.items()
        for seed, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["method", "labels_per_class", "seed", "test_accuracy"])


def frozen_except_output() -> SmallCNN:
    model = transfer_model(SmallCNN(num_classes=5), 5)
    freeze(model.classifier[:-1])
    return model


@pytest.mark.parametrize(
    "call",
    [
        lambda: exercises.check_parameter_count(None, mlp(1, (8, 8), 1)),
        lambda: exercises.check_channels_first(None, colour_picture()),
        lambda: exercises.check_dress_confusion(None, dress_confusion(), CLASS_NAMES),
        lambda: exercises.check_conv_output_size(None, None),
        lambda: exercises.check_conv_output_size(24, None),
        lambda: exercises.check_horizontal_edge_kernel(None),
        lambda: exercises.check_class_recall(None, dress_confusion(), CLASS_NAMES),
        lambda: exercises.check_trainable_count(None, transfer_model(SmallCNN(num_classes=5), 5)),
        lambda: exercises.check_only_output_trainable(None),
        lambda: exercises.check_smallest_paired_difference(None, paired_results(), 10, "transfer", "scratch"),
    ],
    ids=["parameters", "channels", "confusion", "conv", "conv-padding", "kernel", "recall", "trainable", "output", "paired"],
)
def test_new_checks_call_none_not_answered(capsys, call):
    assert call() is None
    out = verdict(capsys)
    assert out.startswith("Not answered yet") and "Correct!" not in out and "Not yet" not in out


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


@pytest.mark.parametrize(
    "size, padding, expected",
    [
        (24, 2, ["Correct! the output size without padding: 24", "Correct! the padding that keeps 28x28: 2"]),
        (23, 2, ["Not yet: the output size without padding: 23 is too small", "the first and the last included"]),
        (28, 2, ["Not yet: the output size without padding: 28 is too large"]),
        (24, 1, ["Correct! the output size", "Not yet: the padding that keeps 28x28: 1 is too small"]),
        (24, 4, ["Correct! the output size", "Not yet: the padding that keeps 28x28: 4 is too large", "on *each* side"]),
        ("24", 2, ["Not yet: the output size without padding should be a number, got str"]),
    ],
)
def test_conv_output_size(capsys, size, padding, expected):
    exercises.check_conv_output_size(size, padding)
    out = verdict(capsys)
    assert all(part in out for part in expected)
    assert ("Not yet" in out) == any(part.startswith("Not yet") for part in expected)
    assert ("Hint" in out) == (size == 23 or padding == 4)


@pytest.mark.parametrize(
    "kernel, expected",
    [
        ([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], "Correct! it lights up on horizontal edges"),
        (np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]), "Correct! it lights up on horizontal edges"),
        (torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]), "Correct!"),  # light above also counts
        ([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], "Not yet: the kernel answers to an even, edgeless image"),
        ([[1.0, 1.0, 1.0]] * 3, "its numbers should add up to zero"),
        ([[-1.0, 0.0, 1.0]] * 3, "Not yet: the kernel gives nothing on a horizontal edge"),  # a vertical-edge kernel
        ([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]], "Not yet: the kernel also answers to vertical edges"),
        ([[-1.0, -1.0], [1.0, 1.0]], "Not yet: the kernel should be 3x3, got shape (2, 2)"),
    ],
    ids=["sobel", "numpy", "sign", "identity", "ones", "vertical", "diagonal", "2x2"],
)
def test_horizontal_edge_kernel(capsys, kernel, expected):
    exercises.check_horizontal_edge_kernel(kernel)
    out = verdict(capsys)
    assert expected in out and out.count("\n") == 1


def test_class_recall_divides_by_the_row(capsys):
    matrix = dress_confusion()
    matrix[CLASS_NAMES.index("Bag"), DRESS] = 5  # the Dress column now sums to 85, the Dress row to 80
    recall, precision = 50 / 80, 50 / 85
    assert matrix[DRESS, DRESS] / matrix[DRESS].sum() == recall
    assert matrix[DRESS, DRESS] / matrix[:, DRESS].sum() == precision
    exercises.check_class_recall(recall, matrix, CLASS_NAMES)
    assert verdict(capsys).startswith("Correct! the recall of Dress: 0.625")
    exercises.check_class_recall(np.float64(recall) * (1 + 5e-4), matrix, CLASS_NAMES)  # within the tolerance
    assert verdict(capsys).startswith("Correct!")
    exercises.check_class_recall(precision, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "divide by the row" in out
    exercises.check_class_recall(100 * recall, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "not a count or a percentage" in out
    exercises.check_class_recall(0.5, matrix, CLASS_NAMES)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Hint" not in out


def test_class_recall_of_another_class(capsys):
    matrix = dress_confusion()
    shirt = CLASS_NAMES.index("Shirt")
    exercises.check_class_recall(1.0, matrix, CLASS_NAMES, class_name="Shirt")  # every true shirt called a shirt
    assert verdict(capsys).startswith("Correct! the recall of Shirt")
    exercises.check_class_recall(matrix[shirt, shirt] / matrix[:, shirt].sum(), matrix, CLASS_NAMES, class_name="Shirt")
    out = verdict(capsys)
    assert out.startswith("Not yet") and "divide by the row" in out


def test_trainable_count_leaves_out_frozen_parameters(capsys):
    model = transfer_model(SmallCNN(num_classes=5), 5)
    trainable = (32 * 7 * 7 * 64 + 64) + (64 * 5 + 5)  # the classifier; the convolutions are frozen
    total = trainable + (1 * 16 * 5 * 5 + 16) + (16 * 32 * 3 * 3 + 32)
    assert total == sum(p.numel() for p in model.parameters())
    exercises.check_trainable_count(trainable, model)
    assert verdict(capsys).startswith("Correct! the number of trainable parameters: 100,741")
    exercises.check_trainable_count(total, model)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "requires_grad == False" in out
    exercises.check_trainable_count(64 * 5 + 5, model)  # the output layer alone
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "Hint" not in out


def test_only_output_trainable(capsys):
    exercises.check_only_output_trainable(frozen_except_output())
    assert verdict(capsys).startswith("Correct! only the output layer's 325 parameters are trained")
    exercises.check_only_output_trainable(transfer_model(SmallCNN(num_classes=5), 5))  # hidden layer still trained
    out = verdict(capsys)
    assert out.startswith("Not yet") and "classifier.1.weight, classifier.1.bias" in out and "features" not in out
    exercises.check_only_output_trainable(SmallCNN(num_classes=5))  # nothing frozen at all
    out = verdict(capsys)
    assert out.startswith("Not yet") and "features.0.weight" in out and "classifier.3" not in out
    everything_frozen = SmallCNN(num_classes=5)
    freeze(everything_frozen)
    exercises.check_only_output_trainable(everything_frozen)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the output layer is frozen too" in out


def test_smallest_paired_difference_pairs_the_draws(capsys):
    results = paired_results()
    check = lambda answer: exercises.check_smallest_paired_difference(answer, results, 10, "transfer", "scratch")  # noqa: E731
    for right in (0.05, 0.050, np.float64(0.05), np.array([0.05]), torch.tensor(0.05), pd.Series([0.05])):
        check(right)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "ahead of scratch in 3 of the 3 draw(s)" in out, right
    for wrong, hint in ((0.107, "difference of the means"), (0.21, "largest of the per-draw"), (-0.05, "not the other way round"),
                        (0.03, "worst transfer run against the best scratch run"), (5.0, "percentage points")):  # fmt: skip
        check(wrong)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (wrong, out)
    check(0.5)
    out = verdict(capsys)
    assert "too large" in out and "Hint" not in out


def test_smallest_paired_difference_with_one_draw_is_that_draw(capsys):
    results = paired_results()
    one_draw = results[results["seed"] == 1]  # the smoke scale has one draw: every slip but the sign gives the same number
    exercises.check_smallest_paired_difference(0.05, one_draw, 10, "transfer", "scratch")
    assert "ahead of scratch in 1 of the 1 draw(s)" in verdict(capsys)
    exercises.check_smallest_paired_difference(-0.05, one_draw, 10, "transfer", "scratch")
    assert "not the other way round" in verdict(capsys)
    exercises.check_smallest_paired_difference(0.04, one_draw, 10, "transfer", "scratch")
    assert verdict(capsys).startswith("Not yet")


def test_ties_torch_scalars_and_malformed_kernels_get_fair_verdicts(capsys):
    matrix = np.zeros((10, 10), dtype=int)
    matrix[DRESS, DRESS] = 50
    matrix[DRESS, CLASS_NAMES.index("Coat")] = matrix[DRESS, CLASS_NAMES.index("Shirt")] = 20
    for tied in ("Coat", "Shirt"):
        exercises.check_dress_confusion(tied, matrix, CLASS_NAMES)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_conv_output_size(torch.tensor(24), np.int64(2))
    assert verdict(capsys).count("Correct!") == 2
    for malformed in ("abc", [[1, 2, 3], [1, 2]]):
        exercises.check_horizontal_edge_kernel(malformed)
        assert "3x3 grid of numbers" in verdict(capsys)


# Notebook 05: the GAN game. The densities and samples are small and built by hand.


def normal(mean: float, std: float = 1.0):
    return lambda x: np.exp(-0.5 * ((np.asarray(x, dtype=float) - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def ring_centres(modes: int = 8) -> np.ndarray:
    angles = np.arange(modes) * 2 * np.pi / modes
    return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def samples_on_modes(counts: list[int], std: float = 0.05) -> np.ndarray:
    """counts[k] samples within 1 standard deviation of ring mode k."""
    centres = ring_centres()
    rng = np.random.default_rng(0)
    return np.concatenate([centres[k] + rng.uniform(-0.7, 0.7, size=(count, 2)) * std for k, count in enumerate(counts)])


@pytest.mark.parametrize(
    "call",
    [
        lambda: exercises.check_equilibrium(None, None),
        lambda: exercises.check_equilibrium(0.5, None),
        lambda: exercises.check_generator_gradients(None, -0.99),
        lambda: exercises.check_optimal_discriminator(None, None, normal(1.5), normal(0.0)),
        lambda: exercises.check_modes_covered(None, samples_on_modes([10]), ring_centres(), 0.05, 0.02),
    ],
    ids=["equilibrium", "equilibrium-loss", "gradients", "optimal", "modes"],
)
def test_gan_checks_call_none_not_answered(capsys, call):
    assert call() is None
    out = verdict(capsys)
    assert out.startswith("Not answered yet") and "Correct!" not in out and "Not yet" not in out


def test_equilibrium_is_one_half_and_log_four(capsys):
    exercises.check_equilibrium(0.5, -np.log(0.5) - np.log(1 - 0.5))
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "0.5" in out and "1.386" in out
    exercises.check_equilibrium(torch.tensor(0.5), torch.log(torch.tensor(4.0)))
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_equilibrium(1.0, 0.0)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "equally likely" in out and "loss" not in out
    for loss, hint in [(np.log(2), "one half of it"), (-np.log(4), "positive"), (2 * np.log10(2), "natural logarithm")]:
        exercises.check_equilibrium(0.5, loss)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "Not yet: the discriminator's loss" in out and hint in out
    exercises.check_equilibrium(0.5, 1.0)
    out = verdict(capsys)
    assert "too small" in out and "Hint" not in out


def test_generator_gradients_are_taken_with_respect_to_the_logit(capsys):
    logit = torch.logit(torch.tensor(0.01)).requires_grad_()
    (minimax,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(logit)), logit)
    (non_saturating,) = torch.autograd.grad(-torch.log(torch.sigmoid(logit)), logit)
    exercises.check_generator_gradients(minimax, non_saturating)
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "99 times harder" in out
    exercises.check_generator_gradients(0.01, 0.99)  # the sizes without the sign
    out = verdict(capsys)
    assert out.startswith("Not yet") and "gradient is negative" in out and out.count("Not yet") == 1
    exercises.check_generator_gradients(-1 / 0.99, -1 / 0.01)  # with respect to D(G(z)) instead of the logit
    out = verdict(capsys)
    assert out.startswith("Not yet") and "with respect to D(G(z)) itself" in out
    exercises.check_generator_gradients(-0.99, -0.01)  # swapped
    out = verdict(capsys)
    assert out.startswith("Not yet: the minimax loss's gradient: -0.99 is too small") and "Hint" not in out
    exercises.check_generator_gradients(-0.01, -1 / 0.01)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet: the non-saturating" in out and "with respect to D(G(z))" in out
    exercises.check_generator_gradients(-0.5, -0.5, fake_score=0.5)
    assert verdict(capsys).count("Correct!") == 2


def test_optimal_discriminator_at_one_and_where_it_is_one_half(capsys):
    real, fake = normal(1.5), normal(0.0)  # equal densities at x = 0.75
    p, q = real(1.0), fake(1.0)
    exercises.check_optimal_discriminator(p / (p + q), 0.75, real, fake)
    out = verdict(capsys)
    assert out.count("Correct!") == 2 and "D*(0.75) = 0.500" in out
    exercises.check_optimal_discriminator(np.float64(p / (p + q)), torch.tensor(0.76), real, fake)  # close enough
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_optimal_discriminator(q / (p + q), 0.75, real, fake)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the fakes' share" in out and "D*(0.75)" not in out
    exercises.check_optimal_discriminator(p / q, 0.75, real, fake)
    assert "not by the fakes' density alone" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), 3.0, real, fake)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet: D*(3)" in out and "real samples are denser" in out
    exercises.check_optimal_discriminator(p / (p + q), -1.0, real, fake)
    assert "fakes are denser" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), 100.0, real, fake)
    assert "neither real nor fake samples" in verdict(capsys)
    exercises.check_optimal_discriminator(p / (p + q), "0.75", real, fake)
    assert "should be a number, got str" in verdict(capsys)


def test_modes_covered_counts_modes_with_enough_samples(capsys):
    samples = samples_on_modes([60, 30, 10])  # shares 0.6, 0.3 and 0.1 on modes 0, 1 and 2
    exercises.check_modes_covered(3, samples, ring_centres(), 0.05, min_share=1 / 16)
    assert verdict(capsys).startswith("Correct! the number of modes covered at a share of 0.0625: 3")
    exercises.check_modes_covered(np.int64(2), torch.tensor(samples), torch.tensor(ring_centres()), 0.05, min_share=0.2)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(3, samples, ring_centres(), 0.05, min_share=0.2)  # the count under the 2% rule
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too large" in out and "the 2% rule" in out
    exercises.check_modes_covered(8, samples, ring_centres(), 0.05, min_share=1 / 16)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "every mode of the data" in out
    exercises.check_modes_covered(1, samples, ring_centres(), 0.05, min_share=1 / 16)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "too small" in out and "Hint" not in out
    far_away = samples + 0.5  # every sample 0.7 away from its centre: more than 3 standard deviations
    exercises.check_modes_covered(0, far_away, ring_centres(), 0.05, min_share=1 / 16)  # as after a very short run
    out = verdict(capsys)
    assert out.startswith("Correct!") and "cannot tell them apart" in out
    exercises.check_modes_covered(2, samples, ring_centres(), 0.05, min_share=0.2)  # 2 by this rule, 3 by the 2% rule
    out = verdict(capsys)
    assert out.startswith("Correct!") and "cannot tell" not in out


def test_modes_covered_works_on_the_line(capsys):
    samples = np.concatenate([np.full(30, -2.1), np.full(70, 2.2)]).reshape(-1, 1)
    exercises.check_modes_covered(2, samples, np.array([[-2.0], [2.0]]), 0.5, min_share=0.02)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(1, samples.ravel(), np.array([-2.0, 2.0]), 0.5, min_share=0.5)  # flat arrays too
    assert verdict(capsys).startswith("Correct!")


def test_notebook_06_checks(capsys, fashion):
    exercises.check_transposed_conv_size(None, 56)
    assert verdict(capsys).startswith("Not answered yet")
    exercises.check_transposed_conv_size(14, 56)
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_transposed_conv_size(16, 56)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "mind the 2p" in out

    dresses = fashion.dresses("test")[:50]
    exercises.check_nearest_distance(np.linalg.norm(dresses[1:].reshape(49, -1) / 255 - dresses[0].reshape(1, -1) / 255, axis=1).min(), dresses[0], dresses[1:])
    assert verdict(capsys).startswith("Correct!")
    exact = np.linalg.norm(dresses[1:].reshape(49, -1) / 255 - dresses[0].reshape(1, -1) / 255, axis=1).min()
    exercises.check_nearest_distance(exact * 255, dresses[0], dresses[1:])
    assert "divide the pixels by 255" in verdict(capsys)
    exercises.check_nearest_distance(exact**2, dresses[0], dresses[1:])
    assert "squared distance" in verdict(capsys)

    from course.quality import dressness

    share = dressness(dresses)
    exercises.check_dress_share(share, dresses)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_share(share * 100, dresses)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "not a count or a percentage" in out
    assert "test your code for real" not in out
    blank = np.zeros((8, 28, 28), np.uint8)  # no dresses at all, like samples after a few steps
    exercises.check_dress_share(0.0, blank)
    out = verdict(capsys)
    assert "none of these 8 samples" in out and "laptop scale" in out and out.splitlines()[-1].startswith("Correct!")
    exercises.check_dress_share(0.5, blank)
    assert verdict(capsys).splitlines()[-1].startswith("Not yet")


def test_notebook_07_checks(capsys):
    exercises.check_gradient_penalty(None)
    assert verdict(capsys).startswith("Not answered yet")
    exercises.check_gradient_penalty(10 * (2.8 - 1) ** 2)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_gradient_penalty((2.8 - 1) ** 2)
    assert "multiplied by its weight" in verdict(capsys)
    exercises.check_gradient_penalty(10 * (78.4 - 1) ** 2)
    assert "square root" in verdict(capsys)

    stages = pd.DataFrame({"distance_over_floor": [80.0, 40.0, 20.0, 25.0]}, index=[100, 200, 300, 400])
    exercises.check_improvement_factor(3.2, stages)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_improvement_factor(0.3125, stages)
    assert "first divided by last" in verdict(capsys)

    signal, distance = [3.0, 2.0, 1.5, 1.0, 0.2], [40.0, 10.0, 12.0, 5.0, 4.0]
    exercises.check_rank_correlation(0.9, signal, distance)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_rank_correlation(np.corrcoef(signal, distance)[0, 1], signal, distance)
    assert "ranks" in verdict(capsys)


def test_notebook_08_checks(capsys):
    import math

    exercises.check_real_image_loss(math.log(6 / 5))
    assert verdict(capsys).startswith("Correct!")
    exercises.check_real_image_loss(math.log(6))
    assert "loss of a fake" in verdict(capsys)
    exercises.check_real_image_loss(None)
    assert verdict(capsys).startswith("Not answered yet")

    exercises.check_smallest_paired_difference(0.05, paired_results(), 10, "transfer", "scratch")
    assert verdict(capsys).startswith("Correct!")
    exercises.check_largest_gain("scratch", paired_results(), 10, 200)
    assert verdict(capsys).startswith("Correct!")


def test_notebook_09_checks(capsys):
    asked = np.array([0, 0, 1, 1, 2, 2])
    judged = np.array([0, 1, 1, 1, 0, 0])
    exercises.check_class_precision([1 / 3, 2 / 3, np.nan], asked, judged, num_classes=3)  # class 2 never judged
    assert verdict(capsys).startswith("Correct!")
    exercises.check_class_precision([0.5, 1.0, 0.0], asked, judged, num_classes=3)
    assert "never chose class 2" in verdict(capsys)
    exercises.check_class_precision([0.5, 1.0], asked, judged, num_classes=3)
    assert "3 numbers" in verdict(capsys)
    exercises.check_class_precision(None, asked, judged, num_classes=3)
    assert verdict(capsys).startswith("Not answered yet")

    noise, direction = np.zeros(3), np.array([3.0, 4.0, 0.0])
    exercises.check_noise_step(np.array([0.6, 0.8, 0.0]) * 2, noise, direction, 2.0)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_noise_step(direction * 2, noise, direction, 2.0)
    assert "length first" in verdict(capsys)
    exercises.check_noise_step("far", noise, direction, 2.0)
    assert "one vector of 3" in verdict(capsys)

    exercises.check_crop_box((16, 0, 48, 32), 640, 320, 32)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_crop_box((0, 0, 32, 32), 640, 320, 32)
    assert "64x32" in verdict(capsys)
    exercises.check_crop_box((16, 0), 640, 320, 32)
    assert "four whole numbers" in verdict(capsys)


def test_unlabelled_loss_check_accepts_right_answers_and_names_the_usual_mistakes(capsys):
    from course.semi_supervised import unlabelled_loss

    def with_log_softmax(real_logits, fake_logits):
        log_p_real, log_p_fake = torch.log_softmax(real_logits, dim=1), torch.log_softmax(fake_logits, dim=1)
        return -torch.logsumexp(log_p_real[:, :-1], dim=1).mean() - log_p_fake[:, -1].mean()

    def fake_term(fake_logits):
        return -torch.log_softmax(fake_logits, dim=1)[:, -1]

    for right in (unlabelled_loss, with_log_softmax, lambda real, fake: unlabelled_loss(real, fake).item()):
        exercises.check_unlabelled_loss(right)
        assert verdict(capsys).startswith("Correct!")

    mistakes = {
        "check the signs": lambda real, fake: -unlabelled_loss(real, fake),
        "fake included": lambda real, fake: -torch.log(torch.softmax(real[:, :-1], dim=1).sum(dim=1)).mean() + fake_term(fake).mean(),
        "take the mean over each batch": lambda real, fake: -torch.log_softmax(real, dim=1)[:, :-1].logsumexp(dim=1).sum() + fake_term(fake).sum(),
        "not -log p(fake)": lambda real, fake: fake_term(real).mean() + fake_term(fake).mean(),
        "roles are swapped": lambda real, fake: unlabelled_loss(fake, real),
        "is missing": lambda real, fake: fake_term(fake).mean(),
        "subtract the second": lambda real, fake: -torch.logsumexp(real[:, :-1], dim=1).mean() + fake_term(fake).mean(),
    }
    for hint, wrong in mistakes.items():
        exercises.check_unlabelled_loss(wrong)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (hint, out)

    def with_probabilities(real_logits, fake_logits):  # right in theory, but log(0) on extreme scores
        p_real, p_fake = torch.softmax(real_logits, dim=1), torch.softmax(fake_logits, dim=1)
        return -torch.log(1 - p_real[:, -1]).mean() - torch.log(p_fake[:, -1]).mean()

    exercises.check_unlabelled_loss(with_probabilities)
    out = verdict(capsys)
    assert out.startswith("Not yet: right on ordinary scores") and "logsumexp" in out

    def raises(real_logits, fake_logits):
        raise RuntimeError("shapes do not match\nmore detail")

    bad_inputs = {
        None: "Not answered yet",
        (lambda real, fake: None): "Not answered yet: your function returns None",
        "a string": "should be a function",
        raises: "raised RuntimeError: shapes do not match.",
        (lambda real: real): "raised TypeError",
        (lambda real, fake: fake_term(fake)): "take the mean over each batch",
        (lambda real, fake: "low"): "got str",
        (lambda real, fake: float("nan")): "your loss is nan",
    }
    for answer, message in bad_inputs.items():
        exercises.check_unlabelled_loss(answer)
        out = verdict(capsys)
        assert message in out and out.count("\n") == 1, (message, out)


# Exercise 6.4: the discriminator's move, written by the learner


def _discriminator_move(smoothing=0.1, detach=True, zero_grad=True, step=True, by_hand=False):
    """A discriminator move with one of the usual slips (or none)."""
    import torch

    from course import gan

    def move(discriminator, d_optimizer, real, fake):
        real_scores, fake_scores = discriminator(real), discriminator(fake.detach() if detach else fake)
        if by_hand:
            real_p, fake_p = torch.sigmoid(real_scores), torch.sigmoid(fake_scores)
            loss = -(0.9 * torch.log(real_p) + 0.1 * torch.log(1 - real_p)).mean() - torch.log(1 - fake_p).mean()
        else:
            loss = gan.discriminator_loss("dcgan", real_scores, fake_scores, smoothing)
        if zero_grad:
            d_optimizer.zero_grad()
        if step:
            loss.backward()
            d_optimizer.step()
        return loss

    return move


@pytest.mark.parametrize(
    "move, expected",
    [
        (_discriminator_move(), "Correct!"),
        (_discriminator_move(by_hand=True), "Correct!"),
        (_discriminator_move(smoothing=0.0), "target is 0.9, not 1"),
        (_discriminator_move(detach=False), "fake.detach()"),
        (_discriminator_move(zero_grad=False), "zero_grad"),
        (_discriminator_move(step=False), "did not move"),
        (lambda *args: None, "returns None"),
        (lambda *args: 1 / 0, "raised ZeroDivisionError"),
        (lambda *args: "loss", "got str"),
        (3, "should be a function"),
        (None, "Not answered yet"),
    ],
)
def test_the_discriminator_move_check_accepts_right_moves_and_names_each_slip(move, expected, capsys):
    exercises.check_discriminator_move(move)
    out = capsys.readouterr().out
    assert expected in out, out
    assert ("Correct!" in out) == (expected == "Correct!")


def _penalty(critic, real, fake, mix, weight=10.0, lengths=lambda gradient: gradient.flatten(1).norm(dim=1), term=lambda length: (length - 1) ** 2,
             create_graph=True, reduce=torch.mean):  # fmt: skip
    # A gradient penalty with one piece swapped for a learner's usual mistake.
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=create_graph)
    return weight * reduce(term(lengths(gradient)))


@pytest.mark.parametrize(
    "function, expected",
    [
        (lambda *args: _penalty(*args), "Correct!"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.pow(2).sum(dim=(1, 2, 3)).sqrt()), "Correct!"),
        (lambda *args: _penalty(*args, create_graph=False), "create_graph=True"),
        (lambda *args: _penalty(*args).item(), "create_graph=True"),
        (lambda *args: _penalty(*args, weight=1.0), "without its weight"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.flatten(1).pow(2).sum(dim=1)), "squared length"),
        (lambda *args: _penalty(*args, term=lambda length: (length + 1) ** 2), "check the sign"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm()), "whole batch"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=0)), "across the batch"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=1)), "per pixel"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.norm(dim=(2, 3))), "per channel"),
        (lambda *args: _penalty(*args, reduce=torch.sum), "sums over the batch"),
        (lambda *args: _penalty(*args, term=lambda length: (length.clamp(min=1) - 1) ** 2), "one-sided"),
        (lambda critic, real, fake, mix: _penalty(critic, fake, real, mix), "mix goes with the real images"),
        (lambda critic, real, fake, mix: _penalty(critic, real, fake, mix, reduce=lambda terms: terms), "one per image"),
    ],
)
def test_penalty_function_accepts_the_penalty_and_names_each_mistake(capsys, function, expected):
    exercises.check_penalty_function(function)
    out = verdict(capsys)
    assert expected in out, out
    assert ("Correct!" in out) == (expected == "Correct!")


def test_penalty_function_accepts_the_course_penalty_and_answers_bad_input_in_one_line(capsys):
    from course import gan

    exercises.check_penalty_function(gan.gradient_penalty)
    assert verdict(capsys).startswith("Correct!")
    before = torch.random.get_rng_state()
    for answer, expected in [
        (None, "Not answered yet"),
        (3, "should be a function"),
        (lambda *args: None, "returns None"),
        (lambda *args: 1 / 0, "raised ZeroDivisionError"),
        (lambda critic, real: real, "raised TypeError"),
        (lambda *args: "ten", "got str"),
        (lambda *args: float("nan"), "your penalty is nan"),
        (lambda critic, real, fake, mix: real, "shape (8, 3, 6, 6)"),
    ]:
        exercises.check_penalty_function(answer)
        out = verdict(capsys)
        assert expected in out and "Traceback" not in out and out.count("\n") <= 2, out
    assert torch.equal(torch.random.get_rng_state(), before), "the check leaves the learner's random numbers alone"


# The tolerance rule, the answers of every form, the hints that name each mistake, and input of any kind.


def one_line(capsys) -> str:
    out = verdict(capsys)
    assert "Traceback" not in out and out.count("\n") == 1, out
    return out


def test_the_tolerance_rule_reads_the_digits_given():
    assert exercises._half_unit(0.94) == pytest.approx(0.005)
    assert exercises._half_unit(0.25) == pytest.approx(0.005)
    assert exercises._half_unit(1.5e-05) == pytest.approx(5e-07)
    assert exercises._half_unit(torch.tensor(0.94)) == pytest.approx(0.005)  # float32 reads as typed
    assert exercises._half_unit(np.int64(24)) == 0.5
    assert exercises._matches(0.94, 0.005, 0.937, rel_tol=1e-3, abs_tol=0.0)
    assert not exercises._matches(0.94, 0.005, 0.937, rel_tol=1e-3, abs_tol=0.0, others=[0.941])  # nearer a wrong answer
    assert not exercises._matches(0.3, 0.05, 0.2526, rel_tol=1e-3, abs_tol=0.0)  # one significant digit is too few
    assert not exercises._matches(float("nan"), 0.0, 0.5, rel_tol=1e-3, abs_tol=0.0)
    for printed in (0.25, 0.253, 0.2526):  # D* at 1 in notebook 05 is 0.2526; its typical wrong answers 0.7474 and 0.3381
        assert exercises._matches(printed, exercises._half_unit(printed), 0.25258, rel_tol=1e-3, abs_tol=1e-4, others=[0.74742, 0.33812])
    assert not exercises._matches(0.26, exercises._half_unit(0.26), 0.25258, rel_tol=1e-3, abs_tol=1e-4)


@pytest.mark.parametrize(
    "rate, threshold, expected, hint",
    [
        (1.1, 1, "Correct! at 1.1 each step multiplies the error by 1.20", None),
        (1.1, 10**400, "the threshold inf is off", None),
        (np.float64(1.5), torch.tensor([1.0]), "Correct!", None),
        (1.1, 546 / 545, "Correct!", None),
        (1.001, 1.0, "does not blow up", "546/545"),  # above 1 but below where blowing up starts
        (1, 1, "does not blow up", "546/545"),
        (-0.2, 1.0, "goes uphill", "a learning rate is positive"),
        (1.1, 0.5, "the threshold 0.5 is off", "lands right on the minimum"),
        (1.1, np.float32(0.5), "the threshold 0.5 is off", "lands right on the minimum"),
        (1.1, 2, "the threshold 2 is off", "about 2, not 1"),
        (1.1, 1.1, "the threshold 1.1 is off", None),
    ],
)
def test_diverging_learning_rate_starts_above_546_545(capsys, rate, threshold, expected, hint):
    exercises.check_diverging_learning_rate(rate, threshold)
    out = verdict(capsys)
    assert expected in out and ("Correct!" in out) == expected.startswith("Correct!"), out
    assert (hint is None and "Hint" not in out) or (hint is not None and hint in out), out


def test_log_log_and_bedroom_take_rounded_and_one_element_answers(capsys, housing):
    slope, intercept = np.polyfit(np.log(housing["lotsize"]), np.log(housing["price"]), 1)
    for right in ((round(slope, 3), round(intercept, 2)), (np.array([slope]), torch.tensor(intercept))):
        exercises.check_log_log(*right, housing)
        assert verdict(capsys).count("Correct!") == 2
    exercises.check_log_log(-slope, intercept, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet: the slope") and "Hint" not in out
    design = np.column_stack([np.ones(len(housing)), np.log(housing["lotsize"]), housing["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, housing["price"].to_numpy(float), rcond=None)
    for right in (round(weights[2]), np.array([weights[2]]), torch.tensor([weights[2]])):
        exercises.check_bedroom_price(right, housing)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_bedroom_price(2 * weights[2], housing)
    assert "fit both inputs together" in verdict(capsys)


def test_dress_count_takes_any_number_form(capsys):
    class Fake:
        def dresses(self, split):
            return np.zeros((6000 if split == "train" else 1000, 28, 28))

    for right in (6000, np.int64(6000), torch.tensor([6000]), 6000.0):
        exercises.check_dress_count(right, Fake())
        assert verdict(capsys).startswith("Correct!")
    exercises.check_dress_count(np.array([1000]), Fake())
    assert "test split" in verdict(capsys)
    exercises.check_dress_count(7000, Fake())
    out = verdict(capsys)
    assert "too large" in out and "Hint" not in out


def test_parameter_and_trainable_counts_take_one_element_answers(capsys):
    net = mlp(1, (8, 8), 1)
    for right in (np.int64(97), torch.tensor([97]), np.array(97.0)):
        exercises.check_parameter_count(right, net)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_parameter_count(torch.tensor(80), net)
    assert "every unit also has a bias" in verdict(capsys)
    model = transfer_model(SmallCNN(num_classes=5), 5)
    exercises.check_trainable_count(np.array([100741]), model)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_trainable_count(pd.Series([sum(p.numel() for p in model.parameters())]), model)
    assert "requires_grad == False" in verdict(capsys)


def test_channels_first_tells_scale_and_dtype_apart_from_axis_order(capsys):
    picture = colour_picture()
    channels_first = torch.from_numpy(picture).permute(2, 0, 1)
    for right in (channels_first.float() / 255, channels_first.double() / 255, torch.tensor(picture.transpose(2, 0, 1) / 255)):
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


def test_dress_confusion_and_largest_gain_answer_arrays_and_series_in_one_line(capsys):
    matrix = dress_confusion()
    exercises.check_dress_confusion(np.array(["Shirt"]), matrix, CLASS_NAMES)
    assert verdict(capsys).startswith("Correct!")
    for odd in (np.array(["Shirt", "Coat"]), pd.Series(["Shirt", "Coat"]), np.arange(3), object(), ["Shirt"]):
        exercises.check_dress_confusion(odd, matrix, CLASS_NAMES)
        assert "answer with one of the class names" in one_line(capsys)
    results = paired_results()
    for right in ("scratch", np.array(["scratch"]), pd.Series(["scratch"])):
        exercises.check_largest_gain(right, results, 10, 200)
        assert verdict(capsys).startswith("Correct! 'scratch' rises by +38.7%")
    for odd in (np.array(["scratch", "transfer"]), 10, "dcgan", object(), ["scratch"]):
        exercises.check_largest_gain(odd, results, 10, 200)
        assert "answer with one of the methods" in one_line(capsys)


def test_largest_gain_names_the_mistake(capsys):
    results = paired_results()
    exercises.check_largest_gain("semi-supervised GAN", results, 10, 200)  # the most accurate at 200
    out = verdict(capsys)
    assert out.startswith("Not yet") and "most accurate at 200" in out
    exercises.check_largest_gain("transfer", results, 10, 200)  # the smallest gain
    out = verdict(capsys)
    assert out.startswith("Not yet") and "gained the least" in out
    exercises.check_largest_gain("scratch", results[results["labels_per_class"] == 10], 10, 200)
    out = verdict(capsys)
    assert "laptop scale" in out and "Correct" not in out and "Not yet" not in out


def test_conv_output_size_names_the_total_padding(capsys):
    exercises.check_conv_output_size(np.array([24]), torch.tensor([2]))
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_conv_output_size(24, 4)
    out = verdict(capsys)
    assert "4 is too large" in out and "on *each* side, so give half" in out
    exercises.check_conv_output_size(24, 3)
    out = verdict(capsys)
    assert "3 is too large" in out and "Hint" not in out


def test_horizontal_edge_kernel_answers_odd_input_in_one_line(capsys):
    exercises.check_horizontal_edge_kernel(torch.tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], requires_grad=True))
    assert verdict(capsys).startswith("Correct!")
    exercises.check_horizontal_edge_kernel([[float("nan")] * 3] * 3)
    assert "finite numbers" in one_line(capsys)
    for odd in (object(), {"a": 1}, mlp(1, (2,), 1), "abc"):
        exercises.check_horizontal_edge_kernel(odd)
        assert "3x3 grid of numbers" in one_line(capsys)


def test_class_recall_takes_rounded_answers_and_names_the_count(capsys):
    matrix = dress_confusion()
    matrix[CLASS_NAMES.index("Bag"), DRESS] = 5  # recall 0.625, precision 0.588
    for right in (0.625, 0.63, np.array([0.625]), torch.tensor(0.625)):
        exercises.check_class_recall(right, matrix, CLASS_NAMES)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_class_recall(0.59, matrix, CLASS_NAMES)  # the precision, rounded
    assert "divide by the row" in verdict(capsys)
    exercises.check_class_recall(50, matrix, CLASS_NAMES)  # the count of dresses called dresses
    assert "not a count or a percentage" in verdict(capsys)


def test_only_output_trainable_explains_a_none_from_freezing_in_place(capsys):
    strict_model = transfer_model(SmallCNN(num_classes=5), 5)
    answer = freeze(strict_model.classifier[:-1])  # freeze works in place: this is None
    exercises.check_only_output_trainable(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not answered yet") and "freeze works in place and returns None" in out
    exercises.check_only_output_trainable(strict_model)
    assert verdict(capsys).startswith("Correct! only the output layer's 325 parameters")
    for odd, expected in [
        ("abc", "should be the model"),
        (torch.zeros(3), "should be the model"),
        (strict_model.classifier, "without one"),
        (mlp(1, (2,), 1), "without one"),
    ]:
        exercises.check_only_output_trainable(odd)
        assert expected in one_line(capsys)


def test_equilibrium_takes_rounded_loss_and_names_each_mistake(capsys):
    for loss in (1.39, 1.386, np.float32(np.log(4)), torch.tensor([np.log(4)])):
        exercises.check_equilibrium(np.array([0.5]), loss)
        assert verdict(capsys).count("Correct!") == 2
    exercises.check_equilibrium(0.5, 0.69)  # half of it, rounded
    assert "one half of it" in verdict(capsys)
    exercises.check_equilibrium(0.5, 0.6)  # 2 log10(2), rounded
    assert "natural logarithm" in verdict(capsys)
    exercises.check_equilibrium(0.5, 1)
    out = verdict(capsys)
    assert "1 is too small" in out and "Hint" not in out
    exercises.check_equilibrium(1, 1.39)
    assert "equally likely" in verdict(capsys)
    for odd in ("abc", object(), [0.5, 0.5], np.array([0.5, 0.5])):
        exercises.check_equilibrium(odd, 1.39)
        assert "should be a number" in one_line(capsys)


def test_generator_gradients_take_one_element_tensors(capsys):
    for minimax, non_saturating in [(torch.tensor([-0.01]), np.array([-0.99])), (-0.01, torch.tensor([[-0.99]])), (np.float32(-0.01), -0.99)]:
        exercises.check_generator_gradients(minimax, non_saturating)
        assert verdict(capsys).count("Correct!") == 2
    exercises.check_generator_gradients(torch.tensor([0.01]), -0.99)
    assert "gradient is negative" in verdict(capsys)
    exercises.check_generator_gradients(-0.01, np.array([-100.0]))
    assert "with respect to D(G(z)) itself" in verdict(capsys)
    for odd in ("abc", torch.zeros(2), object()):
        exercises.check_generator_gradients(odd, -0.99)
        assert "should be a number" in one_line(capsys)


def test_optimal_discriminator_takes_the_answer_as_printed(capsys):
    real, fake = normal(1.5), normal(0.0)
    p, q = real(1.0), fake(1.0)
    value = p / (p + q)
    assert f"{value:.4f}" == "0.5927"
    for right in (0.59, 0.593, round(value, 4), np.array([value]), torch.tensor([value])):
        exercises.check_optimal_discriminator(right, np.array([0.75]), real, fake)
        assert verdict(capsys).count("Correct!") == 2, right
    for wrong in (0.58, 0.595):
        exercises.check_optimal_discriminator(wrong, 0.75, real, fake)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "Hint" not in out
    exercises.check_optimal_discriminator(round(q / (p + q), 2), 0.75, real, fake)
    assert "the fakes' share" in verdict(capsys)
    exercises.check_optimal_discriminator(round(p / q, 3), 0.75, real, fake)
    assert "not by the fakes' density alone" in verdict(capsys)
    for odd in ("abc", np.array([0.7, 0.8]), object(), float("nan")):
        exercises.check_optimal_discriminator(value, odd, real, fake)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "Not yet: the point should be a number" in out and out.count("\n") == 2


def test_modes_covered_takes_one_element_answers(capsys):
    samples = samples_on_modes([60, 30, 10])
    exercises.check_modes_covered(torch.tensor([3]), samples, ring_centres(), 0.05, min_share=1 / 16)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_modes_covered(np.array([8]), samples, ring_centres(), 0.05, min_share=1 / 16)
    assert "every mode of the data" in verdict(capsys)
    exercises.check_modes_covered([3, 3], samples, ring_centres(), 0.05, min_share=1 / 16)
    assert "should be a number, got list" in one_line(capsys)


def test_transposed_conv_size_names_p_instead_of_2p(capsys):
    exercises.check_transposed_conv_size(np.int64(14), torch.tensor([56]))
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_transposed_conv_size(15, 56)
    out = verdict(capsys)
    assert "15 is too large" in out and "subtract 2p = 2, not p" in out
    exercises.check_transposed_conv_size(14, 57)
    out = verdict(capsys)
    assert "57 is too large" in out and "subtract 2p = 2, not p" in out
    exercises.check_transposed_conv_size(14, 58)
    assert "mind the 2p" in verdict(capsys)
    exercises.check_transposed_conv_size("14", 56)
    assert "should be a number, got str" in one_line(capsys)


def test_dress_share_takes_the_share_as_printed(capsys, fashion):
    from course.quality import dressness

    dresses = fashion.dresses("test")[:50]
    share = dressness(dresses)
    for right in (round(share, 2), round(share, 3), torch.tensor([share], dtype=torch.float32), np.float32(share)):
        exercises.check_dress_share(right, dresses)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_dress_share(round(share - 0.02, 2), dresses)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Hint" not in out
    exercises.check_dress_share(round(100 * share), dresses)
    assert "not a count or a percentage" in verdict(capsys)
    for odd in ("abc", np.array([share, share]), object()):
        exercises.check_dress_share(odd, dresses)
        assert "should be a number" in one_line(capsys)


def test_nearest_distance_takes_the_distance_as_printed_and_names_the_uint8_wrap(capsys, fashion):
    dresses = fashion.dresses("test")[:50]
    sample, others = dresses[0], dresses[1:]
    exact = np.linalg.norm(others.reshape(49, -1) / 255 - sample.reshape(1, -1) / 255, axis=1).min()
    for right in (round(exact, 2), round(exact, 3), torch.tensor([exact]), np.float32(exact)):
        exercises.check_nearest_distance(right, sample, others)
        assert verdict(capsys).startswith("Correct!"), right
    wrapped = np.linalg.norm((others.reshape(49, -1) - sample.reshape(1, -1)) / 255, axis=1).min()
    exercises.check_nearest_distance(wrapped, sample, others)
    assert "wraps around" in verdict(capsys)
    exercises.check_nearest_distance(round(exact**2, 2), sample, others)
    assert "squared distance" in verdict(capsys)
    for odd in ("abc", np.array([exact, exact]), object()):
        exercises.check_nearest_distance(odd, sample, others)
        assert "should be a number" in one_line(capsys)


def test_gradient_penalty_takes_the_printed_penalty(capsys):
    for right in (32.4, np.float32(32.4), torch.tensor([32.4])):
        exercises.check_gradient_penalty(right)
        assert verdict(capsys).startswith("Correct!")
    exercises.check_gradient_penalty(3.24)
    assert "multiplied by its weight" in verdict(capsys)
    exercises.check_gradient_penalty(30)
    out = verdict(capsys)
    assert "too small" in out and "Hint" not in out


def test_improvement_factor_takes_rounded_answers_and_names_each_slip(capsys):
    stages = pd.DataFrame({"distance_over_floor": [80.0, 40.0, 20.0, 25.0]}, index=[100, 200, 300, 400])
    for right in (3.2, 3.20, np.float32(3.2), torch.tensor([3.2]), pd.Series([3.2]), 16 / 5):
        exercises.check_improvement_factor(right, stages)
        out = verdict(capsys)
        assert out.startswith("Correct!") and "from 80.0 to 25.0 times the floor (fell)" in out, right
    for wrong, hint in ((0.3125, "first divided by last"), (55, "not a difference"), (4.0, "best stage on the way"),
                        (0.8, "the one before it")):  # fmt: skip
        exercises.check_improvement_factor(wrong, stages)
        out = verdict(capsys)
        assert out.startswith("Not yet") and hint in out, (wrong, out)
    exercises.check_improvement_factor(3, stages)  # one significant digit is too coarse
    assert verdict(capsys).startswith("Not yet")


def test_improvement_factor_at_one_stage_asks_for_the_laptop_run(capsys):
    exercises.check_improvement_factor(1.0, pd.DataFrame({"distance_over_floor": [80.0]}, index=[10]))
    out = verdict(capsys)
    assert "laptop scale" in out and "Correct" not in out and "Not yet" not in out
    two = pd.DataFrame({"distance_over_floor": [80.0, 100.0]}, index=[10, 20])  # the smoke scale: two stages, a rise
    exercises.check_improvement_factor(0.8, two)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "(did not fall)" in out
    exercises.check_improvement_factor(1.25, two)
    assert "first divided by last" in verdict(capsys)


def test_rank_correlation_takes_rounded_answers_and_names_misaligned_indices(capsys):
    signal, values = [3.0, 2.0, 1.5, 1.0, 0.2, 0.1], [40.0, 10.0, 12.0, 5.0, 4.0, 1.0]
    distance = pd.Series(values, index=[2, 3, 4, 5, 6, 7])  # the stages' own index, not 0-5
    exact = pd.Series(signal).corr(pd.Series(values), method="spearman")
    assert f"{exact:.2f}" == "0.94"
    for right in (0.94, round(exact, 3), np.array([exact]), torch.tensor(exact)):
        exercises.check_rank_correlation(right, signal, distance)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_rank_correlation(pd.Series(signal).corr(distance, method="spearman"), signal, distance)
    assert "pairs two Series by their index" in verdict(capsys)
    far = pd.Series(values, index=[10, 11, 12, 13, 14, 15])
    exercises.check_rank_correlation(pd.Series(signal).corr(far, method="spearman"), signal, far)
    out = verdict(capsys)
    assert "nan" in out and "too small" not in out and "no pairs of values lined up" in out
    exercises.check_rank_correlation(round(float(np.corrcoef(signal, values)[0, 1]), 3), signal, distance)
    assert "ranks" in verdict(capsys)


def test_rank_correlation_with_two_stages_says_it_means_little(capsys):
    exercises.check_rank_correlation(-1.0, [2.0, 1.0], [1.0, 3.0])
    out = verdict(capsys)
    assert "With 2 stages" in out and "laptop scale" in out and out.splitlines()[-1].startswith("Correct!")
    exercises.check_rank_correlation(1.0, [2.0, 1.0], [1.0, 3.0])
    assert verdict(capsys).splitlines()[-1].startswith("Not yet")
    exercises.check_rank_correlation(float("nan"), [1.0, 1.0, 1.0], [1.0, 3.0, 2.0])  # a constant loss has no correlation
    out = verdict(capsys)
    assert out.startswith("Correct!") and "constant" in out
    exercises.check_rank_correlation(0.5, [1.0, 1.0, 1.0], [1.0, 3.0, 2.0])
    assert verdict(capsys).startswith("Not yet")


def test_real_image_loss_takes_the_printed_answers(capsys):
    for right in (0.182, 0.1823, np.float32(np.log(1.2)), torch.tensor([np.log(1.2)])):
        exercises.check_real_image_loss(right)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_real_image_loss(1.79)
    assert "loss of a fake" in verdict(capsys)
    exercises.check_real_image_loss(0.167)
    assert "p(fake) itself" in verdict(capsys)


def test_class_precision_takes_rounded_arrays_and_names_each_slip(capsys):
    asked = np.repeat(np.arange(3), 8)
    judged = np.array([0] * 7 + [1] + [1] * 5 + [0] * 3 + [2] * 2 + [0] * 6)  # judged 0: 16 (7 right), 1: 6 (5), 2: 2 (2)
    precision = np.array([7 / 16, 5 / 6, 1.0])
    for right in (precision, [0.44, 0.83, 1.0], torch.tensor(precision), pd.Series(precision), list(precision.round(3))):
        exercises.check_class_precision(right, asked, judged, num_classes=3)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_class_precision([0.875, 0.625, 0.25], asked, judged, num_classes=3)  # the accuracy of each asked class
    out = verdict(capsys)
    assert out.startswith("Not yet") and "each class's accuracy" in out
    exercises.check_class_precision(100 * precision, asked, judged, num_classes=3)
    assert "not a percentage" in verdict(capsys)
    exercises.check_class_precision([0, 1, 1], asked, judged, num_classes=3)  # rounded to whole numbers
    assert "rounded too coarsely" in verdict(capsys)
    exercises.check_class_precision([0.1, 0.2, 0.3], asked, judged, num_classes=3)
    assert "judged == k" in verdict(capsys)
    exercises.check_class_precision([0.44, np.nan, 1.0], asked, judged, num_classes=3)
    assert "every class was chosen" in verdict(capsys)
    for odd in ("abc", [0.5, 1.0], object(), np.zeros((3, 1)), ["a", "b", "c"]):
        exercises.check_class_precision(odd, asked, judged, num_classes=3)
        out = verdict(capsys)
        assert out.startswith("Not yet") and "Traceback" not in out


def test_noise_step_takes_rounded_vectors_and_names_coarse_rounding(capsys):
    noise, direction = np.array([0.3, -1.2, 0.7]), np.array([3.0, 4.0, 0.0])
    moved = noise + 2.0 * direction / 5.0
    for right in (moved, moved.round(2), torch.tensor(moved, dtype=torch.float32), list(moved.round(3))):
        exercises.check_noise_step(right, noise, direction, 2.0)
        assert verdict(capsys).startswith("Correct!"), right
    exercises.check_noise_step(moved.round(0), noise, direction, 2.0)
    out = verdict(capsys)
    assert "rounded too coarsely" in out and "length first" not in out
    exercises.check_noise_step((noise + 2.0 * direction).round(2), noise, direction, 2.0)
    assert "length first" in verdict(capsys)
    for odd in ("abc", [1.0, 2.0], object(), [float("nan")] * 3):
        exercises.check_noise_step(odd, noise, direction, 2.0)
        assert verdict(capsys).startswith("Not yet") and "Traceback" not in out


def test_crop_box_takes_arrays_of_four_whole_numbers(capsys):
    for right in ((10, 0, 74, 64), [10, 0, 74, 64], np.array([10, 0, 74, 64]), torch.tensor([10, 0, 74, 64]), np.array([10.0, 0.0, 74.0, 64.0])):
        exercises.check_crop_box(right, 4000, 3000, 64)
        assert verdict(capsys).startswith("Correct! the box (10, 0, 74, 64) in the 85x64"), right
    exercises.check_crop_box(np.array([0, 0, 64, 64]), 4000, 3000, 64)
    assert "85x64" in verdict(capsys)
    for odd in ("abc", (10, 0, 74), np.array([10.5, 0, 74, 64]), object(), np.zeros((2, 2))):
        exercises.check_crop_box(odd, 4000, 3000, 64)
        assert "four whole numbers" in one_line(capsys)


GARBAGE = ["abc", object(), [1.0, 2.0, 3.0, 4.0, 5.0], np.array([1.0, 2.0]), pd.Series([1.0, 2.0]), torch.nn.Linear(2, 1)]


@pytest.mark.parametrize("answer", GARBAGE, ids=["str", "object", "list", "array", "series", "model"])
@pytest.mark.parametrize(
    "check",
    [
        lambda a: exercises.check_log_log(a, 6.5, load_housing()),
        lambda a: exercises.check_bedroom_price(a, load_housing()),
        lambda a: exercises.check_diverging_learning_rate(a, 1.0),
        lambda a: exercises.check_diverging_learning_rate(1.1, a),
        lambda a: exercises.check_parameter_count(a, mlp(1, (8,), 1)),
        lambda a: exercises.check_channels_first(a, colour_picture()),
        lambda a: exercises.check_dress_confusion(a, dress_confusion(), CLASS_NAMES),
        lambda a: exercises.check_conv_output_size(a, 2),
        lambda a: exercises.check_conv_output_size(24, a),
        lambda a: exercises.check_class_recall(a, dress_confusion(), CLASS_NAMES),
        lambda a: exercises.check_trainable_count(a, transfer_model(SmallCNN(num_classes=5), 5)),
        lambda a: exercises.check_only_output_trainable(a),
        lambda a: exercises.check_smallest_paired_difference(a, paired_results(), 10, "transfer", "scratch"),
        lambda a: exercises.check_largest_gain(a, paired_results(), 10, 200),
        lambda a: exercises.check_equilibrium(0.5, a),
        lambda a: exercises.check_generator_gradients(-0.01, a),
        lambda a: exercises.check_optimal_discriminator(a, 0.75, normal(1.5), normal(0.0)),
        lambda a: exercises.check_modes_covered(a, samples_on_modes([10]), ring_centres(), 0.05, 0.02),
        lambda a: exercises.check_transposed_conv_size(14, a),
        lambda a: exercises.check_gradient_penalty(a),
        lambda a: exercises.check_improvement_factor(a, pd.DataFrame({"distance_over_floor": [50.0, 30.0, 20.0]}, index=[100, 200, 300])),
        lambda a: exercises.check_rank_correlation(a, [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]),
        lambda a: exercises.check_real_image_loss(a),
        lambda a: exercises.check_class_precision(a, np.arange(3), np.arange(3), num_classes=3),
        lambda a: exercises.check_noise_step(a, np.zeros(3), np.ones(3), 1.0),
        lambda a: exercises.check_crop_box(a, 640, 320, 32),
    ],
)
def test_every_check_answers_garbage_in_one_line(capsys, check, answer):
    check(answer)  # where the answer is the second one, the line before is the first answer's verdict
    out = verdict(capsys)
    assert out.splitlines()[-1].startswith("Not yet") and out.count("Not yet") == 1 and "Hint" not in out, out
    assert "Traceback" not in out and out.count("\n") <= 2, out


@pytest.mark.parametrize(
    "function, expected",
    [
        (lambda critic, real, fake, mix, weight=10.0: torch.tensor(0.0), "exactly 0"),
        (lambda critic, real, fake, mix, weight=10.0: _penalty(critic, real, fake, mix, weight=10.0), "multiply by the weight argument"),
        (lambda *args: _penalty(*args, lengths=lambda g: g.flatten(1).norm(dim=1).mean()), "Not yet"),  # (mean length - 1)²
    ],
)
def test_penalty_function_catches_a_zero_a_fixed_weight_and_the_mean_length(capsys, function, expected):
    exercises.check_penalty_function(function)
    out = verdict(capsys)
    assert expected in out and "Correct!" not in out, out


@pytest.mark.parametrize("rate, threshold", [(float("nan"), 1.0), (float("inf"), 1.0)])
def test_diverging_learning_rate_refuses_nan_and_infinity(capsys, rate, threshold):
    exercises.check_diverging_learning_rate(rate, threshold)
    assert "should be a finite number" in verdict(capsys)


def test_crop_box_accepts_both_centred_squares_when_the_spare_pixels_are_odd(capsys):
    # 117 x 64 scaled to a shorter side of 64 stays 117 x 64: 53 spare pixels, so left 26 or 27 are both centred.
    exercises.check_crop_box((26, 0, 90, 64), 117, 64, 64)
    assert verdict(capsys).startswith("Correct!")
    exercises.check_crop_box((27, 0, 91, 64), 117, 64, 64)
    out = verdict(capsys)
    assert out.startswith("Correct!") and "the loader takes (26, 0, 90, 64)" in out
    exercises.check_crop_box((28, 0, 92, 64), 117, 64, 64)
    assert verdict(capsys).startswith("Not yet")


def test_bedroom_price_rounded_too_far_is_told_the_method_is_right(capsys):
    housing = load_housing()
    exercises.check_bedroom_price(10_000, housing)
    out = verdict(capsys)
    assert out.startswith("Not yet") and "the method is right" in out
    exercises.check_bedroom_price(5_000, housing)
    assert "fit both inputs together" in verdict(capsys)


def test_optimal_discriminator_accepts_a_crossing_given_to_the_precision_it_is_given(capsys):
    # Notebook 05's densities: two narrow modes against a wide forger; where D* = 1/2 it changes fast.
    def real(x):
        return (np.exp(-0.5 * ((x + 2) / 0.5) ** 2) / 3 + 2 * np.exp(-0.5 * ((x - 2) / 0.5) ** 2) / 3) / (0.5 * np.sqrt(2 * np.pi))

    def fake(x):
        return np.exp(-0.5 * (x / 1.5) ** 2) / (1.5 * np.sqrt(2 * np.pi))

    grid = np.linspace(0.5, 2.0, 150_001)
    crossing = grid[np.argmin(np.abs(real(grid) / (real(grid) + fake(grid)) - 0.5))]
    value = real(1.0) / (real(1.0) + fake(1.0))
    exercises.check_optimal_discriminator(value, round(float(crossing), 1), real, fake)
    assert verdict(capsys).count("Correct!") == 2
    exercises.check_optimal_discriminator(value, round(float(crossing), 1) + 0.3, real, fake)
    assert "Not yet: D*" in verdict(capsys)


def test_noise_step_in_a_wrong_direction_is_told_what_is_wrong(capsys):
    noise, direction = np.zeros(3), np.array([3.0, 4.0, 0.0])
    exercises.check_noise_step(-np.array([0.6, 0.8, 0.0]) * 2, noise, direction, 2.0)
    assert "goes against the direction" in verdict(capsys)
    exercises.check_noise_step(np.array([0.0, 0.0, 2.0]), noise, direction, 2.0)
    assert "does not point along the direction" in verdict(capsys)
    exercises.check_noise_step(np.array([0.06, 0.08, 0.0]), noise, direction, 2.0)
    assert "should be 2 long" in verdict(capsys)


def _move_with(slip):
    """A discriminator move with one of the slips a probe of the check found."""
    from course import gan

    def move(discriminator, d_optimizer, real, fake):
        if slip == "detach in place":
            fake.detach_()
        if slip == "one pass":
            scores = discriminator(torch.cat([real, fake.detach()]))
            real_scores, fake_scores = scores[: len(real)], scores[len(real) :]
        elif slip == "scores detached":
            real_scores, fake_scores = discriminator(real), discriminator(fake).detach()
        elif slip == "no_grad fakes":
            real_scores = discriminator(real)
            with torch.no_grad():
                fake_scores = discriminator(fake)
        else:
            real_scores, fake_scores = discriminator(real), discriminator(fake.detach())
        loss = gan.discriminator_loss("dcgan", real_scores, fake_scores, 0.1)
        d_optimizer.zero_grad()
        loss.backward()
        d_optimizer.step()
        return loss

    return move


@pytest.mark.parametrize(
    "slip, expected",
    [
        ("detach in place", "detached the fakes themselves, in place"),
        ("one pass", "batch norm's statistics"),
        ("scores detached", "the fakes' term sent no gradient"),
        ("no_grad fakes", "the fakes' term sent no gradient"),
    ],
)
def test_the_discriminator_move_check_names_the_slips_a_probe_found(slip, expected, capsys):
    exercises.check_discriminator_move(_move_with(slip))
    out = verdict(capsys)
    assert expected in out and "Correct!" not in out, out


def _doubled_penalty(critic, real, fake, mix, weight=10.0):
    # The right penalty, computed after turning the check's critic and tensors to double precision.
    from course import gan

    return gan.gradient_penalty(critic.double(), real.double(), fake.double(), mix.double(), weight)


@pytest.mark.parametrize(
    "check, answer",
    [
        (exercises.check_penalty_function, _doubled_penalty),
        (exercises.check_penalty_function, lambda c, r, f, m, weight=10.0: torch.empty((), device="meta")),
        (exercises.check_penalty_function, lambda c, r, f, m, weight=10.0: torch.tensor([1.0]).to_sparse()),
        (exercises.check_discriminator_move, lambda d, o, r, f: d.double()(r.double()).mean()),
        (exercises.check_unlabelled_loss, lambda real, fake: torch.tensor([1.0]).to_sparse()),
    ],
)
def test_exotic_answers_get_one_line_not_a_traceback(check, answer, capsys):
    check(answer)  # raises nothing
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Traceback" not in out, out
