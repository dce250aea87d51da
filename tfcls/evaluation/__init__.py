"""Evaluation: how good a run or a procedure is.

``evaluate`` scores a run on its test split or another dataset (``multilabel_evaluate`` a
multi-label run); ``crossval`` cross-validates the whole procedure; ``metrics`` and
``multilabel_metrics`` the figures; ``curves`` one-vs-rest ROC and precision-recall curves;
``figures`` their PNGs; ``report`` and ``multilabel_report`` the HTML report.
"""
