"""Repeated short commands are parsed once per stream; every event still gets its own params."""

from __future__ import annotations

from kelaile_cli.core.escpos.decoder import EscPosDecoder
from kelaile_cli.core.escpos.events import Command


def commands(data: bytes) -> list[Command]:
    decoder = EscPosDecoder()
    events = decoder.feed(data) + decoder.close()
    return [e for e in events if isinstance(e, Command)]


def test_repeated_commands_decode_alike_with_their_own_params():
    first, second, other = commands(b"\x1b!\x38A\x1b!\x38B\x1b!\x00")
    assert (
        first.params
        == second.params
        == {
            "font": "A",
            "bold": True,
            "double_height": True,
            "double_width": True,
            "underline": False,
        }
    )
    assert first.params is not second.params
    assert (first.offset, second.offset) == (0, 4)
    first.params["bold"] = False  # a consumer that writes into an event touches only that event
    assert commands(b"\x1b!\x38")[0].params["bold"] is True
    assert second.params["bold"] is True and other.params["bold"] is False


def test_function_byte_families_keep_their_op_when_repeated():
    qr_store = b"\x1d(k\x07\x001P0abcd"
    ops = [c.op for c in commands(qr_store * 2 + b"\x1d(k\x03\x001Q0" * 2)]
    assert ops == ["code2d_store", "code2d_store", "code2d_print", "code2d_print"]


def test_commands_with_list_params_never_share_them():
    first, second = commands(b"\x1bD\x08\x10\x00\x1bD\x08\x10\x00")
    assert first.params == second.params and first.params["stops"] == [8, 16]
    assert first.params["stops"] is not second.params["stops"]


def test_remembered_parses_are_not_shared_between_streams_by_writing():
    """The parse of a short command is remembered beyond one stream (by its table); an event of one
    stream written into never changes what another stream decodes."""
    (first,) = commands(b"\x1ba\x01")
    first.params["align"] = "right"
    first.params.clear()
    (again,) = commands(b"\x1ba\x01")
    assert again.params == {"align": "center"} and again.raw == b"\x1ba\x01"


def test_params_read_alike_whether_parsed_or_remembered():
    data = b"\x1b!\x08\x1bE\x01\x1ba\x02\x1d!\x11\x1bd\x03\x1dV\x42\x05\x1b@"
    first, second = commands(data), commands(data)
    assert [(c.op, c.params) for c in first] == [(c.op, c.params) for c in second]
    assert first == second
    assert [c.params for c in first][:2] == [
        {"font": "A", "bold": True, "double_height": False, "double_width": False, "underline": False},
        {"on": True},
    ]


def test_command_params_can_be_set_and_compare_by_value():
    cmd = Command(3, b"\x1bE\x01", "ESC E", "bold", None, {"on": True})
    assert cmd.params == {"on": True}
    assert cmd == Command(3, b"\x1bE\x01", "ESC E", "bold", {"on": True})
    assert cmd != Command(3, b"\x1bE\x01", "ESC E", "bold", {"on": False})
    assert cmd != Command(4, b"\x1bE\x01", "ESC E", "bold", {"on": True})
    cmd.params = {"on": False}
    assert cmd.params == {"on": False}
    assert Command(0, b"\x1b@", "ESC @", "init").params == {}
    assert repr(cmd) == "Command(offset=3, raw=b'\\x1bE\\x01', name='ESC E', op='bold', params={'on': False})"


def test_read_params_gives_the_remembered_dict_itself_and_params_a_copy():
    """``read_params`` (for the layout, which never writes them) costs no copy; ``params`` still gives the
    event a dict of its own, so writing into it leaves the remembered one as it was."""
    remembered = {"n": 1}
    cmd = Command(0, b"\x1b!\x01", "ESC !", "print_mode", None, remembered)
    assert cmd.read_params() is remembered
    own = cmd.params
    assert own == remembered and own is not remembered
    own["n"] = 2
    assert remembered == {"n": 1}
    assert cmd.read_params() is own
    assert Command(0, b"\x0a", "LF", "lf").read_params() == {}
