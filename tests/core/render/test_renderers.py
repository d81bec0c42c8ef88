"""Renderers: golden files for text and HTML, properties for width, pixels for PNG."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image as PILImage
from rich.console import Console

from kelaile_cli.core.render.dump import dump_rows, format_dump
from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.png import render_png
from kelaile_cli.core.render.terminal import render_rich
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.cells import char_cells
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.stream.receipt import Code, Image, Line, Receipt, Span, Style

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "recordings" / "samples"
GOLDEN = Path(__file__).parent / "golden"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.bin"))


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KLX_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (KLX_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_text_golden(name):
    receipts = read_receipts((SAMPLES / name).read_bytes())
    golden(name + ".txt", "\n\n".join(render_text(r) for r in receipts) + "\n")


@pytest.mark.parametrize("name", ["zh-cn-restaurant-80mm.bin", "zh-tw-cafe-58mm.bin", "star-line-mode.bin"])
def test_html_golden(name):
    receipts = read_receipts((SAMPLES / name).read_bytes())
    page = render_html(receipts, title=name, sources=[name] * len(receipts))
    assert page.count('class="paper') == len(receipts)
    golden(name + ".html", page)


def receipt(lines: list[Line], width: int = 32, **kw) -> Receipt:
    return Receipt(index=0, elements=list(lines), start=0, end=0, encoding="gb18030", width=width, **kw)


def line(text: str, align: str = "left", **style) -> Line:
    return Line([Span(text, Style(**style), 0, len(text))], align)


texts = st.text(alphabet=st.sampled_from("ab 12合计鸡丁éｗ"), max_size=60)


@given(st.lists(st.tuples(texts, st.sampled_from([1, 2, 3]), st.sampled_from(["left", "center", "right"])),
                max_size=8), st.sampled_from([32, 42, 48]))  # fmt: skip
def test_no_text_line_is_wider_than_the_paper(rows, width):
    lines = [Line([Span(t, Style(width=w), 0, 0)], a) for t, w, a in rows]
    out = render_text(receipt(lines, width), markers=False)
    for printed in out.splitlines():
        assert sum(char_cells(c) for c in printed) <= width, printed


def test_alignment_counts_wide_characters_and_multipliers():
    r = receipt([line("合计", "right"), line("AB", "center", width=2)], width=32)
    first, second = render_text(r).splitlines()
    assert first == " " * 28 + "合计"
    assert second == " " * 14 + "AB"


def test_wrapping_never_splits_a_wide_character():
    r = receipt([line("合" * 17)], width=32)
    rows = render_text(r).splitlines()
    assert rows == ["合" * 16, "合"]


def test_rich_rendering_shows_styles_and_qr():
    r = receipt([line("BOLD", bold=True), line("INV", inverse=True)], width=32)
    r.elements.append(Code("QR", "https://k.example/1", b"https://k.example/1", 0, 0, "center"))
    console = Console(width=80, record=True, color_system="truecolor", force_terminal=True)
    console.print(render_rich(r))
    plain = console.export_text(clear=False)
    assert "BOLD" in plain and "https://k.example/1" in plain
    assert "█" in plain or "▀" in plain  # the QR drawn as blocks
    styled = console.export_text(styles=True)
    assert "\x1b[1m" in styled and "\x1b[7m" in styled


def test_png_has_ink_where_text_and_image_are():
    bitmap = bytes([0xFF] * (8 * 40))  # 64x40 solid black block
    img = Image(64, 40, bitmap, "GS v 0", 0, 0, "left")
    r = receipt([line("HELLO")], width=32, cut="full")
    r.elements.append(img)
    pic = PILImage.open(io.BytesIO(render_png(r)))
    assert pic.width == 384 + 16
    gray = pic.convert("L")
    text_band = gray.crop((8, 8, 8 + 5 * 12, 8 + 30))
    assert min(text_band.get_flattened_data()) < 100  # glyphs drawn
    block = gray.crop((8, 8 + 30, 8 + 64, 8 + 70))
    assert max(block.get_flattened_data()) < 50  # the image is solid black
    right = gray.crop((200, 8 + 30, 380, 8 + 70))
    assert min(right.get_flattened_data()) > 200  # nothing printed there


def test_dump_labels_every_byte():
    data = (SAMPLES / "zh-tw-cafe-58mm.bin").read_bytes()
    from kelaile_cli.core.stream.printstream import decode_events

    events, _ = decode_events(data)
    rows = dump_rows(events, text_decoder=lambda raw, offset: raw.decode("cp950", "replace"))
    assert sum(len(r.raw) for r in rows) == len(data)
    text = format_dump(rows)
    assert "GS k" in text and "GS V" in text and "barcode CODE128" in text
    # text rows come one printed line at a time, next to their bytes
    details = [r.detail for r in rows if r.label == "TEXT"]
    assert details and all(d.count("\\n") <= 1 for d in details)
    assert any(d.startswith("合計") for d in details)
