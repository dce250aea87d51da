"""``python -m tfcls.label suggest --from FILE|feedback [-n 50] [--out suggestions.csv]``:
what to label next.

The run's least certain texts, spread out so that near-duplicates do not fill the list
(:mod:`tfcls.labeling`), written with the model's guess and an empty ``label`` column;
fill it in and train on the file (``python -m tfcls.train --data FILE``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tfcls import progress
from tfcls.cli import common as cli
from tfcls.labeling.rank import DEFAULT_RADIUS, UNCERTAINTY

FEEDBACK = "feedback"


def _parser() -> argparse.ArgumentParser:
    p = cli.parser("python -m tfcls.label", __doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="action", required=True)
    sg = sub.add_parser(
        "suggest",
        help="rank unlabelled texts: uncertain and diverse first",
        description=__doc__.split("\n\n")[1],
    )
    cli.add_run_argument(sg)
    sg.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="FILE|feedback",
        help="texts to rank: .txt (a text a line), .jsonl or .csv (a 'text' or 'title' "
        "field), or 'feedback' for the texts of the feedback store (storage.*)",
    )
    sg.add_argument("-n", type=int, default=50, help="how many to suggest (default 50)")
    sg.add_argument(
        "--out",
        type=Path,
        default=Path("suggestions.csv"),
        help="file to write, .csv or .jsonl (default suggestions.csv)",
    )
    sg.add_argument(
        "--by",
        default="margin",
        metavar="|".join(UNCERTAINTY),
        help="uncertainty: margin between the top two probabilities (default) or entropy",
    )
    sg.add_argument(
        "--radius",
        type=float,
        default=DEFAULT_RADIUS,
        help="diversity distance between embeddings (default %(default)s; 0: diversity off)",
    )
    sg.add_argument("--seed", type=int, default=0, help="breaks ties (default 0)")
    cli.add_config_arguments(sg, subcommand=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, write the suggestions, print one summary line on stderr."""
    from tfcls.decision.predictor import Predictor
    from tfcls.labeling import files
    from tfcls.labeling.rank import check_count, check_measure
    from tfcls.labeling.suggest import suggest

    args = _parser().parse_args(argv)
    check_count(args.n)  # before the run is loaded
    check_measure(args.by)
    config = cli.config_from(args)
    from_feedback = args.source == FEEDBACK
    texts = files.feedback_texts(config.storage) if from_feedback else files.read_texts(args.source)
    run_dir = cli.run_dir_from(args)
    predictor = Predictor(run_dir, purpose="label suggest")
    progress.log(f"ranking {len(texts)} texts with {run_dir} (by {args.by})")
    rows = suggest(predictor, texts, args.n, args.by, args.seed, args.radius)
    out = files.write_suggestions(rows, args.out)
    source = "the feedback store" if from_feedback else args.source
    mean = sum(r.uncertainty for r in rows) / len(rows)
    print(
        f"label suggest: wrote {len(rows)} of {len(texts)} texts from {source} to {out} "
        f"(by {args.by}, mean uncertainty {mean:.3f}); fill in the 'label' column (or delete "
        f"the row), then python -m tfcls.train --data {out}",
        file=sys.stderr,
    )
    return 0
