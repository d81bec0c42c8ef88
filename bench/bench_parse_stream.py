"""End to end through the CLI: ``klx parse --json`` on big raw streams, timed, with peak RSS — and beside
escpos-tools' ``esc2text`` on the same bytes in the same run.

    python bench/bench_parse_stream.py [--mb 96] [--lang-mb 24] [--klx PATH-TO-klx ...] [--keep DIR]
                                       [--rounds 1] [--escpos-tools DIR] [--compare-mb 4]

Streams (made from ``bench/corpus.py``'s receipts, python-escpos output):

* ``mixed``: every language, text and mixed receipts (logos, QR codes, barcodes), repeated to --mb MB;
* ``lang-XX``: the per-language corpus, one language's receipts (text and mixed) repeated to --lang-mb MB
  each (``--lang-mb 0`` skips them).

Each is parsed by the given ``klx`` (default: the one on PATH — run it from the venv of the installed,
mypyc-compiled build) as a child process; its JSON Lines are counted and discarded. Reported per
stream: wall time, CPU time (user + system of the child: one core's throughput, what a shared machine
disturbs least), MB/s by each, and peak RSS (``ru_maxrss``). The start-up of ``klx parse --json`` on
one receipt is measured too, so that the per-MB cost can be told from the fixed one.

``--escpos-tools DIR``: a checkout of receipt-print-hq/escpos-tools whose ``esc2text.php`` runs (its
``vendor/autoload.php`` in place, e.g. by ``composer install``); ``php`` on PATH. Then the first
--compare-mb MB of each stream are given to both ``php esc2text.php`` and ``klx parse --json`` in turn,
and the ratio of their CPU times is printed. Without it the comparison is skipped, and says so.
With ``--rounds N`` every measurement is repeated N times (interleaved) and the best is kept.

``--klx`` may be given more than once (e.g. the installed builds of two commits, each in its own venv):
every measurement then runs each of them in turn, round after round, so that a busy machine disturbs
them alike, and prints one row per build (``klx#1``, ``klx#2`` … in the order given).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench.bench_decode import cpu_model
from bench.corpus import LANGS, build_corpus


@dataclass
class Run:
    """One child process: wall and CPU seconds, peak RSS in MB, JSON lines printed, exit code."""

    wall: float
    cpu: float
    rss_mb: float
    lines: int
    code: int


def repeat_to(path: Path, block: bytes, mb: float) -> int:
    """Write ``block`` repeated to at least ``mb`` megabytes; returns the number of repeats."""
    times = max(1, -(-int(mb * 1_000_000) // len(block)))
    with path.open("wb") as fh:
        for _ in range(times):
            fh.write(block)
    return times


def build_streams(folder: Path, mb: float, lang_mb: float) -> dict[str, tuple[Path, int]]:
    """name -> (file, receipts written); files already in ``folder`` are reused (--keep)."""
    mixed = build_corpus(400)
    text = build_corpus(400, seed=1, text_only=True)
    wanted: dict[str, list[bytes]] = {"mixed": [d for _, d in mixed] + [d for _, d in text]}
    if lang_mb > 0:
        for lang in LANGS:
            wanted[f"lang-{lang}"] = [d for code, d in mixed + text if code == lang]
    streams = {}
    for name, receipts in wanted.items():
        size = mb if name == "mixed" else lang_mb
        path = folder / f"{name}-{size:g}mb.bin"
        block = b"".join(receipts)
        times = max(1, -(-int(size * 1_000_000) // len(block)))
        if not path.exists():
            repeat_to(path, block, size)
        streams[name] = (path, times * len(receipts))
    return streams


def run(cmd: list[str], cwd: Path) -> Run:
    """Run ``cmd`` with stdout counted and discarded; stderr kept for a failure's message."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=cwd)
        assert child.stdout is not None
        lines = 0
        while chunk := child.stdout.read(1 << 20):
            lines += chunk.count(b"\n")
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            print(f"warning: {' '.join(cmd)}: exit {code}: {err.read().decode(errors='replace')[-300:]}",
                  file=sys.stderr)  # fmt: skip
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines, code)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.cpu)


def interleaved(commands: list[list[str]], args: list[str], cwd: Path, rounds: int) -> list[Run]:
    """The best run (CPU time) of each command with ``args``, the commands taking turns ``rounds`` times."""
    runs: list[list[Run]] = [[] for _ in commands]
    for _ in range(rounds):
        for i, command in enumerate(commands):
            runs[i].append(run([*command, *args], cwd))
    return [best(r) for r in runs]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=96)
    ap.add_argument("--lang-mb", type=float, default=24, help="size of each per-language stream (0: skip them)")
    ap.add_argument("--klx", action="append", help="klx to run (repeat to compare builds; default: klx on PATH)")
    ap.add_argument("--keep", type=Path, help="make (or reuse) the streams in this directory")
    ap.add_argument("--rounds", type=int, default=1, help="repeat each measurement, keep the best")
    ap.add_argument("--escpos-tools", type=Path, help="escpos-tools checkout: compare with its esc2text.php")
    ap.add_argument("--compare-mb", type=float, default=4, help="bytes of each stream given to both tools")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="klx-bench-"))
    folder = args.keep or tmp
    folder.mkdir(parents=True, exist_ok=True)
    try:
        streams = build_streams(folder, args.mb, args.lang_mb)
        one = tmp / "one.bin"
        one.write_bytes(build_corpus(1)[0][1])
        builds = args.klx or [shutil.which("klx") or "klx"]
        klxs = [[path, "parse", "--json"] for path in builds]
        tag = {i: (f"klx#{i + 1} " if len(builds) > 1 else "") for i in range(len(builds))}
        print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {cpu_model()}  Python "
              f"{platform.python_version()}  load {load()}")  # fmt: skip
        for i, path in enumerate(builds):
            print(f"{tag[i] or 'klx '}= {path}")
        startups = interleaved(klxs, [str(one)], tmp, max(3, args.rounds))
        for i, startup in enumerate(startups):
            print(
                f"{tag[i]}start-up (klx parse --json, one receipt): cpu {startup.cpu:.3f} s  wall {startup.wall:.3f} s"
            )
        print(f"{'stream':<18} {'MB':>6} {'receipts':>9} {'cpu s':>7} {'MB/s cpu':>9} {'MB/s cpu-start':>14} "
              f"{'wall s':>7} {'MB/s wall':>9} {'RSS MB':>7}")  # fmt: skip
        for name, (path, expected) in streams.items():
            size = path.stat().st_size / 1e6
            for i, r in enumerate(interleaved(klxs, [str(path)], tmp, args.rounds)):
                if r.lines != expected:
                    print(f"warning: {name}: {r.lines} receipts parsed, {expected} written", file=sys.stderr)
                print(f"{tag[i] + name:<18} {size:>6.1f} {r.lines:>9} {r.cpu:>7.2f} {size / r.cpu:>9.1f} "
                      f"{size / max(r.cpu - startups[i].cpu, 1e-9):>14.1f} {r.wall:>7.2f} {size / r.wall:>9.1f} "
                      f"{r.rss_mb:>7.0f}")  # fmt: skip
        print(f"load after: {load()}")
        compare(args, streams, tmp, klxs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(args: argparse.Namespace, streams: dict[str, tuple[Path, int]], tmp: Path, klxs: list[list[str]]) -> None:
    """klx parse --json against esc2text on the first --compare-mb MB of each stream (CPU time)."""
    if args.escpos_tools is None:
        print("escpos-tools: comparison skipped (no --escpos-tools DIR given)")
        return
    script = args.escpos_tools.resolve() / "esc2text.php"
    php = shutil.which("php")
    if php is None or not script.is_file():
        print(f"escpos-tools: comparison skipped ({'php not on PATH' if php is None else f'no {script}'})")
        return
    print(f"same bytes, {args.compare_mb:g} MB of each stream: klx parse --json vs php esc2text.php (CPU time)")
    print(f"{'stream':<18} {'MB':>6} {'esc2text s':>10} {'MB/s':>6} {'klx s':>7} {'MB/s':>6} {'klx / esc2text':>15}")
    for name, (path, _) in streams.items():
        part = tmp / f"compare-{name}.bin"
        with path.open("rb") as fh:
            part.write_bytes(fh.read(int(args.compare_mb * 1_000_000)))
        size = part.stat().st_size / 1e6
        theirs: list[Run] = []
        ours: list[list[Run]] = [[] for _ in klxs]
        for _ in range(args.rounds):
            theirs.append(run([php, str(script), str(part)], script.parent))
            for i, klx in enumerate(klxs):
                ours[i].append(run([*klx, str(part)], tmp))
        t = best(theirs)
        failed = " (esc2text failed)" if t.code != 0 else ""
        for i, runs in enumerate(ours):
            o = best(runs)
            label = f"klx#{i + 1} {name}" if len(klxs) > 1 else name
            print(f"{label:<18} {size:>6.1f} {t.cpu:>10.2f} {size / t.cpu:>6.2f} {o.cpu:>7.2f} {size / o.cpu:>6.1f} "
                  f"{t.cpu / o.cpu:>14.1f}x{failed}")  # fmt: skip
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
