"""Code pages from the printer database, ESC R sets, safe decoding and CJK encoding detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.stream.encoding import (
    apply_intl_charset,
    codec_for_codepage,
    decode_text,
    detect_encoding,
    printer_models,
)

ZH_CN = [
    "宫保鸡丁 1 28.00", "合计金额 128.00", "实收现金 200.00", "找零 72.00", "桌号 A08 人数 4", "收银员 小王",
    "欢迎光临 谢谢惠顾", "微信支付 56.00", "会员卡号 8800123", "红烧牛肉面 2 36.00", "鲜榨橙汁 大杯",
    "小票号 20261125001", "服务费 10% 12.80", "优惠折扣 -5.00", "打包费 2.00", "外卖订单 美团",
    "麻辣香锅 微辣", "酸菜鱼 1 68.00", "可乐 2 8.00", "开票请扫码", "积分 120 分", "支付宝 88.00",
    "营业员 003 收款机 02", "应收金额 45.50", "牛奶 250毫升 3.50", "苹果 1.25公斤 11.80",
    "结账单 下午茶", "预结单 请核对", "交班报表 早班", "退货单 原单号",
]  # fmt: skip
ZH_TW = [
    "統一發票 交易明細", "珍珠奶茶 大杯 55", "雞排 1 70", "合計 125", "找零 75", "發票號碼 AB12345678",
    "收銀員 小陳", "謝謝光臨 歡迎再來", "現金 200", "信用卡 刷卡", "牛肉麵 1 150", "外帶 內用",
    "點數 累積 30 點", "會員編號 0912", "拿鐵 熱 中杯", "蛋餅 加起司", "小計 235", "營業稅 5%",
    "桌號 12 人數 3", "訂單編號 2026", "優惠券 折抵 20", "統編 12345678", "三明治 火腿", "紅茶 無糖",
    "滷肉飯 小碗 35", "魯味 綜合 80", "鹹酥雞 中份", "結帳 謝謝", "餐點 準備中", "發票 載具",
]  # fmt: skip
JA = ["ありがとうございました", "合計 お預り お釣り", "アイスコーヒー 350円", "ポイントカード",
      "領収書 様", "税込 小計 1200円"]  # fmt: skip
KO = ["감사합니다 합계", "현금 영수증", "카드 결제 승인", "부가세 포함 금액", "아메리카노 4500원"]
EU = ["Café Müller 12,50 €", "Grüße aus Köln", "Bäckerei Möller", "Crème brûlée 6,50", "Smørrebrød 45 kr",
      "Total à payer 18,90 €", "Straße 12, München"]  # fmt: skip


def accuracy(lines: list[str], codec: str, expect: set[str], single: str = "cp437") -> float:
    hits = sum(detect_encoding([ln.encode(codec)], single_byte_codec=single).codec in expect for ln in lines)
    return hits / len(lines)


def test_short_simplified_lines_are_gb18030():
    assert accuracy(ZH_CN, "gb18030", {"gb18030"}) >= 0.95


def test_short_traditional_lines_are_big5():
    assert accuracy(ZH_TW, "cp950", {"cp950"}) >= 0.95


def test_japanese_and_korean_lines():
    assert accuracy(JA, "cp932", {"cp932"}) == 1.0
    assert accuracy(KO, "cp949", {"cp949"}) == 1.0


def test_european_text_is_never_read_as_cjk():
    for line in EU:
        guess = detect_encoding([line.encode("cp858")], single_byte_codec="cp858")
        assert (guess.codec, guess.cjk) == ("cp858", False), line


@pytest.mark.parametrize(("lines", "codec", "name"), [(ZH_CN, "gb18030", "gb18030"), (ZH_TW, "cp950", "cp950")])
def test_whole_receipts_are_detected_with_confidence(lines, codec, name):
    guess = detect_encoding([ln.encode(codec) for ln in lines[:12]])
    assert guess.codec == name and guess.cjk
    assert guess.confidence >= 0.9


def test_ascii_only_stream_is_single_byte():
    guess = detect_encoding([b"TOTAL 12.00"], single_byte_codec="cp437")
    assert (guess.codec, guess.cjk, guess.confidence) == ("cp437", False, 1.0)


def test_declared_double_byte_mode_excludes_single_byte_codecs():
    guess = detect_encoding(["合计".encode("gb18030")], cjk_declared=True)
    assert guess.cjk and "cp437" not in guess.scores


def test_code_pages_come_from_the_printer_database():
    assert codec_for_codepage(0) == "cp437"
    assert codec_for_codepage(16) == "cp1252"
    assert codec_for_codepage(19) == "cp858"
    assert codec_for_codepage(255) is None  # listed as 'Unknown'
    assert "TM-T88V" in printer_models() and "default" in printer_models()
    # tables differ between models: some model maps table 16 differently from the default profile
    different = [m for m in printer_models() if codec_for_codepage(16, m) != codec_for_codepage(16)]
    assert different


def test_intl_charsets():
    assert apply_intl_charset("#1 [x]", 3) == "£1 [x]"
    assert apply_intl_charset("{|}~", 2) == "äöüß"
    assert apply_intl_charset("@", 0) == "@"


def test_decode_text_reports_bad_bytes_with_offsets():
    text, bad = decode_text(b"ab\x81\x20cd\xff", "gb18030")
    assert text.startswith("ab") and "cd" in text
    assert [off for off, _ in bad] == [2, 6]


@given(st.binary(max_size=200), st.sampled_from(["gb18030", "cp950", "cp932", "cp949", "cp437", "cp858"]))
def test_decode_text_never_raises(data, codec):
    text, bad = decode_text(data, codec)
    assert text.count("\ufffd") >= len(bad)
    for off, raw in bad:
        assert data[off : off + len(raw)] == raw


def test_a_gb18030_rule_of_middle_dots_is_not_read_as_half_width_katakana():
    # 0xA1 0xA4 is "·" in GB18030 and two half-width katakana in Shift_JIS: a 42-dot rule under a
    # shop name once tipped a raw-GBK receipt (no FS &) to cp932
    from kelaile_cli.core.stream.encoding import detect_encoding

    runs = ["安心大药房".encode("gb18030"), ("·" * 42).encode("gb18030"), "合计 19.50".encode("gb18030")]
    assert detect_encoding(runs).codec == "gb18030"
