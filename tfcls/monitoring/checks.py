"""The monitor's checks, one function each: acceptance, data, prediction and concept drift.

Each takes one version's recent feedback (and, for drift, its :class:`Reference`: the
served run's training texts, labels and encoder) and returns its part of the report (the
fields :mod:`tfcls.monitoring.report` documents) with an ``alarms`` list, each alarm naming
the threshold it crossed. Fewer than ``monitor.min_texts`` texts: ``not enough data``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tfcls import progress
from tfcls.monitoring import drift
from tfcls.monitoring.acceptance import acceptance
from tfcls.monitoring.corrections import correction_confusion, corrections_per_label

if TYPE_CHECKING:
    from tfcls.config import MonitorConfig
    from tfcls.monitoring.reference import Reference

OK, DRIFT, FEW, UNAVAILABLE = "ok", "drift", "not enough data", "unavailable"
Row = Mapping[str, Any]


def acceptance_check(now: Sequence[Row], before: Sequence[Row], cfg: MonitorConfig) -> dict:
    """The acceptance check: (its report, with ``alarms``) for a window and the one before."""
    rate, previous = acceptance(now), acceptance(before)
    alarms = []
    if rate.verdicts < cfg.min_texts:
        status = FEW
    else:
        if rate.rate < cfg.min_acceptance:
            alarms.append(f"acceptance {rate.rate:.2f} < min_acceptance {cfg.min_acceptance}")
        if previous.verdicts >= cfg.min_texts and (
            rate.rate < previous.rate - cfg.max_acceptance_drop
        ):
            alarms.append(
                f"acceptance dropped {previous.rate:.2f} → {rate.rate:.2f} "
                f"(more than max_acceptance_drop {cfg.max_acceptance_drop})"
            )
        status = DRIFT if alarms else OK
    out = {k: v for k, v in rate.to_dict().items() if k != "date"}
    previous_dict = {k: v for k, v in previous.to_dict().items() if k != "date"}
    return {**out, "status": status, "previous": previous_dict, "alarms": alarms}


def _empty_data_drift(texts: int, status: str, reason: str | None, cfg: MonitorConfig) -> dict:
    return {
        "status": status,
        "reason": reason,
        "texts": texts,
        "reference_texts": None,
        "compared": None,
        "mmd": None,
        "p_value": None,
        "permutations": cfg.permutations,
        "below_floor_share": None,
        "similarity_floor": cfg.similarity_floor,
        "floor_source": "config" if cfg.similarity_floor is not None else None,
    }


def _floor(y: np.ndarray, cfg: MonitorConfig) -> tuple[float, str]:
    """The similarity floor and where it came from: the config, or the training texts."""
    if cfg.similarity_floor is not None:
        return cfg.similarity_floor, "config"
    floor = drift.own_similarity_floor(y, cfg.floor_quantile, cfg.max_texts, cfg.seed)
    return floor, f"training texts' {cfg.floor_quantile:g} quantile"


def data_drift(texts: Sequence[str], reference: Reference | None, cfg: MonitorConfig) -> dict:
    """MMD permutation test and below-floor share of ``texts`` against the reference's
    training texts (both embedded by its encoder); the report, with ``alarms``."""
    if reference is None:
        return {**_empty_data_drift(len(texts), UNAVAILABLE, "no bundle", cfg), "alarms": []}
    if len(texts) < cfg.min_texts:
        reason = f"{len(texts)} texts < min_texts {cfg.min_texts}"
        return {**_empty_data_drift(len(texts), FEW, reason, cfg), "alarms": []}
    rng = np.random.default_rng(cfg.seed)
    recent = list(texts)
    if len(recent) > cfg.max_texts:
        recent = [recent[i] for i in np.sort(rng.choice(len(recent), cfg.max_texts, False))]
    progress.log(f"monitor: embedding {len(recent)} recent texts")
    x = reference.embed(recent)
    progress.log(f"monitor: embedding {len(reference.texts)} training texts")
    y_all = reference.embed(reference.texts)
    y = drift.subsample(y_all, cfg.max_texts, cfg.seed + 1)
    progress.log(f"monitor: MMD with {cfg.permutations} permutations")
    mmd, p_value = drift.mmd_permutation_test(x, y, cfg.permutations, cfg.seed)
    floor, source = _floor(y_all, cfg)
    share = drift.below_floor_share(x, y_all, floor)
    alarms = []
    if p_value < cfg.mmd_p_value:
        alarms.append(f"data drift: MMD p-value {p_value:.4f} < mmd_p_value {cfg.mmd_p_value}")
    if share > cfg.below_floor_share:
        alarms.append(
            f"data drift: {share:.0%} of texts below similarity floor {floor:.3f} "
            f"(> below_floor_share {cfg.below_floor_share})"
        )
    out = _empty_data_drift(len(texts), DRIFT if alarms else OK, None, cfg)
    out.update(
        reference_texts=len(reference.texts),
        compared=[len(x), len(y)],
        mmd=mmd,
        p_value=p_value,
        below_floor_share=share,
        similarity_floor=floor,
        floor_source=source,
    )
    return {**out, "alarms": alarms}


def prediction_drift(
    predicted: Sequence[str], reference: Reference | None, cfg: MonitorConfig
) -> dict:
    """PSI and chi-square of the predicted labels against the training label counts."""
    out: dict[str, Any] = {
        "status": OK,
        "reason": None,
        "texts": len(predicted),
        "psi": None,
        "chi_square": None,
        "p_value": None,
        "dof": None,
        "expected": None,
        "actual": None,
        "alarms": [],
    }
    if reference is None or not reference.label_counts:
        reason = "no bundle" if reference is None else "multi-label run"
        return {**out, "status": UNAVAILABLE, "reason": reason}
    if len(predicted) < cfg.min_texts:
        reason = f"{len(predicted)} predictions < min_texts {cfg.min_texts}"
        return {**out, "status": FEW, "reason": reason}
    seen = Counter(predicted)
    labels = [*reference.label_counts, *sorted(set(seen) - set(reference.label_counts))]
    expected = np.array([reference.label_counts.get(k, 0) for k in labels], np.float64)
    actual = np.array([seen.get(k, 0) for k in labels], np.float64)
    value = drift.psi(expected, actual)
    statistic, p_value, dof = drift.chi_square(expected, actual)
    alarms = [f"prediction drift: PSI {value:.3f} > psi {cfg.psi}"] if value > cfg.psi else []
    out.update(
        status=DRIFT if alarms else OK,
        psi=value,
        chi_square=statistic,
        p_value=p_value,
        dof=dof,
        expected=dict(zip(labels, (expected / expected.sum()).tolist(), strict=True)),
        actual=dict(zip(labels, (actual / actual.sum()).tolist(), strict=True)),
        alarms=alarms,
    )
    return out


def concept_drift(rows: Sequence[Row]) -> dict[str, Any]:
    """Corrections per predicted label and the confusion they imply (reported, no alarm)."""
    return {
        "corrections": sum(row["action"] == "corrected" for row in rows),
        "per_label": corrections_per_label(rows),
        "confusion": correction_confusion(rows),
    }
