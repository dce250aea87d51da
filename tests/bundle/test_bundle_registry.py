"""tfcls.bundle.registry: exported/ versions and the served pointer, on real files."""

from __future__ import annotations

import json

import pytest

from tfcls.bundle.registry import POINTER, Registry, RegistryError
from tfcls.errors import TfclsError


def _bundle(root, version):
    (root / version).mkdir(parents=True)
    (root / version / "metadata.json").write_text(json.dumps({"version": version}))


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
    assert reader.require_metadata() == (
        "20261202T000000Z-bbbb",
        {"version": "20261202T000000Z-bbbb"},
    )
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
