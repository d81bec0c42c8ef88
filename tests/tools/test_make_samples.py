"""The committed samples are exactly what tools/make_samples.py produces (python-escpos as producer)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "tools" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_committed_samples(tmp_path):
    tool = load_tool()
    made = tool.write_all(tmp_path)
    committed = {p.name for p in (ROOT / "recordings" / "samples").iterdir() if p.suffix in (".bin", ".klr")}
    assert set(made) == committed
    for name, data in made.items():
        assert (ROOT / "recordings" / "samples" / name).read_bytes() == data, name
    assert (ROOT / "kelaile_cli" / "data" / "sample.klr").read_bytes() == made[tool.BUNDLED]


def test_labelled_recordings_are_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("make_labelled", ROOT / "tools" / "make_labelled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_all(tmp_path)
    for path in written:
        rel = path.relative_to(tmp_path)
        assert (ROOT / "recordings" / rel).read_bytes() == path.read_bytes(), rel
        label = rel.with_name(rel.name.removesuffix(".klr") + ".expected.json")
        if rel.parts[0] == "unknown":  # streams of unprofiled POS programs carry no label
            assert not (tmp_path / label).exists()
            continue
        assert (ROOT / "recordings" / label).read_bytes() == (tmp_path / label).read_bytes(), label
    committed = {p.relative_to(ROOT / "recordings") for p in (ROOT / "recordings").glob("*/*.klr")}
    assert {p.relative_to(tmp_path) for p in written} == {p for p in committed if p.parts[0] != "samples"}
