import dataclasses
import math

import pytest
import torch

from course import semi_supervised as ssgan
from course.models import SmallCNN
from course.transfer import TARGET_CLASSES, TransferSettings, make_task, steps_per_run

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
    assert ssgan.unlabelled_loss(real.repeat(2, 1), fake.repeat(2, 1)).item() == pytest.approx(
        math.log(1.5) + math.log(2)
    )


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


@pytest.mark.slow
def test_a_short_run_gives_k_plus_one_outputs_and_repeats_for_a_seed(task, same_weights):
    settings = ssgan.SemiSupervisedSettings(steps=3, labelled_batch=4, unlabelled_batch=8)
    pool = task.test_images  # any unlabelled images will do for the mechanics
    model, generator, scores = ssgan.train_semi_supervised(task, pool, settings, seed=1, progress=False)
    assert model(pool[:2]).shape == (2, len(TARGET_CLASSES) + 1) and generator(torch.randn(2, 64)).shape == (
        2,
        1,
        28,
        28,
    )
    assert 0 <= scores["train_accuracy"] <= 1 and 0 <= scores["test_accuracy"] <= 1
    again, _, _ = ssgan.train_semi_supervised(task, pool, settings, seed=1, progress=False)
    assert same_weights(model, again)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": 0}, "steps must be a positive int"),
        ({"learning_rate": 2.0}, "learning_rate"),
        ({"unlabelled_batch": 1.5}, "unlabelled_batch"),
        ({"learning_rates": ()}, "learning_rates"),
        ({"learning_rates": (1e-3, 0.0)}, "learning_rates"),
        ({"learning_rates": [1e-3]}, "learning_rates"),
        ({"validation_images_per_class": 0}, "validation_images_per_class"),
        ({"tuning_draw": -1}, "tuning_draw"),
    ],
)
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ssgan.SemiSupervisedSettings(**changes)


def test_too_few_unlabelled_images_are_refused(task):
    with pytest.raises(ValueError, match="at least 64 images"):
        ssgan.train_semi_supervised(task, task.train_images[:3], ssgan.SemiSupervisedSettings(), seed=0, progress=False)


@pytest.fixture
def recorded_training(runs_dir, monkeypatch):
    """Runs go to a temporary folder; training is replaced by stand-ins that record every run and score it by its rate.

    On the validation images, scratch and transfer do best at the larger rate and the GAN at the smaller.
    """
    calls = []

    def scores(method, task, rate, score_test):
        assert task.validation_images is not None  # every run of the comparison has validation images
        validation = 0.5 + (100 * rate if method != "semi-supervised GAN" else -100 * rate)
        return {"train_accuracy": 1.0, "validation_accuracy": validation} | (
            {"test_accuracy": 0.75} if score_test else {}
        )

    def fake_gan(task, pool, settings, seed, progress, step, score_test):
        calls.append(("semi-supervised GAN", len(task.train_images) // 5, seed, settings.learning_rate, score_test))
        return None, None, scores("semi-supervised GAN", task, settings.learning_rate, score_test)

    def fake_classifier(method, task, settings, seed, pretrained, score_test, betas):
        assert (
            betas == ssgan.BETAS and settings.steps == SETTINGS.steps and settings.batch_size == SETTINGS.labelled_batch
        )  # the GAN's budget
        calls.append((method, len(task.train_images) // 5, seed, settings.learning_rate, score_test))
        return None, scores(method, task, settings.learning_rate, score_test)

    monkeypatch.setattr(ssgan, "train_semi_supervised", fake_gan)
    monkeypatch.setattr(ssgan, "train_on_few_labels", fake_classifier)
    return calls


SMOKE = TransferSettings.for_scale("smoke")
SETTINGS = ssgan.SemiSupervisedSettings.for_scale("smoke")


def test_settings_for_each_scale():
    smoke, laptop = ssgan.SemiSupervisedSettings.for_scale("smoke"), ssgan.SemiSupervisedSettings.for_scale("laptop")
    assert (smoke.steps, smoke.validation_images_per_class) == (10, 200)  # the draws do not depend on the scale
    assert (laptop.steps, laptop.validation_images_per_class, laptop.learning_rates) == (640, 200, (1e-3, 3e-3))
    assert (
        laptop.steps % laptop.labelled_batch == 0
    )  # so scratch and transfer take exactly as many steps at every budget
    assert smoke.tuning_draw not in range(SMOKE.seeds) and laptop.tuning_draw not in range(
        TransferSettings.for_scale("full").seeds
    )


@pytest.mark.slow
def test_the_comparison_chooses_each_rate_on_validation_then_scores_the_test_images_once(
    fashion, runs_dir, recorded_training
):
    tuning, results = ssgan.run_comparison(fashion, SMOKE, SETTINGS, CPU, pretrained=None)
    budgets, rates, draw = SMOKE.labels_per_class, SETTINGS.learning_rates, SETTINGS.tuning_draw
    choosing = [call for call in recorded_training if call[2] == draw]
    assert sorted(choosing) == sorted(
        (m, n, draw, r, False) for m in ssgan.METHODS for n in budgets for r in rates
    )  # no test score
    reported = [call for call in recorded_training if call[2] != draw]
    chosen = {"scratch": max(rates), "transfer": max(rates), "semi-supervised GAN": min(rates)}
    assert sorted(reported) == sorted((m, n, 0, chosen[m], True) for m in ssgan.METHODS for n in budgets)
    assert len(tuning) == len(choosing) and "test_accuracy" not in tuning.columns
    assert len(results) == len(reported) and results["gap"].tolist() == [0.25] * len(results)
    assert {(row.method, row.learning_rate) for row in results.itertuples()} == set(chosen.items())
    assert set(results.loc[results["method"] == "semi-supervised GAN", "steps"]) == {SETTINGS.steps}
    same_budget = dataclasses.replace(SMOKE, steps=SETTINGS.steps, batch_size=SETTINGS.labelled_batch)
    for row in results[results["method"] != "semi-supervised GAN"].itertuples():  # whole epochs over 5 classes' labels
        assert row.steps == steps_per_run(same_budget, 5 * row.labels_per_class)[2]
    assert (runs_dir / "semi_supervised" / "smoke" / "results.json").is_file()
    recorded_training.clear()
    again_tuning, again = ssgan.run_comparison(fashion, SMOKE, SETTINGS, CPU, pretrained=None)
    assert (
        recorded_training == [] and again.equals(results) and again_tuning.equals(tuning)
    )  # resumed: nothing trained twice


@pytest.mark.slow
def test_a_single_run_is_recorded_so_the_comparison_does_not_repeat_it(fashion, recorded_training):
    smallest, draw, rate = SMOKE.labels_per_class[0], SETTINGS.tuning_draw, SETTINGS.learning_rates[0]
    task, _, _, scores = ssgan.run_one("semi-supervised GAN", fashion, SMOKE, SETTINGS, CPU, smallest, draw, rate)
    assert (
        len(task.train_images) == 5 * smallest
        and len(task.validation_images) == 5 * SETTINGS.validation_images_per_class
    )
    assert "test_accuracy" not in scores  # a single run leaves the test images alone unless asked
    recorded_training.clear()
    ssgan.run_comparison(fashion, SMOKE, SETTINGS, CPU, pretrained=None)
    assert ("semi-supervised GAN", smallest, draw, rate, False) not in recorded_training
    with pytest.raises(ValueError, match="per_class must be one of"):
        ssgan.run_one("scratch", fashion, SMOKE, SETTINGS, CPU, 7, 0, rate)
    with pytest.raises(ValueError, match="method must be one of"):
        ssgan.run_one("finetune", fashion, SMOKE, SETTINGS, CPU, smallest, 0, rate)


def test_the_rates_are_not_chosen_on_a_reported_draw(fashion, recorded_training):
    with pytest.raises(ValueError, match="tuning_draw must not be one of the reported draws"):
        ssgan.run_comparison(fashion, SMOKE, dataclasses.replace(SETTINGS, tuning_draw=0), CPU, pretrained=None)


def test_the_gan_s_rate_falls_linearly_to_zero_as_in_notebook_04(task):
    rates, betas = [], []

    def recording_step(discriminator, generator, d_optimizer, g_optimizer, *batches):
        rates.append((d_optimizer.param_groups[0]["lr"], g_optimizer.param_groups[0]["lr"]))
        betas.append(d_optimizer.param_groups[0]["betas"])
        return ssgan.train_step(discriminator, generator, d_optimizer, g_optimizer, *batches)

    settings = ssgan.SemiSupervisedSettings(steps=4, labelled_batch=4, unlabelled_batch=8, learning_rate=2e-3)
    ssgan.train_semi_supervised(task, task.test_images, settings, seed=0, progress=False, step=recording_step)
    assert rates == [pytest.approx((2e-3 * f, 2e-3 * f)) for f in (1, 0.75, 0.5, 0.25)] and set(betas) == {ssgan.BETAS}


def test_the_scores_name_the_images_they_come_from(fashion):
    settings = ssgan.SemiSupervisedSettings(steps=2, labelled_batch=4, unlabelled_batch=8)
    with_validation = make_task(
        fashion, TARGET_CLASSES, CPU, per_class=2, seed=0, test_per_class=20, validation_per_class=4
    )
    _, _, scores = ssgan.train_semi_supervised(
        with_validation, with_validation.test_images, settings, seed=0, progress=False, score_test=False
    )
    assert set(scores) == {"train_accuracy", "validation_accuracy"}
    _, _, scores = ssgan.train_semi_supervised(
        with_validation, with_validation.test_images, settings, seed=0, progress=False
    )
    assert set(scores) == {"train_accuracy", "validation_accuracy", "test_accuracy"}


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
