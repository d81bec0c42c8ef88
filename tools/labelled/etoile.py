"""Étoile Caisse (fictional): French brasserie on 80 mm, Windows-1252 code page (ESC t 16), decimal comma.

Each service prints a kitchen ticket (BON CUISINE), the bill (NOTE, pre-bill) and the paid ticket;
VAT (TVA 10 %) is included in prices; the last recording is the day's Z report.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, money, pick

MENU = [
    ("Soupe à l'oignon", "8.50"), ("Œufs mayonnaise", "6.90"), ("Steak frites", "19.50"),
    ("Confit de canard", "22.00"), ("Crème brûlée", "7.50"), ("Café gourmand", "9.20"),
    ("Verre de Côtes-du-Rhône", "5.80"), ("Carafe d'eau", "0.00"),
]  # fmt: skip
PAY = [("CB SANS CONTACT", "card"), ("ESPÈCES", "cash"), ("TICKET RESTAURANT", "other")]
W = 48


def _top(s: Slip, title: str) -> None:
    s.init()
    s.raw(b"\x1bt\x10")  # ESC t 16: WPC1252
    s.big("Brasserie de l'Étoile")
    s.center("12 place du Marché - 69002 Lyon")
    s.center(title, bold=True)


def etoile(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp1252", W)
    if n == 5:
        return _z_report(s, rng)
    table, covers = str(rng.randrange(1, 40)), rng.randrange(1, 7)
    when = f"25/11/26 {19 + n % 3}:{rng.randrange(10, 60)}"
    iso = f"2026-11-25T{19 + n % 3}:{when[-2:]}:00"
    note = f"{n * 37 + 1000}"
    server = ["Julien", "Camille", "Léa", "Hugo"][n % 4]
    dishes = [
        (name, q := rng.randrange(1, 4), Decimal(price), Decimal(price) * q) for name, price in pick(rng, MENU, 2, 5)
    ]
    total = sum((a for *_, a in dishes), Decimal(0))
    tva = (total - total / Decimal("1.10")).quantize(Decimal("0.01"))
    # kitchen ticket: big letters, no prices
    _top(s, "BON CUISINE")
    s.style(double_height=True, bold=True)
    s.line(f"TABLE {table}  -  {covers} COUV.")
    s.style(normal_textsize=True, bold=False)
    s.line(f"Serveur: {server}   {when}")
    s.rule("*")
    for name, q, _, _ in dishes:
        s.style(double_height=True)
        s.line(f"{q} x {name}")
    s.style(normal_textsize=True)
    s.cut(mode="PART", feed=False)
    records = [{"profile": "brasserie-etoile", "kind": "kitchen",
                "transaction": {"table": table, "covers": covers, "cashier": server,
                                "items": [{"name": nm, "quantity": str(q)} for nm, q, _, _ in dishes]}}]  # fmt: skip
    for kind, title in (("pre_bill", "NOTE"), ("sale", "TICKET")):
        _top(s, title)
        s.row(f"Table {table}", f"{covers} couverts")
        s.row(f"Note n° {note}", f"Serveur: {server}")
        s.line(when)
        s.rule("-")
        for name, q, price, amount in dishes:
            s.cols((str(q), 3), (name, 27), (money(price, comma=True), -8), (money(amount, comma=True), -10))
        s.rule("-")
        s.style(bold=True, double_height=True)
        s.row("TOTAL EUR", money(total, comma=True))
        s.style(bold=False, normal_textsize=True)
        s.row("dont TVA 10%", money(tva, comma=True))
        tx: Record = {"order_no": note, "datetime": iso, "table": table, "covers": covers, "cashier": server,
                      "total": dec(total), "tax": dec(tva),
                      "items": [{"name": nm, "quantity": str(q), "unit_price": dec(pr), "amount": dec(a)}
                                for nm, q, pr, a in dishes]}  # fmt: skip
        if kind == "sale":
            word, method = PAY[n % 3]
            paid = total if method != "cash" else (total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
            s.row(word, money(paid, comma=True))
            tx["payments"] = [{"method": method, "amount": dec(paid)}]
            if paid != total:
                s.row("RENDU", money(paid - total, comma=True))
                tx["change"] = dec(paid - total)
            s.center("Service compris - Merci de votre visite !")
        else:
            s.center("Note provisoire - ne vaut pas ticket")
            tx["payments"] = []
        s.cut(mode="PART", feed=False)
        records.append({"profile": "brasserie-etoile", "kind": kind, "transaction": tx})
    return s.output, records


def _z_report(s: Slip, rng: random.Random) -> tuple[bytes, list[Record]]:
    takings = [(word, method, Decimal(rng.randrange(10000, 400000)) / 100) for word, method in PAY]
    net = sum((a for *_, a in takings), Decimal(0))
    tickets, cancels = rng.randrange(40, 160), rng.randrange(0, 4)
    cancelled = Decimal(rng.randrange(500, 6000)) / 100
    _top(s, "RAPPORT Z")
    s.row("Z n°", "0187")
    s.row("Ouverture", "25/11/26 11:02")
    s.row("Clôture", "25/11/26 23:48")
    s.rule("-")
    s.row("Nombre de tickets", str(tickets))
    s.row("Annulations", str(cancels))
    s.row("Montant annulé", money(-cancelled, comma=True))
    s.rule("-")
    for word, _, amount in takings:
        s.row(word, money(amount, comma=True))
    s.style(bold=True)
    s.row("CA TTC", money(net, comma=True))
    s.style(bold=False)
    s.cut(mode="PART", feed=False)
    tx = {"total": dec(net), "payments": [{"method": m, "amount": dec(a)} for _, m, a in takings],
          "report": {"number": "0187", "opened": "2026-11-25T11:02:00", "closed": "2026-11-25T23:48:00",
                     "receipts": tickets, "refunds": cancels, "refund_total": dec(-cancelled)}}  # fmt: skip
    return s.output, [{"profile": "brasserie-etoile", "kind": "shift_report", "transaction": tx}]
