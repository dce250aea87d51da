"""Plain text sets read from JSONL: the benchmarks' inputs and the export's check texts.

Only the ``text`` field of each line is read (labels are not needed to compare two
runtimes of one model); duplicates are dropped and the order is a seeded shuffle, so the
same file and ``n`` always give the same texts.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tfcls.errors import TfclsError


def read_texts(path: Path, n: int, seed: int = 0) -> list[str]:
    """n distinct texts from a JSONL file with a ``text`` field, in a seeded random order."""
    if not path.is_file():
        raise TfclsError(
            f"{path}: no such file (expected JSONL, one object with a 'text' field a line; "
            "the public datasets are found through TFCLS_DATASETS)"
        )
    texts = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                texts.append(json.loads(line)["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise TfclsError(
                    f"{path}:{lineno}: expected a JSON object with a 'text' field"
                ) from None
    unique = list(dict.fromkeys(texts))
    random.Random(seed).shuffle(unique)
    if len(unique) < n:
        raise TfclsError(f"{path}: only {len(unique)} distinct texts, --n asks for {n}")
    return unique[:n]
