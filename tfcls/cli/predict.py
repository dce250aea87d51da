"""``python -m tfcls.predict [--run RUN_DIR] TEXT ...``: top categories for texts.

Each line shows the top ``k`` labels with their calibrated probabilities, marked
``[auto-select]`` and ``[unknown]`` by the run's decision rule
(:class:`tfcls.decision.predictor.Predictor`). With no TEXT arguments, one text per line
is read from standard input."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from tfcls.cli import common as cli
from tfcls.decision.predictor import Predictor
from tfcls.errors import TfclsError


def _parser():
    p = cli.parser("python -m tfcls.predict", __doc__.split("\n\n")[0])
    cli.add_run_argument(p)
    p.add_argument("--description", default="", help="description for every text")
    p.add_argument("-k", type=int, default=3, help="how many labels to show (default 3)")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    p.add_argument("texts", nargs="*", metavar="TEXT")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise TfclsError("no texts: pass them as arguments or one per line on stdin")
    run_dir = cli.run_dir_from(args)
    predictor = Predictor(run_dir)
    results = predictor.predict(texts, [args.description] * len(texts), k=max(args.k, 1))
    width = min(max(len(t) for t in texts), 60)
    for text, result in zip(texts, results, strict=True):
        if args.json:
            print(json.dumps({"text": text, **result}, ensure_ascii=False))
        else:
            shown = "  ".join(f"{p['label']} {p['probability']:.0%}" for p in result["predictions"])
            flag = "  [auto-select]" if result["auto_select"] else ""
            flag += "  [unknown]" if result["unknown"] else ""
            print(f"{text[:60]:<{width}}  {shown}{flag}")
    print(f"predicted {len(texts)} text(s) with {run_dir}")
    return 0
