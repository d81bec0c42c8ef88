"""A corpus of receipt lines with and without personal data, in the six locales the box meets.

``POSITIVE`` holds (locale, line, value): ``value`` is the personal datum as it appears in ``line``.
``NEGATIVE`` holds (locale, line): lines whose numbers belong to the sale or the shop (amounts, dates,
times, order/invoice/tax numbers, barcodes, quantities) and must come out of redaction unchanged.
The values are the published test numbers of their issuers (card test PANs, IBAN examples, the
specification's example ID numbers) or fictional ranges (555-01xx, Ofcom's drama numbers).
"""

from __future__ import annotations

from itertools import product

CODEC = {"zh-CN": "gb18030", "zh-TW": "cp950", "en-US": "cp1252", "en-GB": "cp1252", "de": "cp1252", "fr": "cp1252"}

_PHONES = {
    "zh-CN": [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "139 0011 2233",
        "186-0101-2345",
        "(010) 6552-1234",
        "010-65521234",
        "021-64381234",
        "0755-86013388",
        "+86 138 1234 5678",
        "+86 21 6123 4567",
        "１３８１２３４５６７８",
        "１３８－１２３４－５６７８",
    ],
    "zh-TW": [
        "0912-345-678",
        "0912 345 678",
        "0912345678",
        "(02) 2345-6789",
        "02-2345-6789",
        "04-2222-3333",
        "+886 912 345 678",
        "+886 2 2345 6789",
        "０９１２３４５６７８",
        "（０２）２３４５－６７８９",
    ],
    "en-US": [
        "(415) 555-2671",
        "415.555.2671",
        "415-555-2671",
        "+1 415 555 2671",
        "1-800-555-0199",
        "(212) 555-0134",
        "650 253 0000",
    ],
    "en-GB": ["020 7946 0958", "0161 496 0000", "07911 123456", "+44 20 7946 0958", "0117 496 0123", "+44 7911 123456"],
    "de": ["030 12345678", "0171 1234567", "+49 30 12345678", "089/1234567", "0711 123456", "+49 171 1234567"],
    "fr": [
        "01 23 45 67 89",
        "06 12 34 56 78",
        "01.23.45.67.89",
        "+33 1 23 45 67 89",
        "+33 6 12 34 56 78",
        "04 91 12 34 56",
    ],
}
_PHONE_TEMPLATES = {
    "zh-CN": ["电话：{}", "手机: {}", "联系电话 {}", "收货人 张先生 {}", "{}"],
    "zh-TW": ["電話：{}", "手機: {}", "聯絡電話 {}", "訂購人 陳小姐 {}", "{}"],
    "en-US": ["Tel: {}", "Phone {}", "Customer: J. Smith {}", "Call us at {}", "{}"],
    "en-GB": ["Tel: {}", "Phone: {}", "Customer mobile {}", "Call {}", "{}"],
    "de": ["Tel.: {}", "Telefon {}", "Handy: {}", "Rückruf unter {}", "{}"],
    "fr": ["Tél. : {}", "Tél {}", "Portable : {}", "Appelez le {}", "{}"],
}

_CARDS = ["4111 1111 1111 1111", "5555555555554444", "3782 822463 10005", "6011-1111-1111-1117", "4012888888881881"]
_CARD_TEMPLATES = {
    "zh-CN": ["卡号 {}", "银行卡: {}"],
    "zh-TW": ["卡號 {}", "信用卡: {}"],
    "en-US": ["Card {}", "VISA {}"],
    "en-GB": ["Card number {}", "{}"],
    "de": ["Karte {}", "Kartennummer: {}"],
    "fr": ["Carte {}", "CB {}"],
}
_IBANS = {
    "de": ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "AT61 1904 3002 3457 3201"],
    "fr": ["FR76 3000 6000 0112 3456 7890 189", "FR14 2004 1010 0505 0001 3M02 606", "BE68 5390 0754 7034"],
    "en-GB": ["GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819", "IE29 AIBK 9311 5212 3456 78"],
}
_IBAN_TEMPLATES = {"de": ["IBAN: {}", "Lastschrift {}"], "fr": ["IBAN : {}", "Prélèvement {}"], "en-GB": ["IBAN {}"]}
_CN_IDS = ["11010519491231002X", "440308199901101512", "310115198706152436", "320502197603040914", "510107200109098889"]
_ID_TEMPLATES = {"zh-CN": ["身份证号：{}", "身份证 {}", "证件号码: {}", "{}"], "zh-TW": ["身分證 {}"]}
_TW_IDS = ["A123456789", "F131104093"]
_EMAILS = ["zhang.wei@example.com", "j.smith+receipts@example.co.uk", "kunde_42@beispiel.de", "marie.dupont@exemple.fr"]
_EMAIL_TEMPLATES = {
    "zh-CN": ["邮箱：{}", "电子发票发送至 {}"],
    "zh-TW": ["E-mail：{}"],
    "en-US": ["Email: {}", "Receipt sent to {}"],
    "en-GB": ["E-mail {}"],
    "de": ["E-Mail: {}"],
    "fr": ["Courriel : {}"],
}
_MEMBERS = {
    "zh-CN": [
        ("会员号: 8800 1234 5678", "8800 1234 5678"),
        ("会员卡号 VIP20261234", "VIP20261234"),
        ("会员 6688001234", "6688001234"),
        ("积分卡：3301-2288-77", "3301-2288-77"),
    ],
    "zh-TW": [
        ("會員編號 0912345678", "0912345678"),
        ("會員卡號: M2026001234", "M2026001234"),
        ("會員 A12-345-678", "A12-345-678"),
    ],
    "en-US": [
        ("Member ID: ABC-123-456", "ABC-123-456"),
        ("Loyalty #: 4455 6677 8899", "4455 6677 8899"),
        ("Rewards No. 7781234590", "7781234590"),
        ("Member 0042-7788", "0042-7788"),
    ],
    "en-GB": [
        ("Clubcard 6340 0012 3456 7890", "6340 0012 3456 7890"),
        ("Nectar: 9826 3000 1234 5678", "9826 3000 1234 5678"),
        ("Loyalty No: LC-778899", "LC-778899"),
        ("Member No 551234", "551234"),
    ],
    "de": [
        ("Kundennr.: 4711-0815", "4711-0815"),
        ("Kundennummer 10023456", "10023456"),
        ("Payback-Karte: 3080 1234 5678", "3080 1234 5678"),
        ("Mitgliedsnr. 778899", "778899"),
    ],
    "fr": [
        ("N° client : 00123456", "00123456"),
        ("Carte fidélité 2900 1234 5678", "2900 1234 5678"),
        ("N° adhérent : FR-5566-7788", "FR-5566-7788"),
        ("Carte de fidélité: 4455667788", "4455667788"),
    ],
}


def _positive() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for loc, phones in _PHONES.items():
        for tpl, value in product(_PHONE_TEMPLATES[loc], phones):
            out.append((loc, tpl.format(value), value))
    for loc, tpls in _CARD_TEMPLATES.items():
        out += [(loc, tpl.format(v), v) for tpl, v in product(tpls, _CARDS)]
    for loc, tpls in _IBAN_TEMPLATES.items():
        out += [(loc, tpl.format(v), v) for tpl, v in product(tpls, _IBANS[loc])]
    out += [("zh-CN", tpl.format(v), v) for tpl, v in product(_ID_TEMPLATES["zh-CN"], _CN_IDS)]
    out += [("zh-TW", tpl.format(v), v) for tpl, v in product(_ID_TEMPLATES["zh-TW"], _TW_IDS)]
    for loc, tpls in _EMAIL_TEMPLATES.items():
        out += [(loc, tpl.format(v), v) for tpl, v in product(tpls, _EMAILS)]
    for loc, lines in _MEMBERS.items():
        out += [(loc, line, value) for line, value in lines]
    return out


POSITIVE = _positive()

NEGATIVE: list[tuple[str, str]] = [
    ("zh-CN", "合计 152.90"),
    ("zh-CN", "实收 200.00  找零 47.10"),
    ("zh-CN", "2026-11-25 12:30:45"),
    ("zh-CN", "单号：20261125000123"),
    ("zh-CN", "订单号 1125-0088"),
    ("zh-CN", "流水号 0000123456"),
    ("zh-CN", "6901234567892"),
    ("zh-CN", "宫保鸡丁   1   38.00   38.00"),
    ("zh-CN", "会员价 12.00"),
    ("zh-CN", "会员积分: 1250"),
    ("zh-CN", "桌号: A12  人数: 4"),
    ("zh-CN", "发票代码 144031900111"),
    ("zh-CN", "税号 91440300MA5FXXXX1Y"),
    ("zh-CN", "交易参考号 123456789012"),
    ("zh-CN", "2026年11月25日 星期三"),
    ("zh-CN", "数量 12  金额 1234.50"),
    ("zh-TW", "總計 NT$1,250"),
    ("zh-TW", "發票號碼 AB-12345678"),
    ("zh-TW", "統一編號 12345675"),
    ("zh-TW", "2026/11/25 08:01:00"),
    ("zh-TW", "訂單編號 20261125-0001"),
    ("zh-TW", "隨機碼 1234"),
    ("zh-TW", "民國115年11月25日"),
    ("zh-TW", "珍珠奶茶  2 x 65 = 130"),
    ("en-US", "TOTAL $1,234.56"),
    ("en-US", "Order #100234567"),
    ("en-US", "11/25/2026 8:01 PM"),
    ("en-US", "012345678905"),
    ("en-US", "Trans ID 4111222233334444"),
    ("en-US", "AUTH CODE 123456  REF 000123456789"),
    ("en-US", "VISA ************1111"),
    ("en-US", "2 @ 3.49   6.98"),
    ("en-US", "Store 0415 Reg 02 Cashier 5551"),
    ("en-US", "Member savings 2.00"),
    ("en-GB", "VAT No. GB 123 4567 89"),
    ("en-GB", "TOTAL £12.50"),
    ("en-GB", "25/11/2026 20:01"),
    ("en-GB", "Receipt 0001-0002-1234"),
    ("en-GB", "Clubcard points 125"),
    ("en-GB", "5012345678900"),
    ("en-GB", "Table 12   Covers 4"),
    ("de", "SUMME EUR 12,50"),
    ("de", "25.11.2026 20:01"),
    ("de", "01.12.2026 08:15"),
    ("de", "Bon-Nr. 0012345678"),
    ("de", "St.-Nr. 12/345/67890"),
    ("de", "USt-IdNr. DE123456789"),
    ("de", "TSE-Signaturzähler: 123456789"),
    ("de", "TSE-Seriennummer: 0123456789abcdef"),
    ("de", "4006381333931"),
    ("de", "2 x 1,25 EUR      2,50"),
    ("de", "Kasse 1 Beleg 004711"),
    ("de", "Mitgliederrabatt -0,50"),
    ("fr", "TOTAL 1 234,56 EUR"),
    ("fr", "25/11/2026 à 20h01"),
    ("fr", "SIRET 732 829 320 00074"),
    ("fr", "N° TVA FR 40 303 265 045"),
    ("fr", "Ticket 0123456789"),
    ("fr", "Facture n° 2026-000123"),
    ("fr", "3017620422003"),
    ("fr", "Table 7  Couverts 3"),
    ("fr", "CB ************1111"),
]
