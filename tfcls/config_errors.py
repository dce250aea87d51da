"""The one error a configuration raises (its own module so every section file can use it)."""

from __future__ import annotations

from tfcls.errors import TfclsError


class ConfigError(TfclsError):
    """Invalid configuration (unknown key, wrong type, bad value)."""
