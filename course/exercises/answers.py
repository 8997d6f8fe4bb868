"""The answer rule every exercise check shares: how a check answers, and when a number is right.

Exercise checks each print "Correct!" or what is off, and never give the answer away.

A check prints one line (and sometimes a hint) and returns nothing, so the notebook cell shows
only the verdict. An answer still left as `None` is reported as not answered yet, not as wrong.
Any other input, of whatever type or shape, gets one line saying what was expected, never a traceback:
a class given instead of a value (`int`, `np.ndarray`, `torch.nn.Linear` itself) and a tensor on the meta
device (which holds no values) among them. A sparse tensor is read by its values, like any other tensor.

Numbers. A Python number, a NumPy scalar, and an array, tensor or Series holding one element all
count as a number; a sequence of numbers may be a list, a tuple, an array, a tensor or a Series.
One rule decides whether a number is right: it is accepted when it matches the right value to the
precision it was given with (half a unit in its last digit: 0.94 accepts 0.935 to 0.945; the digits
are read from the shortest form of the number, so 0.25 counts as two decimals), or within the
check's small relative tolerance, whichever is looser; but a precision coarser than 5% of the right
value does not widen the tolerance (one significant digit is too few), and a value closer to one of
the typical wrong answers the check knows than to the right one is never accepted. A wrong number
that matches a typical wrong answer by the same rule gets the hint that names that mistake.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np

from course.errors import one_line

NOT_ANSWERED = "Not answered yet: replace the None values above with your answers and run the cell again."
COARSEST_PRECISION = 0.05  # a precision given counts only down to 5% of the right value


def _verdict(correct: bool, message: str) -> bool:
    print(("Correct! " if correct else "Not yet: ") + message)
    return correct


def _hint(text: str) -> None:
    print(f"  Hint: {text}")


def _unanswered(*answers: object) -> bool:
    if any(answer is None for answer in answers):
        print(NOT_ANSWERED)
        return True
    return False


def _not_a_function(answer: object, arguments: str, returning: str = "") -> bool:
    """True, with the verdict said, unless `answer` is a function (a class is callable, but makes an instance)."""
    if callable(answer) and not isinstance(answer, type):
        return False
    _verdict(False, f"the answer should be a function of ({arguments}){returning}, got {_kind(answer)}.")
    return True


def _one_element(value: object) -> bool:
    if isinstance(value, type):  # a class, torch.Tensor say, is no value at all
        return False
    size = getattr(value, "size", None)
    if callable(size):  # a torch tensor
        size = value.numel() if hasattr(value, "numel") else None
    return size == 1 and hasattr(value, "item")


def _as_plain_number(value: object) -> object:
    """A NumPy scalar, or an array, tensor or Series of one element, as a Python number; anything else unchanged."""
    if _one_element(value):
        try:
            return value.item()
        except (TypeError, ValueError, RuntimeError):
            return value
    return value


def _is_number(value: object) -> bool:
    value = _as_plain_number(value)
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    """The answer as a float if it is one number (see the module's rule), else None."""
    if not _is_number(value):
        return None
    try:
        return float(_as_plain_number(value))
    except OverflowError:  # a whole number too large for a float
        return float("inf")


def _tensor_values(tensor):
    """A tensor's values as an ordinary tensor on the CPU, a sparse one made dense.

    A meta tensor, which holds none, raises.
    """
    import torch

    values = tensor.detach().cpu()
    return values if values.layout == torch.strided else values.to_dense()


def _as_array(value: object, keep_dtype: bool = False) -> np.ndarray | None:
    """A list, tuple, array, tensor or Series of numbers as a float array (or in its own dtype); None otherwise."""
    if isinstance(value, (str, bytes, dict, type)) or value is None:
        return None
    try:
        if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, wherever it lives
            value = _tensor_values(value).numpy()
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.dtype.kind not in "iuf":
        return None
    return array if keep_dtype else array.astype(float)


def _half_unit(value: object) -> float:
    """Half a unit in the last digit of `value` as it was given: 0.5 for a whole number (24 or 24.0), 0.005 for 0.94."""
    dtype = str(getattr(value, "dtype", ""))
    plain = _as_plain_number(value)
    if isinstance(plain, (int, np.integer)):
        return 0.5
    number = float(plain)
    if not math.isfinite(number):
        return 0.0
    if "float16" in dtype:
        text = str(np.float16(number))
    elif "float32" in dtype:
        text = str(np.float32(number))
    else:
        text = repr(number)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0"))  # 24.0 was given to units, like 24
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def _matches(
    value: float, half_unit: float, target: float, rel_tol: float, abs_tol: float, others: Iterable[float] = ()
) -> bool:
    """The module's rule: `value`, given to `half_unit`, stands for `target` and not for any of `others`."""
    if not (math.isfinite(value) and math.isfinite(target)):
        return False
    distance = abs(value - target)
    tolerance = max(rel_tol * abs(target), abs_tol, min(half_unit, COARSEST_PRECISION * abs(target)))
    if distance > tolerance * (1 + 1e-9):  # a value on the edge, 0.63 for 0.625, rounds to it
        return False
    return distance == 0 or all(distance < abs(value - other) for other in others if math.isfinite(other))


def _close(
    answer: object,
    expected: float,
    name: str,
    rel_tol: float,
    abs_tol: float = 0.0,
    mistakes: Iterable[tuple[float, str]] = (),
) -> bool:
    """Print whether `answer` is `expected` by the module's rule.

    If not, print which way it is off and the hint of the mistake it matches.
    """
    value = _number(answer)
    if value is None:
        return _verdict(False, f"{name} should be a number, got {_describe(answer)}.")
    mistakes = [(float(wrong), hint) for wrong, hint in mistakes]
    half_unit = _half_unit(answer)
    if _matches(value, half_unit, expected, rel_tol, abs_tol, [wrong for wrong, _ in mistakes]):
        return _verdict(True, f"{name}: {_shown(value)}.")
    if not math.isfinite(value):
        _verdict(False, f"{name} is {value}, not a number you can compare.")
    else:
        _verdict(False, f"{name}: {_shown(value)} is {'too large' if value > expected else 'too small'}.")
    for index, (wrong, hint) in enumerate(mistakes):
        others = [expected] + [other for other_index, (other, _) in enumerate(mistakes) if other_index != index]
        if _matches(value, half_unit, wrong, rel_tol, abs_tol, others):
            _hint(hint)
            break
    return False


def _distinct(mistakes: Iterable[tuple[float, str]], expected: float) -> list[tuple[float, str]]:
    """The typical wrong answers that differ from the right one (at a small scale several can coincide with it)."""
    return [
        (wrong, hint)
        for wrong, hint in mistakes
        if math.isfinite(wrong) and not math.isclose(wrong, expected, rel_tol=1e-6, abs_tol=1e-9)
    ]


def _hint_matching(value: float, mistakes: Iterable[tuple[object, str]], rel_tol: float, abs_tol: float) -> None:
    """Print the hint of the first typical mistake (a number or a one-element tensor) that `value` is, if any."""
    for wrong, hint in mistakes:
        wrong = _number(wrong)
        if wrong is not None and math.isfinite(value) and math.isclose(value, wrong, rel_tol=rel_tol, abs_tol=abs_tol):
            _hint(hint)
            return


def _shown(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _kind(answer: object) -> str:
    """The answer's type by name; a class given instead of a value (`int`, `torch.nn.Linear`) is named as one."""
    if isinstance(answer, type):
        return f"the class {answer.__name__} itself"
    return type(answer).__name__


def _describe(answer: object) -> str:
    """The answer's type, with the shape of an array or tensor, and the meta device, where a tensor holds no values."""
    if isinstance(answer, type):
        return _kind(answer)
    where = " on the meta device, which holds no values" if getattr(answer, "is_meta", False) is True else ""
    shape = getattr(answer, "shape", None)
    if shape is not None and not _one_element(answer):
        return f"{type(answer).__name__} of shape {tuple(shape)}{where}"
    return type(answer).__name__ + where


# The same rule for arrays, number by number


def _array_half_unit(raw: np.ndarray) -> float:
    """The finest precision among the numbers of an array, each read as in `_half_unit`."""
    units = [_half_unit(number) for number in np.asarray(raw).ravel()]
    return min(units) if units else 0.0


def _arrays_match(
    values: np.ndarray, half_unit: float, target: np.ndarray, abs_tol: float, others: Iterable[np.ndarray] = ()
) -> bool:
    """The module's rule, number by number, for an array; the 5% limit is taken of the target's largest number."""
    if not (np.isfinite(values).all() and values.shape == target.shape):
        return False
    scale = float(np.abs(target).max()) if target.size else 0.0
    tolerance = max(abs_tol, min(half_unit, COARSEST_PRECISION * scale))
    distance = float(np.abs(values - target).max()) if target.size else 0.0
    if distance > tolerance * (1 + 1e-9):
        return False
    return distance == 0 or all(distance < float(np.abs(values - other).max()) for other in others)


def _coarsely_rounded(values: np.ndarray, half_unit: float, target: np.ndarray, abs_tol: float) -> bool:
    """True when the numbers match only because of a precision coarser than the rule accepts."""
    return not _arrays_match(values, half_unit, target, abs_tol) and _arrays_match(
        values, half_unit, target, abs_tol=max(abs_tol, half_unit)
    )


# Checks that run the learner's own code


def _one_line(error: Exception) -> str:
    """An exception as one short line: its type and the first line of its message (a workbook blank's line whole)."""
    blank = isinstance(error, NotImplementedError)  # a blank's message says what to write: keep all of it
    return one_line(error, limit=None if blank else 120)


def _never_a_traceback(check):
    """For a check that runs the learner's code: anything that code leaves behind that the check cannot read (a network
    turned to double, a sparse or meta tensor) ends the check with one line, not a traceback."""

    @functools.wraps(check)
    def guarded(*answers):
        try:
            return check(*answers)
        except Exception as error:  # the learner's code may have changed the networks or returned anything
            _verdict(
                False,
                f"your answer left something the check cannot read ({_one_line(error)}): keep the networks and "
                "tensors as they are given (no .double(), no sparse or meta tensors), and return an ordinary tensor.",
            )

    return guarded


def _call_learner(function, arguments: tuple, call: str, returns: str) -> tuple[bool, object]:
    """Run the learner's function and return (True, what it returned).

    If it raises or returns None, print why there is nothing to check and return (False, None).
    """
    try:
        returned = function(*arguments)
    except Exception as error:  # the learner's code may raise anything
        _verdict(False, f"calling {call} raised {_one_line(error).rstrip('.')}.")
        return False, None
    if returned is None:
        print(f"Not answered yet: your function returns None; write its body, return {returns} and run the cell again.")
        return False, None
    return True, returned
