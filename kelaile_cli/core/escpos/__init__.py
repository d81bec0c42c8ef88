"""ESC/POS and Star line-mode stream decoding (sans-IO)."""
