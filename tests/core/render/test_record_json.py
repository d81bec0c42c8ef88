"""``record_json``: the JSON writer of ``klx parse --json`` gives ``json.dumps``' text exactly."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from kelaile_cli.core.render.record_json import _json_body_utf8, json_str, json_value, members_json


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=25,
)


@given(values)
def test_a_value_is_written_as_json_dumps_writes_it(value: object) -> None:
    assert json_value(value, dumps) == dumps(value)


@given(st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_members_are_written_as_the_object_s_members(members: dict[str, object]) -> None:
    written = members_json(members, dumps)  # ', "key": value' each
    assert "{" + written.removeprefix(", ") + "}" == dumps(members)


def test_what_is_not_plain_json_data_goes_to_the_encoder() -> None:
    seen: list[object] = []

    def encode(value: object) -> str:
        seen.append(value)
        return dumps(value)

    class Text(str):
        pass

    value = {"a": [1, (2, 3)], "b": {1: "x"}, "c": Text("t"), "d": {"e": [None, True, 1.5]}}
    assert json_value(value, encode) == dumps(value)
    assert seen == [(2, 3), {1: "x"}]  # the tuple and the dict with a number for key, nothing else


# long texts (from 48 characters on, a text is looked through for the characters JSON escapes): plain ones,
# with newlines and characters JSON leaves as they are; each escaped character is tried below
_PLAIN = st.sampled_from([*"ab 永福¥\n\n", "\x7f", "\u2028", "\ud800", "\U0001f600"])
_ESCAPED = st.sampled_from([*(chr(c) for c in range(0x20)), '"', "\\"])


@given(st.text(_PLAIN, min_size=40, max_size=120), st.lists(st.tuples(st.integers(0, 120), _ESCAPED), max_size=2))
def test_a_long_text_is_written_as_json_dumps_writes_it(plain: str, inserted: list[tuple[int, str]]) -> None:
    text = plain
    for at, ch in inserted:
        text = text[:at] + ch + text[at:]
    assert json_str(text) == dumps(text)
    assert _json_body_utf8(text) == dumps(text)[1:-1].encode("utf-8", "surrogatepass")  # the receipt's text in a record


def test_escaped_characters_in_a_long_text() -> None:
    plain = "永福超市 ¥12.00\n" * 5
    for ch in [*(chr(c) for c in range(0x20)), '"', "\\", "\x7f"]:
        for text in (plain + ch, ch + plain, plain[:30] + ch + plain[30:]):
            assert json_str(text) == dumps(text)
            assert _json_body_utf8(text) == dumps(text)[1:-1].encode("utf-8", "surrogatepass")


# -- a receipt's text in a record: runs whose bytes hold no '"' or '\' are not searched again -------------

_TEXT_BYTES = st.sampled_from([b"ab ", b"12.00", b"\n", b'"', b"\\", "永福".encode("gb18030"), b"\xa1\xa4", b"\x80"])
_COMMANDS = st.sampled_from(
    [b"", b"\x1ba\x01", b"\x1ba\x00", b"\x1bR\x08", b"\x1bR\x00", b"\x1c&", b"\x1c.", b"\x1bt\x10"]
)


@given(st.lists(st.tuples(_COMMANDS, st.lists(_TEXT_BYTES, max_size=12).map(b"".join)), max_size=6), st.booleans())
@example([(b"", b'ab "\n')], False)
@example([(b"\x1ba\x01", b"C:\\dos\n12.00\n")], False)
def test_a_receipt_s_text_is_written_as_json_dumps_writes_it(parts: list[tuple[bytes, bytes]], code: bool) -> None:
    from kelaile_cli.core.render.record_json import receipt_head
    from kelaile_cli.core.render.text import render_text
    from kelaile_cli.core.stream.printstream import read_receipts

    data = b"".join(command + text for command, text in parts)
    if code:  # a CODE39 barcode whose data has a quote and a backslash
        data += b'\x1dk\x04A"1\\\x00\n'
    for receipt in read_receipts(data):
        record = json.loads(receipt_head("s", receipt, None) + "}")
        assert record["text"] == render_text(receipt, markers=False)


def test_plain_runs_are_not_searched_and_the_rest_is() -> None:
    from kelaile_cli.core.render.text import render_text, render_text_unchecked
    from kelaile_cli.core.stream.printstream import read_receipts
    from kelaile_cli.core.stream.receipt import LineRun

    head = "永福超市\n¥12.00  合计\n".encode("gb18030")
    [receipt] = read_receipts(b"\x1b@\x1c&" + head + b'\x1dk\x04A"1\\\x00\x1b!\x08BOLD\x1b!\x00 "x"\n\x1b!\x00' + head)
    runs = [b for b in receipt.blocks if isinstance(b, LineRun)]
    assert len(runs) == 2 and all(run.plain for run in runs)
    text, unchecked = render_text_unchecked(receipt, markers=False)
    assert text == render_text(receipt, markers=False)
    assert unchecked == ['[CODE39: A"1\\]', 'BOLD "x"']  # the barcode's marker, a line of two styles
    [quoted] = read_receipts(b'\x1b@She said "yes"\nand \\ left\n')
    assert [b.plain for b in quoted.blocks if isinstance(b, LineRun)] == [False]
    assert render_text_unchecked(quoted, markers=False)[1] == ['She said "yes"\nand \\ left']  # the run's text
