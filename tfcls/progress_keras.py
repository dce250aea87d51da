"""Keras and KerasTuner hooks that report by :mod:`tfcls.progress`'s rule.

- :class:`EpochProgress`: a Keras callback, ``label: epoch 3/8; loss 0.41, val_accuracy
  0.83``, for any ``model.fit`` (head fits, adaptation epochs, one fold of K: put ``fold
  k/K`` in the label). It may span several ``fit`` calls (a loop of one-epoch fits) when
  given the total ``epochs``. In a tuner's ``search`` callbacks each trial gets its own bar.
- :class:`TrialProgress`: a KerasTuner hook, ``tuner: 7/20 trials; best val_accuracy
  0.8100``, called from the tuner's ``on_trial_end`` (a hook rather than a callback: the
  tuner deep-copies callbacks for every trial and a failed trial ends no fit).
"""

from __future__ import annotations

from typing import Any, TextIO

import keras

from tfcls.progress import Progress


class EpochProgress(keras.callbacks.Callback):
    """A progress bar over epochs, its note the last epoch's logs (``monitor`` first).

    ``epochs`` (default: the ``epochs`` of the first ``fit``) is the total; the bar closes
    when that many epochs have ended or at :meth:`close`."""

    def __init__(
        self,
        label: str = "training",
        epochs: int | None = None,
        monitor: str | None = None,
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        super().__init__()
        self.label, self.epochs, self.monitor = label, epochs, monitor
        self.stream, self.interval = stream, interval
        self.bar: Progress | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> EpochProgress:
        """A fresh copy on the same stream (KerasTuner deep-copies callbacks per trial;
        a stream cannot be copied)."""
        return EpochProgress(self.label, self.epochs, self.monitor, self.stream, self.interval)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.bar is None:
            total = self.epochs if self.epochs is not None else self.params.get("epochs")
            self.bar = Progress(self.label, total, "epochs", self.stream, self.interval)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.bar is not None:
            self.bar.update(1, note=epoch_note(logs or {}, self.monitor))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        bar = self.bar
        if bar is not None and bar.total is not None and bar.done >= bar.total:
            self.close()

    def close(self) -> None:
        """Close the bar (a ``fit`` stopped early leaves it open when ``epochs`` was given)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def epoch_note(logs: dict[str, Any], monitor: str | None = None) -> str:
    """``loss 0.4100, val_accuracy 0.8300``: ``monitor`` first, then loss and val_* logs."""
    keys = [k for k in (monitor, "loss") if k and k in logs]
    keys += sorted(k for k in logs if k.startswith("val_") and k not in keys)
    return ", ".join(f"{k} {float(logs[k]):.4f}" for k in keys)


class TrialProgress:
    """Tuner trials done out of ``total`` (None: unknown, as in Hyperband), with the best
    ``objective`` so far (``direction`` "max" or "min") and the failures.

    ``done`` counts trials already run (a resumed search)."""

    def __init__(
        self,
        total: int | None,
        objective: str = "val_accuracy",
        direction: str = "max",
        label: str = "tuner",
        done: int = 0,
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.objective, self.direction = objective, direction
        self.best: float | None = None
        self.failed = 0
        self.bar = Progress(label, total, "trials", stream, interval, initial=done)

    @classmethod
    def for_tuner(cls, tuner: Any, total: int | None, **options: Any) -> TrialProgress:
        """The hook for a KerasTuner tuner: its oracle's objective, the trials it has
        already (``options``: ``label``, ``stream``, ``interval``). A distributed
        search's worker, whose oracle is the chief's, counts its own trials only."""
        try:
            objective = tuner.oracle.objective
            trials = list(tuner.oracle.trials.values())
        except Exception:  # a worker's OracleClient keeps neither here
            objective, trials = None, []
        name = getattr(objective, "name", None) or "val_accuracy"
        direction = getattr(objective, "direction", None) or "max"
        done = sum(t.status in ("COMPLETED", "FAILED") for t in trials)
        progress = cls(total, name, direction, done=done, **options)
        for trial in trials:
            if trial.status == "COMPLETED" and trial.score is not None:
                progress._score(float(trial.score))
        return progress

    def trial_end(self, trial: Any) -> None:
        """Count one finished trial (a KerasTuner ``Trial``: ``status``, ``score``)."""
        if trial.status == "COMPLETED" and trial.score is not None:
            self._score(float(trial.score))
        elif trial.status == "FAILED":
            self.failed += 1
        self.bar.update(1, note=self.note())

    def note(self) -> str:
        """``best val_accuracy 0.8100`` (and ``, 1 failed``)."""
        best = "no trial completed" if self.best is None else f"best {self.objective} "
        best += "" if self.best is None else f"{self.best:.4f}"
        return best + (f", {self.failed} failed" if self.failed else "")

    def close(self) -> None:
        """Close the bar (after the search)."""
        self.bar.close()

    def _score(self, score: float) -> None:
        better = self.best is None or (
            score > self.best if self.direction == "max" else score < self.best
        )
        if better:
            self.best = score
