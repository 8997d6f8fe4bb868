"""The course as a book: the executed notebooks as static HTML pages, with a table of contents, that read offline.

Each page is rendered by nbconvert from the notebook's committed outputs (nothing is run). Every script, style and
font a page loads lies in the book's static/ folder: JupyterLab's stylesheets and MathJax, copied from their packages.

A book folder is the course's: it holds the marker file .course-book, and each build replaces it whole. The book is
rendered into a hidden folder beside it, then swapped in by renaming, so a failure or Ctrl-C leaves the old one as it
was; a folder of other files is refused, and a lock file beside the folder refuses a second build into it at once.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from nbconvert import HTMLExporter

from course.notebooks import read_notebook

try:
    import fcntl  # Linux and macOS; where it is missing, book folders are not locked
except ImportError:
    fcntl = None

BOOK_TITLE = "Dreaming up dresses"
INDEX_PAGE = "index.html"
STATIC = "static"  # the folder of files every page shares
STYLESHEET = f"{STATIC}/book.css"
MATHJAX = f"{STATIC}/mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
MARKER = ".course-book"  # the file that makes a folder a book the course built, which each build replaces whole
MARKER_TEXT = "This folder is a book built by the course (python -m course book). Each build replaces the whole folder: keep nothing else in it.\n"
TEMPORARY_KINDS = ("building", "old")  # the hidden folders beside a book while it is built: .NAME.building-XXXXXXXX, .NAME.old-XXXXXXXX
TEMPLATES = Path(__file__).parent / "book_template"  # nbconvert finds the template "book" in here
# The parts of MathJax the pages use: TeX in, HTML-CSS out with its STIX web fonts, and the extensions TeX loads as a
# formula needs them. Left out: the SVG output, the menu's translations and the accessibility extensions (3.2 MB together),
# which the pages' MathJax settings do not offer.
MATHJAX_PARTS = (
    "MathJax.js",
    f"config/{MATHJAX_CONFIG}.js",
    "jax/input/TeX",
    "jax/output/HTML-CSS",
    "jax/element",
    "fonts/HTML-CSS/STIX-Web",
    "extensions",
)
MATHJAX_LEFT_OUT = ("a11y",)
# The outputs a page shows, best first. Scripts and widgets are left out (they would need code from a network): such an
# output shows as its text.
OUTPUT_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "text/latex", "image/png", "image/jpeg", "image/gif", "text/plain"]


class BookBuildRunning(RuntimeError):
    """Another book build holds the lock of the folder."""


class BookExporter(HTMLExporter):
    """nbconvert's HTML exporter, showing the outputs of OUTPUT_PRIORITY only."""

    @property
    def default_config(self):
        config = super().default_config
        config.NbConvertBase.display_data_priority = OUTPUT_PRIORITY
        return config


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first heading, or the fallback when it has none."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def check_inputs(notebooks: list[Path], out: Path) -> None:
    """Fail before writing anything when the notebooks or the output folder will not do."""
    if not notebooks:
        raise ValueError("no notebooks to build the book from: give at least one .ipynb file")
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}; give the paths of .ipynb files")
    names = [path.stem for path in notebooks]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"two notebooks would both be the page {repeated[0]}.html: give each notebook once, with distinct names")
    if Path(INDEX_PAGE).stem in names:
        raise ValueError(f"a notebook named {INDEX_PAGE.replace('.html', '.ipynb')} would overwrite the table of contents: rename it")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a folder: choose another output folder, or move the file away")
    check_output_folder(out)


def check_output_folder(out: Path) -> None:
    """Refuse a folder that holds files and is not a book the course built, and one this process runs in: a build replaces it."""
    if not out.is_dir():
        return
    if not (out / MARKER).is_file() and any(out.iterdir()):
        raise FileExistsError(f"{out} holds files and is not a book the course built (it has no {MARKER}), and a build would replace it: "
                              "choose another --out, or empty or remove that folder yourself")  # fmt: skip
    folder, here = out.resolve(), Path.cwd()
    if folder == here or folder in here.parents:
        raise ValueError(f"{out} holds the folder this command runs in, and a build replaces it whole: run the command from another folder")


def copy_static_files(exporter: BookExporter, folder: Path) -> None:
    """Write the shared folder of a new book: one stylesheet (JupyterLab's light theme, then the book's own rules) and MathJax."""
    static = folder / STATIC
    static.mkdir()
    environment = exporter.environment
    lab_css = [environment.loader.get_source(environment, name)[0] for name in ("static/index.css", "static/theme-light.css")]
    book_css = (TEMPLATES / "book" / "book.css").read_text(encoding="utf-8")
    (folder / STYLESHEET).write_text("\n".join([*lab_css, book_css]), encoding="utf-8")

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = folder / MATHJAX
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, ignore=shutil.ignore_patterns(*MATHJAX_LEFT_OUT))
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / part, target / part)


def contents_notebook(chapters: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """The table of contents as a one-cell notebook, so that it renders like every other page."""
    lines = [f"# {BOOK_TITLE}", "", "A hands-on deep learning course, as run: each chapter is one notebook with its outputs.", ""]
    lines += [f"- [{title}]({href})" for title, href in chapters]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("\n".join(lines))])


def render_book(read: list[nbformat.NotebookNode], notebooks: list[Path], folder: Path) -> list[str]:
    """Write the marker, the static files and every page into the new, empty folder; return the pages' names, contents first."""
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    exporter = BookExporter(template_name="book", extra_template_basedirs=[str(TEMPLATES)], mathjax_url=f"{MATHJAX}/MathJax.js?config={MATHJAX_CONFIG}")
    copy_static_files(exporter, folder)

    titles = [BOOK_TITLE] + [notebook_title(notebook, path.stem) for notebook, path in zip(read, notebooks, strict=True)]
    pages = [INDEX_PAGE] + [f"{path.stem}.html" for path in notebooks]
    chapters = list(zip(titles[1:], pages[1:], strict=True))
    for number, (notebook, page) in enumerate(zip([contents_notebook(chapters), *read], pages, strict=True)):
        book = {
            "stylesheet": STYLESHEET,
            "contents": INDEX_PAGE if number else None,
            "previous": {"href": pages[number - 1], "title": titles[number - 1]} if number else None,
            "next": {"href": pages[number + 1], "title": titles[number + 1]} if number + 1 < len(pages) else None,
        }
        html, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": titles[number]}, "book": book})
        (folder / page).write_text(html, encoding="utf-8")
    return pages


def temporary_folder(folder: Path, kind: str) -> Path:
    """A new hidden name beside the book's folder, for a book being built or an old one on its way out (kind: TEMPORARY_KINDS)."""
    return folder.parent / f".{folder.name}.{kind}-{secrets.token_hex(4)}"


def remove_leftovers(folder: Path) -> None:
    """Remove the hidden folders a killed build into `folder` left beside it: only ours (marked, or empty), only under the lock."""
    for kind in TEMPORARY_KINDS:
        for leftover in folder.parent.glob(f".{glob.escape(folder.name)}.{kind}-{'?' * 8}"):
            if leftover.is_dir() and not leftover.is_symlink() and ((leftover / MARKER).is_file() or not any(leftover.iterdir())):
                shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def build_lock(folder: Path, out: Path):
    """Hold the lock file beside the book's folder (.NAME.lock, left in place) for one build; a second build is refused at once."""
    if fcntl is None:
        yield
        return
    with open(folder.parent / f".{folder.name}.lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BookBuildRunning(f"another book build is writing {out}: wait for it to finish") from None
        yield  # the lock goes with the file, when it closes or the process ends


def swap_in(building: Path, folder: Path) -> None:
    """Put the built book at `folder` by renaming; an old book (or empty folder) there is renamed aside first, then removed."""
    if not folder.exists():
        os.rename(building, folder)
        return
    old = temporary_folder(folder, "old")
    os.rename(folder, old)
    try:
        os.rename(building, folder)
    except BaseException:
        os.rename(old, folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_book(notebooks: list[Path], out: Path) -> list[Path]:
    """Render the notebooks, in the order given, as the book at `out`; return its pages, under `out`, contents first.

    `out` must be missing, empty, or a book the course built. The book is rendered into a hidden folder beside it and
    then swapped in whole; on any failure or interruption that folder is removed and `out` is left as it was. A lock
    file beside `out` refuses a second build into it while this one runs.
    """
    notebooks, out = [Path(path) for path in notebooks], Path(out)
    check_inputs(notebooks, out)
    read = [read_notebook(path) for path in notebooks]  # every notebook readable before anything is written
    folder = out.resolve()  # the folder to replace, through any symbolic link
    folder.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(folder, out):
        check_output_folder(out)  # again, now that no other build can change it
        if fcntl is not None:  # only under a lock is no other build using them
            remove_leftovers(folder)
        building = temporary_folder(folder, "building")
        building.mkdir()
        try:
            pages = render_book(read, notebooks, building)
            swap_in(building, folder)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return [out / page for page in pages]
