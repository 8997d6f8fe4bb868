"""The book: every notebook rendered with its committed outputs, pages linked in order, nothing fetched from a network."""

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from course.book import MATHJAX, build_book
from course.cli import main
from course.notebooks import course_notebooks

# A reference that makes a browser fetch something: a src attribute, a stylesheet or icon link, a CSS import or url().
NETWORK_REFERENCE = re.compile(r"""(?:\bsrc\s*=\s*|<link\b[^>]*\bhref\s*=\s*|@import\s+(?:url\()?|\burl\(\s*)["']?\s*(?:https?:)?//""", re.IGNORECASE)
FIGURE_TYPES = ("image/png", "image/jpeg", "image/gif")


class Tags(HTMLParser):
    """Every start tag of a page, as (name, attributes), in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))

    def all(self, name: str) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.found if tag == name]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> list[Path]:
    return build_book(course_notebooks(), tmp_path_factory.mktemp("book"))


def local_target(page: Path, reference: str) -> Path | None:
    """The file a page's reference points to, or None for one that is not a file of the book (an anchor, data, the web)."""
    if reference.startswith(("#", "data:", "http://", "https://", "mailto:")):
        return None
    return page.parent / reference.split("#")[0].split("?")[0]


def test_the_contents_come_first_then_every_notebook_in_order(book):
    notebooks = course_notebooks()
    assert len(notebooks) == 10
    assert [page.name for page in book] == ["index.html"] + [f"{path.stem}.html" for path in notebooks]
    assert all(page.is_file() for page in book)
    contents = Tags(book[0].read_text())
    listed = [link["href"] for link in contents.all("a") if link["href"].endswith(".html") and "rel" not in link]
    assert listed == [page.name for page in book[1:]]
    assert "06 · Can a network dream up a dress?" in book[0].read_text()


def test_each_page_links_to_the_previous_the_contents_and_the_next(book):
    for number, page in enumerate(book):
        links = Tags(page.read_text()).all("a")
        previous = {link["href"] for link in links if link.get("rel") == "prev"}
        following = {link["href"] for link in links if link.get("rel") == "next"}
        assert previous == ({book[number - 1].name} if number else set()), page.name
        assert following == ({book[number + 1].name} if number + 1 < len(book) else set()), page.name
        assert number == 0 or any(link["href"] == "index.html" for link in links)


def test_every_file_a_page_refers_to_is_in_the_book(book):
    for page in book:
        tags = Tags(page.read_text())
        references = [attrs.get("src", "") for _, attrs in tags.found] + [attrs.get("href", "") for _, attrs in tags.found]
        targets = [local_target(page, reference) for reference in references if reference]
        missing = [str(target) for target in targets if target is not None and not target.is_file()]
        assert not missing, f"{page.name} refers to files the book lacks: {missing}"
        scripts = [script["src"] for script in tags.all("script") if "src" in script]
        assert scripts == [f"{MATHJAX}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"], page.name
    fonts = book[0].parent / MATHJAX / "fonts/HTML-CSS/STIX-Web/woff"
    assert (fonts / "STIXMathJax_Main-Regular.woff").is_file()  # the web font the pages' MathJax settings name


def test_nothing_in_the_book_is_fetched_from_a_network(book):
    files = [path for path in book[0].parent.rglob("*") if path.suffix in (".html", ".css", ".js")]
    assert len(files) > 20  # the pages, the stylesheet and MathJax's scripts
    fetched = {str(path.relative_to(book[0].parent)): NETWORK_REFERENCE.findall(path.read_text(encoding="utf-8")) for path in files}
    assert not {name: found for name, found in fetched.items() if found}
    assert NETWORK_REFERENCE.search('<script src="https://example.org/x.js">') and NETWORK_REFERENCE.search("@import url(//example.org/a.css)")
    assert not NETWORK_REFERENCE.search('<a href="https://arxiv.org/abs/1406.2661">')  # a hyperlink in the text is not fetched


def test_every_figure_and_formula_of_a_notebook_is_on_its_page(book):
    checked = 0
    for notebook, page in zip(course_notebooks(), book[1:], strict=True):
        cells = json.loads(notebook.read_text())["cells"]
        figures = sum(any(kind in output.get("data", {}) for kind in FIGURE_TYPES) for cell in cells for output in cell.get("outputs", []))
        text = page.read_text()
        assert text.count("<img ") == figures, page.name
        formulas = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown" and "$" in "".join(cell["source"])]
        for source in formulas:
            for formula in re.findall(r"\$\$(.+?)\$\$", source, re.DOTALL)[:3]:  # left in the page for MathJax to typeset
                assert html.escape(formula.strip(), quote=False) in text or formula.strip() in text, f"{page.name}: {formula[:60]}"
                checked += 1
    assert checked > 10
    assert 'inlineMath: [["$", "$"]' in book[1].read_text()
    assert "data:image/gif;base64," in (book[0].parent / "06_dcgan_dresses.html").read_text()  # the animation of notebook 06


def test_printed_outputs_are_on_the_page_as_committed(book):
    notebook, page = course_notebooks()[5], book[6]
    cells = json.loads(notebook.read_text())["cells"]
    lines = [line for cell in cells for output in cell.get("outputs", []) if output["output_type"] == "stream" for line in "".join(output["text"]).splitlines()]
    shown = [line for line in lines if line.strip() and "\x1b" not in line and "\r" not in line]
    assert len(shown) > 5
    text = page.read_text()
    assert [line for line in shown if html.escape(line, quote=False) not in text] == []


def test_bad_input_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "book"
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(ValueError, match=r"broken.ipynb is not valid JSON: restore it"):
        build_book([course_notebooks()[0], broken], out)
    with pytest.raises(FileNotFoundError, match=r"no such notebook: .*absent.ipynb"):
        build_book([tmp_path / "absent.ipynb"], out)
    with pytest.raises(ValueError, match="no notebooks"):
        build_book([], out)
    with pytest.raises(ValueError, match="00_welcome.html: give each notebook once"):
        build_book([course_notebooks()[0], course_notebooks()[0]], out)
    assert not out.exists()
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="a_file is a file, not a folder"):
        build_book(course_notebooks()[:1], a_file)


def test_the_book_command_builds_and_says_where_to_open_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("course.notebooks.course_notebooks", lambda: [Path(__file__).parent.parent / "notebooks" / "00_welcome.ipynb"])
    assert main(["book", "--out", str(tmp_path / "book")]) == 0
    assert str(tmp_path / "book" / "index.html") in capsys.readouterr().out
    assert sorted(path.name for path in (tmp_path / "book").glob("*.html")) == ["00_welcome.html", "index.html"]
    assert main(["book", "--out", str(tmp_path / "book" / "index.html")]) == 1
    assert "is a file, not a folder: choose another output folder" in capsys.readouterr().err
