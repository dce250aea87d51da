"""The configuration's sections for what follows training: ``export``, ``storage``,
``serving``, ``retrain`` and ``monitor``.

Part of ``tfcls.config_sections``' tree (re-exported by ``tfcls.config``); each section's
``__post_init__`` checks its values, so a bad value fails at load with the key named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcls.config_errors import ConfigError

# bundle weight quantizations, smallest first (tfcls.bundle.export; auto tries them in order,
# but for per-tensor uint8). int8: per-channel 8-bit; int8e6: the same with the embedding table
# on 6-bit levels (tfcls.bundle.quantize)
QUANTIZATIONS = ("int8e6", "int8", "uint8", "float16", "none")


@dataclass
class StorageConfig:
    """Where feedback from the web client is kept."""

    path: str = "var/feedback.sqlite3"  # SQLite file (WAL, synchronous=FULL); folder created
    url: str | None = None  # a database URL instead, e.g. postgresql+psycopg://u@host/db


IDENTITY_MODES = ("refuse", "anonymous")


@dataclass
class IdentityConfig:
    """``serving.identity``: the signed client ids ``GET /api/model`` issues
    (:mod:`tfcls.serving.identity`), so that "distinct clients" cannot be made up."""

    # a verdict without a valid server-issued id: refuse (401) or store it as "anonymous"
    # (every such verdict then counts as one client in tfcls.retrain)
    unsigned: str = "refuse"
    # the HMAC key's file (created, mode 0600, when missing); null: client-secret next to
    # storage.path. $TFCLS_CLIENT_SECRET wins over it: set that when several machines serve
    secret_file: str | None = None

    def __post_init__(self) -> None:
        if self.unsigned not in IDENTITY_MODES:
            raise ConfigError(
                f"serving.identity.unsigned must be one of {', '.join(IDENTITY_MODES)}, "
                f"got {self.unsigned!r}"
            )


@dataclass
class RateLimitConfig:
    """``serving.rate_limits``: Flask-Limiter limits (``N/second|minute|hour|day``, several
    joined by ``;``); over one, a request gets 429 with ``Retry-After``."""

    enabled: bool = True
    # memory:// counts per process; with several gunicorn workers or machines use a shared
    # storage, e.g. redis://host:6379 (the limits package's storage URIs)
    storage_uri: str = "memory://"
    feedback_per_client: str = "30/minute;600/day"
    feedback_per_ip: str = "300/minute"
    predict_per_client: str = "120/minute"
    predict_per_ip: str = "1200/minute"
    new_client_ids_per_ip: str = "60/hour"  # GET /api/model without a valid id
    # reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none, the
    # TCP peer is the client's IP)
    trusted_proxies: int = 0

    def __post_init__(self) -> None:
        from limits import parse_many

        for name in (
            "feedback_per_client",
            "feedback_per_ip",
            "predict_per_client",
            "predict_per_ip",
            "new_client_ids_per_ip",
        ):
            try:
                parse_many(getattr(self, name))
            except ValueError:
                raise ConfigError(
                    f"serving.rate_limits.{name}: {getattr(self, name)!r} is not a rate limit; "
                    "write e.g. 30/minute or 30/minute;600/day"
                ) from None
        if self.trusted_proxies < 0:
            raise ConfigError("serving.rate_limits.trusted_proxies must be ≥ 0")


@dataclass
class ServingConfig:
    """``python -m tfcls.serve``: what is served and the limits of its API."""

    exported: str = "exported"  # bundles; exported/current.json names the served version
    host: str = "127.0.0.1"
    port: int = 5000
    max_predict_texts: int = 256  # POST /api/predict
    max_field_chars: int = 2000  # each text field of POST /api/feedback
    max_request_bytes: int = 65536  # larger bodies get 413
    # A/B test: version → traffic share (summing to 1); empty = everyone gets current.
    ab: dict[str, float] = field(default_factory=dict)
    # exported versions kept on disk; publishing deletes the oldest beyond it, never the
    # current one, the rollback target or an A/B version (tfcls.bundle.registry.prune)
    keep_versions: int = 5
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    # admin endpoints (GET /api/feedback/stats …) need "Authorization: Bearer <token>";
    # $TFCLS_ADMIN_TOKEN wins over this; neither set: the admin endpoints are off (404)
    admin_token: str | None = None

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ConfigError("serving.admin_token must be at least 16 characters")
        if self.keep_versions < 1:
            raise ConfigError(f"serving.keep_versions must be ≥ 1, got {self.keep_versions}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"serving.port must be in 1..65535, got {self.port}")
        for name in ("max_predict_texts", "max_field_chars", "max_request_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"serving.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.ab:
            if any(share < 0 for share in self.ab.values()):
                raise ConfigError(f"serving.ab: shares must be ≥ 0, got {self.ab}")
            if abs(sum(self.ab.values()) - 1.0) > 1e-6:
                raise ConfigError(
                    f"serving.ab: shares must sum to 1, got {sum(self.ab.values())} ({self.ab})"
                )


@dataclass
class ExportConfig:
    """``python -m tfcls.export``: the fidelity gate's second, larger text set.

    Every candidate bundle is run in Node on the held-out split and on these texts; auto
    keeps the smallest whose argmax agreement with float32 is ≥ 99.5% on both."""

    check_texts: str | None = None  # JSONL with a 'text' field; None: the run's own texts
    check_n: int = 2000  # texts taken from it (seeded, distinct)

    def __post_init__(self) -> None:
        if self.check_n < 1:
            raise ConfigError(f"export.check_n must be ≥ 1, got {self.check_n}")


@dataclass
class RetrainConfig:
    """``python -m tfcls.retrain``: feedback → training data, and the promotion gate."""

    min_examples_new_label: int = 5  # a new category becomes a label at this many examples
    recent_holdout: float = 0.2  # newest share of feedback examples held out, never trained on
    tolerance: float = 0.01  # promote unless a holdout's accuracy drops by more than this
    tune: bool = False  # search the head again (slow); default: the current run's hyperparameters
    quantize: str = "auto"  # export setting for a promoted candidate
    # sample weights of the candidate's data (tfcls.retrain's docstring says how)
    feedback_weight: float = 3.0  # a human verdict counts this many base examples
    balance_labels: bool = True  # lift each label's total weight to the median base label's
    max_weight: float = 20.0  # boosting stops here: one example cannot dominate
    # the gate also refuses a candidate that has not learned the feedback holdout
    min_holdout_to_judge: int = 5  # recent-feedback texts needed to judge its accuracy
    min_feedback_accuracy: float = 0.5  # refuse below this on a judgeable feedback holdout
    adapt_encoder: bool = False  # true: adapt the encoder again if the current run did
    # influence is bounded: a correction of a base text's label needs this many distinct
    # clients agreeing, and one client's verdicts give at most this many examples a retrain
    min_agreeing_clients: int = 3
    max_examples_per_client: int = 50

    def __post_init__(self) -> None:
        if self.min_examples_new_label < 1:
            raise ConfigError("retrain.min_examples_new_label must be ≥ 1")
        for name in ("min_agreeing_clients", "max_examples_per_client"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"retrain.{name} must be an integer ≥ 1")
        for name in ("feedback_weight", "max_weight"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ConfigError(f"retrain.{name} must be > 0, got {getattr(self, name)}")
        if self.min_holdout_to_judge < 1:
            raise ConfigError("retrain.min_holdout_to_judge must be ≥ 1")
        if not 0 <= self.min_feedback_accuracy <= 1:
            raise ConfigError(
                f"retrain.min_feedback_accuracy must be in [0, 1], got {self.min_feedback_accuracy}"
            )
        if not 0 <= self.recent_holdout < 1:
            raise ConfigError(
                f"retrain.recent_holdout must be in [0, 1), got {self.recent_holdout}"
            )
        if not 0 <= self.tolerance < 1:
            raise ConfigError(f"retrain.tolerance must be in [0, 1), got {self.tolerance}")
        if self.quantize not in ("auto", *QUANTIZATIONS):
            raise ConfigError(
                f"retrain.quantize must be auto or one of {', '.join(QUANTIZATIONS)}, "
                f"got {self.quantize!r}"
            )


@dataclass
class MonitorConfig:
    """``python -m tfcls.monitor``: the window of feedback it judges and the thresholds of
    its verdict (:mod:`tfcls.monitoring`); exit 1 when one is crossed."""

    days: int = 14  # the window: feedback of the last N days (the previous N: the baseline)
    min_texts: int = 30  # fewer recent texts/verdicts: "not enough data", never an alarm
    # data drift: MMD (RBF kernel, median heuristic) of recent vs training embeddings
    mmd_p_value: float = 0.01  # alarm when the permutation p-value is below this
    permutations: int = 200
    max_texts: int = 500  # each side subsampled (seeded) to at most this many texts
    seed: int = 0
    # a text whose nearest training text is less similar (cosine) than the floor…
    similarity_floor: float | None = None  # null: the training texts' own floor_quantile
    floor_quantile: float = 0.05  # …of their nearest other training text's similarity
    below_floor_share: float = 0.3  # …alarm when more than this share of texts are
    psi: float = 0.2  # prediction drift: alarm when the PSI of predicted labels exceeds this
    min_acceptance: float = 0.5  # alarm when the window's acceptance rate is below this…
    max_acceptance_drop: float = 0.1  # …or this much below the previous window's
    history: str = "var/monitor.jsonl"  # one JSON line appended per run (folder created)

    def __post_init__(self) -> None:
        for name in ("days", "min_texts", "permutations", "max_texts"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"monitor.{name} must be an integer ≥ 1, got {value!r}")
        for name in ("mmd_p_value", "below_floor_share", "min_acceptance", "max_acceptance_drop"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"monitor.{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 < self.floor_quantile < 1:
            raise ConfigError(
                f"monitor.floor_quantile must be in (0, 1), got {self.floor_quantile}"
            )
        if self.similarity_floor is not None and not -1 <= self.similarity_floor <= 1:
            raise ConfigError(
                f"monitor.similarity_floor must be in [-1, 1], got {self.similarity_floor}"
            )
        if not self.psi > 0:
            raise ConfigError(f"monitor.psi must be > 0, got {self.psi}")
        if not self.history:
            raise ConfigError("monitor.history must name a file")
