"""What many unit tests share, and no network.

A runs folder of their own, tiny GAN settings and a tiny trained GAN, a weights comparison, the data and the book.
The repository's folder is `from paths import ROOT`.
"""

import fcntl
import ipaddress
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _no_course_scale(monkeypatch):
    """Unit tests see no COURSE_SCALE unless they set one (the test command sets smoke for notebooks)."""
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Unit tests reach nothing beyond this machine: a connection elsewhere fails the test that tried it."""
    connect = socket.socket.connect

    def is_loopback(host: str) -> bool:
        try:
            return host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:  # a host name: not looked up, refused
            return False

    def local_only(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise AssertionError(f"a unit test tried to reach {address[0]}: unit tests must not use the network")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """This test's own runs folder, tmp_path/runs (not made yet): COURSE_RUNS_DIR points at it, for the course and for
    every process the test starts, so nothing is read from or left in the repository's runs/."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("COURSE_RUNS_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def fashion():
    """Fashion-MNIST, verified, from this machine only (the set-up puts it there; tests never download)."""
    from course.data import load_fashion_mnist

    return load_fashion_mnist(download=False)


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> list[Path]:
    """The book of the course's notebooks, as `python -m course book` builds it (contents page first, then one page per
    notebook), built once per test run. Tests read it and leave it as it is.

    Under pytest-xdist each worker is a session of its own: the first worker to ask builds the book, under a lock, in
    the folder the workers share (the parent of each one's temporary folder); the others wait and take its pages.
    """
    from course.book import build_book
    from course.notebooks import course_notebooks

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    pages = shared / "course-book-pages.json"
    with open(shared / "course-book-building.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not pages.exists():
            built = build_book(course_notebooks(), shared / "course-book")
            pages.write_text(json.dumps([str(page) for page in built]))
    return [Path(page) for page in json.loads(pages.read_text())]


@pytest.fixture(scope="module")
def images():
    """48 random grey 28x28 images in the GAN's training range: enough for a few tiny batches."""
    from course import gan_sampling

    pixels = np.random.default_rng(0).integers(0, 256, (48, 28, 28), dtype=np.uint8)
    return gan_sampling.to_training_range(pixels)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, images):
    """A tiny trained GAN's checkpoint file (2 steps on `images`), for the tests that sample, evaluate or damage one."""
    from course import gan, gan_training

    folder = tmp_path_factory.mktemp("run")
    config = gan.GANConfig(steps=2, batch_size=8, latent_size=8, width=4, sample_every=2, checkpoint_every=2)
    gan_training.train_gan(config, images, folder, progress=False)
    return folder / gan_training.CHECKPOINT


@pytest.fixture
def tiny_config():
    """Make a GAN config small enough to train in a blink; keyword arguments change any setting."""
    from course import gan

    def make(**changes) -> gan.GANConfig:
        settings = dict(
            loss="dcgan", steps=6, batch_size=8, latent_size=8, width=4, sample_every=2, checkpoint_every=3, seed=0
        )
        return gan.GANConfig(**{**settings, **changes})

    return make


@pytest.fixture
def same_weights():
    """Compare two modules: True when every parameter and buffer is equal, name by name."""

    def compare(a: torch.nn.Module, b: torch.nn.Module) -> bool:
        first, second = a.state_dict(), b.state_dict()
        return first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)

    return compare
