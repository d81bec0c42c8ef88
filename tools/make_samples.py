"""Write the sample print jobs in recordings/samples/ (and the bundled sample) with python-escpos.

python-escpos is an independent ESC/POS producer, so the samples do not share our decoder's
assumptions. Output is deterministic: re-running gives identical bytes (tests check it).
Shop and POS names are fictional.

    python tools/make_samples.py [OUT_DIR]
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from escpos.printer import Dummy
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FS_ON, FS_OFF = b"\x1c&", b"\x1c."


def printer() -> Dummy:
    return Dummy(profile="TM-T88V")


def cols(left: str, right: str, width: int, enc: str) -> bytes:
    """A left/right aligned row, padded by the encoded width (double-byte chars take two columns)."""
    lb, rb = left.encode(enc), right.encode(enc)
    return lb + b" " * max(1, width - len(lb) - len(rb)) + rb + b"\n"


def logo(text: str = "K", size: tuple[int, int] = (128, 48)) -> Image.Image:
    img = Image.new("1", size, 1)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=0, width=3)
    d.polygon([(20, 8), (32, 8), (32, 20), (48, 8), (62, 8), (40, 24), (62, 40), (48, 40), (32, 28), (32, 40),
               (20, 40)], fill=0)  # fmt: skip
    d.text((72, 16), text, fill=0)
    return img


def zh_cn_restaurant() -> bytes:
    enc, w = "gb18030", 48
    p = printer()
    items = [("宫保鸡丁", 1, "38.00"), ("水煮鱼", 1, "68.00"), ("米饭", 3, "9.00"), ("青岛啤酒", 2, "24.00")]
    for kind in ("预结单", "结账单"):
        p.hw("INIT")
        p.image(logo("MEI WEI"), impl="bitImageRaster", center=True)
        p.set(align="center", double_height=True, double_width=True, bold=True)
        p._raw(FS_ON + "美味小馆".encode(enc) + b"\n")
        p.set(align="center", normal_textsize=True, bold=False)
        p._raw(kind.encode(enc) + b"\n")
        p.set(align="left")
        p._raw(cols("桌号: A08", "人数: 4", w, enc))
        p._raw(cols("单号: 20261125-0042", "收银员: 小王", w, enc))
        p._raw(("2026-11-25 12:41:07\n").encode(enc))
        p._raw(b"-" * w + b"\n")
        for name, qty, amount in items:
            p._raw(cols(f"{name}  x{qty}", amount, w, enc))
        p._raw(b"-" * w + b"\n")
        p._raw(cols("小计", "139.00", w, enc))
        p._raw(cols("服务费 10%", "13.90", w, enc))
        p.set(bold=True, double_height=True)
        p._raw(cols("合计", "152.90", w, enc))
        p.set(bold=False, normal_textsize=True)
        if kind == "结账单":
            p._raw(cols("微信支付", "152.90", w, enc))
            p._raw(cols("会员号", "8800 1234 5678", w, enc))
        p._raw(FS_OFF)
        p.set(align="center")
        p.qr("https://kelaile.example/c/MW0042" + ("P" if kind == "预结单" else ""), native=True, size=6)
        p._raw(FS_ON + "谢谢惠顾，欢迎再来".encode(enc) + FS_OFF + b"\n")
        p.cut(mode="PART")
    return p.output


def zh_tw_cafe() -> bytes:
    enc, w = "cp950", 32
    p = printer()
    p.hw("INIT")  # no FS &: clone printers power up in double-byte mode
    p.set(align="center", bold=True, double_height=True)
    p._raw("晨光咖啡館\n".encode(enc))
    p.set(align="center", bold=False, normal_textsize=True)
    p._raw("統一發票 (交易明細)\n".encode(enc))
    p.set(align="left")
    p._raw("發票號碼: KL-20261125\n".encode(enc))
    p._raw("日期: 2026-11-25 08:15\n".encode(enc))
    for name, amount in [("拿鐵 大杯", "120"), ("珍珠奶茶", "65"), ("雞肉三明治", "85")]:
        p._raw(cols(name, amount, w, enc))
    p._raw(cols("合計", "270", w, enc))
    p._raw(cols("現金", "300", w, enc))
    p._raw(cols("找零", "30", w, enc))
    p.set(align="center")
    p.barcode("{B" + "KL20261125", "CODE128", function_type="B")
    p._raw("謝謝光臨\n".encode(enc))
    p.cut()
    return p.output


def zh_cn_supermarket() -> bytes:
    enc, w = "gbk", 32
    p = printer()
    p.hw("INIT")
    p.set(align="center", bold=True)
    p._raw("惠家超市 收银小票\n".encode(enc))
    p.set(align="left", bold=False)
    p._raw("会员卡号: 6200 8811 2233\n".encode(enc))
    for sku, name, qty, amount in [("6901234567892", "苹果 富士", "1.25kg", "11.80"),
                                   ("6923450656181", "纯牛奶 250ml", "x6", "18.00"),
                                   ("6901028075831", "洗衣液 2L", "x1", "29.90")]:  # fmt: skip
        p._raw(f"{sku}\n".encode(enc))
        p._raw(cols(f"  {name} {qty}", amount, w, enc))
    p._raw(cols("应收", "59.70", w, enc))
    p._raw(cols("支付宝", "59.70", w, enc))
    p.cut()
    return p.output


def en_grocery() -> bytes:
    p = printer()
    p.hw("INIT")
    p.image(logo("FRESH"), impl="bitImageRaster")
    p.set(align="center", bold=True, underline=1)
    p.text("GREEN LEAF GROCERY\n")
    p.set(align="left", bold=False, underline=0)
    for name, amount in [("Bananas 1.2 lb", "0.71"), ("Whole milk 1 gal", "3.49"), ("Bread", "2.99")]:
        p.text(cols(name, amount, 32, "ascii").decode())
    p.set(bold=True)
    p.text(cols("TOTAL", "7.19", 32, "ascii").decode())
    p.set(bold=False)
    p.text(cols("VISA ****1234", "7.19", 32, "ascii").decode())
    p.barcode("4006381333931", "EAN13")
    p.cashdraw(2)
    p.cut()
    return p.output


def eu_bakery() -> bytes:
    p = printer()
    p.hw("INIT")
    p.charcode("CP858")
    p.set(align="center", bold=True, double_width=True, double_height=True)
    p._raw("Bäckerei Möller\n".encode("cp858"))
    p.set(align="left", bold=False, normal_textsize=True)
    for name, amount in [("Croissant au beurre", "2,40 €"), ("Brötchen x4", "1,80 €"), ("Café crème", "3,20 €"),
                         ("Käsekuchen", "3,90 €")]:  # fmt: skip
        p._raw(cols(name, amount, 42, "cp858"))
    p._raw(cols("Summe", "11,30 €", 42, "cp858"))
    p._raw("Grüße aus Köln - Danke schön!\n".encode("cp858"))
    p.cut()
    return p.output


def kitchen_ticket() -> bytes:
    enc = "gb18030"
    p = printer()
    for table, dishes in [
        ("A08", ["宫保鸡丁", "水煮鱼"]),
        ("B02", ["米饭 x3"]),
        ("A11", ["青岛啤酒 x2", "拍黄瓜"]),
    ]:
        p.hw("INIT")
        p._raw(FS_ON)
        p._raw(b"\x1d!\x11" + f"厨房单 {table}\n".encode(enc) + b"\x1d!\x00")
        for dish in dishes:
            p._raw(b"\x1d!\x01" + f"{dish}\n".encode(enc) + b"\x1d!\x00")
        p._raw("12:41\n".encode(enc) + FS_OFF)
    return p.output


def star_line_mode() -> bytes:
    esc = b"\x1b"
    out = esc + b"@" + esc + b"\x1da\x01" + esc + b"E" + esc + b"i\x01\x01" + b"HARBOUR DELI\n"
    out += esc + b"i\x00\x00" + esc + b"F" + esc + b"\x1da\x00"
    out += b"Soup of the day      4.50\nSourdough            3.00\n"
    out += esc + b"-\x01" + b"TOTAL                7.50\n" + esc + b"-\x00"
    out += esc + b"4" + b" PAID CARD " + esc + b"5" + b"\n"
    out += esc + b"\x1da\x01" + esc + b"\x1dyS0\x02" + esc + b"\x1dyS2\x04"
    qr = b"https://kelaile.example/s/HD7"
    out += esc + b"\x1dyD1\x00" + len(qr).to_bytes(2, "little") + qr + esc + b"\x1dyP"
    out += b"Thank you\n" + esc + b"a\x03" + esc + b"d\x03"
    return out


def garbage_and_truncated() -> bytes:
    rng = random.Random(20261125)
    p = printer()
    p.hw("INIT")
    p.text("Receipt before the noise\nTea  2.00\n")
    p.cut()
    noise = bytes(rng.randrange(256) for _ in range(300))
    return p.output + noise + b"\x1b@Tail text\n\x1dv0\x00\x30\x00\x40\x00" + b"\xff" * 100


SAMPLES: dict[str, Callable[[], bytes]] = {
    "zh-cn-restaurant-80mm.bin": zh_cn_restaurant,
    "zh-tw-cafe-58mm.bin": zh_tw_cafe,
    "zh-cn-raw-gbk-supermarket.bin": zh_cn_supermarket,
    "en-us-grocery-58mm.bin": en_grocery,
    "eu-de-bakery-80mm.bin": eu_bakery,
    "kitchen-ticket.bin": kitchen_ticket,
    "star-line-mode.bin": star_line_mode,
    "garbage-and-truncated.bin": garbage_and_truncated,
}
BUNDLED = "zh-cn-restaurant-80mm.klr"
STARTED = 1795609800.0  # 2026-11-25 12:30:00 UTC: fixed, so the files are reproducible


def write_recording(path: Path, data: bytes, source: str, jobs: int = 1) -> None:
    """A .klr of ``data`` as a POS would send it: ``jobs`` connections, 512-byte reads, 2 ms apart."""
    from kelaile_cli import __version__
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter

    cut = b"\x1dVB\x00"  # each job of the restaurant sample ends in a partial cut
    parts = [p + cut for p in data.split(cut) if p] if jobs > 1 else [data]
    t = STARTED
    with RecordingWriter(path, Header(source, STARTED, __version__, {"sample": path.name})) as rec:
        for conn, part in enumerate(parts):
            for i in range(0, len(part), 512):
                rec.write(Chunk(t, "out", conn, part[i : i + 512]))
                t += 0.002
            rec.write(Chunk(t, "in", conn, b"\x16"))  # printer status reply to DLE EOT 1
            t += 95.0  # the next job comes after the guests paid
        rec.close(ended=t)


def write_all(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, make in SAMPLES.items():
        data = make()
        (out / name).write_bytes(data)
        made[name] = data
    klr = out / "zh-cn-restaurant-80mm.klr"
    write_recording(klr, made["zh-cn-restaurant-80mm.bin"], "listen://0.0.0.0:9100", jobs=2)
    made[klr.name] = klr.read_bytes()
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "recordings" / "samples"
    made = write_all(target)
    if len(sys.argv) == 1:
        (ROOT / "kelaile_cli" / "data" / "sample.klr").write_bytes(made[BUNDLED])
    for name, data in made.items():
        print(f"{len(data):7d}  {target / name}")
