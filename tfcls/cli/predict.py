"""``python -m tfcls.predict [--run RUN_DIR] TEXT ...``: top categories for texts.

Each line shows the top ``k`` labels with their calibrated probabilities, marked
``[auto-select]`` and ``[unknown]`` by the run's decision rule
(:class:`tfcls.decision.predictor.Predictor`). For a multi-label run each line shows the
text's label set, every selected label with its calibrated probability (each label has its
own threshold, calibration.json), then the ``k`` most probable labels not selected
(:class:`tfcls.decision.label_predictor.LabelSetPredictor`). With no TEXT arguments, one
text per line is read from standard input."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from tfcls.cli import common as cli
from tfcls.decision.label_predictor import LabelSetPredictor
from tfcls.decision.predictor import Predictor
from tfcls.errors import TfclsError
from tfcls.training.runs import Run


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
    multi = Run(run_dir).finished("prediction", multi_label=True).task() == "multi_label"
    predictor = LabelSetPredictor(run_dir) if multi else Predictor(run_dir)
    results = predictor.predict(texts, [args.description] * len(texts), k=max(args.k, 1))
    width = min(max(len(t) for t in texts), 60)
    for text, result in zip(texts, results, strict=True):
        if args.json:
            print(json.dumps({"text": text, **result}, ensure_ascii=False))
        else:
            print(f"{text[:60]:<{width}}  {_label_set(result) if multi else _top_k(result)}")
    selected = sum(bool(r["auto_select"]) for r in results)
    kind = "with a label set" if multi else "auto-selected"
    print(f"predicted {len(texts)} text(s) with {run_dir} ({selected} {kind})")
    return 0


def _top_k(result: dict[str, Any]) -> str:
    """A single-label line: the top k with probabilities, then the decision's flags."""
    shown = "  ".join(f"{p['label']} {p['probability']:.0%}" for p in result["predictions"])
    flag = "  [auto-select]" if result["auto_select"] else ""
    return shown + flag + ("  [unknown]" if result["unknown"] else "")


def _label_set(result: dict[str, Any]) -> str:
    """A multi-label line: the selected labels (or none), then the next most probable."""
    chosen = [p for p in result["predictions"] if p["label"] in result["labels"]]
    shown = ", ".join(f"{p['label']} {p['probability']:.0%}" for p in chosen) or "(no label)"
    others = ", ".join(f"{p['label']} {p['probability']:.0%}" for p in result["suggestions"])
    return f"labels: {shown}" + (f"  (next: {others})" if others else "")
