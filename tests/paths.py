"""Where the course's repository is, for the tests: `from paths import ROOT`."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: course/, notebooks/, tests/
