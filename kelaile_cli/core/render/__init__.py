"""Renderers: a Receipt in, text/markup/bytes out. No I/O."""
