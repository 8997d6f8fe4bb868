"""The choices a GAN run offers and the defaults the course picks for them, in one place.

`course.gan.GANConfig` checks a run against these choices and takes its defaults from here; the command
line offers the same choices and defaults, and notebook 06 trains with `TUNED_DCGAN`. The module imports
nothing, so that the command line can list its choices before PyTorch loads.
"""

from __future__ import annotations

LOSSES = ("dcgan", "wgan", "wgan-gp", "hinge")  # the games of course.gan
MODELS = ("dcgan", "resnet")  # the networks of course.gan_networks
SIZES = (28, 32, 64)  # image sides in pixels the networks are built for
CHANNELS = (1, 3)  # grey or colour

BATCH_SIZE = 64
SAMPLE_EVERY = 250  # generator steps between renderings of the fixed noise batch
CHECKPOINT_EVERY = 500  # generator steps between checkpoints

# Each loss's learning rate as its paper publishes it (course.gan's docstring gives the papers).
PUBLISHED_LEARNING_RATES = {"dcgan": 2e-4, "wgan": 5e-5, "wgan-gp": 1e-4, "hinge": 2e-4}
# Adam's betas for the losses trained with Adam (wgan uses RMSprop), as their papers use them.
ADAM_BETAS = {"dcgan": (0.5, 0.999), "wgan-gp": (0.5, 0.9), "hinge": (0.5, 0.999)}

# The course's tuned DCGAN, from notebook 06's sweep on the dresses: a rate four times the paper's, and a
# moving average of the generator's weights to draw from. The command line's new runs use it.
TUNED_DCGAN = {"learning_rate": 8e-4, "ema_decay": 0.999}


def critic_steps_for(loss: str) -> int:
    """Discriminator (critic) moves per generator move: 5 for the Wasserstein losses, as their papers do; else 1."""
    return 5 if loss in ("wgan", "wgan-gp") else 1


def new_run_settings(loss: str) -> dict[str, float]:
    """The learning rate and average the command line gives a new run of `loss`.

    dcgan: `TUNED_DCGAN`. The other losses keep their papers' rates (no sweep here tuned them), with the same
    moving average of the generator.
    """
    if loss == "dcgan":
        return dict(TUNED_DCGAN)
    return {"learning_rate": PUBLISHED_LEARNING_RATES[loss], "ema_decay": TUNED_DCGAN["ema_decay"]}
