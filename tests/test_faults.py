"""Faults a long run meets: killed mid-write, a full disk, a folder it cannot write, a GAN that blows up."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from course import gan, gan_training, runs

# Trains the tiny GAN; when the step-4 checkpoint is being written, writes half of it, says so, and waits.
KILLED_MID_WRITE = """
import sys, time
from pathlib import Path
import numpy as np, torch
from course import gan, gan_sampling, gan_training
folder, marker = Path(sys.argv[1]), Path(sys.argv[2])
real_save = torch.save
def save_slowly(value, file, *args, **kwargs):
    if isinstance(value, dict) and value.get("step") == 4:
        file.write(b"the first half of a checkpoint")
        file.flush()
        marker.touch()
        time.sleep(120)
    return real_save(value, file, *args, **kwargs)
torch.save = save_slowly
pixels = np.random.default_rng(0).integers(0, 256, (48, 28, 28), dtype=np.uint8)
config = gan.GANConfig(
    loss="dcgan", steps=4, batch_size=8, latent_size=8, width=4, sample_every=2, checkpoint_every=2, seed=0
)
gan_training.train_gan(config, gan_sampling.to_training_range(pixels), folder, progress=False)
"""


@pytest.mark.slow
def test_a_run_killed_while_writing_a_checkpoint_keeps_the_previous_one_and_resumes(
    tmp_path, images, tiny_config, same_weights
):
    folder, marker = tmp_path / "run", tmp_path / "writing"
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, str(folder), str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child never reached the checkpoint write"
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert list(folder.glob(".checkpoint.pt.*.part"))  # the half-written file is left beside it, never in its place
    assert (
        gan_training.read_checkpoint(folder / gan_training.CHECKPOINT)["step"] == 2
    )  # the previous checkpoint is whole
    resumed = gan_training.train_gan(
        tiny_config(steps=4, checkpoint_every=2), images, folder, resume=True, progress=False
    )
    whole = gan_training.train_gan(tiny_config(steps=4, checkpoint_every=2), images, tmp_path / "whole", progress=False)
    assert resumed.step == 4 and resumed.history == whole.history
    assert same_weights(resumed.generator, whole.generator)


def test_a_full_disk_is_reported_before_training_starts(tmp_path, images, monkeypatch, tiny_config):
    monkeypatch.setattr(runs.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 1024})())
    started = []
    monkeypatch.setattr(gan, "discriminator_loss", lambda *args: started.append(True))
    with pytest.raises(
        OSError, match=r"has 0\.0 MiB free, and the run's checkpoints and samples need about \d+ MiB: free some space"
    ):
        gan_training.train_gan(tiny_config(), images, tmp_path / "run", progress=False)
    assert not started and not (tmp_path / "run" / gan_training.CHECKPOINT).exists()


def test_a_run_folder_that_cannot_be_written_is_reported_before_training_starts(tmp_path, images, tiny_config):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="the run's checkpoints and samples would go under .*a-file, which is a file"):
        gan_training.train_gan(tiny_config(), images, blocker / "run", progress=False)


@pytest.mark.slow
def test_an_absurd_learning_rate_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, images, tiny_config):
    config = tiny_config(
        loss="wgan-gp", steps=200, learning_rate=0.3, checkpoint_every=1
    )  # blows up within a few steps
    expected = r"diverged at step (\d+).*last good checkpoint \(step \d+\) is kept.*Lower the learning rate"
    with pytest.raises(gan_training.TrainingDiverged, match=expected) as caught:
        gan_training.train_gan(config, images, tmp_path / "run", progress=False, max_loss=1e4)
    diverged_at = int(caught.value.args[0].split("diverged at step ")[1].split(":")[0])
    kept = gan_training.read_checkpoint(tmp_path / "run" / gan_training.CHECKPOINT)
    assert kept["step"] == diverged_at - 1
    assert all(np.isfinite(value) and abs(value) < 1e4 for value in kept["history"]["d_loss"])
