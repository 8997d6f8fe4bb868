"""Run by tests/test_distributed.py under torchrun: two processes train tiny GANs together.

Writes each rank's networks (parameters and batch-norm buffers, and the generator's moving average) after a run with
batch norm (they must stay identical) and rank 0's parameters after a run without batch norm that is stopped and
resumed (it must match one process).
"""

import sys
from pathlib import Path

import numpy as np
import torch

from course import distributed, gan, gan_sampling, gan_training
from course.gan_networks import Discriminator

out = Path(sys.argv[1])
device = distributed.start("cpu")
rank, world = distributed.rank_and_world()
torch.set_num_threads(1)
pixels = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
images = gan_sampling.to_training_range(pixels)
settings = dict(batch_size=16, latent_size=8, width=4, sample_every=2, checkpoint_every=2, seed=0)

seen = []  # (batch size, sum of pixels) of every batch this process's discriminator looks at


def record(module, inputs):
    if isinstance(module, Discriminator):
        seen.append((len(inputs[0]), float(inputs[0].sum())))


hook = torch.nn.modules.module.register_module_forward_pre_hook(record)
with_batch_norm = gan_training.train_gan(
    gan.GANConfig(loss="dcgan", steps=4, ema_decay=0.9, **settings), images, out / "dcgan", progress=False
)
hook.remove()
torch.save(
    {name: getattr(with_batch_norm, name).state_dict() for name in ("generator", "discriminator", "average")},
    out / f"dcgan_rank{rank}.pt",
)  # parameters and batch-norm buffers, and the moving average of the generator
torch.save(torch.tensor(seen), out / f"seen_rank{rank}.pt")

config = gan.GANConfig(loss="wgan-gp", steps=2, batch_norm=False, **settings)
gan_training.train_gan(config, images, out / "wgan-gp", progress=False)
resumed = gan_training.train_gan(
    gan.GANConfig(loss="wgan-gp", steps=4, batch_norm=False, **settings),
    images,
    out / "wgan-gp",
    resume=True,
    progress=False,
)
torch.save(
    {
        "generator": resumed.generator.state_dict(),
        "discriminator": resumed.discriminator.state_dict(),
        "history": resumed.history,
    },
    out / f"wgan-gp_rank{rank}.pt",
)
distributed.finish()
