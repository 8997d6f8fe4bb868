#!/usr/bin/env bash
# The course's commands: `./course.sh help` lists them (the text is usage() below).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
PORT=${PORT:-8888}
TORCH_SPEC=${TORCH_SPEC:-}

usage() {
  cat <<'EOF'
Usage: ./course.sh COMMAND [OPTIONS]

Each command sets up what it needs first: a virtual environment with the course and its packages, and for
lab, test and classroom the data, found or downloaded and checked. Set-up is skipped when nothing changed.

  lab                       open the course in JupyterLab
  lab --headless            run every notebook top to bottom instead, at COURSE_SCALE
  lab --workbook            open the workbook instead, where you write the pieces (built first if missing)
  test [OPTIONS]            every test: unit tests, browser tests (headless Chromium) and every notebook at the
                            smoke scale, on every core. Run it before a commit or a pull request; CI runs it
  test --quick [OPTIONS]    the unit tests alone, without the slow, browser, install and notebook ones (under a
                            minute): while editing. OPTIONS go to pytest, e.g. -k gan -x
  classroom [--with-gans]   before a workshop: set up, then save the notebooks' long runs
  book [--out DIR]          render the notebooks as committed into an HTML book that reads offline (default build/book)
  workbook [--out DIR]      build the learner's edition, with the pieces to write left blank (default workbook/)
  help                      this text (also -h or --help)

Settings (environment variables): PYTHON (default python3), VENV (default .venv), PORT (default 8888),
COURSE_SCALE (smoke, laptop or full), TORCH_SPEC (e.g. torch==2.13.0 to pin a particular torch build),
TEST_WORKERS (processes for the tests; default: one per core; 0: all in one process).
EOF
}

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

# Run a Debian package install when this machine allows it (root, or sudo without a password).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null 2>&1 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

setup() {
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3.11 or newer (on Debian: apt-get install python3)."
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "the course needs Python 3.11 or newer (3.10 reached its end of life in October 2026); $PYTHON is $("$PYTHON" --version 2>&1)."

  if [ ! -x "$VENV/bin/python" ]; then
    # Only a folder this script makes (or an empty one) becomes the environment, so a failed attempt removes only what it made.
    if [ -e "$VENV" ] && { [ ! -d "$VENV" ] || [ -n "$(ls -A "$VENV")" ]; }; then
      die "VENV is $VENV, which exists and is not a virtual environment: set VENV to a new folder's name, or move $VENV away yourself."
    fi
    say "Creating the virtual environment $VENV"
    made_venv_folder=no; [ -e "$VENV" ] || made_venv_folder=yes
    mkdir -p "$VENV"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
      find "$VENV" -mindepth 1 -delete  # what the failed attempt wrote: the folder was empty or new
      version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      echo "Python's venv module is missing: installing Debian's package python$version-venv"
      if ! { apt_install "python$version-venv" && "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; }; then
        find "$VENV" -mindepth 1 -delete
        [ "$made_venv_folder" = no ] || rmdir "$VENV"
        die "could not create a virtual environment: on Debian or Ubuntu run 'sudo apt-get install python3-venv'."
      fi
    fi
    # The pip that comes with Python can be years old; a current one resolves the course's packages in half the time.
    "$VENV/bin/python" -m pip install -qq --disable-pip-version-check --upgrade pip
  fi

  stamp="$VENV/.course-installed"
  want="$(cksum < pyproject.toml) torch:${TORCH_SPEC:-any}"  # cksum is POSIX: Linux and macOS alike
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing the course and its dependencies into $VENV"
    # -qq prints errors only. pip byte-compiles one file at a time; compileall afterwards uses every core and skips the
    # packages' own test suites, which nothing imports (files it cannot compile are templates for other Pythons, and harmless).
    "$VENV/bin/python" -m pip install -qq --disable-pip-version-check --no-compile $TORCH_SPEC -e '.[test]'
    "$VENV/bin/python" -m compileall -q -j 0 -x '/tests?/' "$VENV/lib" >/dev/null 2>&1 || true
    echo "$want" > "$stamp"
  fi
}

# For lab, test and classroom: the data found (Debian's package where it can be installed), or downloaded, and
# checked; stops with what is wrong when they cannot be had.
setup_data() {
  if [ ! -d /usr/share/datasets/fashion-mnist ] && [ ! -d data/fashion-mnist ]; then
    say "Fashion-MNIST: installing Debian's package dataset-fashion-mnist"
    apt_install dataset-fashion-mnist && echo "installed" ||
      echo "not possible here (not Debian, or no root); the data step below downloads the files instead"
  fi
  say "Checking the data"
  "$VENV/bin/python" -m course data
}

# For book and workbook, which do not read the data: say what is missing, download nothing, go on.
mention_missing_data() {
  local problems
  problems=$("$VENV/bin/python" -m course data --no-download 2>&1 >/dev/null) && return 0
  say "Not all of the data are here. $1 does not need them; the lessons do, and './course.sh lab' fetches them:"
  printf '%s\n' "$problems"
}

# JupyterLab's settings for the course: defaults overridden in this environment's own settings folder (JupyterLab
# reads share/jupyter/lab/settings/overrides.json under its prefix). Jupyter's news are never fetched, so no pop-up
# asks about them (and the check for a newer JupyterLab, which needs the news, stays off).
lab_settings() {
  local folder="$VENV/share/jupyter/lab/settings"
  mkdir -p "$folder"
  cat > "$folder/overrides.json" <<'EOF'
{
  "@jupyterlab/apputils-extension:notification": {
    "fetchNews": "false"
  }
}
EOF
}

case "${1:-}" in
  help | -h | --help)
    usage
    ;;
  lab)
    setup
    setup_data
    if [ "${2:-}" = "--headless" ]; then
      say "Running every notebook at scale ${COURSE_SCALE:-(default for this device)}"
      exec "$VENV/bin/python" -m course run-notebooks
    fi
    root=(); [ "$(id -u)" = 0 ] && root=(--allow-root)
    folder=notebooks
    if [ "${2:-}" = "--workbook" ]; then
      folder=workbook
      [ -d workbook ] || "$VENV/bin/python" -m course workbook
    fi
    lab_settings
    say "Opening the course ($folder/): JupyterLab on port $PORT (Ctrl-C to stop)"
    exec "$VENV/bin/jupyter" lab --notebook-dir="$folder" --port="$PORT" "${root[@]}"
    ;;
  test)
    setup
    setup_data
    workers=${TEST_WORKERS:-auto}
    if [ "${2:-}" = "--quick" ]; then
      say "Running the unit tests on ${workers/auto/every core}: not the slow ones, the browser, the install or the notebooks"
      exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadfile --durations=10 \
        -m "not slow and not browser and not install and not notebooks" "${@:3}" tests
    fi
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
      say "The browser tests' Chromium: installing Debian's packages chromium and chromium-driver"
      apt_install chromium chromium-driver && echo "installed" ||
        echo "not possible here (not Debian, or no root): the browser tests skip"
    fi
    say "Running the tests on ${workers/auto/every core}: every notebook at the smoke scale, and the unit tests"
    # --dist loadfile keeps each notebook's cells on one worker, in one kernel; the ten slowest tests close the report.
    COURSE_SCALE=smoke exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadfile --durations=10 \
      --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg "${@:2}" tests notebooks
    ;;
  classroom)
    setup
    setup_data
    say "Preparing for a workshop at scale ${COURSE_SCALE:-(default for this device)}"
    exec "$VENV/bin/python" -m course prepare "${@:2}"
    ;;
  book)
    setup
    mention_missing_data "The book"
    say "Rendering the notebooks, with their committed outputs, as a book"
    exec "$VENV/bin/python" -m course book "${@:2}"
    ;;
  workbook)
    setup
    mention_missing_data "The workbook"
    say "Building the workbook: the notebooks with the networks, losses and loops left for you to write"
    exec "$VENV/bin/python" -m course workbook "${@:2}"
    ;;
  "")
    printf 'error: no command given\n\n' >&2
    usage >&2
    exit 2
    ;;
  *)
    printf "error: '%s' is not a command of course.sh\n\n" "$1" >&2
    usage >&2
    exit 2
    ;;
esac
