"""The klx command line: in-process through the lazy group (most tests) and a few real subprocesses."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from kelaile_cli.cli.app import COMMANDS, load_command
from tests.helpers import ROOT, SAMPLES, klx, klx_process


def test_help_lists_commands_and_exit_codes():
    r = klx("--help")
    assert r.returncode == 0
    for word in ("show", "parse", "Exit codes"):
        assert word in r.stdout


@pytest.mark.parametrize("cmd", ["show", "parse", "printers"])
def test_every_command_has_help(cmd):
    r = klx(cmd, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout


def test_version():
    from kelaile_cli import __version__

    r = klx("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"klx {__version__}"


def test_show_bundled_sample_without_arguments():
    r = klx("show", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    assert "receipt 1" in r.stdout
    assert "\x1b[" not in r.stdout  # NO_COLOR: no escape sequences


def test_show_text_format_of_a_file(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@\x1ba\x01Hello shop\n\x1ba\x00Tea  2.00\n\x1dV\x00")
    r = klx("show", str(job), "--format", "text", "--width", "32")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Hello shop".center(32).rstrip() or lines[0].strip() == "Hello shop"
    assert "Tea  2.00" in lines


def test_parse_json_lines(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@A\n\x1d(k\x06\x001P0abc\x1d(k\x03\x001Q0\x1dV\x00\x1b@B\n\x1b\x99\n\x1dV\x01")
    r = klx("parse", str(job), "--json")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["index"] for o in objs] == [0, 1]
    for key in ("source", "index", "text", "encoding", "width", "codes", "warnings"):
        assert key in objs[0]
    assert objs[0]["codes"][0]["data"] == "abc"
    assert objs[1]["warnings"][0]["offset"] == 30
    assert objs[0]["source"] == str(job)


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    r = klx("parse", str(tmp_path / "nope.bin"), "--json")
    assert r.returncode == 2
    assert "nope.bin" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unreadable_file_does_not_stop_the_others(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"hello\n")
    r = klx("parse", str(tmp_path / "missing.bin"), str(good), "--json")
    assert r.returncode == 2
    assert json.loads(r.stdout.splitlines()[0])["text"].strip() == "hello"


def test_bad_option_value_is_exit_2():
    r = klx("show", "--encoding", "klingon")
    assert r.returncode == 2 and "klingon" in r.stderr and "Traceback" not in r.stderr
    assert klx("show", "--no-such-option").returncode == 2


def test_garbage_is_data_exit_0(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    r = klx("parse", str(junk), "--json")
    assert r.returncode == 0, r.stderr
    assert any(json.loads(x)["warnings"] for x in r.stdout.splitlines())


def test_dump_names_commands(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@\x1b!\x08Bold\n\x1dV\x00")
    r = klx("show", str(job), "--dump", "--format", "text")
    assert r.returncode == 0, r.stderr
    assert "ESC @" in r.stdout and "ESC !" in r.stdout and "GS V" in r.stdout


def test_html_and_png_outputs(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@Hi\n\x1dV\x00\x1b@Again\n\x1dV\x00")
    html = tmp_path / "r.html"
    assert klx("show", str(job), "-f", "html", "-o", str(html)).returncode == 0
    assert "Again" in html.read_text()
    r = klx("show", str(job), "-f", "png", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    pngs = sorted(tmp_path.glob("job-*.png"))
    assert len(pngs) == 2 and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not SAMPLES.exists(), reason="samples not generated")
def test_every_bundled_sample_parses():
    files = sorted(str(p) for p in SAMPLES.glob("*.bin"))
    assert files
    r = klx("parse", *files, "--json")
    assert r.returncode == 0, r.stderr
    sources = {json.loads(x)["source"] for x in r.stdout.splitlines()}
    assert sources == set(files)


# -- the command table ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_help_is_the_command_s_own(name):
    """``klx --help`` shows the table's text without importing commands: it must not drift from theirs."""
    command = load_command(name)
    assert command.name == name
    assert command.get_short_help_str(limit=300) == COMMANDS[name].help


def test_help_lists_every_command_with_its_help():
    r = klx("--help")
    assert r.returncode == 0
    for name, entry in COMMANDS.items():
        assert name in r.stdout
        assert entry.help.split()[0] in r.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_group_answers_help(name):
    r = klx(name, "--help")
    assert r.returncode == 0, r.stderr
    assert f"klx {name}" in r.stdout


def test_an_unknown_command_is_a_usage_error():
    r = klx("no-such-command")
    assert r.returncode == 2 and "no-such-command" in r.stderr


def test_shell_completion_of_command_names():
    env = {"_KLX_COMPLETE": "complete_bash", "COMP_WORDS": "klx pr", "COMP_CWORD": "1"}
    r = klx_process(env=env)
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == {"printers", "profile", "provision"}


def test_shell_completion_inside_a_command():
    env = {"_KLX_COMPLETE": "complete_bash", "COMP_WORDS": "klx parse --mo", "COMP_CWORD": "2"}
    r = klx_process(env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["--model"]


# -- conventions -----------------------------------------------------------------------------------


def test_model_option_and_its_hidden_old_name_printer(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@\x1bt\x10caf\xe9\n\x1dV\x00")  # ESC t 16 (WPC1252 on Epson models): é
    new = klx("parse", str(job), "--json", "--model", "TM-T88V")
    old = klx("parse", str(job), "--json", "--printer", "TM-T88V")
    assert new.returncode == old.returncode == 0, new.stderr + old.stderr
    assert json.loads(new.stdout)["text"] == json.loads(old.stdout)["text"]
    assert "café" in json.loads(new.stdout)["text"]
    help_text = klx("parse", "--help").stdout
    assert "--model" in help_text and "--printer" not in help_text
    bad = klx("parse", str(job), "--model", "no-such-printer")
    assert bad.returncode == 2 and "no-such-printer" in bad.stderr


def test_json_keeps_non_ascii_text_as_is(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes("\x1b@\x1c&合计 10.00\n\x1dV\x00".encode("gb18030"))
    r = klx("parse", str(job), "--json")
    assert r.returncode == 0, r.stderr
    assert "合计" in r.stdout and "\\u" not in r.stdout


def test_format_is_checked_against_its_choices():
    r = klx("show", "--format", "pdf")
    assert r.returncode == 2 and "pdf" in r.stderr


# -- a few real processes: start-up, exit codes, signals -------------------------------------------


def test_process_version_help_and_parse(tmp_path):
    from kelaile_cli import __version__

    assert klx_process("--version").stdout.strip() == f"klx {__version__}"
    r = klx_process("--help")
    assert r.returncode == 0 and "Exit codes" in r.stdout and "parse" in r.stdout
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@hello\n\x1dV\x00")
    r = klx_process("parse", str(job), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["text"].strip() == "hello"


def test_process_bad_input_is_one_line_and_exit_2(tmp_path):
    r = klx_process("parse", str(tmp_path / "nope.bin"), "--json")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "nope.bin" in r.stderr
    assert "Traceback" not in r.stderr


def test_ctrl_c_exits_130():
    """The box emulator stops cleanly on Ctrl-C and klx exits 130 (SIGTERM: 0, tested with the emulator)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as state:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kelaile_cli", "box", "sim", "--json", "--state", state],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["port"]
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr


def test_import_takes_tcp_port_and_still_its_old_name_port(tmp_path):
    from tests.helpers import frame, write_pcap

    cap = tmp_path / "web.pcap"
    write_pcap(cap, [(1.0, frame(("10.0.0.5", 40000), ("10.0.0.7", 8443), 1, b"\x1b@hello\n"))])
    assert klx("import", str(cap), "-o", str(tmp_path / "a.klr")).returncode == 1  # nothing on 9100
    for option in ("--tcp-port", "--port"):
        out = tmp_path / f"{option.strip('-')}.klr"
        r = klx("import", str(cap), "-o", str(out), option, "8443", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["bytes_to_printer"] == len(b"\x1b@hello\n")
    help_text = klx("import", "--help").stdout
    assert "--tcp-port" in help_text and "--port " not in help_text


def test_png_output_to_a_new_directory_or_a_png_name(tmp_path):
    """``-o out/`` means a folder (made if missing); ``-o x.png`` a file, numbered when there are several."""
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@Hi\n\x1dV\x00")
    assert klx("show", str(job), "-f", "png", "-o", str(tmp_path / "out")).returncode == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["job-1.png"]
    assert klx("show", str(job), "-f", "png", "-o", str(tmp_path / "one.png")).returncode == 0
    assert (tmp_path / "one.png").read_bytes()[:4] == b"\x89PNG"
