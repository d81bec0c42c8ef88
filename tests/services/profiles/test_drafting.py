"""``klx profile new``: a draft made from five receipts of an unknown POS recognises the sixth,
reads its fields, and claims no other profile's receipts. The unknown POS programs are printed
here with python-escpos from data records, so every expectation comes from the record."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from escpos.printer import Dummy

from kelaile_cli.core.profiles.draft import scaffold_profile
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services.profiles.drafting import draft_profile
from kelaile_cli.services.profiles.library import ENV_PATH, load_profiles
from tests.helpers import klx

ROOT = Path(__file__).resolve().parents[3]
FS_ON = b"\x1c&"


@dataclass
class Sale:
    order: str
    when: str  # ISO
    items: list[tuple[str, int, Decimal]]  # name, qty, unit price
    method: str
    paid: Decimal

    @property
    def total(self) -> Decimal:
        return sum((q * p for _, q, p in self.items), Decimal(0))


def _row(left: str, right: str, width: int, enc: str) -> bytes:
    lb, rb = left.encode(enc), right.encode(enc)
    return lb + b" " * max(1, width - len(lb) - len(rb)) + rb + b"\n"


def _diner(sale: Sale) -> bytes:
    """'Sunny Side Diner' till: English, 80 mm, items 'name qty price amount', subtotal = total."""
    p, w, enc = Dummy(profile="TM-T88V"), 48, "ascii"
    p.hw("INIT")
    p.set(align="center", bold=True, double_height=True)
    p.textln("SUNNY SIDE DINER")
    p.set(align="center", normal_textsize=True, bold=False)
    p.textln("42 Harbour Road - Tel 555-0142")
    p.set(align="left")
    p.textln(f"Order #: {sale.order}")
    p.textln(sale.when.replace("-", "/").replace("T", " ")[:16])
    p.textln("-" * w)
    for name, qty, price in sale.items:
        p._raw(_row(f"{name:<22}{qty:>3} {price:>8.2f}", f"{qty * price:.2f}", w, enc))
    p.textln("-" * w)
    p._raw(_row("Subtotal", f"{sale.total:.2f}", w, enc))
    p._raw(_row("TOTAL", f"{sale.total:.2f}", w, enc))
    p._raw(_row("Cash" if sale.method == "cash" else "Card", f"{sale.paid:.2f}", w, enc))
    if sale.paid > sale.total:
        p._raw(_row("Change", f"{sale.paid - sale.total:.2f}", w, enc))
    p.set(align="center")
    p.textln("Thanks for dropping by!")
    p.cut(mode="FULL")
    return p.output


def _noodles(sale: Sale) -> bytes:
    """A zh-CN noodle shop on 58 mm, GB18030 in FS & mode, items 'name xN amount', partial cut."""
    p, w, enc = Dummy(profile="TM-T88V"), 32, "gb18030"
    p.hw("INIT")
    p._raw(FS_ON)
    p.set(align="center", bold=True)
    p._raw("老街兰州拉面\n".encode(enc))
    p.set(align="left", bold=False)
    p._raw(f"流水号: {sale.order}\n".encode(enc))
    p._raw(f"{sale.when.replace('T', ' ')}\n".encode(enc))
    p._raw(b"=" * w + b"\n")
    for name, qty, price in sale.items:
        p._raw(_row(f"{name} x{qty}", f"{qty * price:.2f}", w, enc))
    p._raw(b"=" * w + b"\n")
    p._raw(_row("合计", f"{sale.total:.2f}", w, enc))
    p._raw(_row("支付宝" if sale.method == "alipay" else "微信支付", f"{sale.paid:.2f}", w, enc))
    p._raw("扫码关注老街拉面公众号\n".encode(enc))
    p.cut(mode="PART")
    return p.output


STYLES = {
    "diner": (_diner, [("Pancakes", "4.50"), ("Coffee", "2.20"), ("Omelette", "6.80"), ("Orange juice", "3.10"),
                       ("Bacon side", "2.75")], ["cash", "card"]),
    "noodles": (_noodles, [("牛肉拉面", "18.00"), ("凉拌黄瓜", "8.00"), ("卤蛋", "2.50"), ("酸梅汤", "5.00")],
                ["alipay", "wechat"]),
}  # fmt: skip


def _sales(style: str, n: int, seed: int = 7) -> list[tuple[bytes, Sale]]:
    make, menu, methods = STYLES[style]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        picks = rng.sample(menu, rng.randrange(2, len(menu)))
        items = [(name, rng.randrange(1, 4), Decimal(price)) for name, price in picks]
        method = methods[i % len(methods)]
        when = f"2026-11-{10 + i:02d}T{9 + i:02d}:{i * 7 % 60:02d}:00"
        sale = Sale(f"{1040 + i * 7:06d}", when, items, method, Decimal(0))
        sale.paid = sale.total + (Decimal(5) if method == "cash" else Decimal(0))
        out.append((make(sale), sale))
    return out


@pytest.mark.parametrize("style", sorted(STYLES))
def test_draft_reads_an_unseen_receipt_of_its_pos(style: str) -> None:
    made = _sales(style, 6)
    receipts = [read_receipts(data)[0] for data, _ in made[:5]]
    draft = scaffold_profile(receipts, f"new-{style}")
    unseen_data, sale = made[5]
    unseen = read_receipts(unseen_data)[0]
    from kelaile_cli.core.profiles.analysis import analyse
    from kelaile_cli.core.profiles.detect import Detector

    analysis = analyse(unseen, Detector([*load_profiles().profiles, draft.profile]))
    assert analysis.profile == f"new-{style}", draft.yaml_text()
    tx = analysis.transaction
    assert tx is not None
    assert tx.order_no == sale.order
    assert tx.total == f"{sale.total:.2f}"
    assert tx.datetime is not None and tx.datetime.startswith(sale.when[:16])
    assert [(i.name, i.quantity, i.amount) for i in tx.items] == [
        (name, str(q), f"{q * p:.2f}") for name, q, p in sale.items
    ], draft.yaml_text()
    assert [(p.method, p.amount) for p in tx.payments] == [(sale.method, f"{sale.paid:.2f}")], draft.yaml_text()
    assert all(c.ok for c in tx.checks) and tx.checks


def test_acceptance_new_then_detect_with_the_draft_on_the_path(tmp_path: Path) -> None:
    made = _sales("diner", 6, seed=11)
    for i, (data, _) in enumerate(made):
        (tmp_path / f"{'abcdef'[i]}.bin").write_bytes(data)
    r = klx("profile", "new", "--from", "a.bin", "b.bin", "c.bin", "d.bin", "e.bin", "--id", "newpos",
            "--out", "./drafts", "--recordings", str(ROOT / "recordings"), "--json", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] and report["samples_detected"] == 5 and report["others_checked"] >= 15
    assert (tmp_path / "drafts" / "newpos.yaml").is_file()
    assert len(list((tmp_path / "drafts" / "newpos").glob("*.expected.json"))) == 5
    r = klx("detect", "f.bin", "--json", env={ENV_PATH: "./drafts"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["profile"] == "newpos"
    # the draft's own labelled samples pass `klx profile test`
    r = klx("profile", "test", "newpos", "--recordings", "drafts", env={ENV_PATH: "./drafts"}, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_draft_claims_no_labelled_receipt_of_another_profile(tmp_path: Path) -> None:
    made = _sales("noodles", 5)
    files = []
    for i, (data, _) in enumerate(made):
        files.append(tmp_path / f"n{i}.bin")
        files[-1].write_bytes(data)
    report = draft_profile(files, "noodles", tmp_path / "out", load_profiles(), recordings=ROOT / "recordings")
    assert report.others_checked >= 15
    assert report.others_claimed == []
    assert report.samples_detected == report.samples == 5


def test_refuses_to_overwrite_and_to_draft_from_nothing(tmp_path: Path) -> None:
    job = tmp_path / "j.bin"
    job.write_bytes(_sales("diner", 1)[0][0])
    r = klx("profile", "new", "--from", str(job), "--id", "x1", "--out", str(tmp_path))
    assert r.returncode in (0, 1), r.stderr
    r = klx("profile", "new", "--from", str(job), "--id", "x1", "--out", str(tmp_path))
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "empty.bin").write_bytes(b"")
    r = klx("profile", "new", "--from", str(tmp_path / "empty.bin"), "--id", "x2", "--out", str(tmp_path))
    assert r.returncode == 2 and "no receipt" in r.stderr
    r = klx("profile", "new", "--from", str(job), "--id", "Bad Id", "--out", str(tmp_path))
    assert r.returncode == 2
    r = klx("profile", "new", "--from", str(tmp_path / "missing.bin"), "--id", "x3", "--out", str(tmp_path))
    assert r.returncode == 2 and "missing.bin" in r.stderr and "Traceback" not in r.stderr


def test_the_drafts_recordings_and_labels_are_the_owners_alone(tmp_path: Path) -> None:
    """Recordings (and the values read off them) hold card and phone numbers: 0600 whatever the umask."""
    import os

    files = []
    for i, (data, _) in enumerate(_sales("noodles", 3, seed=5)):
        files.append(tmp_path / f"n{i}.bin")
        files[-1].write_bytes(data)
    old = os.umask(0o022)
    try:
        draft_profile(files, "noodles", tmp_path / "first", load_profiles())  # .bin: written as recordings
        recorded = sorted((tmp_path / "first" / "noodles").glob("*.klr"))
        assert len(recorded) == 3
        draft_profile(recorded, "noodles2", tmp_path / "second", load_profiles())  # .klr: copied
    finally:
        os.umask(old)
    written = sorted((tmp_path / "second" / "noodles2").iterdir())
    assert len(written) == 6
    assert {p.name: p.stat().st_mode & 0o777 for p in written} == {p.name: 0o600 for p in written}
    assert [p.read_bytes() for p in written if p.suffix == ".klr"] == [p.read_bytes() for p in recorded]
