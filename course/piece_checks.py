"""Checks for the pieces a learner writes in the workbook: a network, a training step, a moving average.

Each check runs the learner's piece beside the course's twin, prints "Correct!" or names what differs (never a
traceback, whatever the piece does), and returns whether it passed, so that a test cell can `assert` it and
nbgrader's autograder can score it.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Callable

import torch
from torch import nn

from course import gan


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _hint(text: str) -> None:
    print(f"  Hint: {text}")


def _failure(what: str, error: BaseException) -> str:
    return f"running {what} raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no message'}"


def check_network(mine: object, theirs: nn.Module, inputs: torch.Tensor, what: str) -> bool:
    """Does `mine` have the course's layers (names and shapes) and, given the course's weights, its output on `inputs`?"""
    if not isinstance(mine, nn.Module):
        return _verdict(False, f"{what} should be a torch.nn.Module (an instance of your class), got {type(mine).__name__}.")
    try:
        mine_shapes = {name: tuple(value.shape) for name, value in mine.state_dict().items()}
    except Exception as error:  # a learner's module can fail in any way
        return _verdict(False, _failure(f"state_dict() of {what}", error))
    their_shapes = {name: tuple(value.shape) for name, value in theirs.state_dict().items()}
    missing, extra = [name for name in their_shapes if name not in mine_shapes], [name for name in mine_shapes if name not in their_shapes]
    if missing or extra:
        named = (f"; missing: {', '.join(missing[:3])}" if missing else "") + (f"; not in the course's: {', '.join(extra[:3])}" if extra else "")
        _verdict(False, f"{what} has {len(mine_shapes)} weight tensors where the course's has {len(their_shapes)}{named}.")
        _hint("build the layers in the order the text describes, under the names it uses; every BatchNorm adds weight, bias and running statistics.")
        return False
    for name, shape in their_shapes.items():
        if mine_shapes[name] != shape:
            _verdict(False, f"{what}'s {name} has shape {mine_shapes[name]}, the course's {shape}.")
            _hint("check that layer's numbers of inputs and outputs (channels, features) and its kernel size.")
            return False
    mine, theirs = copy.deepcopy(mine), copy.deepcopy(theirs)
    mine.load_state_dict(theirs.state_dict())
    mine.eval()
    theirs.eval()
    try:
        with torch.no_grad():
            got, expected = mine(inputs), theirs(inputs)
    except Exception as error:
        return _verdict(False, _failure(f"{what} on a batch of shape {tuple(inputs.shape)}", error))
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        _verdict(False, f"{what} returns {shape} for a batch of shape {tuple(inputs.shape)}; the course's returns {tuple(expected.shape)}.")
        _hint("check the reshapes in forward, and what the last layer returns.")
        return False
    if not torch.allclose(got, expected, atol=1e-5):
        _verdict(False, f"{what} has the course's layers and weights but computes something else.")
        _hint("check the order of the layers, the activation functions (ReLU, LeakyReLU 0.2, Tanh) and the forward pass.")
        return False
    count = sum(value.numel() for value in theirs.parameters())
    return _verdict(True, f"{what} has the course's {count:,} parameters in the same layers, and computes the same output.")


HINTS = {  # what to check when a network's weights differ after a step: (the generator's move, the discriminator's)
    "dcgan": (
        "the generator's move: score the same fakes again with the just-updated discriminator, target 1 (-log D(G(z))).",
        "the discriminator's move: real images aim at 1 - label smoothing, the fakes (detached) at 0, both losses added; "
        "zero_grad, backward, then d_optimizer.step().",
    ),
    "wgan": (
        "the generator's move: after the critic's last move, score the last fakes again and minimise -scores.mean().",
        "the critic's move, config.critic_steps times on fresh batches: fake_scores.mean() - real_scores.mean(), zero_grad, "
        "backward, step, then clip every weight into [-0.01, 0.01].",
    ),
    "wgan-gp": (
        "the generator's move: after the critic's last move, score the last fakes again and minimise -scores.mean().",
        "the critic's move, config.critic_steps times on fresh batches: fake_scores.mean() - real_scores.mean() plus the "
        "gradient penalty at batch.mix, zero_grad, backward, step (no clipping).",
    ),
}


def practice_config(loss: str = "dcgan") -> gan.GANConfig:
    """A small config for checking a training step quickly on the CPU."""
    return gan.GANConfig(loss=loss, batch_size=16, latent_size=16, width=8, seed=3)


def check_gan_step(step: object, loss: str = "dcgan", steps: int = 3) -> bool:
    """Does `step(config, generator, discriminator, g_optimizer, d_optimizer, next_batch)` move every weight as `gan.train_step` does?"""
    if not callable(step):
        return _verdict(False, f"the step should be a function, got {type(step).__name__}.")
    config = practice_config(loss)
    torch.manual_seed(1)
    practice_images = torch.rand(256, 1, 28, 28) * 2 - 1
    mine, theirs = gan.build(config, "cpu"), gan.build(config, "cpu")  # (generator, discriminator, g_optimizer, d_optimizer)
    my_batches, their_batches = gan.Batches(practice_images, config), gan.Batches(practice_images, config)
    names = ("generator", "discriminator")
    for number in range(1, steps + 1):  # compared after every step, so the first slip is the one named
        start = [[value.detach().clone() for value in network.parameters()] for network in mine[:2]]
        try:
            result = step(config, *mine, my_batches)
        except Exception as error:
            return _verdict(False, _failure("your step", error))
        gan.train_step(config, *theirs, their_batches)
        if not isinstance(result, gan.StepResult):
            return _verdict(False, f"the step returns {type(result).__name__}; it should return gan.StepResult(d_loss, g_loss, real_scores, fake_scores).")
        for index in (1, 0):  # the discriminator moves first
            if all(torch.equal(a, b) for a, b in zip(mine[index].parameters(), theirs[index].parameters(), strict=True)):
                continue
            unmoved = all(torch.equal(a, b) for a, b in zip(mine[index].parameters(), start[index], strict=True))
            _verdict(False, f"after step {number} the {names[index]}'s weights differ from the course's" + (": they did not move." if unmoved else "."))
            _hint(HINTS[loss][index] if not (index == 0 and unmoved) else
                  "the generator's move needs the fakes with their graph (not detached) and g_optimizer.step() after backward.")  # fmt: skip
            return False
        for index in (1, 0):  # the weights agree; batch norm's running statistics count every call of a network
            if not all(torch.equal(a, b) for a, b in zip(mine[index].buffers(), theirs[index].buffers(), strict=True)):
                _verdict(False, f"after step {number} the weights agree, but the {names[index]}'s batch norm statistics differ from the course's.")
                _hint("call each network exactly as often as the text does: the discriminator on the real batch, on the detached fakes, "
                      "then once more on the fakes for the generator's move.")  # fmt: skip
                return False
    return _verdict(True, f"after {steps} steps every weight of both networks is the course's, to the last bit.")


def check_update_average(update: object) -> bool:
    """Does `update(average, model, decay)` move `average` as `gan.update_average` does, buffers included?"""
    if not callable(update):
        return _verdict(False, f"update_average should be a function, got {type(update).__name__}.")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model.train()
    model(torch.randn(8, 4))  # running statistics and the batch count move away from their start
    mine, theirs = copy.deepcopy(model), copy.deepcopy(model)
    with torch.no_grad():
        for weight in model.parameters():
            weight.add_(torch.randn_like(weight))
        model(torch.randn(8, 4))
    try:
        with torch.no_grad():
            update(mine, model, 0.9)
    except Exception as error:
        return _verdict(False, _failure("update_average", error))
    gan.update_average(theirs, model, 0.9)
    for (name, got), expected in zip(mine.state_dict().items(), theirs.state_dict().values(), strict=True):
        if not torch.allclose(got.double(), expected.double(), atol=1e-6):
            _verdict(False, f"after one update with decay 0.9, {name} differs from the course's.")
            if got.dtype == torch.long:
                _hint("the count of batches is a whole number: copy it from the model, do not average it.")
            else:
                _hint("each value should move a share 1 - decay of the way towards the model's: average.lerp_(model_value, 1 - decay).")
            return False
    return _verdict(True, "your update moves every weight and batch norm statistic as the course's does.")


def require(check: Callable[..., object], *answers: object) -> None:
    """Run one of `course.exercises`' checks as a test cell: its verdict is printed, and any verdict but "Correct!" stops the cell."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        check(*answers)
    print(printed.getvalue(), end="")
    if not printed.getvalue().startswith("Correct!"):
        raise AssertionError("not correct yet: the lines above say what differs")


def check_same_values(pairs: dict[str, tuple[object, torch.Tensor]]) -> bool:
    """For each name, does the learner's value (a tensor) equal the course's, in shape and, to float precision, in value?"""
    for name, (mine, theirs) in pairs.items():
        if not isinstance(mine, torch.Tensor):
            return _verdict(False, f"{name} should return a tensor, got {type(mine).__name__}.")
        if mine.shape != theirs.shape:
            _verdict(False, f"{name} returns shape {tuple(mine.shape)}, the course's {tuple(theirs.shape)}.")
            _hint("a loss is one number: average over the batch (.mean()); features keep one row per image.")
            return False
        if not torch.allclose(mine.detach().double(), theirs.detach().double(), rtol=1e-5, atol=1e-6):
            shown = f"{mine.item():.4f} where the course's gives {theirs.item():.4f}" if mine.numel() == 1 else "different values from the course's"
            return _verdict(False, f"{name} gives {shown}, on the same random inputs.")
    return _verdict(True, f"{', '.join(pairs)}: the same values as the course's, on the same random inputs.")


def check_same_weights(pairs: dict[str, tuple[nn.Module, nn.Module]], after: str) -> bool:
    """For each name, are the learner's network's weights (and batch norm statistics) the course's, `after` the same updates?"""
    for name, (mine, theirs) in pairs.items():
        for (key, got), expected in zip(mine.state_dict().items(), theirs.state_dict().values(), strict=True):
            if not torch.allclose(got.double(), expected.double(), rtol=1e-5, atol=1e-6):
                _verdict(False, f"after {after}, the {name}'s {key} differs from the course's.")
                _hint(f"check the {name}'s loss and its update: zero_grad, backward, step, on the losses the text gives.")
                return False
    return _verdict(True, f"after {after}, every weight of the {' and the '.join(pairs)} is the course's.")
