"""What to label next: the ranking's properties (hypothesis, numpy only), the written
files read back by the data loader, and ``python -m tfcls.label suggest`` on a tiny run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.data.dataset import load_dataset
from tfcls.data.formats import DataError
from tfcls.labeling import (
    LabelingError,
    rank_uncertain,
    read_texts,
    select_diverse,
    suggestions_from,
    uncertainty,
    write_suggestions,
)
from tfcls.labeling.files import COLUMNS

# --- synthetic probabilities and embeddings -------------------------------------------------


@st.composite
def pools(draw: st.DrawFn, max_n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(proba [n, k], embeddings [n, 3]) with some exact duplicate embeddings among them."""
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * draw(st.sampled_from([0.1, 1.0, 5.0]))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    distinct = rng.integers(-3, 4, size=(draw(st.integers(1, n)), 3)).astype(float)
    embeddings = distinct[rng.integers(0, len(distinct), size=n)]
    return proba, embeddings


measures = st.sampled_from(["margin", "entropy"])
radii = st.sampled_from([0.0, 0.5, 2.0, 10.0])


@settings(max_examples=60, deadline=None)
@given(pools(), st.integers(1, 40), measures, radii, st.integers(0, 1000))
def test_ranking_is_deterministic_and_returns_min_n_distinct_indices(pool, n, by, radius, seed):
    proba, emb = pool
    first = rank_uncertain(proba, emb, n, by, seed, radius)
    assert np.array_equal(first, rank_uncertain(proba, emb, n, by, seed, radius))
    assert len(first) == min(n, len(proba)) == len(set(first.tolist()))
    assert all(0 <= i < len(proba) for i in first)


@settings(max_examples=60, deadline=None)
@given(pools(), st.integers(1, 40), measures, radii, st.integers(0, 1000))
def test_no_exact_duplicate_twice_while_distinct_texts_remain(pool, n, by, radius, seed):
    proba, emb = pool
    order = rank_uncertain(proba, emb, n, by, seed, radius)
    distinct = len(np.unique(emb, axis=0))
    head = [tuple(emb[i]) for i in order[:distinct]]
    assert len(set(head)) == len(head)  # the first `distinct` picks are all different vectors


@settings(max_examples=60, deadline=None)
@given(pools(), st.integers(1, 40), measures, st.integers(0, 1000), st.booleans())
def test_far_apart_or_diversity_off_picks_the_n_most_uncertain(pool, n, by, seed, far):
    proba, _ = pool
    m = len(proba)
    if far:  # every pair further apart than the radius: no discount at all
        emb, radius = np.eye(m) * 10.0, 1.0
    else:  # diversity off: even duplicates rank by uncertainty alone... after distinct ones
        emb, radius = np.arange(m, dtype=float)[:, None], 0.0
    order = rank_uncertain(proba, emb, n, by, seed, radius)
    u = uncertainty(proba, by)
    rest = np.setdiff1d(np.arange(m), order)
    assert not len(rest) or u[order].min() >= u[rest].max()
    assert np.all(np.diff(u[order]) <= 0)  # best first


@settings(max_examples=60, deadline=None)
@given(pools(), measures, radii, st.integers(0, 1000))
def test_of_two_identical_embeddings_the_more_uncertain_comes_first(pool, by, radius, seed):
    proba, emb = pool
    u = uncertainty(proba, by)
    order = rank_uncertain(proba, emb, len(proba), by, seed, radius).tolist()
    for i in range(len(u)):
        for j in range(len(u)):
            if u[i] > u[j] and np.array_equal(emb[i], emb[j]):
                assert order.index(i) < order.index(j)


def test_diversity_spreads_out_a_cluster_of_near_duplicates():
    # five near-identical, very uncertain texts and three far, slightly less uncertain ones
    emb = np.array([[0, 0], [0.01, 0], [0, 0.01], [0.01, 0.01], [0.02, 0], [5, 5], [9, 0], [0, 9]])
    u = np.array([0.99, 0.98, 0.97, 0.96, 0.95, 0.9, 0.85, 0.8])
    assert select_diverse(u, emb, 4, radius=0.0).tolist() == [0, 1, 2, 3]
    assert select_diverse(u, emb, 4, radius=1.0).tolist() == [0, 5, 6, 7]


def test_uncertainty_measures():
    proba = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert uncertainty(proba, "margin") == pytest.approx([1.0, 0.0, 1.0])
    assert uncertainty(proba, "entropy") == pytest.approx([np.log(2) / np.log(3), 0.0, 1.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: uncertainty(np.ones((2, 2)) / 2, "least"), "unknown uncertainty measure 'least'"),
        (lambda: rank_uncertain(np.ones((2, 2)) / 2, np.ones((2, 1)), 0), "-n must be at least 1"),
        (lambda: rank_uncertain(np.ones((2, 2)) / 2, np.ones((3, 1)), 1), "embeddings must be"),
        (lambda: select_diverse(np.ones(2), np.ones((2, 1)), 1, radius=-1), "radius must be"),
    ],
)
def test_bad_requests_are_labeling_errors(call, message):
    with pytest.raises(LabelingError, match=message):
        call()


# --- files: written suggestions are training data once labelled -----------------------------


def _suggestions(texts: list[str]):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=len(texts))
    return suggestions_from(texts, proba, rng.normal(size=(len(texts), 4)), ["a", "b", "c"], 6)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_written_suggestions_load_back_once_labelled(tmp_path: Path, suffix: str):
    texts = [f'text number {i}, with "quotes" and commas' for i in range(8)]
    path = write_suggestions(_suggestions(texts), tmp_path / f"todo{suffix}")
    with pytest.raises(DataError, match=rf"{suffix}:2: field 'label' is blank"):
        load_dataset(path, min_per_label=1)  # an unfilled row is named by its line
    if suffix == ".csv":
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert tuple(rows[0]) == COLUMNS and [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(r["label"] == "" and r["suggested_label"] in "abc" for r in rows)
    for i, row in enumerate(rows):
        row["label"] = "x" if i % 2 else "y"
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_dataset(path)
    assert data.texts == [r["text"] for r in rows] and data.labels == ["x", "y"]
    assert all(w == 1.0 for w in data.weights)  # the probability is not read as a weight


def test_read_texts_formats_and_errors(tmp_path: Path):
    (tmp_path / "a.txt").write_text("one\n\ntwo\n", encoding="utf-8")
    assert read_texts(tmp_path / "a.txt") == ["one", "two"]
    (tmp_path / "b.jsonl").write_text(
        '{"text": "one", "label": "x"}\n{"title": "Two", "description": "more"}\n'
    )
    assert read_texts(tmp_path / "b.jsonl") == ["one", "Two. more"]
    (tmp_path / "c.csv").write_text("title,description\nOne,\nTwo,more\n", encoding="utf-8")
    assert read_texts(tmp_path / "c.csv") == ["One", "Two. more"]
    with pytest.raises(LabelingError, match="no such file"):
        read_texts(tmp_path / "missing.txt")
    (tmp_path / "d.csv").write_text("label\nx\n", encoding="utf-8")
    with pytest.raises(LabelingError, match="must name a 'text' column"):
        read_texts(tmp_path / "d.csv")
    (tmp_path / "e.jsonl").write_text('{"text": "ok"}\n{"label": "x"}\n', encoding="utf-8")
    with pytest.raises(LabelingError, match=r"e.jsonl:2: no 'text' or 'title'"):
        read_texts(tmp_path / "e.jsonl")
    with pytest.raises(LabelingError, match="unsupported file type"):
        read_texts(tmp_path / "f.xlsx")


# --- the command on a tiny trained run ------------------------------------------------------


@pytest.fixture()
def label(cache_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """``python -m tfcls.label`` run in process with the session cache: (rc, stderr)."""
    from tfcls.cli import command

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))

    def run(capsys_: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
        rc = command("label", list(argv))
        return rc, capsys_.readouterr().err

    return run


def test_cli_suggest_writes_csv_and_jsonl_that_read_back(
    tiny_run: Path, small_dataset: Path, tmp_path: Path, label, capsys
):
    texts = [json.loads(line)["text"] for line in small_dataset.read_text().splitlines()]
    source = tmp_path / "unlabelled.txt"
    source.write_text("\n".join(texts + texts[:5]) + "\n", encoding="utf-8")  # 5 repeated
    out_csv, out_jsonl = tmp_path / "s.csv", tmp_path / "s.jsonl"
    common = ["suggest", "--run", str(tiny_run), "--from", str(source), "-n", "12", "-q"]
    rc, err = label(capsys, *common, "--out", str(out_csv))
    assert rc == 0, err
    assert err.strip().splitlines()[-1].startswith(f"label suggest: wrote 12 of {len(texts) + 5}")
    rc, err = label(capsys, *common, "--out", str(out_jsonl), "--by", "entropy", "--seed", "3")
    assert rc == 0, err
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    lines = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    for got in (rows, lines):
        assert len(got) == 12 and len({r["text"] for r in got}) == 12
        assert {r["text"] for r in got} <= set(texts)
        assert all(r["label"] == "" and 0 < float(r["probability"]) <= 1 for r in got)
    scores = [float(r["uncertainty"]) for r in rows]
    assert max(scores) == scores[0]  # the first suggestion is the least certain text
    for r in rows:
        r["label"] = r["suggested_label"]
    with out_csv.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert len(load_dataset(out_csv, min_per_label=1, min_labels=1).texts) == 12


def test_cli_suggest_from_the_feedback_store(tiny_run: Path, tmp_path: Path, label, capsys):
    from conftest import feedback_row

    from tfcls.config import load_config
    from tfcls.feedback.store import FeedbackStore

    db = tmp_path / "fb.sqlite3"
    titles = ["set an alarm for six", "what is the weather", "play some jazz", "email boss"]
    with FeedbackStore.open(load_config(None, [f"storage.path={db}"]).storage) as store:
        store.add_many([feedback_row(title=t, description="please") for t in titles])
    out = tmp_path / "fb.jsonl"
    rc, err = label(
        capsys, "suggest", "--run", str(tiny_run), "--from", "feedback", "-n", "50",
        "--out", str(out), "--set", f"storage.path={db}",
    )  # fmt: skip
    assert rc == 0, err
    got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert sorted(got) == sorted(f"{t}. please" for t in titles)
    assert "from the feedback store" in err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--from", "nowhere.txt", "nowhere.txt: no such file"),
        ("-n", "0", "-n must be at least 1, got 0"),
        ("--by", "least", "unknown uncertainty measure 'least'; use one of margin, entropy"),
        ("--out", "s.xlsx", "--out must end in .csv or .jsonl"),
    ],
)
def test_cli_bad_inputs_exit_2_with_a_clear_error(
    tiny_run: Path, tmp_path: Path, label, capsys, option: str, value: str, message: str
):
    source = tmp_path / "texts.txt"
    source.write_text("set an alarm\nwhat is the weather\n", encoding="utf-8")
    options = {"--from": str(source), "--out": str(tmp_path / "s.csv"), "-n": "5"}
    options[option] = str(tmp_path / value) if option in ("--from", "--out") else value
    args = ["suggest", "--run", str(tiny_run), *(x for kv in options.items() for x in kv)]
    rc, err = label(capsys, *args)
    assert rc == 2 and message in err and "Traceback" not in err
