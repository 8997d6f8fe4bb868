"""`python -m course ...`: see course/cli.py."""

import sys

try:
    from course.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C while Python and PyTorch are still loading, before a command has started
    print("stopped: interrupted (Ctrl-C) while starting.", file=sys.stderr)
    code = 130
sys.exit(code)
