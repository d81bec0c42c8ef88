"""Profiles: validation errors name file:line:key; the schema is published; detection ranks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.profiles.profile import ProfileError, parse_profile, profile_schema

ROOT = Path(__file__).resolve().parents[3]
GOOD = (ROOT / "profiles" / "meiwei-pos.yaml").read_text(encoding="utf-8")
SAMPLES = ROOT / "recordings" / "samples"


def test_bundled_profiles_parse():
    for path in (ROOT / "profiles").glob("*.yaml"):
        profile = parse_profile(path.read_text(encoding="utf-8"), path.name)
        assert profile.id == path.stem


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda t: t.replace("weight: 3", "weight: heavy"), ":13: detect.signatures[0].weight:"),
        (lambda t: t.replace("  width: 48", "  width: 50"), ":8: printer.width:"),
        (lambda t: t.replace("id: meiwei-pos", "id: MeiWei POS"), ":3: id:"),
        (
            lambda t: t.replace("    - regex: '单号: \\d{8}-\\d{4}'", "    - regex: '(unclosed'"),
            ":16: detect.signatures[2]: bad regex",
        ),
        (lambda t: t.replace("kinds:", "kinds:\n  lunch: [午餐]"), ":20: kinds.lunch (the key):"),
        (lambda t: t + "colour: red\n", f":{GOOD.count(chr(10)) + 1}: colour: Extra inputs"),
        (lambda t: t.replace("  habits:", "  habits:\n   bad: [unclosed"), ":19: YAML:"),
    ],
)
def test_errors_name_the_line_and_key(mutate, where):
    with pytest.raises(ProfileError) as info:
        parse_profile(mutate(GOOD), "meiwei.yaml")
    message = str(info.value)
    assert message.startswith("meiwei.yaml:")
    assert where in message, message


def test_schema_is_published_and_names_the_fields():
    schema = profile_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"id", "name", "vendor", "printer", "detect"} <= set(schema["required"])
    committed = (ROOT / "docs" / "profile.schema.json").read_text(encoding="utf-8")
    import json

    assert json.loads(committed) == schema  # docs/profile.schema.json is regenerated with the model


def load_all():
    return [parse_profile(p.read_text(encoding="utf-8"), p.name) for p in (ROOT / "profiles").glob("*.yaml")]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("zh-cn-restaurant-80mm.bin", "meiwei-pos"),
        ("zh-tw-cafe-58mm.bin", "chenguang-cafe"),
        ("en-us-grocery-58mm.bin", "greenleaf-till"),
        ("eu-de-bakery-80mm.bin", None),
        ("garbage-and-truncated.bin", None),
    ],
)
def test_detection_on_samples(sample, expected):
    detector = Detector(load_all())
    receipt = read_receipts((SAMPLES / sample).read_bytes())[0]
    best = detector.best(receipt)
    assert (best.id if best else None) == expected
    if expected:
        assert best.confidence >= 0.9


def test_a_close_second_lowers_confidence():
    profiles = load_all()
    twin = parse_profile(GOOD.replace("id: meiwei-pos", "id: meiwei-clone"), "clone.yaml")
    receipt = read_receipts((SAMPLES / "zh-cn-restaurant-80mm.bin").read_bytes())[0]
    alone = Detector(profiles).rank(receipt)[0].confidence
    contested = Detector([*profiles, twin]).rank(receipt)
    assert contested[0].confidence < alone and len(contested) == 2


def test_kinds_from_markers():
    profile = parse_profile(GOOD, "m.yaml")
    kinds = [profile.kind_of("\n".join(ln.text for ln in r.lines))
             for r in read_receipts((SAMPLES / "zh-cn-restaurant-80mm.bin").read_bytes())]  # fmt: skip
    assert kinds == ["pre_bill", "sale"]


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"单号: \d{8}-\d{4}", "单号: "),
        (r"VISA \*{4}\d{4}", "VISA "),
        (r"^TOTAL\s", "TOTAL"),
        (r"ab*c", "a"),
        (r"\.Net", ".Net"),
        (r"a|b", ""),
        (r"(x)y", ""),
    ],
)
def test_regex_trigger_prefix(pattern, prefix):
    from kelaile_cli.core.profiles.detect import literal_prefix

    assert literal_prefix(pattern) == prefix
    # soundness: every text the pattern matches starts with the prefix
    for sample in ("单号: 20261125-0042", "VISA ****1234", "TOTAL 7", "abbbc", "ac", ".Net", "a", "b", "xy"):
        m = re.match(pattern, sample)
        if m:
            assert m.group().startswith(prefix)


def test_regex_signatures_with_and_without_trigger_both_match():
    from kelaile_cli.core.stream.receipt import Line, Receipt, Span, Style

    base = GOOD.split("detect:")[0]
    triggered = parse_profile(base + "detect:\n  signatures:\n    - regex: 'ORDER #\\d+'\n", "a.yaml")
    untriggered = parse_profile(
        base.replace("meiwei-pos", "other-pos") + "detect:\n  signatures:\n    - regex: '\\d{3}-ZZ'\n", "b.yaml"
    )
    text = "ORDER #42 123-ZZ"
    receipt = Receipt(0, [Line([Span(text, Style(), 0, len(text))])], 0, len(text), "cp437", 48)
    assert {c.id for c in Detector([triggered, untriggered]).rank(receipt)} == {"meiwei-pos", "other-pos"}
    quiet = Receipt(0, [Line([Span("nothing", Style(), 0, 7)])], 0, 7, "cp437", 48)
    assert Detector([triggered, untriggered]).rank(quiet) == []
