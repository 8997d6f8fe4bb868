"""The answer rule every check shares (`course.exercises.answers`), and what every check the package exports does with
garbage and with exotic input: one line, never a traceback.

The small inputs, built by hand, that the test files of several notebooks' checks use live here too.
"""

import functools
import importlib
import math
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from course import exercises, gan
from course.colour_pictures import colour_picture
from course.data import CLASS_NAMES, DRESS, load_fashion_mnist, load_housing
from course.exercises import answers
from course.models import SmallCNN, freeze, mlp
from course.semi_supervised import unlabelled_loss
from course.transfer import transfer_model


def verdict(capsys) -> str:
    return capsys.readouterr().out


def one_line(capsys) -> str:
    out = verdict(capsys)
    assert "Traceback" not in out and out.count("\n") == 1, out
    return out


class FakeFashion:
    """Fashion-MNIST as check_dress_count reads it: 6,000 training dresses and 1,000 test ones."""

    def dresses(self, split):
        return np.zeros((6000 if split == "train" else 1000, 28, 28))


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
    worst transfer run against best scratch run: 0.03). At 10, transfer's draws vary most (standard deviation 0.07;
    0.0572 with ddof=0), scratch's and the GAN's least (0.0252 each); over both budgets together scratch's vary most.
    The semi-supervised GAN is the most accurate at 200.
    """
    accuracy = {
        ("scratch", 10): (0.40, 0.45, 0.42),
        ("transfer", 10): (0.61, 0.50, 0.48),
        ("semi-supervised GAN", 10): (0.55, 0.50, 0.52),
        ("scratch", 200): (0.80, 0.82, 0.81),
        ("transfer", 200): (0.83, 0.84, 0.85),
        ("semi-supervised GAN", 200): (0.86, 0.88, 0.87),
    }
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


def normal(mean: float, std: float = 1.0):
    return lambda x: np.exp(-0.5 * ((np.asarray(x, dtype=float) - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def ring_centres(modes: int = 8) -> np.ndarray:
    angles = np.arange(modes) * 2 * np.pi / modes
    return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def samples_on_modes(counts: list[int], std: float = 0.05) -> np.ndarray:
    """counts[k] samples within 1 standard deviation of ring mode k."""
    centres = ring_centres()
    rng = np.random.default_rng(0)
    return np.concatenate(
        [centres[k] + rng.uniform(-0.7, 0.7, size=(count, 2)) * std for k, count in enumerate(counts)]
    )


def course_move(discriminator, d_optimizer, real, fake):
    """Exercise 6.4 done right: the DCGAN discriminator's move."""
    loss = gan.discriminator_loss("dcgan", discriminator(real), discriminator(fake.detach()), 0.1)
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss


def test_the_tolerance_rule_reads_the_digits_given():
    assert answers._half_unit(0.94) == pytest.approx(0.005)
    assert answers._half_unit(0.25) == pytest.approx(0.005)
    assert answers._half_unit(1.5e-05) == pytest.approx(5e-07)
    assert answers._half_unit(torch.tensor(0.94)) == pytest.approx(0.005)  # float32 reads as typed
    assert answers._half_unit(np.int64(24)) == 0.5
    assert answers._matches(0.94, 0.005, 0.937, rel_tol=1e-3, abs_tol=0.0)
    assert not answers._matches(0.94, 0.005, 0.937, rel_tol=1e-3, abs_tol=0.0, others=[0.941])  # nearer a wrong answer
    assert not answers._matches(0.3, 0.05, 0.2526, rel_tol=1e-3, abs_tol=0.0)  # one significant digit is too few
    assert not answers._matches(float("nan"), 0.0, 0.5, rel_tol=1e-3, abs_tol=0.0)
    for printed in (
        0.25,
        0.253,
        0.2526,
    ):  # D* at 1 in notebook 05 is 0.2526; its typical wrong answers 0.7474 and 0.3381
        assert answers._matches(
            printed, answers._half_unit(printed), 0.25258, rel_tol=1e-3, abs_tol=1e-4, others=[0.74742, 0.33812]
        )
    assert not answers._matches(0.26, answers._half_unit(0.26), 0.25258, rel_tol=1e-3, abs_tol=1e-4)


# Every answer of every check: the other answers right, this one right, garbage, or exotic.


@functools.cache
def housing() -> pd.DataFrame:
    return load_housing()


@functools.cache
def fifty_test_dresses() -> np.ndarray:
    return load_fashion_mnist(download=False).dresses("test")[:50]


def log_log_fit() -> tuple[float, float]:
    slope, intercept = np.polyfit(np.log(housing()["lotsize"]), np.log(housing()["price"]), 1)
    return slope, intercept


def bedroom_coefficient() -> float:
    design = np.column_stack([np.ones(len(housing())), np.log(housing()["lotsize"]), housing()["bedrooms"]])
    weights, *_ = np.linalg.lstsq(design, housing()["price"].to_numpy(float), rcond=None)
    return weights[2]


def best_discriminator_at_one() -> float:
    real, fake = normal(1.5)(1.0), normal(0.0)(1.0)
    return real / (real + fake)


def nearest_distance() -> float:
    sample, others = fifty_test_dresses()[0], fifty_test_dresses()[1:]
    return np.linalg.norm(others.reshape(len(others), -1) / 255 - sample.reshape(1, -1) / 255, axis=1).min()


def dress_share() -> float:
    from course.quality import dressness

    return dressness(fifty_test_dresses())


def channels_first_picture() -> torch.Tensor:
    return torch.from_numpy(colour_picture()).permute(2, 0, 1).float() / 255


def improvement_stages() -> pd.DataFrame:
    return pd.DataFrame({"distance_over_floor": [50.0, 30.0, 20.0]}, index=[100, 200, 300])


def dark_and_light_noise() -> tuple[np.ndarray, np.ndarray]:
    """Noise vectors of 64 numbers: six drawn for dark dresses, three for light ones."""
    rng = np.random.default_rng(10)
    return rng.normal(size=(6, 64)), rng.normal(size=(3, 64))


def light_to_dark() -> np.ndarray:
    dark, light = dark_and_light_noise()
    return dark.mean(axis=0) - light.mean(axis=0)


# (check, its arguments with the answer `a` in one answer's place and every other answer right, the right answer there)
ANSWERS = [
    ("check_dress_count", lambda a: (a, FakeFashion()), lambda: 6000),
    ("check_log_log", lambda a: (a, log_log_fit()[1], housing()), lambda: log_log_fit()[0]),
    ("check_log_log", lambda a: (log_log_fit()[0], a, housing()), lambda: log_log_fit()[1]),
    ("check_bedroom_price", lambda a: (a, housing()), bedroom_coefficient),
    ("check_diverging_learning_rate", lambda a: (a, 1.0), lambda: 1.1),
    ("check_diverging_learning_rate", lambda a: (1.1, a), lambda: 1.0),
    ("check_parameter_count", lambda a: (a, mlp(1, (8,), 1)), lambda: (1 * 8 + 8) + (8 * 1 + 1)),
    ("check_channels_first", lambda a: (a, colour_picture()), channels_first_picture),
    ("check_dress_confusion", lambda a: (a, dress_confusion(), CLASS_NAMES), lambda: "Shirt"),
    ("check_conv_output_size", lambda a: (a, 3), lambda: 24),
    ("check_conv_output_size", lambda a: (24, a), lambda: 3),
    ("check_horizontal_edge_kernel", lambda a: (a,), lambda: [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
    ("check_class_recall", lambda a: (a, dress_confusion(), CLASS_NAMES), lambda: 50 / 80),
    ("check_trainable_count", lambda a: (a, transfer_model(SmallCNN(num_classes=5), 5)), lambda: 100_741),
    ("check_only_output_trainable", lambda a: (a,), frozen_except_output),
    ("check_smallest_paired_difference", lambda a: (a, paired_results(), 10, "transfer", "scratch"), lambda: 0.05),
    ("check_best_discriminator_loss", lambda a: (a, math.log(16 / 3)), lambda: 0.25),
    ("check_best_discriminator_loss", lambda a: (0.25, a), lambda: math.log(16 / 3)),
    ("check_generator_gradients", lambda a: (a, -0.8), lambda: -0.2),
    ("check_generator_gradients", lambda a: (-0.2, a), lambda: -0.8),
    ("check_optimal_discriminator", lambda a: (a, 0.75, normal(1.5), normal(0.0)), best_discriminator_at_one),
    ("check_optimal_discriminator", lambda a: (best_discriminator_at_one(), a, normal(1.5), normal(0.0)), lambda: 0.75),
    ("check_modes_covered", lambda a: (a, samples_on_modes([10]), ring_centres(), 0.05, 0.02), lambda: 1),
    ("check_transposed_conv_size", lambda a: (a, 4), lambda: 13),
    ("check_transposed_conv_size", lambda a: (13, a), lambda: 4),
    ("check_dress_share", lambda a: (a, fifty_test_dresses()), dress_share),
    ("check_nearest_distance", lambda a: (a, fifty_test_dresses()[0], fifty_test_dresses()[1:]), nearest_distance),
    ("check_discriminator_move", lambda a: (a,), lambda: course_move),
    ("check_gradient_penalty", lambda a: (a, 206.3), lambda: 1 / math.sqrt(3072)),
    ("check_gradient_penalty", lambda a: (1 / math.sqrt(3072), a), lambda: 206.3),
    ("check_improvement_factor", lambda a: (a, improvement_stages()), lambda: 2.5),
    ("check_rank_correlation", lambda a: (a, [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]), lambda: -0.5),
    ("check_penalty_function", lambda a: (a,), lambda: gan.gradient_penalty),
    ("check_real_image_loss", lambda a: (a,), lambda: math.log(6 / 5)),
    ("check_most_variable", lambda a: (a, 0.07, paired_results(), 10), lambda: "transfer"),
    ("check_most_variable", lambda a: ("transfer", a, paired_results(), 10), lambda: 0.07),
    ("check_unlabelled_loss", lambda a: (a,), lambda: unlabelled_loss),
    ("check_class_precision", lambda a: (a, np.arange(3), np.arange(3), 3), lambda: [1.0, 1.0, 1.0]),
    ("check_noise_step", lambda a: (a, np.zeros(3), np.ones(3), 1.0), lambda: np.ones(3) / np.sqrt(3)),
    ("check_crop_box", lambda a: (a, 640, 320, 32), lambda: (16, 0, 48, 32)),
    ("check_sphere_penalties", lambda a: (a, 1.0), lambda: 1.0),
    ("check_sphere_penalties", lambda a: (1.0, a), lambda: 1.0),
    ("check_direction", lambda a: (a, *dark_and_light_noise()), light_to_dark),
]
ANSWER_IDS = [f"{name}-{index}" for index, (name, _, _) in enumerate(ANSWERS)]


def run(name: str, arguments, answer) -> None:
    getattr(exercises, name)(*arguments(answer))


def assert_one_not_yet(out: str) -> None:
    """One "Not yet" line, the last verdict, with no hint and no traceback.

    A "Correct!" before it is the verdict on the answer before.
    """
    lines = out.splitlines()
    assert "Traceback" not in out and "Hint" not in out and out.count("Not yet") == 1, out
    assert (
        lines[-1].startswith("Not yet") and len(lines) <= 2 and all(line.startswith("Correct!") for line in lines[:-1])
    ), out


def test_the_answers_cover_every_check_the_package_exports():
    exported = {name for name in exercises.__all__ if name.startswith("check_")}
    assert {name for name, _, _ in ANSWERS} == exported
    for module in pkgutil.iter_modules(exercises.__path__):
        defined = {
            name
            for name in vars(importlib.import_module(f"course.exercises.{module.name}"))
            if name.startswith("check_")
        }
        assert defined <= exported, f"course.exercises does not export {sorted(defined - exported)} from {module.name}"
    assert all(callable(getattr(exercises, name)) for name in exported)


@pytest.mark.parametrize("name, arguments, right", ANSWERS, ids=ANSWER_IDS)
def test_every_check_takes_its_right_answer(capsys, name, arguments, right):
    run(name, arguments, right())
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet" not in out and "Traceback" not in out, out


@pytest.mark.parametrize("name, arguments, right", ANSWERS, ids=ANSWER_IDS)
def test_every_check_says_none_is_not_answered_yet(capsys, name, arguments, right):
    run(name, arguments, None)
    out = verdict(capsys)
    assert out.startswith("Not answered yet") and "Correct!" not in out and "Not yet" not in out, out


GARBAGE = [
    "abc",
    object(),
    [1.0, 2.0, 3.0, 4.0, 5.0],
    np.array([1.0, 2.0]),
    pd.Series([1.0, 2.0]),
    torch.nn.Linear(2, 1),
]


@pytest.mark.parametrize("answer", GARBAGE, ids=["str", "object", "list", "array", "series", "model"])
@pytest.mark.parametrize("name, arguments, right", ANSWERS, ids=ANSWER_IDS)
def test_every_check_answers_garbage_in_one_line(capsys, name, arguments, right, answer):
    run(name, arguments, answer)
    assert_one_not_yet(verdict(capsys))


def sparse_csr_grid() -> torch.Tensor:
    with warnings.catch_warnings():  # torch says its CSR layout is in beta
        warnings.simplefilter("ignore", UserWarning)
        return torch.eye(3).to_sparse_csr()


EXOTIC = {
    "class-Linear": torch.nn.Linear,  # a class instead of one of its instances
    "class-int": int,
    "class-ndarray": np.ndarray,
    "class-Tensor": torch.Tensor,
    "class-Series": pd.Series,
    "sparse-vector": torch.tensor([0.0, 2.0]).to_sparse(),
    "sparse-grid": torch.eye(3).to_sparse(),
    "sparse-csr": sparse_csr_grid(),
    "meta-scalar": torch.empty((), device="meta"),
    "meta-grid": torch.empty(3, 3, device="meta"),
    "double-module": torch.nn.Linear(2, 1).double(),
}


@pytest.mark.parametrize("answer", EXOTIC.values(), ids=EXOTIC.keys())
@pytest.mark.parametrize("name, arguments, right", ANSWERS, ids=ANSWER_IDS)
def test_every_check_answers_exotic_input_in_one_line(capsys, name, arguments, right, answer):
    run(name, arguments, answer)  # raises nothing
    assert_one_not_yet(verdict(capsys))


@pytest.mark.parametrize(
    "name, arguments, expected",
    [
        (
            "check_gradient_penalty",
            lambda a: (a, 206.3),
            "the slope that pays no penalty should be a number, got the class {} itself.",
        ),
        (
            "check_channels_first",
            lambda a: (a, colour_picture()),
            "the answer should be a torch tensor, got the class {} itself.",
        ),
        ("check_only_output_trainable", lambda a: (a,), "got the class {} itself."),
        (
            "check_unlabelled_loss",
            lambda a: (a,),
            "should be a function of (real_logits, fake_logits) that returns one number, got the class {} itself.",
        ),
        (
            "check_discriminator_move",
            lambda a: (a,),
            "should be a function of (discriminator, d_optimizer, real, fake), got the class {} itself.",
        ),
        ("check_penalty_function", lambda a: (a,), "that returns the penalty, got the class {} itself."),
    ],
)
@pytest.mark.parametrize(
    "answer", [int, np.ndarray, torch.Tensor, torch.nn.Linear], ids=["int", "ndarray", "Tensor", "Linear"]
)
def test_a_class_instead_of_a_value_is_named_as_one(capsys, name, arguments, expected, answer):
    run(name, arguments, answer)
    assert expected.format(answer.__name__) in one_line(capsys)


def test_a_meta_tensor_is_said_to_hold_no_values(capsys):
    exercises.check_gradient_penalty(torch.empty((), device="meta"), 206.3)
    assert "got Tensor on the meta device, which holds no values." in one_line(capsys)
    exercises.check_optimal_discriminator(
        best_discriminator_at_one(), torch.empty(2, device="meta"), normal(1.5), normal(0.0)
    )
    assert (
        verdict(capsys).splitlines()[-1]
        == "Not yet: the point should be a number, got Tensor of shape (2,) on the meta device, which holds no values."
    )


NOT_NUMBERS = {  # a picture as a tensor, a name, a model, or a function
    "check_channels_first",
    "check_dress_confusion",
    "check_most_variable",
    "check_only_output_trainable",
    "check_discriminator_move",
    "check_penalty_function",
    "check_unlabelled_loss",
}
NUMBERS = [(name, arguments, right) for name, arguments, right in ANSWERS if name not in NOT_NUMBERS]


@pytest.mark.parametrize(
    "name, arguments, right", NUMBERS, ids=[f"{name}-{index}" for index, (name, _, _) in enumerate(NUMBERS)]
)
def test_a_meta_tensor_holds_no_answer_and_a_sparse_one_is_read_by_its_values(capsys, name, arguments, right):
    values = torch.as_tensor(np.asarray(right(), dtype=float))
    run(name, arguments, values.to("meta"))
    assert_one_not_yet(verdict(capsys))
    run(name, arguments, values.reshape(-1).to_sparse() if values.ndim == 0 else values.to_sparse())
    out = verdict(capsys)
    assert out.startswith("Correct!") and "Not yet" not in out, out


def _doubled_penalty(critic, real, fake, mix, weight=10.0):
    # The right penalty, computed after turning the check's critic and tensors to double precision.
    from course import gan

    return gan.gradient_penalty(critic.double(), real.double(), fake.double(), mix.double(), weight)


def _returns(tensor):
    """A learner's function that ignores its arguments and returns `tensor`."""
    return lambda *arguments, weight=10.0: tensor


@pytest.mark.parametrize(
    "check, answer",
    [
        (exercises.check_penalty_function, _doubled_penalty),
        (exercises.check_penalty_function, _returns(torch.empty((), device="meta"))),
        (exercises.check_penalty_function, _returns(torch.tensor([1.0]).to_sparse())),
        (exercises.check_discriminator_move, lambda d, o, r, f: d.double()(r.double()).mean()),
        (exercises.check_discriminator_move, _returns(torch.empty((), device="meta"))),
        (exercises.check_discriminator_move, _returns(torch.tensor([1.0]).to_sparse())),
        (exercises.check_unlabelled_loss, _returns(torch.empty((), device="meta"))),
        (exercises.check_unlabelled_loss, _returns(torch.tensor([1.0]).to_sparse())),
        (exercises.check_unlabelled_loss, lambda real, fake: unlabelled_loss(real.to_sparse(), fake.to_sparse())),
    ],
    ids=[
        "penalty-double",
        "penalty-meta",
        "penalty-sparse",
        "move-double",
        "move-meta",
        "move-sparse",
        "loss-meta",
        "loss-sparse",
        "loss-of-sparse",
    ],
)
def test_learner_code_that_leaves_exotic_tensors_gets_one_line_not_a_traceback(check, answer, capsys):
    check(answer)  # raises nothing
    out = verdict(capsys)
    assert out.startswith("Not yet") and "Traceback" not in out and out.count("\n") <= 2, out
