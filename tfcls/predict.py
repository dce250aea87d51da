"""``python -m tfcls.predict [--run RUN_DIR] TEXT ...``: top categories for texts.

Texts are cleaned exactly as in training (``title. description`` with ``--description``);
each line shows the top ``k`` labels with their calibrated probabilities, marked
``[auto-select]`` at or above the run's decision threshold and ``[unknown]`` when the text
fits no known category (its unknown score is below the run's unknown threshold; the
client then offers a new category). With no TEXT
arguments, one text per line is read from standard input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls import cli

cli.quiet_tensorflow()

import numpy as np

from tfcls import ood, runs
from tfcls.calibration import apply_temperature, decide
from tfcls.config import load_config
from tfcls.errors import TfclsError
from tfcls.text import join_title_description


class Predictor:
    """A trained run's head plus its encoder: texts → probabilities over the labels."""

    def __init__(self, run_dir: str | Path) -> None:
        from tfcls.encoders import load_encoder_from
        from tfcls.model import load_model

        self.run_dir = Path(run_dir)
        if not (self.run_dir / "head.keras").is_file():
            raise TfclsError(
                f"{self.run_dir}: no head.keras; is this a finished run "
                "directory of `python -m tfcls.train`?"
            )
        config = load_config(self.run_dir / "config.yaml")
        label_map = runs.read_json(self.run_dir / "label_map.json")
        self.labels = sorted(label_map, key=label_map.get)
        self.head = load_model(self.run_dir / "head.keras")
        self.encoder = load_encoder_from(config.encoder)
        self.batch_size = config.encoder.batch_size
        path = self.run_dir / "calibration.json"
        calib = runs.read_json(path) if path.is_file() else {}
        self.temperature = calib.get("temperature", 1.0)
        self.threshold = (calib.get("threshold") or {}).get("threshold")
        self.unknown: dict[str, Any] | None = calib.get("unknown")  # {score, threshold, ...}
        self.references = None
        if self.unknown and self.unknown["score"] == "nearest":
            refs = self.run_dir / "references.npy"
            if not refs.is_file():
                raise TfclsError(
                    f"{refs}: missing; calibration.json needs it for unknown detection"
                )
            self.references = np.load(refs)

    def _vectors(self, titles: Sequence[str], descriptions: Sequence[str] | None) -> np.ndarray:
        descriptions = descriptions or [""] * len(titles)
        texts = [join_title_description(t, d) for t, d in zip(titles, descriptions, strict=True)]
        return self.encoder.embed(texts, batch_size=self.batch_size)

    def _proba(self, vectors: np.ndarray) -> np.ndarray:
        proba = self.head.predict(vectors, verbose=0, batch_size=256)
        return apply_temperature(proba, self.temperature)

    def predict_proba(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities [n, n_labels] for titles (and optional descriptions)."""
        return self._proba(self._vectors(titles, descriptions))

    def predict_scores(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities and, when the run detects unknown texts by the nearest
        training text, each text's similarity to it (else None)."""
        vectors = self._vectors(titles, descriptions)
        similarity = None
        if self.references is not None:
            similarity = ood.nearest_similarity(vectors, self.references)
        return self._proba(vectors), similarity

    def predict(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None, k: int = 3
    ) -> list[dict[str, Any]]:
        """Per text: top-k ``{label, probability}`` (most probable first), ``auto_select``
        (top probability at or above the run's threshold), ``unknown`` (fits no known
        category: offer a new one) and ``similarity`` (None unless the run scores by it).
        """
        proba, similarity = self.predict_scores(titles, descriptions)
        return [
            decide(
                proba[i],
                self.labels,
                self.threshold,
                None if similarity is None else similarity[i],
                self.unknown,
                k,
            )
            for i in range(len(proba))
        ]


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


if __name__ == "__main__":
    sys.exit(cli.run(main))
