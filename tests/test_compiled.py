"""The mypyc-compiled core (setup.py) must give exactly what the pure-Python reference gives.

A regular install (``pip install .``, as CI does) is compiled; the tests here import the sources, so a
separate interpreter started with ``-I`` (no current directory on its path) renders the golden samples
and a corpus with the installed, compiled package, and the results are compared with the golden
files and with the pure sources. On an editable (pure) install they skip, unless KLX_TEST_COMPILE=1
asks them to build a compiled wheel first (about a minute).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import build_corpus
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "recordings" / "samples"
GOLDEN = ROOT / "tests" / "core" / "render" / "golden"
COMPILED = [
    m.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    for m in re.findall(r'"(kelaile_cli/[\w/]+\.py)"', (ROOT / "setup.py").read_text())
]

#: run by the installed package: file paths in (stdin), where each compiled module came from and the
#: text (and for the HTML goldens the page) of every file out
RENDER = r"""
import importlib, json, sys
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.text import render_text
job = json.load(sys.stdin)
out = {"files": {m: importlib.import_module(m).__file__ for m in job["modules"]}, "text": {}, "html": {}}
for path in job["paths"]:
    receipts = read_receipts(open(path, "rb").read())
    name = path.rsplit("/", 1)[-1]
    out["text"][path] = "\n\n".join(render_text(r) for r in receipts) + "\n"
    out["html"][path] = render_html(receipts, title=name, sources=[name] * len(receipts))
print(json.dumps(out))
"""


def _is_extension(path: str) -> bool:
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


@pytest.fixture(scope="module")
def compiled_site(tmp_path_factory: pytest.TempPathFactory) -> str:
    """'' to use the installed package, or a directory holding a freshly built compiled one."""
    if os.environ.get("KLX_TEST_COMPILE") == "1":
        tmp = tmp_path_factory.mktemp("compiled")
        env = {**os.environ, "KLX_COMPILE": "1"}
        wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp)]
        subprocess.run([*wheel, str(ROOT)], check=True, env=env, timeout=600, capture_output=True)
        [whl] = tmp.glob("*.whl")
        target = tmp / "site"
        install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(whl)]
        subprocess.run(install, check=True, timeout=300, capture_output=True)
        return str(target)
    probe = "import kelaile_cli.core.stream.layout as m; print(m.__file__)"
    r = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0 or not _is_extension(r.stdout.strip()):
        pytest.skip("the installed klx is not compiled (editable or pure install); KLX_TEST_COMPILE=1 builds one")
    return ""


def render_compiled(site: str, paths: list[Path]) -> dict:
    job = json.dumps({"modules": COMPILED, "paths": [str(p) for p in paths]})
    r = subprocess.run(
        [sys.executable, "-I", "-c", RENDER, site], input=job, capture_output=True, text=True, timeout=300, check=False
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_setup_compiles_the_decode_path():
    assert {"kelaile_cli.core.stream.layout", "kelaile_cli.core.escpos.decoder", "kelaile_cli.core.render.text"} <= set(
        COMPILED
    )
    for module in COMPILED:
        path = ROOT / module.replace(".", "/")
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), module


def test_compiled_core_matches_the_golden_files(compiled_site):
    samples = sorted(SAMPLES.glob("*.bin"))
    out = render_compiled(compiled_site, samples)
    not_compiled = [m for m, f in out["files"].items() if not _is_extension(f)]
    assert not not_compiled, f"not compiled: {not_compiled}"
    for path in samples:
        assert out["text"][str(path)] == (GOLDEN / (path.name + ".txt")).read_text(encoding="utf-8"), path.name
        html = GOLDEN / (path.name + ".html")
        if html.exists():
            assert out["html"][str(path)] == html.read_text(encoding="utf-8"), path.name


def test_compiled_core_matches_the_pure_sources_on_a_corpus(compiled_site, tmp_path):
    import kelaile_cli.core.stream.layout

    if _is_extension(kelaile_cli.core.stream.layout.__file__ or ""):
        pytest.skip("the sources under test are compiled in place: nothing pure to compare with")
    paths = []
    for i, (_, data) in enumerate(build_corpus(120) + build_corpus(40, seed=1, text_only=True)):
        paths.append(tmp_path / f"{i}.bin")
        paths[-1].write_bytes(data[: len(data) - i % 7])  # some cut short: truncated commands and characters
    out = render_compiled(compiled_site, paths)
    for path in paths:
        pure = "\n\n".join(render_text(r) for r in read_receipts(path.read_bytes())) + "\n"
        assert out["text"][str(path)] == pure, f"{path.name} (is the installed build older than the sources?)"
