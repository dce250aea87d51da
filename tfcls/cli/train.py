"""``python -m tfcls.train``: dataset → embeddings (cached) → the default procedure → run.

``--fast`` keeps the encoder frozen; ``--resume RUN_DIR`` continues an interrupted run,
tuner included. The procedure is :func:`tfcls.training.pipeline.train`."""

from __future__ import annotations

import os
from collections.abc import Sequence

from tfcls.cli import common as cli
from tfcls.config import load_config
from tfcls.errors import TfclsError
from tfcls.training.pipeline import train


def _parser():
    p = cli.parser("python -m tfcls.train", __doc__.split("\n\n")[0])
    p.add_argument("--data", metavar="PATH", help="dataset file (overrides data.path)")
    p.add_argument("--output-dir", metavar="DIR", help="where runs go (train.output_dir)")
    p.add_argument("--name", help="run directory name (default: time + data hash)")
    p.add_argument("--max-trials", type=int, metavar="N", help="tuner.max_trials")
    p.add_argument(
        "--fast",
        action="store_true",
        help="frozen encoder, heads only (train.adapt.layers=0): for big datasets",
    )
    p.add_argument(
        "--dev-mode",
        action="store_true",
        help="small stratified subset and few trials, for quick iteration",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run (its config, data and splits)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.resume:
        if args.config or args.overrides or args.data or args.dev_mode or args.fast:
            raise TfclsError(
                "--resume uses the run's own config and data; "
                "drop --config/--set/--data/--dev-mode/--fast"
            )
        result = train(resume=args.resume)
    else:
        overrides = list(args.overrides)
        if args.output_dir:
            overrides.append(f"train.output_dir={args.output_dir}")
        if args.max_trials is not None:
            overrides.append(f"tuner.max_trials={args.max_trials}")
        if args.fast:
            overrides.append("train.adapt.layers=0")
        config = load_config(args.config, overrides)
        result = train(config, data=args.data, dev_mode=args.dev_mode, name=args.name)
    if result.worker:
        print(
            f"worker {os.environ.get('KERASTUNER_TUNER_ID')} ran {result.metrics['trials_run']} "
            f"trial(s) for the chief's search, run {result.run_dir}"
        )
        return 0
    scores = result.metrics.get("test") or result.metrics.get("oof") or {}
    which = "test" if "test" in result.metrics else "out-of-fold"
    print(
        f"{which} accuracy {scores.get('accuracy', float('nan')):.4f}, macro-F1 "
        f"{scores.get('macro_f1', float('nan')):.4f}, run {result.run_dir}"
    )
    return 0
