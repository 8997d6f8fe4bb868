"""course.inversion: the objective's terms against hand computations; the search and the encoder on a tiny generator."""

import math

import pytest
import torch

from course.gan_networks import Generator
from course.inversion import (
    Inversion,
    InversionSettings,
    encode,
    hidden_features,
    inversion_loss,
    inversion_step,
    invert,
    pixel_error,
    sphere_penalty,
    train_encoder,
)
from course.models import SmallCNN

LATENT = 8
PLAIN = InversionSettings(feature_weight=0, prior_weight=0)  # pixels alone


@pytest.fixture(scope="module")
def generator() -> Generator:
    """A tiny untrained DCGAN generator (8 noise numbers, width 8, weights from seed 0) in eval mode, its batch norm's
    statistics measured on 512 noise vectors: its images then vary with the noise as a trained one's do."""
    torch.manual_seed(0)
    network = Generator(latent_size=LATENT, width=8)
    for layer in network.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.momentum = None  # the plain average of what it sees: here, one batch
    with torch.no_grad():
        network(torch.randn(512, LATENT, generator=torch.Generator().manual_seed(99)))
    return network.eval()


@pytest.fixture(scope="module")
def classifier() -> SmallCNN:
    """A SmallCNN with random weights from seed 1: its hidden features are as good as any for checking sums."""
    torch.manual_seed(1)
    return SmallCNN().eval()


def drawn(generator: Generator, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise (count, LATENT) from `seed` and the generator's images of it: targets whose noise is known."""
    noise = torch.randn(count, LATENT, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return noise, generator(noise)


# --- the objective's terms, by hand -----------------------------------------------------------


def test_the_sphere_penalty_is_zero_on_the_sphere_and_squared_distance_from_it_elsewhere():
    on_sphere = torch.ones(1, 16)  # length 4 = sqrt(16)
    assert sphere_penalty(on_sphere).item() == pytest.approx(0, abs=1e-12)
    rows = torch.tensor([[3.0, 4.0], [0.0, 0.0], [0.0, math.sqrt(2)]])  # lengths 5, 0 and sqrt(2) for d = 2
    expected = [(5 / math.sqrt(2) - 1) ** 2, 1.0, 0.0]
    assert sphere_penalty(rows).tolist() == pytest.approx(expected, abs=1e-6)


def test_pixel_error_is_in_units_of_the_zero_to_one_range():
    black, white, grey = (torch.full((1, 1, 4, 4), value) for value in (-1.0, 1.0, 0.0))
    assert pixel_error(white, black).item() == pytest.approx(1.0)  # the whole range apart
    assert pixel_error(grey, black).item() == pytest.approx(0.5)
    assert pixel_error(black, black).item() == 0
    half = black.clone()
    half[..., :2] = 1.0  # half the pixels a whole range off: sqrt(1/2)
    both = pixel_error(torch.cat([half, grey]), torch.cat([black, black]))
    assert both.shape == (2,) and both.tolist() == pytest.approx([math.sqrt(0.5), 0.5])


def test_hidden_features_are_the_classifiers_64_numbers_before_its_last_layer(classifier):
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    by_hand = torch.relu(classifier.classifier[1](classifier.features((images + 1) / 2).flatten(1)))
    assert hidden_features(classifier, images).shape == (3, 64)
    assert torch.allclose(hidden_features(classifier, images), by_hand)


def test_the_inversion_loss_is_the_sum_of_its_three_terms(generator, classifier):
    noise, _ = drawn(generator, 2, seed=1)
    _, targets = drawn(generator, 2, seed=2)
    settings = InversionSettings(feature_weight=0.5, prior_weight=0.25)
    with torch.no_grad():
        loss = inversion_loss(generator, classifier, noise, targets, settings)
        images = generator(noise)
        expected = []
        for image, target, z in zip(images, targets, noise, strict=True):
            pixels = ((image - target) ** 2).sum() / image.numel()
            mine, theirs = (hidden_features(classifier, x[None])[0] for x in (image, target))
            features = ((mine - theirs) ** 2).sum() / 64
            prior = (math.sqrt((z**2).sum().item() / LATENT) - 1) ** 2
            expected.append(pixels.item() + 0.5 * features.item() + 0.25 * prior)
    assert loss.shape == (2,) and loss.tolist() == pytest.approx(expected, rel=1e-5)
    plain = inversion_loss(generator, None, noise, targets, PLAIN)  # no classifier needed without its term
    assert plain.tolist() == pytest.approx((pixel_error(images, targets) * 2).pow(2).tolist(), rel=1e-5)


def test_one_step_moves_each_noise_vector_by_its_own_loss_alone(generator):
    _, targets = drawn(generator, 2, seed=3)
    start, _ = drawn(generator, 2, seed=4)
    together = start.clone().requires_grad_(True)
    inversion_step(generator, None, together, torch.optim.Adam([together], lr=0.05), targets, PLAIN)
    alone = start[:1].clone().requires_grad_(True)
    inversion_step(generator, None, alone, torch.optim.Adam([alone], lr=0.05), targets[:1], PLAIN)
    assert not torch.equal(together[0], start[0]) and torch.allclose(together[0], alone[0], atol=1e-6)


# --- the search -------------------------------------------------------------------------------


def test_invert_finds_noise_that_redraws_the_targets_far_better_than_its_start(generator):
    _, targets = drawn(generator, 4, seed=5)
    start, _ = drawn(generator, 4, seed=6)
    with torch.no_grad():
        before = pixel_error(generator(start), targets)
    found = invert(
        generator, targets, InversionSettings(steps=150, feature_weight=0, prior_weight=0), start=start, progress=False
    )
    assert isinstance(found, Inversion) and found.noise.shape == (4, LATENT) and found.images.shape == targets.shape
    assert torch.allclose(found.pixel_error, pixel_error(found.images, targets))
    assert (found.pixel_error < before / 10).all(), (before, found.pixel_error)
    assert found.seconds > 0


def test_more_restarts_never_end_with_a_higher_objective_and_restart_zero_starts_alike(generator):
    _, targets = drawn(generator, 3, seed=7)
    starts = {}

    def recording_step(generator, classifier, noise, optimizer, targets, settings, labels):
        starts.setdefault(settings.restarts, noise.detach().clone())
        return inversion_step(generator, classifier, noise, optimizer, targets, settings, labels)

    objectives = {}
    for restarts in (1, 4):
        settings = InversionSettings(steps=30, restarts=restarts, feature_weight=0)
        found = invert(generator, targets, settings, seed=3, step=recording_step, progress=False)
        with torch.no_grad():
            objectives[restarts] = inversion_loss(generator, None, found.noise, targets, settings)
    assert starts[4].shape == (4 * 3, LATENT)
    assert torch.equal(starts[4][:3], starts[1])  # restart 0 is the same draw, however many follow
    assert (objectives[4] <= objectives[1] + 1e-6).all(), objectives


def test_invert_starts_where_it_is_told(generator):
    true_noise, targets = drawn(generator, 2, seed=8)
    for restarts in (1, 3):
        settings = InversionSettings(steps=5, restarts=restarts, feature_weight=0, prior_weight=0)
        found = invert(generator, targets, settings, start=true_noise, progress=False)
        unguided = invert(generator, targets, settings, progress=False)
        # Adam scales even a rounding error's gradient to a full step, so the true noise drifts a little
        assert found.pixel_error.max() < 0.02 and (found.noise - true_noise).abs().max() < 0.1
        assert (unguided.pixel_error > 0.1).all()


def test_invert_leaves_the_generator_as_it_was(same_weights):
    torch.manual_seed(0)
    network, before = Generator(latent_size=LATENT, width=8).eval(), Generator(latent_size=LATENT, width=8)
    before.load_state_dict(network.state_dict())
    _, targets = drawn(network, 2, seed=9)
    invert(network, targets, InversionSettings(steps=5, feature_weight=0), progress=False)
    assert same_weights(network, before)  # its batch norm's statistics too
    assert all(parameter.requires_grad and parameter.grad is None for parameter in network.parameters())


def test_invert_leaves_a_frozen_part_of_the_generator_frozen():
    torch.manual_seed(0)
    network = Generator(latent_size=LATENT, width=8).eval()
    network.project.requires_grad_(False)
    _, targets = drawn(network, 1, seed=10)
    invert(network, targets, InversionSettings(steps=2, feature_weight=0), progress=False)
    assert not any(parameter.requires_grad for parameter in network.project.parameters())
    assert all(parameter.requires_grad for parameter in network.upsample.parameters())


def test_invert_draws_a_conditional_generators_class():
    torch.manual_seed(0)
    conditional = Generator(latent_size=LATENT, width=8, classes=10).eval()
    labels = torch.tensor([3, 7])
    noise = torch.randn(2, LATENT, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        targets = conditional(noise, labels)
    settings = InversionSettings(steps=3, feature_weight=0, restarts=2)
    found = invert(conditional, targets, settings, labels=labels, progress=False)
    with torch.no_grad():
        assert torch.allclose(found.images, conditional(found.noise, labels))


@pytest.mark.parametrize(
    "changes, says",
    [
        ({"steps": 0}, "steps must be a positive int"),
        ({"restarts": 0}, "restarts must be a positive int"),
        ({"prior_weight": -0.1}, "prior_weight must be a number of at least 0, got -0.1"),
        ({"feature_weight": float("nan")}, "feature_weight must be a number of at least 0"),
        ({"learning_rate": True}, "learning_rate must be a number of at least 0"),
        ({"learning_rate": 0}, "learning_rate must be above 0"),
    ],
)
def test_settings_that_cannot_search_are_refused(changes, says):
    with pytest.raises(ValueError, match=says):
        InversionSettings(**changes)


def test_invert_refuses_what_it_cannot_use_with_what_to_do(generator):
    _, targets = drawn(generator, 2, seed=12)
    refused = [
        (dict(targets=torch.zeros(2, 1, 32, 32)), r"targets must have shape \(N, 1, 28, 28\) for this generator"),
        (dict(targets=torch.zeros(1, 28, 28)), r"targets must have shape \(N, 1, 28, 28\)"),
        (dict(settings=InversionSettings()), "feature_weight is above 0, so pass the classifier"),
        (dict(start=torch.zeros(3, LATENT)), r"start must have shape \(2, 8\), got \(3, 8\)"),
        (dict(seed=-1), "seed must be a whole number from 0 to"),
    ]
    for changes, says in refused:
        arguments = dict(targets=targets, settings=PLAIN, progress=False) | changes
        with pytest.raises(ValueError, match=says):
            invert(generator, **arguments)


# --- the encoder ------------------------------------------------------------------------------


def test_a_trained_encoder_guesses_the_noise_better_than_an_untrained_one(generator):
    noise, images = drawn(generator, 200, seed=13)
    torch.manual_seed(0)
    untrained = SmallCNN(num_classes=LATENT)
    encoder = train_encoder(generator, steps=120, batch_size=32, learning_rate=3e-3, progress=False)
    assert isinstance(encoder, SmallCNN) and not encoder.training
    guesses = encode(encoder, images)
    assert guesses.shape == (200, LATENT) and not guesses.requires_grad
    trained_error = (guesses - noise).pow(2).mean()
    untrained_error = (encode(untrained, images) - noise).pow(2).mean()
    assert trained_error < 0.5 * untrained_error, (trained_error, untrained_error)


def test_train_encoder_takes_a_conditional_generators_classes_and_refuses_bad_counts():
    torch.manual_seed(0)
    conditional = Generator(latent_size=LATENT, width=8, classes=10)
    asked = []

    def labels_for(count: int, draws: torch.Generator) -> torch.Tensor:
        asked.append(count)
        return torch.randint(0, 10, (count,), generator=draws)

    encoder = train_encoder(conditional, steps=2, batch_size=4, labels_for=labels_for, progress=False)
    assert asked == [4, 4] and not conditional.training and encode(encoder, torch.zeros(5, 1, 28, 28)).shape == (5, 8)
    for changes, says in [({"steps": 0}, "steps must be a positive int"), ({"batch_size": 0}, "batch_size must")]:
        with pytest.raises(ValueError, match=says):
            train_encoder(conditional, **({"steps": 1} | changes), progress=False)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        train_encoder(conditional, steps=1, seed=2**40, progress=False)
