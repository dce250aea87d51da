"""What to label next: rank unlabelled texts by a run's uncertainty, spread out by diversity.

    from tfcls.decision.predictor import Predictor
    from tfcls.labeling import suggest, write_suggestions
    rows = suggest(Predictor("runs/latest"), texts, n=50)     # list[Suggestion], best first
    write_suggestions(rows, "to_label.csv")                    # fill 'label', then train on it

The ranking itself (:func:`rank_uncertain`, :func:`uncertainty`) works on numpy arrays
and needs no model; ``python -m tfcls.label suggest`` is the command.
"""

from tfcls.labeling.files import feedback_texts, read_texts, write_suggestions
from tfcls.labeling.rank import (
    DEFAULT_RADIUS,
    UNCERTAINTY,
    LabelingError,
    check_count,
    check_measure,
    rank_uncertain,
    select_diverse,
    uncertainty,
)
from tfcls.labeling.suggest import Suggestion, model_texts, suggest, suggestions_from

__all__ = [
    "DEFAULT_RADIUS",
    "UNCERTAINTY",
    "LabelingError",
    "Suggestion",
    "check_count",
    "check_measure",
    "feedback_texts",
    "model_texts",
    "rank_uncertain",
    "read_texts",
    "select_diverse",
    "suggest",
    "suggestions_from",
    "uncertainty",
    "write_suggestions",
]
