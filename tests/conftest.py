import numpy as np
import pytest


@pytest.fixture(scope="module")
def images():
    """48 random grey 28x28 images in the GAN's training range: enough for a few tiny batches."""
    from course import gan

    pixels = np.random.default_rng(0).integers(0, 256, (48, 28, 28), dtype=np.uint8)
    return gan.to_training_range(pixels)


@pytest.fixture(autouse=True)
def _no_course_scale(monkeypatch):
    """Unit tests see no COURSE_SCALE unless they set one (the test command sets smoke for notebooks)."""
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
