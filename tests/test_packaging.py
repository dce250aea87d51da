"""tfcls as a wheel: built, installed into a fresh venv outside the checkout, and used there.

The wheel must carry everything the commands read at run time (web client, vendored TF.js,
Node fidelity runner, default config: ``tfcls.resources.PACKAGED``). The fresh venv gets
the dependencies from this environment's site-packages (every entry but tfcls itself) and
installs the wheel with ``--no-index``: an unmet ``install_requires`` fails the install
rather than downloading anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import TRAIN_OVERRIDES, free_port, wait_healthy

from tfcls import resources

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _source_copy(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked + untracked, not ignored), plus a link
    to web/node_modules (the vendored TF.js is copied from there)."""
    checkout = resources.CHECKOUT
    assert checkout is not None, "the tests run from a checkout"
    names = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=checkout, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, names):
        if (checkout / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(checkout / name, dest / name)
    (dest / "web" / "node_modules").symlink_to(resources.NODE_MODULES)
    return dest


def _deps_view(dest: Path) -> Path:
    """This environment's site-packages without tfcls: links to every other entry."""
    site = Path(sysconfig.get_paths()["purelib"])
    dest.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith(("tfcls", "__editable__")) and entry.suffix != ".pth":
            (dest / entry.name).symlink_to(entry)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    src = _source_copy(root / "src")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*build, "-w", str(root / "dist"), str(src)], root, dict(os.environ))
    (found,) = (root / "dist").glob("tfcls-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys._base_executable, "-m", "venv", str(root / "venv")], root, env)
    python = root / "venv" / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                root, env).strip()  # fmt: skip
    (Path(site) / "_tfcls_test_deps.pth").write_text(f"{_deps_view(root / 'deps')}\n")
    _run([str(python), "-m", "pip", "install", "--no-index", "--quiet", str(wheel)], root, env)
    return root / "venv"


def test_the_wheel_carries_the_run_time_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in (
        "web/index.html",
        "web/app/main.js",
        "web/sdk/tfcls.js",
        "web/tools/predict_node.mjs",
        "web/node_modules/@tensorflow/tfjs/dist/tf.es2017.min.js",
        "web/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
        "configs/default.yaml",
    ):
        assert f"tfcls/_assets/{rel}" in names
    assert not [n for n in names if "/test/" in n or n.startswith("tests/")]


def test_train_export_serve_from_the_installed_wheel(
    venv: Path, small_dataset: Path, tiny_pair: Path, cache_dir: Path, tmp_path: Path
) -> None:
    """Outside the checkout: `tfcls train --dev-mode`, `tfcls export`, `tfcls serve`."""
    bin_ = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TFCLS_CACHE=str(cache_dir), PATH=f"{bin_}{os.pathsep}{env['PATH']}")
    where = _run([str(bin_ / "python"), "-c", "import tfcls.resources as r; print(r.ROOT)"],
                 tmp_path, env).strip()  # fmt: skip
    assert Path(where).is_relative_to(venv), where  # the wheel's files, not the checkout's
    sets = [a for o in [*TRAIN_OVERRIDES, f"encoder.handle={tiny_pair}"] for a in ("--set", o)]
    _run([str(bin_ / "tfcls"), "train", "--dev-mode", "--data", str(small_dataset), *sets,
          "--name", "r"], tmp_path, env)  # fmt: skip
    out = _run([str(bin_ / "tfcls"), "export", "--run", "runs/r"], tmp_path, env)
    assert "argmax agreement" in out  # measured in Node by the packaged runner
    port = free_port()
    server = subprocess.Popen(
        [str(bin_ / "tfcls"), "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server)
        for path in ("/", "/web/app/main.js", "/vendor/tfjs/dist/tf.es2017.min.js",
                     "/models/current.json"):  # fmt: skip
            with urllib.request.urlopen(base + path, timeout=30) as resp:
                assert resp.status == 200, path
    finally:
        server.terminate()
        server.wait(timeout=30)
