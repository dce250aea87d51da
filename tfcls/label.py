"""``python -m tfcls.label``: the label command (:mod:`tfcls.cli.label`).

This module only runs the command; importing it is an error, so that importing
``tfcls.label`` by mistake is caught (the library is :mod:`tfcls.labeling`).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.label is the `python -m tfcls.label` command; in code use the library "
        "(tfcls.labeling, or the tfcls.cli.label module)"
    )

from tfcls.cli import command

sys.exit(command("label", sys.argv[1:]))
