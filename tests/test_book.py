"""The book: every notebook with its committed outputs, its pages linked in order, nothing fetched from a network."""

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from paths import ROOT

from course.book import MARKER, MATHJAX, BookExporter, build_book
from course.cli import main
from course.notebooks import course_notebooks

# A reference that makes a browser fetch something: a src attribute, a stylesheet or icon link, a CSS import or url().
NETWORK_REFERENCE = re.compile(
    r"""(?:\bsrc\s*=\s*|<link\b[^>]*\bhref\s*=\s*|@import\s+(?:url\()?|\burl\(\s*)["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)
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


def local_target(page: Path, reference: str) -> Path | None:
    """The file a page's reference points to; None for one that is not a file of the book (an anchor, data, the web)."""
    if reference.startswith(("#", "data:", "http://", "https://", "mailto:")):
        return None
    return page.parent / reference.split("#")[0].split("?")[0]


def test_the_contents_come_first_then_every_notebook_in_order(book):
    notebooks = course_notebooks()
    assert len(notebooks) == 11
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
        references = [attrs.get("src", "") for _, attrs in tags.found] + [
            attrs.get("href", "") for _, attrs in tags.found
        ]
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
    fetched = {
        str(path.relative_to(book[0].parent)): NETWORK_REFERENCE.findall(path.read_text(encoding="utf-8"))
        for path in files
    }
    assert not {name: found for name, found in fetched.items() if found}
    assert NETWORK_REFERENCE.search('<script src="https://example.org/x.js">') and NETWORK_REFERENCE.search(
        "@import url(//example.org/a.css)"
    )
    assert not NETWORK_REFERENCE.search(
        '<a href="https://arxiv.org/abs/1406.2661">'
    )  # a hyperlink in the text is not fetched


def test_every_figure_and_formula_of_a_notebook_is_on_its_page(book):
    checked = 0
    for notebook, page in zip(course_notebooks(), book[1:], strict=True):
        cells = json.loads(notebook.read_text())["cells"]
        figures = sum(
            any(kind in output.get("data", {}) for kind in FIGURE_TYPES)
            for cell in cells
            for output in cell.get("outputs", [])
        )
        text = page.read_text()
        assert text.count("<img ") == figures, page.name
        formulas = [
            "".join(cell["source"])
            for cell in cells
            if cell["cell_type"] == "markdown" and "$" in "".join(cell["source"])
        ]
        for source in formulas:
            for formula in re.findall(r"\$\$(.+?)\$\$", source, re.DOTALL)[
                :3
            ]:  # left in the page for MathJax to typeset
                assert html.escape(formula.strip(), quote=False) in text or formula.strip() in text, (
                    f"{page.name}: {formula[:60]}"
                )
                checked += 1
    assert checked > 10
    assert 'inlineMath: [["$", "$"]' in book[1].read_text()
    assert (
        "data:image/gif;base64," in (book[0].parent / "06_dcgan_dresses.html").read_text()
    )  # the animation of notebook 06


def test_printed_outputs_are_on_the_page_as_committed(book):
    notebook, page = course_notebooks()[5], book[6]
    cells = json.loads(notebook.read_text())["cells"]
    lines = [
        line
        for cell in cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "stream"
        for line in "".join(output["text"]).splitlines()
    ]
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
    monkeypatch.setattr("course.notebooks.course_notebooks", lambda: [ROOT / "notebooks" / "00_welcome.ipynb"])
    assert main(["book", "--out", str(tmp_path / "book")]) == 0
    assert str(tmp_path / "book" / "index.html") in capsys.readouterr().out
    assert sorted(path.name for path in (tmp_path / "book").glob("*.html")) == ["00_welcome.html", "index.html"]
    assert main(["book", "--out", str(tmp_path / "book" / "index.html")]) == 1
    assert "is a file, not a folder: choose another output folder" in capsys.readouterr().err


def small_notebook(folder: Path, name: str, title: str) -> Path:
    """A notebook of one markdown cell, "# title", saved as folder/name.ipynb: its book builds in a second or two."""
    path = folder / f"{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}")]), path)
    return path


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by its path relative to folder, with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def users_folder(folder: Path) -> dict[str, bytes]:
    """A folder of a user's own files, some named like the book's; returns them as files_of does."""
    (folder / "static" / "mathjax").mkdir(parents=True)
    (folder / "index.html").write_text("<p>my own home page</p>")
    (folder / "static" / "mathjax" / "mine.js").write_text("// my own script")
    (folder / "notes.txt").write_text("my notes")
    return files_of(folder)


def test_the_book_carries_its_marker_and_leaves_nothing_beside_it(book):
    folder = book[0].parent
    assert (folder / MARKER).is_file() and "replaces the whole folder" in (folder / MARKER).read_text()
    assert [path.name for path in folder.parent.glob(f".{folder.name}.*") if path.name != f".{folder.name}.lock"] == []


def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "mine"
    before = users_folder(out)
    with pytest.raises(
        FileExistsError,
        match=r"mine holds files and is not a book the course built .*: choose another --out, or empty or remove",
    ):
        build_book([small_notebook(tmp_path, "01_small", "Small")], out)
    assert files_of(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "01_small.ipynb",
        "mine",
    ]  # not even a lock file beside it


def test_a_book_the_course_built_is_replaced_whole_and_an_empty_folder_is_taken(tmp_path):
    out = tmp_path / "book"
    out.mkdir()
    first = build_book([small_notebook(tmp_path, "01_first", "First")], out)
    assert first == [out / "index.html", out / "01_first.html"] and (out / MARKER).is_file()
    (out / "static" / "stray.txt").write_text("left in the book's folder")
    second = build_book(
        [small_notebook(tmp_path, "02_second", "Second"), small_notebook(tmp_path, "03_third", "Third")], out
    )
    assert second == [out / "index.html", out / "02_second.html", out / "03_third.html"]
    assert all(page.is_file() for page in second) and (out / MARKER).is_file()
    assert not (out / "01_first.html").exists() and not (out / "static" / "stray.txt").exists()
    assert "Third" in (out / "index.html").read_text() and "First" not in (out / "index.html").read_text()
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_dir()) == ["book"]


def test_a_build_that_fails_part_way_leaves_the_old_book_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "book"
    build_book([small_notebook(tmp_path, "01_first", "First")], out)
    before = files_of(out)
    render = BookExporter.from_notebook_node
    rendered = []

    def disk_full_on_the_second_page(self, notebook, **arguments):
        rendered.append(notebook)
        if len(rendered) == 2:
            raise OSError(28, "No space left on device")
        return render(self, notebook, **arguments)

    monkeypatch.setattr(BookExporter, "from_notebook_node", disk_full_on_the_second_page)
    with pytest.raises(OSError, match="No space left on device"):
        build_book(
            [small_notebook(tmp_path, "02_second", "Second"), small_notebook(tmp_path, "03_third", "Third")], out
        )
    assert len(rendered) == 2
    assert files_of(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".book.lock",
        "01_first.ipynb",
        "02_second.ipynb",
        "03_third.ipynb",
        "book",
    ]


def test_a_second_build_into_the_same_folder_is_refused_at_once(tmp_path):
    fcntl = pytest.importorskip("fcntl")  # where it is missing (Windows), book folders are not locked
    out = tmp_path / "book"
    notebook = small_notebook(tmp_path, "01_small", "Small")
    build_book([notebook], out)
    before = files_of(out)
    with open(tmp_path / ".book.lock", "a") as lock_file:  # as a build in another process holds it
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(
            RuntimeError, match=f"^another book build is writing {re.escape(str(out))}: wait for it to finish$"
        ):
            build_book([notebook], out)
    assert files_of(out) == before
    assert build_book([notebook], out)[1].is_file()  # once the lock is released


def test_the_book_command_refuses_a_folder_of_other_files_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("course.notebooks.course_notebooks", lambda: [small_notebook(tmp_path, "01_small", "Small")])
    out = tmp_path / "mine"
    before = users_folder(out)
    assert main(["book", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {out} holds files and is not a book the course built") and error.count("\n") == 1
    assert files_of(out) == before
