"""What every request of one app shares: config, feedback store, bundle registry, models."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from tfcls.bundle.registry import Registry
from tfcls.config import Config
from tfcls.serving.identity import ClientIds


class Predictors:
    """The bundles run in Python (:class:`tfcls.bundle.runtime.BundleModel`: the graph and
    weights browsers run), loaded on first use (TensorFlow only then)."""

    def __init__(self, bundles: Registry) -> None:
        self.bundles = bundles
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def predict(self, version: str, texts: list[str]) -> tuple[list[list[float]], list[float]]:
        """(calibrated probabilities, similarity) per text from ``version``'s bundle."""
        with self._lock:
            model = self._models.get(version)
            if model is None:
                from tfcls import console

                console.quiet_tensorflow()
                from tfcls.bundle.runtime import BundleModel

                model = BundleModel(self.bundles.path(version))
                self._models[version] = model
        proba, sim = model.predict(texts)
        return proba.tolist(), sim.tolist()


@dataclass
class ServingState:
    """Held in ``app.extensions["tfcls"]``; the blueprints read it through :func:`state`."""

    config: Config
    store: Any  # tfcls.feedback.store.FeedbackStore
    bundles: Registry
    client_ids: ClientIds  # issues and verifies the signed client ids
    bench: bool = False  # also serve the browser benchmark page
    predictors: Predictors = field(init=False)

    def __post_init__(self) -> None:
        self.predictors = Predictors(self.bundles)


def state() -> ServingState:
    """The serving state of the app handling the current request."""
    return current_app.extensions["tfcls"]
