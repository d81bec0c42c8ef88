"""Decode + detect + extract time per receipt with 10, 100 and 500 profiles loaded.

    python bench/bench_detect.py [--json]

The bundled profiles are loaded with synthetic ones up to N (each with its own shop name, footer
and a regular-expression signature, like real profiles), then every receipt of the corpus (labelled
recordings, unprofiled streams in recordings/unknown/ and the samples) is decoded once, then ranked
and extracted; decoding is timed separately (per stream, divided by its receipts). Also reports,
with the bundled profiles at the default threshold: detection top-1
accuracy, wrong-profile rate and unknown rate (services/profiles/quality.py), and the field
exact-match rate of `klx profile test` over the labelled recordings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# appended, not prepended: the installed (compiled) klx is measured when there is one (bench/build.py)
sys.path.append(str(ROOT))

from bench.build import describe as describe_build  # noqa: E402
from kelaile_cli.core.profiles.analysis import analyse  # noqa: E402
from kelaile_cli.core.profiles.detect import Detector  # noqa: E402
from kelaile_cli.core.profiles.profile import Profile, parse_profile  # noqa: E402
from kelaile_cli.core.stream.printstream import DecodeOptions  # noqa: E402
from kelaile_cli.services import jobs  # noqa: E402
from kelaile_cli.services.profiles.library import load_profiles  # noqa: E402
from kelaile_cli.services.profiles.quality import corpus_cases, measure_detection  # noqa: E402
from kelaile_cli.services.profiles.testing import run_profile_tests  # noqa: E402

HANZI = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后"


def synthetic(i: int, rng: random.Random) -> Profile:
    shop = "".join(rng.choice(HANZI) for _ in range(5)) + f"{i}号店"
    text = f"""id: synthetic-{i:03d}
name: Synthetic {i}
vendor: Bench (fictional)
printer: {{width: {rng.choice([32, 42, 48])}, encoding: gb18030}}
detect:
  signatures:
    - text: {shop}
      weight: 3
    - text: 欢迎再次光临{i}
    - regex: '流水号: S{i:03d}-\\d{{6}}'
kinds:
  sale: [结账]
fields:
  total: {{pattern: '^合计\\s+(\\S+)$'}}
"""
    return parse_profile(text, f"synthetic-{i}.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    real = load_profiles().profiles
    receipts = []
    decode_ms = []  # per stream: decoding time (median of 5) divided by its receipts
    for rec, _expected in corpus_cases(ROOT / "recordings"):
        source = jobs.load_source(rec)
        decoded = jobs.source_receipts(source, DecodeOptions())
        receipts += [(source, r) for r in decoded]
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            jobs.source_receipts(source, DecodeOptions())
            runs.append(time.perf_counter() - start)
        decode_ms.append(statistics.median(runs) * 1000 / max(1, len(decoded)))
    decode_ms.sort()
    rng = random.Random(1)
    results = {}
    for n in (10, 100, 500):
        # the bundled profiles first (all of them from 100 on), synthetic ones up to n
        profiles = (real + [synthetic(i, rng) for i in range(max(0, n - len(real)))])[:n]
        detector = Detector(profiles)
        per_receipt: list[list[float]] = [[] for _ in receipts]
        for rep in range(6):  # the first pass warms the regex cache and is not timed
            for k, (_source, receipt) in enumerate(receipts):
                start = time.perf_counter()
                analyse(receipt, detector)  # what the box, klx parse and klx replay run per receipt
                if rep:
                    per_receipt[k].append(time.perf_counter() - start)
        # each receipt's median over the 5 timed passes, so a scheduler hiccup on a shared machine does
        # not pass for a slow receipt; the percentiles are over receipts
        times = sorted(statistics.median(t) for t in per_receipt)
        results[n] = {
            "receipts": len(receipts),
            "p50_ms": round(statistics.median(times) * 1000, 4),
            "p95_ms": round(times[int(0.95 * len(times))] * 1000, 4),
        }
    field_results = run_profile_tests(load_profiles(), ROOT / "recordings")
    quality = measure_detection(Detector(real), ROOT / "recordings").to_dict()
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "build": describe_build(),
        "profiles": len(real),
        "decode_per_receipt": {
            "p50_ms": round(statistics.median(decode_ms), 4),
            "p95_ms": round(decode_ms[int(0.95 * len(decode_ms))], 4),
        },
        "detect_extract_per_receipt": results,
        "growth_10_to_500_p95": round(results[500]["p95_ms"] / results[10]["p95_ms"], 2),
        "detection": quality,
        "field_exact_match": round(sum(r.ok for r in field_results) / len(field_results), 4),
        "fields_compared": len(field_results),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"klx measured: {report['build']}")
    for n, r in results.items():
        print(
            f"{n:>4} profiles: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms per receipt "
            f"({r['receipts']} receipts, median of 5 passes each)"
        )
    print(f"growth 10→500 (p95): {report['growth_10_to_500_p95']}×")
    dec = report["decode_per_receipt"]
    print(f"decoding (before detection): p50 {dec['p50_ms']} ms, p95 {dec['p95_ms']} ms per receipt")
    print(f"{len(real)} profiles: top-1 {quality['top1_accuracy']:.1%} on {quality['labelled_receipts']} labelled "
          f"receipts; wrong profile {quality['wrong_profile_rate']:.1%}; unknown {quality['unknown_rate']:.1%} of "
          f"{quality['unknown_receipts']} unprofiled receipts; field exact-match {report['field_exact_match']:.2%} "
          f"of {report['fields_compared']} fields")  # fmt: skip
    for failure in quality["failures"]:
        print(f"  detection failure: {failure}")


if __name__ == "__main__":
    main()
