"""What an export reads from a finished run: :class:`Source`.

The run's :class:`~tfcls.decision.predictor.Predictor` (a multi-label run's
:class:`~tfcls.decision.label_predictor.LabelSetPredictor`; loaded the one way a run is
loaded for inference), its tokenizer settings (which the browser mirrors), the decision
rule as the bundle states it, the graph to convert, and the text sets the fidelity gate
measures a bundle on, each with the Keras model's outputs as the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tfcls.bundle.fidelity import TextSet
from tfcls.data.texts import read_texts
from tfcls.errors import TfclsError


class Source:
    """What the export needs from a finished run: its :class:`Predictor` (config, labels,
    head, encoder, calibration, references, loaded the one way the run is loaded for
    inference), its metrics and the tokenizer the browser mirrors."""

    def __init__(self, run_dir: Path) -> None:
        from tfcls.decision.label_predictor import LabelSetPredictor
        from tfcls.decision.predictor import Predictor
        from tfcls.encoders.hub import BERT
        from tfcls.training.runs import Run

        self.task = Run(run_dir).finished("export", multi_label=True).task()
        multi = self.task == "multi_label"
        self.predictor = (LabelSetPredictor if multi else Predictor)(run_dir, purpose="export")
        self.run = self.predictor.run
        # multi-label: the text sets are judged by label sets at these thresholds
        self.thresholds = self.predictor.decision.thresholds if multi else None
        self.dir = self.run.dir
        self.metrics = self.run.metrics()
        handle = self.predictor.config.encoder.handle
        if self.predictor.encoder.modules.kind != BERT:
            raise TfclsError(
                f"{handle}: a string-input encoder cannot run in TF.js "
                "(its tokenizer ops are TensorFlow-only); export needs a BERT-style encoder"
            )
        self.spec = self.predictor.encoder.modules.tokenizer_spec()
        if self.spec is None or self.spec.vocab_path is None:
            raise TfclsError(f"{handle}: its preprocessor has no vocab.txt")

    def _dataset(self, what_to_do: str) -> Any:
        if self.task == "multi_label":
            return self.run.label_sets(what_to_do)
        return self.run.dataset(1, what_to_do)

    def split_texts(self, split: str) -> tuple[list[str], np.ndarray]:
        """The texts and labels (class ids; multi-label: 0/1 label sets) of one of the
        run's splits (``train``/``val``/``test``)."""
        dataset = self._dataset("pass --texts FILE to measure fidelity on")
        idx = self.run.splits()[split]
        targets = dataset.Y if self.task == "multi_label" else dataset.y
        return [dataset.examples[int(i)].text for i in idx], targets[idx]

    def text_set(self, name: str, texts: list[str], labels: np.ndarray | None = None) -> TextSet:
        """``texts`` with the Keras model's outputs on them, judged the run's way."""
        return TextSet(name, texts, self.keras_outputs(texts), labels, self.thresholds)

    def decision_metadata(self) -> dict[str, Any]:
        """The decision rule as metadata.json states it for the browser: the auto-select
        threshold, temperature and unknown rule; multi-label: ``task`` and one threshold a
        label (on the bundle's calibrated probabilities)."""
        p = self.predictor
        if self.task == "multi_label":
            thresholds = [float(t) for t in p.decision.thresholds]
            none = {"threshold": None, "temperature": None, "unknown": None}
            return {"task": "multi_label", "thresholds": thresholds, **none}
        unknown = p.calibration.record.get("unknown") or {}
        rule = {
            "score": unknown.get("score"),  # max_softmax (top probability) or nearest
            "threshold": unknown.get("threshold"),
            "known_recall": unknown.get("known_recall"),
        }
        return {
            "threshold": p.calibration.threshold,
            "temperature": p.calibration.temperature,
            "unknown": rule if unknown else None,
        }

    def numeric_model(self, encoder: Any) -> Any:
        """The bundle's graph on ``encoder`` (the run's, or its per-channel copy): the head
        plus the run's calibration (temperature, or per-label Platt scaling)."""
        from tfcls.bundle.graph import NumericModel

        p = self.predictor
        if self.task == "multi_label":
            return NumericModel(encoder, p.head, 1.0, None, (p.decision.a, p.decision.b))
        return NumericModel(encoder, p.head, p.calibration.temperature, p.references)

    def validation_texts(self) -> tuple[list[str], np.ndarray]:
        """What the gate measures accuracy change on: the validation split (the bundle is
        chosen there, never on the test split, which is only reported)."""
        return self.split_texts("val")

    def check_texts(self, texts: str | Path | list[str] | None, n: int) -> TextSet:
        """The gate's second text set: ``texts`` (a JSONL file with a 'text' field, or
        the texts), default the run's own data outside the test split; at most ``n``,
        distinct."""
        if texts is None:
            dataset = self._dataset("pass check texts to measure fidelity on")
            test = {int(i) for i in self.run.splits()["test"]}
            name = f"the run's train and val data ({self.run.dir})"
            own = (e.text for i, e in enumerate(dataset.examples) if i not in test)
            texts = list(dict.fromkeys(own))[:n]
        elif isinstance(texts, (str, Path)):
            name, texts = str(texts), read_texts(Path(texts), n)
        else:
            name, texts = "given check texts", list(texts)[:n]
        return self.text_set(name, texts)

    def test_set(self) -> TextSet | None:
        """The test split, measured and recorded beside the gate's sets, never choosing."""
        texts, y = self.split_texts("test")
        return self.text_set("test split", texts, y) if texts else None

    def keras_outputs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Reference probabilities and similarity computed the training way (Keras head)."""
        return self.predictor.text_scores(texts)
