"""``python -m tfcls <command>``: the same as the ``tfcls`` console script."""

import sys

from tfcls.cli import main

sys.exit(main())
