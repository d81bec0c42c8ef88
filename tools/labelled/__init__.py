"""Fictional POS programs for the labelled corpus: one module per POS style, registered here.

``POS`` maps a profile id to (generator, number of recordings); ``UNKNOWN`` maps a style with *no*
profile to its generator (its receipts must be detected as unknown). ``NEW_POS`` are labelled programs
that are deliberately *not* bundled (test fixtures for ``klx profile new``: a language and layout no
bundled profile knows), written to ``tests/fixtures/new-pos/``.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.labelled.anxin import anxin
from tools.labelled.backstube import backstube
from tools.labelled.chenguang import chenguang
from tools.labelled.common import Maker
from tools.labelled.dingwang import dingwang
from tools.labelled.etoile import etoile
from tools.labelled.greenleaf import greenleaf
from tools.labelled.katsuya_ja import katsuya
from tools.labelled.kuaisong import kuaisong
from tools.labelled.meiwei import meiwei
from tools.labelled.mildang_ko import mildang
from tools.labelled.thistle import thistle
from tools.labelled.unknown import bakery_tw, diner, tapas_bar, tea_shop
from tools.labelled.wanjia import wanjia
from tools.labelled.xiangyun import xiangyun
from tools.labelled.yongfu import yongfu

POS: dict[str, tuple[Maker, int]] = {
    "meiwei-pos": (meiwei, 5),
    "chenguang-cafe": (chenguang, 5),
    "greenleaf-till": (greenleaf, 6),
    "wanjia-market": (wanjia, 6),
    "yongfu-mart": (yongfu, 5),
    "brasserie-etoile": (etoile, 5),
    "kassenfuchs-backstube": (backstube, 5),
    "xiangyun-canyin": (xiangyun, 5),
    "kuaisong-takeaway": (kuaisong, 5),
    "anxin-pharmacy": (anxin, 5),
    "thistle-epos": (thistle, 5),
    "dingwang-hotpot": (dingwang, 5),
}

UNKNOWN: dict[str, Callable[..., bytes]] = {
    "tea-shop": tea_shop,
    "diner": diner,
    "tapas-bar": tapas_bar,
    "bakery-tw": bakery_tw,
}

NEW_POS: dict[str, tuple[Maker, int]] = {
    "katsuya-register": (katsuya, 6),
    "mildang-pos": (mildang, 6),
}
