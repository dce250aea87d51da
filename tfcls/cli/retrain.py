"""``python -m tfcls.retrain [--config FILE] [--dry-run]``: learn from feedback, promote if better.

The procedure (feedback → examples, holdouts, candidate, gate, promotion) is
:func:`tfcls.feedback.retrain.retrain`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from tfcls.cli import common as cli
from tfcls.feedback.retrain import retrain


def _parser():
    p = cli.parser("python -m tfcls.retrain", __doc__.split("\n\n")[0])
    p.add_argument(
        "--dry-run", action="store_true", help="report the data it would train on; change nothing"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result = retrain(cli.config_from(args), args.dry_run)
    print(json.dumps(result.record, indent=2, ensure_ascii=False), file=sys.stderr)
    for reason in result.reasons:
        print(reason)
    print(result.verdict)
    return 0
