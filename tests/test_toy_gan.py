"""Notebook 05's twins (the players and the two moves) and the checks of a learner's: right, wrong, garbage answers."""

import copy
import functools
import math

import pytest
import torch
from paths import ROOT
from torch import nn
from torch.nn import functional as F

from course import toy_gan
from course.toy_gan import check_discriminator_step, check_generator_step, check_player


def loss_terms(real_logits, fake_logits, real_target=1.0, fake_target=0.0):
    bce = F.binary_cross_entropy_with_logits
    return bce(real_logits, torch.full_like(real_logits, real_target)) + bce(
        fake_logits, torch.full_like(fake_logits, fake_target)
    )


def d_move(
    *,
    detach=True,
    zero_grad=True,
    targets=(1.0, 0.0),
    verdicts="sigmoid",
    returns="items",
    own_optimizer=False,
    no_grad_fakes=False,
):
    """The discriminator's move of notebook 05, with one slip or none."""

    def step(discriminator, optimizer, real, fake):
        real_logits = discriminator(real)
        if no_grad_fakes:
            with torch.no_grad():
                fake_logits = discriminator(fake)
        else:
            fake_logits = discriminator(fake.detach() if detach else fake)
        loss = loss_terms(real_logits, fake_logits, *targets)
        chosen = torch.optim.Adam(discriminator.parameters()) if own_optimizer else optimizer
        if zero_grad:
            chosen.zero_grad()
        loss.backward()
        chosen.step()
        shown = torch.sigmoid if verdicts == "sigmoid" else (lambda logits: logits)
        values = (loss, shown(real_logits).mean(), shown(fake_logits).mean())
        return tuple(value.item() for value in values) if returns == "items" else values

    return step


def g_move(*, loss="non-saturating", zero_grad=True, detach=False, batch_size=256):
    """The generator's move of notebook 05, with one slip or none."""

    def step(generator, discriminator, optimizer):
        fake = toy_gan.generate(generator, batch_size)
        fake_logits = discriminator(fake.detach() if detach else fake)
        if loss == "non-saturating":
            value = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        elif loss == "minimax":
            value = torch.log(1 - torch.sigmoid(fake_logits)).mean()
        else:  # target 0: the discriminator's loss on fakes
            value = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        if zero_grad:
            optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return value.item()

    return step


def raises(*arguments):
    raise NotImplementedError("write the move")


def test_the_players_have_notebook_05s_sizes():
    generator, discriminator = toy_gan.make_generator(1), toy_gan.make_discriminator(1)
    assert (
        sum(weight.numel() for weight in generator.parameters())
        == 4353
        == sum(weight.numel() for weight in discriminator.parameters())
    )
    assert toy_gan.generate(toy_gan.make_generator(2), 5).shape == (5, 2) and toy_gan.make_discriminator(2)(
        torch.zeros(5, 2)
    ).shape == (5, 1)


def test_the_moves_on_a_discriminator_that_says_one_half_everywhere():
    torch.manual_seed(0)
    generator, discriminator = toy_gan.make_generator(1), toy_gan.make_discriminator(1)
    with torch.no_grad():
        discriminator[-1].weight.zero_()
        discriminator[-1].bias.zero_()  # logit 0, D = 1/2, for every sample
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    loss, d_real, d_fake = toy_gan.discriminator_step(
        discriminator, d_optimizer, torch.randn(8, 1), toy_gan.generate(generator, 8)
    )
    assert loss == pytest.approx(2 * math.log(2)) and d_real == d_fake == 0.5  # -log 1/2 on each half
    assert all(weight.grad is None for weight in generator.parameters())  # the fakes were detached

    with torch.no_grad():
        discriminator[-1].weight.zero_()
        discriminator[-1].bias.zero_()
    g_optimizer = torch.optim.SGD(generator.parameters(), lr=0.1)
    assert toy_gan.generator_step(generator, discriminator, g_optimizer, batch_size=8) == pytest.approx(
        math.log(2)
    )  # -log 1/2

    discriminator = toy_gan.make_discriminator(
        1
    )  # one whose verdict changes along the line, so the generator has somewhere to go
    frozen, start = copy.deepcopy(discriminator), copy.deepcopy(generator)
    toy_gan.generator_step(generator, discriminator, g_optimizer, batch_size=8)
    assert all(torch.equal(a, b) for a, b in zip(discriminator.parameters(), frozen.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(generator.parameters(), start.parameters(), strict=True))


@pytest.mark.parametrize("what", ["generator", "discriminator"])
def test_the_course_players_pass_and_leave_the_random_numbers_alone(capsys, what):
    before = torch.random.get_rng_state()
    assert check_player(getattr(toy_gan, f"make_{what}"), what)
    assert capsys.readouterr().out.startswith(f"Correct! make_{what} builds the course's layers")
    assert torch.equal(torch.random.get_rng_state(), before)


def layers(sample_size, out, bend=lambda: nn.LeakyReLU(0.2), last=(), hidden=64):
    return nn.Sequential(
        nn.Linear(sample_size, hidden), bend(), nn.Linear(hidden, hidden), bend(), nn.Linear(hidden, out), *last
    )


@pytest.mark.parametrize(
    "maker, what, said",
    [
        (lambda n: layers(n, 1, last=[nn.Sigmoid()]), "discriminator", "the sigmoid comes later, inside the loss"),
        (lambda n: layers(n, n, last=[nn.Tanh()]), "generator", "the samples here lie beyond -1..1"),
        (lambda n: layers(n, n, bend=nn.ReLU), "generator", "not ReLU"),
        (lambda n: layers(n, 1, bend=nn.LeakyReLU), "discriminator", "its default is 0.01"),
        (
            lambda n: nn.Sequential(nn.Linear(n, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)),
            "discriminator",
            "missing: 4.weight, 4.bias",
        ),
        (
            lambda n: layers(n, n),
            "discriminator",
            "make_discriminator(2)'s 4.weight has shape (2, 64), the course's (1, 64)",
        ),
        (lambda n: layers(1, 1), "generator", "make_generator(2)'s 0.weight has shape (64, 1), the course's (64, 2)"),
        (lambda n: layers(n, n, hidden=32), "generator", "0.weight has shape (32, 1), the course's (64, 1)"),
    ],
)
def test_a_wrong_player_is_named_with_its_slip(capsys, maker, what, said):
    assert not check_player(maker, what)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out and "Traceback" not in out


@pytest.mark.parametrize(
    "garbage, said",
    [
        (None, "should be a function of sample_size that returns the network, got NoneType"),
        (nn.Sequential, "raised TypeError"),
        (toy_gan.make_generator(1), "should be a function of sample_size that returns the network, got Sequential"),
        (lambda n: None, "should return the network, an nn.Sequential, got NoneType"),
        (raises, "raised NotImplementedError: write the move"),
    ],
)
def test_a_garbage_player_gets_one_line(capsys, garbage, said):
    assert not check_player(garbage, "generator")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out and len(out.strip().splitlines()) == 1


def test_the_course_discriminator_move_passes_and_leaves_the_random_numbers_alone(capsys):
    before = torch.random.get_rng_state()
    assert check_discriminator_step(toy_gan.discriminator_step)
    assert check_discriminator_step(d_move())
    assert capsys.readouterr().out.count("Correct! after 3 moves") == 2
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize(
    "move, said",
    [
        (d_move(detach=False), "the generator got gradients: score fake.detach()"),
        (d_move(zero_grad=False), "call optimizer.zero_grad() before loss.backward()"),
        (d_move(own_optimizer=True), "never took a step: call optimizer.step() on that optimizer"),
        (d_move(targets=(0.0, 1.0)), "the targets are swapped"),
        (d_move(targets=(0.9, 0.0)), "from the same weights and samples"),
        (d_move(verdicts="logits"), "that is the mean logit"),
        (d_move(no_grad_fakes=True), "the fakes' term sent no gradient"),
        (d_move(returns="tensors"), "should be a plain number (use .item()), got a tensor that keeps its graph"),
    ],
)
def test_a_slip_in_the_discriminator_move_is_named(capsys, move, said):
    assert not check_discriminator_step(move)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out


@pytest.mark.parametrize(
    "garbage, said",
    [
        (None, "discriminator_step should be a function, got NoneType"),
        (nn.Linear(2, 1), "discriminator_step should be a function, got Linear"),
        (lambda *arguments: None, "should return three numbers (its loss, mean D(real), mean D(fake)), got NoneType"),
        (lambda *arguments: (1.0, 0.5), "got 2 values"),
        (raises, "raised NotImplementedError: write the move"),
        (
            lambda discriminator, optimizer, real, fake: toy_gan.discriminator_step(
                discriminator.double(), optimizer, real.double(), fake.double()
            ),
            "the check could not read what your code left",
        ),
    ],
)
def test_a_garbage_discriminator_move_gets_one_line(capsys, garbage, said):
    assert not check_discriminator_step(garbage)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out and len(out.strip().splitlines()) == 1


def test_the_course_generator_move_passes_and_leaves_the_random_numbers_alone(capsys):
    before = torch.random.get_rng_state()
    assert check_generator_step(functools.partial(toy_gan.generator_step, batch_size=256), 256)
    assert check_generator_step(g_move(batch_size=32), 32)
    assert capsys.readouterr().out.count("Correct! after 3 moves") == 2
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize(
    "move, said",
    [
        (g_move(loss="minimax"), "that is the minimax loss log(1 - D(G(z)))"),
        (g_move(loss="target 0"), "its fakes aim at 1"),
        (g_move(zero_grad=False), "call optimizer.zero_grad() before loss.backward()"),
        (g_move(detach=True), "keep the fakes' graph"),
        (g_move(batch_size=64), "from the same weights and noise"),
    ],
)
def test_a_slip_in_the_generator_move_is_named(capsys, move, said):
    assert not check_generator_step(move, 256)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out


def test_a_generator_move_that_steps_another_optimizer_or_moves_the_discriminator_is_named(capsys):
    def own_optimizer(generator, discriminator, optimizer):
        return g_move()(generator, discriminator, torch.optim.Adam(generator.parameters()))

    assert not check_generator_step(own_optimizer, 256)
    assert "never took a step" in capsys.readouterr().out

    def moves_both(generator, discriminator, optimizer):
        both = torch.optim.SGD([*generator.parameters(), *discriminator.parameters()], lr=0.1)
        loss = g_move()(generator, discriminator, optimizer)
        both.step()
        return loss

    assert not check_generator_step(moves_both, 256)
    assert "the discriminator's weights moved" in capsys.readouterr().out


@pytest.mark.parametrize(
    "garbage, said",
    [
        (None, "generator_step should be a function, got NoneType"),
        (lambda *arguments: None, "should return its loss as a plain number (loss.item()), got NoneType"),
        (lambda *arguments: "0.7", "got str"),
        (raises, "raised NotImplementedError: write the move"),
    ],
)
def test_a_garbage_generator_move_gets_one_line(capsys, garbage, said):
    assert not check_generator_step(garbage, 256)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and said in out and len(out.strip().splitlines()) == 1


def test_a_generator_move_whose_fakes_have_no_graph_is_told_why_it_raised(capsys):
    def under_no_grad(generator, discriminator, optimizer):
        with torch.no_grad():
            fake = toy_gan.generate(generator, 256)
        fake_logits = discriminator(fake).detach()
        loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        optimizer.zero_grad()
        loss.backward()  # nothing in the graph needs a gradient: raises
        optimizer.step()
        return loss.item()

    assert not check_generator_step(under_no_grad, 256)
    out = capsys.readouterr().out
    assert (
        "raised RuntimeError: element 0 of tensors does not require grad" in out and "the fakes lost their graph" in out
    )


@pytest.mark.notebooks
def test_notebook_05_as_released_stops_at_each_blank_and_runs_on_the_stuck_lines(tmp_path, monkeypatch):
    # The learner's edition stops at its first blank with the blank's message; with every blank replaced by the line its
    # message gives ("Stuck? Replace this line by `...`"), it runs to the end at the smoke scale, every check passing.
    import re

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from course.notebooks import read_notebook
    from course.workbook import build_workbook

    out = tmp_path / "wb"
    build_workbook([ROOT / "notebooks" / "05_gan_game.ipynb"], out)
    released = read_notebook(out / "05_gan_game.ipynb")
    monkeypatch.setenv("COURSE_SCALE", "smoke")
    with pytest.raises(CellExecutionError) as stopped:
        NotebookClient(
            copy.deepcopy(released), timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out)}}
        ).execute()
    assert stopped.value.ename == "NotImplementedError" and stopped.value.evalue.startswith(
        "return an nn.Sequential of Linear(sample_size"
    )

    blank = re.compile(r"^(\s*)raise NotImplementedError\(.*Stuck\? Replace this line by `([^`]+)`\..*$", re.M)
    filled = 0
    for cell in released.cells:
        cell.source, count = blank.subn(lambda found: found.group(1) + found.group(2), cell.source)
        filled += count
    assert filled == 4 and "NotImplementedError" not in nbformat.writes(released)
    NotebookClient(released, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out)}}).execute()
    checked = [cell for cell in released.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(checked) == 4 and all(
        "".join(output.get("text", "")).startswith("Correct!") for cell in checked for output in cell.outputs
    )
