"""The ``monitor:`` config section: defaults, and errors that name the key."""

from __future__ import annotations

import re

import pytest

import tfcls
from tfcls.config import ConfigError, MonitorConfig


def test_defaults_come_from_default_yaml():
    config = tfcls.load_config()
    assert config.monitor == MonitorConfig()
    assert (config.monitor.days, config.monitor.min_texts) == (14, 30)
    assert config.monitor.similarity_floor is None  # the training texts' own floor


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("monitor.days=0", "monitor.days must be an integer ≥ 1"),
        ("monitor.mmd_p_value=1.5", "monitor.mmd_p_value must be in [0, 1]"),
        ("monitor.similarity_floor=2", "monitor.similarity_floor must be in [-1, 1]"),
        ("monitor.floor_quantile=0", "monitor.floor_quantile must be in (0, 1)"),
        ("monitor.psi=0", "monitor.psi must be > 0"),
        ("monitor.history=''", "monitor.history must name a file"),
        ("monitor.window=3", "unknown key 'monitor.window'"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        tfcls.load_config(None, [override])
