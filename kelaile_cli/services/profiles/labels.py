"""Finding label tables: the bundled ones, ``labels/`` beside the user's profiles, and ``--labels FILE``.

A user's table for a language the bundle has replaces the bundled one; a new language is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.labels import LabelTable, bundled_labels, parse_labels

__all__ = ["load_label_tables"]


def _read(path: Path) -> LabelTable:
    try:
        return parse_labels(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the label table ({exc})") from None


def load_label_tables(files: Sequence[Path] = (), profile_dirs: Sequence[Path] = ()) -> list[LabelTable]:
    """Bundled tables, then ``<dir>/labels/*.yaml`` of each profile directory, then ``files``."""
    by_language = {t.language: t for t in bundled_labels()}
    user = [p for d in profile_dirs for p in sorted((d / "labels").glob("*.yaml"))] + list(files)
    for path in user:
        table = _read(path)
        by_language[table.language] = table
    return list(by_language.values())
