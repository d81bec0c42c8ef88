"""`klx insights` at store-chain scale: a store-month over 10 million stored transactions.

    python bench/bench_insights.py [--rows 10000000] [--stores 20] [--runs 3] [--json]

The transactions are generated directly in DuckDB in the shape the cloud stores them (the upload
document: items, payments, tables, covers, discounts; 90 % sales, 3 % refunds, 5 % pre-bills, 2 %
kitchen tickets; no shift reports) and written as the Parquet export `klx insights --export` writes
(ordered by store, then time, 16,384-row groups) — not sent through HTTP. Each query then runs in a
fresh process (`klx insights --parquet FILE --store S --from … --to …` does the same), timed from start
to the last figure (wall and CPU seconds), with the process's peak RSS and the machine's load average.
Also measured: the same month for all stores, and one store's year. `--keep FILE --reuse` skips the
generation (about 8 minutes on two shared cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.services.insights import Scope, gather  # noqa: E402
from kelaile_cli.services.insights.load import BODY_TYPE, ROW_GROUP_ROWS, connect  # noqa: E402

MENU = 40
METHODS = ["cash", "card", "wechat", "alipay"]
YEAR_S = 365 * 86400


def _money(cents: str) -> str:
    return f"printf('%d.%02d', ({cents}) // 100, ({cents}) % 100)"


def generate(path: Path, rows: int, stores: int) -> float:
    """Write ``rows`` transactions to ``path``; returns the seconds it took."""
    per_store = rows // stores
    step = YEAR_S / per_store
    con = connect()
    con.execute("SET memory_limit = '1GB'")
    con.execute("SET preserve_insertion_order = true")
    price = "(100 + ((i * 7 + k * 13) % 40) * 50)"
    qty = "(1 + (i + k) % 3)"
    items = f"""list_transform(range(1 + i % 4), lambda k: {{'name': 'Item ' || ((i * 7 + k * 13) % {MENU}),
        'quantity': CAST({qty} AS VARCHAR), 'unit_price': {_money(price)},
        'amount': CASE WHEN kind = 'refund' THEN '-' ELSE '' END || {_money(f"{price} * {qty}")}, 'sku': NULL}})"""
    cents = f"list_sum(list_transform(range(1 + i % 4), lambda k: {price} * {qty}))"
    total = f"CASE WHEN kind = 'refund' THEN '-' ELSE '' END || {_money(cents)}"
    sql = f"""
COPY (
  WITH g AS (
    SELECT i, CAST(i // {per_store} AS INTEGER) AS s,
           TIMESTAMP '2026-01-01 00:00:00' + to_microseconds(CAST((i % {per_store}) * {step} * 1e6 AS BIGINT)) AS ts,
           CASE WHEN i % 100 < 90 THEN 'sale' WHEN i % 100 < 93 THEN 'refund'
                WHEN i % 100 < 98 THEN 'pre_bill' ELSE 'kitchen' END AS kind
    FROM range({per_store * stores}) r(i)
  )
  SELECT i AS seq, printf('store-%04d', s) AS store, printf('dev-%04d', s) AS device, CAST(NULL AS DOUBLE) AS at,
         CAST({{'kind': kind, 'profile': 'bench', 'printed_at': strftime(ts, '%Y-%m-%dT%H:%M:%S.000Z'),
                'receipt_sha256': md5(CAST(i AS VARCHAR)),
                'transaction': {{'currency': 'CNY', 'store': NULL, 'terminal': NULL, 'cashier': NULL,
                   'order_no': CAST(i AS VARCHAR), 'datetime': strftime(ts, '%Y-%m-%dT%H:%M:%S'),
                   'table': CASE WHEN i % 3 = 0 THEN 'T' || (i % 30) END,
                   'covers': CASE WHEN i % 3 = 0 THEN 1 + i % 6 END,
                   'items': {items}, 'subtotal': NULL,
                   'discount': CASE WHEN i % 20 = 0 THEN '1.00' END, 'service_charge': NULL, 'tax': NULL,
                   'total': {total},
                   'payments': CASE WHEN kind IN ('sale', 'refund')
                                    THEN [{{'method': {METHODS}[1 + i % 4], 'amount': {total}}}] END,
                   'change': NULL, 'report': NULL}},
                'checks': []}} AS {BODY_TYPE}) AS body,
         ts
  FROM g
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS})
"""
    t = time.perf_counter()
    con.execute(sql)
    con.close()
    return time.perf_counter() - t


def _cpu() -> float:
    """CPU seconds of this process, all threads (a fairer figure than wall time on a shared machine)."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def query(path: Path, store: str | None, start: datetime, end: datetime) -> dict[str, object]:
    """One insights run over the Parquet file (called in a fresh process; the clock starts after imports)."""
    t, cpu = time.perf_counter(), _cpu()
    ins = gather(Scope(store, start, end), parquet=path)
    elapsed, cpu = time.perf_counter() - t, _cpu() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    top = ins["stores"][0] if ins["stores"] else {}
    sales = sum(s["transactions"] for s in ins["stores"])
    return {"elapsed_s": round(elapsed, 3), "cpu_s": round(cpu, 3), "peak_rss_mb": round(rss_mb, 1),
            "transactions": sales, "revenue": str(top.get("revenue"))}  # fmt: skip


def _run(path: Path, store: str | None, start: str, end: str) -> dict[str, object]:
    args = [sys.executable, __file__, "--query", str(path), "--from", start, "--to", end]
    if store:
        args += ["--store", store]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=600)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--query", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--from", dest="start", help=argparse.SUPPRESS)
    ap.add_argument("--to", dest="end", help=argparse.SUPPRESS)
    ap.add_argument("--keep", type=Path, help="Keep the generated Parquet file here.")
    ap.add_argument("--reuse", action="store_true", help="Use the --keep file as it is (no generation).")
    a = ap.parse_args()
    if a.query:
        res = query(a.query, a.store, datetime.fromisoformat(a.start), datetime.fromisoformat(a.end))
        sys.stdout.write(json.dumps(res) + "\n")
        return
    with tempfile.TemporaryDirectory(prefix="klx-bench-insights-") as tmp:
        path = a.keep or Path(tmp) / "docs.parquet"
        gen_s = 0.0 if a.reuse and a.keep else generate(path, a.rows, a.stores)
        cases = {
            "store_month": ("store-0007", "2026-06-01", "2026-07-01"),
            "all_stores_month": (None, "2026-06-01", "2026-07-01"),
            "store_year": ("store-0007", "2026-01-01", "2027-01-01"),
        }
        results: dict[str, object] = {}
        for name, (store, start, end) in cases.items():
            runs = [_run(path, store, start, end) for _ in range(a.runs)]
            best = min(runs, key=lambda r: float(r["elapsed_s"]))  # type: ignore[arg-type]
            results[name] = {**best, "runs_s": [r["elapsed_s"] for r in runs],
                             "peak_rss_mb_max": max(float(r["peak_rss_mb"]) for r in runs)}  # type: ignore[arg-type]  # fmt: skip
        report = {
            "rows": a.rows,
            "stores": a.stores,
            "parquet_mb": round(path.stat().st_size / 2**20, 1),
            "generate_s": round(gen_s, 1),
            "results": results,
            "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}".strip(),
            "python": platform.python_version(),
            "load_average": [round(x, 1) for x in __import__("os").getloadavg()],
            "date": time.strftime("%Y-%m-%d"),
        }
    if a.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    print(f"{report['rows']:,} transactions, {report['stores']} stores, Parquet {report['parquet_mb']} MB "
          f"(generated in {report['generate_s']} s)")  # fmt: skip
    for name, r in results.items():
        print(f"  {name:17s} {r}")  # type: ignore[index]


if __name__ == "__main__":
    main()
