"""The progress rule: a bar on a terminal, counted lines elsewhere, nothing when quiet."""

from __future__ import annotations

import io
import os
import sys

import pytest

from tfcls import progress
from tfcls.cli import common
from tfcls.progress import Progress, Stages


@pytest.fixture(autouse=True)
def not_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(progress.QUIET_ENV, raising=False)


def _on_a_terminal(write) -> str:
    """What ``write(stream)`` draws on a pseudo-terminal's stream."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w")
    assert stream.isatty()
    write(stream)
    stream.close()
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return out.decode()


def test_progress_prints_counts_and_rate():
    stream = io.StringIO()
    bar = Progress("embedding", 10, "texts", stream=stream, interval=0.0)
    bar.update(4)
    bar.update(6)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("embedding: 4/10 texts (40%)")
    assert lines[-1].startswith("embedding: 10/10 texts (100%)") and "texts/s" in lines[-1]


def test_progress_disabled_or_rate_limited_is_silent():
    stream = io.StringIO()
    bar = Progress("x", 5, stream=stream, enabled=False, interval=0.0)
    bar.update(5)
    bar.close()
    slow = Progress("y", 5, stream=stream, interval=3600)
    slow.update(5)
    slow.close()
    assert stream.getvalue() == ""


def test_off_a_terminal_lines_carry_the_note_and_slow_items_their_seconds():
    stream = io.StringIO()
    with Progress("tuner", 20, "trials", stream=stream, interval=0.0, initial=6) as bar:
        bar.update(1, note="best val_accuracy 0.8100")
    first = stream.getvalue().splitlines()[0]
    assert first.startswith("tuner: 7/20 trials (35%), ")
    assert first.endswith("; best val_accuracy 0.8100")
    unknown = Progress("search", None, "trials", stream=io.StringIO(), interval=0.0)
    unknown.update(3)
    assert unknown.line().startswith("search: 3 trials, ")


def test_on_a_terminal_it_is_a_bar_redrawn_in_place(monkeypatch: pytest.MonkeyPatch):
    def draw(stream):
        monkeypatch.setattr(sys, "stderr", stream)  # the default stream, a sizeless terminal
        with Progress("embedding", 10, "texts") as bar:
            bar.update(4)
            bar.update(6, note="cached 2")

    out = _on_a_terminal(draw)
    assert "\r" in out and "embedding" in out and "10/10" in out and "cached 2" in out
    assert "100%|" in out  # tqdm's bar


def test_quiet_silences_bars_lines_and_log_on_a_terminal_and_off_it():
    progress.set_quiet()
    assert progress.is_quiet() and os.environ[progress.QUIET_ENV] == "1"  # children inherit
    stream = io.StringIO()
    with Progress("x", 5, stream=stream, interval=0.0) as bar:
        bar.update(5)
    progress.log("export: converting", stream)
    Stages("retrain", ["train"], stream).begin("train")
    assert stream.getvalue() == ""

    def draw(tty):
        with Progress("x", 5, stream=tty) as bar:
            bar.update(5)
        progress.log("hello", tty)

    assert _on_a_terminal(draw) == ""
    progress.set_quiet(False)
    assert not progress.is_quiet()


def test_log_and_stages_print_one_line_each():
    stream = io.StringIO()
    progress.log("export: candidate 1/3 int8: converting to TF.js", stream)
    stages = Stages("retrain", ["reading feedback", "training the candidate"], stream)
    stages.begin("training the candidate")
    stages.begin("an unlisted step")
    assert stream.getvalue().splitlines() == [
        "export: candidate 1/3 int8: converting to TF.js",
        "retrain 2/2: training the candidate",
        "retrain 3/2: an unlisted step",
    ]
    assert "hello" in _on_a_terminal(lambda tty: progress.log("hello", tty))


def test_every_command_takes_quiet_and_run_puts_the_switch_back():
    p = common.parser("tfcls x", "test")
    assert p.parse_args([]).quiet is False and not progress.is_quiet()

    def main(argv):
        args = p.parse_args(argv)
        assert args.quiet and progress.is_quiet()
        return 0

    assert common.run(main, ["--quiet"]) == 0
    assert not progress.is_quiet()
    assert common.run(main, ["-q", "--set", "a.b=1"]) == 0
    assert not progress.is_quiet()


def test_a_subcommand_takes_quiet_after_its_name():
    from tfcls.cli import encoders

    args = encoders._parser().parse_args(["list", "--quiet"])
    assert args.sub_quiet and progress.is_quiet()
