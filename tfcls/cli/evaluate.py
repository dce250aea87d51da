"""``python -m tfcls.evaluate --run RUN_DIR [--data PATH] [--json OUT]``: how good is a run?

``--cv K`` cross-validates the run's procedure instead; ``--ab`` reports, from the
feedback store, each served version's acceptance rate with 95% intervals. The work is in
:mod:`tfcls.evaluation.evaluate` (a multi-label run: :mod:`tfcls.evaluation.multilabel_evaluate`;
its per-label table, micro/macro-F1 and subset accuracy are printed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls.cli import common as cli
from tfcls.evaluation.evaluate import EvaluationResult, cross_validate_run, evaluate_run
from tfcls.evaluation.multilabel_evaluate import LabelSetEvaluationResult
from tfcls.training import runs


def _parser():
    p = cli.parser("python -m tfcls.evaluate", __doc__.split("\n\n")[0])
    cli.add_run_argument(p)
    p.add_argument(
        "--data", metavar="PATH", help="dataset to evaluate on (default: the run's test split)"
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results here")
    p.add_argument(
        "--ab",
        action="store_true",
        help="instead: acceptance rate (accepted / all verdicts) per served model version "
        "from the feedback store, with 95%% intervals",
    )
    p.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="instead: K-fold cross-validation of "
        "the run's whole training procedure on its dataset (mean ± std)",
    )
    return p


def ab_report(config: Any) -> dict[str, Any]:
    """Per-version acceptance from the feedback store (``storage``)."""
    from tfcls.bundle.ab import acceptance
    from tfcls.feedback.store import FeedbackStore

    store = FeedbackStore.open(config.storage)
    try:
        return acceptance(store.rows())
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.ab:
        report = ab_report(cli.config_from(args))
        if args.json:
            runs.write_json(args.json, report)
        if not report:
            print("no feedback yet")
        for version, r in report.items():
            print(
                f"{version}: acceptance {r['acceptance_rate']:.3f} (95% interval "
                f"{r['ci95'][0]:.3f}–{r['ci95'][1]:.3f}), {r['accepted']}/{r['verdicts']} verdicts"
            )
        return 0
    run_dir = cli.run_dir_from(args)
    if args.cv is not None:
        cv = cross_validate_run(run_dir, args.cv)
        if args.json:
            runs.write_json(args.json, cv)
        print(
            f"{args.cv}-fold CV accuracy {cv['accuracy']['mean']:.4f} ± "
            f"{cv['accuracy']['std']:.4f}, macro-F1 {cv['macro_f1']['mean']:.4f} ± "
            f"{cv['macro_f1']['std']:.4f}"
        )
        return 0
    result = evaluate_run(run_dir, args.data)
    if args.json:
        runs.write_json(args.json, result.to_dict())
    if isinstance(result, EvaluationResult):
        _print_evaluation(result)
    else:
        _print_label_sets(result)
    return 0


def _print_ranking(ranking: dict[str, Any]) -> None:
    """One line naming the worst classes by F1 (the report lists worst and best)."""
    if ranking["worst"]:
        shown = ", ".join(f"{r['label']} {r['f1']:.3f}" for r in ranking["worst"])
        print(f"worst F1: {shown}")


def _print_label_sets(result: LabelSetEvaluationResult) -> None:
    """Per label: threshold, P/R/F1, support, AUC; then the set-level figures last."""
    m, thresholds = result.metrics, result.record["thresholds"]
    for label, row in m["per_label"].items():
        auc = "n/a" if row["roc_auc"] is None else f"{row['roc_auc']:.3f}"
        print(
            f"{label:<24} threshold {thresholds[label]['threshold']:.3f}  precision "
            f"{row['precision']:.3f}  recall {row['recall']:.3f}  F1 {row['f1']:.3f}  "
            f"support {row['support']}  AUC {auc}"
        )
    unknown = result.record["unknown_labels"]
    if unknown:
        print(f"set aside, labels the run does not know: {', '.join(unknown)}")
    _print_ranking(result.record["class_ranking"])
    print(
        f"Hamming loss {m['hamming_loss']:.4f}, labels per text {m['label_cardinality']:.2f} "
        f"true / {m['predicted_cardinality']:.2f} predicted; report {result.report}"
    )
    print(
        f"micro-F1 {m['micro_f1']:.4f}, macro-F1 {m['macro_f1']:.4f}, subset accuracy "
        f"{m['subset_accuracy']:.4f} (n = {m['n']})"
    )


def _print_evaluation(result: EvaluationResult) -> None:
    """The per-class table, calibration, both thresholds; accuracy and macro-F1 last."""
    m = result.metrics
    for label, row in m["per_class"].items():
        print(
            f"{label:<24} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
            f"F1 {row['f1']:.3f}  support {row['support']}"
        )
    _print_ranking(result.record["class_ranking"])
    print(f"ECE {result.ece:.4f}, NLL {result.nll:.4f}; report {result.report}")
    if result.at_threshold is not None:
        t = result.at_threshold
        print(
            f"auto-select at ≥ {t['threshold']:.3f}: coverage {t['coverage']:.3f}, "
            f"precision {t['precision']:.3f}"
        )
    unk = result.unknown
    if unk:
        line = (
            f"unknown at {unk['score']} < {unk['threshold']:.3f}: known kept "
            f"{unk['known_kept']:.3f}"
        )
        if unk["n_unknown"]:
            line += (
                f"; {unk['n_unknown']} texts of unknown labels: recall "
                f"{unk['unknown_recall']:.3f}, in-scope accuracy {unk['in_scope_accuracy']:.3f}"
            )
        print(line)
    print(f"accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} (n = {m['n']})")
