"""``python -m tfcls.evaluate``: the evaluate command (:mod:`tfcls.cli.evaluate`).

This module only runs the command; importing it is an error, so that ``tfcls.evaluate`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.evaluate is the `python -m tfcls.evaluate` command; in code use the library "
        "(tfcls.evaluate(...) or the tfcls.cli.evaluate module)"
    )

from tfcls.cli import command

sys.exit(command("evaluate", sys.argv[1:]))
