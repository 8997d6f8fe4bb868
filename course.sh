#!/usr/bin/env bash
# The course's commands. Each sets up everything first (virtual environment, packages, data).
#   ./course.sh lab               open the course in JupyterLab
#   ./course.sh lab --headless    run every notebook top to bottom instead, at COURSE_SCALE
#   ./course.sh lab --workbook    open the workbook instead, where you write the pieces (built first if missing)
#   ./course.sh test [OPTIONS]    every test: unit tests, browser tests (headless Chromium) and pytest --nbval over
#                                 every notebook at the smoke scale, on every core (pytest OPTIONS pass through, e.g. -k gan)
#   ./course.sh test --quick [OPTIONS]   the unit tests alone, without the slow ones (under a minute): while editing
#   ./course.sh classroom [--with-gans]   before a workshop: set up, then save the notebooks' long runs
#   ./course.sh book [--out DIR]  render the notebooks as committed into an HTML book that reads offline (default build/book)
#   ./course.sh workbook [--out DIR]  build the learner's edition, with the pieces to write left blank (default workbook/)
# Settings (environment variables): PYTHON (default python3), VENV (default .venv), PORT (default 8888),
# COURSE_SCALE (smoke, laptop or full), TORCH_SPEC (e.g. torch==2.13.0 to pin a particular torch build),
# TEST_WORKERS (processes for the tests; default: one per core; 0: all in one process).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
PORT=${PORT:-8888}
TORCH_SPEC=${TORCH_SPEC:-}

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

  if [ ! -d /usr/share/datasets/fashion-mnist ] && [ ! -d data/fashion-mnist ]; then
    say "Fashion-MNIST: installing Debian's package dataset-fashion-mnist"
    apt_install dataset-fashion-mnist && echo "installed" ||
      echo "not possible here (not Debian, or no root); the data step below downloads the files instead"
  fi

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

  say "Checking the data"
  "$VENV/bin/python" -m course data
}

case "${1:-}" in
  lab)
    setup
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
    say "Opening the course ($folder/): JupyterLab on port $PORT (Ctrl-C to stop)"
    exec "$VENV/bin/jupyter" lab --notebook-dir="$folder" --port="$PORT" "${root[@]}"
    ;;
  test)
    setup
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
    say "Preparing for a workshop at scale ${COURSE_SCALE:-(default for this device)}"
    exec "$VENV/bin/python" -m course prepare "${@:2}"
    ;;
  book)
    setup
    say "Rendering the notebooks, with their committed outputs, as a book"
    exec "$VENV/bin/python" -m course book "${@:2}"
    ;;
  workbook)
    setup
    say "Building the workbook: the notebooks with the networks, losses and loops left for you to write"
    exec "$VENV/bin/python" -m course workbook "${@:2}"
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
