"""Feedback rows for the monitor's tests (a helper module, not a conftest: the tests' root
conftest is imported as ``conftest`` by name): texts of the tiny run's domain, and of another."""

from __future__ import annotations

import itertools
import json
import random

from conftest import INTENTS, feedback_row


def same_domain_texts(n_per_label: int = 10) -> list[tuple[str, str]]:
    """(text, intent) pairs from HWU64's test split for the tiny run's five intents: the
    distribution it was trained on, texts it never saw."""
    from tfcls.bench.public import datasets_dir

    picked: dict[str, list[str]] = {label: [] for label in INTENTS}
    with (datasets_dir() / "hwu64" / "test.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            bucket = picked.get(row["label"])
            if bucket is not None and len(bucket) < n_per_label and row["text"] not in bucket:
                bucket.append(row["text"])
    return [(text, label) for label, texts in picked.items() for text in texts]


TICKET_WORDS = (
    ["fix", "review", "plan", "design", "sync"],
    ["the", "a", "weekly", "sprint", "team"],
    ["login", "page", "bug", "meeting", "research", "redirect"],
)


def other_domain_texts(n: int = 50, seed: int = 0) -> list[str]:
    """Software-project tickets ("fix the login bug"): a domain far from voice commands."""
    combos = [" ".join(words) for words in itertools.product(*TICKET_WORDS)]
    return random.Random(seed).sample(combos, n)


def verdict_rows(texts: list[str], labels: list[str], version: str, accept_every: int = 10):
    """Feedback rows: every ``accept_every``-th verdict a correction, the rest accepted."""
    rows = []
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        corrected = i % accept_every == accept_every - 1
        other = INTENTS[(INTENTS.index(label) + 1) % len(INTENTS)]
        rows.append(
            feedback_row(
                title=text,
                predicted_label=label,
                chosen_label=other if corrected else label,
                action="corrected" if corrected else "accepted",
                model_version=version,
                client_id=f"client-{i % 7}",
            )
        )
    return rows
