"""``python -m tfcls.train``: the train command (:mod:`tfcls.cli.train`).

This module only runs the command; importing it is an error, so that ``tfcls.train`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.train is the `python -m tfcls.train` command; in code use the library "
        "(tfcls.train(...) or the tfcls.cli.train module)"
    )

from tfcls.cli import command

sys.exit(command("train", sys.argv[1:]))
