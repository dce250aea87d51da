"""Where the files tfcls needs at run time live: the web client, TF.js, its Node runner, configs.

From a source checkout (or an editable install) they are the checkout's own ``web/``,
``configs/`` and ``data/``. An installed wheel carries a pruned copy of the same tree as
package data under ``tfcls/_assets/`` (:data:`PACKAGED` lists what goes in; ``setup.py``
copies it at build time), so ``pip install tfcls`` can export and serve outside a checkout.
The relative layout is the same either way, so every other module asks here for a path
and never works one out from its own ``__file__``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tfcls.errors import TfclsError

PACKAGE = Path(__file__).resolve().parent
ASSETS_DIR = "_assets"  # under the installed package


def _checkout(root: Path) -> Path | None:
    """``root`` when it is a tfcls source checkout (setup.cfg + web/), else None."""
    return root if (root / "setup.cfg").is_file() and (root / "web").is_dir() else None


CHECKOUT: Path | None = _checkout(PACKAGE.parent)  # None when installed from a wheel
ROOT: Path = CHECKOUT or PACKAGE / ASSETS_DIR  # holds web/, configs/, data/

WEB = ROOT / "web"
NODE_MODULES = WEB / "node_modules"  # installed wheel: only the vendored TF.js files
VENDOR = {  # the TF.js builds the page loads (/vendor/<name>/dist/…) and the Node runner runs
    "tfjs": NODE_MODULES / "@tensorflow" / "tfjs" / "dist",
    "tfjs-backend-wasm": NODE_MODULES / "@tensorflow" / "tfjs-backend-wasm" / "dist",
}
NODE_PREDICT = WEB / "tools" / "predict_node.mjs"  # runs a bundle in Node (export fidelity)
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
BUNDLED_DATA = ROOT / "data" / "training_data.json"  # the bundled task-title dataset

# What a wheel carries, as globs relative to the checkout; the same paths under _assets/.
# The vendored TF.js comes from web/node_modules, so a wheel is built after `npm ci`.
PACKAGED = (
    "web/index.html",
    "web/app.css",
    "web/sw.js",
    "web/app/*.js",
    "web/sdk/*.js",
    "web/sdk/package.json",
    "web/tools/*.mjs",
    "web/bench/*",
    "web/node_modules/@tensorflow/tfjs/dist/tf.es2017.min.js",
    "web/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
    "web/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm",
    "configs/*.yaml",
    "data/training_data.json",
    "data/README.md",
)


def cache_root(override: str | os.PathLike | None = None) -> Path:
    """The tfcls cache directory: ``override``, else ``$TFCLS_CACHE``, else ~/.cache/tfcls
    (encoder modules, embedding caches, the vendored TF.js's compressed copies)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("TFCLS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tfcls"


def datasets_dir() -> Path:
    """The public datasets (BANKING77, HWU64, GoEmotions): ``$TFCLS_DATASETS``, else the
    ``shared/datasets`` folder beside a checkout."""
    env = os.environ.get("TFCLS_DATASETS")
    if env:
        return Path(env)
    if CHECKOUT is None:
        raise TfclsError("set TFCLS_DATASETS to the folder holding banking77/, hwu64/, ...")
    return CHECKOUT.parent / "shared" / "datasets"
