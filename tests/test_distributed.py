import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course import distributed, gan, gan_sampling, gan_training
from course.cli import main

WORKER = Path(__file__).with_name("distributed_worker.py")


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """Run the worker on two CPU processes with gloo; the folder it wrote to."""
    out = tmp_path_factory.mktemp("distributed")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(WORKER),
        str(out),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_processes_stay_in_step_even_with_batch_norm(two_processes):
    first, second = (torch.load(two_processes / f"dcgan_rank{rank}.pt", weights_only=True) for rank in (0, 1))
    for network in ("generator", "discriminator", "average"):
        assert first[network].keys() == second[network].keys()
        assert any("running_mean" in name for name in first[network])  # the batch-norm buffers are compared too
        different = [name for name in first[network] if not torch.equal(first[network][name], second[network][name])]
        assert not different, f"the two processes' {network}s differ in {different}"
    assert sorted(path.name for path in (two_processes / "dcgan" / gan_training.SAMPLES).iterdir()) == [
        "step_000002.npy",
        "step_000004.npy",
    ]
    assert gan_training.read_checkpoint(two_processes / "dcgan" / gan_training.CHECKPOINT)["step"] == 4


@pytest.mark.slow
def test_each_process_trains_on_its_own_half_of_every_batch(two_processes):
    first, second = (torch.load(two_processes / f"seen_rank{rank}.pt", weights_only=True) for rank in (0, 1))
    assert set(first[:, 0].tolist()) == {8} and set(second[:, 0].tolist()) == {8}  # half of the batch of 16
    assert len(first) == len(second) and not torch.equal(first[:, 1], second[:, 1])  # different images


@pytest.mark.slow
def test_two_processes_match_one_with_the_same_global_batch(two_processes, tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
    settings = dict(
        loss="wgan-gp",
        steps=4,
        batch_norm=False,
        batch_size=16,
        latent_size=8,
        width=4,
        sample_every=2,
        checkpoint_every=2,
        seed=0,
    )
    alone = gan_training.train_gan(
        gan.GANConfig(**settings), gan_sampling.to_training_range(pixels), tmp_path, progress=False
    )
    together = torch.load(two_processes / "wgan-gp_rank0.pt", weights_only=True)
    for name, value in alone.generator.state_dict().items():
        torch.testing.assert_close(together["generator"][name], value, rtol=1e-4, atol=1e-5)
    for name, value in alone.discriminator.state_dict().items():
        torch.testing.assert_close(together["discriminator"][name], value, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(together["history"]["d_loss"], alone.history["d_loss"], rtol=1e-4, atol=1e-5)
    # The checkpoint rank 0 wrote after the resumed run holds the same weights.
    saved = gan_training.read_checkpoint(two_processes / "wgan-gp" / gan_training.CHECKPOINT)
    assert saved["step"] == 4 and all(
        torch.equal(saved["generator"][k], together["generator"][k]) for k in saved["generator"]
    )


def test_without_torchrun_the_distributed_flag_says_how_to_start(tmp_path, capsys, monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert distributed.rank_and_world() == (0, 1)
    assert main(["train-gan", "--distributed", "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    assert "torchrun --nproc_per_node=N -m course train-gan --distributed" in capsys.readouterr().err


def test_a_batch_that_does_not_split_over_the_processes_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(gan_training, "rank_and_world", lambda: (0, 3))
    images = gan_sampling.to_training_range(np.zeros((40, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        gan_training.train_gan(
            gan.GANConfig(steps=1, batch_size=16, latent_size=8, width=4), images, tmp_path, progress=False
        )
