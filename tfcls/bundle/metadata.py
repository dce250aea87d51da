"""A bundle's ``metadata.json`` typed: :class:`BundleMetadata`.

The export writes the record (:func:`tfcls.bundle.export.export`); the registry reads it
once per version and hands out this view, so consumers (the server, retraining, the
benchmarks) read typed fields instead of digging in nested dicts. ``record`` keeps the
file's full content, which is what ``/models/<version>/metadata.json`` serves and what the
browser reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfcls.decision.rule import Calibration, UnknownRule
from tfcls.errors import TfclsError


class MetadataError(TfclsError):
    """A ``metadata.json`` that is not a bundle's metadata (names the file and field)."""


@dataclass(frozen=True)
class BundleSize:
    """What a browser downloads (model.json, weight shards, vocab.txt): raw, gzip and
    brotli bytes (brotli: None for bundles exported before precompression)."""

    bytes: int
    gzip_bytes: int
    brotli_bytes: int | None = None


@dataclass(frozen=True)
class BundleMetadata:
    """One exported version's ``metadata.json``.

    ``calibration`` is the decision rule as the bundle states it (the auto-select
    threshold and the unknown rule; temperature 1 because the bundle's probabilities are
    already calibrated); ``temperature`` is the run's, folded into the bundle.
    """

    version: str
    labels: tuple[str, ...]
    calibration: Calibration
    temperature: float | None = None
    quantization: str | None = None
    size: BundleSize | None = None
    fidelity: Mapping[str, Any] = field(default_factory=dict)
    encoder_handle: str | None = None
    run: Path | None = None
    created_at: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    task: str = "single_label"  # or multi_label: each label has its own threshold
    thresholds: tuple[float, ...] | None = None  # multi_label: aligned with labels

    @property
    def threshold(self) -> float | None:
        """The auto-select threshold (None: never auto-select)."""
        return self.calibration.threshold

    @property
    def unknown(self) -> UnknownRule | None:
        """How the bundle flags a text as fitting no known category (None: it does not)."""
        return self.calibration.unknown

    @classmethod
    def from_record(cls, record: Any, source: str | Path) -> BundleMetadata:
        """Check and type a metadata record read from ``source`` (named in errors)."""
        if not isinstance(record, Mapping):
            raise MetadataError(f"{source}: not a JSON object")
        get = _Fields(record, source)
        labels = get.value("labels", list, required=True)
        if not labels or not all(isinstance(label, str) for label in labels):
            raise MetadataError(f"{source}: field 'labels' must be a non-empty list of strings")
        get.value("threshold", (int, float))
        get.value("unknown", dict)
        size = get.value("size", dict)
        run = get.value("run", str)
        task = get.value("task", str) or "single_label"
        thresholds = get.value("thresholds", list)
        if task not in ("single_label", "multi_label"):
            raise MetadataError(f"{source}: field 'task' must be single_label or multi_label")
        if task == "multi_label" and (
            thresholds is None
            or len(thresholds) != len(labels)
            or not all(isinstance(t, (int, float)) and 0 <= t <= 1 for t in thresholds)
        ):
            raise MetadataError(
                f"{source}: field 'thresholds' must hold one number in [0, 1] per label"
            )
        return cls(
            version=get.value("version", str, required=True),
            labels=tuple(labels),
            calibration=Calibration.from_metadata(record),
            temperature=get.value("temperature", (int, float)),
            quantization=get.value("quantization", str),
            size=None if size is None else _size(size, source),
            fidelity=get.value("fidelity", dict) or {},
            encoder_handle=(get.value("encoder", dict) or {}).get("handle"),
            run=None if run is None else Path(run),
            created_at=get.value("created_at", str),
            record=record,
            task=task,
            thresholds=None if thresholds is None else tuple(float(t) for t in thresholds),
        )

    def require_run(self) -> Path:
        """The run directory the bundle was exported from, or an error naming the field."""
        if self.run is None:
            raise MetadataError(f"version {self.version}: its metadata.json names no 'run'")
        return self.run

    def require_size(self) -> BundleSize:
        """The bundle's download size (every export records it), or an error naming it."""
        if self.size is None:
            raise MetadataError(f"version {self.version}: its metadata.json has no 'size'")
        return self.size


class _Fields:
    """Typed access to a record's fields; a wrong type is an error naming file and field."""

    def __init__(self, record: Mapping[str, Any], source: str | Path) -> None:
        self.record, self.source = record, source

    def value(self, name: str, kind: type | tuple[type, ...], required: bool = False) -> Any:
        value = self.record.get(name)
        if value is None:
            if required:
                raise MetadataError(f"{self.source}: field {name!r} is missing")
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise MetadataError(f"{self.source}: field {name!r} has the wrong type: {value!r}")
        return value


def _size(size: Mapping[str, Any], source: str | Path) -> BundleSize:
    try:
        brotli = size.get("brotli_bytes")
        return BundleSize(
            bytes=int(size["bytes"]),
            gzip_bytes=int(size["gzip_bytes"]),
            brotli_bytes=None if brotli is None else int(brotli),
        )
    except (KeyError, TypeError, ValueError):
        raise MetadataError(
            f"{source}: field 'size' must hold integer 'bytes' and 'gzip_bytes'"
        ) from None
