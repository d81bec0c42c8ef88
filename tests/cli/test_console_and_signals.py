"""The one JSON emitter and the one place that handles SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from kelaile_cli.cli.console import emit_json, emit_utf8, to_json
from kelaile_cli.cli.signals import stopping


def test_json_style_is_one_line_utf8_and_bytes_as_hex(capsys):
    emit_json({"text": "合计 €", "raw": b"\x1b@", "path": Path("a/b.klr"), "amount": Decimal("3.50")})
    line = capsys.readouterr().out
    assert line.endswith("\n") and line.count("\n") == 1
    assert json.loads(line) == {"text": "合计 €", "raw": "1b40", "path": "a/b.klr", "amount": "3.50"}
    assert "合计" in line


def test_json_is_json_dumps_with_the_klx_style():
    """``to_json`` reuses one encoder: the text of ``json.dumps(…, ensure_ascii=False, default=…)``, call after call."""
    from kelaile_cli.cli.console import _default

    values = [
        {"a": [1, 2.5, None, True], "t": '引号"\\\n\x01', "b": b"\x00", "d": Decimal("1.10"), "s": {2, 1}},
        [float("nan"), float("inf"), 1e300, 0.1 + 0.2],
        "plain",
        {"nested": {"list": [{"k": Path("x")}]}},
    ]
    for value in values * 2:
        assert to_json(value) == json.dumps(value, ensure_ascii=False, default=_default)


def test_json_refuses_what_it_cannot_represent():
    with pytest.raises(TypeError, match="object"):
        to_json({"x": object()})


def _wait_for(event: threading.Event) -> bool:
    deadline = time.monotonic() + 5
    while not event.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    return event.is_set()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_calls_stop_once_and_the_previous_handlers_come_back(sig):
    calls: list[int] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    raised = False
    try:
        with stopping(lambda: calls.append(1)) as fired:
            os.kill(os.getpid(), sig)
            assert _wait_for(fired)
            os.kill(os.getpid(), sig)  # a second signal does not stop twice
            time.sleep(0.05)
    except KeyboardInterrupt:
        raised = True
    assert calls == [1]
    assert raised == (sig == signal.SIGINT)  # Ctrl-C ends as an interruption (exit 130), SIGTERM normally
    assert {s: signal.getsignal(s) for s in before} == before


def test_without_interrupt_ctrl_c_is_left_to_the_caller():
    with stopping(lambda: None, interrupt=False) as fired:
        os.kill(os.getpid(), signal.SIGINT)
        assert _wait_for(fired)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_records_in_utf8_reach_stdout_as_text_would(monkeypatch, encoding):
    """Bytes straight to stdout's byte stream when it writes UTF-8, after any text written before; through
    the text layer otherwise (its encoding, errors and all), and to a stream with no bytes under it."""
    import io

    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="\n")
    monkeypatch.setattr("sys.stdout", stdout)
    stdout.write("first ")
    emit_utf8(['{"text": "永福 €"}'.encode(), b"\n"])
    emit_utf8([])
    stdout.flush()
    assert raw.getvalue() == 'first {"text": "永福 €"}\n'.encode(encoding, errors="replace")
    text = io.StringIO()
    monkeypatch.setattr("sys.stdout", text)
    emit_utf8(["é".encode(), b"\n"])
    assert text.getvalue() == "é\n"
