"""Decode + detect + extract time per receipt with 10, 100 and 500 profiles loaded.

    python bench/bench_detect.py [--json]

The three real profiles are loaded with N-3 synthetic ones (each with its own shop name, footer
and a regular-expression signature, like real profiles), then every labelled recording's receipts
are decoded, ranked and extracted. Also reports detection top-1 accuracy and field exact-match on
the labelled recordings (the output of `klx profile test`).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.core.detect import Detector  # noqa: E402
from kelaile_cli.core.extract import extract  # noqa: E402
from kelaile_cli.core.printstream import DecodeOptions  # noqa: E402
from kelaile_cli.core.profile import Profile, parse_profile  # noqa: E402
from kelaile_cli.services import inspect  # noqa: E402
from kelaile_cli.services.profile_test import run_profile_tests  # noqa: E402
from kelaile_cli.services.profiles import load_profiles  # noqa: E402

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
    for rec in sorted((ROOT / "recordings").glob("*/*.klr")):
        source = inspect.load_source(rec)
        receipts += [(source, r) for r in inspect.source_receipts(source, DecodeOptions())]
    rng = random.Random(1)
    results = {}
    for n in (10, 100, 500):
        profiles = real + [synthetic(i, rng) for i in range(n - len(real))]
        detector = Detector(profiles)
        by_id = {p.id: p for p in profiles}
        times = []
        for _ in range(5):
            for _source, receipt in receipts:
                start = time.perf_counter()
                best = detector.best(receipt)
                if best:
                    p = by_id[best.id]
                    extract(
                        p.fields,
                        [ln.text for ln in receipt.lines],
                        p.kind_of("\n".join(ln.text for ln in receipt.lines)),
                    )
                times.append(time.perf_counter() - start)
        times.sort()
        results[n] = {
            "receipts": len(receipts),
            "p50_ms": round(statistics.median(times) * 1000, 4),
            "p95_ms": round(times[int(0.95 * len(times))] * 1000, 4),
        }
    field_results = run_profile_tests(load_profiles(), ROOT / "recordings")
    top1 = [r for r in field_results if r.field == "profile"]
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "detect_extract_per_receipt": results,
        "growth_10_to_500_p95": round(results[500]["p95_ms"] / results[10]["p95_ms"], 2),
        "top1_accuracy": round(sum(r.ok for r in top1) / len(top1), 4),
        "field_exact_match": round(sum(r.ok for r in field_results) / len(field_results), 4),
        "labelled_receipts": len(top1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for n, r in results.items():
        print(f"{n:>4} profiles: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms per receipt ({r['receipts']} receipts ×5)")
    print(f"growth 10→500 (p95): {report['growth_10_to_500_p95']}×; top-1 {report['top1_accuracy']:.0%} on "
          f"{report['labelled_receipts']} receipts; field exact-match {report['field_exact_match']:.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
