"""Decode + segment + text-render throughput on a corpus of varied receipts (one core).

    python bench/bench_decode.py [--n 1000] [--repeat 3] [--clock cpu|wall] [--json]

Two measures: each language's receipts concatenated into one stream (how a capture is parsed), and
every receipt parsed as its own stream (per-job overhead included). Two more rows time the first
stages alone on the per-language streams: the byte decoder (``StreamDecoder`` fed 256 KB at a time,
as ``klx parse`` reads a file), and the decoder followed by the job segmenter. Best of --repeat runs, timed by
the CPU time of this process (``--clock cpu``, the default: one core's throughput, unaffected by other
work on a shared machine) or by the wall clock.

It measures the klx that ``import kelaile_cli`` finds: an installed one first (``pip install .``
compiles the decode path with mypyc), else these sources (pure Python); the header says which.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

# appended, not prepended: an installed (possibly compiled) klx is measured when there is one
sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench.corpus import build_corpus
from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.stream.segmenter import Segmenter
from kelaile_cli.runtime import tune_gc


def build_kind() -> str:
    """'compiled (mypyc)' when the decode path runs as compiled modules, else 'pure Python'."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from kelaile_cli.core.stream import layout

    return "compiled (mypyc)" if (layout.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES)) else "pure Python"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def best_of(repeat: int, clock: str, work: Callable[[], int]) -> tuple[float, int]:
    """``work`` run ``repeat`` times: (its best seconds by ``clock``, what it counted)."""
    now = time.process_time if clock == "cpu" else time.perf_counter
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = now()
        count = work()
        best = min(best, now() - start)
    return best, count


def run(streams: list[bytes], repeat: int, clock: str) -> tuple[float, int, int]:
    """Decode, lay out and render each stream; (best seconds, receipts, bytes)."""

    def work() -> int:
        receipts = 0
        for data in streams:
            for r in read_receipts(data):
                render_text(r)
                receipts += 1
        return receipts

    return (*best_of(repeat, clock, work), sum(len(s) for s in streams))


CHUNK = 256 * 1024  # what klx parse reads at a time (services/jobs.py CHUNK_BYTES)


def run_stage(streams: list[bytes], repeat: int, clock: str, segment: bool) -> tuple[float, int, int]:
    """Decode (and with ``segment`` cut into jobs) each stream; (best seconds, jobs or events, bytes)."""
    pieces = [[data[at : at + CHUNK] for at in range(0, len(data), CHUNK)] for data in streams]

    def work() -> int:
        count = 0
        for chunks in pieces:
            decoder = StreamDecoder()
            segmenter = Segmenter(idle_gap=None)
            for chunk in chunks:
                events = decoder.feed(chunk)
                count += len(segmenter.feed(events)) if segment else len(events)
            events = decoder.close()
            count += len(segmenter.feed(events)) + len(segmenter.close()) if segment else len(events)
        return count

    return (*best_of(repeat, clock, work), sum(len(s) for s in streams))


def _row(receipts: int, size: int, secs: float) -> dict[str, float]:
    """One result of the report: what was decoded, in how long, and the rates."""
    return {
        "receipts": receipts,
        "bytes": size,
        "seconds": round(secs, 4),
        "mb_per_s": round(size / secs / 1e6, 2),
        "receipts_per_s": round(receipts / secs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--default-gc", action="store_true", help="keep CPython's GC thresholds (klx raises them)")
    args = ap.parse_args()
    if not args.default_gc:
        tune_gc()  # as the klx command runs (kelaile_cli/runtime.py)

    results = {}
    for label, text_only in (("text receipts", True), ("mixed receipts (images, QR, barcodes)", False)):
        corpus = build_corpus(args.n, text_only=text_only)
        by_lang: dict[str, list[bytes]] = {}
        for lang, data in corpus:
            by_lang.setdefault(lang, []).append(data)
        for mode, streams in (
            ("stream per language", [b"".join(v) for v in by_lang.values()]),
            ("stream per receipt", [d for _, d in corpus]),
        ):
            secs, receipts, size = run(streams, args.repeat, args.clock)
            results[f"{label} / {mode}"] = _row(receipts, size, secs)
        streams = [b"".join(v) for v in by_lang.values()]
        for stage, segment in (("decode only", False), ("decode + segment", True)):
            secs, count, size = run_stage(streams, args.repeat, args.clock, segment)
            receipts = count if segment else len(corpus)  # the segmenter's jobs are the receipts
            results[f"{label} / {stage}, stream per language"] = _row(receipts, size, secs)
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu_model()},
        "build": build_kind(),
        "clock": args.clock,
        "gc": "default" if args.default_gc else "klx (runtime.tune_gc)",
        "date": time.strftime("%Y-%m-%d"),
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    machine = report["machine"]
    print(
        f"{report['date']}  {machine['cpu']}  Python {machine['python']}  {report['build']}  {args.clock} time"
        f"  gc {report['gc']}"
    )
    print(f"{'case':<80} {'receipts':>8} {'MB':>7} {'MB/s':>7} {'receipts/s':>11}")
    for case, r in results.items():
        print(f"{case:<80} {r['receipts']:>8} {r['bytes'] / 1e6:>7.2f} {r['mb_per_s']:>7.2f} {r['receipts_per_s']:>11}")


if __name__ == "__main__":
    main()
