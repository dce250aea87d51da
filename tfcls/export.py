"""``python -m tfcls.export``: the export command (:mod:`tfcls.cli.export`).

This module only runs the command; importing it is an error, so that ``tfcls.export`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.export is the `python -m tfcls.export` command; in code use the library "
        "(tfcls.export(...) or the tfcls.cli.export module)"
    )

from tfcls.cli import command

sys.exit(command("export", sys.argv[1:]))
