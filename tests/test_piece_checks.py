"""The checks of the workbook's pieces: right, wrong and garbage answers."""

import copy
import dataclasses
import types

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course import gan, gan_networks
from course.piece_checks import NETWORK_HINTS, check_gan_step, check_network, check_update_average


@pytest.fixture
def noise():
    return torch.randn(4, 64, generator=torch.Generator().manual_seed(0))


def test_the_course_networks_pass_their_own_check(capsys, noise):
    assert check_network(gan_networks.Generator(64, 32), gan_networks.Generator(64, 32), noise, "your generator")
    assert "Correct!" in capsys.readouterr().out


def test_a_network_with_a_layer_missing_is_named(capsys, noise):
    mine = gan_networks.Generator(64, 32)
    mine.upsample[1] = nn.Identity()  # the batch norm left out
    assert not check_network(mine, gan_networks.Generator(64, 32), noise, "your generator")
    out = capsys.readouterr().out
    assert "missing: upsample.1.weight" in out and "Hint:" in out


def test_a_layer_of_the_wrong_size_is_named(capsys, noise):
    mine = gan_networks.Generator(64, 32)
    mine.upsample[0] = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1)
    assert not check_network(mine, gan_networks.Generator(64, 32), noise, "your generator")
    assert "upsample.0.weight has shape (64, 32, 3, 3), the course's (64, 32, 4, 4)" in capsys.readouterr().out


def test_the_same_layers_computing_something_else_are_caught(capsys, noise):
    mine = gan_networks.Generator(64, 32)
    mine.upsample[4] = nn.Sigmoid()  # no weights, so only the output tells
    assert not check_network(mine, gan_networks.Generator(64, 32), noise, "your generator")
    assert "computes something else" in capsys.readouterr().out


@pytest.mark.parametrize("garbage", [None, 3, "generator", gan_networks.Generator])
def test_garbage_gets_one_line_not_a_traceback(capsys, noise, garbage):
    assert not check_network(garbage, gan_networks.Generator(64, 32), noise, "your generator")
    assert capsys.readouterr().out.startswith("Not yet: your generator should be a torch.nn.Module")


def test_a_network_whose_forward_raises_is_reported(capsys, noise):
    class Broken(gan_networks.Generator):
        def forward(self, noise, labels=None):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied\nmore detail")

    assert not check_network(Broken(64, 32), gan_networks.Generator(64, 32), noise, "your generator")
    assert "raised RuntimeError: mat1 and mat2 shapes cannot be multiplied" in capsys.readouterr().out


@pytest.mark.slow
def test_the_course_step_passes_and_typical_slips_are_named(capsys):
    assert check_gan_step(gan.train_step)
    assert "Correct!" in capsys.readouterr().out

    def no_smoothing(config, generator, discriminator, g_optimizer, d_optimizer, next_batch):
        return gan.train_step(
            dataclasses.replace(config, label_smoothing=0.0),
            generator,
            discriminator,
            g_optimizer,
            d_optimizer,
            next_batch,
        )

    assert not check_gan_step(no_smoothing)
    assert "discriminator's weights differ" in capsys.readouterr().out

    def frozen_generator(config, generator, discriminator, g_optimizer, d_optimizer, next_batch):
        batch = next_batch()
        fake = generator(batch.noise).detach()
        real_scores, fake_scores = discriminator(batch.real), discriminator(fake)
        d_loss = F.binary_cross_entropy_with_logits(
            real_scores, torch.full_like(real_scores, 1 - config.label_smoothing)
        ) + (F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores)))
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        return gan.StepResult(d_loss.detach(), d_loss.detach(), real_scores.detach(), fake_scores.detach())

    assert not check_gan_step(frozen_generator)
    out = capsys.readouterr().out
    assert "generator's weights differ from the course's: they did not move" in out and "not detached" in out


def test_a_step_that_raises_or_returns_the_wrong_thing_is_one_line(capsys):
    def raises(*args):
        raise NotImplementedError("write the discriminator's move")

    assert not check_gan_step(raises)
    assert "raised NotImplementedError: write the discriminator's move" in capsys.readouterr().out
    assert not check_gan_step(lambda *args: None)
    assert "should return gan.StepResult" in capsys.readouterr().out
    assert not check_gan_step("train_step")
    assert "should be a function" in capsys.readouterr().out


def test_update_average_right_and_wrong(capsys):
    assert check_update_average(gan.update_average)
    assert "Correct!" in capsys.readouterr().out

    @torch.no_grad()
    def swapped(average, model, decay):  # moves a share `decay` instead of 1 - decay
        for mean, weight in zip(average.state_dict().values(), model.state_dict().values(), strict=True):
            if mean.is_floating_point():
                mean.lerp_(weight, decay)
            else:
                mean.copy_(weight)

    assert not check_update_average(swapped)
    assert "1 - decay" in capsys.readouterr().out

    @torch.no_grad()
    def parameters_only(average, model, decay):
        for mean, weight in zip(average.parameters(), model.parameters(), strict=True):
            mean.lerp_(weight, 1 - decay)

    assert not check_update_average(parameters_only)
    assert "running_mean differs" in capsys.readouterr().out


def test_require_passes_a_correct_answer_and_stops_on_any_other(capsys):
    from course.exercises import check_penalty_function
    from course.piece_checks import require

    require(check_penalty_function, gan.gradient_penalty)
    assert capsys.readouterr().out.startswith("Correct!")
    with pytest.raises(AssertionError, match="not correct yet"):
        require(check_penalty_function, lambda critic, real, fake, mix, weight=10.0: torch.tensor(0.0))
    assert capsys.readouterr().out.startswith("Not yet:")
    with pytest.raises(AssertionError):
        require(check_penalty_function, None)  # not answered is not correct either


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_the_critic_steps_pass_and_a_missing_clip_or_penalty_is_named(capsys, loss):
    assert check_gan_step(gan.train_step, loss)
    assert "Correct!" in capsys.readouterr().out

    def other(config, *players):  # the other critic's rules: no clipping for wgan, no penalty but clipping for wgan-gp
        return gan.train_step(dataclasses.replace(config, loss="wgan-gp" if loss == "wgan" else "wgan"), *players)

    assert not check_gan_step(other, loss)
    out = capsys.readouterr().out
    assert "discriminator's weights differ" in out and (
        "clip every weight" in out if loss == "wgan" else "gradient penalty" in out
    )


def test_same_values_right_wrong_and_garbage(capsys):
    from course.piece_checks import check_same_values

    logits, labels = torch.randn(8, 6, generator=torch.Generator().manual_seed(0)), torch.arange(8) % 5
    right = F.cross_entropy(logits, labels)
    assert check_same_values({"labelled_loss": (right, right.clone())})
    assert "Correct!" in capsys.readouterr().out
    assert not check_same_values({"labelled_loss": (F.cross_entropy(logits[:, :-1], labels), right)})
    assert "labelled_loss gives" in capsys.readouterr().out
    assert not check_same_values({"labelled_loss": (F.cross_entropy(logits, labels, reduction="none"), right)})
    assert "returns shape (8,)" in capsys.readouterr().out
    assert not check_same_values({"labelled_loss": (None, right)})
    assert "should return a tensor" in capsys.readouterr().out


def test_same_weights_names_the_network_that_differs(capsys):
    from course.piece_checks import check_same_weights

    torch.manual_seed(0)
    one, two = nn.Linear(3, 2), nn.Linear(3, 2)
    assert check_same_weights({"generator": (one, copy.deepcopy(one))}, "one step")
    assert "Correct!" in capsys.readouterr().out
    assert not check_same_weights({"discriminator": (one, two)}, "one step")
    assert "the discriminator's weight differs" in capsys.readouterr().out


def transfer_model_with(slip):
    """The course's transfer model, written out, with one typical slip."""

    def make_model(pretrained, num_classes):
        model = pretrained if slip == "no copy" else copy.deepcopy(pretrained)
        if slip == "attribute":
            model.features.requires_grad = False
        elif slip != "no freeze":
            model.features.requires_grad_(False)
        model.classifier[-1] = nn.Linear(64, 5 if slip == "five classes" else num_classes)
        if slip != "no device":
            model.classifier[-1].to(next(model.parameters()).device)
        if slip == "head frozen":
            model.requires_grad_(False)
        if slip == "shared":
            model.features = pretrained.features
        if slip == "fresh":
            model.classifier[1].reset_parameters()
        return model

    return make_model


def passes_and_names_every_slip(capsys, check, right, written_out, slips) -> None:
    """`check` passes the course's piece and the same piece written out, and names each slip in one written out.

    Each slip's message comes with a hint.
    """
    assert check(right) and check(written_out("none"))
    assert capsys.readouterr().out.count("Correct!") == 2
    for slip, named in slips:
        assert not check(written_out(slip)), slip
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and named in out and "Hint:" in out, (slip, out)


def refuses_in_one_line(capsys, check, garbage) -> None:
    """`check` refuses `garbage` in a line or two, never a traceback."""
    assert not check(garbage)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "Traceback" not in out and len(out.splitlines()) <= 2


def test_transfer_model_right_and_its_typical_slips(capsys):
    from course.piece_checks import check_transfer_model
    from course.transfer import transfer_model

    slips = [
        ("no copy", "changed the pretrained network: it froze some of its layers"),
        ("shared", "shares features.0.weight with the pretrained network"),
        ("head frozen", "you froze the new output layer too"),
        ("no freeze", "freeze the convolutions: model.features.requires_grad_(False)"),
        ("attribute", "only sets a new attribute of the module"),
        ("five classes", "classifier.3.weight has shape (5, 64); for 3 classes the course's is (3, 64)"),
        ("fresh", "classifier.1.weight is not the pretrained network's"),
        ("no device", "your new output layer stays on the CPU"),
    ]
    passes_and_names_every_slip(capsys, check_transfer_model, transfer_model, transfer_model_with, slips)


@pytest.mark.parametrize(
    "garbage", [None, "transfer_model", lambda pretrained, num_classes: None, lambda *args: 1 / 0, nn.Linear]
)
def test_transfer_model_garbage_gets_one_line_not_a_traceback(capsys, garbage):
    from course.piece_checks import check_transfer_model

    refuses_in_one_line(capsys, check_transfer_model, garbage)


def optimizer_with(slip):
    """The course's fine-tuning optimiser, written out, with one typical slip."""

    def make_optimizer(model, learning_rate, factor):
        hidden, output = list(model.classifier[1].parameters()), list(model.classifier[-1].parameters())
        slow = learning_rate if slip == "one rate" else learning_rate * factor
        if slip == "frozen given":
            hidden = [*model.features.parameters(), *hidden]
        if slip == "one group":
            return torch.optim.Adam([*hidden, *output], lr=learning_rate)
        if slip == "hard-coded":
            slow, learning_rate = 0.0009, 0.003
        groups = [{"params": hidden, "lr": slow}, {"params": output, "lr": learning_rate}]
        if slip == "swapped rates":
            groups[0]["lr"], groups[1]["lr"] = groups[1]["lr"], groups[0]["lr"]
        if slip == "swapped groups":
            groups = groups[::-1]
        if slip == "sgd":
            return torch.optim.SGD(groups)
        return torch.optim.Adam(groups, weight_decay=1e-4 if slip == "weight decay" else 0)

    return make_optimizer


def test_fine_tune_optimizer_right_and_its_typical_slips(capsys):
    from course.piece_checks import check_fine_tune_optimizer
    from course.transfer import fine_tune_optimizer

    slips = [
        ("one rate", "one learning rate for both groups"),
        ("one group", "has 1 parameter group(s)"),
        ("frozen given", "is given features.0.weight, which is frozen"),
        ("hard-coded", "use the function's arguments"),
        ("swapped rates", "the rates are swapped"),
        ("swapped groups", "your groups are the other way round"),
        ("sgd", "your optimizer is SGD"),
        ("weight decay", "sets weight_decay=0.0001"),
    ]
    passes_and_names_every_slip(capsys, check_fine_tune_optimizer, fine_tune_optimizer, optimizer_with, slips)


@pytest.mark.parametrize(
    "garbage", [None, 0.3, lambda model, learning_rate, factor: None, lambda *args: 1 / 0, torch.optim.Adam]
)
def test_fine_tune_optimizer_garbage_gets_one_line_not_a_traceback(capsys, garbage):
    from course.piece_checks import check_fine_tune_optimizer

    refuses_in_one_line(capsys, check_fine_tune_optimizer, garbage)


def test_a_small_cnn_written_out_is_checked_against_the_course_s(capsys):
    from course.models import SmallCNN

    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert check_network(SmallCNN(num_classes=10), SmallCNN(num_classes=10), images, "your SmallCNN")
    assert "Correct! your SmallCNN has the course's 106,122 parameters" in capsys.readouterr().out
    no_pooling = SmallCNN(num_classes=10)
    no_pooling.features[2] = (
        nn.Identity()
    )  # no weights: the flattened maps are four times too many for the hidden layer
    assert not check_network(
        no_pooling, SmallCNN(num_classes=10), images, "your SmallCNN", hint=NETWORK_HINTS["small CNN"]
    )
    out = capsys.readouterr().out
    assert "raised RuntimeError" in out and "MaxPool2d(2)" in out
    small_kernel = SmallCNN(num_classes=10)
    small_kernel.features[0] = nn.Conv2d(1, 16, kernel_size=3, padding=1)
    assert not check_network(small_kernel, SmallCNN(num_classes=10), images, "your SmallCNN")
    assert "features.0.weight has shape (16, 1, 3, 3), the course's (16, 1, 5, 5)" in capsys.readouterr().out


# Notebook 09's networks: a conditional generator, a projection discriminator, a residual up-block


def written_forward(network: nn.Module, forward) -> nn.Module:
    """`network` with its forward replaced by `forward(network, *inputs)`, as a learner might write it."""
    network.forward = types.MethodType(
        forward, network
    )  # a copy of the network (copy.deepcopy) keeps it, bound to the copy
    return network


def joined_generator(join) -> gan_networks.Generator:
    """The conditional generator, its input joined by `join(noise, labels, classes)`."""

    def forward(network, noise, labels):
        joined = join(noise, labels, network.classes)
        return network.upsample(network.project(joined).view(-1, network.start_width, network.start, network.start))

    return written_forward(gan_networks.Generator(classes=10), forward)


@pytest.fixture
def conditional_inputs():
    draws = torch.Generator().manual_seed(0)
    return (
        torch.randn(8, 64, generator=draws),
        torch.tensor([3, 0, 7, 1, 5, 2, 6, 4]),
        torch.rand(8, 1, 28, 28, generator=draws) * 2 - 1,
    )


def check_generator(mine, conditional_inputs):
    noise, labels, _ = conditional_inputs
    torch.manual_seed(0)
    theirs = gan_networks.Generator(classes=10)
    return check_network(
        mine, theirs, noise, "your conditional generator", labels, NETWORK_HINTS["conditional generator"]
    )


@pytest.mark.parametrize(
    "join, named",
    [
        (lambda noise, labels, classes: torch.cat([noise, F.one_hot(labels, classes).float()], dim=1), "Correct!"),
        (
            lambda noise, labels, classes: torch.cat([F.one_hot(labels, classes).float(), noise], dim=1),
            "computes something else",
        ),
        (
            lambda noise, labels, classes: torch.cat([noise, F.one_hot(labels, classes).float()], dim=0),
            "raised RuntimeError",
        ),
        (
            lambda noise, labels, classes: torch.cat([noise, F.one_hot(labels).float()], dim=1),
            "raised RuntimeError",
        ),  # 8 columns: no class 9 here
        (
            lambda noise, labels, classes: torch.cat([noise, labels[:, None].float()], dim=1),
            "raised RuntimeError",
        ),  # the class number, not its code
    ],
)
def test_the_conditional_generators_input_right_and_its_typical_slips(capsys, conditional_inputs, join, named):
    correct = named == "Correct!"
    assert check_generator(joined_generator(join), conditional_inputs) == correct
    out = capsys.readouterr().out
    assert named in out
    assert correct or "Hint: the first layer reads (N, 64 + 10) numbers: the noise first" in out


def test_the_course_conditional_networks_pass_and_garbage_gets_one_line(capsys, conditional_inputs):
    noise, labels, images = conditional_inputs
    assert check_generator(gan_networks.Generator(classes=10), conditional_inputs)
    assert "Correct!" in capsys.readouterr().out
    for garbage in (None, gan_networks.Generator, "generator"):
        assert not check_generator(garbage, conditional_inputs)
        assert capsys.readouterr().out.count("\n") == 1

    def unwritten(noise, labels, classes):
        raise NotImplementedError("join the noise and the class's one-hot code")

    assert not check_generator(joined_generator(unwritten), conditional_inputs)
    assert (
        capsys.readouterr().out
        == "Not yet: running your conditional generator on a batch of shape (8, 64) and its labels raised "
        "NotImplementedError: join the noise and the class's one-hot code\n"
    )
    assert not check_generator(
        gan_networks.Generator(), conditional_inputs
    )  # built without classes: its first layer reads 64 numbers
    assert "project.0.weight has shape (3136, 64), the course's (3136, 74)" in capsys.readouterr().out


def scored_discriminator(score) -> gan_networks.Discriminator:
    """The conditional discriminator, its score computed by `score(network, features, labels)`."""

    def forward(network, images, labels):
        return score(network, network.body(images), labels)

    return written_forward(gan_networks.Discriminator(classes=10), forward)


@pytest.mark.parametrize(
    "score, named",
    [
        (
            lambda net, features, labels: (
                net.score(features).squeeze(1) + (net.class_vectors(labels) * features).sum(dim=1)
            ),
            "Correct!",
        ),
        (lambda net, features, labels: net.score(features).squeeze(1), "computes something else"),  # no class term
        (
            lambda net, features, labels: net.score(features) + (net.class_vectors(labels) * features).sum(dim=1),
            "returns (8, 8)",
        ),  # no squeeze
        (
            lambda net, features, labels: (
                net.score(features).squeeze(1) + (net.class_vectors(labels) * features).sum(dim=0)
            ),
            "raised RuntimeError",
        ),
        (
            lambda net, features, labels: net.score(features).squeeze(1) + features @ net.class_vectors.weight.T,
            "raised RuntimeError",
        ),  # every class
    ],
)
def test_the_projection_discriminator_right_and_its_typical_slips(capsys, conditional_inputs, score, named):
    _, labels, images = conditional_inputs
    torch.manual_seed(0)
    theirs = gan_networks.Discriminator(classes=10)
    with torch.no_grad():
        theirs.class_vectors.weight.normal_(0, 0.05)  # they start at zero, where a missing class term would pass
    correct = named == "Correct!"
    mine = scored_discriminator(score)
    assert (
        check_network(
            mine, theirs, images, "your conditional discriminator", labels, NETWORK_HINTS["projection discriminator"]
        )
        == correct
    )
    out = capsys.readouterr().out
    assert named in out
    assert correct or "Hint: one score per image, shape (N,)" in out


def test_the_up_block_right_and_its_typical_slips(capsys):
    x = torch.randn(4, 32, 7, 7, generator=torch.Generator().manual_seed(0))

    def check(mine):
        return check_network(mine, gan_networks.UpBlock(32, 32), x, "your up-block", hint=NETWORK_HINTS["up-block"])

    assert check(gan_networks.UpBlock(32, 32))
    assert "Correct! your up-block has the course's 19,680 parameters" in capsys.readouterr().out

    class NoShortcut(gan_networks.UpBlock):
        def forward(self, x):
            return self.residual(x)

    assert not check(NoShortcut(32, 32))
    assert "Hint: the residual path is BatchNorm2d" in capsys.readouterr().out
    upsampled_last = gan_networks.UpBlock(32, 32)
    upsampled_last.shortcut = nn.Sequential(
        nn.Conv2d(32, 32, 1), nn.Upsample(scale_factor=2)
    )  # the 1x1 conv before upsampling
    assert not check(upsampled_last)
    assert "missing: shortcut.1.weight" in capsys.readouterr().out
    assert not check(gan_networks.UpBlock(32, 32, batch_norm=False))
    assert "missing: residual.0.weight" in capsys.readouterr().out
    assert not check(gan_networks.UpBlock)
    assert capsys.readouterr().out.startswith("Not yet: your up-block should be a torch.nn.Module")


@pytest.fixture
def line_data():
    draws = torch.Generator().manual_seed(0)
    x = torch.randn(60, generator=draws, dtype=torch.float64)
    y = 0.6 * x + 0.8 * torch.randn(60, generator=draws, dtype=torch.float64)
    return (x - x.mean()) / x.std(), (y - y.mean()) / y.std()


def line_loop(x, y, slip=""):
    """Notebook 01's loop on (x, y) as fit(learning_rate, steps), with one of the typical slips if asked."""

    def fit(learning_rate, steps):
        weight = torch.zeros((), dtype=torch.float64, requires_grad=True)
        bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
        losses = []
        for _ in range(steps):
            squared = (weight * x + bias - y) ** 2
            loss = squared.sum() if slip == "sum" else squared.mean()
            loss.backward()
            rate = {"no rate": 1.0, "written in": 0.1}.get(slip, learning_rate)
            with torch.no_grad():
                weight -= (-1 if slip == "plus" else 1) * rate * weight.grad
                if slip != "bias left alone":
                    bias -= (-1 if slip in ("plus", "bias backwards") else 1) * rate * bias.grad
            if slip != "no reset":
                weight.grad.zero_()
                if slip != "bias not reset":
                    bias.grad.zero_()
            losses.append(((weight * x + bias - y) ** 2).mean().item() if slip == "loss after" else loss.item())
        return weight.item(), bias.item(), losses

    return fit


def test_the_course_line_loop_passes(capsys, line_data):
    import functools

    from course import training
    from course.piece_checks import check_line_descent

    x, y = line_data
    before = y.clone()
    assert check_line_descent(functools.partial(training.fit_line_by_gradient_descent, *line_data), *line_data)
    assert check_line_descent(line_loop(*line_data), *line_data)
    assert capsys.readouterr().out.count("Correct!") == 2
    assert torch.equal(y, before)  # the targets shifted for the bias's run are put back as they were


@pytest.mark.parametrize(
    "slip, hint",
    [
        ("plus", "move against the gradient"),
        ("no reset", "backward() adds to .grad"),
        ("no rate", "multiply each gradient by learning_rate"),
        ("sum", ".mean() over the sales"),
        ("written in", "use the argument learning_rate, not the number 0.1"),
        ("loss after", "the loss computed before the update"),
        ("bias left alone", "the weight is right, the bias is not"),  # caught on the shifted targets only
        ("bias backwards", "the weight is right, the bias is not"),
        ("bias not reset", "the weight is right, the bias is not"),
    ],
)
def test_a_slip_in_the_line_loop_gets_its_hint(capsys, line_data, slip, hint):
    from course.piece_checks import check_line_descent

    assert not check_line_descent(line_loop(*line_data, slip), *line_data)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "Hint: " in out and hint in out


def test_a_line_loop_that_raises_or_returns_garbage_is_one_line(capsys, line_data):
    from course.piece_checks import check_line_descent

    x, y = line_data

    def unguarded(learning_rate, steps):  # the update outside torch.no_grad()
        weight = torch.zeros((), dtype=torch.float64, requires_grad=True)
        ((weight * x - y) ** 2).mean().backward()
        weight -= learning_rate * weight.grad

    def blank(learning_rate, steps):
        raise NotImplementedError("write the body of the loop")

    cases = [
        (unguarded, "raised RuntimeError: a leaf Variable", "torch.no_grad()"),
        (blank, "raised NotImplementedError: write the body of the loop", None),
        (None, "should be a function, got NoneType", None),
        (lambda learning_rate, steps: None, "should return (weight, bias, losses)", None),
        (lambda learning_rate, steps: (0.0, 0.0, [1.0]), "its list holds 1 losses", None),
        (lambda learning_rate, steps: ("w", "b", "losses"), "it returned a str, a str and a str", None),
        (
            lambda learning_rate, steps: (0.0, 0.0, [1.0] * steps),
            "your weight and bias are 0.000000 and 0.000000",
            "did not move",
        ),
    ]
    for fit, named, hint in cases:
        assert not check_line_descent(fit, x, y)
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and named in out and "Traceback" not in out
        assert ("Hint: " in out) == (hint is not None) and (hint is None or hint in out)


def price_network(first, second):
    return nn.Sequential(nn.Linear(1, first), nn.Tanh(), nn.Linear(first, second), nn.Tanh(), nn.Linear(second, 1))


@pytest.mark.parametrize(
    "mine, named",
    [
        (price_network(16, 4), "Correct! your price_network(16, 4) has the course's 105 parameters"),
        (
            nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 4), nn.ReLU(), nn.Linear(4, 1)),
            "computes something else",
        ),
        (nn.Sequential(nn.Linear(1, 16), nn.Linear(16, 4), nn.Tanh(), nn.Linear(4, 1)), "missing: 2.weight"),
        (price_network(8, 8), "0.weight has shape (8, 1), the course's (16, 1)"),
        (price_network, "should be a torch.nn.Module"),
    ],
)
def test_the_price_network_of_notebook_02_right_and_wrong(capsys, mine, named):
    from course.models import mlp

    theirs = mlp(in_features=1, hidden=(16, 4), out_features=1)
    inputs = torch.linspace(-2, 2, 8).reshape(-1, 1)
    assert check_network(
        mine, theirs, inputs, "your price_network(16, 4)", hint="Linear, Tanh, Linear, Tanh, Linear"
    ) == named.startswith("Correct!")
    assert named in capsys.readouterr().out


def test_the_course_epoch_passes_its_own_check(capsys):
    from course import training
    from course.piece_checks import check_epoch

    state = torch.random.get_rng_state()
    assert check_epoch(training.run_epoch)
    assert capsys.readouterr().out.startswith("Correct! after 2 epochs from the same start and shuffling seed")
    assert torch.equal(torch.random.get_rng_state(), state)  # the notebook's own random draws are left alone


def written_epoch(slip=""):
    """An epoch as a learner writes it, with one of the typical slips if asked."""

    def epoch(model, images, labels, optimizer, batch_size, shuffler):
        if slip == "own shuffler":
            shuffler = torch.Generator().manual_seed(0)
        order = torch.arange(len(images)) if slip == "no shuffle" else torch.randperm(len(images), generator=shuffler)
        if slip == "extra draw":
            torch.randperm(2, generator=shuffler)
        loss_sum, correct = 0.0, 0
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            scores = model(images[batch])
            loss = (
                F.mse_loss(scores.softmax(1), F.one_hot(labels[batch], 4).float())
                if slip == "wrong loss"
                else F.cross_entropy(scores, labels[batch])
            )
            if slip == "step before backward":
                optimizer.zero_grad()
                optimizer.step()
                loss.backward()
                continue
            if slip != "no zero_grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * (1 if slip == "unweighted" else len(batch))
            correct += (scores.argmax(1) == labels[batch]).sum().item()
        return loss_sum / len(images), correct / len(images)

    return epoch


@pytest.mark.parametrize(
    "slip, named, hint",
    [
        ("no zero_grad", "the weights differ", "call optimizer.zero_grad() before loss.backward()"),
        ("no shuffle", "the weights differ", "shuffle first"),
        (
            "step before backward",
            "the weights did not move",
            "zero_grad(), loss.backward() and then optimizer.step(), in that order",
        ),
        ("wrong loss", "the weights differ", "scores = model(images[batch]), loss = F.cross_entropy"),
        (
            "own shuffler",
            "the shuffler given to the epoch was not used",
            "a generator of your own repeats the same order",
        ),
        ("extra draw", "the shuffler has drawn more than one order", "once per epoch"),
        ("unweighted", "your epoch returns loss", "times its number of images"),
    ],
)
def test_a_slip_in_the_epoch_gets_its_hint(capsys, slip, named, hint):
    from course.piece_checks import check_epoch

    assert not check_epoch(written_epoch(slip))
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and named in out and "Hint: " in out and hint in out


@pytest.mark.parametrize(
    "slip",
    [
        "no zero_grad",
        "no shuffle",
        "step before backward",
        "loss without softmax",
        "last batch dropped",
        "labels unshuffled",
    ],
)
def test_each_simulated_slip_of_the_epoch_is_named(capsys, slip):
    from course.piece_checks import EPOCH_SLIPS, _slipped_epoch, check_epoch

    assert not check_epoch(_slipped_epoch(slip))
    assert f"Hint: {EPOCH_SLIPS[slip]}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "epoch, named",
    [
        (None, "the epoch should be a function, got NoneType"),
        (
            lambda *arguments: None,
            "the epoch must return two numbers, the mean loss and the accuracy; it returned NoneType",
        ),
        (lambda *arguments: (1.0, 0.5, 3), "it returned 3 values"),
        (lambda *arguments: "ok", "it returned str"),
        (lambda model, images: (0.0, 0.0), "raised TypeError"),
    ],
)
def test_garbage_for_an_epoch_gets_one_line(capsys, epoch, named):
    from course.piece_checks import check_epoch

    assert not check_epoch(epoch)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "Traceback" not in out
    assert named is None or named in out


def test_an_epoch_that_raises_names_the_error(capsys):
    from course.piece_checks import check_epoch

    def blank(model, images, labels, optimizer, batch_size, shuffler):
        raise NotImplementedError("write one epoch")

    assert not check_epoch(blank)
    assert capsys.readouterr().out == "Not yet: running your epoch 1 raised NotImplementedError: write one epoch\n"


def test_a_line_loop_that_keeps_the_losses_as_tensors_is_told_to_use_item(capsys, line_data):
    from course.piece_checks import check_line_descent

    plain = line_loop(*line_data)

    def tensors(learning_rate, steps):
        weight, bias, losses = plain(learning_rate, steps)
        return weight, bias, [torch.tensor(loss, requires_grad=True) for loss in losses]  # as if loss, not loss.item()

    assert not check_line_descent(tensors, *line_data)
    assert "append loss.item()" in capsys.readouterr().out
