"""``python -m tfcls.serve``: the serve command (:mod:`tfcls.cli.serve`).

This module only runs the command; importing it is an error, so that ``tfcls.serve`` keeps
naming the library's function (see ``tfcls/__init__.py``).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.serve is the `python -m tfcls.serve` command; in code use the library "
        "(tfcls.serving.app.create_app or the tfcls.cli.serve module)"
    )

from tfcls.cli import command

sys.exit(command("serve", sys.argv[1:]))
