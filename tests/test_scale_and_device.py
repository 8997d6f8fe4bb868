import random

import numpy as np
import pytest
import torch

from course import by_scale, pick_device, resolve_scale, seed_everything
from course.device import describe_device


def test_explicit_scale_wins_over_environment(monkeypatch):
    monkeypatch.setenv("COURSE_SCALE", "smoke")
    assert resolve_scale("full") == "full"
    assert resolve_scale() == "smoke"


def test_default_scale_follows_the_device():
    assert resolve_scale() == ("full" if torch.cuda.is_available() else "laptop")


def test_unknown_scale_names_the_choices(monkeypatch):
    with pytest.raises(ValueError, match="smoke, laptop, full"):
        resolve_scale("huge")
    monkeypatch.setenv("COURSE_SCALE", "Laptop")
    with pytest.raises(ValueError, match="COURSE_SCALE is set to 'Laptop'"):
        resolve_scale()


def test_by_scale_picks_the_value_for_the_scale():
    assert by_scale("smoke", smoke=1, laptop=2, full=3) == 1
    assert by_scale("full", smoke=1, laptop=2, full=3) == 3
    with pytest.raises(ValueError, match="Unknown scale"):
        by_scale("medium", smoke=1, laptop=2, full=3)


def test_pick_device_prefers_an_accelerator_and_honours_a_choice(monkeypatch):
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected
    assert pick_device("cpu").type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device().type == "cpu"
    assert describe_device(torch.device("cpu")).startswith("cpu (")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        pick_device("cuda")


def test_seed_everything_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, 2**70])
def test_seed_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="whole number from 0"):
        seed_everything(bad)


def test_announce_says_where_how_long_and_how_to_change(capsys):
    from course import announce

    announce("laptop", torch.device("cpu"), laptop="about 6 minutes")
    out = capsys.readouterr().out
    assert "'laptop' scale on cpu: expect about 6 minutes (measured on two CPU cores)" in out
    assert "resolve_scale(None)" in out and "COURSE_SCALE" in out and "COURSE_DEVICE" in out
    announce("smoke", torch.device("cpu"), laptop="about 6 minutes")
    assert "expect seconds" in capsys.readouterr().out
    announce("full", torch.device("cpu"), laptop="about 6 minutes")
    assert "Warning: 'full' is sized for a GPU" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Unknown scale"):
        announce("huge", torch.device("cpu"), laptop="x")


def test_announce_for_a_cpu_only_notebook_gives_no_device_advice(capsys):
    from course import announce

    announce("full", torch.device("cpu"), laptop="about a minute", full="about 3 minutes", cpu_only=True)
    out = capsys.readouterr().out
    assert "expect about 3 minutes (on the CPU)" in out and "runs on the CPU whatever the machine has" in out
    assert "COURSE_DEVICE" not in out and "Warning" not in out and "GPU" not in out
