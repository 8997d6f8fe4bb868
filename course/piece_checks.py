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


def check_network(mine: object, theirs: nn.Module, inputs: torch.Tensor, what: str, labels: torch.Tensor | None = None, hint: str | None = None) -> bool:
    """Does `mine` have the course's layers (names and shapes) and, given the course's weights, its output on `inputs`?

    A conditional network is given `labels` with its inputs. `hint`, what to check in this network, replaces the general
    hints when its output differs, or when running it raises one of PyTorch's errors (a shape that does not fit).
    """
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
    given = (inputs,) if labels is None else (inputs, labels)
    try:
        with torch.no_grad():
            got, expected = mine(*given), theirs(*given)
    except Exception as error:
        _verdict(False, _failure(f"{what} on a batch of shape {tuple(inputs.shape)}" + (" and its labels" if labels is not None else ""), error))
        if hint and isinstance(error, RuntimeError) and not isinstance(error, NotImplementedError):
            _hint(hint)
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        _verdict(False, f"{what} returns {shape} for a batch of shape {tuple(inputs.shape)}; the course's returns {tuple(expected.shape)}.")
        _hint(hint or "check the reshapes in forward, and what the last layer returns.")
        return False
    if not torch.allclose(got, expected, atol=1e-5):
        _verdict(False, f"{what} has the course's layers and weights but computes something else.")
        _hint(hint or "check the order of the layers, the activation functions (ReLU, LeakyReLU 0.2, Tanh) and the forward pass.")
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


NETWORK_HINTS = {  # what to check in a network of notebook 09, for check_network's `hint`
    "up-block": "the residual path is BatchNorm2d, ReLU, Upsample(scale_factor=2), 3x3 Conv2d (padding 1), BatchNorm2d, ReLU, 3x3 Conv2d; "
    "the shortcut is Upsample(scale_factor=2), then a 1x1 Conv2d; forward returns the sum of the two paths.",
    "conditional generator": "the first layer reads (N, 64 + 10) numbers: the noise first, then the class's one-hot code "
    "F.one_hot(labels, self.classes) (ten columns, even for a batch without class 9) as floats, joined along dim 1.",
    "projection discriminator": "one score per image, shape (N,): self.score(features).squeeze(1), plus the class term: each image's "
    "class vector self.class_vectors(labels) times its features, summed over the features (dim 1).",
    "small CNN": "each block is a Conv2d, a ReLU and a MaxPool2d(2), so that 28 x 28 maps become 14 x 14, then 7 x 7 (padding 2 for the 5x5 "
    "kernels, 1 for the 3x3); the classifier flattens 32 maps of 7 x 7; forward returns self.classifier(self.features(images)).",
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


def _parameter_names(model: nn.Module, parameters: object) -> list[str]:
    names = {id(value): name for name, value in model.named_parameters()}
    return [names.get(id(value), "a tensor that is not the model's") for value in parameters]


def _changes_to(pretrained: nn.Module, before: dict[str, torch.Tensor], trained_before: dict[str, bool]) -> str:
    """What a learner's function did to the pretrained network, or "" if nothing."""
    if {name: value.requires_grad for name, value in pretrained.named_parameters()} != trained_before:
        return "it froze some of its layers"
    after = pretrained.state_dict()
    if {name: tuple(value.shape) for name, value in after.items()} != {name: tuple(value.shape) for name, value in before.items()}:
        return "it replaced its output layer"
    if any(not torch.equal(after[name], value) for name, value in before.items()):
        return "it changed its weights"
    return ""


def check_transfer_model(make_model: object) -> bool:
    """Does `make_model(pretrained, num_classes)` build what `transfer.transfer_model` builds, leaving `pretrained` as it was?"""
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
        _verdict(False, f"your function changed the pretrained network: {changed or 'it returned the pretrained network itself'}.")
        _hint("work on a copy, model = copy.deepcopy(pretrained), and freeze and replace the copy's layers only: every run starts from the pretrained network.")
        return False
    pretrained_storage = {value.data_ptr() for value in pretrained.parameters()}
    shared = [name for name, value in mine.named_parameters() if value.data_ptr() in pretrained_storage]
    if shared:
        _verdict(False, f"your network shares {shared[0]} with the pretrained network: training it would change the pretrained weights too.")
        _hint("copy the whole network with copy.deepcopy(pretrained) before changing anything.")
        return False
    try:
        mine_shapes = {name: tuple(value.shape) for name, value in mine.state_dict().items()}
    except Exception as error:
        return _verdict(False, _failure("state_dict() of your network", error))
    their_shapes = {name: tuple(value.shape) for name, value in theirs.state_dict().items()}
    if mine_shapes.keys() != their_shapes.keys():
        missing, extra = sorted(their_shapes.keys() - mine_shapes.keys()), sorted(mine_shapes.keys() - their_shapes.keys())
        named = (f"; missing: {', '.join(missing[:3])}" if missing else "") + (f"; not in the course's: {', '.join(extra[:3])}" if extra else "")
        _verdict(False, f"your network's weights are not the pretrained network's layers{named}.")
        _hint("keep the copy's layers as they are and replace only the last one, model.classifier[-1].")
        return False
    for name, shape in their_shapes.items():
        if mine_shapes[name] != shape:
            _verdict(False, f"your network's {name} has shape {mine_shapes[name]}; for 3 classes the course's is {shape}.")
            _hint("the new output layer is nn.Linear(64, num_classes): 64 hidden features in, one score per target class out.")
            return False
    mine_trained = {name for name, value in mine.named_parameters() if value.requires_grad}
    their_trained = {name for name, value in theirs.named_parameters() if value.requires_grad}
    if mine_trained != their_trained:
        layers = [sorted({name.rsplit(".", 1)[0] for name in names}) for names in (their_trained - mine_trained, mine_trained - their_trained)]
        frozen, training = layers
        if frozen:
            _verdict(False, f"your network freezes {' and '.join(frozen)}, which the course's trains.")
            if "classifier.3" in frozen:
                _hint("you froze the new output layer too: freeze only model.features (or freeze before you replace the output layer: a new layer trains).")
            else:
                _hint("the hidden layer classifier.1 keeps training, more slowly: freeze only model.features.")
        else:
            _verdict(False, f"your network trains {' and '.join(training)}, which the course's freezes.")
            if any(getattr(module, "requires_grad", None) is False for module in mine.modules()):
                _hint("module.requires_grad = False only sets a new attribute of the module; the method requires_grad_(False) freezes its weights.")
            else:
                _hint("freeze the convolutions: model.features.requires_grad_(False).")
        return False
    mine_state, their_state = mine.state_dict(), theirs.state_dict()
    for name, value in their_state.items():
        if not name.startswith("classifier.3") and not torch.equal(mine_state[name].cpu(), value):
            _verdict(False, f"your network's {name} is not the pretrained network's.")
            _hint("start from a copy of the pretrained network, copy.deepcopy(pretrained), rather than a new one.")
            return False
    if not all(torch.equal(mine_state[name].cpu(), their_state[name]) for name in ("classifier.3.weight", "classifier.3.bias")):
        _verdict(False, "your new output layer starts from other weights than the course's, from the same random seed.")
        _hint("make it with nn.Linear(64, num_classes) as PyTorch starts it, and draw nothing else at random in the function.")
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
        _verdict(False, "given a pretrained network on another device (a GPU, say), your new output layer stays on the CPU.")
        _hint("move the new layer to the pretrained network's device: nn.Linear(...).to(next(model.parameters()).device).")
        return False
    frozen = sum(value.numel() for name, value in mine.named_parameters() if name not in their_trained)
    return _verdict(True, f"a copy of the pretrained network, its convolutions' {frozen:,} weights frozen, a new output layer for 3 classes; "
                          "the pretrained network is left as it was.")  # fmt: skip


def check_fine_tune_optimizer(make_optimizer: object) -> bool:
    """Does `make_optimizer(model, learning_rate, factor)` give Adam the groups `transfer.fine_tune_optimizer` gives it?"""
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
            _hint("the first group holds the hidden layer model.classifier[1] only, the second the output layer model.classifier[-1] only.")
            return False
        return _verdict(False, _failure(f"your function on a transfer model, learning_rate={learning_rate} and factor={factor}", error))
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
                _hint("give the optimizer only the layers that train, the hidden layer and the output layer, not model.parameters().")
                return False
    if len(mine.param_groups) != 2:
        _verdict(False, f"your optimizer has {len(mine.param_groups)} parameter group(s); the course's has 2, one learning rate each.")
        if len(mine.param_groups) == 1:
            _hint("one learning rate for every layer: make two groups, [{'params': ..., 'lr': ...}, {'params': ..., 'lr': ...}].")
        return False
    held = [set(_parameter_names(model, group["params"])) for group in mine.param_groups]
    expected = [set(_parameter_names(model, group["params"])) for group in theirs.param_groups]
    if held == expected[::-1]:
        _verdict(False, "your groups are the other way round.")
        _hint("first the pretrained hidden layer's group (model.classifier[1]), then the new output layer's (model.classifier[-1]).")
        return False
    for number, (got, wanted) in enumerate(zip(held, expected, strict=True), start=1):
        if got != wanted:
            _verdict(False, f"your group {number} holds {', '.join(sorted(got)) or 'nothing'}; the course's holds {', '.join(sorted(wanted))}.")
            _hint("the first group is the hidden layer, model.classifier[1].parameters(); the second the output layer, model.classifier[-1].parameters().")
            return False
    rates, wanted_rates = [group["lr"] for group in mine.param_groups], [group["lr"] for group in theirs.param_groups]
    if not all(isinstance(rate, (int, float)) and abs(rate - wanted) < 1e-9 for rate, wanted in zip(rates, wanted_rates, strict=True)):
        _verdict(False, f"for learning_rate={learning_rate} and factor={factor} your groups learn at {rates[0]:g} and {rates[1]:g}; "
                        f"the course's at {wanted_rates[0]:g} and {wanted_rates[1]:g}.")  # fmt: skip
        if rates[0] == rates[1]:
            _hint("one learning rate for both groups: the pretrained hidden layer learns at learning_rate * factor, the new output layer at learning_rate.")
        elif rates == wanted_rates[::-1]:
            _hint("the rates are swapped: the pretrained layer is the slow one, learning_rate * factor.")
        else:
            _hint("use the function's arguments: learning_rate * factor for the hidden layer, learning_rate for the output layer.")
        return False
    for number, (got, wanted) in enumerate(zip(mine.param_groups, theirs.param_groups, strict=True), start=1):
        for key, value in wanted.items():
            if key not in ("params", "lr", "betas") and got.get(key) != value:
                _verdict(False, f"your group {number} sets {key}={got.get(key)!r}; the course's keeps Adam's default, {value!r}.")
                _hint("give each group its params and its lr only.")
                return False
    sizes = [sum(value.numel() for value in group["params"]) for group in theirs.param_groups]
    return _verdict(True, f"Adam with the course's two groups: the hidden layer's {sizes[0]:,} weights at learning_rate * factor, "
                          f"the output layer's {sizes[1]:,} at learning_rate.")  # fmt: skip
