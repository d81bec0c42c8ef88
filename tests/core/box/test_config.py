"""Config keys: types, ranges, secrets never read back."""

from __future__ import annotations

import json

from kelaile_cli.core.box.config import check_config, public_config


def test_config_keys_types_and_secrets():
    assert check_config({"store": "S", "pos_baud": 19200}) is None
    assert "unknown config key 'nope'" in (check_config({"nope": 1}) or "")
    assert "must be int" in (check_config({"pos_baud": "fast"}) or "")
    assert "must be int" in (check_config({"pos_baud": True}) or "")
    assert "out of range" in (check_config({"printer_baud": 0}) or "")
    shown = public_config({"device_secret": "s3cret", "store": "S"})
    assert shown["device_secret"] == "<set>" and "s3cret" not in json.dumps(shown)
    assert public_config({}, ["store"]) == {"store": ""}
