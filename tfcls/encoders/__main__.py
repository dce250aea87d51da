"""``python -m tfcls.encoders``: the encoders command (:mod:`tfcls.cli.encoders`)."""

import sys

from tfcls.cli import command

sys.exit(command("encoders", sys.argv[1:]))
