import json

import pytest

from course import gan, gan_sampling, gan_training, quality_over_training


@pytest.fixture(scope="module")
def dresses(fashion):
    """64 of Fashion-MNIST's training dresses in the GAN's training range: real pictures, so scores mean something."""
    return gan_sampling.to_training_range(fashion.dresses("train")[:64])


def test_stages_end_every_so_many_steps_and_at_the_last_one():
    assert quality_over_training.stage_ends(10, 4) == [4, 8, 10]
    assert quality_over_training.stage_ends(8, 4) == [4, 8]
    assert quality_over_training.stage_ends(3, 5) == [3]
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="measure_every must be a positive int"):
            quality_over_training.stage_ends(10, bad)


@pytest.mark.slow
def test_training_in_stages_gives_the_uninterrupted_run_and_one_score_per_stage(
    tmp_path, dresses, fashion, tiny_config, same_weights
):
    whole = gan_training.train_gan(tiny_config(), dresses, tmp_path / "whole", progress=False)
    staged, scores = quality_over_training.train_and_measure(
        tiny_config(), dresses, tmp_path / "staged", 4, fashion, samples=50, progress=False
    )
    assert staged.step == 6 and same_weights(whole.generator, staged.generator)
    assert whole.history == staged.history
    assert [entry["step"] for entry in scores] == [4, 6]
    for entry in scores:
        assert 0 <= entry["dressness"] <= 1 and entry["frechet_distance"] > 0
        assert entry["distance_over_floor"] == pytest.approx(entry["frechet_distance"] / entry["floor"])
    assert scores[0]["seconds"] <= scores[1]["seconds"]
    assert json.loads((tmp_path / "staged" / quality_over_training.MEASUREMENTS).read_text())["rows"] == scores


@pytest.mark.slow
def test_a_rerun_keeps_the_scores_and_trains_only_what_is_missing(tmp_path, dresses, fashion, monkeypatch, tiny_config):
    folder = tmp_path / "run"
    _, first = quality_over_training.train_and_measure(
        tiny_config(steps=4), dresses, folder, 2, fashion, samples=20, progress=False
    )
    trained_from = []
    real_train = gan_training.train_gan

    def spy(config, *args, **kwargs):
        trained_from.append((gan_training.read_checkpoint(folder / gan_training.CHECKPOINT)["step"], config.steps))
        return real_train(config, *args, **kwargs)

    monkeypatch.setattr(quality_over_training, "train_gan", spy)
    run, scores = quality_over_training.train_and_measure(
        tiny_config(steps=6), dresses, folder, 2, fashion, samples=20, progress=False
    )
    assert run.step == 6 and scores[:2] == first and [entry["step"] for entry in scores] == [2, 4, 6]
    assert trained_from == [(4, 6)]  # stages 2 and 4 were not trained or scored again


@pytest.mark.slow
def test_scores_without_their_checkpoint_are_dropped(tmp_path, dresses, fashion, tiny_config):
    folder = tmp_path / "run"
    quality_over_training.train_and_measure(
        tiny_config(steps=2), dresses, folder, 2, fashion, samples=20, progress=False
    )
    (folder / gan_training.CHECKPOINT).unlink()
    _, scores = quality_over_training.train_and_measure(
        tiny_config(steps=2), dresses, folder, 1, fashion, samples=20, progress=False
    )
    assert [entry["step"] for entry in scores] == [1, 2]


@pytest.mark.slow
def test_a_stop_request_ends_the_stages_and_the_next_call_continues(
    tmp_path, dresses, fashion, monkeypatch, tiny_config, same_weights
):
    folder = tmp_path / "run"
    real_train = gan_training.train_gan

    def stopped_after_three(config, *args, **kwargs):
        run = real_train(gan.GANConfig(**{**config.__dict__, "steps": min(config.steps, 3)}), *args, **kwargs)
        run.interrupted = run.step < config.steps
        return run

    monkeypatch.setattr(quality_over_training, "train_gan", stopped_after_three)
    run, scores = quality_over_training.train_and_measure(
        tiny_config(), dresses, folder, 2, fashion, samples=20, progress=False
    )
    assert run.interrupted and run.step == 3 and [entry["step"] for entry in scores] == [2]
    monkeypatch.setattr(quality_over_training, "train_gan", real_train)
    whole = gan_training.train_gan(tiny_config(), dresses, tmp_path / "whole", progress=False)
    run, scores = quality_over_training.train_and_measure(
        tiny_config(), dresses, folder, 2, fashion, samples=20, progress=False
    )
    assert [entry["step"] for entry in scores] == [2, 4, 6] and same_weights(whole.generator, run.generator)


def test_scores_of_another_sample_count_are_not_reused_and_no_stage_is_scored_late(
    tmp_path, dresses, fashion, tiny_config
):
    folder = tmp_path / "run"
    _, first = quality_over_training.train_and_measure(
        tiny_config(steps=4), dresses, folder, 2, fashion, samples=20, progress=False
    )
    assert [entry["step"] for entry in first] == [2, 4]
    run, again = quality_over_training.train_and_measure(
        tiny_config(steps=4), dresses, folder, 2, fashion, samples=30, progress=False
    )
    # Step 2's generator is gone (the checkpoint holds step 4), so only step 4 is scored anew, with 30 samples.
    assert run.step == 4 and [entry["step"] for entry in again] == [4] and again[0] != first[1]


def test_scores_saved_as_a_bare_list_before_settings_were_kept_are_still_used(
    tmp_path, dresses, fashion, tiny_config, monkeypatch
):
    folder = tmp_path / "run"
    _, first = quality_over_training.train_and_measure(
        tiny_config(steps=4), dresses, folder, 2, fashion, samples=20, progress=False
    )
    (folder / quality_over_training.MEASUREMENTS).write_text(json.dumps(first))  # the older file: the scores alone
    monkeypatch.setattr(quality_over_training, "evaluate_samples", None)  # nothing may be scored again
    _, again = quality_over_training.train_and_measure(
        tiny_config(steps=4), dresses, folder, 2, fashion, samples=20, progress=False
    )
    assert again == first


def test_stages_score_the_moving_average_when_the_run_keeps_one(tmp_path, dresses, fashion, monkeypatch, tiny_config):
    runs, scored = [], []
    real_train, real_generate = gan_training.train_gan, quality_over_training.generate

    def keep_run(*args, **kwargs):
        runs.append(real_train(*args, **kwargs))
        return runs[-1]

    def keep_generator(generator, *args, **kwargs):
        scored.append(generator)
        return real_generate(generator, *args, **kwargs)

    monkeypatch.setattr(quality_over_training, "train_gan", keep_run)
    monkeypatch.setattr(quality_over_training, "generate", keep_generator)
    run, scores = quality_over_training.train_and_measure(
        tiny_config(steps=4, ema_decay=0.9), dresses, tmp_path, 2, fashion, samples=20, progress=False
    )
    assert [entry["step"] for entry in scores] == [2, 4] and len(runs) == 2
    assert all(generator is stage.average is not None for generator, stage in zip(scored, runs, strict=True))
