import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course import training
from course.training import History, evaluate, predict, train_classifier


def brightness_problem(count: int, seed: int):
    """Images (N, 1, 4, 4): dark ones are class 0, bright ones class 1; a linear model separates them."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (count,), generator=generator)
    images = torch.rand(count, 1, 4, 4, generator=generator) * 0.4 + 0.6 * labels.float().view(-1, 1, 1, 1)
    return images, labels


def linear_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


@pytest.fixture
def problem():
    return (*brightness_problem(200, seed=1), *brightness_problem(100, seed=2))


def train(model, problem, **kwargs):
    settings = {"epochs": 5, "batch_size": 32, "learning_rate": 0.05, "progress": False, **kwargs}
    return train_classifier(model, *problem, **settings)


@pytest.mark.slow
def test_a_linearly_separable_problem_is_learned(problem):
    model = linear_model()
    history = train(model, problem, epochs=8)
    assert history.epoch == list(range(1, 9))
    for scores in (history.train_loss, history.train_accuracy, history.eval_loss, history.eval_accuracy):
        assert len(scores) == 8
    assert history.eval_accuracy[-1] >= 0.95 and history.train_accuracy[-1] >= 0.95
    assert history.train_loss[-1] < history.train_loss[0]
    assert not history.stopped_early and not history.interrupted
    assert not model.training  # left in eval mode


def test_history_as_frame_has_one_row_per_scored_epoch(problem):
    history = train(linear_model(), problem, epochs=3)
    frame = history.as_frame()
    assert list(frame.columns) == ["train_loss", "train_accuracy", "eval_loss", "eval_accuracy"]
    assert frame.index.name == "epoch" and list(frame.index) == [1, 2, 3]
    assert frame["eval_loss"].tolist() == history.eval_loss


@pytest.mark.slow
def test_the_same_seed_gives_the_same_history(problem):
    first = train(linear_model(), problem, seed=7)
    second = train(linear_model(), problem, seed=7)
    other = train(linear_model(), problem, seed=8)
    assert first == second
    assert first.train_loss != other.train_loss  # the seed decides the order of the batches


@pytest.mark.slow
@pytest.mark.parametrize("epochs, expected", [(7, [3, 6, 7]), (6, [3, 6]), (2, [2])])
def test_eval_every_scores_every_kth_epoch_and_the_last(problem, epochs, expected):
    history = train(linear_model(), problem, epochs=epochs, eval_every=3)
    assert history.epoch == expected and len(history.eval_loss) == len(expected)


def test_patience_stops_when_held_out_loss_rises_and_keeps_the_best_weights(problem):
    train_images, train_labels, eval_images, eval_labels = problem
    flipped = (problem[0], problem[1], eval_images, 1 - eval_labels)  # the better the fit, the worse held out
    model = linear_model()
    history = train(model, flipped, epochs=30, patience=2)
    assert history.stopped_early and not history.interrupted
    assert len(history.epoch) < 30
    best = min(history.eval_loss)
    assert all(loss > best for loss in history.eval_loss[-2:])  # two evaluations without a gain
    final_loss, _ = evaluate(model, eval_images, 1 - eval_labels)
    assert final_loss == pytest.approx(best, rel=1e-6)
    assert final_loss < history.eval_loss[-1]


def test_without_patience_every_epoch_runs(problem):
    images, labels, eval_images, eval_labels = problem
    history = train(linear_model(), (images, labels, eval_images, 1 - eval_labels), epochs=6)
    assert len(history.epoch) == 6 and not history.stopped_early


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive int, got 0"),
        ({"epochs": -1}, "epochs must be a positive int, got -1"),
        ({"epochs": 2.0}, "epochs must be a positive int"),
        ({"epochs": True}, "epochs must be a positive int"),
        ({"batch_size": 0}, "batch_size must be a positive int, got 0"),
        ({"eval_every": 0}, "eval_every must be a positive int, got 0"),
        ({"patience": 0}, r"patience must be a positive int \(or None\), got 0"),
    ],
)
def test_bad_settings_are_refused(problem, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(linear_model(), problem, **kwargs)


def test_numpy_arrays_are_refused_with_the_fix(problem):
    images, labels, eval_images, eval_labels = problem
    with pytest.raises(TypeError, match="must be tensors.*image_tensors"):
        train(linear_model(), (images.numpy(), labels.numpy(), eval_images, eval_labels))
    with pytest.raises(TypeError, match="evaluation images and labels must be tensors"):
        train(linear_model(), (images, labels, eval_images, eval_labels.numpy()))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: ((p[0] * 255).long(), p[1], p[2], p[3]), "training images must be floats"),
        (lambda p: (p[0], p[1].float(), p[2], p[3]), "labels int64"),
        (lambda p: (p[0], p[1], p[2], p[3].int()), "evaluation images must be floats and labels int64"),
        (lambda p: (p[0], p[1].view(-1, 1), p[2], p[3]), r"of shape \(N,\)"),
        (lambda p: (p[0][:10], p[1], p[2], p[3]), "10 images and 200 labels"),
        (lambda p: (p[0], p[1], p[2][:0], p[3][:0]), "0 images and 0 labels; expected the same non-zero number"),
    ],
)
def test_bad_tensors_are_refused(problem, change, message):
    with pytest.raises(ValueError, match=message):
        train(linear_model(), change(problem))


def test_a_fully_frozen_model_is_refused(problem):
    model = linear_model()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(model, problem)


class StopButton(nn.Module):
    """A linear model that raises KeyboardInterrupt on its `stop_at`-th forward call, like the stop button."""

    def __init__(self, stop_at: int):
        super().__init__()
        self.inner = linear_model()
        self.calls, self.stop_at = 0, stop_at

    def forward(self, images):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.inner(images)


def test_an_interrupt_keeps_the_finished_epochs(problem, capsys):
    # 200 images in batches of 50: 4 training calls and 1 evaluation call per epoch; call 7 is in epoch 2
    model = StopButton(stop_at=7)
    history = train(model, problem, epochs=5, batch_size=50, patience=3)
    assert history.interrupted and not history.stopped_early
    assert history.epoch == [1] and len(history.train_loss) == len(history.eval_accuracy) == 1
    assert model.calls == 7
    assert "kept the 1 finished epoch" in capsys.readouterr().out


def test_an_interrupt_in_the_first_epoch_gives_an_empty_history(problem):
    history = train(StopButton(stop_at=2), problem, epochs=3, batch_size=50)
    assert history.interrupted and history.epoch == [] and history.eval_loss == []


def test_predict_and_evaluate_match_a_manual_computation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    images, labels = torch.rand(23, 1, 4, 4), torch.randint(0, 3, (23,))
    model.eval()
    with torch.no_grad():
        scores = model(images)
    model.train()
    predicted = predict(model, images, batch_size=5)  # batches of 5, 5, 5, 5, 3; dropout off
    assert predicted.dtype == torch.int64 and torch.equal(predicted, scores.argmax(1))
    model.train()
    loss, accuracy = evaluate(model, images, labels, batch_size=5)
    assert loss == pytest.approx(F.cross_entropy(scores, labels).item(), rel=1e-5)
    assert accuracy == pytest.approx((scores.argmax(1) == labels).float().mean().item())
    assert not model.training


def test_an_empty_history_has_nothing_recorded():
    history = History()
    assert history.as_frame().empty and not history.stopped_early and not history.interrupted


def test_an_epoch_passed_in_trains_exactly_as_the_default(problem, same_weights):
    # The schedule and the bar follow the optimizer's steps (a hook on it), so an epoch handed in, as notebook 02 hands
    # in the one it wrote, trains as the default does; check_epoch (course.piece_checks) holds a learner's to run_epoch.
    def passed_in(model, images, labels, optimizer, batch_size, shuffler):
        return training.run_epoch(model, images, labels, optimizer, batch_size, shuffler)

    default, handed_in = linear_model(), linear_model()
    assert train(default, problem, epochs=4, batch_size=30) == train(
        handed_in, problem, epochs=4, batch_size=30, epoch=passed_in
    )
    assert same_weights(default, handed_in)


def test_the_epoch_is_called_once_per_epoch_and_the_schedule_follows_its_steps(problem):
    calls, rates = [], []

    def recording(model, images, labels, optimizer, batch_size, shuffler):
        calls.append((len(images), batch_size, model.training))
        rates.append(optimizer.param_groups[0]["lr"])
        return training.run_epoch(model, images, labels, optimizer, batch_size, shuffler)

    history = train(
        linear_model(), problem, epochs=3, batch_size=50, learning_rate=0.3, epoch=recording
    )  # 4 steps per epoch
    assert calls == [(200, 50, True)] * 3 and history.epoch == [1, 2, 3]
    assert rates == pytest.approx([0.3, 0.3 * (1 - 4 / 12), 0.3 * (1 - 8 / 12)])


def test_the_schedule_is_let_go_of_when_training_ends(problem):
    model = linear_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, problem, epochs=1, batch_size=50, optimizer=optimizer)
    rate = optimizer.param_groups[0]["lr"]
    model(problem[0]).sum().backward()
    optimizer.step()  # a step after training moves the weights, not the learning rate
    assert optimizer.param_groups[0]["lr"] == rate == 0.0


@pytest.mark.parametrize(
    "epoch, error, message",
    [
        ("run_epoch", TypeError, "epoch must be a function like course.training.run_epoch, got str"),
        (
            lambda *arguments: None,
            TypeError,
            "the epoch must return two numbers, the mean loss and the accuracy; it returned NoneType",
        ),
        (lambda *arguments: (0.5, 0.5, 1), TypeError, "it returned 3 values"),
        (lambda *arguments: "ok", TypeError, "it returned str"),
    ],
)
def test_an_epoch_that_is_not_one_is_refused_with_what_it_gave(problem, epoch, error, message):
    with pytest.raises(error, match=message):
        train(linear_model(), problem, epoch=epoch)


def test_an_interrupt_inside_a_written_epoch_keeps_the_finished_epochs(problem, capsys):
    count = []

    def stops_in_epoch_two(*arguments):
        count.append(1)
        if len(count) == 2:
            raise KeyboardInterrupt
        return training.run_epoch(*arguments)

    history = train(linear_model(), problem, epochs=3, epoch=stops_in_epoch_two)
    assert history.interrupted and history.epoch == [1]
    assert "kept the 1 finished epoch" in capsys.readouterr().out


def test_run_epoch_draws_one_order_and_returns_the_mean_loss_and_accuracy(problem):
    images, labels = problem[0][:70], problem[1][:70]
    model = linear_model()
    before = linear_model()
    shuffler, replay = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no move: the scores are those of the starting weights
    loss, accuracy = training.run_epoch(model, images, labels, optimizer, 32, shuffler)  # batches of 32, 32 and 6
    torch.randperm(70, generator=replay)
    assert torch.equal(shuffler.get_state(), replay.get_state())
    with torch.no_grad():
        scores = before(images)
    assert loss == pytest.approx(F.cross_entropy(scores, labels).item(), rel=1e-6)
    assert accuracy == pytest.approx((scores.argmax(1) == labels).float().mean().item())


def test_the_line_twin_reaches_least_squares_and_records_each_loss():
    x = torch.linspace(-1.5, 1.5, 40, dtype=torch.float64)
    y = 0.7 * x + 0.1 * torch.sin(7 * x)
    weight, bias, losses = training.fit_line_by_gradient_descent(x, y, learning_rate=0.2, steps=300)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    assert weight == pytest.approx(slope.item(), abs=1e-9) and bias == pytest.approx(
        (y.mean() - slope * x.mean()).item(), abs=1e-9
    )
    assert len(losses) == 300 and losses[0] == pytest.approx((y**2).mean().item()) and losses[-1] <= losses[0]
    assert all(isinstance(loss, float) for loss in losses)
