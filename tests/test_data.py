"""Data loading, validation, cleaning and splits, on real files (no mocks).

The fixtures in tests/data/datasets/ hold the same ten rows (one an exact duplicate) as
SmartSynch JSON, JSONL and CSV; every bad-input case is a small file written to tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.data.dataset import DataError, load_dataset

DATASETS = Path(__file__).parent / "data" / "datasets"
BUNDLED = Path(__file__).resolve().parents[1] / "data" / "training_data.json"

EXPECTED_TEXTS = [
    "Fix login redirect bug. Users land on a blank page after SSO .",
    "Crash on save",
    "Null pointer in < Editor>",
    "Weekly team sync. Agenda: status, blockers",
    "Sprint review. demo retro notes",
    "1:1 with Dana",
    "Design the onboarding page. See mockups",
    "Icon set for settings. svg exports please",
    "Why is the logo blurry? check the retina assets",
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def samples_json(rows: list) -> str:
    return json.dumps({"samples": rows})


def jsonl(rows: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def valid_rows(labels: str = "abc", per_label: int = 3) -> list[dict]:
    return [
        {"title": f"task {label} {i}", "description": "", "category": label}
        for label in labels
        for i in range(per_label)
    ]


def load_error(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(path, **kwargs)
    return info.value


# --- the three formats ---


@pytest.mark.parametrize(
    ("name", "duplicate"),
    [
        ("tasks.json", ("#samples[9]", "#samples[1]")),
        ("tasks.jsonl", (":11", ":2")),
        ("tasks.csv", (":12", ":3")),
    ],
)
def test_fixture_formats_load_to_the_same_examples(name, duplicate):
    path = DATASETS / name
    ds = load_dataset(path)
    assert ds.texts == EXPECTED_TEXTS
    assert ds.labels == ["bug", "design", "meeting"]
    assert [e.label for e in ds.examples] == ["bug"] * 3 + ["meeting"] * 3 + ["design"] * 3
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.examples[0].title == "Fix login redirect bug"
    assert ds.examples[0].description == "Users land on a blank page after SSO ."
    assert ds.examples[2].description == ""
    assert ds.report.rows == 10 and ds.report.kept == 9
    assert ds.report.duplicates == [(str(path) + duplicate[0], str(path) + duplicate[1])]
    assert ds.report.summary() == (
        f"read 10 rows, kept 9, skipped 1 exact duplicate ({path}{duplicate[0]} = {duplicate[1]})"
    )
    assert ds.examples[1].source == str(path) + duplicate[1]


def test_text_label_schema_in_jsonl_and_csv_with_bom_and_extra_columns(tmp_path):
    rows = [{"text": f"item {label}{i}", "label": f" {label} "} for label in "xy" for i in range(3)]
    a = load_dataset(write(tmp_path, "a.jsonl", "\n\n" + jsonl(rows) + "\n  \n"))
    assert (
        a.labels == ["x", "y"] and a.texts[0] == "item x0" and a.examples[0].source.endswith(":3")
    )
    csv_text = "\ufeffid,TEXT , Label\n" + "".join(
        f'{i},"{r["text"]}",{r["label"]}\n' for i, r in enumerate(rows)
    )
    b = load_dataset(write(tmp_path, "b.csv", csv_text + ",,\n"))
    assert b.texts == a.texts and b.labels == a.labels and b.report.rows == 6
    assert b.examples[0].title == "item x0" and b.examples[0].description == ""
    c = load_dataset(write(tmp_path, "c.JSON", samples_json(rows)))  # text+label in JSON too
    assert c.texts == a.texts and c.examples[5].source.endswith("#samples[5]")


def test_dataset_label_map_y_and_subset():
    ds = load_dataset(DATASETS / "tasks.json")
    assert ds.label_map() == {"bug": 0, "design": 1, "meeting": 2}
    assert ds.y.dtype == np.int64 and list(ds.y) == [0, 0, 0, 2, 2, 2, 1, 1, 1]
    sub = ds.subset(np.array([8, 0]))
    assert sub.labels == ds.labels and list(sub.y) == [1, 0]
    assert sub.texts == [ds.texts[8], ds.texts[0]] and sub.sha256 == ds.sha256


def test_bundled_training_data_loads():
    assert BUNDLED.is_file(), f"{BUNDLED} is missing: the project ships its training data"
    ds = load_dataset(BUNDLED)
    assert len(ds.examples) >= 500
    assert len(ds.labels) == 5
    assert min(Counter(e.label for e in ds.examples).values()) >= 3


# --- sample weights: optional weight and confidence fields ---


def test_weight_and_confidence_become_the_sample_weight_in_every_format(tmp_path):
    rows = valid_rows()
    rows[0]["weight"] = 3
    rows[1]["confidence"] = 0.5
    rows[2].update(weight=2.5, confidence=0.8)  # both: the product
    rows[3]["weight"] = None  # null: no weight given
    expected = [3.0, 0.5, 2.0] + [1.0] * 6
    for name, content in (("w.json", samples_json(rows)), ("w.jsonl", jsonl(rows))):
        ds = load_dataset(write(tmp_path, name, content))
        assert ds.weights.dtype == np.float32
        assert ds.weights.tolist() == pytest.approx(expected)
        assert [e.weight for e in ds.subset([2, 0]).examples] == pytest.approx([2.0, 3.0])
    cells = {0: ("3", ""), 1: ("", "0.5"), 2: (" 2.5 ", "0.8")}
    csv_text = "title,category,Weight,CONFIDENCE\n" + "".join(
        f"{r['title']},{r['category']},{','.join(cells.get(i, ('', '')))}\n"
        for i, r in enumerate(rows)
    )
    ds = load_dataset(write(tmp_path, "w.csv", csv_text))
    assert ds.weights.tolist() == pytest.approx(expected)
    assert load_dataset(DATASETS / "tasks.csv").weights.tolist() == [1.0] * 9


def test_bad_weights_name_the_place_the_field_and_what_to_do(tmp_path):
    rows = valid_rows()
    bad = [("weight", 0), ("weight", True), ("weight", "2"), ("weight", -1.5)]
    bad += [("confidence", 1.5), ("confidence", 0), ("weight", 10**400)]
    for i, (key, value) in enumerate(bad):
        rows[i][key] = value
    path = write(tmp_path, "w.jsonl", jsonl(rows) + '{"text": "t", "label": "a", "weight": NaN}\n')
    err = load_error(path)
    assert len(err.problems) == 8
    fix = "give a positive number (1 = ordinary) or drop the field"
    assert (
        err.problems[0]
        == f"{path}:1: field 'weight' must be a finite number > 0, got number 0; {fix}"
    )
    assert err.problems[1].startswith(
        f"{path}:2: field 'weight' must be a finite number > 0, got boolean true"
    )
    assert err.problems[2].startswith(
        f"{path}:3: field 'weight' must be a finite number > 0, got string \"2\""
    )
    assert "got number -1.5" in err.problems[3]
    assert err.problems[4] == (
        f"{path}:5: field 'confidence' must be a number in (0, 1], got number 1.5; "
        "give the labeller's confidence (e.g. 0.8) or drop the field"
    )
    assert (
        f"{path}:6: field 'confidence' must be a number in (0, 1], got number 0" in err.problems[5]
    )
    assert f"{path}:7: field 'weight' must be a finite number > 0" in err.problems[6]
    assert err.problems[7].startswith(
        f"{path}:10: field 'weight' must be a finite number > 0, got number NaN"
    )
    body = "".join(f"task {x}{i},{x},1\n" for x in "ab" for i in range(3))
    csv_path = write(
        tmp_path, "w.csv", "text,label,weight\n" + body + "u,a,abc\nv,a,inf\nw,b,nan\n"
    )
    problems = load_error(csv_path).problems
    assert [p.split(": field")[0] for p in problems] == [f"{csv_path}:{n}" for n in (8, 9, 10)]
    assert 'got string "abc"' in problems[0] and "got number Infinity" in problems[1]


# --- bad input: every message names the file, the place and the field ---


def test_unsupported_extension_and_missing_file(tmp_path):
    err = load_error(write(tmp_path, "d.txt", "x"))
    assert "d.txt: unsupported file type '.txt'" in str(err) and ".json, .jsonl, .csv" in str(err)
    assert "missing.json: data file not found" in str(load_error(tmp_path / "missing.json"))


def test_malformed_json_names_line_and_column(tmp_path):
    path = write(tmp_path, "bad.json", '{"samples": [\n  {"title": "a",, }\n]}')
    assert re.search(r"bad\.json: line 2, column 17: invalid JSON", str(load_error(path)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a top-level object"),
        ('{"items": []}', 'no "samples" key'),
        ('{"samples": {"a": 1}}', '"samples" must be a list, got object'),
    ],
)
def test_json_top_level_shape(tmp_path, content, message):
    err = load_error(write(tmp_path, "top.json", content))
    assert str(err).startswith(str(tmp_path / "top.json")) and message in str(err)


def test_row_problems_are_all_listed_with_place_and_field(tmp_path):
    rows = [
        *valid_rows(),
        ["not", "an", "object"],
        {"title": "no category"},
        {"title": 42, "category": "a"},
        {"title": "<p> </p>", "category": "a"},
        {"title": "ok title", "category": "  "},
        {"title": "t", "description": 7, "category": "a"},
        {"description": "only"},
    ]
    path = write(tmp_path, "rows.json", samples_json(rows))
    err = load_error(path)
    msg = str(err)
    assert msg.startswith(f"{path}: 8 problem(s)") and len(err.problems) == 8
    assert f"{path}#samples[9]: a sample must be an object" in msg
    assert f"{path}#samples[10]: missing field 'category'" in msg
    assert f"{path}#samples[11]: field 'title' must be a string, got number 42" in msg
    assert f"{path}#samples[12]: field 'title' is empty after cleaning" in msg
    assert f"{path}#samples[13]: field 'category' is blank" in msg
    assert f"{path}#samples[14]: field 'description' must be a string, got number" in msg
    assert f"{path}#samples[15]: missing field 'title'" in msg


def test_jsonl_bad_lines_name_line_column_and_field(tmp_path):
    lines = [json.dumps(r) for r in valid_rows()]
    lines[1] = '{"text": "a", "label": }'
    lines.insert(3, "")
    lines.insert(5, json.dumps({"text": "x", "label": None}))
    lines.insert(6, json.dumps({"foo": 1}))
    path = write(tmp_path, "bad.jsonl", "\n".join(lines))
    msg = str(load_error(path))
    assert f"{path}:2: invalid JSON at column 24" in msg
    assert f"{path}:6: field 'label' must be a string, got null" in msg
    assert f"{path}:7: missing field 'title'; add it (or use 'text' and 'label')" in msg
    assert f"{path}:7: missing field 'category'" in msg


def test_conflicting_labels_name_both_places_and_labels(tmp_path):
    rows = [*valid_rows(), {"title": "task a 1", "description": None, "category": "b"}]
    path = write(tmp_path, "c.jsonl", jsonl(rows))
    msg = str(load_error(path))
    assert f"{path}:10: same text as {path}:2 but labelled 'b' here and 'a' there" in msg


def test_cleaning_can_make_texts_collide(tmp_path):
    rows = [*valid_rows(), {"title": "<b>task</b> a 1", "category": "a"}]
    ds = load_dataset(write(tmp_path, "d.json", samples_json(rows)))
    assert ds.report.duplicates == [
        (f"{tmp_path}/d.json#samples[9]", f"{tmp_path}/d.json#samples[1]")
    ]
    assert ds.report.summary().endswith("(" + f"{tmp_path}/d.json#samples[9] = #samples[1])")


def test_more_than_twenty_problems_are_summarised(tmp_path):
    rows = valid_rows() + [{"title": "", "category": "a"}] * 25
    err = load_error(write(tmp_path, "many.json", samples_json(rows)))
    assert len(err.problems) == 25 and str(err).endswith("… and 5 more")
    assert str(err).count("is empty after cleaning") == 20


def test_non_utf8_names_byte_offset_and_line(tmp_path):
    good = jsonl(valid_rows()).encode()
    path = write(tmp_path, "latin.jsonl", good + b'{"text": "caf\xe9", "label": "a"}\n')
    msg = str(load_error(path))
    assert f"{path}:10: not UTF-8" in msg and f"byte offset {len(good) + 13}" in msg
    bom = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + samples_json(valid_rows()).encode())
    assert len(load_dataset(bom).examples) == 9


def test_small_labels_and_single_label(tmp_path):
    rows = valid_rows("ab") + valid_rows("c", per_label=2) + valid_rows("d", per_label=1)
    err = load_error(write(tmp_path, "small.json", samples_json(rows)))
    assert "label 'c' has 2 example(s), fewer than min_per_label=3" in str(err)
    assert "label 'd' has 1 example(s)" in str(err) and "add examples or remove the label" in str(
        err
    )
    assert len(load_dataset(tmp_path / "small.json", min_per_label=1).labels) == 4
    one = write(tmp_path, "one.json", samples_json(valid_rows("a")))
    assert "only one label ('a') in 3 examples" in str(load_error(one))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.json", ""),
        ("empty.jsonl", "\n  \n"),
        ("empty2.json", '{"samples": []}'),
        ("empty.csv", "title,category\n"),
        ("empty2.csv", ""),
    ],
)
def test_empty_files(tmp_path, name, content):
    err = load_error(write(tmp_path, name, content))
    assert str(err) == f"{tmp_path / name}: the file has no examples; add labelled examples to it"


def test_malformed_csv_names_line(tmp_path):
    body = "".join(f"task {x}{i},,{x}\n" for x in "ab" for i in range(3))
    path = write(
        tmp_path,
        "bad.csv",
        'title,description,category\n"a, b",x,a,extra\n' + body + 'c,"d"e,a\nshort,a\n',
    )
    err = load_error(path)
    assert err.problems == [
        f"{path}:2: row has 4 fields but the header has 3; quote fields that contain commas",
        f"{path}:9: malformed CSV (',' expected after '\"'); check the quotes in this row",
        f"{path}:10: row has 2 fields but the header has 3; add them",
    ]
    header = write(tmp_path, "header.csv", "name,kind\nx,y\n")
    assert "header.csv:1: the CSV header must name the columns text,label" in str(
        load_error(header)
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
        min_size=2,
        max_size=6,
        unique_by=lambda s: s.strip(),
    )
)
def test_label_map_is_a_bijection_and_y_round_trips(names):
    names = [n for n in names if n.strip()]
    if len(names) < 2:
        return
    rows = [{"text": f"example {i} {j}", "label": n} for i, n in enumerate(names) for j in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        ds = load_dataset(write(Path(tmp), "labels.jsonl", jsonl(rows)))
    mapping = ds.label_map()
    assert sorted(mapping.values()) == list(range(len(ds.labels)))
    assert set(mapping) == {n.strip() for n in names} and ds.labels == sorted(mapping)
    assert [ds.labels[i] for i in ds.y] == [e.label for e in ds.examples]


def test_the_csv_reader_reads_exactly_the_weight_fields_as_numbers():
    from tfcls.data import dataset, formats

    assert set(dataset._WEIGHT_FIELDS) == formats.NUMERIC_FIELDS
