"""Numbers the notebooks' sentences quote are numbers the notebooks print.

A number in a Markdown cell that reads like a measurement (it has a decimal point, a thousands
separator or a percent sign) must be shown by the same notebook: in a cell's output, as committed
from a run at the laptop scale, or in its code. It may be rounded the way a reader rounds (91.3% for
0.9127). Maths (`$...$`), code spans, exercise and notebook numbers, and the References and Solutions
sections are not quotes, nor are round sizes such as 70,000 images. A number that is not a reading of anything (a round target, a constant) is
named in a comment in its cell: `<!-- not printed: 90% -->`.
"""

import json
import re
from pathlib import Path

import pytest

from course.notebooks import course_notebooks

QUOTE = re.compile(r"(?<![\w.,/^_-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?=\s?%))(?![\w]|\.\d|,\d)(\s?%)?")
NOT_QUOTES = [
    re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S),  # maths
    re.compile(r"`[^`]*`"),  # code spans
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"\b(?:[Ee]xercises?|[Nn]otebooks?|[Ss]ections?|Python|PyTorch|version|arXiv:?)\s+\d+(?:\.\d+)+"),
    re.compile(r"\*\*\d+(?:\.\d+)+\.?\*\*"),  # **6.4** labels
]
NOT_PRINTED = re.compile(r"<!--\s*not printed:(.*?)-->", re.S)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def shown_text(notebook: dict) -> str:
    """Everything a notebook shows besides its prose: code and every output's text, thousands separators removed."""
    parts = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for text in (output.get("text"), data.get("text/plain"), data.get("text/html")):
                if text:
                    parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts).replace(",", "")


def is_shown(quoted: str, percent: bool, shown: str, values: set[float]) -> bool:
    """Whether `quoted` (as written, "0.94", "5,600" or "91.3" of "91.3%") matches a number shown, rounded as written."""
    plain = quoted.replace(",", "")
    if re.search(rf"(?<![\d.]){re.escape(plain)}(?![\d])", shown):
        return True
    value, digits = float(plain), len(plain.split(".")[1]) if "." in plain else 0
    scales = (100,) if percent else (1, 100)
    return any(round(x * scale, digits) == value for x in values for scale in scales)


def unshown_quotes(notebook: dict) -> list[str]:
    """'cell N: 0.94' for every number quoted in Markdown that the notebook does not show."""
    shown = shown_text(notebook)
    values = {float(number) for number in NUMBER.findall(shown)}
    missing, in_notes = [], False
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        if re.search(r"^#+\s*(References|Solutions)", source, re.M):
            in_notes = True
        elif re.search(r"^##\s", source, re.M):
            in_notes = False
        if in_notes:
            continue
        exempt = {item.strip() for comment in NOT_PRINTED.findall(source) for item in comment.split(";") if item.strip()}
        prose = NOT_PRINTED.sub(" ", source)
        for pattern in NOT_QUOTES:
            prose = pattern.sub(" ", prose)
        for number, percent in QUOTE.findall(prose):
            written = number + ("%" if percent else "")
            if written in exempt or number in exempt or re.fullmatch(r"\d{1,3}(,000)+", number):
                continue  # named as not printed, or a round size

            if not is_shown(number, bool(percent), shown, values):
                missing.append(f"cell {index}: {written}")
    return missing


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda path: path.stem)
def test_every_number_a_notebook_quotes_is_one_it_shows(path: Path):
    missing = unshown_quotes(json.loads(path.read_text()))
    assert not missing, f"{path.name} quotes numbers that none of its outputs or code shows: {', '.join(missing)}"


def notebook(markdown: str, printed: str, code: str = "print(...)") -> dict:
    return {
        "cells": [
            {"cell_type": "code", "source": code, "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}]},
            {"cell_type": "markdown", "source": markdown},
        ]
    }


def test_a_planted_mismatch_is_caught():
    assert unshown_quotes(notebook("The CNN reaches 91.3% on the test set.", "test accuracy 90.12%\n")) == ["cell 1: 91.3%"]
    assert unshown_quotes(notebook("The slope's gradient is about 5,600 times the intercept's.", "ratio 4,012\n")) == ["cell 1: 5,600"]
    assert unshown_quotes(notebook("Dressness reaches 0.94.", "dressness 0.91\n")) == ["cell 1: 0.94"]


def test_a_quote_rounded_as_written_or_as_a_percentage_is_found():
    assert unshown_quotes(notebook("It reaches 90.1% (0.90), a gap of 5,613 and 174 dollars.", "accuracy 0.9012, gap 5613.2, rmse 174\n")) == []
    assert unshown_quotes(notebook("About 87k at 0.4 of the way, of 60,000 images.", "0.41\n")) == []  # 87k and 60,000 are not readings


def test_maths_labels_references_and_named_constants_are_not_quotes():
    markdown = (
        "Exercise 6.4 and notebook 07 use $\\beta_1 = 0.5$ and `lr=2e-4`; the target is 90% <!-- not printed: 90% -->.\n\n"
        "## References\n\nGoodfellow et al. (2014), arXiv 1406.2661, pages 2672.5."
    )
    assert unshown_quotes(notebook(markdown, "nothing\n")) == []
