"""``python -m tfcls.encoders build|info|list|similarity``: manage and try encoders."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tfcls.cli import common as cli

if TYPE_CHECKING:
    from tfcls.config import EncoderConfig
    from tfcls.encoders import SentenceEncoder


def _parser() -> argparse.ArgumentParser:
    """The ``python -m tfcls.encoders`` parser: one subcommand per action."""
    p = cli.parser(
        "python -m tfcls.encoders", "Build, inspect and try sentence encoders (TF Hub format)."
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (
        ("build", "build a registered encoder into the cache (verifies the weights' sha256)"),
        ("info", "print what an encoder is: kind, dim, fingerprint, tokenizer, paths"),
    ):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument(
            "handle", nargs="?", help="registered name or TF Hub handle (default: encoder.handle)"
        )
        sp.add_argument("--preprocessor", help="preprocessor handle for BERT-style encoders")
        if name == "build":
            sp.add_argument("--force", action="store_true", help="rebuild even if cached")
        cli.add_quiet_argument(sp, "sub_quiet")
    cli.add_quiet_argument(
        sub.add_parser("list", help="list the registered encoder names"), "sub_quiet"
    )
    sim = sub.add_parser("similarity", help="embed texts and show their cosine similarities")
    sim.add_argument("texts", nargs="+", metavar="TEXT")
    cli.add_quiet_argument(sim, "sub_quiet")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``tfcls.encoders`` command: list, build, info or similarity."""
    args = _parser().parse_args(argv)
    enc_cfg = cli.config_from(args).encoder
    if args.command == "list":
        return _list(enc_cfg)

    from tfcls.encoders import load_encoder, registry

    handle = getattr(args, "handle", None) or enc_cfg.handle
    preprocessor = getattr(args, "preprocessor", None) or enc_cfg.preprocessor
    start = time.perf_counter()
    if args.command == "build" and handle in registry.REGISTRY:
        return _build_registered(handle, enc_cfg, args.force, start)
    enc = load_encoder(
        handle, preprocessor, cache_dir=enc_cfg.cache_dir, use_cache=enc_cfg.embedding_cache
    )
    if args.command in ("build", "info"):
        return _describe(enc, verbose=args.command == "info")
    return _similarity(enc, args.texts, enc_cfg.batch_size, start)


def _list(enc_cfg: EncoderConfig) -> int:
    """Print every registered encoder with its package and whether it is built."""
    from tfcls.encoders.registry import REGISTRY, is_built, registered_names

    for name in registered_names():
        state = "built" if is_built(REGISTRY[name], enc_cfg.cache_dir) else "not built"
        print(f"{name}\t{REGISTRY[name].package}\t{state}")
    print(f"{len(registered_names())} registered encoder(s)")
    return 0


def _build_registered(handle: str, enc_cfg: EncoderConfig, force: bool, start: float) -> int:
    """Build a registered encoder into the cache (unless built and not ``force``), load it."""
    from tfcls.encoders import load_encoder, registry

    spec = registry.REGISTRY[handle]
    was_built = registry.is_built(spec, enc_cfg.cache_dir)
    path = registry.build(spec, enc_cfg.cache_dir, force=force)
    verb = "already built" if was_built and not force else "built"
    enc = load_encoder(handle, cache_dir=enc_cfg.cache_dir, use_cache=False)
    print(
        f"{verb} {spec.name} (dim {enc.dim}, fingerprint {spec.fingerprint}) at {path} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


def _describe(enc: SentenceEncoder, verbose: bool) -> int:
    """One line on what ``enc`` is; with ``verbose`` (info), its full description first."""
    from tfcls.encoders.hub import describe

    info = describe(enc.modules)
    info.update(dim=enc.dim, tokenizer=enc.tokenizer_spec and vars(enc.tokenizer_spec))
    if verbose:
        json.dump(info, sys.stdout, indent=2, default=str)
        print()
    print(f"{enc.handle}: {enc.kind} encoder, dim {enc.dim}, fingerprint {enc.fingerprint}")
    return 0


def _similarity(enc: SentenceEncoder, texts: list[str], batch_size: int, start: float) -> int:
    """Embed ``texts``; print each one's nearest other text and the cosine matrix."""
    vectors = enc.embed(texts, batch_size=batch_size, progress=True)
    sims = vectors @ vectors.T
    width = max(len(t) for t in texts)
    for i, text in enumerate(texts):
        others = [j for j in range(len(texts)) if j != i]
        best = max(others, key=lambda j: sims[i, j]) if others else i
        print(
            f"{text:<{width}}  norm {float((vectors[i] ** 2).sum()) ** 0.5:.3f}  "
            f"[{', '.join(f'{x:+.3f}' for x in vectors[i, :4])}, ...]  "
            f"nearest: {texts[best]!r} ({sims[i, best]:.3f})"
        )
    print("\ncosine similarity")
    for i in range(len(texts)):
        print(
            "  ".join(f"{sims[i, j]:5.2f}" for j in range(len(texts))),
            f"  {texts[i][:40]}",
        )
    print(
        f"embedded {len(texts)} texts with {enc.handle} (dim {enc.dim}) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
