import os
import signal

import numpy as np
import pytest
import torch

from course import gan
from course.gan_networks import Discriminator, Generator
from course.models import SmallCNN
from course.runs import save_weights


def test_networks_map_noise_to_images_and_images_to_one_score_each():
    generator, discriminator = Generator(latent_size=8, width=4), Discriminator(width=4)
    images = generator(torch.randn(5, 8))
    assert images.shape == (5, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert discriminator(images).shape == (5,)
    with pytest.raises(ValueError, match=r"noise must have shape \(N, 8\)"):
        generator(torch.randn(5, 9))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        discriminator(torch.randn(5, 28, 28))


def test_the_wgan_gp_critic_has_no_batch_norm(tiny_config):
    generator, critic, *_ = gan.build(tiny_config(loss="wgan-gp"), torch.device("cpu"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    _, dcgan_discriminator, *_ = gan.build(tiny_config(), torch.device("cpu"))
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in dcgan_discriminator.modules())


def test_images_survive_the_round_trip_to_the_training_range():
    pixels = np.random.default_rng(1).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    scaled = gan.to_training_range(pixels)
    assert scaled.shape == (3, 1, 28, 28) and scaled.min() >= -1 and scaled.max() <= 1
    np.testing.assert_array_equal(gan.to_uint8(scaled), pixels)
    with pytest.raises(ValueError, match="uint8"):
        gan.to_training_range(pixels.astype(float))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        gan.to_uint8(scaled[:, 0])


@pytest.mark.parametrize(
    "changes, message",
    [({"loss": "lsgan"}, "Unknown loss 'lsgan'"), ({"steps": -1}, "steps must be a positive int"),
     ({"batch_size": 0}, "batch_size"), ({"learning_rate": 5.0}, "learning_rate"),
     ({"label_smoothing": 0.7}, "label_smoothing must be a number from 0 up to 0.5"),
     ({"loss": "wgan", "label_smoothing": 0.1}, "applies to the dcgan loss only")],
)  # fmt: skip
def test_bad_settings_are_refused_with_what_was_expected(changes, message, tiny_config):
    with pytest.raises(ValueError, match=message):
        tiny_config(**changes)


def test_each_loss_gets_its_published_defaults():
    assert (gan.GANConfig("dcgan").critic_steps, gan.GANConfig("dcgan").learning_rate) == (1, 2e-4)
    assert (gan.GANConfig("wgan").critic_steps, gan.GANConfig("wgan").learning_rate) == (5, 5e-5)
    assert (gan.GANConfig("wgan-gp").critic_steps, gan.GANConfig("wgan-gp").learning_rate) == (5, 1e-4)
    assert [gan.GANConfig(loss).label_smoothing for loss in gan.LOSSES] == [0.1, 0.0, 0.0]


def test_label_smoothing_moves_the_real_target_only():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0])
    # With target t, the cross-entropy of logit s is -(t log σ(s) + (1 - t) log(1 - σ(s))).
    by_hand = lambda s, t: -(t * torch.log(torch.sigmoid(s)) + (1 - t) * torch.log(1 - torch.sigmoid(s))).mean()  # noqa: E731
    smoothed = gan.discriminator_loss("dcgan", real, fake, label_smoothing=0.1)
    assert torch.isclose(smoothed, by_hand(real, 0.9) + by_hand(fake, 0.0))
    assert torch.isclose(gan.discriminator_loss("dcgan", real, fake), by_hand(real, 1.0) + by_hand(fake, 0.0))
    assert gan.discriminator_loss("wgan", real, fake, label_smoothing=0.1) == fake.mean() - real.mean()


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_training_writes_history_samples_and_a_checkpoint(tmp_path, images, loss, tiny_config):
    run = gan.train_gan(tiny_config(loss=loss), images, tmp_path, progress=False)
    assert run.step == 6 and not run.interrupted
    assert all(len(values) == 6 and np.isfinite(values).all() for values in run.history.values())
    snapshots = sorted(path.name for path in (tmp_path / gan.SAMPLES).iterdir())
    assert snapshots == ["step_000002.npy", "step_000004.npy", "step_000006.npy"]
    assert np.load(tmp_path / gan.SAMPLES / snapshots[0]).dtype == np.uint8
    checkpoint = torch.load(tmp_path / gan.CHECKPOINT, weights_only=True)
    assert checkpoint["step"] == 6 and checkpoint["config"]["loss"] == loss
    if loss == "wgan":
        assert all(p.abs().max() <= 0.01 + 1e-7 for p in run.discriminator.parameters())


def test_a_resumed_run_matches_an_uninterrupted_one(tmp_path, images, tiny_config, same_weights):
    whole = gan.train_gan(tiny_config(steps=6), images, tmp_path / "whole", progress=False)
    gan.train_gan(tiny_config(steps=3), images, tmp_path / "halves", progress=False)
    resumed = gan.train_gan(tiny_config(steps=6), images, tmp_path / "halves", resume=True, progress=False)
    assert resumed.step == 6
    assert same_weights(whole.generator, resumed.generator) and same_weights(whole.discriminator, resumed.discriminator)
    assert whole.history == resumed.history


def test_a_stop_request_finishes_the_step_saves_and_resumes_exactly(tmp_path, images, monkeypatch, tiny_config, same_weights):
    handler_before = signal.getsignal(signal.SIGINT)
    whole = gan.train_gan(tiny_config(loss="wgan-gp"), images, tmp_path / "whole", progress=False)
    calls = {"count": 0}
    real_loss = gan.generator_loss

    def loss_then_ctrl_c(loss, scores):
        calls["count"] += 1
        if calls["count"] == 2:  # during the second step, like a learner pressing stop
            os.kill(os.getpid(), signal.SIGINT)
        return real_loss(loss, scores)

    monkeypatch.setattr(gan, "generator_loss", loss_then_ctrl_c)
    stopped = gan.train_gan(tiny_config(loss="wgan-gp"), images, tmp_path / "stopped", progress=False)
    assert stopped.interrupted and stopped.step == 2
    assert gan.read_checkpoint(tmp_path / "stopped" / gan.CHECKPOINT)["step"] == 2
    monkeypatch.setattr(gan, "generator_loss", real_loss)
    resumed = gan.train_gan(tiny_config(loss="wgan-gp"), images, tmp_path / "stopped", resume=True, progress=False)
    assert same_weights(whole.generator, resumed.generator) and whole.history == resumed.history
    assert signal.getsignal(signal.SIGINT) is handler_before  # the handler is given back


def test_a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, images, monkeypatch, tiny_config):
    real_loss = gan.generator_loss
    calls = {"count": 0}

    def blows_up_at_step_5(loss, scores):
        calls["count"] += 1
        value = real_loss(loss, scores)
        return value * float("nan") if calls["count"] == 5 else value

    monkeypatch.setattr(gan, "generator_loss", blows_up_at_step_5)
    with pytest.raises(gan.TrainingDiverged, match=r"diverged at step 5.*last good checkpoint \(step 3\) is kept"):
        gan.train_gan(tiny_config(), images, tmp_path, progress=False)
    assert gan.read_checkpoint(tmp_path / gan.CHECKPOINT)["step"] == 3
    assert gan.load_generator(tmp_path / gan.CHECKPOINT).latent_size == 8


def test_damaged_foreign_or_mismatched_checkpoints_are_refused(tmp_path, images, tiny_config):
    gan.train_gan(tiny_config(steps=3), images, tmp_path, progress=False)
    path = tmp_path / gan.CHECKPOINT
    with pytest.raises(ValueError, match="other settings"):
        gan.train_gan(tiny_config(steps=6, width=8), images, tmp_path, resume=True, progress=False)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        gan.read_checkpoint(truncated)
    foreign = tmp_path / "classifier.pt"
    save_weights(SmallCNN(), foreign)
    with pytest.raises(ValueError, match="not a GAN checkpoint"):
        gan.load_generator(foreign)
    with pytest.raises(FileNotFoundError, match="train first"):
        gan.read_checkpoint(tmp_path / "nothing.pt")


def test_generate_gives_uint8_images_that_depend_only_on_the_seed(tmp_path, images, tiny_config):
    run = gan.train_gan(tiny_config(steps=2), images, tmp_path, progress=False)
    first, again = gan.generate(run.generator, 5, seed=3), gan.generate(run.generator, 5, seed=3)
    assert first.shape == (5, 28, 28) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="positive int"):
        gan.generate(run.generator, 0)


def test_too_few_or_wrongly_scaled_images_are_refused(tmp_path, images, tiny_config):
    with pytest.raises(ValueError, match="fewer than one batch"):
        gan.train_gan(tiny_config(batch_size=64), images, tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
        gan.train_gan(tiny_config(), images * 255, tmp_path, progress=False)
