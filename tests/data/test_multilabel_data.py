"""Multi-label data (issue 14): the three formats, detection, validation, metadata, weights.

Real files only: every case is a small file written to tmp_path, plus the real GoEmotions
training split from the shared datasets folder.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls import resources
from tfcls.data.dataset import load_dataset
from tfcls.data.formats import DataError
from tfcls.data.metadata_block import COUNT_KEYS, DISTRIBUTION_KEYS
from tfcls.data.multilabel import (
    LIST_FIELDS,
    LabelSetExample,
    load_multilabel,
    multi_label_file,
)

ROWS = [
    {"text": "login fails after SSO", "labels": ["bug", "auth"]},
    {"text": "crash on save", "labels": ["bug"]},
    {"text": "add dark mode", "labels": ["feature", "ui"]},
    {"text": "button is misaligned", "labels": ["ui", "bug"]},
    {"text": "password reset email", "labels": ["auth", "feature"]},
]
LABELS = ["auth", "bug", "feature", "ui"]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def samples_json(rows: list, **top) -> str:
    return json.dumps({**top, "samples": rows})


def jsonl(rows: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def load_error(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        load_multilabel(path, **kwargs)
    return info.value


def detect_error(path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        multi_label_file(path)
    return info.value


# --- the three formats ---


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_each_format_loads_the_same_label_sets(tmp_path, fmt):
    if fmt == "csv":
        body = "".join(f'"{r["text"]}", {" | ".join(r["labels"])} \n' for r in ROWS)
        content = "\ufeffText,LABELS\n" + body + ",\n"
    else:
        content = samples_json(ROWS) if fmt == "json" else "\n" + jsonl(ROWS) + "  \n"
    path = write(tmp_path, f"d.{fmt}", content)
    ds = load_multilabel(path)
    assert ds.texts == [r["text"] for r in ROWS] and ds.labels == LABELS
    assert [e.labels for e in ds.examples] == [tuple(r["labels"]) for r in ROWS]  # file order
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.report.rows == 5 and ds.report.kept == 5 and ds.report.duplicates == []
    assert ds.metadata is None and ds.conflicts == []
    first = {"json": "#samples[0]", "jsonl": ":2", "csv": ":2"}[fmt]
    assert ds.examples[0].source == f"{path}{first}"
    assert ds.examples[0] == LabelSetExample(
        "login fails after SSO", ("bug", "auth"), f"{path}{first}", "login fails after SSO", ""
    )


def test_y_weights_label_map_counts_and_subset(tmp_path):
    ds = load_multilabel(write(tmp_path, "d.jsonl", jsonl(ROWS)))
    assert ds.label_map() == {"auth": 0, "bug": 1, "feature": 2, "ui": 3}
    assert ds.Y.dtype == np.float32 and ds.Y.shape == (5, 4)
    assert ds.Y.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 0]]
    assert ds.weights.dtype == np.float32 and ds.weights.tolist() == [1.0] * 5
    assert ds.label_counts() == {"auth": 2, "bug": 3, "feature": 2, "ui": 2}
    sub = ds.subset(np.array([2, 1]))
    assert sub.labels == LABELS and sub.texts == [ds.texts[2], ds.texts[1]]
    assert sub.Y.tolist() == [ds.Y[2].tolist(), ds.Y[1].tolist()]
    assert sub.label_counts() == {"auth": 0, "bug": 1, "feature": 1, "ui": 1}
    assert sub.sha256 == ds.sha256 and sub.report is ds.report


def test_title_description_categories_and_csv_delimiter(tmp_path):
    rows = [
        {"title": "Fix login", "description": "blank page", "categories": ["bug", "auth"]},
        {"title": "Why blurry?", "description": None, "categories": ["ui"]},
        {"title": "Dark <b>mode</b>", "categories": ["ui", "feature"]},
    ]
    ds = load_multilabel(write(tmp_path, "t.json", samples_json(rows)))
    assert ds.texts == ["Fix login. blank page", "Why blurry?", "Dark mode"]
    assert ds.examples[0].title == "Fix login" and ds.examples[0].description == "blank page"
    csv_text = "id,title,description,categories\n1,Fix login,blank page,bug;auth\n"
    csv_text += "2,Why blurry?,,ui\n3,Dark mode,, ui ; feature\n"
    csv_ds = load_multilabel(write(tmp_path, "t.csv", csv_text), delimiter=";")
    assert csv_ds.texts == ds.texts and [e.labels for e in csv_ds.examples] == [
        e.labels for e in ds.examples
    ]


def test_the_taxonomy_style_file(tmp_path):
    metadata = {
        "system": "taxonomy",
        "version": 3,
        "total_samples": 4,
        "taxonomy_distribution": {"000": 3, "004": 3, "012": 1},
    }
    rows = [
        {"text": "invoice overdue", "taxonomy_codes": ["000", "004"], "confidence": 1.0},
        {"text": "refund request", "taxonomy_codes": ["000"], "confidence": 0.5},
        {"text": "address change", "taxonomy_codes": ["004", "012"], "confidence": 0.8},
        {"text": "invoice overdue", "taxonomy_codes": ["004", "000"], "confidence": 1.0},
    ]
    path = write(tmp_path, "tax.json", samples_json(rows, metadata=metadata))
    assert multi_label_file(path)
    ds = load_multilabel(path)
    assert ds.labels == ["000", "004", "012"] and ds.metadata == metadata
    assert ds.weights.tolist() == pytest.approx([1.0, 0.5, 0.8])
    assert ds.report.duplicates == [(f"{path}#samples[3]", f"{path}#samples[0]")]
    assert ds.report.summary().endswith(f"({path}#samples[3] = #samples[0])")


# --- detection for data.task: auto ---


def test_recognised_metadata_keys_are_the_ones_asked_for():
    assert COUNT_KEYS == ("total_samples", "num_samples", "n_samples", "sample_count", "count")
    assert DISTRIBUTION_KEYS == (
        "class_distribution",
        "label_distribution",
        "label_counts",
        "taxonomy_distribution",
    )
    assert LIST_FIELDS == ("labels", "categories", "taxonomy_codes")


def test_detection(tmp_path):
    assert multi_label_file(write(tmp_path, "m.jsonl", jsonl(ROWS)))
    assert multi_label_file(write(tmp_path, "m.json", samples_json(ROWS)))
    single = [{"title": "a", "category": "x"}, {"title": "b", "category": "y"}]
    assert not multi_label_file(write(tmp_path, "s.json", samples_json(single)))
    assert not multi_label_file(write(tmp_path, "s.jsonl", jsonl([{"text": "a", "label": "x"}])))
    # rows without a usable label field are left to the loader; the first that has one decides
    rows = [{"text": "no label"}, "not an object", {"text": "t", "labels": None}, *ROWS]
    assert multi_label_file(write(tmp_path, "late.jsonl", jsonl(rows) + "{bad json\n"))
    csv_path = write(tmp_path, "m.csv", "text,labels\na,x|y\nb,y\n")
    assert not multi_label_file(csv_path)  # a CSV needs data.task: multi_label
    assert load_multilabel(csv_path).labels == ["x", "y"]
    assert "data file not found" in str(detect_error(tmp_path / "missing.json"))


def test_detection_rejects_a_mix_of_lists_and_strings(tmp_path):
    rows = [*ROWS[:2], {"text": "plain", "labels": "bug"}, *ROWS[2:]]
    path = write(tmp_path, "mix.jsonl", jsonl(rows))
    assert str(detect_error(path)).startswith(
        f"{path}:3: field 'labels' is a string but {path}:1 has a list in 'labels'"
    )
    single = [{"title": "a", "category": "x"}, {"title": "b", "categories": ["x", "y"]}]
    path = write(tmp_path, "mix.json", samples_json(single))
    assert str(detect_error(path)).startswith(
        f"{path}#samples[1]: field 'categories' is a list but {path}#samples[0] has a string "
        "in 'category'"
    )


# --- bad input: every message names the place, the field and the fix ---


def test_row_problems_are_all_listed_with_place_and_field(tmp_path):
    rows = [
        *ROWS,
        {"labels": ["bug"]},  # 5
        {"text": "no labels here"},  # 6
        {"text": "a string", "labels": "bug"},  # 7
        {"text": "empty list", "labels": []},  # 8
        {"text": "code as number", "taxonomy_codes": ["001", 0]},  # 9
        {"text": "odd entries", "labels": [None, {"a": 1}, True, "  "]},  # 10
        {"text": "twice", "labels": ["bug", "ui", " bug"]},  # 11
        {"text": "both", "labels": ["bug"], "categories": ["ui"]},  # 12
        {"text": 7, "labels": ["bug"]},  # 13
        {"text": "<p> </p>", "labels": ["bug"]},  # 14
        ["not", "an", "object"],  # 15
        {"text": "bad weight", "labels": ["bug"], "confidence": 1.5},  # 16
    ]
    path = write(tmp_path, "rows.json", samples_json(rows))
    err = load_error(path)
    msg = str(err)
    at = f"{path}#samples"
    assert msg.startswith(f"{path}: {len(err.problems)} problem(s); fix them all")
    expected = [
        f"{at}[5]: missing field 'text'; add it (or 'title' and an optional 'description')",
        f"{at}[6]: missing label field; add 'labels' (a list of strings; or 'categories' / "
        "'taxonomy_codes')",
        f"{at}[7]: field 'labels' must be a list of labels, got string \"bug\"; write a list "
        'such as ["bug"]',
        f"{at}[8]: field 'labels' is an empty list; give at least one label or delete the row",
        f"{at}[9]: field 'taxonomy_codes'[1] must be a string, got number 0; quote it (\"0\"): "
        "labels are strings, and a number loses leading zeros",
        f"{at}[10]: field 'labels'[0] must be a string, got null; give the label as a string",
        f"{at}[10]: field 'labels'[1] must be a string, got object {{\"a\": 1}}",
        f"{at}[10]: field 'labels'[2] must be a string, got boolean true",
        f"{at}[10]: field 'labels'[3] is blank; remove it or give a label",
        f"{at}[11]: field 'labels' lists 'bug' twice; list each label once",
        f"{at}[12]: fields 'labels' and 'categories' both given; keep one",
        f"{at}[13]: field 'text' must be a string, got number 7",
        f"{at}[14]: field 'text' is empty after cleaning (was \"<p> </p>\"); write a real text "
        "or delete the row",
        f"{at}[15]: a sample must be an object with 'text' and 'labels', got array",
        f"{at}[16]: field 'confidence' must be a number in (0, 1], got number 1.5; give the "
        "labeller's confidence (e.g. 0.8) or drop the field",
    ]
    assert len(err.problems) == len(expected)
    for problem, start in zip(err.problems, expected, strict=True):
        assert problem.startswith(start), (problem, start)


def test_jsonl_and_csv_problems_name_the_line(tmp_path):
    lines = [json.dumps(r) for r in ROWS] + ['{"text": "x", "labels": ]', ""]
    lines.append(json.dumps({"text": "y", "labels": ["bug", 1.5]}))
    path = write(tmp_path, "bad.jsonl", "\n".join(lines))
    assert load_error(path).problems == [
        f"{path}:6: invalid JSON at column 25 (Expecting value)",
        f"{path}:8: field 'labels'[1] must be a string, got number 1.5; quote it (\"1.5\"): "
        "labels are strings, and a number loses leading zeros",
    ]
    body = "".join(f'"{r["text"]}",{"|".join(r["labels"])},\n' for r in ROWS)
    csv_text = "text,labels,weight\n" + body + "empty cell, ,\nextra bar,bug||ui,\n"
    csv_text += "twice,bug|ui|bug,\ntrailing,bug|,\nweighted,bug,0\nshort\n"
    path = write(tmp_path, "bad.csv", csv_text)
    assert load_error(path).problems == [
        f"{path}:7: field 'labels' is empty; give at least one label (several separated by "
        "'|') or delete the row",
        f"{path}:8: field 'labels' label 2 is blank; remove the extra '|'",
        f"{path}:9: field 'labels' lists 'bug' twice; list each label once",
        f"{path}:10: field 'labels' label 2 is blank; remove the extra '|'",
        f"{path}:11: field 'weight' must be a finite number > 0, got number 0.0; give a positive "
        "number (1 = ordinary) or drop the field",
        f"{path}:12: row has 1 fields but the header has 3; add them",
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("text,label", "a multi-label CSV header must name text (or title and an optional"),
        ("labels,id", "a multi-label CSV header must name text"),
        ("text,labels,categories", "the CSV header names 2 label columns; keep one"),
    ],
)
def test_csv_header_must_name_text_and_one_label_column(tmp_path, header, message):
    path = write(tmp_path, "h.csv", header + "\na,b,c\n")
    assert str(load_error(path)).startswith(f"{path}:1: {message}")


def test_conflicting_label_sets_name_both_rows_unless_kept(tmp_path):
    rows = [*ROWS, {"text": "crash on save", "labels": ["bug", "ui"]}]
    path = write(tmp_path, "c.jsonl", jsonl(rows))
    assert load_error(path).problems == [
        f"{path}:6: same text as {path}:2 but labelled ['bug', 'ui'] here and ['bug'] there; "
        'keep one label set ("crash on save")'
    ]
    ds = load_multilabel(path, conflicts="keep")
    assert ds.conflicts == [(f"{path}:6", f"{path}:2")] and ds.report.kept == 6
    assert "conflicts must be one of error, keep" in str(load_error(path, conflicts="merge"))


def test_label_counts_and_file_level_errors(tmp_path):
    path = write(tmp_path, "d.jsonl", jsonl(ROWS))
    err = load_error(path, min_per_label=3)
    assert err.problems == [
        f"label {label!r} has 2 example(s), fewer than min_per_label=3; add examples or remove "
        "the label"
        for label in ("auth", "feature", "ui")
    ]
    one = write(tmp_path, "one.jsonl", jsonl([{"text": f"t{i}", "labels": ["a"]} for i in "12"]))
    assert "only one label ('a') in 2 examples; a classifier needs at least 2" in str(
        load_error(one)
    )
    assert len(load_multilabel(one, min_labels=1).labels) == 1
    assert "min_per_label must be ≥ 1" in str(load_error(path, min_per_label=0))
    assert "unsupported file type '.txt'" in str(load_error(write(tmp_path, "d.txt", "x")))
    for name, content in (("e.json", '{"samples": []}'), ("e.jsonl", "\n"), ("e.csv", "")):
        assert str(load_error(write(tmp_path, name, content))).endswith(
            "the file has no examples; add labelled examples to it"
        )
    assert 'no "samples" key' in str(load_error(write(tmp_path, "top.json", '{"rows": []}')))


# --- the metadata block ---


def test_metadata_that_agrees_is_kept(tmp_path):
    metadata = {
        "n_samples": 6,  # every entry of samples, the duplicate included
        "label_counts": {"auth": 2, "bug": 4, "feature": 2, "ui": 2, "unused": 0},
        "source": {"exported": "2024-05-01"},
    }
    rows = [*ROWS, {"text": "crash on save", "labels": ["bug"]}]
    ds = load_multilabel(write(tmp_path, "m.json", samples_json(rows, metadata=metadata)))
    assert ds.metadata == metadata and ds.report.kept == 5 and len(ds.report.duplicates) == 1


@pytest.mark.parametrize("key", COUNT_KEYS)
def test_metadata_sample_count_disagreement(tmp_path, key):
    path = write(tmp_path, "m.json", samples_json(ROWS, metadata={key: 7}))
    assert load_error(path).problems == [
        f"{path}#metadata.{key}: states 7 samples but the file has 5 (every entry of samples, "
        "duplicates included); update the metadata block or the samples"
    ]


@pytest.mark.parametrize("key", DISTRIBUTION_KEYS)
def test_metadata_distribution_disagreement(tmp_path, key):
    stated = {"auth": 2, "bug": 2, "feature": 2, "other": 1}  # bug is 3, ui missing
    path = write(tmp_path, "m.json", samples_json(ROWS, metadata={key: stated}))
    assert load_error(path).problems == [
        f"{path}#metadata.{key}: 3 label count(s) differ from the samples (samples carrying "
        "each label, duplicates included): 'bug' stated 2, counted 3; 'other' stated 1, "
        "counted 0; 'ui' stated none, counted 2; update the metadata block or the samples"
    ]


def test_malformed_metadata_and_checks_alongside_row_problems(tmp_path):
    cases = [
        ([1, 2], "#metadata: must be an object, got array [1, 2]"),
        ({"count": "5"}, '#metadata.count: must be a whole number ≥ 0, got string "5"'),
        ({"count": 5.5}, "#metadata.count: must be a whole number ≥ 0, got number 5.5"),
        ({"count": True}, "#metadata.count: must be a whole number ≥ 0, got boolean true"),
        ({"total_samples": 10**400}, "#metadata.total_samples: states 1000"),
        ({"class_distribution": [1]}, "#metadata.class_distribution: must be an object"),
        ({"label_counts": {"bug": -1}}, "#metadata.label_counts.bug: must be a whole number"),
    ]
    for metadata, message in cases:
        path = write(tmp_path, "m.json", samples_json(ROWS, metadata=metadata))
        problems = load_error(path).problems
        assert len(problems) == 1 and problems[0].startswith(f"{path}{message}"), problems
    # a broken row: its problem and the count are reported; the distribution waits for the rows
    metadata = {"count": 9, "class_distribution": {"nothing": 1}}
    path = write(tmp_path, "m.json", samples_json([*ROWS, {"text": "x"}], metadata=metadata))
    problems = load_error(path).problems
    assert [p.split(": ")[0] for p in problems] == [f"{path}#samples[5]", f"{path}#metadata.count"]
    assert load_multilabel(write(tmp_path, "n.json", samples_json(ROWS, metadata=None)))


# --- sample weights ---


def test_weight_and_confidence_become_the_sample_weight(tmp_path):
    rows = [dict(r) for r in ROWS]
    rows[0]["weight"] = 3
    rows[1]["confidence"] = 0.5
    rows[2].update(weight=2.5, confidence=0.8)
    rows[3]["confidence"] = None
    expected = [3.0, 0.5, 2.0, 1.0, 1.0]
    for name, content in (("w.json", samples_json(rows)), ("w.jsonl", jsonl(rows))):
        ds = load_multilabel(write(tmp_path, name, content))
        assert ds.weights.tolist() == pytest.approx(expected)
        assert [e.weight for e in ds.subset([2, 0]).examples] == pytest.approx([2.0, 3.0])
    cells = ["3,", ",0.5", "2.5,0.8", ",", ","]
    csv_text = "text,labels,weight,confidence\n" + "".join(
        f"{r['text']},{'|'.join(r['labels'])},{c}\n" for r, c in zip(ROWS, cells, strict=True)
    )
    ds = load_multilabel(write(tmp_path, "w.csv", csv_text))
    assert ds.weights.tolist() == pytest.approx(expected)
    bad = [dict(r) for r in ROWS]
    bad[1]["weight"], bad[3]["confidence"] = "2", 0
    problems = load_error(write(tmp_path, "b.jsonl", jsonl(bad))).problems
    assert [p.split(": field")[0] for p in problems] == [
        f"{tmp_path}/b.jsonl:2",
        f"{tmp_path}/b.jsonl:4",
    ]
    assert (
        'got string "2"' in problems[0]
        and "'confidence' must be a number in (0, 1]" in (problems[1])
    )


def test_single_label_loader_is_unchanged_by_the_shared_readers(tmp_path):
    path = write(tmp_path, "h.csv", "name,kind\nx,y\n")
    with pytest.raises(DataError, match=r"h\.csv:1: the CSV header must name the columns text"):
        load_dataset(path)


# --- properties ---

LABEL = st.text(st.characters(codec="utf-8", exclude_characters="|"), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(LABEL.filter(str.strip), min_size=1, max_size=4, unique_by=str.strip),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["json", "jsonl", "csv"]),
    st.sampled_from(LIST_FIELDS),
)
def test_label_sets_round_trip_and_y_has_exactly_the_row_labels(label_sets, fmt, key):
    rows = [{"text": f"example {i}", key: labels} for i, labels in enumerate(label_sets)]
    if fmt == "csv":
        content = f"text,{key}\n" + "".join(
            f'{r["text"]},"{"|".join(r[key]).replace(chr(34), chr(34) * 2)}"\n' for r in rows
        )
    else:
        content = samples_json(rows) if fmt == "json" else jsonl(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), f"r.{fmt}", content)
        ds = load_multilabel(path, min_labels=1)
        assert multi_label_file(path) == (fmt != "csv")
    stripped = [tuple(label.strip() for label in labels) for labels in label_sets]
    assert [e.labels for e in ds.examples] == stripped
    assert ds.labels == sorted({label for labels in stripped for label in labels})
    y = ds.Y
    for row, labels in zip(y, stripped, strict=True):
        assert {ds.labels[j] for j in np.flatnonzero(row)} == set(labels)
    order = list(range(len(ds.examples)))[::-1]
    sub = ds.subset(order)
    assert sub.labels == ds.labels and np.array_equal(sub.Y, y[order])
    assert sum(ds.label_counts().values()) == int(y.sum())


# --- the real GoEmotions training split ---


def test_goemotions_train_loads():
    folder = resources.datasets_dir() / "goemotions"
    path = folder / "train.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is not here (set TFCLS_DATASETS)")
    stats = json.loads((folder / "stats.json").read_text())["train"]
    assert multi_label_file(path)
    # distinct comments share a text with other labels ("I like it!"): strict loading says so
    err = load_error(path)
    assert all("same text as" in p for p in err.problems)
    ds = load_multilabel(path, min_per_label=3, conflicts="keep")
    assert 0 < len(ds.conflicts) <= len(err.problems)  # a repeat of a kept set is a duplicate
    assert len(ds.labels) == 28 == len((folder / "labels.txt").read_text().split())
    assert ds.report.rows == stats["n"] == 43410
    assert ds.report.kept + len(ds.report.duplicates) == stats["n"]
    by_source = {e.source: e for e in ds.examples}
    every_row = Counter(ds.label_counts())
    for _, kept in ds.report.duplicates:
        every_row.update(by_source[kept].labels)
    assert dict(every_row) == stats["per_label"]
    per_text = Counter(len(e.labels) for e in ds.examples)
    assert per_text[1] > per_text[2] > per_text[3] > 0 and max(per_text) <= 5
