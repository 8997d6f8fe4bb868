import re

import pytest

from course.validation import require_positive_int


def test_a_positive_int_passes_through():
    assert require_positive_int("steps", 1) == 1 and require_positive_int("steps", 10_000) == 10_000


@pytest.mark.parametrize("value", [0, -3, 2.0, 1.5, "3", True, None])
def test_anything_else_is_refused_with_its_name_and_value(value):
    with pytest.raises(ValueError, match=rf"^steps must be a positive int, got {re.escape(repr(value))}\.$"):
        require_positive_int("steps", value)


def test_the_unit_says_what_is_counted():
    with pytest.raises(ValueError, match=r"measure_every must be a positive int \(generator steps\), got 0"):
        require_positive_int("measure_every", 0, unit="(generator steps)")
