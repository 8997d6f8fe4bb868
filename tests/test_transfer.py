import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from course import transfer
from course.data import FashionMNIST
from course.models import SmallCNN
from course.runs import load_json, save_json
from course.transfer import (
    METHODS,
    SOURCE_CLASSES,
    TARGET_CLASSES,
    TransferSettings,
    few_per_class,
    fine_tune_optimizer,
    make_task,
    pick_classes,
    run_experiment,
    steps_per_run,
    summarise,
    train_on_few_labels,
    transfer_model,
)

CPU = torch.device("cpu")


@pytest.fixture
def fake_fashion():
    """Random images standing in for Fashion-MNIST: 40 training and 20 test images of each of the 10 classes."""
    rng = np.random.default_rng(0)
    train_labels = np.repeat(np.arange(10, dtype=np.uint8), 40)
    test_labels = np.repeat(np.arange(10, dtype=np.uint8), 20)
    return FashionMNIST(
        train_images=rng.integers(0, 256, (400, 28, 28), dtype=np.uint8),
        train_labels=rng.permutation(train_labels),
        test_images=rng.integers(0, 256, (200, 28, 28), dtype=np.uint8),
        test_labels=rng.permutation(test_labels),
        source="made up by the tests",
    )


@pytest.fixture
def tiny_settings():
    return dataclasses.replace(
        TransferSettings.for_scale("smoke"),
        labels_per_class=(2, 4),
        seeds=1,
        steps=2,
        pretrain_epochs=1,
        source_images_per_class=10,
        test_images_per_class=5,
    )


# --- Choosing classes and labelled images ---------------------------------------------------


def test_source_and_target_split_the_ten_classes_and_only_the_target_has_dresses():
    assert sorted(SOURCE_CLASSES + TARGET_CLASSES) == list(range(10))
    assert 3 in TARGET_CLASSES and 3 not in SOURCE_CLASSES


def test_pick_classes_keeps_those_classes_renumbered_in_the_given_order():
    labels = np.array([0, 5, 2, 5, 9, 2, 2])
    images = np.arange(7)[:, None, None] * np.ones((1, 2, 2), dtype=np.uint8)
    picked_images, picked_labels = pick_classes(images, labels, (5, 2))
    np.testing.assert_array_equal(picked_labels, [0, 1, 0, 1, 1])  # 5 -> 0, 2 -> 1
    np.testing.assert_array_equal(picked_images[:, 0, 0], [1, 2, 3, 5, 6])  # the images that go with them


@pytest.mark.parametrize("classes", [(1, 1), (3, 10), (-1, 2)])
def test_pick_classes_refuses_repeated_or_unknown_classes(classes):
    with pytest.raises(ValueError, match="distinct Fashion-MNIST labels 0-9"):
        pick_classes(np.zeros((3, 2, 2)), np.array([1, 2, 3]), classes)


def test_few_per_class_draws_exactly_that_many_of_each_class():
    labels = np.array([0] * 5 + [1] * 6 + [2] * 7)
    chosen = few_per_class(labels, per_class=3, seed=0)
    assert len(chosen) == len(set(chosen.tolist())) == 9
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 3]
    np.testing.assert_array_equal(few_per_class(labels, 3, seed=0), chosen)
    assert not np.array_equal(few_per_class(labels, 3, seed=1), chosen)
    everything_of_the_smallest = few_per_class(labels, per_class=5, seed=0)
    assert sorted(i for i in everything_of_the_smallest.tolist() if labels[i] == 0) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("per_class", [6, 0, 2.0])
def test_few_per_class_refuses_more_than_the_smallest_class_holds(per_class):
    labels = np.array([0] * 5 + [1] * 6)
    with pytest.raises(ValueError, match="per_class must be an int from 1 to 5"):
        few_per_class(labels, per_class, seed=0)


def test_make_task_takes_few_training_and_fixed_test_images(fake_fashion):
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, seed=0, test_per_class=5)
    assert task.class_names == ("Dress", "Coat", "Sandal", "Shirt", "Bag")
    assert task.train_images.shape == (10, 1, 28, 28) and task.train_images.dtype == torch.float32
    assert torch.bincount(task.train_labels).tolist() == [2] * 5
    assert torch.bincount(task.test_labels).tolist() == [5] * 5
    other_seed = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, seed=1, test_per_class=5)
    assert torch.equal(other_seed.test_images, task.test_images)  # every run is tested on the same images
    assert not torch.equal(other_seed.train_images, task.train_images)
    everything = make_task(fake_fashion, SOURCE_CLASSES, CPU, test_per_class=5)
    assert len(everything.train_labels) == 5 * 40


def test_make_task_can_set_validation_images_aside_the_same_for_every_draw(fake_fashion):
    plain = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, seed=0, test_per_class=5)
    assert plain.validation_images is None and plain.validation_labels is None  # none unless asked for
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, seed=0, test_per_class=5, validation_per_class=3)
    assert (
        task.validation_images.shape == (15, 1, 28, 28) and torch.bincount(task.validation_labels).tolist() == [3] * 5
    )
    other_seed = make_task(
        fake_fashion, TARGET_CLASSES, CPU, per_class=2, seed=1, test_per_class=5, validation_per_class=3
    )
    assert torch.equal(other_seed.validation_images, task.validation_images) and torch.equal(
        other_seed.test_images, task.test_images
    )
    everything = make_task(fake_fashion, TARGET_CLASSES, CPU, test_per_class=5, validation_per_class=3)
    assert len(everything.train_images) == 5 * (40 - 3)
    # no validation image is among the training images, whatever the draw (the fake images are all different)
    seen = {image.numpy().tobytes() for image in everything.train_images} | {
        image.numpy().tobytes() for image in other_seed.train_images
    }
    assert not seen & {image.numpy().tobytes() for image in task.validation_images}
    with pytest.raises(ValueError, match="per_class must be an int from 1 to 40"):
        make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, validation_per_class=41)


@pytest.mark.parametrize(
    "num_images, steps, expected",
    [
        (50, 960, (32, 480, 960)),
        (250, 960, (32, 120, 960)),
        (1000, 960, (32, 30, 960)),
        (1000, 300, (32, 9, 288)),
        (10, 3, (10, 3, 3)),
        (1000, 2, (32, 1, 32)),
    ],
)
def test_steps_per_run_makes_whole_epochs_as_close_to_the_steps_as_they_come(num_images, steps, expected):
    assert steps_per_run(TransferSettings(scale="smoke", steps=steps), num_images) == expected


# --- Settings ---------------------------------------------------------------------------------


def test_settings_for_each_scale():
    smoke, laptop = TransferSettings.for_scale("smoke"), TransferSettings.for_scale("laptop")
    assert (smoke.seeds, smoke.steps, smoke.pretrain_epochs) == (1, 10, 1)
    assert (smoke.source_images_per_class, smoke.test_images_per_class) == (300, 100)
    assert (laptop.seeds, laptop.steps, laptop.pretrain_epochs) == (3, 300, 3)
    assert (laptop.source_images_per_class, laptop.test_images_per_class) == (6000, 1000)
    assert smoke.labels_per_class == laptop.labels_per_class == (10, 50, 200)
    assert TransferSettings.for_scale("full").seeds == 5


def test_an_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="Unknown scale 'huge'"):
        TransferSettings.for_scale("huge")


# --- The transfer model -----------------------------------------------------------------------


def test_transfer_model_freezes_the_features_and_replaces_the_output_layer():
    torch.manual_seed(0)
    pretrained = SmallCNN(num_classes=5)
    before = {name: tensor.clone() for name, tensor in pretrained.state_dict().items()}
    model = transfer_model(pretrained, num_classes=3)
    assert not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())
    assert model.classifier[-1].out_features == 3 and model(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    assert torch.equal(model.features[0].weight, pretrained.features[0].weight)  # pretrained weights kept
    assert torch.equal(model.classifier[1].weight, pretrained.classifier[1].weight)
    assert model.features[0].weight is not pretrained.features[0].weight  # ... in a copy
    # the pretrained network itself is untouched
    assert all(p.requires_grad for p in pretrained.parameters())
    assert pretrained.classifier[-1].out_features == 5
    for name, tensor in pretrained.state_dict().items():
        assert torch.equal(tensor, before[name])


def test_fine_tune_optimizer_gives_the_pretrained_top_a_smaller_learning_rate():
    model = transfer_model(SmallCNN(num_classes=5), num_classes=3)
    optimizer = fine_tune_optimizer(model, learning_rate=0.01, fine_tune_factor=0.3)
    top, output = optimizer.param_groups
    assert len(optimizer.param_groups) == 2
    assert top["lr"] == pytest.approx(0.003) and output["lr"] == pytest.approx(0.01)
    assert {id(p) for p in top["params"]} == {id(p) for p in model.classifier[1].parameters()}
    assert {id(p) for p in output["params"]} == {id(p) for p in model.classifier[-1].parameters()}


def test_train_on_few_labels_refuses_an_unknown_method_and_transfer_without_a_source(fake_fashion, tiny_settings):
    with pytest.raises(ValueError, match=r"method must be one of \('scratch', 'transfer'\), got 'finetune'"):
        train_on_few_labels("finetune", None, tiny_settings, seed=0)
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, test_per_class=5)
    with pytest.raises(ValueError, match="pretrained=..."):
        train_on_few_labels("transfer", task, tiny_settings, seed=0)


def test_train_on_few_labels_leaves_the_pretrained_network_alone(fake_fashion, tiny_settings):
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, test_per_class=5)
    pretrained = SmallCNN(num_classes=5)
    before = {name: tensor.clone() for name, tensor in pretrained.state_dict().items()}
    model, scores = train_on_few_labels("transfer", task, tiny_settings, seed=0, pretrained=pretrained)
    assert set(scores) == {"train_accuracy", "test_accuracy"} and all(0 <= v <= 1 for v in scores.values())
    assert torch.equal(model.features[0].weight, before["features.0.weight"])  # frozen while training
    for name, tensor in pretrained.state_dict().items():
        assert torch.equal(tensor, before[name])


@pytest.mark.slow
def test_train_on_few_labels_validates_on_the_validation_images_and_can_leave_the_test_images_alone(
    fake_fashion, tiny_settings, monkeypatch
):
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, test_per_class=5, validation_per_class=3)
    held_out = []
    original = transfer.train_classifier

    def recording(model, train_images, train_labels, eval_images, eval_labels, **options):
        held_out.append(eval_images)
        return original(model, train_images, train_labels, eval_images, eval_labels, **options)

    monkeypatch.setattr(transfer, "train_classifier", recording)
    _, scores = train_on_few_labels("scratch", task, tiny_settings, seed=0, score_test=False)
    assert set(scores) == {"train_accuracy", "validation_accuracy"} and held_out[-1] is task.validation_images
    _, scores = train_on_few_labels("scratch", task, tiny_settings, seed=0)
    assert set(scores) == {"train_accuracy", "validation_accuracy", "test_accuracy"}


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_train_on_few_labels_takes_adam_s_betas(fake_fashion, tiny_settings, monkeypatch, method):
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, test_per_class=5)
    used = []
    original = transfer.train_classifier

    def recording(*args, optimizer, **options):
        used.append({group["betas"] for group in optimizer.param_groups})
        return original(*args, optimizer=optimizer, **options)

    monkeypatch.setattr(transfer, "train_classifier", recording)
    pretrained = SmallCNN(num_classes=5)
    train_on_few_labels(method, task, tiny_settings, seed=0, pretrained=pretrained)
    train_on_few_labels(method, task, tiny_settings, seed=0, pretrained=pretrained, betas=(0.5, 0.999))
    assert used == [{(0.9, 0.999)}, {(0.5, 0.999)}]  # Adam's own defaults unless told


@pytest.mark.slow
def test_transfer_runs_on_the_functions_it_is_given_and_gives_the_same_network_with_copies_of_the_course_s(
    fake_fashion, tiny_settings
):
    task = make_task(fake_fashion, TARGET_CLASSES, CPU, per_class=2, test_per_class=5)
    pretrained, calls = SmallCNN(num_classes=5), []

    def my_model(pretrained, num_classes):
        calls.append("model")
        return transfer_model(pretrained, num_classes)

    def my_optimizer(model, learning_rate, factor):
        calls.append(("optimizer", learning_rate, factor))
        return fine_tune_optimizer(model, learning_rate, factor)

    mine, my_scores = train_on_few_labels(
        "transfer", task, tiny_settings, seed=0, pretrained=pretrained, make_model=my_model, make_optimizer=my_optimizer
    )
    theirs, their_scores = train_on_few_labels("transfer", task, tiny_settings, seed=0, pretrained=pretrained)
    assert calls == ["model", ("optimizer", tiny_settings.learning_rate, tiny_settings.fine_tune_factor)]
    assert my_scores == their_scores
    for got, expected in zip(mine.state_dict().values(), theirs.state_dict().values(), strict=True):
        assert torch.equal(got, expected)
    calls.clear()
    train_on_few_labels("scratch", task, tiny_settings, seed=0, make_model=my_model, make_optimizer=my_optimizer)
    assert calls == []  # scratch builds its own network


@pytest.mark.slow
def test_run_experiment_hands_the_functions_to_every_transfer_run(fake_fashion, tiny_settings, runs_dir, monkeypatch):
    given, real = [], transfer.train_on_few_labels

    def recording(method, task, settings, seed, pretrained=None, **options):
        given.append((method, options))
        return real(method, task, settings, seed, pretrained, **options)

    monkeypatch.setattr(transfer, "train_on_few_labels", recording)

    def my_model(pretrained, num_classes):
        return transfer_model(pretrained, num_classes)

    def my_optimizer(model, learning_rate, factor):
        return fine_tune_optimizer(model, learning_rate, factor)

    run_experiment(fake_fashion, tiny_settings, CPU, make_model=my_model, make_optimizer=my_optimizer)
    assert len(given) == 4 and all(
        options == {"make_model": my_model, "make_optimizer": my_optimizer} for _, options in given
    )


# --- The experiment, saved and resumed --------------------------------------------------------


def test_run_experiment_runs_every_method_budget_and_seed_and_saves(fake_fashion, tiny_settings, runs_dir):
    results = run_experiment(fake_fashion, tiny_settings, CPU)
    assert len(results) == len(METHODS) * 2 * 1
    assert set(zip(results["method"], results["labels_per_class"], results["seed"], strict=True)) == {
        (method, budget, 0) for method in METHODS for budget in (2, 4)
    }
    for column in ("train_accuracy", "test_accuracy"):
        assert results[column].between(0, 1).all()
    np.testing.assert_allclose(results["gap"], results["train_accuracy"] - results["test_accuracy"])
    folder = runs_dir / "transfer" / "smoke"
    assert (folder / "source_model.pt").is_file() and (folder / "source_model.json").is_file()
    assert len(load_json(folder / "results.json")["rows"]) == 4


def test_a_second_run_loads_the_saved_results(fake_fashion, tiny_settings, runs_dir, monkeypatch):
    first = run_experiment(fake_fashion, tiny_settings, CPU)

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained again instead of loading")

    monkeypatch.setattr(transfer, "train_on_few_labels", must_not_train)
    monkeypatch.setattr(transfer, "pretrain", must_not_train)
    pd.testing.assert_frame_equal(run_experiment(fake_fashion, tiny_settings, CPU), first, check_like=True)


def test_a_missing_run_is_the_only_one_retrained(fake_fashion, tiny_settings, runs_dir, monkeypatch):
    first = run_experiment(fake_fashion, tiny_settings, CPU)
    path = runs_dir / "transfer" / "smoke" / "results.json"
    saved = load_json(path)
    saved["rows"] = [row for row in saved["rows"] if (row["method"], row["labels_per_class"]) != ("transfer", 4)]
    save_json(saved, path)

    calls, real = [], transfer.train_on_few_labels

    def counting(method, task, settings, seed, pretrained=None, **options):
        calls.append((method, len(task.train_labels) // 5, seed))
        return real(method, task, settings, seed, pretrained, **options)

    def must_not_pretrain(*args, **kwargs):
        raise AssertionError("pretrained again instead of loading source_model.pt")

    monkeypatch.setattr(transfer, "train_on_few_labels", counting)
    monkeypatch.setattr(transfer, "pretrain", must_not_pretrain)
    again = run_experiment(fake_fashion, tiny_settings, CPU)
    assert calls == [("transfer", 4, 0)]
    assert len(again) == 4 and len(load_json(path)["rows"]) == 4
    unchanged = again["method"].eq("scratch") | again["labels_per_class"].eq(2)
    pd.testing.assert_frame_equal(again[unchanged], first[unchanged], check_like=True)


def test_other_settings_do_not_reuse_saved_results(fake_fashion, tiny_settings, runs_dir, monkeypatch):
    run_experiment(fake_fashion, tiny_settings, CPU)
    calls, real = [], transfer.train_on_few_labels

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(transfer, "train_on_few_labels", counting)
    more_seeds = dataclasses.replace(tiny_settings, seeds=2)
    assert len(run_experiment(fake_fashion, more_seeds, CPU)) == 8
    assert len(calls) == 8


def test_summarise_averages_over_seeds_per_budget_and_method():
    results = pd.DataFrame(
        {
            "method": ["scratch", "scratch", "transfer", "transfer"] * 2,
            "labels_per_class": [10] * 4 + [50] * 4,
            "seed": [0, 1] * 4,
            "train_accuracy": [1.0, 0.8, 0.9, 0.7, 1.0, 1.0, 0.9, 0.9],
            "test_accuracy": [0.4, 0.6, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8],
        }
    )
    results["gap"] = results["train_accuracy"] - results["test_accuracy"]
    summary = summarise(results)
    assert summary.index.name == "labels_per_class" and list(summary.index) == [10, 50]
    assert list(summary.columns.names) == [None, "method"]
    assert set(summary.columns) == {
        (m, method) for m in ("train_accuracy", "test_accuracy", "gap") for method in METHODS
    }
    assert summary.loc[10, ("test_accuracy", "scratch")] == pytest.approx(0.5)
    assert summary.loc[10, ("gap", "scratch")] == pytest.approx(0.4)
    assert summary.loc[50, ("train_accuracy", "transfer")] == pytest.approx(0.9)
