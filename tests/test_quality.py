import dataclasses
import shutil

import numpy as np
import pytest
import torch

from course import quality
from course.checksums import file_sha256
from course.cli import main
from course.models import SmallCNN
from course.quality import (
    QualityReport,
    classifier_features,
    dressness,
    evaluate_samples,
    frechet_distance,
    load_quality_classifier,
    real_floor,
    require_samples,
)

CPU = torch.device("cpu")
COAT = 4


@pytest.fixture(scope="module")
def classifier():
    return load_quality_classifier(CPU)


# --- the committed classifier -------------------------------------------------------------------


def test_the_committed_weights_match_their_checksum_and_hold_plain_tensors():
    assert file_sha256(quality.CLASSIFIER_PATH) == quality.CLASSIFIER_SHA256
    state = torch.load(quality.CLASSIFIER_PATH, map_location="cpu", weights_only=True)
    assert set(state) == set(SmallCNN().state_dict())


def test_the_classifier_loads_frozen_in_eval_mode_once_per_device(classifier):
    assert isinstance(classifier, SmallCNN) and not classifier.training
    assert not any(p.requires_grad for p in classifier.parameters())
    assert load_quality_classifier(CPU) is classifier


def test_a_changed_weights_file_is_refused(tmp_path, monkeypatch):
    tampered = tmp_path / "fashion_classifier.pt"
    shutil.copy(quality.CLASSIFIER_PATH, tampered)
    state = torch.load(tampered, weights_only=True)
    state["classifier.3.bias"][0] += 1.0  # a small change: still loadable, but not the committed weights
    torch.save(state, tampered)
    monkeypatch.setattr(quality, "CLASSIFIER_PATH", tampered)
    with pytest.raises(ValueError, match="has been changed.*git checkout -- course/weights/fashion_classifier.pt"):
        load_quality_classifier(CPU)


def test_a_missing_weights_file_says_how_to_get_it_back(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "CLASSIFIER_PATH", tmp_path / "fashion_classifier.pt")
    with pytest.raises(FileNotFoundError, match="git checkout -- course/weights.*python -m course train-classifier"):
        load_quality_classifier(CPU)


# --- the Fréchet distance -----------------------------------------------------------------------


def test_frechet_distance_of_a_set_to_itself_is_zero_and_it_is_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 8)), rng.normal(1.0, 2.0, size=(400, 8))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 1


def test_frechet_distance_in_one_dimension_is_means_and_standard_deviations():
    rng = np.random.default_rng(1)
    a, b = rng.normal(2.0, 1.0, size=(300, 1)), rng.normal(-1.0, 3.0, size=(200, 1))
    by_hand = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(by_hand, rel=1e-9)


def test_frechet_distance_of_independent_features_adds_up_per_feature():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20_000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(size=(20_000, 3)) * [3.0, 1.0, 0.5] + [1.0, 0.0, -2.0]
    per_feature = sum(frechet_distance(a[:, [i]], b[:, [i]]) for i in range(3))
    # for diagonal covariances the formula splits into one 1-D distance per feature:
    # means (1 + 0 + 4) plus standard deviations (4 + 1 + 0)
    assert frechet_distance(a, b) == pytest.approx(10.0, rel=0.02)
    assert frechet_distance(a, b) == pytest.approx(per_feature, rel=1e-3)


def test_frechet_distance_is_not_negative_even_for_degenerate_sets():
    rng = np.random.default_rng(3)
    flat = np.repeat(rng.normal(size=(1, 4)), 10, axis=0)  # zero covariance
    few = rng.normal(size=(3, 64))  # rank 2 in 64 dimensions
    assert frechet_distance(flat, flat) == 0.0
    assert frechet_distance(few, few) >= 0.0 and frechet_distance(few, few[::-1]) >= 0.0


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros(10), np.zeros((10, 1)), "2-D array"),
        (np.zeros((1, 3)), np.zeros((10, 3)), "at least 2 rows"),
        (np.zeros((10, 3)), np.zeros((10, 4)), "same number of columns"),
        (np.full((10, 3), np.nan), np.zeros((10, 3)), "finite numbers"),
    ],
)
def test_frechet_distance_rejects_bad_shapes(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(a, b)


# --- samples against real dresses ---------------------------------------------------------------


def test_features_are_the_penultimate_layer(fashion, classifier):
    images = fashion.dresses("test")[:5]
    features = classifier_features(images, classifier, batch_size=2)
    assert features.shape == (5, 64) and features.dtype == np.float64 and (features >= 0).all()  # after a ReLU
    scores = classifier.classifier[-1](torch.from_numpy(features).float())
    with torch.no_grad():
        direct = classifier(torch.from_numpy(images).float().div(255).unsqueeze(1))
    assert torch.allclose(scores, direct, atol=1e-4)


def test_real_test_dresses_look_like_dresses_and_sit_on_the_floor(fashion, classifier):
    floor = real_floor(fashion, classifier)
    report = evaluate_samples(fashion.dresses("test"), fashion, classifier)
    assert 0 < floor < 5
    assert report.samples == 1000 and report.dressness >= 0.8 and report.real_dressness == report.dressness
    assert report.frechet_distance == pytest.approx(floor) and report.distance_over_floor == pytest.approx(1)
    assert dressness(fashion.dresses("test"), classifier) == report.dressness


def test_noise_is_far_from_dresses(fashion, classifier):
    noise = np.random.default_rng(0).integers(0, 256, size=(1000, 28, 28), dtype=np.uint8)
    report = evaluate_samples(noise, fashion, classifier)
    assert report.distance_over_floor > 100  # measured: about 500x
    assert abs(report.dressness - 0.9) > 0.5


def test_coats_are_clothes_but_not_dresses(fashion, classifier):
    coats = fashion.test_images[fashion.test_labels == COAT]
    report = evaluate_samples(coats, fashion, classifier)
    assert len(coats) == 1000 and report.distance_over_floor > 100 and report.dressness < 0.1  # measured: 430x, 0.03


def test_the_report_reads_as_one_line():
    coverage = dict(precision=0.71, recall=0.52, real_precision=0.86, real_recall=0.85)
    report = QualityReport(
        samples=1000, dressness=0.91, frechet_distance=3.2, floor=1.1, real_dressness=0.9, **coverage
    )
    assert str(report) == (
        "1,000 samples: dressness 0.91 (real test dresses: 0.90) · "
        "squared Fréchet distance d² 3.2 (real-vs-real floor 1.1, 2.9x) · "
        "precision 0.71, recall 0.52 (real test dresses: 0.86, 0.85)"
    )
    fewer = QualityReport(samples=100, dressness=0.9, frechet_distance=6.0, floor=1.1, real_dressness=0.9, **coverage)
    assert "the floor is for 1,000 samples" in str(fewer)


def test_precision_and_recall_tell_one_repeated_dress_from_varied_ones(fashion, classifier):
    test_dresses = fashion.dresses("test")
    varied = evaluate_samples(test_dresses, fashion, classifier)
    one_dress = evaluate_samples(np.repeat(test_dresses[:1], 1000, axis=0), fashion, classifier)
    # The test dresses are the reference: their own report gives exactly the reference values.
    assert (varied.precision, varied.recall) == (varied.real_precision, varied.real_recall)
    assert 0.75 < varied.real_precision < 0.97 and 0.75 < varied.real_recall < 0.97
    # One dress a thousand times: as faithful as that dress, and no variety at all.
    assert one_dress.recall < 0.01 and one_dress.precision in (0.0, 1.0)


def test_without_data_given_the_verified_fashion_mnist_is_used(fashion, classifier, monkeypatch):
    asked = []  # stands in for loading it again: the session's copy is the verified data too
    monkeypatch.setattr(quality, "load_fashion_mnist", lambda *args, **kwargs: asked.append((args, kwargs)) or fashion)
    monkeypatch.setattr(quality, "_real_dresses_cache", {})
    assert real_floor(classifier=classifier) == pytest.approx(real_floor(fashion, classifier))
    assert asked == [((), {})]  # loaded once, with its defaults: checked against the checksums


def test_the_real_dress_statistics_are_computed_once(fashion, classifier, monkeypatch):
    real_floor(fashion, classifier)  # computed (or already cached by an earlier test)
    monkeypatch.setattr(quality, "_look_at", None)  # any recomputation would now fail
    assert real_floor(fashion, classifier) > 0


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((4, 28, 28), dtype=np.float32), TypeError, "uint8.*got dtype float32"),
        (np.zeros((4, 1, 28, 28), dtype=np.uint8), ValueError, r"\(N, 28, 28\).*got shape \(4, 1, 28, 28\)"),
        (np.zeros((4, 32, 32), dtype=np.uint8), ValueError, r"got shape \(4, 32, 32\)"),
        (np.zeros((28, 28), dtype=np.uint8), ValueError, r"got shape \(28, 28\)"),
        (np.zeros((1, 28, 28), dtype=np.uint8), ValueError, "N >= 4.*got 1 image"),
        (np.zeros((3, 28, 28), dtype=np.uint8), ValueError, "got 3 image.*score at least 4"),
        (torch.zeros(4, 28, 28, dtype=torch.uint8), TypeError, "NumPy array.*got Tensor"),
    ],
)
def test_bad_samples_are_refused_with_what_was_expected(images, error, message, classifier):
    with pytest.raises(error, match=message):
        require_samples(images)
    with pytest.raises(error, match="convert to uint8 0-255|score at least 4"):
        evaluate_samples(images, classifier=classifier)
    with pytest.raises(error):
        dressness(images, classifier)


# --- training and the command -------------------------------------------------------------------


def test_the_quality_classifier_trains_repeatably_for_a_seed(fashion, same_weights):
    few = dataclasses.replace(
        fashion,
        train_images=fashion.train_images[:256],
        train_labels=fashion.train_labels[:256],
        test_images=fashion.test_images[:64],
        test_labels=fashion.test_labels[:64],
    )
    first, second = (quality.train_quality_classifier(few, "cpu", epochs=1, progress=False) for _ in range(2))
    assert isinstance(first, SmallCNN) and not first.training
    assert same_weights(first, second)


def test_train_classifier_command_saves_weights_and_names_their_checksum(tmp_path, monkeypatch, capsys, fashion):
    import course.data

    untrained = SmallCNN(num_classes=10)
    fewer = dataclasses.replace(fashion, test_images=fashion.test_images[:2000], test_labels=fashion.test_labels[:2000])
    monkeypatch.setattr(course.data, "load_fashion_mnist", lambda: fewer)  # what the command loads
    monkeypatch.setattr(quality, "train_quality_classifier", lambda fashion, device, epochs: untrained.to(device))
    out = tmp_path / "classifier.pt"
    assert main(["train-classifier", "--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"SHA-256 {file_sha256(out)}" in printed and "test accuracy" in printed and "dress recall" in printed
    assert "set CLASSIFIER_SHA256" in printed  # new weights: the reminder to update the checksum
    state = torch.load(out, weights_only=True)
    assert all(torch.equal(state[name], tensor.cpu()) for name, tensor in untrained.state_dict().items())


def test_classify_names_the_class_of_real_images_mostly_right(fashion):
    from course.quality import classify

    judged = classify(fashion.test_images[:500])
    assert judged.shape == (500,) and (judged == fashion.test_labels[:500]).mean() > 0.85
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        classify(np.zeros((4, 3, 32, 32), dtype=np.uint8))
