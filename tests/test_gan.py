import copy
import dataclasses
import os
import signal

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from course import gan, gan_sampling, gan_training
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
    scaled = gan_sampling.to_training_range(pixels)
    assert scaled.shape == (3, 1, 28, 28) and scaled.min() >= -1 and scaled.max() <= 1
    np.testing.assert_array_equal(gan_sampling.to_uint8(scaled), pixels)
    with pytest.raises(ValueError, match="uint8"):
        gan_sampling.to_training_range(pixels.astype(float))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        gan_sampling.to_uint8(scaled[:, 0])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"loss": "lsgan"}, "Unknown loss 'lsgan'"),
        ({"steps": -1}, "steps must be a positive int"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 5.0}, "learning_rate"),
        ({"label_smoothing": 0.7}, "label_smoothing must be a number from 0 up to 0.5"),
        ({"loss": "wgan", "label_smoothing": 0.1}, "applies to the dcgan loss only"),
    ],
)
def test_bad_settings_are_refused_with_what_was_expected(changes, message, tiny_config):
    with pytest.raises(ValueError, match=message):
        tiny_config(**changes)


@pytest.mark.parametrize("decay", [-0.1, 1, 1.0, 1.5, float("nan"), "0.99", True, None])
def test_a_moving_average_decay_outside_0_up_to_1_is_refused(decay, tiny_config):
    with pytest.raises(
        ValueError, match=r"ema_decay must be a number from 0 up to but not including 1, got .*: use 0 for no average"
    ):
        tiny_config(ema_decay=decay)
    assert tiny_config(ema_decay=0).ema_decay == 0 and tiny_config(ema_decay=0.999).ema_decay == 0.999
    assert gan.GANConfig().ema_decay == 0.0  # runs that do not ask for an average keep none


def test_the_config_refuses_seeds_and_batches_that_cannot_work():
    with pytest.raises(ValueError, match="seed must be a whole number from 0 to 4,294,967,295"):
        gan.GANConfig(seed=2**70)
    with pytest.raises(ValueError, match="batch norm needs at least 2 images"):
        gan.GANConfig(batch_size=1)
    assert dataclasses.replace(gan.GANConfig(batch_size=1, batch_norm=False)).batch_size == 1


def test_the_moving_average_moves_each_weight_by_the_share_1_minus_decay():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model(torch.randn(4, 3))  # one batch in train mode: running statistics, and a count of 1
    start = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    before, after = start.state_dict(), model.state_dict()
    for decay in (0.0, 0.9, 1.0):
        average = copy.deepcopy(start)
        gan.update_average(average, model, decay)
        moved = average.state_dict()
        assert moved["1.num_batches_tracked"] == 1  # the integer count is copied, whatever the decay
        for name in ("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"):
            if decay == 0.0:
                assert torch.equal(moved[name], after[name]), name  # all new
            elif decay == 1.0:
                assert torch.equal(moved[name], before[name]), name  # all old
            else:
                torch.testing.assert_close(moved[name], 0.9 * before[name] + 0.1 * after[name], msg=name)


def test_each_loss_gets_its_published_defaults():
    assert (gan.GANConfig("dcgan").critic_steps, gan.GANConfig("dcgan").learning_rate) == (1, 2e-4)
    assert (gan.GANConfig("wgan").critic_steps, gan.GANConfig("wgan").learning_rate) == (5, 5e-5)
    assert (gan.GANConfig("wgan-gp").critic_steps, gan.GANConfig("wgan-gp").learning_rate) == (5, 1e-4)
    assert [gan.GANConfig(loss).label_smoothing for loss in gan.LOSSES] == [0.1, 0.0, 0.0, 0.0]


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
    run = gan_training.train_gan(tiny_config(loss=loss), images, tmp_path, progress=False)
    assert run.step == 6 and not run.interrupted
    assert all(len(values) == 6 and np.isfinite(values).all() for values in run.history.values())
    snapshots = sorted(path.name for path in (tmp_path / gan_training.SAMPLES).iterdir())
    assert snapshots == ["step_000002.npy", "step_000004.npy", "step_000006.npy"]
    assert np.load(tmp_path / gan_training.SAMPLES / snapshots[0]).dtype == np.uint8
    checkpoint = torch.load(tmp_path / gan_training.CHECKPOINT, weights_only=True)
    assert checkpoint["step"] == 6 and checkpoint["config"]["loss"] == loss
    if loss == "wgan":
        assert all(p.abs().max() <= 0.01 + 1e-7 for p in run.discriminator.parameters())


@pytest.mark.parametrize("loss", ["dcgan", "hinge"])  # hinge: spectral norm's power-iteration vectors resume too
def test_a_resumed_run_matches_an_uninterrupted_one(loss, tmp_path, images, tiny_config, same_weights):
    whole = gan_training.train_gan(tiny_config(loss=loss, steps=6), images, tmp_path / "whole", progress=False)
    gan_training.train_gan(tiny_config(loss=loss, steps=3), images, tmp_path / "halves", progress=False)
    resumed = gan_training.train_gan(
        tiny_config(loss=loss, steps=6), images, tmp_path / "halves", resume=True, progress=False
    )
    assert resumed.step == 6
    assert same_weights(whole.generator, resumed.generator) and same_weights(whole.discriminator, resumed.discriminator)
    assert whole.history == resumed.history


def test_a_moving_average_is_saved_resumed_exactly_drawn_in_the_snapshots_and_loaded_for_sampling(
    tmp_path, images, tiny_config, same_weights
):
    whole = gan_training.train_gan(tiny_config(ema_decay=0.9), images, tmp_path / "whole", progress=False)
    assert whole.sampling_generator is whole.average and not whole.average.training
    assert not same_weights(whole.average, whole.generator)
    gan_training.train_gan(tiny_config(steps=3, ema_decay=0.9), images, tmp_path / "halves", progress=False)
    resumed = gan_training.train_gan(
        tiny_config(ema_decay=0.9), images, tmp_path / "halves", resume=True, progress=False
    )
    assert same_weights(whole.average, resumed.average) and same_weights(whole.generator, resumed.generator)
    assert whole.history == resumed.history
    path = tmp_path / "halves" / gan_training.CHECKPOINT
    saved = gan_training.read_checkpoint(path)[gan_training.AVERAGE]
    assert all(torch.equal(value, whole.average.state_dict()[name]) for name, value in saved.items())
    # The snapshots are the average's drawings of the fixed noise.
    fixed_noise = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    last = np.load(tmp_path / "whole" / gan_training.SAMPLES / "step_000006.npy")
    np.testing.assert_array_equal(last, gan_sampling.images_from_noise(whole.average, fixed_noise))
    # Sampling loads the average, or the generator itself when asked.
    assert same_weights(gan_training.load_generator(path), whole.average)
    assert same_weights(gan_training.load_generator(path, average=False), whole.generator)
    with pytest.raises(ValueError, match="ema_decay 0.9 there, 0.5 now"):
        gan_training.train_gan(
            tiny_config(steps=8, ema_decay=0.5), images, tmp_path / "halves", resume=True, progress=False
        )


def test_a_loop_written_by_hand_with_update_average_gives_the_trainers_average(
    tmp_path, images, tiny_config, same_weights
):
    config = tiny_config(steps=4, ema_decay=0.5)
    generator, discriminator, g_optimizer, d_optimizer = gan.build(config, torch.device("cpu"))
    average = copy.deepcopy(generator)
    next_batch = gan.Batches(images, config)
    for step in range(1, config.steps + 1):
        generator.train()
        discriminator.train()
        gan.train_step(config, generator, discriminator, g_optimizer, d_optimizer, next_batch)
        gan.update_average(average, generator, min(config.ema_decay, (1 + step) / (10 + step)))  # the trainer's warm-up
    run = gan_training.train_gan(config, images, tmp_path, progress=False)
    assert same_weights(average, run.average) and same_weights(generator, run.generator)


def test_checkpoints_from_before_the_moving_average_still_load_and_resume(tmp_path, images, tiny_config, same_weights):
    run = gan_training.train_gan(tiny_config(steps=3), images, tmp_path, progress=False)
    assert run.average is None and run.sampling_generator is run.generator
    path = tmp_path / gan_training.CHECKPOINT
    checkpoint = torch.load(path, weights_only=True)
    assert gan_training.AVERAGE not in checkpoint
    del checkpoint["config"]["ema_decay"]  # as the course wrote them before the setting existed
    torch.save(checkpoint, path)
    assert same_weights(gan_training.load_generator(path), run.generator)
    assert gan_training.train_gan(tiny_config(steps=6), images, tmp_path, resume=True, progress=False).step == 6


def test_a_moving_average_that_holds_nan_is_refused_for_sampling(tmp_path, images, tiny_config):
    gan_training.train_gan(tiny_config(steps=2, ema_decay=0.9), images, tmp_path, progress=False)
    path = tmp_path / gan_training.CHECKPOINT
    checkpoint = torch.load(path, weights_only=True)
    next(iter(checkpoint[gan_training.AVERAGE].values())).fill_(float("nan"))
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match="generator average holds NaN or infinite weights"):
        gan_training.load_generator(path)
    assert gan_training.load_generator(path, average=False).latent_size == 8  # the generator itself is whole
    del checkpoint[gan_training.AVERAGE]
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match="keeps no average of the generator, though its settings ask for one"):
        gan_training.train_gan(tiny_config(steps=4, ema_decay=0.9), images, tmp_path, resume=True, progress=False)


def test_a_stop_request_finishes_the_step_saves_and_resumes_exactly(
    tmp_path, images, monkeypatch, tiny_config, same_weights
):
    handler_before = signal.getsignal(signal.SIGINT)
    whole = gan_training.train_gan(tiny_config(loss="wgan-gp"), images, tmp_path / "whole", progress=False)
    calls = {"count": 0}
    real_loss = gan.generator_loss

    def loss_then_ctrl_c(loss, scores):
        calls["count"] += 1
        if calls["count"] == 2:  # during the second step, like a learner pressing stop
            os.kill(os.getpid(), signal.SIGINT)
        return real_loss(loss, scores)

    monkeypatch.setattr(gan, "generator_loss", loss_then_ctrl_c)
    stopped = gan_training.train_gan(tiny_config(loss="wgan-gp"), images, tmp_path / "stopped", progress=False)
    assert stopped.interrupted and stopped.step == 2
    assert gan_training.read_checkpoint(tmp_path / "stopped" / gan_training.CHECKPOINT)["step"] == 2
    monkeypatch.setattr(gan, "generator_loss", real_loss)
    resumed = gan_training.train_gan(
        tiny_config(loss="wgan-gp"), images, tmp_path / "stopped", resume=True, progress=False
    )
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
    with pytest.raises(
        gan_training.TrainingDiverged, match=r"diverged at step 5.*last good checkpoint \(step 3\) is kept"
    ):
        gan_training.train_gan(tiny_config(), images, tmp_path, progress=False)
    assert gan_training.read_checkpoint(tmp_path / gan_training.CHECKPOINT)["step"] == 3
    assert gan_training.load_generator(tmp_path / gan_training.CHECKPOINT).latent_size == 8


def test_damaged_foreign_or_mismatched_checkpoints_are_refused(tmp_path, images, tiny_config):
    gan_training.train_gan(tiny_config(steps=3), images, tmp_path, progress=False)
    path = tmp_path / gan_training.CHECKPOINT
    with pytest.raises(ValueError, match="other settings"):
        gan_training.train_gan(tiny_config(steps=6, width=8), images, tmp_path, resume=True, progress=False)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        gan_training.read_checkpoint(truncated)
    foreign = tmp_path / "classifier.pt"
    save_weights(SmallCNN(), foreign)
    with pytest.raises(ValueError, match="not a GAN checkpoint"):
        gan_training.load_generator(foreign)
    with pytest.raises(FileNotFoundError, match="train first"):
        gan_training.read_checkpoint(tmp_path / "nothing.pt")


def test_generate_gives_uint8_images_that_depend_only_on_the_seed(tmp_path, images, tiny_config):
    run = gan_training.train_gan(tiny_config(steps=2), images, tmp_path, progress=False)
    first, again = gan_sampling.generate(run.generator, 5, seed=3), gan_sampling.generate(run.generator, 5, seed=3)
    assert first.shape == (5, 28, 28) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="positive int"):
        gan_sampling.generate(run.generator, 0)


def test_too_few_or_wrongly_scaled_images_are_refused(tmp_path, images, tiny_config):
    with pytest.raises(ValueError, match="fewer than one batch"):
        gan_training.train_gan(tiny_config(batch_size=64), images, tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
        gan_training.train_gan(tiny_config(), images * 255, tmp_path, progress=False)


# ---------------------------------------------------------------------------------------------
# The step the notebooks write is the step the trainer runs
# ---------------------------------------------------------------------------------------------


def dcgan_step_as_notebook_06_writes_it(config, generator, discriminator, g_optimizer, d_optimizer, next_batch):
    """One DCGAN step written from scratch, the way notebook 06 writes it."""
    batch = next_batch()
    fake = generator(batch.noise)
    real_scores, fake_scores = discriminator(batch.real), discriminator(fake.detach())
    d_loss = F.binary_cross_entropy_with_logits(
        real_scores, torch.full_like(real_scores, 0.9)
    ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    fooled = discriminator(fake)
    g_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return gan.StepResult(d_loss.detach(), g_loss.detach(), real_scores.detach(), fake_scores.detach())


def critic_step_written_from_scratch(config, generator, discriminator, g_optimizer, d_optimizer, next_batch):
    """Five critic moves (clipped, or with a penalty of its own), then the generator's, as notebook 07 writes them."""
    for _ in range(config.critic_steps):
        batch = next_batch()
        fake = generator(batch.noise)
        real_scores, fake_scores = discriminator(batch.real), discriminator(fake.detach())
        d_loss = fake_scores.mean() - real_scores.mean()
        if config.loss == "wgan-gp":
            between = (batch.mix * batch.real + (1 - batch.mix) * fake.detach()).requires_grad_()
            (gradient,) = torch.autograd.grad(discriminator(between).sum(), between, create_graph=True)
            d_loss = d_loss + 10 * ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        if config.loss == "wgan":
            with torch.no_grad():
                for weight in discriminator.parameters():
                    weight.clamp_(-0.01, 0.01)
    g_loss = -discriminator(fake).mean()
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return gan.StepResult(d_loss.detach(), g_loss.detach(), real_scores.detach(), fake_scores.detach())


def test_a_loop_written_as_in_notebook_06_gives_the_trainers_weights(tmp_path, images, tiny_config, same_weights):
    config = tiny_config(steps=7)
    generator, discriminator, g_optimizer, d_optimizer = gan.build(config, torch.device("cpu"))
    next_batch = gan.Batches(images, config)
    for _ in range(config.steps):
        generator.train()
        discriminator.train()
        dcgan_step_as_notebook_06_writes_it(config, generator, discriminator, g_optimizer, d_optimizer, next_batch)
    run = gan_training.train_gan(config, images, tmp_path / "trainer", progress=False)
    assert same_weights(generator, run.generator) and same_weights(discriminator, run.discriminator)
    # The trainer runs a step it is given: the notebook's own gives the same run again.
    theirs = gan_training.train_gan(
        config, images, tmp_path / "notebook", progress=False, step=dcgan_step_as_notebook_06_writes_it
    )
    assert same_weights(theirs.generator, run.generator) and theirs.history == run.history


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_a_critic_loop_written_from_scratch_matches_the_trainer(tmp_path, images, tiny_config, loss):
    config = tiny_config(loss=loss, steps=3, batch_norm=loss == "wgan")
    ours = gan_training.train_gan(config, images, tmp_path / "ours", progress=False)
    theirs = gan_training.train_gan(
        config, images, tmp_path / "theirs", progress=False, step=critic_step_written_from_scratch
    )
    for mine, other in [(ours.generator, theirs.generator), (ours.discriminator, theirs.discriminator)]:
        for (name, value), other_value in zip(mine.state_dict().items(), other.state_dict().values(), strict=True):
            torch.testing.assert_close(value, other_value, msg=name)


def test_clipping_keeps_every_weight_within_the_limit():
    critic = Discriminator(width=4)
    gan.clip_weights(critic, 0.01)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert any((p.abs() == 0.01).any() for p in critic.parameters())  # larger weights sit at the limit


def test_batches_repeat_from_the_seed_and_take_a_fresh_shuffle_each_epoch(images, tiny_config):
    config = tiny_config(loss="wgan-gp", batch_size=16)  # 48 images: three batches per epoch
    first, again = gan.Batches(images, config), gan.Batches(images, config)
    drawn = [first() for _ in range(6)]
    assert all(
        torch.equal(a.noise, b.noise) and torch.equal(a.real, b.real)
        for a, b in zip(drawn, [again() for _ in range(6)], strict=True)
    )
    epoch = torch.cat([batch.real for batch in drawn[:3]]).flatten(1)
    assert len(torch.unique(epoch, dim=0)) == 48  # every image once per epoch
    assert not torch.equal(
        torch.cat([b.real for b in drawn[:3]]), torch.cat([b.real for b in drawn[3:]])
    )  # in another order
    assert drawn[0].mix.shape == (16, 1, 1, 1) and drawn[0].real_labels is None


def test_numbers_read_in_batches_give_the_history_and_weights_of_reading_every_step(
    tmp_path, images, monkeypatch, tiny_config, same_weights
):
    config = tiny_config(steps=30, sample_every=30, checkpoint_every=30)
    batched = gan_training.train_gan(config, images, tmp_path / "batched", progress=False)
    monkeypatch.setattr(gan_training, "READ_EVERY", 1)
    every_step = gan_training.train_gan(config, images, tmp_path / "every", progress=False)
    assert batched.history == every_step.history and len(batched.history["d_loss"]) == 30
    assert same_weights(batched.generator, every_step.generator)


def test_a_divergence_read_steps_later_names_its_own_step_and_no_checkpoint_holds_it(
    tmp_path, images, monkeypatch, tiny_config
):
    real_loss = gan.generator_loss
    calls = {"count": 0}

    def blows_up_at_step_7(loss, scores):
        calls["count"] += 1
        value = real_loss(loss, scores)
        return value * float("nan") if calls["count"] == 7 else value

    monkeypatch.setattr(gan, "generator_loss", blows_up_at_step_7)
    config = tiny_config(steps=40, sample_every=40, checkpoint_every=5)
    with pytest.raises(gan_training.TrainingDiverged, match=r"diverged at step 7:.*last good checkpoint \(step 5\)"):
        gan_training.train_gan(config, images, tmp_path, progress=False)
    assert calls["count"] == 10  # read at the next checkpoint due, step 10, which was then not written
    assert gan_training.read_checkpoint(tmp_path / gan_training.CHECKPOINT)["step"] == 5


def test_the_hinge_loss_and_spectral_norm():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.0])
    # real: max(0, 1 - s) = 0, 0.5, 2; fake: max(0, 1 + s) = 0, 1, 2
    assert gan.discriminator_loss("hinge", real, fake).item() == pytest.approx(2.5 / 3 + 3 / 3)
    assert gan.generator_loss("hinge", fake).item() == pytest.approx(1 / 3)
    _, discriminator = gan.networks(gan.GANConfig(loss="hinge", width=4))
    layer = discriminator.body[0]
    for _ in range(20):  # power iteration, one step per forward pass in training
        discriminator(torch.randn(2, 1, 28, 28))
    assert torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(module, torch.nn.BatchNorm2d) for module in discriminator.modules())
