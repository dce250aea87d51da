"""``python -m tfcls.predict``: the predict command (:mod:`tfcls.cli.predict`).

This module only runs the command; importing it is an error, so that ``tfcls.predict`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.predict is the `python -m tfcls.predict` command; in code use the library "
        "(tfcls.Predictor or the tfcls.cli.predict module)"
    )

from tfcls.cli import command

sys.exit(command("predict", sys.argv[1:]))
