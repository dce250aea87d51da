"""Where the files tfcls needs at run time live: the web client, its Node runner, configs.

They sit in the source checkout beside the package (``web/``, ``configs/``, ``data/``);
every module asks here instead of working out paths from its own ``__file__``, so the
layout is decided in one place.
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
WEB = CHECKOUT / "web"
NODE_MODULES = WEB / "node_modules"
NODE_PREDICT = WEB / "tools" / "predict_node.mjs"  # runs a bundle in Node (export fidelity)
DEFAULT_CONFIG = CHECKOUT / "configs" / "default.yaml"
BUNDLED_DATA = CHECKOUT / "data" / "training_data.json"
SHARED_DATASETS = CHECKOUT.parent / "shared" / "datasets"  # public datasets ($TFCLS_DATASETS)
