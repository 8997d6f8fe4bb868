import numpy as np
import pytest
import torch

from course import gan, gan_sampling, gan_training
from course.gan_networks import (
    Discriminator,
    DownBlock,
    Generator,
    ResNetDiscriminator,
    ResNetGenerator,
    UpBlock,
    make_networks,
    with_weights_of,
)
from course.gan_settings import MODELS, SIZES


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", (1, 3))
@pytest.mark.parametrize("classes", (0, 10))
def test_every_model_size_and_channel_count_maps_noise_to_images_and_images_to_scores(model, size, channels, classes):
    generator, discriminator = make_networks(model, 8, 4, True, True, channels, size, classes)
    labels = torch.tensor([0, 3, 9]) if classes else None
    images = generator(torch.randn(3, 8), labels)
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert discriminator(images, labels).shape == (3,)


def test_the_default_dcgan_keeps_its_28_pixel_layout_so_old_checkpoints_load():
    names = set(Generator(latent_size=8, width=4).state_dict())
    assert {"project.0.weight", "upsample.0.weight", "upsample.1.weight", "upsample.3.weight"} <= names
    assert "upsample.5.weight" not in names  # two transposed convolutions, not three
    # The body's weights are drawn before the score's, as they always were: the same seed gives the same networks.
    assert list(Discriminator(width=4).state_dict())[0] == "body.0.weight"


def test_residual_blocks_double_or_halve_the_side_and_keep_a_shortcut():
    torch.manual_seed(0)
    up, down = UpBlock(4, 6), DownBlock(3, 5, first=True)
    x = torch.randn(2, 4, 7, 7)
    assert up(x).shape == (2, 6, 14, 14)
    assert torch.allclose(up(x) - up.residual(x), up.shortcut(x), atol=1e-5)  # a sum, up to float rounding
    assert down(torch.randn(2, 3, 28, 28)).shape == (2, 5, 14, 14)
    assert not isinstance(down.residual[0], torch.nn.ReLU)  # the first block sees raw pixels


def test_the_resnet_discriminator_has_no_batch_norm_and_scores_each_image_alone():
    torch.manual_seed(0)
    critic = ResNetDiscriminator(width=4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    images = torch.randn(4, 1, 28, 28)
    assert torch.allclose(critic(images)[:2], critic(images[:2]), atol=1e-5)


def test_a_conditional_generator_reads_its_class_and_a_projection_discriminator_adds_a_class_term():
    torch.manual_seed(0)
    generator = ResNetGenerator(latent_size=8, width=4, classes=3).eval()
    noise = torch.randn(2, 8)
    assert not torch.allclose(generator(noise, torch.tensor([0, 0])), generator(noise, torch.tensor([1, 1])))
    _, critic = make_networks("dcgan", 8, 4, False, False, classes=3)
    images = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        critic.class_vectors.weight.zero_()
        critic.class_vectors.weight[2, 0] = 1.0
        features = critic.body(images)
    unconditional_part = critic.score(features).squeeze(1)
    assert torch.allclose(critic(images, torch.tensor([0, 1])), unconditional_part)
    assert torch.allclose(critic(images, torch.tensor([2, 2])), unconditional_part + features[:, 0])


def test_networks_refuse_wrong_shapes_and_wrong_or_missing_labels():
    generator, discriminator = make_networks("resnet", 8, 4, True, True, channels=3, size=32, classes=10)
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        discriminator(torch.randn(2, 1, 28, 28), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="pass labels"):
        generator(torch.randn(2, 8))
    with pytest.raises(ValueError, match="from 0 to 9"):
        generator(torch.randn(2, 8), torch.tensor([1, 10]))
    with pytest.raises(ValueError, match="long tensor"):
        generator(torch.randn(2, 8), torch.tensor([1.0, 2.0]))
    plain, _ = make_networks("dcgan", 8, 4, True, True)
    with pytest.raises(ValueError, match="without classes"):
        plain(torch.randn(2, 8), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="28, 32, 64"):
        make_networks("dcgan", 8, 4, True, True, size=48)
    with pytest.raises(ValueError, match="1 \\(grey\\) or 3"):
        make_networks("dcgan", 8, 4, True, True, channels=2)
    with pytest.raises(ValueError, match="Unknown model"):
        make_networks("vit", 8, 4, True, True)


def test_the_config_checks_the_new_settings_and_gives_the_image_shape():
    assert gan.GANConfig(channels=3, size=64).image_shape == (3, 64, 64)
    with pytest.raises(ValueError, match="Unknown model 'unet'"):
        gan.GANConfig(model="unet")
    with pytest.raises(ValueError, match="image size"):
        gan.GANConfig(size=30)
    with pytest.raises(ValueError, match="classes"):
        gan.GANConfig(classes=-1)


@pytest.fixture(scope="module")
def colour_images():
    return gan_sampling.to_training_range(np.random.default_rng(0).integers(0, 256, (24, 3, 32, 32), dtype=np.uint8))


@pytest.mark.slow
def test_a_resnet_gan_trains_on_colour_images_and_its_checkpoint_gives_back_the_generator(
    tmp_path, colour_images, tiny_config
):
    config = tiny_config(model="resnet", channels=3, size=32, loss="wgan-gp", steps=4)
    run = gan_training.train_gan(config, colour_images, tmp_path, progress=False)
    assert run.step == 4 and np.load(tmp_path / "samples" / "step_000004.npy").shape == (64, 3, 32, 32)
    generator = gan_training.load_generator(tmp_path / gan_training.CHECKPOINT)
    assert isinstance(generator, ResNetGenerator)
    assert np.array_equal(gan_sampling.generate(generator, 5), gan_sampling.generate(run.generator, 5))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        gan_training.train_gan(tiny_config(), colour_images, tmp_path / "other", progress=False)


def test_a_conditional_run_needs_labels_and_resumes_exactly(tmp_path, tiny_config, same_weights):
    images = gan_sampling.to_training_range(np.random.default_rng(1).integers(0, 256, (32, 28, 28), dtype=np.uint8))
    labels = torch.arange(32) % 4
    config = tiny_config(classes=4, steps=4)
    with pytest.raises(ValueError, match="needs labels"):
        gan_training.train_gan(config, images, tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="from 0 to 3"):
        gan_training.train_gan(config, images, tmp_path / "a", progress=False, labels=labels + 1)
    with pytest.raises(ValueError, match="unconditional"):
        gan_training.train_gan(tiny_config(), images, tmp_path / "a", progress=False, labels=labels)
    whole = gan_training.train_gan(config, images, tmp_path / "whole", progress=False, labels=labels)
    gan_training.train_gan(tiny_config(classes=4, steps=2), images, tmp_path / "halves", progress=False, labels=labels)
    halves = gan_training.train_gan(config, images, tmp_path / "halves", resume=True, progress=False, labels=labels)
    assert whole.history == halves.history
    assert same_weights(whole.generator, halves.generator)
    snapshot = np.load(tmp_path / "whole" / "samples" / "step_000004.npy")
    assert snapshot.shape == (64, 28, 28)


def test_a_checkpoint_written_before_the_new_settings_still_resumes_and_loads(tmp_path, monkeypatch, tiny_config):
    images = gan_sampling.to_training_range(np.random.default_rng(2).integers(0, 256, (16, 28, 28), dtype=np.uint8))
    gan_training.train_gan(tiny_config(steps=2), images, tmp_path, progress=False)
    checkpoint = torch.load(tmp_path / gan_training.CHECKPOINT, weights_only=True)
    for name in ("model", "channels", "size", "classes"):
        del checkpoint["config"][name]
    torch.save(checkpoint, tmp_path / gan_training.CHECKPOINT)
    assert gan_training.train_gan(tiny_config(steps=4), images, tmp_path, resume=True, progress=False).step == 4
    checkpoint = torch.load(tmp_path / gan_training.CHECKPOINT, weights_only=True)
    checkpoint["config"]["colour"] = True
    torch.save(checkpoint, tmp_path / gan_training.CHECKPOINT)
    with pytest.raises(ValueError, match="cannot read"):
        gan_training.load_generator(tmp_path / gan_training.CHECKPOINT)


def test_generate_takes_one_class_or_one_per_image_and_refuses_what_does_not_fit():
    torch.manual_seed(0)
    conditional = Generator(latent_size=8, width=4, classes=10).eval()
    one = gan_sampling.generate(conditional, 4, labels=3)
    assert one.shape == (4, 28, 28)
    assert np.array_equal(one, gan_sampling.generate(conditional, 4, labels=[3, 3, 3, 3]))
    with pytest.raises(ValueError, match="say which"):
        gan_sampling.generate(conditional, 4)
    with pytest.raises(ValueError, match="from 0 to 9"):
        gan_sampling.generate(conditional, 4, labels=[1, 2])
    with pytest.raises(ValueError, match="without classes"):
        gan_sampling.generate(Generator(latent_size=8, width=4), 4, labels=1)


def test_style_variations_walk_away_from_one_image_with_its_class_fixed():
    torch.manual_seed(0)
    generator = Generator(latent_size=8, width=4, classes=10).eval()
    noise = torch.randn(8)
    grid = gan_sampling.style_variations(generator, noise, label=3, directions=2, amounts=(-1.0, 0.0, 1.0))
    assert grid.shape == (2, 3, 28, 28)
    itself = gan_sampling.images_from_noise(generator, noise[None], 3)[0]
    assert np.array_equal(grid[0, 1], itself) and np.array_equal(grid[1, 1], itself)
    assert not np.array_equal(grid[0, 0], grid[0, 2]) and not np.array_equal(grid[0, 0], grid[1, 0])
    with pytest.raises(ValueError, match="one vector of 8"):
        gan_sampling.style_variations(generator, torch.randn(2, 8), label=3)


def test_images_convert_to_and_from_the_training_range_in_grey_and_colour():
    grey = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    colour = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    assert gan_sampling.to_training_range(grey).shape == (2, 1, 28, 28)
    assert np.array_equal(gan_sampling.to_uint8(gan_sampling.to_training_range(grey)), grey)
    assert np.array_equal(gan_sampling.to_uint8(gan_sampling.to_training_range(colour)), colour)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        gan_sampling.to_training_range(np.zeros((2, 2, 8, 8), dtype=np.uint8))


@pytest.mark.slow
def test_a_briefly_trained_conditional_gan_draws_the_class_asked_for_more_often_than_chance(tmp_path, fashion):
    from course.quality import classify

    # Four classes of clearly different shapes, 250 images each, and a quick learner: 150 steps are enough.
    chosen = (1, 3, 7, 8)  # Trouser, Dress, Sneaker, Bag, as classes 0 to 3 of the conditional GAN
    keep = np.concatenate([np.flatnonzero(fashion.train_labels == label)[:250] for label in chosen])
    images = gan_sampling.to_training_range(fashion.train_images[keep])
    labels = torch.as_tensor(np.searchsorted(chosen, fashion.train_labels[keep])).long()
    config = gan.GANConfig(
        steps=150, classes=4, width=16, batch_size=32, learning_rate=1e-3, sample_every=150, checkpoint_every=150
    )
    run = gan_training.train_gan(config, images, tmp_path, progress=False, labels=labels)
    noise = torch.randn(4, config.latent_size, generator=torch.Generator().manual_seed(0))
    by_class = [gan_sampling.images_from_noise(run.generator, noise, labels=k) for k in range(4)]
    assert all(not np.array_equal(by_class[0], other) for other in by_class[1:])  # the class changes the image
    asked = np.repeat(np.arange(4), 50)
    judged = classify(gan_sampling.generate(run.generator, len(asked), seed=1, labels=asked))
    per_class = np.array([(judged[asked == k] == label).mean() for k, label in enumerate(chosen)])
    assert per_class.mean() > 0.45, per_class  # chance is 0.25; this run reaches about 0.7
    assert (per_class > 0.25).sum() >= 3, per_class


def test_a_step_through_with_weights_of_moves_the_owners_weights_as_the_course_step_moves_its_own():
    class Joined(Generator):  # the same layers, the same computation, in a class of its own
        def forward(self, noise, labels):
            return self.upsample(
                self.project(torch.cat([noise, torch.nn.functional.one_hot(labels, self.classes).float()], dim=1)).view(
                    -1, 8, 7, 7
                )
            )

    config = gan.GANConfig(classes=3, batch_size=8, latent_size=8, width=4, seed=1)
    images, labels = torch.rand(32, 1, 28, 28) * 2 - 1, torch.arange(32) % 3
    course, borrowed = gan.build(config, "cpu"), gan.build(config, "cpu")
    theirs, mine = gan.Batches(images, config, labels), gan.Batches(images, config, labels)
    yours = Joined(latent_size=8, width=4, classes=3)
    for _ in range(3):
        gan.train_step(config, *course, theirs)
        gan.train_step(config, with_weights_of(yours, borrowed[0]), *borrowed[1:], mine)
    for network, twin in zip(course[:2], borrowed[:2], strict=True):  # weights and batch norm statistics, bit for bit
        assert all(
            torch.equal(a, b) for a, b in zip(network.state_dict().values(), twin.state_dict().values(), strict=True)
        )
    assert not any(
        torch.equal(a, b) for a, b in zip(yours.parameters(), borrowed[0].parameters(), strict=True)
    )  # its own weights are not used
    assert [id(value) for value in with_weights_of(yours, borrowed[0]).parameters()] == [
        id(value) for value in borrowed[0].parameters()
    ]
    with pytest.raises(ValueError, match="other layers than Generator"):
        with_weights_of(ResNetGenerator(latent_size=8, width=4, classes=3), borrowed[0])
