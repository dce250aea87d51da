"""The decision rule agrees in Python and in the browser on the same inputs.

``tfcls.decision.rule.decide`` (the server's ``/api/predict``, ``tfcls predict``) and the
SDK's ``classifyOutputs`` + ``decide`` (web/sdk/tfcls.js: ``Classifier.classify`` and the
web app) must give the same ranking, auto-select and unknown verdicts, or a text would be
auto-selected on the page and not by the server. One real ``node`` process runs every case
(seeded random cases plus the edges: ties, values exactly at a threshold, no threshold,
"nearest" without a similarity), and each answer is compared with Python's, exactly:
both sides compute in doubles and JSON carries them unchanged.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tfcls.decision.label_rule import decide_labels
from tfcls.decision.rule import UnknownRule, decide

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "web" / "sdk" / "tfcls.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js (20+) is not installed")

# Reads the cases as JSON on stdin; prints, per case, the SDK's verdicts with the bundle's
# rule (classify()) and with the override thresholds the app passes (a server's).
JS_RUNNER = """
import { classifyOutputs, decide } from %(sdk)s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const answers = JSON.parse(input).map((c) => {
  const rule = { threshold: c.threshold, unknown: c.unknown, similarity: c.similarity };
  const r = classifyOutputs(c.proba, c.labels, rule);
  const own = decide({ ...r, text: "x" }, { count: c.k });
  const server = decide({ ...r, text: "x" }, { ...c.override, count: c.k });
  return {
    classify: { autoSelect: r.autoSelect, unknown: r.unknown, similarity: r.similarity },
    own: { mode: own.mode, selected: own.selected, suggestions: own.suggestions },
    server: { mode: server.mode, selected: server.selected, suggestions: server.suggestions },
  };
});
console.log(JSON.stringify(answers));
"""

LABELS = ["Design", "Development", "Meeting", "Planning", "Support"]
VALUES = [0.0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.6, 0.9, 0.95, 1.0]  # shared, so ties and equality occur


def _case(rng: random.Random) -> dict[str, Any]:
    """One random input: probabilities, the bundle's rule, an override and ``k``."""
    n = rng.randint(1, len(LABELS))

    def pick() -> float:
        return rng.choice(VALUES) if rng.random() < 0.6 else rng.random()

    def maybe(value: float) -> float | None:
        return None if rng.random() < 0.25 else value

    unknown = None
    if rng.random() < 0.75:
        unknown = {"score": rng.choice(["max_softmax", "nearest"]), "threshold": maybe(pick())}
    return {
        "labels": LABELS[:n],
        "proba": [pick() for _ in range(n)],
        "threshold": maybe(pick()),
        "similarity": maybe(rng.uniform(-1, 1) if rng.random() < 0.5 else pick()),
        "unknown": unknown,
        "override": {"threshold": pick(), "unknownThreshold": pick()},
        "k": rng.choice([None, 1, 2, 3, 5]),
    }


EDGES: list[dict[str, Any]] = [
    # a tie on top keeps label order; the top at the threshold is auto-selected
    {
        "labels": LABELS[:3],
        "proba": [0.4, 0.4, 0.2],
        "threshold": 0.4,
        "similarity": None,
        "unknown": None,
        "override": {"threshold": 0.41, "unknownThreshold": 0.0},
        "k": None,
    },
    # the unknown score exactly at its threshold is known; just below it is unknown
    {
        "labels": LABELS[:2],
        "proba": [0.3, 0.7],
        "threshold": 0.5,
        "similarity": 0.25,
        "unknown": {"score": "nearest", "threshold": 0.25},
        "override": {"threshold": 0.5, "unknownThreshold": 0.2500001},
        "k": 1,
    },
    {
        "labels": LABELS[:2],
        "proba": [0.3, 0.7],
        "threshold": 0.5,
        "similarity": None,
        "unknown": {"score": "max_softmax", "threshold": 0.7},
        "override": {"threshold": 0.71, "unknownThreshold": 0.70000001},
        "k": 2,
    },
    # "nearest" without a similarity never flags; no threshold never auto-selects
    {
        "labels": LABELS,
        "proba": [0.0, 1.0, 0.0, 0.0, 0.0],
        "threshold": None,
        "similarity": None,
        "unknown": {"score": "nearest", "threshold": 0.9},
        "override": {"threshold": 1.0, "unknownThreshold": 0.9},
        "k": 3,
    },
]


def _python(case: dict[str, Any], threshold: float | None, rule: UnknownRule | None) -> dict:
    return decide(case["proba"], case["labels"], threshold, case["similarity"], rule, case["k"])


def _expected_mode(verdict: dict[str, Any]) -> str:
    return "unknown" if verdict["unknown"] else "auto" if verdict["auto_select"] else "suggest"


def _run_node(cases: list[dict[str, Any]], runner: str = JS_RUNNER) -> list[dict[str, Any]]:
    """The SDK's answers to ``cases``, from ``runner`` (a Node script reading them on stdin)."""
    script = runner % {"sdk": json.dumps(SDK.as_uri())}
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_python_and_js_decide_alike() -> None:
    rng = random.Random(12)
    cases = EDGES + [_case(rng) for _ in range(600)]
    answers = _run_node(cases)
    assert len(answers) == len(cases)
    modes = set()
    for case, js in zip(cases, answers, strict=True):
        own = _python(case, case["threshold"], UnknownRule.from_record(case["unknown"]))
        assert js["classify"] == {
            "autoSelect": own["auto_select"],
            "unknown": own["unknown"],
            "similarity": own["similarity"],
        }, case
        assert js["own"]["suggestions"] == own["predictions"], case
        assert js["own"]["mode"] == _expected_mode(own), case
        top = own["predictions"][0]["label"]
        assert js["own"]["selected"] == (top if own["auto_select"] else None), case

        # the app's path: a server's thresholds override the bundle's, same unknown score
        score = (case["unknown"] or {}).get("score", "max_softmax")
        rule = UnknownRule(score, case["override"]["unknownThreshold"])
        server = _python(case, case["override"]["threshold"], rule)
        assert js["server"]["mode"] == _expected_mode(server), case
        assert js["server"]["suggestions"] == server["predictions"], case
        modes.update({js["own"]["mode"], js["server"]["mode"]})
    assert modes == {"auto", "suggest", "unknown"}  # the cases reach every verdict


# --- multi-label: classifyLabels + decide ≡ tfcls.decision.label_rule.decide_labels --------

JS_LABELS_RUNNER = """
import { classifyOutputs, decide } from %(sdk)s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const answers = JSON.parse(input).map((c) => {
  const rule = { task: "multi_label", thresholds: c.thresholds };
  const r = classifyOutputs(c.proba, c.labels, rule);
  const d = decide({ ...r, text: "x" }, { count: c.k });
  return { predictions: r.predictions, labels: r.labels, autoSelect: r.autoSelect,
           mode: d.mode, selected: d.selected, suggestions: d.suggestions };
});
console.log(JSON.stringify(answers));
"""


def _label_case(rng: random.Random) -> dict[str, Any]:
    n = rng.randint(1, len(LABELS))

    def pick() -> float:
        return rng.choice(VALUES) if rng.random() < 0.6 else rng.random()

    return {
        "labels": LABELS[:n],
        "proba": [pick() for _ in range(n)],
        "thresholds": [pick() for _ in range(n)],
        "k": rng.choice([None, 1, 2, 3, 5]),
    }


def test_python_and_js_select_label_sets_alike() -> None:
    rng = random.Random(14)
    edges = [  # ties keep label order; a probability exactly at its threshold is selected
        {"labels": LABELS[:3], "proba": [0.5, 0.5, 0.5], "thresholds": [0.5, 0.6, 0.5], "k": 3},
        {"labels": LABELS[:2], "proba": [0.0, 1.0], "thresholds": [0.0, 1.0], "k": None},
        {"labels": LABELS[:2], "proba": [0.1, 0.2], "thresholds": [0.9, 0.9], "k": 1},
    ]
    cases = edges + [_label_case(rng) for _ in range(400)]
    sizes = set()
    for case, js in zip(cases, _run_node(cases, JS_LABELS_RUNNER), strict=True):
        py = decide_labels(case["proba"], case["labels"], case["thresholds"], case["k"])
        assert js["predictions"] == py["predictions"], case
        assert js["labels"] == js["selected"] == py["labels"], case
        assert js["suggestions"] == py["suggestions"], case
        assert js["autoSelect"] == py["auto_select"] and js["mode"] == "multi", case
        sizes.add(min(len(py["labels"]), 2))
    assert sizes == {0, 1, 2}  # the cases select none, one and several labels


def test_decide_labels_refuses_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="one per label"):
        decide_labels([0.5], ["a", "b"], [0.5, 0.5])
