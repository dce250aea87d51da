"""Shared fixtures: a fresh cache, the real MiniLM encoder, and tiny TF Hub modules.

Tiny modules are built by the tests themselves (random weights, a 60-token vocabulary),
so both TF Hub conventions (BERT-style with a preprocessor, and string-input) are
exercised for real in well under a second each.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"

TINY_VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "fix",
    "login",
    "bug",
    "design",
    "page",
    "meeting",
    "plan",
    "the",
    "a",
    "team",
    "sync",
    "weekly",
    "research",
    "sprint",
    "review",
    "##s",
    "##ing",
    "##ed",
    "re",
    "##direct",
    "on",
    "##board",
    "!",
    "?",
    ".",
    ",",
    "-",
    "(",
    ")",
    "'",
    ":",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "##a",
    "##b",
    "##c",
    "##d",
    "##e",
    "##f",
    "##g",
    "##h",
    "##i",
]


@pytest.fixture(autouse=True)
def _progress_not_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with progress on, and whatever it sets the switch to is undone
    afterwards: a command parsed in-process with ``--quiet`` sets the process-wide switch
    (``TFCLS_QUIET``), which must not silence the next test or a module's fixtures."""
    from tfcls.progress import QUIET_ENV

    monkeypatch.setenv(QUIET_ENV, "0")  # "0": not quiet; removed again at teardown


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty tfcls cache for this test session."""
    return tmp_path_factory.mktemp("tfcls-cache")


@pytest.fixture(scope="session")
def minilm(cache_dir: Path):
    """The real all-MiniLM-L6-v2, built from the pinned weights into the session cache."""
    from tfcls.encoders import load_encoder

    return load_encoder("all-MiniLM-L6-v2", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def golden_embeddings() -> dict:
    return json.loads((DATA / "minilm_embeddings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def golden_tokens() -> list[dict]:
    lines = (DATA / "minilm_tokens.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[1:]]


def tiny_bert_config():
    from tfcls.encoders.bert import BertConfig

    return BertConfig(
        vocab_size=len(TINY_VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights package look-alike: model.safetensors + vocab.txt of a tiny BERT."""
    from safetensors.numpy import save_file

    from tfcls.encoders.bert import random_weights

    root = tmp_path_factory.mktemp("tiny-source")
    save_file(random_weights(tiny_bert_config(), seed=1), str(root / "model.safetensors"))
    (root / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    return root


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def tiny_spec(tiny_source: Path):
    """An EncoderSpec for the tiny BERT, with the right sha256 pins."""
    from tfcls.encoders import EncoderSpec

    return EncoderSpec(
        name="tiny-bert",
        package="(test fixture)",
        module="unused",
        weights_file="model.safetensors",
        vocab_file="vocab.txt",
        weights_sha256=_sha(tiny_source / "model.safetensors"),
        vocab_sha256=_sha(tiny_source / "vocab.txt"),
        bert=tiny_bert_config(),
        max_seq_len=16,
        source_dir=str(tiny_source),
    )


@pytest.fixture(scope="session")
def tiny_pair(tiny_spec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BERT-style module pair directory (preprocessor/ + encoder/) built by tfcls."""
    from tfcls.encoders import registry

    built = registry.build(tiny_spec, tmp_path_factory.mktemp("tiny-pair-cache"))
    target = tmp_path_factory.mktemp("modules") / "tiny-pair"
    shutil.copytree(built, target)
    return target


@pytest.fixture(scope="session")
def tiny_text_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A string-input (Universal Sentence Encoder style) TF Hub module."""
    import tensorflow as tf

    class HashingEncoder(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            rng = np.random.default_rng(3)
            self.table = tf.Variable(rng.standard_normal((97, 12)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, texts: tf.Tensor) -> tf.Tensor:
            words = tf.strings.split(tf.strings.lower(texts))
            vectors = tf.gather(self.table, tf.strings.to_hash_bucket_fast(words, 97))
            return tf.reduce_sum(vectors, axis=1) + self.table[0]

    path = tmp_path_factory.mktemp("modules") / "tiny-text"
    tf.saved_model.save(HashingEncoder(), str(path))
    return path


# --- a small real dataset and one trained run, shared by train/predict tests ---

INTENTS = ["alarm_set", "weather_query", "play_music", "calendar_set", "email_query"]


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """25 real HWU64 utterances for each of 5 intents, as JSONL text+label."""
    rows: dict[str, list[str]] = {k: [] for k in INTENTS}
    from tfcls.bench.public import datasets_dir

    with (datasets_dir() / "hwu64" / "train.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            bucket = rows.get(row["label"])
            if bucket is not None and len(bucket) < 25 and row["text"] not in bucket:
                bucket.append(row["text"])
    path = tmp_path_factory.mktemp("data") / "intents.jsonl"
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": k}) + "\n" for k, texts in rows.items() for t in texts
        )
    )
    return path


TRAIN_OVERRIDES = [  # train_cmd's settings, for training in process through the library
    "tuner.epochs=15",
    "tuner.patience=4",
    "train.epochs=40",
    "tuner.kind=random",
    "train.adapt.epochs=2",
]


def train_cmd(data: Path, out: Path, *extra: str) -> list[str]:
    """``python -m tfcls.train`` on ``data``: the default procedure (adaptation included)
    with fewer epochs (:data:`TRAIN_OVERRIDES`)."""
    sets = [arg for override in TRAIN_OVERRIDES for arg in ("--set", override)]
    return [
        sys.executable, "-m", "tfcls.train", "--data", str(data), "--output-dir", str(out),
        *sets, *extra,
    ]  # fmt: skip


def child_env(cache: Path) -> dict[str, str]:
    """The environment for a child tfcls command (without conftest's TF log level)."""
    from tfcls.cli.common import child_env as env_for_child

    return env_for_child(cache)


def run_train(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = child_env(cache)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def trained(small_dataset, cache_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    proc = run_train(train_cmd(small_dataset, out, "--max-trials", "3", "--name", "a"), cache_dir)
    assert proc.returncode == 0, proc.stderr
    return out / "a", proc


@pytest.fixture(scope="session")
def tiny_run(small_dataset, tiny_pair, cache_dir, tmp_path_factory):
    """A finished run on the tiny BERT encoder (unknown score: nearest): exports in seconds.

    Trained in this process through the library (``tfcls.train``), as a program would."""
    import tfcls

    out = tmp_path_factory.mktemp("tiny-runs")
    config = tfcls.load_config(
        None,
        [
            *TRAIN_OVERRIDES,
            "tuner.max_trials=1",
            f"train.output_dir={out}",
            f"encoder.handle={tiny_pair}",
            # the default run scores unknown texts by max_softmax; this one the other way
            "decision.unknown_score=nearest",
        ],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        result = tfcls.train(config, data=small_dataset, name="tiny")
    assert result.run_dir == out / "tiny" and result.accuracy is not None
    return result.run_dir


@pytest.fixture(scope="session")
def tiny_bundle(tiny_run, cache_dir, tmp_path_factory):
    """The tiny run exported (float16), published in its own folder."""
    from tfcls.bundle.export import export

    out = tmp_path_factory.mktemp("exported")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        export(tiny_run, out, "float16")
    return out


# --- multi-label: a tiny run and its bundle ------------------------------------------------

TOPICS = {  # label → the words that mark it
    "billing": ["invoice", "refund", "payment", "charge"],
    "bug": ["crash", "error", "broken", "exception"],
    "ui": ["button", "layout", "colour", "font"],
}


def write_label_sets(path: Path, n: int = 90, seed: int = 0) -> None:
    """JSONL of ``n`` texts made of the words of one or two topics, labelled with them."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        labels = rng.sample(sorted(TOPICS), rng.choice([1, 1, 2]))
        words = [rng.choice(TOPICS[label]) for label in labels for _ in range(2)]
        rng.shuffle(words)
        rows.append({"text": f"{' '.join(words)} ticket {i}", "labels": labels})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_multilabel_run(tiny_pair, cache_dir, tmp_path_factory):
    """A finished multi-label run (3 labels, 90 texts, detected from the list labels) on
    the tiny BERT encoder, trained in process: its TrainResult."""
    import tfcls

    folder = tmp_path_factory.mktemp("ml")
    data = folder / "tickets.jsonl"
    write_label_sets(data)
    config = tfcls.load_config(
        None,
        [
            *TRAIN_OVERRIDES,
            "tuner.max_trials=2",
            f"train.output_dir={folder / 'runs'}",
            f"encoder.handle={tiny_pair}",
        ],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        return tfcls.train(config, data=data, name="ml")


@pytest.fixture(scope="session")
def tiny_multilabel_bundle(tiny_multilabel_run, cache_dir, tmp_path_factory):
    """The tiny multi-label run exported (float16), published in its own folder (like
    ``tiny_bundle``: exported/ with current.json)."""
    from tfcls.bundle.export import export

    out = tmp_path_factory.mktemp("exported-ml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        export(tiny_multilabel_run.run_dir, out, "float16")
    return out


# --- real server processes (tests/serving/test_serve.py, tests/test_e2e.py) ---------------

SERVE = [sys.executable, "-m", "tfcls.serve"]  # the development server
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
APP = "tfcls.serving.app:create_app()"  # the production command in the README


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(
    url: str, body: dict | None = None, timeout: float = 30, headers: dict | None = None
) -> tuple[int, dict]:
    """(status, JSON body) of a GET, or a POST when ``body`` is given."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data else {}
    req = urllib.request.Request(url, data=data, headers={**sent, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait for ``/healthz``; fail with the server's stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if request(base + "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def feedback_row(**overrides: object) -> dict:
    """A valid single-label feedback row as the store takes it; ``overrides`` change it."""
    base = {
        "title": "Fix login redirect",
        "description": "",
        "predicted_label": "bug",
        "confidence": 0.91,
        "chosen_label": "bug",
        "action": "accepted",
        "model_version": "v1",
        "client_id": "client-a",
    }
    return {**base, **overrides}


def serve_config(folder: Path, exported: Path, db: Path, **serving: object) -> Path:
    """A config.yaml in ``folder`` that serves ``exported`` and stores feedback in ``db``;
    ``serving`` adds keys of that section (e.g. ``rate_limits={"enabled": False}``)."""
    import yaml

    path = folder / "config.yaml"
    config = {"serving": {"exported": str(exported), **serving}, "storage": {"path": str(db)}}
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def server_process(
    command: list[str], port: int, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run a server ``command`` listening on ``port``; yield (base URL, process) once healthy.

    The process is terminated on exit (unless a test already ended it) and always waited
    for, so no server outlives its test; a server that dies while starting fails the test
    with its stderr.
    """
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def bundle_copy(bundles: Path, folder: Path) -> tuple[list[str], str]:
    """Copy the ``bundles`` folder (exported/) into ``folder``: (config overrides that
    serve it with a fresh SQLite store there, the version it serves), for an in-process
    ``create_app(load_config(overrides=...))``."""
    exported = folder / "exported"
    shutil.copytree(bundles, exported)
    version = json.loads((exported / "current.json").read_text())["version"]
    return [f"serving.exported={exported}", f"storage.path={folder / 'fb.sqlite3'}"], version


class DevServer(NamedTuple):
    """A running ``python -m tfcls.serve``: its URL, process, feedback database and bundle."""

    base: str
    proc: subprocess.Popen
    db: Path
    exported: Path


@contextlib.contextmanager
def serve_copy(bundles: Path, tmp_path: Path, cache_dir: Path) -> Iterator[DevServer]:
    """``python -m tfcls.serve`` over a copy of the ``bundles`` folder (exported/), with a
    fresh SQLite store."""
    exported = tmp_path / "exported"
    shutil.copytree(bundles, exported)
    db = tmp_path / "fb.sqlite3"
    port = free_port()
    command = [*SERVE, "--port", str(port), "--config", str(serve_config(tmp_path, exported, db))]
    with server_process(command, port, child_env(cache_dir)) as (base, proc):
        yield DevServer(base, proc, db, exported)


@pytest.fixture()
def dev_server(tiny_bundle: Path, tmp_path: Path, cache_dir: Path) -> Iterator[DevServer]:
    """The development server over a copy of the tiny bundle (:func:`serve_copy`)."""
    with serve_copy(tiny_bundle, tmp_path, cache_dir) as server:
        yield server


# --- headless Chromium (tests/test_e2e.py, tests/test_e2e_multilabel.py) ------------------


@pytest.fixture()
def browser_page(tmp_path):
    """(context, page, errors): a fresh Chromium profile's page; ``errors`` collects every
    page error and console error (the tests assert it empty)."""
    from playwright.sync_api import sync_playwright

    from tfcls.bench.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield ctx, page, errors
        ctx.close()


def feedback_rows(db: Path) -> list[dict]:
    """The rows of a SQLite feedback store (none before the file exists)."""
    from tfcls.feedback.store import FeedbackStore

    if not db.exists():
        return []
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    try:
        return store.rows()
    finally:
        store.close()


def wait_for_rows(db: Path, n: int, timeout: float = 30) -> list[dict]:
    """The store's rows once there are at least ``n`` (an error after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = feedback_rows(db)
        if len(got) >= n:
            return got
        time.sleep(0.2)
    raise AssertionError(f"expected {n} feedback rows, have {len(feedback_rows(db))}")
