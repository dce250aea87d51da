"""`python -m tfcls.export`: bundle layout and metadata, Node↔Keras parity, atomic publishing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import child_env, run_train, train_cmd

from tfcls.bundle import export as export_mod
from tfcls.bundle import fidelity as fidelity_mod
from tfcls.bundle.registry import Registry
from tfcls.errors import TfclsError

METADATA_KEYS = {
    "schema_version": int,
    "version": str,
    "labels": list,
    "threshold": (float, type(None)),
    "temperature": float,
    "unknown": (dict, type(None)),
    "tokenizer": dict,
    "encoder": dict,
    "training_data_sha256": str,
    "run": str,
    "metrics": dict,
    "quantization": str,
    "fidelity": dict,
    "created_at": str,
    "seconds": float,
    "size": dict,
}


def export_cmd(run_dir: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tfcls.export", "--run", str(run_dir), "--out", str(out), *extra]


def test_bundle_layout_metadata_and_current_pointer(tiny_run, cache_dir, tmp_path):
    out = tmp_path / "exported"
    proc = subprocess.run(
        export_cmd(tiny_run, out, "--quantize", "float16"),
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("exported ")
    version = json.loads((out / "current.json").read_text())["version"]
    bundle = out / version
    meta = json.loads((bundle / "metadata.json").read_text())
    for key, kind in METADATA_KEYS.items():
        assert isinstance(meta[key], kind), (key, meta[key])
    assert meta["version"] == version and meta["quantization"] == "float16"
    # chosen on the validation split and the check set; the test split only recorded
    assert meta["fidelity"]["texts"] == "val split"
    assert meta["fidelity"]["node_tfjs_test"]["texts"] == "test split"
    assert meta["labels"] == sorted(json.loads((tiny_run / "label_map.json").read_text()))
    assert meta["tokenizer"]["inputs"] == ["input_word_ids", "input_mask"]
    assert meta["unknown"]["score"] == "nearest"
    for runtime in ("python_bundle", "node_tfjs", "node_tfjs_check"):
        f = meta["fidelity"][runtime]
        assert f["argmax_agreement"] == 1.0 and f["max_probability_diff"] < 1e-2, f
    # the server's Python run of the bundle computes what Node computes
    assert meta["fidelity"]["python_bundle"]["max_probability_diff_vs_node"] < 1e-5
    # the nearest-text similarity is computed in the bundle too (float16 weights)
    assert meta["fidelity"]["node_tfjs"]["max_similarity_diff"] < 1e-2
    # the second text set: the run's own data by default, larger than the held-out split
    check = meta["fidelity"]["node_tfjs_check"]
    assert (
        check["texts"].startswith("the run's train and val data")
        and check["n"] > meta["fidelity"]["node_tfjs"]["n"]
    )
    assert "accuracy" not in check  # labels are not used there
    assert (bundle / "vocab.txt").read_text() == Path(
        meta["encoder"]["handle"], "preprocessor", "assets", "vocab.txt"
    ).read_text()
    assert list(bundle.glob("group1-shard*.bin"))
    # a version on disk is its download and the compressed copies, nothing else
    kept = {p.name for p in bundle.iterdir()} - {"metadata.json"}
    sent = {p.name for p in export_mod.download_files(bundle)}
    assert kept <= sent | {n + ".gz" for n in sent} | {n + ".br" for n in sent}
    assert {n + ".gz" for n in sent} <= kept
    assert meta["size"]["bytes"] > meta["size"]["gzip_bytes"] > 0
    assert not list(out.glob(".build-*"))  # the build folder is gone


def test_the_bundle_runs_in_python_on_strings(tiny_run, cache_dir, tmp_path, monkeypatch):
    from tfcls.bundle.runtime import BundleModel

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    texts = ["set an alarm for 6am", "what's the weather like", "play some jazz"]
    meta = export_mod.export(tiny_run, tmp_path, "none", check_texts=texts)
    assert isinstance(meta, export_mod.ExportResult) and meta.published
    assert meta.path == tmp_path / meta.version and meta.quantization == "none"
    on_disk = json.loads((meta.path / "metadata.json").read_text())
    assert meta.to_dict() == {**on_disk, "path": str(meta.path)}  # the untyped view
    assert meta.metadata == Registry(tmp_path).require_metadata()[1]
    assert meta.size.bytes == on_disk["size"]["bytes"] and meta.metadata.run == tiny_run
    assert meta.metadata.labels == tuple(on_disk["labels"])
    assert meta.metadata.threshold == on_disk["threshold"]
    assert meta.metadata.unknown.threshold == on_disk["unknown"]["threshold"]
    assert on_disk["fidelity"]["node_tfjs_check"]["n"] == len(texts)
    run = export_mod.Source(tiny_run)
    ref_proba, ref_sim = run.keras_outputs(texts)
    proba, sim = BundleModel(meta.path).predict(texts)
    np.testing.assert_allclose(proba, ref_proba, atol=1e-5)
    np.testing.assert_allclose(sim, ref_sim, atol=1e-5)


def test_check_texts_come_from_a_jsonl_file(tiny_run, tmp_path):
    path = tmp_path / "check.jsonl"
    path.write_text("".join(json.dumps({"text": f"text {i % 7}"}) + "\n" for i in range(20)))
    check = export_mod.Source(tiny_run).check_texts(path, 5)
    assert check.name == str(path) and len(check.texts) == 5 == len(set(check.texts))
    assert check.reference[0].shape[0] == 5
    with pytest.raises(TfclsError, match="only 7 distinct texts"):
        export_mod.Source(tiny_run).check_texts(path, 10)
    path.write_text('{"label": "x"}\n')
    with pytest.raises(TfclsError, match=r"check\.jsonl:1: expected a JSON object"):
        export_mod.Source(tiny_run).check_texts(path, 1)


def test_versions_are_never_overwritten_and_rollback(tiny_run, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    first = export_mod.export(tiny_run, tmp_path, "float16")
    # a version name that exists (same second, same content hash) is refused
    monkeypatch.setattr(export_mod, "version_name", lambda bundle: first.version)
    with pytest.raises(TfclsError, match="never overwritten"):
        export_mod.export(tiny_run, tmp_path, "float16")
    assert Registry(tmp_path).current() == first.version
    monkeypatch.undo()
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    second = export_mod.export(tiny_run, tmp_path, "none")
    assert Registry(tmp_path).current() == second.version != first.version
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.export",
            "--out",
            str(tmp_path),
            "--rollback",
            first.version,
        ],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert Registry(tmp_path).current() == first.version
    with pytest.raises(TfclsError, match="no such exported version"):
        Registry(tmp_path).set_current("20990101T000000Z-deadbeef")


def test_a_killed_export_leaves_the_current_bundle_intact(
    tiny_run, cache_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    first = export_mod.export(tiny_run, tmp_path, "none")
    before = {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()}
    pointer = (tmp_path / "current.json").read_bytes()
    for stage in ("numeric", "tfjs-float16"):  # kill while saving, then while converting
        proc = subprocess.Popen(
            export_cmd(tiny_run, tmp_path, "--quantize", "float16"),
            env=child_env(cache_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while not list(tmp_path.glob(f".build-*/{stage}")) and proc.poll() is None:
            assert time.monotonic() < deadline, f"export never reached {stage}"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert (tmp_path / "current.json").read_bytes() == pointer
        assert {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()} == before
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
            [first.version, "current.json"]
        )
    # the next export removes the dead builds' folders and publishes normally
    export_mod.export(tiny_run, tmp_path, "float16")
    assert not list(tmp_path.glob(".build-*"))


def test_not_a_run_and_string_input_encoders_are_refused(
    small_dataset, tiny_text_module, cache_dir, tmp_path
):
    with pytest.raises(TfclsError, match=r"no head\.keras"):
        export_mod.Source(tmp_path)
    proc = run_train(
        train_cmd(
            small_dataset,
            tmp_path,
            "--max-trials",
            "1",
            "--name",
            "use",
            "--set",
            f"encoder.handle={tiny_text_module}",
        ),
        cache_dir,
    )
    assert proc.returncode == 0, proc.stderr
    assert "a string-input encoder: the encoder stays frozen" in proc.stderr  # not adaptable
    proc = subprocess.run(
        export_cmd(tmp_path / "use", tmp_path / "exported"),
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "string-input encoder cannot run in TF.js" in proc.stderr


def test_fidelity_bar():
    ok = {"accuracy_delta": -0.002, "agreement": 0.995}
    assert fidelity_mod.acceptable(ok)
    assert not fidelity_mod.acceptable({**ok, "accuracy_delta": -0.0021})
    assert not fidelity_mod.acceptable({**ok, "agreement": 0.994})


@pytest.mark.slow
def test_minilm_float32_bundle_in_node_matches_keras(trained, cache_dir, tmp_path, monkeypatch):
    """The real encoder through TF.js (wasm) and the JS tokenizer: ≥ 200 texts within 1e-4."""
    from tfcls.bench.public import datasets_dir
    from tfcls.bench.speed import read_texts

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    run_dir, _ = trained
    meta = export_mod.export(run_dir, tmp_path, "none")
    texts = read_texts(datasets_dir() / "hwu64" / "test.jsonl", 150) + read_texts(
        datasets_dir() / "banking77" / "test.jsonl", 60
    )
    texts += ["", "ÀÉÎ õü — naïve café", "日本語のテキスト", "emoji 🎉🎉 party", "x" * 300]
    ref_proba, ref_sim = export_mod.Source(run_dir).keras_outputs(texts)
    proba, _ = fidelity_mod.node_predict(meta.path, texts)
    assert len(texts) >= 200
    assert np.abs(proba - ref_proba).max() < 1e-4
    assert ref_sim is None  # the run scores unknown texts by max_softmax (nearest: tiny_run)
    assert (proba.argmax(1) == ref_proba.argmax(1)).all()


@pytest.mark.slow
def test_minilm_default_bundle_meets_its_recorded_fidelity(
    trained, cache_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    run_dir, _ = trained
    meta = export_mod.export(run_dir, tmp_path)  # --quantize auto
    recorded = meta.fidelity["node_tfjs"]
    assert fidelity_mod.acceptable(recorded)
    assert fidelity_mod.acceptable(meta.fidelity["node_tfjs_check"])  # the second set too
    tried = meta.fidelity["quantizations_tried"]
    assert meta.quantization in tried and tried[meta.quantization]["acceptable"]
    # auto stops at the first (smallest) acceptable setting
    order = export_mod.candidates("auto", per_channel=True)
    assert order[0] == "int8e6" and "uint8" not in order
    assert list(tried) == order[: order.index(meta.quantization) + 1]
    run = export_mod.Source(run_dir)
    texts, y = run.validation_texts()
    ref_proba, ref_sim = run.keras_outputs(texts)
    proba, sim = fidelity_mod.node_predict(meta.path, texts)
    again = fidelity_mod.fidelity(proba, sim, ref_proba, ref_sim, y)
    assert again == pytest.approx({k: v for k, v in recorded.items() if k != "texts"})


def test_publishing_keeps_serving_keep_versions_and_list_shows_them(
    tiny_run, cache_dir, tmp_path, monkeypatch, capsys
):
    """`tfcls export` deletes the oldest versions beyond serving.keep_versions (never the
    current one or the rollback target); `--list` names each version's role."""
    from tfcls.cli import export as export_cli

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    args = ["--run", str(tiny_run), "--out", str(tmp_path), "--quantize", "float16"]
    keep = ["--set", "serving.keep_versions=1"]
    made = []
    for _ in range(3):
        assert export_cli.main([*args, *keep]) == 0
        made.append(Registry(tmp_path).current())
    registry = Registry(tmp_path)
    # keep 1, but the rollback target (the version before current) is live too
    assert registry.versions() == made[1:] and registry.previous()[0] == made[1]
    assert "deleted 1 old version(s)" in capsys.readouterr().out
    assert export_cli.main(["--out", str(tmp_path), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(made[1]) and lines[0].endswith("rollback")
    assert lines[1].startswith(made[2]) and lines[1].endswith("current")
    assert lines[-1].startswith("2 version(s) in ")
