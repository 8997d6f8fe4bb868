"""Training loops: `train_classifier`, the one loop of the classifiers of notebooks 02 to 04 and of the quality
classifier (`course.quality.train_quality_classifier`), and `fit_line_by_gradient_descent`, notebook 01's line.

A classifier's data are tensors already on the device (see `course.data.image_tensors`), so a batch is an
index into them: no DataLoader, no worker processes, no copy per batch. One epoch of the loop is
`run_epoch`, which a notebook may replace by the one it wrote (`train_classifier(..., epoch=...)`).
The GANs' discriminators, the semi-supervised one among them, train in their own loops (`course.toy_gan`,
`course.gan_training`, `course.semi_supervised`), where every step moves a generator too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from course.progress import tqdm
from course.validation import require_positive_int


@dataclass
class History:
    """Per-epoch scores of a training run; `as_frame()` gives them as a table."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)  # mean over the epoch's batches
    train_accuracy: list[float] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)  # on the held-out images, after the epoch
    eval_accuracy: list[float] = field(default_factory=list)
    stopped_early: bool = False
    interrupted: bool = False

    def as_frame(self) -> pd.DataFrame:
        columns = ("train_loss", "train_accuracy", "eval_loss", "eval_accuracy")
        return pd.DataFrame({name: getattr(self, name) for name in columns}, index=pd.Index(self.epoch, name="epoch"))


def _check_pair(images: torch.Tensor, labels: torch.Tensor, name: str) -> None:
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} images and labels must be tensors; build them with course.data.image_tensors.")
    if not images.is_floating_point() or labels.dtype != torch.int64 or labels.ndim != 1:
        raise ValueError(
            f"{name} images must be floats and labels int64 of shape (N,); "
            f"got {images.dtype} and {labels.dtype} {tuple(labels.shape)}."
        )
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"{name}: {len(images)} images and {len(labels)} labels; expected the same non-zero number.")


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The predicted class of each image (on the CPU), in batches, with the model in eval mode."""
    model.eval()
    return torch.cat([model(images[i : i + batch_size]).argmax(1).cpu() for i in range(0, len(images), batch_size)])


@torch.no_grad()
def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000
) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of the model on these images."""
    _check_pair(images, labels, "evaluation")
    model.eval()
    total_loss, correct = 0.0, 0
    for i in range(0, len(images), batch_size):
        scores = model(images[i : i + batch_size])
        total_loss += F.cross_entropy(scores, labels[i : i + batch_size], reduction="sum").item()
        correct += (scores.argmax(1) == labels[i : i + batch_size]).sum().item()
    return total_loss / len(images), correct / len(images)


def fit_line_by_gradient_descent(
    inputs: torch.Tensor, targets: torch.Tensor, learning_rate: float, steps: int
) -> tuple[float, float, list[float]]:
    """Notebook 01's loop: fit targets ≈ weight · inputs + bias by plain gradient descent on the mean squared error.

    Both weights start at 0; returns them and the loss before each step.
    """
    weight = torch.zeros((), dtype=inputs.dtype, requires_grad=True)
    bias = torch.zeros((), dtype=inputs.dtype, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((weight * inputs + bias - targets) ** 2).mean()
        loss.backward()  # fills weight.grad and bias.grad
        with torch.no_grad():  # the update itself is not part of the model
            weight -= learning_rate * weight.grad
            bias -= learning_rate * bias.grad
        weight.grad.zero_()
        bias.grad.zero_()
        losses.append(loss.item())
    return weight.item(), bias.item(), losses


def run_epoch(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    shuffler: torch.Generator,
) -> tuple[float, float]:
    """One pass over the images in mini-batches, in an order drawn from `shuffler`; returns the mean loss and accuracy.

    Each batch: the scores, the cross-entropy, zero_grad, backward, step. The last batch is smaller
    when `batch_size` does not divide the number of images. The model stays in the mode it is in.
    """
    order = torch.randperm(len(images), generator=shuffler).to(images.device)
    loss_sum, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        scores = model(images[batch])
        loss = F.cross_entropy(scores, labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(batch)
        correct += (scores.argmax(1) == labels[batch]).sum().item()
    return loss_sum / len(images), correct / len(images)


def epoch_result(result: object) -> tuple[float, float]:
    """An epoch's (mean loss, accuracy) as two floats, or a TypeError that says what came back instead."""
    try:
        if isinstance(result, str):
            raise TypeError
        loss, accuracy = (float(value) for value in result)
    except (TypeError, ValueError, RuntimeError):
        shown = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise TypeError(
            f"the epoch must return two numbers, the mean loss and the accuracy; it returned {shown}."
        ) from None
    return loss, accuracy


def train_classifier(
    model: nn.Module,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    eval_images: torch.Tensor,
    eval_labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    patience: int | None = None,
    eval_every: int = 1,
    seed: int = 0,
    progress: bool = True,
    description: str = "training",
    epoch: Callable = run_epoch,
) -> History:
    """Train with cross-entropy and Adam, the learning rate decaying linearly to zero; score each epoch.

    Each epoch is one call of `epoch(model, images, labels, optimizer, batch_size, shuffler)` (by
    default `run_epoch`; a notebook may pass the one it wrote), which returns the epoch's mean loss
    and accuracy. After every `optimizer.step()` the learning rate's schedule and the progress bar
    move on by themselves (a hook on the optimizer), so the epoch is plain PyTorch.
    `optimizer` replaces the default Adam (to give layers their own learning rates, say).
    `patience` stops when the held-out loss has not improved for that many evaluations, and the
    model ends with the weights of its best one. `eval_every` scores the held-out images every that
    many epochs (and after the last), which saves time when an epoch is a handful of images.
    Interrupting (the stop button, Ctrl-C) keeps the finished epochs.
    """
    _check_pair(train_images, train_labels, "training")
    _check_pair(eval_images, eval_labels, "evaluation")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("eval_every", eval_every)):
        require_positive_int(name, value)
    if patience is not None:
        require_positive_int("patience", patience, unit="(or None)")
    if not callable(epoch):
        raise TypeError(f"epoch must be a function like course.training.run_epoch, got {type(epoch).__name__}.")
    if optimizer is None:
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError("the model has no trainable parameters: every layer is frozen.")
        optimizer = torch.optim.Adam(trainable, lr=learning_rate)
    batches_per_epoch = -(-len(train_images) // batch_size)
    total_steps = epochs * batches_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / total_steps)
    shuffler = torch.Generator().manual_seed(seed)

    history = History()
    best_loss, best_state, epochs_without_gain = float("inf"), None, 0
    bar = tqdm(total=total_steps, desc=description, unit="batch", mininterval=1.0, disable=not progress)

    def after_step(*_) -> None:  # run by the optimizer after each of its steps, whoever wrote the epoch
        schedule.step()
        bar.update()

    hook = optimizer.register_step_post_hook(after_step)
    try:
        for number in range(1, epochs + 1):
            model.train()
            train_loss, train_accuracy = epoch_result(
                epoch(model, train_images, train_labels, optimizer, batch_size, shuffler)
            )
            if number % eval_every and number != epochs:
                continue
            eval_loss, eval_accuracy = evaluate(model, eval_images, eval_labels)
            history.epoch.append(number)
            history.train_loss.append(train_loss)
            history.train_accuracy.append(train_accuracy)
            history.eval_loss.append(eval_loss)
            history.eval_accuracy.append(eval_accuracy)
            bar.set_postfix(epoch=number, loss=f"{train_loss:.3f}", eval_accuracy=f"{eval_accuracy:.1%}")
            if patience is not None:
                if eval_loss < best_loss:
                    best_loss, best_state, epochs_without_gain = eval_loss, copy.deepcopy(model.state_dict()), 0
                else:
                    epochs_without_gain += 1
                    if epochs_without_gain >= patience:
                        history.stopped_early = True
                        break
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted: kept the {len(history.epoch)} finished epoch(s); the model holds its latest weights.")
    finally:
        hook.remove()
        bar.close()
    if best_state is not None and not history.interrupted:
        model.load_state_dict(best_state)  # with patience, the model ends at its best held-out epoch
    model.eval()
    return history
