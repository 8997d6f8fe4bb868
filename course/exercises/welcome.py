"""Notebook 00's exercise: how exercises work, on the count of training dresses."""

from __future__ import annotations

from course.exercises.answers import _close, _unanswered


def check_dress_count(answer: object, fashion) -> None:
    """Exercise 0.1: how many training images are dresses?"""
    if _unanswered(answer):
        return
    test_count = len(fashion.dresses("test"))
    _close(
        answer,
        len(fashion.dresses("train")),
        "the number of training dresses",
        rel_tol=0,
        mistakes=[(test_count, "that is the test split; count the training images.")],
    )
