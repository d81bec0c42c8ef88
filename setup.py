"""Optional compilation of the hot core modules with mypyc (everything else is in pyproject.toml).

The pure-Python sources are the reference and always ship; compiled modules sit next to them and are
imported instead when present. ``KLX_COMPILE`` chooses:

* unset (default): a regular build (``pip install .``, ``pip wheel .``) compiles when mypyc is
  importable, and falls back to pure Python when compiling fails (no C compiler, no Python
  headers). Editable installs stay pure, so edited sources take effect at once.
* ``1``: compile, editable installs included; fail if it cannot.
* ``0``: never compile.
"""

from __future__ import annotations

import os
import sys

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

#: the decode -> segment -> lay out -> text render path (see docs/performance.md)
COMPILED = [
    "kelaile_cli/core/escpos/__init__.py",
    "kelaile_cli/core/escpos/commands.py",
    "kelaile_cli/core/escpos/decoder.py",
    "kelaile_cli/core/escpos/dialect.py",
    "kelaile_cli/core/escpos/events.py",
    "kelaile_cli/core/escpos/star.py",
    "kelaile_cli/core/escpos/table.py",
    "kelaile_cli/core/profiles/detect.py",
    "kelaile_cli/core/stream/encoding.py",
    "kelaile_cli/core/stream/cells.py",
    "kelaile_cli/core/stream/layout.py",
    "kelaile_cli/core/stream/printstream.py",
    "kelaile_cli/core/stream/receipt.py",
    "kelaile_cli/core/render/record_json.py",
    "kelaile_cli/core/render/text.py",
    "kelaile_cli/core/stream/segmenter.py",
]
_BUILDS = {"build", "build_ext", "bdist_wheel", "bdist", "install", "editable_wheel", "develop"}
_EDITABLE = {"editable_wheel", "develop"}


def _required() -> bool:
    return os.environ.get("KLX_COMPILE", "").strip().lower() in {"1", "yes", "true", "on"}


class AllOrNothing(build_ext):
    """Compile every module or none: a half-compiled group would not import. Unless compilation was
    required, a failure (no C compiler, no Python headers) leaves the pure-Python package."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            if _required():
                raise
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            self.extensions = []
            print(f"klx: building pure Python (compiling failed: {exc})", file=sys.stderr)


def _ext_modules() -> list:
    choice = os.environ.get("KLX_COMPILE", "").strip().lower()
    commands = set(sys.argv[1:])
    if choice in {"0", "no", "false", "off"} or not commands & _BUILDS:
        return []  # metadata-only runs (egg_info, dist_info, sdist) never need the extensions
    required = _required()
    if not required and commands & _EDITABLE:
        return []
    try:
        from mypyc.build import mypycify

        extensions = mypycify(COMPILED, opt_level="3", debug_level="0", group_name="kelaile_cli_core")
    except (Exception, SystemExit) as exc:  # mypyc missing, or it rejects the sources
        if required:
            raise
        print(f"klx: building pure Python (mypyc unavailable: {exc})", file=sys.stderr)
        return []
    return extensions


EXTENSIONS = _ext_modules()
setup(
    # every package under kelaile_cli/ is found; the bundled profiles (top-level profiles/, see package-dir in
    # pyproject.toml) ship as the package kelaile_cli.profiles
    packages=[*find_packages(include=["kelaile_cli", "kelaile_cli.*"]), "kelaile_cli.profiles"],
    ext_modules=EXTENSIONS,
    cmdclass={"build_ext": AllOrNothing},
    # separate build trees, so that a pure build never picks up modules compiled by an earlier build
    options={"build": {"build_base": "build/compiled" if EXTENSIONS else "build/pure"}},
)
