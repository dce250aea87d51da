"""``python -m tfcls.bench drift``: false alarms and detection of ``tfcls.monitor``'s
data-drift check on real texts, in the encoder's embedding space.

Per seed, the bundled data (``data.path``) is split 70/30: the 70% plays the served run's
training texts, and "recent traffic" is drawn from the 30% it never saw (same distribution:
any alarm is a false alarm) mixed with foreign texts, BANKING77 *train* utterances (a
shift: they should be flagged). The check is the monitor's own (:mod:`tfcls.monitoring.drift`
with the ``monitor.*`` thresholds): the MMD permutation p-value below
``monitor.mmd_p_value``, or more than ``monitor.below_floor_share`` of the texts below the
training texts' own ``monitor.floor_quantile`` similarity floor. No test split is used.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from tfcls.config import Config
from tfcls.data.dataset import load_dataset
from tfcls.errors import TfclsError
from tfcls.monitoring import drift

# (recent texts, of which foreign): same-distribution samples first, then shifts
SCENARIOS = ((30, 0), (100, 0), (300, 0), (30, 30), (100, 100), (100, 25), (100, 10), (300, 30))
TARGET_FALSE_ALARMS = 0.05  # issue 16: on a same-distribution sample, ≤ 5% over seeds


def _trial(
    own: np.ndarray, foreign: np.ndarray, n: int, n_foreign: int, seed: int, config: Config
) -> tuple[float, float]:
    """(MMD p-value, below-floor share) of one seeded recent sample."""
    m = config.monitor
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(own))
    cut = int(0.7 * len(own))
    reference, held = own[order[:cut]], own[order[cut:]]
    recent = held[rng.choice(len(held), n - n_foreign, replace=False)]
    if n_foreign:
        recent = np.concatenate([recent, foreign[rng.choice(len(foreign), n_foreign, False)]])
    y = drift.subsample(reference, m.max_texts, seed + 1)
    _, p_value = drift.mmd_permutation_test(recent, y, m.permutations, seed)
    floor = m.similarity_floor
    if floor is None:
        floor = drift.own_similarity_floor(reference, m.floor_quantile, m.max_texts, seed)
    return p_value, drift.below_floor_share(recent, reference, floor)


def _scenario(
    own: np.ndarray, foreign: np.ndarray, n: int, n_foreign: int, seeds: int, config: Config
) -> dict[str, Any]:
    m = config.monitor
    results = np.array([_trial(own, foreign, n, n_foreign, s, config) for s in range(seeds)])
    p, share = results[:, 0], results[:, 1]
    alarm = (p < m.mmd_p_value) | (share > m.below_floor_share)
    return {
        "recent": n,
        "foreign": n_foreign,
        "alarm_rate": round(float(alarm.mean()), 4),
        "mmd_alarm_rate": round(float((p < m.mmd_p_value).mean()), 4),
        "floor_alarm_rate": round(float((share > m.below_floor_share).mean()), 4),
        "median_p_value": round(float(np.median(p)), 4),
        "mean_below_floor_share": round(float(share.mean()), 4),
    }


def bench_drift(
    config: Config,
    seeds: int = 50,
    n_foreign_pool: int = 600,
    scenarios: tuple[tuple[int, int], ...] = SCENARIOS,
) -> dict[str, Any]:
    """Alarm rates of the data-drift check per scenario over ``seeds`` (see the module
    docstring); the false-alarm rate is the largest over the same-distribution ones."""
    from tfcls.bench.public import load_public
    from tfcls.encoders import load_encoder

    if seeds < 1 or n_foreign_pool < 1:
        raise TfclsError("--seeds and --foreign-pool must be ≥ 1")
    start = time.perf_counter()
    own_texts = load_dataset(config.data.path, 1).texts
    bank = load_public("banking77")[0].texts
    pick = np.random.default_rng(0).choice(len(bank), min(n_foreign_pool, len(bank)), False)
    encoder = load_encoder(config.encoder.handle, config.encoder.preprocessor)
    own = encoder.embed(own_texts, batch_size=config.encoder.batch_size, progress=True)
    foreign = encoder.embed(
        [bank[i] for i in pick], batch_size=config.encoder.batch_size, progress=True
    )
    held_out = len(own) - int(0.7 * len(own))
    rows = []
    for i, (n, n_foreign) in enumerate(scenarios, 1):
        if n - n_foreign > held_out or n_foreign > len(foreign):
            continue  # not enough texts for this sample size
        rows.append(_scenario(own, foreign, n, n_foreign, seeds, config))
        print(f"drift {i}/{len(scenarios)}: {rows[-1]}", file=sys.stderr, flush=True)
    same = [r["alarm_rate"] for r in rows if r["foreign"] == 0]
    return {
        "benchmark": "drift",
        "data": str(config.data.path),
        "foreign": "banking77 train",
        "texts": {"own": len(own), "foreign_pool": len(foreign)},
        "seeds": seeds,
        "thresholds": {
            "mmd_p_value": config.monitor.mmd_p_value,
            "below_floor_share": config.monitor.below_floor_share,
            "similarity_floor": config.monitor.similarity_floor,
            "floor_quantile": config.monitor.floor_quantile,
        },
        "scenarios": rows,
        "false_alarm_rate": max(same) if same else None,
        "target_false_alarm_rate": TARGET_FALSE_ALARMS,
        "seconds": round(time.perf_counter() - start, 1),
    }


def summary(result: dict[str, Any]) -> str:
    """The one line a run ends with: false alarms against the target, and detection."""
    shifted = [r for r in result["scenarios"] if r["foreign"] == r["recent"]]
    false = result["false_alarm_rate"]
    verdict = "meets" if false is not None and false <= TARGET_FALSE_ALARMS else "MISSES"
    detected = ", ".join(f"{r['recent']} foreign: {r['alarm_rate']:.0%}" for r in shifted)
    return (
        f"drift: false alarms {false:.0%} at most over {result['seeds']} seeds ({verdict} "
        f"≤ {TARGET_FALSE_ALARMS:.0%}); flagged: {detected or 'no shifted sample'}"
    )
