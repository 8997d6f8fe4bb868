"""Training on several processes (GPUs, or CPU cores) with torch.distributed.

`torchrun --nproc_per_node=N -m course train-gan --distributed ...` starts N processes; each calls
`start()`, which joins the group that torchrun describes in environment variables (RANK,
WORLD_SIZE, MASTER_ADDR, ...). `course.gan_training.train_gan` then notices the group by itself:
every process takes its share of each batch, `AveragedGradients` averages the gradients before
every update, so all processes make the same update, and only process 0 writes samples and checkpoints.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes): (0, 1) when no process group is running."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def start(device: str | None = None) -> torch.device:
    """Join the process group torchrun set up; returns this process's device.

    NCCL on CUDA (one GPU per process, chosen by LOCAL_RANK), gloo on the CPU.
    """
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"--distributed needs the process group that torchrun describes, but {', '.join(missing)} "
            "is not set. Start it as: torchrun --nproc_per_node=N -m course train-gan --distributed ..."
        )
    wants_cuda = device in (None, "cuda") and torch.cuda.is_available()
    if wants_cuda:
        local_rank = int(os.environ["LOCAL_RANK"])
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"process {local_rank} has no GPU of its own: this machine has {torch.cuda.device_count()}. "
                "Lower --nproc_per_node to the number of GPUs."
            )
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    elif device in (None, "cpu"):
        chosen = torch.device("cpu")
    else:
        raise ValueError(f"--distributed runs on cuda or cpu, got --device {device}.")
    dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return chosen


def finish() -> None:
    """Leave the process group (a no-op when none is running)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class AveragedGradients:
    """An optimiser's stand-in that averages the gradients over all processes before each update.

    Each process holds an equal share of every batch and the losses are means over a batch, so the averaged gradient
    is the whole batch's and every process makes the same update (batch norm aside: each process normalises with its
    own share's statistics). The game's step calls `zero_grad` and `step` as on any optimiser; a checkpoint saves the
    wrapped `optimizer`.

    Why not DistributedDataParallel, which wraps a network and averages its gradients during every backward pass:
    the step, the course's or the one a learner wrote and passed to `train_gan`, takes plain networks and their
    optimisers and must run unchanged on one process or many. Averaging in the optimiser's `step` leaves the networks
    as they are (their state dicts, checkpoints and the piece checks see the same names), and one process simply uses
    the optimisers themselves. It also sends only what an update uses: the generator's backward pass fills the
    discriminator's gradients too, which its next `zero_grad` throws away, and DDP would average those all the same.
    And the gradient penalty (wgan-gp) differentiates inside the loss with torch.autograd.grad, which DDP's
    documentation says it does not work with. The price is one transfer per update after the backward pass, where DDP
    overlaps its transfers with the backward pass: little, for networks this small.
    """

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        parameters = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        flat = torch.cat([p.grad.reshape(-1) for p in parameters])  # one transfer for all the gradients
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        for parameter, averaged in zip(parameters, flat.split([p.numel() for p in parameters]), strict=True):
            parameter.grad.copy_(averaged.view_as(parameter.grad))
        self.optimizer.step()
