"""Checks for the pieces a learner writes in the workbook: a network, a training step, a moving average.

Each check runs the learner's piece beside the course's twin, prints "Correct!" or names what differs (never a
traceback, whatever the piece does), and returns whether it passed, so that a test cell can `assert` it and
nbgrader's autograder can score it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from course import gan, training
from course.errors import one_line
from course.models import softmax_classifier


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _hint(text: str) -> None:
    print(f"  Hint: {text}")


def _failure(what: str, error: BaseException) -> str:
    return f"running {what} raised {one_line(error)}"


def _same_weight_shapes(
    mine: nn.Module, theirs: nn.Module, what: str, names_differ: tuple[str, str], shape_differs: tuple[str, str]
) -> bool:
    """Do `mine`'s weight tensors (its state_dict) have the names and shapes of `theirs`'s? If not, says what differs.

    `names_differ` is the verdict and the hint when the names differ, the verdict filled in with `what`, `count`,
    `expected` (the numbers of tensors) and `named` (up to three names missing and three extra); `shape_differs` is
    the verdict and hint for the first tensor whose shape differs, filled in with `what`, `name`, `got` and `expected`.
    """
    try:
        mine_shapes = {name: tuple(value.shape) for name, value in mine.state_dict().items()}
    except Exception as error:  # a learner's module can fail in any way
        return _verdict(False, _failure(f"state_dict() of {what}", error))
    their_shapes = {name: tuple(value.shape) for name, value in theirs.state_dict().items()}
    missing = [name for name in their_shapes if name not in mine_shapes]
    extra = [name for name in mine_shapes if name not in their_shapes]
    if missing or extra:
        named = f"; missing: {', '.join(missing[:3])}" if missing else ""
        named += f"; not in the course's: {', '.join(extra[:3])}" if extra else ""
        counts = {"count": len(mine_shapes), "expected": len(their_shapes)}
        _verdict(False, names_differ[0].format(what=what, named=named, **counts))
        _hint(names_differ[1])
        return False
    for name, shape in their_shapes.items():
        if mine_shapes[name] != shape:
            _verdict(False, shape_differs[0].format(what=what, name=name, got=mine_shapes[name], expected=shape))
            _hint(shape_differs[1])
            return False
    return True


def check_network(
    mine: object,
    theirs: nn.Module,
    inputs: torch.Tensor,
    what: str,
    labels: torch.Tensor | None = None,
    hint: str | None = None,
) -> bool:
    """Does `mine` have the course's layers (names and shapes) and, given the course's weights, its output on `inputs`?

    A conditional network is given `labels` with its inputs. `hint`, what to check in this network, replaces the general
    hints when its output differs, or when running it raises one of PyTorch's errors (a shape that does not fit).
    """
    if not isinstance(mine, nn.Module):
        return _verdict(
            False, f"{what} should be a torch.nn.Module (an instance of your class), got {type(mine).__name__}."
        )
    names_differ = (
        "{what} has {count} weight tensors where the course's has {expected}{named}.",
        "build the layers in the order the text describes, under the names it uses; every BatchNorm adds weight, "
        "bias and running statistics.",
    )
    shape_differs = (
        "{what}'s {name} has shape {got}, the course's {expected}.",
        "check that layer's numbers of inputs and outputs (channels, features) and its kernel size.",
    )
    if not _same_weight_shapes(mine, theirs, what, names_differ, shape_differs):
        return False
    mine, theirs = copy.deepcopy(mine), copy.deepcopy(theirs)
    mine.load_state_dict(theirs.state_dict())
    mine.eval()
    theirs.eval()
    given = (inputs,) if labels is None else (inputs, labels)
    try:
        with torch.no_grad():
            got, expected = mine(*given), theirs(*given)
    except Exception as error:
        _verdict(
            False,
            _failure(
                f"{what} on a batch of shape {tuple(inputs.shape)}" + (" and its labels" if labels is not None else ""),
                error,
            ),
        )
        if hint and isinstance(error, RuntimeError) and not isinstance(error, NotImplementedError):
            _hint(hint)
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        _verdict(
            False,
            f"{what} returns {shape} for a batch of shape {tuple(inputs.shape)}; "
            f"the course's returns {tuple(expected.shape)}.",
        )
        _hint(hint or "check the reshapes in forward, and what the last layer returns.")
        return False
    if not torch.allclose(got, expected, atol=1e-5):
        _verdict(False, f"{what} has the course's layers and weights but computes something else.")
        _hint(
            hint
            or "check the order of the layers, the activation functions "
            "(ReLU, LeakyReLU 0.2, Tanh) and the forward pass."
        )
        return False
    count = sum(value.numel() for value in theirs.parameters())
    return _verdict(
        True, f"{what} has the course's {count:,} parameters in the same layers, and computes the same output."
    )


HINTS = {  # what to check when a network's weights differ after a step: (the generator's move, the discriminator's)
    "dcgan": (
        "the generator's move: score the same fakes again with "
        "the just-updated discriminator, target 1 (-log D(G(z))).",
        "the discriminator's move: real images aim at 1 - label smoothing, the fakes "
        "(detached) at 0, both losses added; zero_grad, backward, then d_optimizer.step().",
    ),
    "wgan": (
        "the generator's move: after the critic's last move, score the last fakes again and minimise -scores.mean().",
        "the critic's move, config.critic_steps times on fresh batches: "
        "fake_scores.mean() - real_scores.mean(), zero_grad, backward, step, "
        "then clip every weight into [-0.01, 0.01].",
    ),
    "wgan-gp": (
        "the generator's move: after the critic's last move, score the last fakes again and minimise -scores.mean().",
        "the critic's move, config.critic_steps times on fresh batches: "
        "fake_scores.mean() - real_scores.mean() plus the gradient penalty at batch.mix, zero_grad, backward, step "
        "(no clipping). If all that is so, your gradient_penalty may differ from the course's in the last bits: "
        "build it as the text does (mix * real + (1 - mix) * fake, flatten(1).norm(dim=1)).",
    ),
}


NETWORK_HINTS = {  # what to check in a network of notebook 09, for check_network's `hint`
    "up-block": "the residual path is BatchNorm2d, ReLU, Upsample(scale_factor=2), 3x3 Conv2d (padding 1), "
    "BatchNorm2d, ReLU, 3x3 Conv2d; "
    "the shortcut is Upsample(scale_factor=2), then a 1x1 Conv2d; forward returns the sum of the two paths.",
    "conditional generator": "the first layer reads (N, 64 + 10) numbers: "
    "the noise first, then the class's one-hot code F.one_hot(labels, self.classes) "
    "(ten columns, even for a batch without class 9) as floats, joined along dim 1.",
    "projection discriminator": "one score per image, shape (N,): self.score(features).squeeze(1), plus the class "
    "term: each image's class vector self.class_vectors(labels) times its features, summed over the features (dim 1).",
    "small CNN": "each block is a Conv2d, a ReLU and a MaxPool2d(2), so that 28 x 28 maps become 14 x 14, then 7 x 7 "
    "(padding 2 for the 5x5 kernels, 1 for the 3x3); the classifier flattens 32 maps of 7 x 7; "
    "forward returns self.classifier(self.features(images)).",
}


def practice_config(loss: str = "dcgan") -> gan.GANConfig:
    """A small config for checking a training step quickly on the CPU."""
    return gan.GANConfig(loss=loss, batch_size=16, latent_size=16, width=8, seed=3)


def check_gan_step(step: object, loss: str = "dcgan", steps: int = 3) -> bool:
    """Does a learner's training step move every weight as `gan.train_step` does?

    `step(config, generator, discriminator, g_optimizer, d_optimizer, next_batch)` runs `steps` steps beside the
    course's; after each, every weight and batch norm statistic is compared.
    """
    if not callable(step):
        return _verdict(False, f"the step should be a function, got {type(step).__name__}.")
    config = practice_config(loss)
    torch.manual_seed(1)
    practice_images = torch.rand(256, 1, 28, 28) * 2 - 1
    mine, theirs = (
        gan.build(config, "cpu"),
        gan.build(config, "cpu"),
    )  # (generator, discriminator, g_optimizer, d_optimizer)
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
            return _verdict(
                False,
                f"the step returns {type(result).__name__}; it should return "
                "gan.StepResult(d_loss, g_loss, real_scores, fake_scores).",
            )
        for index in (1, 0):  # the discriminator moves first
            if all(
                torch.equal(a, b) for a, b in zip(mine[index].parameters(), theirs[index].parameters(), strict=True)
            ):
                continue
            unmoved = all(torch.equal(a, b) for a, b in zip(mine[index].parameters(), start[index], strict=True))
            _verdict(
                False,
                f"after step {number} the {names[index]}'s weights differ from the course's"
                + (": they did not move." if unmoved else "."),
            )
            _hint(
                HINTS[loss][index]
                if not (index == 0 and unmoved)
                else "the generator's move needs the fakes with their graph "
                "(not detached) and g_optimizer.step() after backward."
            )
            return False
        for index in (1, 0):  # the weights agree; batch norm's running statistics count every call of a network
            if not all(torch.equal(a, b) for a, b in zip(mine[index].buffers(), theirs[index].buffers(), strict=True)):
                _verdict(
                    False,
                    f"after step {number} the weights agree, but the {names[index]}'s "
                    "batch norm statistics differ from the course's.",
                )
                _hint(
                    "call each network exactly as often as the text does: the discriminator on the real "
                    "batch, on the detached fakes, then once more on the fakes for the generator's move."
                )
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
                _hint(
                    "each value should move a share 1 - decay of the way towards the model's: "
                    "average.lerp_(model_value, 1 - decay)."
                )
            return False
    return _verdict(True, "your update moves every weight and batch norm statistic as the course's does.")


def require(check: Callable[..., object], *answers: object) -> None:
    """Run one of `course.exercises`' checks as a test cell.

    Its verdict is printed, and any verdict but "Correct!" stops the cell.
    """
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        check(*answers)
    print(printed.getvalue(), end="")
    if not printed.getvalue().startswith("Correct!"):
        raise AssertionError("not correct yet: the lines above say what differs")


def check_same_values(pairs: dict[str, tuple[object, torch.Tensor]]) -> bool:
    """For each name, does the learner's value equal the course's, in shape and, to float precision, in value?

    The learner's values should be tensors, as the course's are.
    """
    for name, (mine, theirs) in pairs.items():
        if not isinstance(mine, torch.Tensor):
            return _verdict(False, f"{name} should return a tensor, got {type(mine).__name__}.")
        if mine.shape != theirs.shape:
            _verdict(False, f"{name} returns shape {tuple(mine.shape)}, the course's {tuple(theirs.shape)}.")
            _hint("a loss is one number: average over the batch (.mean()); features keep one row per image.")
            return False
        if not torch.allclose(mine.detach().double(), theirs.detach().double(), rtol=1e-5, atol=1e-6):
            shown = (
                f"{mine.item():.4f} where the course's gives {theirs.item():.4f}"
                if mine.numel() == 1
                else "different values from the course's"
            )
            return _verdict(False, f"{name} gives {shown}, on the same random inputs.")
    return _verdict(True, f"{', '.join(pairs)}: the same values as the course's, on the same random inputs.")


def check_same_weights(pairs: dict[str, tuple[nn.Module, nn.Module]], after: str) -> bool:
    """For each name, are the learner's network's weights (and batch norm statistics) the course's?

    `after` says which updates both networks had, for the verdict.
    """
    for name, (mine, theirs) in pairs.items():
        for (key, got), expected in zip(mine.state_dict().items(), theirs.state_dict().values(), strict=True):
            if not torch.allclose(got.double(), expected.double(), rtol=1e-5, atol=1e-6):
                _verdict(False, f"after {after}, the {name}'s {key} differs from the course's.")
                _hint(
                    f"check the {name}'s loss and its update: zero_grad, backward, step, on the losses the text gives."
                )
                return False
    return _verdict(True, f"after {after}, every weight of the {' and the '.join(pairs)} is the course's.")


def _parameter_names(model: nn.Module, parameters: object) -> list[str]:
    names = {id(value): name for name, value in model.named_parameters()}
    return [names.get(id(value), "a tensor that is not the model's") for value in parameters]


def _changes_to(pretrained: nn.Module, before: dict[str, torch.Tensor], trained_before: dict[str, bool]) -> str:
    """What a learner's function did to the pretrained network, or "" if nothing."""
    if {name: value.requires_grad for name, value in pretrained.named_parameters()} != trained_before:
        return "it froze some of its layers"
    after = pretrained.state_dict()
    if {name: tuple(value.shape) for name, value in after.items()} != {
        name: tuple(value.shape) for name, value in before.items()
    }:
        return "it replaced its output layer"
    if any(not torch.equal(after[name], value) for name, value in before.items()):
        return "it changed its weights"
    return ""


def check_transfer_model(make_model: object) -> bool:
    """Does `make_model(pretrained, num_classes)` build what `transfer.transfer_model` builds?

    It must also leave `pretrained` as it was.
    """
    from course import transfer
    from course.models import SmallCNN

    if not callable(make_model):
        return _verdict(False, f"the transfer model should come from a function, got {type(make_model).__name__}.")
    torch.manual_seed(0)
    pretrained = SmallCNN(num_classes=5)  # a source network of five classes, given to a target task of three
    pristine = copy.deepcopy(pretrained)
    before = {name: value.clone() for name, value in pretrained.state_dict().items()}
    trained_before = {name: value.requires_grad for name, value in pretrained.named_parameters()}
    torch.manual_seed(1)
    try:
        mine = make_model(pretrained, 3)
    except Exception as error:  # a learner's function can fail in any way
        return _verdict(False, _failure("your function on a pretrained network and 3 classes", error))
    torch.manual_seed(1)
    theirs = transfer.transfer_model(pristine, 3)
    if not isinstance(mine, nn.Module):
        _verdict(False, f"your function should return the new network (a torch.nn.Module), got {type(mine).__name__}.")
        if mine is None:
            _hint("end the function with `return model`.")
        return False
    changed = _changes_to(pretrained, before, trained_before)
    if changed or mine is pretrained:
        _verdict(
            False,
            f"your function changed the pretrained network: {changed or 'it returned the pretrained network itself'}.",
        )
        _hint(
            "work on a copy, model = copy.deepcopy(pretrained), and freeze and replace "
            "the copy's layers only: every run starts from the pretrained network."
        )
        return False
    pretrained_storage = {value.data_ptr() for value in pretrained.parameters()}
    shared = [name for name, value in mine.named_parameters() if value.data_ptr() in pretrained_storage]
    if shared:
        _verdict(
            False,
            f"your network shares {shared[0]} with the pretrained network: "
            "training it would change the pretrained weights too.",
        )
        _hint("copy the whole network with copy.deepcopy(pretrained) before changing anything.")
        return False
    names_differ = (
        "your network's weights are not the pretrained network's layers{named}.",
        "keep the copy's layers as they are and replace only the last one, model.classifier[-1].",
    )
    shape_differs = (
        "your network's {name} has shape {got}; for 3 classes the course's is {expected}.",
        "the new output layer is nn.Linear(64, num_classes): 64 hidden features in, one score per target class out.",
    )
    if not _same_weight_shapes(mine, theirs, "your network", names_differ, shape_differs):
        return False
    mine_trained = {name for name, value in mine.named_parameters() if value.requires_grad}
    their_trained = {name for name, value in theirs.named_parameters() if value.requires_grad}
    if mine_trained != their_trained:
        layers = [
            sorted({name.rsplit(".", 1)[0] for name in names})
            for names in (their_trained - mine_trained, mine_trained - their_trained)
        ]
        frozen, training = layers
        if frozen:
            _verdict(False, f"your network freezes {' and '.join(frozen)}, which the course's trains.")
            if "classifier.3" in frozen:
                _hint(
                    "you froze the new output layer too: freeze only model.features (or "
                    "freeze before you replace the output layer: a new layer trains)."
                )
            else:
                _hint("the hidden layer classifier.1 keeps training, more slowly: freeze only model.features.")
        else:
            _verdict(False, f"your network trains {' and '.join(training)}, which the course's freezes.")
            if any(getattr(module, "requires_grad", None) is False for module in mine.modules()):
                _hint(
                    "module.requires_grad = False only sets a new attribute of the "
                    "module; the method requires_grad_(False) freezes its weights."
                )
            else:
                _hint("freeze the convolutions: model.features.requires_grad_(False).")
        return False
    mine_state, their_state = mine.state_dict(), theirs.state_dict()
    for name, value in their_state.items():
        if not name.startswith("classifier.3") and not torch.equal(mine_state[name].cpu(), value):
            _verdict(False, f"your network's {name} is not the pretrained network's.")
            _hint("start from a copy of the pretrained network, copy.deepcopy(pretrained), rather than a new one.")
            return False
    if not all(
        torch.equal(mine_state[name].cpu(), their_state[name]) for name in ("classifier.3.weight", "classifier.3.bias")
    ):
        _verdict(False, "your new output layer starts from other weights than the course's, from the same random seed.")
        _hint(
            "make it with nn.Linear(64, num_classes) as PyTorch starts it, "
            "and draw nothing else at random in the function."
        )
        return False
    mine.eval()
    theirs.eval()
    inputs = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    try:
        with torch.no_grad():
            got, expected = mine(inputs), theirs(inputs)
    except Exception as error:
        return _verdict(False, _failure("your network on a batch of shape (4, 1, 28, 28)", error))
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not torch.allclose(got, expected, atol=1e-5):
        _verdict(False, "your network has the course's layers and weights but computes something else.")
        _hint("change only the copy's layers (freeze, replace the last one); leave its forward pass as it is.")
        return False
    try:  # a network on another device (a GPU, say): the new layer belongs there too
        elsewhere = make_model(copy.deepcopy(pristine).to("meta"), 3)
        devices = {value.device.type for value in elsewhere.parameters()}
    except Exception:
        devices = {"meta"}  # the function cannot run without real weights; the device is left unchecked
    if devices != {"meta"}:
        _verdict(
            False, "given a pretrained network on another device (a GPU, say), your new output layer stays on the CPU."
        )
        _hint(
            "move the new layer to the pretrained network's device: nn.Linear(...).to(next(model.parameters()).device)."
        )
        return False
    frozen = sum(value.numel() for name, value in mine.named_parameters() if name not in their_trained)
    return _verdict(
        True,
        f"a copy of the pretrained network, its convolutions' {frozen:,} weights frozen, "
        "a new output layer for 3 classes; the pretrained network is left as it was.",
    )


def check_fine_tune_optimizer(make_optimizer: object) -> bool:
    """Does `make_optimizer(model, learning_rate, factor)` give Adam the groups `transfer.fine_tune_optimizer` gives?"""
    from course import transfer
    from course.models import SmallCNN

    if not callable(make_optimizer):
        return _verdict(False, f"the optimizer should come from a function, got {type(make_optimizer).__name__}.")
    torch.manual_seed(0)
    model = transfer.transfer_model(SmallCNN(num_classes=5), 3)
    learning_rate, factor = 0.01, 0.3
    try:
        mine = make_optimizer(model, learning_rate, factor)
    except Exception as error:
        if isinstance(error, ValueError) and "more than one parameter group" in str(error):
            _verdict(False, "a parameter appears in both of your groups.")
            _hint(
                "the first group holds the hidden layer model.classifier[1] "
                "only, the second the output layer model.classifier[-1] only."
            )
            return False
        return _verdict(
            False,
            _failure(f"your function on a transfer model, learning_rate={learning_rate} and factor={factor}", error),
        )
    theirs = transfer.fine_tune_optimizer(model, learning_rate, factor)
    if not isinstance(mine, torch.optim.Optimizer):
        _verdict(False, f"your function should return the optimizer, got {type(mine).__name__}.")
        if mine is None:
            _hint("end the function with `return torch.optim.Adam([...])`.")
        return False
    if type(mine) is not torch.optim.Adam:
        _verdict(False, f"your optimizer is {type(mine).__name__}; the course's is torch.optim.Adam.")
        _hint("build it with torch.optim.Adam([group, group]).")
        return False
    for group in mine.param_groups:
        for name, value in zip(_parameter_names(model, group["params"]), group["params"], strict=True):
            if not value.requires_grad:
                _verdict(False, f"your optimizer is given {name}, which is frozen.")
                _hint(
                    "give the optimizer only the layers that train, the hidden "
                    "layer and the output layer, not model.parameters()."
                )
                return False
    if len(mine.param_groups) != 2:
        _verdict(
            False,
            f"your optimizer has {len(mine.param_groups)} parameter "
            "group(s); the course's has 2, one learning rate each.",
        )
        if len(mine.param_groups) == 1:
            _hint(
                "one learning rate for every layer: make two groups, "
                "[{'params': ..., 'lr': ...}, {'params': ..., 'lr': ...}]."
            )
        return False
    held = [set(_parameter_names(model, group["params"])) for group in mine.param_groups]
    expected = [set(_parameter_names(model, group["params"])) for group in theirs.param_groups]
    if held == expected[::-1]:
        _verdict(False, "your groups are the other way round.")
        _hint(
            "first the pretrained hidden layer's group (model.classifier[1]), "
            "then the new output layer's (model.classifier[-1])."
        )
        return False
    for number, (got, wanted) in enumerate(zip(held, expected, strict=True), start=1):
        if got != wanted:
            _verdict(
                False,
                f"your group {number} holds {', '.join(sorted(got)) or 'nothing'}; "
                f"the course's holds {', '.join(sorted(wanted))}.",
            )
            _hint(
                "the first group is the hidden layer, model.classifier[1].parameters(); "
                "the second the output layer, model.classifier[-1].parameters()."
            )
            return False
    rates, wanted_rates = [group["lr"] for group in mine.param_groups], [group["lr"] for group in theirs.param_groups]
    if not all(
        isinstance(rate, (int, float)) and abs(rate - wanted) < 1e-9
        for rate, wanted in zip(rates, wanted_rates, strict=True)
    ):
        _verdict(
            False,
            f"for learning_rate={learning_rate} and factor={factor} your groups learn at {rates[0]:g} "
            f"and {rates[1]:g}; the course's at {wanted_rates[0]:g} and {wanted_rates[1]:g}.",
        )
        if rates[0] == rates[1]:
            _hint(
                "one learning rate for both groups: the pretrained hidden layer learns "
                "at learning_rate * factor, the new output layer at learning_rate."
            )
        elif rates == wanted_rates[::-1]:
            _hint("the rates are swapped: the pretrained layer is the slow one, learning_rate * factor.")
        else:
            _hint(
                "use the function's arguments: learning_rate * factor for "
                "the hidden layer, learning_rate for the output layer."
            )
        return False
    for number, (got, wanted) in enumerate(zip(mine.param_groups, theirs.param_groups, strict=True), start=1):
        for key, value in wanted.items():
            if key not in ("params", "lr", "betas") and got.get(key) != value:
                _verdict(
                    False,
                    f"your group {number} sets {key}={got.get(key)!r}; the course's keeps Adam's default, {value!r}.",
                )
                _hint("give each group its params and its lr only.")
                return False
    sizes = [sum(value.numel() for value in group["params"]) for group in theirs.param_groups]
    return _verdict(
        True,
        f"Adam with the course's two groups: the hidden layer's {sizes[0]:,} weights at learning_rate * factor, "
        f"the output layer's {sizes[1]:,} at learning_rate.",
    )


def _line_by_formulas(
    inputs: torch.Tensor, targets: torch.Tensor, learning_rate: float, steps: int, slip: str = ""
) -> tuple[float, float, list[float]]:
    """Gradient descent on the line by notebook 01's gradient formulas (no autograd).

    `slip`, one of LINE_SLIPS, makes the loop slip as a learner's might; "" (the default) makes none.
    """
    x, y = inputs.double(), targets.double()
    weight = bias = summed_weight_gradient = summed_bias_gradient = torch.zeros((), dtype=torch.float64)
    losses = []
    for _ in range(steps):
        error = weight * x + bias - y
        losses.append((error**2).mean().item())
        scale = (
            len(x) if slip == "sum" else 1
        )  # the gradients of the summed squared errors are n times those of the mean
        weight_gradient, bias_gradient = scale * 2 * (error * x).mean(), scale * 2 * error.mean()
        if slip == "no reset":  # .grad keeps adding up: each step carries every earlier gradient
            summed_weight_gradient, summed_bias_gradient = (
                summed_weight_gradient + weight_gradient,
                summed_bias_gradient + bias_gradient,
            )
            weight_gradient, bias_gradient = summed_weight_gradient, summed_bias_gradient
        rate = 1.0 if slip == "no rate" else learning_rate
        direction = 1 if slip == "plus" else -1
        weight, bias = weight + direction * rate * weight_gradient, bias + direction * rate * bias_gradient
    return weight.item(), bias.item(), losses


LINE_SLIPS = {  # a slip in the loop, and what to check when the learner's weights are the ones that slip gives
    "plus": "move against the gradient: weight -= learning_rate * weight.grad. "
    "With + every step climbs the bowl and the loss grows.",
    "no reset": "backward() adds to .grad: set both gradients back to zero after the update "
    "(weight.grad.zero_(), bias.grad.zero_()), or every step carries all the earlier gradients too.",
    "no rate": "multiply each gradient by learning_rate in the update: weight -= learning_rate * weight.grad.",
    "sum": "the loss is the mean squared error, .mean() over the sales; .sum() makes every gradient n times larger.",
}


def _as_line_fit(result: object, steps: int) -> tuple[float, float, list[float]] | str:
    """The learner's (weight, bias, losses) as floats, or what is wrong with it."""
    wrong = f"should return (weight, bias, losses): two numbers and a list of the {steps} losses, one per step"
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return f"{wrong}; it returned {type(result).__name__}."
    weight, bias, losses = result
    if isinstance(losses, (list, tuple)) and any(isinstance(loss, torch.Tensor) for loss in losses):
        return (
            f"{wrong}; its losses are tensors: append loss.item(), "
            "the loss as a plain Python number (the plot needs numbers)."
        )
    try:
        weight, bias = float(weight), float(bias)
        losses = [float(loss) for loss in losses]
    except (TypeError, ValueError, RuntimeError):
        return f"{wrong}; it returned a {type(weight).__name__}, a {type(bias).__name__} and a {type(losses).__name__}."
    if len(losses) != steps:
        return f"{wrong}; its list holds {len(losses)} losses."
    return weight, bias, losses


def check_line_descent(fit: object, inputs: torch.Tensor, targets: torch.Tensor) -> bool:
    """Does `fit(learning_rate, steps)`, notebook 01's loop, take the steps the gradient formulas give?

    On `inputs` and `targets`, it runs 20 steps at the learning rate 0.1, then 10 at 0.3, and compares the weight,
    the bias and every loss; then 20 steps at 0.1 with every target shifted by one (in place, and put back after),
    since on standardised targets the best bias is the starting one, 0, and a slip in the bias's update would go
    unseen.
    """
    if not callable(fit):
        return _verdict(False, f"fit_line_by_gradient_descent should be a function, got {type(fit).__name__}.")
    runs = [(0.1, 20, 0.0), (0.3, 10, 0.0), (0.1, 20, 1.0)]  # (learning rate, steps, shift of the targets)

    def same(
        got: tuple[float, float, list[float]], expected: tuple[float, float, list[float]], losses: bool = True
    ) -> bool:
        # Rounding grows with the values (a diverging slip multiplies it at every step), so the tolerance does too.
        scale = max(1.0, *(abs(value) for value in expected[:2]))
        if not all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale) for a, b in zip(got[:2], expected[:2], strict=True)
        ):
            return False
        return not losses or all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(got[2], expected[2], strict=True)
        )

    for learning_rate, steps, shift in runs:
        saved = targets.detach().clone()
        try:
            with torch.no_grad():
                targets.add_(shift)  # the learner's function reads the notebook's own targets
            result = fit(learning_rate, steps)
            expected = _line_by_formulas(inputs, targets, learning_rate, steps)
            slipped = {slip: _line_by_formulas(inputs, targets, learning_rate, steps, slip) for slip in LINE_SLIPS}
            unslipped_rate = _line_by_formulas(inputs, targets, runs[0][0], steps)
        except Exception as error:  # a learner's loop can fail in any way
            _verdict(False, _failure(f"your loop ({steps} steps at the learning rate {learning_rate})", error))
            if "leaf Variable" in str(error):
                _hint("update the weights inside `with torch.no_grad():`: the update is not part of the model.")
            elif "NoneType" in str(error):
                _hint(
                    "update each weight in place (weight -= ...): "
                    "weight = weight - ... makes a new tensor, whose .grad backward() leaves empty."
                )
            return False
        finally:
            with torch.no_grad():
                targets.copy_(saved)
        got = _as_line_fit(result, steps)
        if isinstance(got, str):
            return _verdict(False, f"your function {got}")
        if same(got, expected):
            continue
        where = f"after {steps} steps at the learning rate {learning_rate}" + (
            f", with every target shifted by {shift:g}" if shift else ""
        )
        if same(got, expected, losses=False):
            _verdict(False, f"{where} the weight and the bias are right, but the losses differ from the formulas'.")
            _hint("append loss.item(), the loss computed before the update, once per step.")
            return False
        shown = [
            f"{round(value, 6) + 0.0:.6f}" if abs(value) < 1e6 else f"{value:.3g}"
            for value in (*got[:2], *expected[:2])
        ]  # no -0.000000
        _verdict(
            False,
            f"{where} your weight and bias are {shown[0]} and {shown[1]}; "
            f"the gradient formulas give {shown[2]} and {shown[3]}.",
        )
        if got[0] == 0 and got[1] == 0:
            _hint(
                "the weights did not move: subtract learning_rate times "
                "each gradient from its weight, in place (weight -= ...)."
            )
            return False
        slip = next((slip for slip in LINE_SLIPS if same(got, slipped[slip], losses=False)), None)
        if slip:
            _hint(LINE_SLIPS[slip])
        elif math.isclose(got[0], expected[0], rel_tol=1e-9, abs_tol=1e-9) and shift:
            _hint(
                "the weight is right, the bias is not: move the bias too, "
                "bias -= learning_rate * bias.grad, and set bias.grad back to zero."
            )
        elif learning_rate != runs[0][0] and same(got, unslipped_rate, losses=False):
            _hint(f"use the argument learning_rate, not the number {runs[0][0]} written in.")
        else:
            _hint(
                "each step: the loss (weight * x_scaled + bias - y_scaled) squared and averaged, backward(), "
                "then under torch.no_grad() weight -= learning_rate * weight.grad and the same for bias, "
                "then both .grad back to zero."
            )
        return False
    return _verdict(
        True,
        "after 20 steps at the learning rate 0.1 and 10 at 0.3, and 20 at 0.1 on targets "
        "shifted by one, your weight, bias and every loss are what the gradient formulas give.",
    )


def practice_classification(count: int = 300, classes: int = 4, seed: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Small random grey images (count, 1, 8, 8) with random labels: enough to tell one training epoch from another."""
    draws = torch.Generator().manual_seed(seed)
    return torch.rand(count, 1, 8, 8, generator=draws), torch.randint(0, classes, (count,), generator=draws)


def _slipped_epoch(slip: str) -> Callable:
    """training.run_epoch with one of EPOCH_SLIPS, to tell which slip a learner's epoch made."""

    def epoch(model, images, labels, optimizer, batch_size, shuffler):
        order = torch.arange(len(images)) if slip == "no shuffle" else torch.randperm(len(images), generator=shuffler)
        last = len(images) - batch_size + 1 if slip == "last batch dropped" else len(images)
        loss_sum, correct = 0.0, 0
        for start in range(0, last, batch_size):
            batch = order[start : start + batch_size].to(images.device)
            batch_labels = labels[start : start + batch_size] if slip == "labels unshuffled" else labels[batch]
            scores = model(images[batch])
            loss = (
                F.nll_loss(scores, batch_labels)
                if slip == "loss without softmax"
                else F.cross_entropy(scores, batch_labels)
            )
            if slip == "step before backward":
                optimizer.step()
                optimizer.zero_grad()
                loss.backward()
            else:
                if slip != "no zero_grad":
                    optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            loss_sum += loss.item() * len(batch)
            correct += (scores.argmax(1) == batch_labels).sum().item()
        return loss_sum / len(images), correct / len(images)

    return epoch


EPOCH_SLIPS = {  # a slip in the epoch, and what to check when the learner's weights are the ones that slip gives
    "no zero_grad": "call optimizer.zero_grad() before loss.backward(): backward adds to the gradients already there, "
    "so without it every step carries all the earlier batches' gradients.",
    "no shuffle": "shuffle first: order = torch.randperm(len(images), generator=shuffler), "
    "then take each batch's indices from order.",
    "step before backward": "optimizer.step() comes after loss.backward(): "
    "stepping first moves the weights by the previous batch's gradients.",
    "loss without softmax": "the loss is F.cross_entropy(scores, labels[batch]) on the raw scores: "
    "it applies softmax and the log itself.",
    "last batch dropped": "keep the last, smaller batch: range(0, len(images), batch_size) walks through every image.",
    "labels unshuffled": "take the labels of the same shuffled indices as "
    "the images: labels[batch], not labels[start : start + batch_size].",
}


def check_epoch(epoch: object, epochs: int = 2, batch_size: int = 64) -> bool:
    """Does a learner's epoch train as `training.run_epoch`, train_classifier's epoch, does?

    The learner's is called as `epoch(model, images, labels, optimizer, batch_size, shuffler)`. Both run `epochs`
    epochs on practice images, from the same weights, the same Adam and the same shuffling seed; after each, every
    weight, the state of the shuffler and the returned loss and accuracy are compared.
    """
    if not callable(epoch):
        return _verdict(False, f"the epoch should be a function, got {type(epoch).__name__}.")
    images, labels = practice_classification()
    with torch.random.fork_rng(devices=[]):  # the notebook's own random draws stay as they were
        torch.manual_seed(0)
        start = softmax_classifier(num_pixels=64, num_classes=4)

    def player() -> tuple[nn.Module, torch.optim.Optimizer, torch.Generator]:
        model = copy.deepcopy(start)
        return model, torch.optim.Adam(model.parameters(), lr=0.01), torch.Generator().manual_seed(0)

    def moved_from(state: tuple[dict, dict, torch.Tensor], epoch_to_run: Callable) -> tuple[nn.Module, torch.Generator]:
        model, optimizer, shuffler = player()  # a copy at the start of this epoch, for trying a slip
        model.load_state_dict(state[0])
        optimizer.load_state_dict(state[1])
        shuffler.set_state(state[2])
        epoch_to_run(model, images, labels, optimizer, batch_size, shuffler)
        return model, shuffler

    def same_weights(one: nn.Module, two: nn.Module) -> bool:
        return all(
            torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-6)
            for a, b in zip(one.parameters(), two.parameters(), strict=True)
        )

    mine, theirs = player(), player()
    for number in range(1, epochs + 1):
        state = (copy.deepcopy(mine[0].state_dict()), copy.deepcopy(mine[1].state_dict()), mine[2].get_state())
        try:
            result = epoch(mine[0], images, labels, mine[1], batch_size, mine[2])
        except Exception as error:  # a learner's epoch can fail in any way
            return _verdict(False, _failure(f"your epoch {number}", error))
        expected = training.run_epoch(theirs[0], images, labels, theirs[1], batch_size, theirs[2])
        try:
            returned = training.epoch_result(result)
        except TypeError as error:
            return _verdict(False, str(error))
        where = f"after epoch {number} ({len(images)} images in batches of {batch_size})"
        if not same_weights(mine[0], theirs[0]):
            if all(torch.equal(a, b) for a, b in zip(mine[0].state_dict().values(), state[0].values(), strict=True)):
                _verdict(False, f"{where} the weights did not move.")
                _hint(
                    "each batch needs optimizer.zero_grad(), loss.backward() and then optimizer.step(), in that order."
                )
                return False
            _verdict(False, f"{where} the weights differ from the course's.")
            slip = next(
                (slip for slip in EPOCH_SLIPS if same_weights(mine[0], moved_from(state, _slipped_epoch(slip))[0])),
                None,
            )
            if slip:
                _hint(EPOCH_SLIPS[slip])
            elif torch.equal(mine[2].get_state(), state[2]):
                _hint(EPOCH_SLIPS["no shuffle"] + " The shuffler was not used.")
            else:
                _hint(
                    "each batch: the indices order[start : start + batch_size], scores = model(images[batch]), "
                    "loss = F.cross_entropy(scores, labels[batch]), zero_grad, backward, step."
                )
            return False
        if not torch.equal(mine[2].get_state(), theirs[2].get_state()):
            if torch.equal(mine[2].get_state(), state[2]):
                _verdict(
                    False, f"{where} the weights are the course's, but the shuffler given to the epoch was not used."
                )
                _hint(
                    "draw the order from the shuffler given, torch.randperm(len(images), generator=shuffler): "
                    "a generator of your own repeats the same order every epoch."
                )
            else:
                _verdict(
                    False, f"{where} the weights are the course's, but the shuffler has drawn more than one order."
                )
                _hint("draw the order once per epoch, and only there: torch.randperm(len(images), generator=shuffler).")
            return False
        if not all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7) for a, b in zip(returned, expected, strict=True)):
            _verdict(
                False,
                f"{where} the weights are the course's, but your epoch returns loss {returned[0]:.4f} and "
                f"accuracy {returned[1]:.4f} where the course's returns {expected[0]:.4f} and {expected[1]:.4f}.",
            )
            _hint(
                "add up each batch's loss.item() times its number of images, and the images "
                "whose highest score is their label; return both divided by the number of images."
            )
            return False
    return _verdict(
        True,
        f"after {epochs} epochs from the same start and shuffling seed, every weight is the course's "
        "(training.run_epoch, train_classifier's epoch), and so are the loss and accuracy it returns.",
    )
