"""Start-up time of the ``klx`` command (issue 10 "Instant start").

Wall time, median of 7 runs each, beside ``python3 -c pass`` in the same run:

* ``klx --version``, ``klx --help`` — target ≤ 100 ms above bare Python;
* ``klx parse one.bin --json`` — target ≤ 200 ms above bare Python;
* the same parse with 500 extra profiles on ``KLX_PROFILES_PATH`` — target ≤ 50 ms above the plain parse
  (the profile cache warm: its first, filling run is shown apart).

Measure the installed build: ``python3 -m venv /tmp/klx-inst && /tmp/klx-inst/bin/pip install .`` then
``python3 bench/bench_startup.py --python /tmp/klx-inst/bin/python``. Runs happen in a scratch directory
(never the repository, whose sources would shadow the installed package) with a scratch profile cache.

    python3 bench/bench_startup.py [--python PY] [--runs 7] [--profiles 500] [--baseline PY] [--json]

``--baseline PY`` adds the parse of another installed build (e.g. the previous commit), with and without the
extra profiles, to the same rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))

from bench.build import describe  # noqa: E402

SAMPLE = ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin"
TEMPLATE = ROOT / "profiles" / "meiwei-pos.yaml"


def make_profiles(folder: Path, n: int) -> None:
    """``n`` valid profiles, each with its own id and signature texts (none matches the sample)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for i in range(n):
        body = text.replace("id: meiwei-pos", f"id: bench-{i:04d}").replace("美味", f"美味{i:04d}号")
        (folder / f"bench-{i:04d}.yaml").write_text(body, encoding="utf-8")


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {run.returncode}: {run.stderr.decode()[-500:]}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wall(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    return timed(cmd, env, cwd)[0]


CPU: dict[str, float] = {}


def medians_ms(cases: dict[str, tuple[list[str], dict[str, str]]], cwd: Path, runs: int) -> dict[str, float]:
    """Median wall time in ms per case (median CPU time in ``CPU``: a check on a busy machine).

    The cases take turns (round-robin, ``runs`` rounds), so a change of load on a shared machine falls
    on every case alike instead of on whichever ran during it.
    """
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (cmd, env) in cases.items():
            samples[name].append(timed(cmd, env, cwd))
    for name, got in samples.items():
        CPU[name] = round(statistics.median(c for _, c in got) * 1000, 1)
    return {name: round(statistics.median(w for w, _ in got) * 1000, 1) for name, got in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, help="Interpreter of the klx to measure.")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--profiles", type=int, default=500, help="Extra profiles for the last case.")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--baseline", help="Interpreter of another klx build: its parse is measured in the same rounds.")
    args = ap.parse_args()

    klx_script = Path(args.python).parent / "klx"
    klx = [str(klx_script)] if klx_script.exists() else [args.python, "-m", "kelaile_cli"]
    with tempfile.TemporaryDirectory(prefix="klx-bench-startup-") as tmp:
        work = Path(tmp)
        job = work / "one.bin"
        shutil.copyfile(SAMPLE, job)
        extra = work / "profiles"
        extra.mkdir()
        make_profiles(extra, args.profiles)
        env = {**os.environ, "KLX_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1"}
        env.pop("KLX_PROFILES_PATH", None)
        with_extra = {**env, "KLX_PROFILES_PATH": str(extra)}
        parse = [*klx, "parse", str(job), "--json"]
        wall(parse, env, work)  # fill the cache with the bundled profiles
        cold_extra = round(wall(parse, with_extra, work) * 1000, 1)  # parses the 500 and fills the cache
        runs: dict[str, tuple[list[str], dict[str, str]]] = {
            "python3 -c pass": ([args.python, "-c", "pass"], env),
            "klx --version": ([*klx, "--version"], env),
            "klx --help": ([*klx, "--help"], env),
            "klx parse one.bin --json": (parse, env),
            f"  … with {args.profiles} extra profiles": (parse, with_extra),
        }
        if args.baseline:
            base_klx = Path(args.baseline).parent / "klx"
            base_env = {**env, "KLX_CACHE_DIR": str(work / "cache-baseline")}
            base_parse = [str(base_klx), "parse", str(job), "--json"]
            base_extra = {**base_env, "KLX_PROFILES_PATH": str(extra)}
            wall(base_parse, base_env, work)  # its own cache (another build may store another layout)
            wall(base_parse, base_extra, work)
            runs["baseline: klx parse one.bin --json"] = (base_parse, base_env)
            runs[f"baseline:  … with {args.profiles} extra profiles"] = (base_parse, base_extra)
        cases = medians_ms(runs, work, args.runs)
        build = describe(args.python, str(work))
    base = cases["python3 -c pass"]
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "build": build,
        "runs": args.runs,
        "median_ms": cases,
        "median_cpu_ms": CPU,
        "above_python_ms": {k: round(v - base, 1) for k, v in cases.items()},
        "extra_profiles_add_ms": round(cases[f"  … with {args.profiles} extra profiles"] - cases[
            "klx parse one.bin --json"], 1),
        "extra_profiles_add_cpu_ms": round(CPU[f"  … with {args.profiles} extra profiles"] - CPU[
            "klx parse one.bin --json"], 1),
        f"first_run_with_{args.profiles}_extra_profiles_ms": cold_extra,
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"{report['date']} · {report['machine']} · Python {report['python']} · load {report['load_average']}")
    print(f"klx measured: {build}; median of {args.runs} wall times")
    cpu_base = CPU["python3 -c pass"]
    for name, ms in cases.items():
        print(f"{name:<40} {ms:>8.1f} ms (+{ms - base:6.1f})   cpu {CPU[name]:>7.1f} ms (+{CPU[name] - cpu_base:6.1f})")
    print(f"extra profiles add {report['extra_profiles_add_ms']} ms wall, {report['extra_profiles_add_cpu_ms']} ms "
          "CPU (cache warm); the first run with them, "
          f"filling the cache: {cold_extra} ms")  # fmt: skip


if __name__ == "__main__":
    main()
