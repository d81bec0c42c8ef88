"""The profile file's schema (pydantic) and the plain dataclasses detection and extraction use stay in step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from pydantic_core import PydanticUndefined

from kelaile_cli.core.profiles import profile as runtime
from kelaile_cli.core.profiles.schema import MODELS, Profile, parse_profile, to_runtime, validate_field_rules
from tests.helpers import ROOT

PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
def test_each_model_and_its_dataclass_have_the_same_fields_in_order_with_the_same_defaults(model):
    plain = MODELS[model]
    assert plain.__name__ == model.__name__
    fields = dataclasses.fields(plain)
    assert [f.name for f in fields] == list(model.model_fields)
    for f in fields:
        info = model.model_fields[f.name]
        if info.default_factory is not None:
            assert f.default_factory is not dataclasses.MISSING, f.name
            made, wanted = f.default_factory(), info.default_factory()  # type: ignore[call-arg]
            assert made == to_runtime(wanted), f.name
        elif info.default is PydanticUndefined:
            assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name
        else:
            assert f.default == info.default, f.name


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_a_bundled_profile_reads_as_plain_data_that_says_what_the_model_says(path: Path):
    text = path.read_text(encoding="utf-8")
    parsed = parse_profile(text, path.name)
    assert isinstance(parsed, runtime.Profile) and isinstance(parsed.detect.signatures[0], runtime.Signature)
    model = Profile.model_validate(yaml.safe_load(text))
    assert parsed.to_dict() == model.model_dump(mode="json", exclude_none=True)


def test_field_rules_are_validated_before_they_become_plain_data():
    rules = validate_field_rules({"total": {"pattern": r"^Total (\S+)$"}, "decimals": 0})
    assert rules.total is not None and rules.total.pattern == r"^Total (\S+)$" and rules.decimals == 0
    with pytest.raises(ValueError, match="decimals"):
        validate_field_rules({"decimals": 9})
