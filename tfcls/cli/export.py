"""``python -m tfcls.export --run RUN_DIR [--out exported] [--quantize ...]``: the TF.js bundle.

The work is :func:`tfcls.bundle.export.export`; this is its command line. After publishing
it keeps ``serving.keep_versions`` versions (:meth:`Registry.prune`); ``--list`` shows
them, their sizes and which are live; ``--rollback VERSION`` serves an earlier one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tfcls.bundle.export import export
from tfcls.bundle.registry import Registry
from tfcls.cli import common as cli
from tfcls.config import QUANTIZATIONS


def _parser():
    p = cli.parser("python -m tfcls.export", __doc__.split("\n\n")[0])
    cli.add_run_argument(p)
    p.add_argument("--out", default="exported", help="bundle folder (default: exported)")
    p.add_argument(
        "--quantize",
        default="auto",
        choices=["auto", *QUANTIZATIONS],
        help="weight quantization (default auto: smallest that keeps fidelity)",
    )
    p.add_argument("--rollback", metavar="VERSION", help="instead: make VERSION current again")
    p.add_argument("--list", action="store_true", help="instead: list the exported versions")
    return p


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _list(registry: Registry, ab: Sequence[str]) -> int:
    """One line per version: quantization, bundle and disk sizes, why it is live."""
    live, versions = registry.live(ab), registry.versions()
    for version in versions:
        _, meta = registry.require_metadata(version)
        bundle = "" if meta.size is None else f"{meta.size.bytes / 2**20:6.1f} MiB bundle"
        print(
            f"{version}  {meta.quantization or '?':8} {bundle}  "
            f"{_du(registry.path(version)) / 2**20:6.1f} MiB on disk  "
            f"{' '.join(live.get(version, []))}"
        )
    print(f"{len(versions)} version(s) in {registry.root}; current: {registry.current()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    config = cli.config_from(args)
    serving = config.serving
    if args.list:
        return _list(Registry(out), list(serving.ab))
    if args.rollback:
        registry = Registry(out)
        before = registry.current()
        registry.set_current(args.rollback)
        print(f"current version: {args.rollback} (was {before})")
        return 0
    result = export(
        cli.run_dir_from(args),
        out,
        args.quantize,
        check_texts=config.export.check_texts,
        check_n=config.export.check_n,
    )
    deleted = Registry(out).prune(serving.keep_versions, serving.ab)
    f, size = result.fidelity["node_tfjs"], result.size
    check = result.fidelity["node_tfjs_check"]
    brotli = "" if size.brotli_bytes is None else f", {size.brotli_bytes / 2**20:.1f} MiB brotli"
    print(
        f"exported {result.version} ({result.quantization}, {size.bytes / 2**20:.1f} "
        f"MiB, {size.gzip_bytes / 2**20:.1f} MiB gzip{brotli}) to {result.path}; in Node: "
        f"argmax agreement {f['argmax_agreement']:.4f}, max probability diff "
        f"{f['max_probability_diff']:.2e}, accuracy delta {100 * f['accuracy_delta']:+.2f} points"
        f"; on {check['n']} check texts: argmax agreement {check['argmax_agreement']:.4f}"
        + (f"; deleted {len(deleted)} old version(s)" if deleted else "")
    )
    return 0
