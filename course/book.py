"""The course as a book: the executed notebooks as static HTML pages, with a table of contents, that read offline.

Each page is rendered by nbconvert from the notebook's committed outputs (nothing is run). Every script, style and
font a page loads lies in the book's static/ folder: JupyterLab's stylesheets and MathJax, copied from their packages.

A book folder is the course's: it holds the marker file .course-book, and each build replaces it whole
(`course.built_folders`): a failure or Ctrl-C leaves the old one as it was, a folder of other files is refused, and a
second build into the same folder at once is refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from nbconvert import HTMLExporter

from course.built_folders import build_folder, require_notebooks, require_output_folder
from course.notebooks import read_notebook

BOOK_TITLE = "Dreaming up dresses"
INDEX_PAGE = "index.html"
STATIC = "static"  # the folder of files every page shares
STYLESHEET = f"{STATIC}/book.css"
MATHJAX = f"{STATIC}/mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
MARKER = ".course-book"  # the file that makes a folder a book the course built, which each build replaces whole
MARKER_TEXT = (
    "This folder is a book built by the course (python -m course book). "
    "Each build replaces the whole folder: keep nothing else in it.\n"
)
TEMPLATES = Path(__file__).parent / "book_template"  # nbconvert finds the template "book" in here
# The parts of MathJax the pages use: TeX in, HTML-CSS out with its STIX web fonts, and the extensions TeX loads as a
# formula needs them. Left out: the SVG output, the menu's translations and the accessibility extensions (3.2 MB
# together), which the pages' MathJax settings do not offer.
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
OUTPUT_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "text/latex",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/plain",
]


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


def require_inputs(notebooks: list[Path], out: Path) -> None:
    """Fail before writing anything when the notebooks or the output folder will not do."""
    require_notebooks(notebooks, "book", lambda path: f"the page {path.stem}.html")
    if Path(INDEX_PAGE).stem in [path.stem for path in notebooks]:
        raise ValueError(
            f"a notebook named {INDEX_PAGE.replace('.html', '.ipynb')} would overwrite the table of contents: rename it"
        )
    require_output_folder(out, MARKER, "book")


def copy_static_files(exporter: BookExporter, folder: Path) -> None:
    """Write the shared folder of a new book: one stylesheet and MathJax.

    The stylesheet is JupyterLab's light theme, then the book's own rules.
    """
    static = folder / STATIC
    static.mkdir()
    environment = exporter.environment
    lab_css = [
        environment.loader.get_source(environment, name)[0] for name in ("static/index.css", "static/theme-light.css")
    ]
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
    lines = [
        f"# {BOOK_TITLE}",
        "",
        "A hands-on deep learning course, as run: each chapter is one notebook with its outputs.",
        "",
    ]
    lines += [f"- [{title}]({href})" for title, href in chapters]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("\n".join(lines))])


def render_book(read: list[nbformat.NotebookNode], notebooks: list[Path], folder: Path) -> list[str]:
    """Write the static files and every page into the new folder; return the pages' names, contents first."""
    exporter = BookExporter(
        template_name="book",
        extra_template_basedirs=[str(TEMPLATES)],
        mathjax_url=f"{MATHJAX}/MathJax.js?config={MATHJAX_CONFIG}",
    )
    copy_static_files(exporter, folder)

    titles = [BOOK_TITLE] + [
        notebook_title(notebook, path.stem) for notebook, path in zip(read, notebooks, strict=True)
    ]
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


def build_book(notebooks: list[Path], out: Path) -> list[Path]:
    """Render the notebooks, in the order given, as the book at `out`; return its pages, under `out`, contents first.

    `out` must be missing, empty, or a book the course built; it is replaced whole
    (`course.built_folders.build_folder`).
    """
    notebooks, out = [Path(path) for path in notebooks], Path(out)
    require_inputs(notebooks, out)
    read = [read_notebook(path) for path in notebooks]  # every notebook readable before anything is written
    return build_folder(out, MARKER, MARKER_TEXT, "book", lambda folder: render_book(read, notebooks, folder))
