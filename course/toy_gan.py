"""Notebook 05's game on numbers and points: the course's twins of the learner's players and moves, and their checks.

The players are tiny multilayer networks: the generator turns standard normal noise into samples of one or two
numbers, the discriminator gives one logit per sample, D(x) = sigmoid(logit). A turn of the game is the
discriminator's move, then the generator's, each one step of that player's optimiser. The checks run a learner's
piece beside these twins, from the same weights and on the same batches, print "Correct!" or name the slip, and
return whether it passed; whatever the piece does, they print lines, never a traceback, and leave the global
random numbers where they were.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from course.errors import one_line
from course.models import mlp
from course.piece_checks import _failure, _hint, _verdict, check_network

HIDDEN_UNITS = 64  # notebook 05's width of each hidden layer
SLOPE = 0.2  # LeakyReLU's slope for negative inputs


def make_generator(sample_size: int, hidden_units: int = HIDDEN_UNITS) -> nn.Sequential:
    """Noise (batch, sample_size) in, samples (batch, sample_size) out.

    Two hidden layers with LeakyReLU 0.2, a plain Linear last.
    """
    return mlp(sample_size, (hidden_units, hidden_units), sample_size, activation=lambda: nn.LeakyReLU(SLOPE))


def make_discriminator(sample_size: int, hidden_units: int = HIDDEN_UNITS) -> nn.Sequential:
    """Samples (batch, sample_size) in, one logit per sample (batch, 1) out.

    The generator's layers, ending in one number.
    """
    return mlp(sample_size, (hidden_units, hidden_units), 1, activation=lambda: nn.LeakyReLU(SLOPE))


def generate(generator: nn.Sequential, count: int) -> torch.Tensor:
    """`count` fresh samples: standard normal noise, as many numbers as a sample has, through the generator."""
    noise = torch.randn(count, generator[0].in_features)
    return generator(noise)


def discriminator_step(
    discriminator: nn.Module, optimizer: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor
) -> tuple[float, float, float]:
    """The discriminator's move: real samples aim at 1, the fakes (detached) at 0, one step.

    Returns its loss, mean D(real), mean D(fake).
    """
    real_logits = discriminator(real)
    fake_logits = discriminator(fake.detach())  # detach: this move leaves the generator alone
    loss = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


def generator_step(
    generator: nn.Sequential, discriminator: nn.Module, optimizer: torch.optim.Optimizer, batch_size: int
) -> float:
    """The generator's move with the non-saturating loss -log D(G(z)): `batch_size` fresh fakes aim at 1, one step.

    Returns the loss.
    """
    fake_logits = discriminator(generate(generator, batch_size))
    loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))  # -log D(G(z))
    optimizer.zero_grad()
    loss.backward()  # this also leaves gradients in the discriminator; its own move clears them before using any
    optimizer.step()  # only the generator's weights move
    return loss.item()


# ---------------------------------------------------------------------------------------------
# The checks of the learner's pieces
# ---------------------------------------------------------------------------------------------


def _one_check(check: Callable[..., bool]) -> Callable[..., bool]:
    """Run a check with the global random numbers forked (they are where they were after it), and end it in one line if
    the learner's code left something it cannot read."""

    @functools.wraps(check)
    def guarded(*arguments, **keywords) -> bool:
        with torch.random.fork_rng(devices=[]):
            try:
                return check(*arguments, **keywords)
            except Exception as error:  # the learner's code may have returned or changed anything
                return _verdict(
                    False,
                    f"the check could not read what your code left ({one_line(error)}); "
                    "keep the networks and tensors as they are given, and return plain numbers.",
                )

    return guarded


def _same(mine: nn.Module, theirs: nn.Module) -> bool:
    return all(
        torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(mine.parameters(), theirs.parameters(), strict=True)
    )


def _number(value: object) -> float | None:
    """A plain number, or a one-element tensor without a graph, as a float; None for anything else."""
    if isinstance(value, torch.Tensor):
        return (
            float(value.detach().reshape(()))
            if value.numel() == 1 and not value.requires_grad and value.is_floating_point()
            else None
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _close(value: float, expected: float) -> bool:
    return abs(value - expected) <= 1e-6 + 1e-4 * abs(expected)


def _with_activations(
    network: nn.Sequential, bend: Callable[[], nn.Module] | None, last: nn.Module | None
) -> nn.Sequential:
    """A copy of a twin with every LeakyReLU replaced by `bend()` (if given) and `last` added at the end (if given)."""
    layers = [
        bend() if bend is not None and isinstance(layer, nn.LeakyReLU) else layer for layer in copy.deepcopy(network)
    ]
    return nn.Sequential(*layers, *([last] if last is not None else []))


@_one_check
def check_player(maker: object, what: str, hidden_units: int = HIDDEN_UNITS) -> bool:
    """Does `maker(sample_size)` build the course's `what` ("generator" or "discriminator")?

    It is tried for samples of one number and of two.
    """
    twin = {"generator": make_generator, "discriminator": make_discriminator}[what]
    if isinstance(maker, nn.Module) or not callable(maker):
        return _verdict(
            False,
            f"make_{what} should be a function of sample_size that returns the network, got {type(maker).__name__}.",
        )
    counts = []
    for sample_size in (1, 2):
        torch.manual_seed(sample_size)
        try:
            network = maker(sample_size)
        except Exception as error:  # the learner's code may raise anything
            return _verdict(False, _failure(f"make_{what}({sample_size})", error))
        if not isinstance(network, nn.Module):
            return _verdict(
                False,
                f"make_{what}({sample_size}) should return the network, an nn.Sequential, got "
                f"{type(network).__name__}.",
            )
        theirs = twin(sample_size, hidden_units)
        inputs = torch.randn(6, sample_size)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            passed = check_network(network, theirs, inputs, f"make_{what}({sample_size})")
        if not passed:
            lines = printed.getvalue().splitlines()
            print(lines[0])
            hint = lines[1].removeprefix("  Hint: ") if len(lines) > 1 else None
            if "weight tensors where" in lines[0]:
                hint = "one nn.Sequential of three Linear layers, with a LeakyReLU(0.2) after each of the first two."
            elif "computes something else" in lines[0]:
                hint = _activation_slip(network, theirs, inputs, what) or hint
            if hint:
                _hint(hint)
            return False
        counts.append(sum(weight.numel() for weight in theirs.parameters()))
    return _verdict(
        True,
        f"make_{what} builds the course's layers for samples of one number and of two ({counts[0]:,} and "
        f"{counts[1]:,} parameters), and they compute the same outputs.",
    )


def _activation_slip(network: nn.Module, theirs: nn.Sequential, inputs: torch.Tensor, what: str) -> str | None:
    """Which common slip in the bends or the last layer makes the learner's network compute what it does.

    The network is given the course's weights first.
    """
    mine = copy.deepcopy(network)
    mine.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        got = mine(inputs)
        slips = [
            (
                _with_activations(theirs, None, nn.Sigmoid()),
                "the discriminator returns the logit, any real number: the sigmoid comes later, inside the loss."
                if what == "discriminator"
                else "the generator's last layer is a plain Linear: no sigmoid, the samples can be any number.",
            ),
            (
                _with_activations(theirs, None, nn.Tanh()),
                "the last layer is a plain Linear, with nothing after it: the samples here lie beyond -1..1."
                if what == "generator"
                else "the discriminator returns the logit, any real number: nothing after its last Linear.",
            ),
            (
                _with_activations(theirs, nn.ReLU, None),
                "the bends are LeakyReLU(0.2), which lets 0.2 times a negative input through, not ReLU.",
            ),
            (
                _with_activations(theirs, nn.LeakyReLU, None),
                "give LeakyReLU its slope, LeakyReLU(0.2): its default is 0.01.",
            ),
        ]
        for slip, hint in slips:
            if torch.allclose(got, slip(inputs), atol=1e-5):
                return hint
    return None


def _returned_step_values(returned: object) -> tuple[float, float, float] | str:
    """The discriminator's move's (loss, mean D(real), mean D(fake)) as floats.

    Else what is wrong with what it returned.
    """
    if not isinstance(returned, (tuple, list)) or len(returned) != 3:
        got = f"{len(returned)} values" if isinstance(returned, (tuple, list)) else type(returned).__name__
        return f"discriminator_step should return three numbers (its loss, mean D(real), mean D(fake)), got {got}."
    numbers = [_number(value) for value in returned]
    for name, value, number in zip(("the loss", "mean D(real)", "mean D(fake)"), returned, numbers, strict=True):
        if number is None:
            graph = isinstance(value, torch.Tensor) and value.requires_grad
            kind = (
                "a tensor that keeps its graph"
                if graph
                else f"a tensor of shape {tuple(value.shape)}"
                if isinstance(value, torch.Tensor)
                else type(value).__name__
            )
            return f"{name} should be a plain number (use .item()), got {kind}."
    return tuple(numbers)


@_one_check
def check_discriminator_step(step: object, steps: int = 3) -> bool:
    """Does `step(discriminator, optimizer, real, fake)` move the discriminator as `discriminator_step` does?

    It should also return the same loss and mean verdicts, leave the generator alone, and clear the gradients the
    generator's move left.
    """
    if not callable(step) or isinstance(step, nn.Module):
        return _verdict(False, f"discriminator_step should be a function, got {type(step).__name__}.")
    torch.manual_seed(5)
    generator, discriminator = make_generator(2, 16), make_discriminator(2, 16)
    mine, theirs = copy.deepcopy(discriminator), copy.deepcopy(discriminator)
    my_optimizer, their_optimizer = (
        torch.optim.SGD(mine.parameters(), lr=0.1),
        torch.optim.SGD(theirs.parameters(), lr=0.1),
    )
    my_steps = []
    my_optimizer.register_step_post_hook(lambda *_: my_steps.append(1))  # counts the steps of the optimiser it is given
    for number in range(1, steps + 1):
        real = torch.randn(32, 2) * 0.5 + torch.tensor([2.0, 0.0])
        fake = generate(generator, 32)  # still attached to the generator, as in the game
        generator.zero_grad(set_to_none=True)
        for network in (mine, theirs):
            for weight in network.parameters():
                weight.grad = torch.ones_like(weight)  # left over from the generator's move: zero_grad must clear it
        start = copy.deepcopy(theirs)
        try:
            returned = step(mine, my_optimizer, real, fake)
        except Exception as error:  # the learner's code may raise anything
            return _verdict(False, _failure("your discriminator_step", error))
        expected = discriminator_step(theirs, their_optimizer, real, fake)
        values = _returned_step_values(returned)
        if isinstance(values, str):
            return _verdict(False, values)
        if not _close(values[0], expected[0]):
            _verdict(
                False,
                f"on move {number}, your loss is {values[0]:.4f}; the discriminator's loss is {expected[0]:.4f}, from "
                "the same weights and samples.",
            )
            _hint(_discriminator_loss_slip(values[0], start, real, fake))
            return False
        for name, value, wanted, index in (
            ("mean D(real)", values[1], expected[1], 0),
            ("mean D(fake)", values[2], expected[2], 1),
        ):
            if not _close(value, wanted):
                _verdict(False, f"on move {number}, your {name} is {value:.4f}, the course's {wanted:.4f}.")
                with torch.no_grad():
                    logits = start((real, fake)[index])
                if _close(value, logits.mean().item()):
                    _hint(
                        "that is the mean logit: the verdict D(x) is the sigmoid of the logit, "
                        "torch.sigmoid(logits).mean().item()."
                    )
                elif _close(value, expected[2 - index]):
                    _hint("the two verdicts are swapped: return the loss, mean D(real), then mean D(fake).")
                else:
                    _hint(
                        "return the mean of torch.sigmoid of the logits the move scored: "
                        "the real samples', then the fakes'."
                    )
                return False
        if any(weight.grad is not None and bool(weight.grad.abs().sum() > 0) for weight in generator.parameters()):
            _verdict(
                False,
                "the loss is right, but the generator got gradients: score fake.detach(), so that this move leaves the "
                "generator alone.",
            )
            return False
        if not fake.requires_grad:
            _verdict(
                False,
                "the loss is right, but fake.detach_() detached the fakes themselves, in place. Use fake.detach(), "
                "which makes a new tensor.",
            )
            return False
        if not _same(mine, theirs):
            _verdict(
                False,
                f"after move {number} the discriminator's weights differ from the course's"
                + (": they did not move." if _same(mine, start) else "."),
            )
            slips = [
                (functools.partial(_discriminator_loss, real=real, fake=fake), True, FORGOT_ZERO_GRAD),
                (
                    functools.partial(_discriminator_loss, real=real, fake=fake, fakes_term=False),
                    False,
                    "the fakes' term sent no gradient: score fake.detach(), not under torch.no_grad(), and do not "
                    "detach the scores.",
                ),
            ]
            unmoved = (
                "no gradient reached the weights when they stepped: "
                "optimizer.zero_grad(), then loss.backward(), then optimizer.step()."
            )
            _hint(_step_slip(mine, start, my_steps, slips, unmoved))
            return False
    return _verdict(
        True,
        f"after {steps} moves from the same weights and samples, your discriminator's weights, loss and verdicts are "
        "the course's, and the generator was left alone.",
    )


def _discriminator_loss(
    network: nn.Module, real: torch.Tensor, fake: torch.Tensor, fakes_term: bool = True
) -> torch.Tensor:
    """The discriminator's loss; without a gradient through the fakes' term if `fakes_term` is False (a slip)."""
    real_logits, fake_logits = network(real), network(fake.detach())
    fake_logits = fake_logits if fakes_term else fake_logits.detach()
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


SIGMOID_APPLIED_TWICE = (
    "binary_cross_entropy_with_logits takes the logits and applies the sigmoid itself: do not apply it first."
)


def _named_slip(value: float, mistakes: list[tuple[torch.Tensor, str]], otherwise: str) -> str:
    """The hint of the first typical mistake whose loss is `value`, or `otherwise` when none is."""
    return next((hint for wrong, hint in mistakes if _close(value, wrong.item())), otherwise)


def _discriminator_loss_slip(value: float, start: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> str:
    """What a discriminator's loss of `value` most likely got wrong, on the scores of the network `start`."""
    bce = F.binary_cross_entropy_with_logits
    with torch.no_grad():
        real_logits, fake_logits = start(real), start(fake)
        ones, zeros = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
        expected = bce(real_logits, ones) + bce(fake_logits, zeros)
        mistakes = [
            (-expected, "a loss to minimise is minus the log-likelihood: check the sign."),
            (bce(real_logits, ones), "the fakes' term, -log(1 - D(G(z))) with target 0, is missing."),
            (bce(fake_logits, zeros), "the real samples' term, -log D(x) with target 1, is missing."),
            (
                bce(real_logits, zeros) + bce(fake_logits, torch.ones_like(fake_logits)),
                "the targets are swapped: real samples aim at 1, fakes at 0.",
            ),
            (
                bce(torch.cat([real_logits, fake_logits]), torch.cat([ones, zeros])),
                "one mean over both batches halves the loss: average each, then add.",
            ),
            (
                bce(real_logits, ones, reduction="sum") + bce(fake_logits, zeros, reduction="sum"),
                "that sums over the samples: average over each batch.",
            ),
            (bce(torch.sigmoid(real_logits), ones) + bce(torch.sigmoid(fake_logits), zeros), SIGMOID_APPLIED_TWICE),
        ]
    otherwise = (
        "L_D is binary_cross_entropy_with_logits of the real logits against ones plus that of the fakes' (detached) "
        "against zeros."
    )
    return _named_slip(value, mistakes, otherwise)


def _step_slip(
    mine: nn.Module,
    start: nn.Module,
    my_steps: list,
    slips: list[tuple[Callable[[nn.Module], torch.Tensor], bool, str]],
    unmoved: str,
) -> str:
    """Why a player's weights moved differently from the twin's though its loss was right.

    Another optimiser, no gradient, or one of the `slips` (a loss the course's move would step on, whether it keeps
    the gradients left over, and its hint).
    """
    if not my_steps:
        return (
            "the optimizer the function is given never took a step: "
            "call optimizer.step() on that optimizer, not on one of your own."
        )
    if _same(mine, start):
        return unmoved
    for loss_of, keeps_left_over, hint in slips:
        slipped = copy.deepcopy(start)
        optimizer = torch.optim.SGD(slipped.parameters(), lr=0.1)
        for weight in slipped.parameters():
            weight.grad = torch.ones_like(weight) if keeps_left_over else None  # as the check left them, or cleared
        loss_of(slipped).backward()
        optimizer.step()
        if _same(mine, slipped):
            return hint
    return (
        "optimizer.zero_grad(), loss.backward(), then optimizer.step(), once each, "
        "on this move's loss and the optimizer it is given."
    )


FORGOT_ZERO_GRAD = (
    "the gradients left over from an earlier move were added in: call optimizer.zero_grad() before loss.backward()."
)


def _generator_loss(generator: nn.Module, discriminator: nn.Module, batch_size: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    fake_logits = discriminator(generate(generator, batch_size))
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


@_one_check
def check_generator_step(step: object, batch_size: int, steps: int = 3) -> bool:
    """Does `step(generator, discriminator, optimizer)` move the generator as `generator_step(..., batch_size)` does?

    From the same weights and noise, it should also return the same loss and leave the discriminator's weights alone.
    """
    if not callable(step) or isinstance(step, nn.Module):
        return _verdict(False, f"generator_step should be a function, got {type(step).__name__}.")
    torch.manual_seed(5)
    generator, discriminator = make_generator(2, 16), make_discriminator(2, 16)
    mine, theirs = (
        (copy.deepcopy(generator), copy.deepcopy(discriminator)),
        (copy.deepcopy(generator), copy.deepcopy(discriminator)),
    )
    my_optimizer, their_optimizer = (
        torch.optim.SGD(mine[0].parameters(), lr=0.1),
        torch.optim.SGD(theirs[0].parameters(), lr=0.1),
    )
    my_steps = []
    my_optimizer.register_step_post_hook(lambda *_: my_steps.append(1))  # counts the steps of the optimiser it is given
    for number in range(1, steps + 1):
        for network in (mine[0], theirs[0]):
            for weight in network.parameters():
                weight.grad = torch.ones_like(
                    weight
                )  # left over from the generator's last move: zero_grad must clear it
        start = copy.deepcopy(theirs[0])
        seed = 50 + number  # the same noise for both: generate draws it from the global random numbers
        torch.manual_seed(seed)
        try:
            returned = step(*mine, my_optimizer)
        except Exception as error:  # the learner's code may raise anything
            _verdict(False, _failure("your generator_step", error))
            if "grad" in str(error):
                _hint(
                    "the fakes lost their graph (detached, or made under torch.no_grad()): the generator learns "
                    "through them."
                )
            return False
        torch.manual_seed(seed)
        expected = generator_step(*theirs, their_optimizer, batch_size)
        value = _number(returned)
        if value is None:
            return _verdict(
                False,
                "generator_step should return its loss as a plain number (loss.item()), got "
                f"{type(returned).__name__}.",
            )
        if not _close(value, expected):
            _verdict(
                False,
                f"on move {number}, your loss is {value:.4f}; the generator's loss is {expected:.4f}, from the same "
                "weights and noise.",
            )
            _hint(_generator_loss_slip(value, start, theirs[1], batch_size, seed))
            return False
        if not _same(mine[1], discriminator):
            return _verdict(
                False,
                f"after move {number} the discriminator's weights moved: the generator's move steps only the "
                "generator's optimizer.",
            )
        if not _same(mine[0], theirs[0]):
            _verdict(
                False,
                f"after move {number} the generator's weights differ from the course's"
                + (": they did not move." if _same(mine[0], start) else "."),
            )
            slips = [
                (
                    functools.partial(_generator_loss, discriminator=theirs[1], batch_size=batch_size, seed=seed),
                    True,
                    FORGOT_ZERO_GRAD,
                )
            ]
            unmoved = (
                "no gradient reached the generator's weights when they stepped: "
                "keep the fakes' graph (no .detach(), no torch.no_grad()), "
                "and call optimizer.zero_grad(), loss.backward(), then optimizer.step(), in that order."
            )
            _hint(_step_slip(mine[0], start, my_steps, slips, unmoved))
            return False
    return _verdict(
        True,
        f"after {steps} moves from the same weights and noise, your generator's weights and loss are the course's, "
        "and the discriminator's weights stayed as they were.",
    )


def _generator_loss_slip(value: float, start: nn.Module, discriminator: nn.Module, batch_size: int, seed: int) -> str:
    """What a generator's loss of `value` most likely got wrong, on the same noise and discriminator."""
    with torch.no_grad():
        torch.manual_seed(seed)
        fake_logits = discriminator(generate(start, batch_size))
        verdicts = torch.sigmoid(fake_logits)
        expected = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        mistakes = [
            (
                torch.log(1 - verdicts).mean(),
                "that is the minimax loss log(1 - D(G(z))); the course trains on the non-saturating -log D(G(z)): "
                "binary cross-entropy of the fakes' logits against target 1.",
            ),
            (
                F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)),
                "with target 0 the generator would learn to make its fakes look fake: its fakes aim at 1.",
            ),
            (-expected, "a loss to minimise: -log D(G(z)) is positive; check the sign."),
            (
                F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction="sum"),
                "that sums over the fakes: take the mean.",
            ),
            (F.binary_cross_entropy_with_logits(verdicts, torch.ones_like(verdicts)), SIGMOID_APPLIED_TWICE),
        ]
    otherwise = (
        "score generate(generator, BATCH_SIZE) with the discriminator, and take binary_cross_entropy_with_logits "
        "against ones."
    )
    return _named_slip(value, mistakes, otherwise)
