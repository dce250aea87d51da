"""``python -m tfcls.predict [--run RUN_DIR] TEXT ...``: top categories for texts.

Texts are cleaned exactly as in training (``title. description`` with ``--description``);
each line shows the top ``k`` labels with their probabilities. With no TEXT arguments,
one text per line is read from standard input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tfcls import cli

cli.quiet_tensorflow()

import numpy as np

from tfcls import runs
from tfcls.calibration import apply_temperature
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

    def predict_proba(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities [n, n_labels] for titles (and optional descriptions)."""
        descriptions = descriptions or [""] * len(titles)
        texts = [join_title_description(t, d) for t, d in zip(titles, descriptions, strict=True)]
        vectors = self.encoder.embed(texts, batch_size=self.batch_size)
        proba = self.head.predict(vectors, verbose=0, batch_size=256)
        return apply_temperature(proba, self.temperature)

    def predict(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None, k: int = 3
    ) -> list[list[dict[str, float | str]]]:
        """Top-k ``{label, probability}`` per text, most probable first."""
        proba = self.predict_proba(titles, descriptions)
        top = np.argsort(-proba, axis=1)[:, :k]
        return [
            [{"label": self.labels[j], "probability": float(p[j])} for j in row]
            for p, row in zip(proba, top, strict=True)
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
    for text, top in zip(texts, results, strict=True):
        if args.json:
            auto = predictor.threshold is not None and top[0]["probability"] >= predictor.threshold
            print(
                json.dumps(
                    {"text": text, "predictions": top, "auto_select": auto}, ensure_ascii=False
                )
            )
        else:
            shown = "  ".join(f"{p['label']} {p['probability']:.0%}" for p in top)
            sure = predictor.threshold is not None and top[0]["probability"] >= predictor.threshold
            print(f"{text[:60]:<{width}}  {shown}{'  [auto-select]' if sure else ''}")
    print(f"predicted {len(texts)} text(s) with {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
