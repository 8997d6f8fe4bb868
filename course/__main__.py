"""`python -m course ...`: see course/cli.py."""

import sys

from course.cli import main

sys.exit(main())
