"""tfcls.atomic: a file is replaced whole or not at all, and no temp file is left behind."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.atomic import open_replacing, replacing, write_replacing


def test_write_replaces_text_and_bytes(tmp_path: Path):
    path = tmp_path / "f.txt"
    write_replacing(path, "first\n")
    assert path.read_text() == "first\n"
    write_replacing(path, b"\x00second")
    assert path.read_bytes() == b"\x00second"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_a_failing_block_leaves_the_old_file_and_no_temp_file(tmp_path: Path):
    path = tmp_path / "current.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="midway"), open_replacing(path) as f:
        f.write("half of the new")
        raise RuntimeError("midway")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["current.json"]


def test_a_new_file_gets_the_umask_permissions_not_0600(tmp_path: Path):
    old = os.umask(0o022)
    try:
        write_replacing(tmp_path / "served.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "served.json").stat().st_mode & 0o777 == 0o644


def test_replacing_yields_a_path_another_writer_fills(tmp_path: Path):
    path = tmp_path / "copy.bin"
    with replacing(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".copy.bin.")
        assert tmp.stat().st_size == 0 and not path.exists()
        tmp.write_bytes(b"filled")
    assert path.read_bytes() == b"filled" and not tmp.exists()


def test_a_folder_that_cannot_hold_the_temp_file_raises_oserror(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        write_replacing(tmp_path / "missing" / "f.txt", "x")


def test_open_options_pass_through_and_mode_is_checked(tmp_path: Path):
    path = tmp_path / "rows.csv"
    with open_replacing(path, newline="") as f:
        f.write("a\r\nb\n")
    assert path.read_bytes() == b"a\r\nb\n"
    with pytest.raises(ValueError, match="mode must be"), open_replacing(path, "a"):
        pass


def test_a_reader_never_sees_half_a_file(tmp_path: Path):
    """While one thread replaces the file over and over, every read is one whole version."""
    path = tmp_path / "pointer"
    versions = [str(i) * 5000 for i in range(10)]
    write_replacing(path, versions[0])
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            write_replacing(path, versions[i % len(versions)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = {path.read_text() for _ in range(300)}
    finally:
        stop.set()
        thread.join()
    assert seen <= set(versions)
    assert sorted(os.listdir(tmp_path)) == ["pointer"]


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=2048) | st.text(max_size=200))
def test_any_content_round_trips(tmp_path_factory: pytest.TempPathFactory, data: str | bytes):
    path = tmp_path_factory.mktemp("any") / "f"
    write_replacing(path, data)
    got = path.read_bytes()
    assert got == (data if isinstance(data, bytes) else data.encode("utf-8"))
