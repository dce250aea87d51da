"""Build step: a wheel carries the run-time files outside the package as package data.

Metadata and dependencies are in setup.cfg. ``tfcls/resources.py`` lists what a wheel needs
(``PACKAGED``: the web client, the vendored TF.js, the Node runner, configs, the bundled
data); this copies it to ``tfcls/_assets/`` in the build, keeping the checkout's layout.
An editable install reads the checkout itself, so it copies nothing.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _resources():
    """tfcls/resources.py, loaded on its own (importing tfcls would need its dependencies)."""
    spec = importlib.util.spec_from_file_location("_tfcls_resources", HERE / "tfcls/resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithAssets(build_py):
    """``build_py`` that also copies :data:`tfcls.resources.PACKAGED` into the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        resources = _resources()
        target = Path(self.build_lib) / "tfcls" / resources.ASSETS_DIR
        shutil.rmtree(target, ignore_errors=True)  # nothing stale from an earlier build
        for pattern in resources.PACKAGED:
            matches = sorted(p for p in HERE.glob(pattern) if p.is_file())
            if not matches:
                raise SystemExit(
                    f"error: no file matches {pattern!r} in {HERE}; the wheel needs it "
                    "(web/node_modules comes from `make setup`, i.e. `npm ci` in web/)"
                )
            for path in matches:
                dest = target / path.relative_to(HERE)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


setup(cmdclass={"build_py": BuildWithAssets})
