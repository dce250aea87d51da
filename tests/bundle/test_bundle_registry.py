"""tfcls.bundle.registry: exported/ versions and the served pointer, on real files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfcls.bundle.metadata import BundleMetadata, BundleSize, MetadataError
from tfcls.bundle.registry import POINTER, Registry, RegistryError
from tfcls.decision.rule import UnknownRule
from tfcls.errors import TfclsError


def _record(version, **fields):
    return {"version": version, "labels": ["a", "b"], **fields}


def _bundle(root, version, record=None):
    (root / version).mkdir(parents=True)
    text = record if isinstance(record, str) else json.dumps(record or _record(version))
    (root / version / "metadata.json").write_text(text)


def test_empty_registry_says_how_to_get_a_model(tmp_path):
    reg = Registry(tmp_path / "exported")
    assert reg.current() is None and reg.versions() == []
    with pytest.raises(TfclsError, match=r"current\.json: nothing exported yet; run"):
        reg.require_current()


def test_set_current_switches_atomically_and_is_seen_at_once(tmp_path):
    _bundle(tmp_path, "20261201T000000Z-aaaa")
    _bundle(tmp_path, "20261202T000000Z-bbbb")
    reg, reader = Registry(tmp_path), Registry(tmp_path)
    reg.set_current("20261201T000000Z-aaaa")
    assert reader.current() == "20261201T000000Z-aaaa"
    reg.set_current("20261202T000000Z-bbbb")
    assert reader.current() == "20261202T000000Z-bbbb"  # re-read when the file changed
    version, meta = reader.require_metadata()
    assert version == meta.version == "20261202T000000Z-bbbb"
    assert meta.record == _record("20261202T000000Z-bbbb") and meta.labels == ("a", "b")
    assert reg.versions() == ["20261201T000000Z-aaaa", "20261202T000000Z-bbbb"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_unknown_versions_and_paths_are_refused(tmp_path):
    _bundle(tmp_path, "v1")
    reg = Registry(tmp_path)
    with pytest.raises(TfclsError, match=r"no such exported version"):
        reg.set_current("v2")
    assert reg.current() is None  # nothing was switched
    assert reg.metadata("../v1") is None and reg.metadata(".hidden") is None
    with pytest.raises(TfclsError, match=r"v3: not an exported bundle"):
        reg.require_metadata("v3")


def test_a_broken_pointer_is_a_registry_error_naming_the_file(tmp_path):
    (tmp_path / POINTER).write_text("{not json")
    with pytest.raises(RegistryError, match=r"current\.json: not a version pointer"):
        Registry(tmp_path).current()


def test_metadata_is_typed_and_keeps_the_full_record(tmp_path):
    record = _record(
        "v1",
        threshold=0.8,
        temperature=1.5,
        unknown={"score": "nearest", "threshold": 0.4, "known_recall": 0.95},
        quantization="float16",
        size={"bytes": 2000, "gzip_bytes": 1500},
        fidelity={"node_tfjs": {"argmax_agreement": 1.0}},
        encoder={"handle": "models/minilm", "fingerprint": "abc"},
        run="runs/r1",
        created_at="2026-12-01T00:00:00Z",
        tokenizer={"vocab": "vocab.txt"},
    )
    _bundle(tmp_path, "v1", record)
    meta = Registry(tmp_path).metadata("v1")
    assert isinstance(meta, BundleMetadata)
    assert (meta.version, meta.labels, meta.quantization) == ("v1", ("a", "b"), "float16")
    assert meta.threshold == 0.8 and meta.temperature == 1.5
    assert meta.unknown == UnknownRule("nearest", 0.4)
    assert meta.calibration.temperature == 1.0  # the bundle's outputs are calibrated
    assert meta.size == BundleSize(2000, 1500) == meta.require_size()
    assert meta.fidelity["node_tfjs"]["argmax_agreement"] == 1.0
    assert meta.encoder_handle == "models/minilm" and meta.require_run() == Path("runs/r1")
    assert meta.record == record  # all of it, tokenizer included
    assert Registry(tmp_path).metadata("v1") is not meta  # another registry reads it again
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.version = "v2"


def test_a_bundle_without_thresholds_run_or_size(tmp_path):
    meta = BundleMetadata.from_record(_record("v1"), "x/metadata.json")
    assert meta.threshold is None and meta.unknown is None and meta.size is None
    with pytest.raises(MetadataError, match=r"version v1: its metadata\.json names no 'run'"):
        meta.require_run()
    with pytest.raises(MetadataError, match=r"version v1: its metadata\.json has no 'size'"):
        meta.require_size()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("{not json", r"v1/metadata\.json: not valid JSON"),
        ("[1, 2]", r"v1/metadata\.json: not a JSON object"),
        (json.dumps({"labels": ["a"]}), r"v1/metadata\.json: field 'version' is missing"),
        (json.dumps({"version": "v1"}), r"v1/metadata\.json: field 'labels' is missing"),
        (json.dumps(_record("v1", labels=[])), r"field 'labels' must be a non-empty list"),
        (json.dumps(_record("v1", threshold="0.8")), r"field 'threshold' has the wrong type"),
        (json.dumps(_record("v1", threshold=True)), r"field 'threshold' has the wrong type"),
        (json.dumps(_record("v1", size={"bytes": 1})), r"field 'size' must hold integer"),
        (json.dumps(_record("v1", run=3)), r"field 'run' has the wrong type"),
    ],
)
def test_a_broken_metadata_file_is_a_registry_error_naming_file_and_field(
    tmp_path, record, message
):
    _bundle(tmp_path, "v1", record)
    with pytest.raises(RegistryError, match=message):
        Registry(tmp_path).metadata("v1")


# --- retention -------------------------------------------------------------------------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("export"), st.just(0)),
        st.tuples(st.just("rollback"), st.integers(0, 30)),
        st.tuples(st.just("prune"), st.integers(1, 4)),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(STEPS, st.sets(st.integers(0, 30), max_size=2))
def test_retention_never_deletes_current_rollback_or_ab(tmp_path_factory, steps, ab_picks):
    """Over random histories of exports, rollbacks and prunes: the current version, the one
    a rollback goes back to and every A/B version survive; beyond them at most ``keep``."""
    root = tmp_path_factory.mktemp("exported")
    registry, made = Registry(root), []
    for kind, arg in steps:
        if kind == "export":
            version = f"2026010{len(made) // 10}T{len(made) % 10:02d}0000Z-{len(made):08x}"
            _bundle(root, version)
            registry.set_current(version)
            made.append(version)
        elif kind == "rollback" and made:
            candidates = registry.versions()
            registry.set_current(candidates[arg % len(candidates)])
        elif kind == "prune" and made:
            ab = [
                made[i % len(made)] for i in ab_picks if made[i % len(made)] in registry.versions()
            ]
            live_before = set(registry.live(ab))
            before = registry.versions()
            deleted = registry.prune(arg, ab)
            after = registry.versions()
            assert live_before <= set(after)  # never a live version
            assert set(deleted) == set(before) - set(after)
            assert len(after) <= max(arg, len(live_before))
            assert deleted == sorted(deleted) and all(
                d < v for d in deleted for v in after if v not in live_before
            )  # the oldest go first
            assert not [p for p in root.iterdir() if p.name.startswith(".deleted-")]
    if made:
        assert registry.current() in registry.versions()


def test_rollback_history_and_bad_keep(tmp_path):
    registry = Registry(tmp_path)
    for version in ("20260101T000000Z-a", "20260102T000000Z-b", "20260103T000000Z-c"):
        _bundle(tmp_path, version)
        registry.set_current(version)
    assert registry.previous() == ["20260102T000000Z-b", "20260101T000000Z-a"]
    assert registry.live(["20260101T000000Z-a"]) == {
        "20260103T000000Z-c": ["current"],
        "20260102T000000Z-b": ["rollback"],
        "20260101T000000Z-a": ["a/b"],
    }
    registry.set_current("20260101T000000Z-a")  # a rollback: c is now its target
    assert registry.previous()[:2] == ["20260103T000000Z-c", "20260102T000000Z-b"]
    assert registry.prune(1) == ["20260102T000000Z-b"]
    with pytest.raises(TfclsError, match=r"serving\.keep_versions must be ≥ 1"):
        registry.prune(0)
