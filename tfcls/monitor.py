"""``python -m tfcls.monitor``: the monitoring command (:mod:`tfcls.cli.monitor`).

This module only runs the command; importing it is an error, so that ``tfcls.monitor``
keeps naming the library's function (:func:`tfcls.monitoring.report.monitor`).
"""

import sys

if __name__ != "__main__":
    raise ImportError(
        "tfcls.monitor is the `python -m tfcls.monitor` command; in code use the library "
        "(tfcls.monitor(...) or the tfcls.cli.monitor module)"
    )

from tfcls.cli import command

sys.exit(command("monitor", sys.argv[1:]))
