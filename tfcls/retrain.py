"""``python -m tfcls.retrain``: the retrain command (:mod:`tfcls.cli.retrain`).

This module only runs the command; importing it is an error, so that ``tfcls.retrain`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.retrain is the `python -m tfcls.retrain` command; in code use the library "
        "(tfcls.retrain(...) or the tfcls.cli.retrain module)"
    )

from tfcls.cli import command

sys.exit(command("retrain", sys.argv[1:]))
