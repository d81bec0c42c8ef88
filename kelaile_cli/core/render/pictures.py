"""Shared picture helpers: receipt bitmaps, QR and PDF417 codes as Pillow images / boolean matrices."""

from __future__ import annotations

from PIL import Image as PILImage

from kelaile_cli.core.stream.receipt import Image

__all__ = ["bitmap_image", "pdf417_picture", "qr_matrix"]


def bitmap_image(img: Image) -> PILImage.Image:
    """The receipt bitmap as a Pillow 'L' image, black dots = 0, at its printed scale."""
    if not img.width or not img.height or not img.bitmap:
        return PILImage.new("L", (max(1, img.width), max(1, img.height)), 255)
    need = img.row_bytes * img.height
    data = bytes(img.bitmap[:need]).ljust(need, b"\x00")
    # Pillow's mode '1' raw packing is MSB first with 1 = white; ours is 1 = black, so invert.
    pic = PILImage.frombytes("1", (img.width, img.height), bytes(b ^ 0xFF for b in data)).convert("L")
    if img.scale_x > 1 or img.scale_y > 1:
        pic = pic.resize((img.width * img.scale_x, img.height * img.scale_y), PILImage.Resampling.NEAREST)
    return pic


def qr_matrix(data: str) -> list[list[bool]] | None:
    """Modules of a QR code for ``data`` (True = dark), with a 1-module quiet zone; None if too long."""
    import qrcode

    try:
        qr = qrcode.QRCode(border=1)
        qr.add_data(data)
        qr.make(fit=True)
    except (ValueError, qrcode.exceptions.DataOverflowError):
        return None
    return [list(row) for row in qr.get_matrix()]


#: PDF417 drawn as printers draw it by default (Epson GS ( k: module 3 dots wide, rows 3 modules high)
PDF417_MODULE = 2
PDF417_ROW_RATIO = 3


def pdf417_picture(data: bytes, max_width: int) -> PILImage.Image | None:
    """A PDF417 symbol of ``data`` (bytes, as sent) at most ``max_width`` dots wide, black on white
    ('L'), with a quiet zone of two modules; None if it cannot be made that narrow or the data is too long.

    Fewer data columns make a narrower, taller symbol: the widest that fits is used.
    """
    import pdf417gen

    for columns in (6, 5, 4, 3, 2, 1):
        try:
            codes = pdf417gen.encode(data, columns=columns, security_level=2)
        except ValueError:
            return None  # more data than a symbol holds
        pic = pdf417gen.render_image(
            codes, scale=PDF417_MODULE, ratio=PDF417_ROW_RATIO, padding=2 * PDF417_MODULE
        ).convert("L")
        if pic.width <= max_width:
            return pic
    return None
