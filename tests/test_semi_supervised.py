import math

import pytest
import torch

from course import semi_supervised as ssgan
from course.models import SmallCNN
from course.transfer import TARGET_CLASSES, TransferSettings, make_task

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def task(fashion):
    return make_task(fashion, TARGET_CLASSES, CPU, per_class=2, seed=0, test_per_class=20)


def test_the_unlabelled_loss_on_a_hand_computed_example():
    # Two classes and "fake". Real scores all 0: p(fake) = 1/3, so -log(1 - 1/3) = log 1.5.
    # Fake scores (0, 0, log 2): p(fake) = 2 / (1 + 1 + 2) = 1/2, so -log(1/2) = log 2.
    real, fake = torch.zeros(1, 3), torch.tensor([[0.0, 0.0, math.log(2)]])
    assert ssgan.unlabelled_loss(real, fake).item() == pytest.approx(math.log(1.5) + math.log(2))
    # A batch is averaged: a second, identical row changes nothing.
    assert ssgan.unlabelled_loss(real.repeat(2, 1), fake.repeat(2, 1)).item() == pytest.approx(math.log(1.5) + math.log(2))


def test_the_labelled_loss_is_cross_entropy_over_all_k_plus_one_scores():
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))
    assert ssgan.labelled_loss(logits, torch.tensor([0])).item() == pytest.approx(expected)


def test_feature_matching_compares_means_only():
    real = torch.tensor([[0.0, 2.0], [2.0, 0.0]])
    assert ssgan.feature_matching_loss(real, torch.ones(5, 2)).item() == 0
    assert ssgan.feature_matching_loss(real, torch.zeros(3, 2)).item() == pytest.approx(1.0)


def test_classes_are_predicted_without_the_fake_score():
    model = SmallCNN(3)
    with torch.no_grad():
        model.classifier[-1].weight.zero_()
        model.classifier[-1].bias.copy_(torch.tensor([1.0, 2.0, 10.0]))  # "fake" scores highest
    assert ssgan.predicted_classes(model, torch.zeros(4, 1, 28, 28), batch_size=3).tolist() == [1, 1, 1, 1]
    assert ssgan.hidden_features(model, torch.zeros(4, 1, 28, 28)).shape == (4, 64)


def test_a_short_run_gives_k_plus_one_outputs_and_repeats_for_a_seed(task, same_weights):
    settings = ssgan.SemiSupervisedSettings(steps=3, labelled_batch=4, unlabelled_batch=8)
    pool = task.test_images  # any unlabelled images will do for the mechanics
    model, generator, scores = ssgan.train_semi_supervised(task, pool, settings, seed=1, progress=False)
    assert model(pool[:2]).shape == (2, len(TARGET_CLASSES) + 1) and generator(torch.randn(2, 64)).shape == (2, 1, 28, 28)
    assert 0 <= scores["train_accuracy"] <= 1 and 0 <= scores["test_accuracy"] <= 1
    again, _, _ = ssgan.train_semi_supervised(task, pool, settings, seed=1, progress=False)
    assert same_weights(model, again)


@pytest.mark.parametrize(
    "changes, message",
    [({"steps": 0}, "steps must be a positive int"), ({"learning_rate": 2.0}, "learning_rate"), ({"unlabelled_batch": 1.5}, "unlabelled_batch")],
)
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ssgan.SemiSupervisedSettings(**changes)


def test_too_few_unlabelled_images_are_refused(task):
    with pytest.raises(ValueError, match="at least 64 images"):
        ssgan.train_semi_supervised(task, task.train_images[:3], ssgan.SemiSupervisedSettings(), seed=0, progress=False)


@pytest.fixture
def recorded_training(tmp_path, monkeypatch):
    """Runs go to a temporary folder and training is replaced by a stand-in that records (images, seed) per run."""
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))
    calls = []

    def fake_training(task, pool, settings, seed, progress, step):
        calls.append((len(task.train_images), seed))
        return None, None, {"train_accuracy": 1.0, "test_accuracy": 0.5}

    monkeypatch.setattr(ssgan, "train_semi_supervised", fake_training)
    return calls


SMOKE = TransferSettings.for_scale("smoke")


def test_the_experiment_saves_every_run_and_resumes(fashion, tmp_path, recorded_training):
    settings = ssgan.SemiSupervisedSettings.for_scale("smoke")
    results = ssgan.run_experiment(fashion, SMOKE, settings, CPU)
    assert recorded_training == [(5 * n, 0) for n in SMOKE.labels_per_class]
    assert results["gap"].tolist() == [0.5] * 3 and (tmp_path / "semi_supervised" / "smoke" / "results.json").is_file()
    recorded_training.clear()
    assert ssgan.run_experiment(fashion, SMOKE, settings, CPU).equals(results) and recorded_training == []


def test_a_single_run_is_recorded_so_the_experiment_does_not_repeat_it(fashion, recorded_training):
    settings = ssgan.SemiSupervisedSettings.for_scale("smoke")
    smallest = SMOKE.labels_per_class[0]
    task, _, _, scores = ssgan.run_one(fashion, SMOKE, settings, CPU, smallest, 0)
    assert len(task.train_images) == 5 * smallest and scores["test_accuracy"] == 0.5
    recorded_training.clear()
    results = ssgan.run_experiment(fashion, SMOKE, settings, CPU)
    assert recorded_training == [(5 * n, 0) for n in SMOKE.labels_per_class[1:]]  # the recorded run is not repeated
    assert len(results) == len(SMOKE.labels_per_class)
    with pytest.raises(ValueError, match="per_class must be one of"):
        ssgan.run_one(fashion, SMOKE, settings, CPU, 7, 0)


def test_training_calls_the_step_it_is_given():
    """train_semi_supervised plays whatever step it is handed (notebook 08 hands it its own), once per step."""
    from course import semi_supervised
    from course.transfer import Task

    calls = []

    def counting_step(*args):
        calls.append(len(args))
        return semi_supervised.train_step(*args)

    images = torch.rand(20, 1, 28, 28)
    labels = torch.arange(20) % 5
    small = Task(images[:10], labels[:10], images[10:], labels[10:], ("a", "b", "c", "d", "e"))
    settings = semi_supervised.SemiSupervisedSettings(steps=3, labelled_batch=4, unlabelled_batch=8)
    semi_supervised.train_semi_supervised(small, images, settings, seed=0, progress=False, step=counting_step)
    assert calls == [8, 8, 8]
