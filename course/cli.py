"""The course's command line: `python -m course <command>`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course.scale import SCALES, resolve_scale


def command_data(args: argparse.Namespace) -> int:
    """Find (or download) and verify every dataset the course uses."""
    from course.checkup import data_report

    lines = data_report(download=not args.no_download)
    for line in lines:
        print(line, file=sys.stderr if "PROBLEM" in line else sys.stdout)
    return 1 if any("PROBLEM" in line for line in lines) else 0


def command_check(args: argparse.Namespace) -> int:
    """Print the environment report of notebook 00."""
    from course.checkup import report

    report()
    return 0


def command_run_notebooks(args: argparse.Namespace) -> int:
    """Execute notebooks headless at a scale, saving their outputs in place."""
    from nbclient.exceptions import CellExecutionError

    from course.notebooks import course_notebooks, run_notebook

    scale = resolve_scale(args.scale)
    paths = [Path(p) for p in args.notebooks] or course_notebooks()
    missing = [str(path) for path in paths if not path.is_file()]
    if not paths or missing:
        print(f"error: no such notebook: {', '.join(missing) or 'none in notebooks/'}", file=sys.stderr)
        return 1
    total = 0.0
    for path in paths:
        print(f"running {path.name} at scale {scale} ...", flush=True)
        try:
            seconds = run_notebook(path, scale)
        except CellExecutionError as error:
            print(f"error: {path.name} failed at scale {scale} (left unchanged on disk):\n{error}", file=sys.stderr)
            return 1
        total += seconds
        print(f"  done in {seconds:.1f} s", flush=True)
    noun = "notebook" if len(paths) == 1 else "notebooks"
    print(f"{len(paths)} {noun} in {total:.1f} s at scale {scale}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="find or download, and verify, the course's datasets")
    data.add_argument("--no-download", action="store_true", help="only look for local copies")
    data.set_defaults(run=command_data)

    check = commands.add_parser("check", help="is this machine ready? versions, device, scale, data")
    check.set_defaults(run=command_check)

    run = commands.add_parser("run-notebooks", help="execute notebooks headless, saving outputs in place")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in course order)")
    run.add_argument("--scale", choices=SCALES, default=None, help="default: COURSE_SCALE, else by device")
    run.set_defaults(run=command_run_notebooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
