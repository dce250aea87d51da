"""``python -m tfcls.feedback export|backup``: the feedback command (:mod:`tfcls.cli.feedback`)."""

import sys

from tfcls.cli import command

sys.exit(command("feedback", sys.argv[1:]))
