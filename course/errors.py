"""Saying what went wrong in one line: for the command line, and for the checks that run a learner's code."""

from __future__ import annotations


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message, or "" when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def one_line(error: BaseException, limit: int | None = None) -> str:
    """`Type: first line of the message`, the message cut to `limit` characters when one is given."""
    message = first_line(error)
    if limit is not None and len(message) > limit:
        message = message[: limit - 3] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def raised_by_course(error: BaseException) -> bool:
    """Whether the course's own code raised `error`, so that its message was written for the learner.

    That is where the innermost frame of its traceback is: a ValueError raised deep inside PyTorch is not the
    course's, even when course code called PyTorch.
    """
    frame = error.__traceback__
    if frame is None:  # never raised: judged by where its type comes from
        return type(error).__module__.split(".")[0] == "course"
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_globals.get("__name__", "").split(".")[0] == "course"


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` says the machine (or the GPU) ran out of memory: MemoryError, or PyTorch's words for it."""
    text = str(error).lower()
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or (isinstance(error, RuntimeError) and ("out of memory" in text or ("allocate" in text and "memory" in text)))
    )
