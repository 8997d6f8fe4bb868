import pytest


@pytest.fixture(autouse=True)
def _no_course_scale(monkeypatch):
    """Unit tests see no COURSE_SCALE unless they set one (the test command sets smoke for notebooks)."""
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
