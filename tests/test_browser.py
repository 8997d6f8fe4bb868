"""The course in a real browser: JupyterLab runs notebook 00 with a live progress bar, and the HTML edition reads well.

Headless Chromium is driven by Selenium through Debian's chromium-driver, which is built from the same
source as Debian's chromium, so the two always agree on a version and nothing is downloaded while the
tests run (`./course.sh test` installs both packages where it can). Elsewhere these tests skip.
Screenshots go to the run folder `browser`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import nbformat
import pytest
from paths import ROOT

from course.runs import run_folder

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 120  # seconds for anything to appear: generous for a busy machine, short for a hung one

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(webdriver is None, reason="selenium is not installed (it is in the course's test extra)"),
    pytest.mark.skipif(
        not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
        reason=(
            "no chromium and chromium-driver here: "
            "./course.sh test installs them on Debian (apt-get install chromium chromium-driver)"
        ),
    ),
]

# A last cell for the copy of notebook 00: one progress bar from the course's own helper.
PROGRESS_CELL = "from course.progress import tqdm\n\nfor _ in tqdm(range(20), desc='a live bar'):\n    pass"


def wait_for(driver, condition, what: str, seconds: float = WAIT):
    """The result of `condition(driver)` once it is truthy; a failure that names `what` did not appear."""
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.25).until(condition)
    except TimeoutException:
        raise AssertionError(f"after {seconds} s in the browser: {what} did not appear") from None


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, with its console log kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab as `./course.sh lab` starts it, on a cleared copy of notebook 00 with a progress bar cell added.

    A copy, as JupyterLab autosaves. Loopback address, a free port, a token of its own, settings of its own (no news to
    ask about, the notebook's kernel started without asking), and the environment a learner has: no COURSE_PROGRESS, so
    bars are widgets. Yields (address, token, notebook folder).
    """
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    for cell in notebook.cells:  # no outputs from the committed run, so every count and output seen is from this one
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cell = nbformat.v4.new_code_cell(PROGRESS_CELL)
    del cell["id"]  # the course's notebooks are format 4.4, whose cells have none
    notebook.cells.append(cell)
    nbformat.write(notebook, folder / "00_welcome.ipynb")
    settings = tmp_path_factory.mktemp("lab-settings")
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {
            "autoStartDefaultKernel": True
        },  # else a kernel dialog may come up while the page loads
    }.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), os.urandom(16).hex()
    environment = {name: value for name, value in os.environ.items() if name != "COURSE_PROGRESS"}
    environment |= {
        "COURSE_SCALE": "smoke",
        "COURSE_RUNS_DIR": str(tmp_path_factory.mktemp("lab-runs")),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--notebook-dir={folder}",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
    ]
    command += [
        f"--IdentityProvider.token={token}",
        "--no-browser",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={settings}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (
        tmp_path_factory.mktemp("lab-log") / "jupyterlab.log"
    )  # not beside the notebook, where the file browser would list it
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            command, env=environment, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(f"{address}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"JupyterLab did not start on {address}; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield address, token, folder
    finally:
        server.send_signal(signal.SIGTERM)  # it shuts its kernels down first
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def click_menu(driver, menu: str, command: str) -> None:
    """Open a menu of the menu bar by its label and click its entry for a JupyterLab command."""
    label = f"//li[contains(@class, 'lm-MenuBar-item')][.//div[normalize-space()='{menu}']]"
    wait_for(driver, lambda d: d.find_element(By.XPATH, label), f"the {menu} menu").click()
    wait_for(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, f".lm-Menu li[data-command='{command}']"),
        f"the {menu} menu's {command}",
    ).click()


def test_jupyterlab_runs_notebook_00_in_a_browser_with_a_live_progress_bar(browser, jupyterlab):
    address, token, folder = jupyterlab
    browser.get(f"{address}/lab/tree/00_welcome.ipynb?token={token}")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell"), "notebook 00's cells")
    wait_for(
        browser, lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget").text, "an idle kernel"
    )
    assert not browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog"), (
        f"a dialog is open: {browser.find_element(By.CSS_SELECTOR, '.jp-Dialog').text}"
    )

    click_menu(browser, "Run", "runmenu:run-all")

    def prompts(driver) -> list[str]:
        return [
            p.get_attribute("textContent").strip()
            for p in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputArea-prompt")
        ]

    code_cells = sum(
        cell.cell_type == "code" for cell in nbformat.read(folder / "00_welcome.ipynb", as_version=4).cells
    )
    try:
        wait_for(
            browser,
            lambda d: (found := prompts(d)) and len(found) == code_cells and all(p[1:-2].isdigit() for p in found),
            "a count on every cell",
        )
    except AssertionError as error:
        browser.save_screenshot(str(run_folder("browser") / "jupyterlab-failed.png"))
        stderr = [
            o.text[-500:]
            for o in browser.find_elements(
                By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
        ]
        raise AssertionError(
            f"{error}; the cells' prompts: {prompts(browser)}; their error and warning outputs: {stderr}"
        ) from None

    bar = wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea .widget-hprogress"),
        "the progress bar widget",
    )[0]
    label = bar.find_element(By.XPATH, "..").text.replace(
        "\u2007", " "
    )  # tqdm pads its widget's text with figure spaces
    assert "a live bar: 100%" in label and "20/20" in label, f"the bar reads {label!r}"
    report = wait_for(
        browser,
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output") if "torch:" in o.text],
        "the environment report",
    )[0]
    assert "python:" in report.text and "tqdm:" in report.text

    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", bar)
    shots = run_folder("browser")
    bar.find_element(By.XPATH, "ancestor::div[contains(@class, 'jp-Cell')]").screenshot(
        str(shots / "jupyterlab-progress-bar.png")
    )
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'start'});",
        report.find_element(By.XPATH, "ancestor::div[contains(@class, 'jp-Cell')]"),
    )
    assert browser.save_screenshot(str(shots / "jupyterlab-notebook-00.png"))

    click_menu(browser, "File", "docmanager:save")  # the copy as it now stands, outputs and all, to check each one

    def saved_code_cells(_) -> list:
        code = [
            cell for cell in nbformat.read(folder / "00_welcome.ipynb", as_version=4).cells if cell.cell_type == "code"
        ]
        return code if all(cell.execution_count for cell in code) else []

    code = wait_for(browser, saved_code_cells, "the notebook saved with every cell run")
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert not errors, f"error outputs: {[(e.ename, e.evalue) for e in errors]}"
    widgets = [
        output for output in code[-1].outputs if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert widgets, f"the progress bar was saved as {code[-1].outputs}, not as a widget"


# After MathJax has typeset a page (or at once, where a page has no MathJax): what the browser shows of it.
PAGE_STATE = """
const done = arguments[arguments.length - 1];
const report = () => {
  // The text around the code: no code, no outputs, no TeX kept for MathJax.
  const prose = document.body.cloneNode(true);
  prose.querySelectorAll("code, pre, script, .jp-InputArea, .jp-OutputArea").forEach(element => element.remove());
  done({
    typeset: document.querySelectorAll(".MathJax, .MathJax_Display").length,
    mathErrors: document.querySelectorAll(".MathJax_Error, .merror").length,
    brokenImages: Array.from(document.images)
      .filter(image => !image.complete || image.naturalWidth === 0)
      .map(image => image.src.slice(0, 80)),
    images: document.images.length,
    prose: prose.innerText,
    links: Array.from(document.links).map(link => link.href),
  });
};
if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(report); else report();
"""


def test_every_page_of_the_book_shows_its_figures_and_formulas_with_no_console_error(browser, book):
    browser.set_script_timeout(WAIT)
    pages = {page.resolve().as_uri(): page for page in book}
    for page in book:
        browser.get(page.resolve().as_uri())
        state = browser.execute_async_script(PAGE_STATE)
        console = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not console, f"{page.name}: errors in the browser's console: {console}"
        assert not state["brokenImages"], f"{page.name}: images that did not load: {state['brokenImages']}"
        figures = page.read_text(encoding="utf-8").count("<img ")
        assert state["images"] == figures, (
            f"{page.name}: {state['images']} images in the browser, {figures} in the file"
        )
        raw = re.findall(r"\$[^$\n]{1,80}\$", state["prose"])
        assert not raw, f"{page.name}: maths left as TeX: {raw[:3]}"
        assert state["mathErrors"] == 0, f"{page.name}: MathJax could not typeset {state['mathErrors']} formulas"
        if "$" in page.read_text(encoding="utf-8").split("</head>", 1)[1]:  # TeX in the page's body: it must be typeset
            assert state["typeset"] > 0, f"{page.name}: its formulas were not typeset"
        for link in state["links"]:
            address, _, anchor = link.partition("#")
            if not address.startswith("file:"):
                continue  # a hyperlink out of the book, which the book does not need
            assert address in pages, f"{page.name} links to {link}, which is not a page of the book"
            if anchor and address == page.resolve().as_uri():
                # as a browser looks for it: the fragment as written, then decoded
                found = browser.find_elements(By.ID, anchor) or browser.find_elements(
                    By.ID, urllib.parse.unquote(anchor)
                )
                assert found, f"{page.name}: its link to #{anchor} leads nowhere"


def test_the_book_reads_in_order_by_its_next_links_and_back(browser, book):
    browser.get(book[0].resolve().as_uri())
    for page in book[1:]:
        wait_for(
            browser,
            lambda d: d.find_element(By.CSS_SELECTOR, "a[rel='next']"),
            f"a link to the next page on the one before {page.name}",
        ).click()
        address = page.resolve().as_uri()
        wait_for(
            browser,
            lambda d, address=address: d.current_url == address,
            f"{page.name} after its previous page's next link",
        )
    assert not browser.find_elements(By.CSS_SELECTOR, "a[rel='next']"), "the last page links to a next one"
    browser.find_element(By.CSS_SELECTOR, "a[rel='prev']").click()
    wait_for(
        browser,
        lambda d: d.current_url == book[-2].resolve().as_uri(),
        f"{book[-2].name} by the last page's previous link",
    )
    browser.find_element(By.LINK_TEXT, "Contents").click()
    wait_for(browser, lambda d: d.current_url == book[0].resolve().as_uri(), "the contents by a page's contents link")

    chapter = next(page for page in book if page.name.startswith("05_"))  # formulas and figures together
    browser.get(chapter.resolve().as_uri())
    browser.execute_async_script(PAGE_STATE)
    formula = wait_for(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".MathJax_Display"), f"a typeset formula on {chapter.name}"
    )[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", formula)
    assert browser.save_screenshot(str(run_folder("browser") / f"book-{chapter.stem}.png"))
