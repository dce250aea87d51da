"""``python -m tfcls.bench``: the bench command (:mod:`tfcls.cli.bench`)."""

import sys

from tfcls.cli import command

sys.exit(command("bench", sys.argv[1:]))
