"""Run every benchmark and print one table (also written to bench/results.md).

Each benchmark module exposes ``run() -> list[dict]`` (rows: name, value, unit,
reference, goal) and runs in its own process, so one failing or slow benchmark cannot
take the others down. ``make bench`` runs this; ``--only api,csv`` picks some.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    ("api", "bench.api_orders"),
    ("routing", "bench.routing"),
    ("csv", "bench.csv_import"),
    ("documents", "bench.documents"),
    ("forecast", "bench.forecast"),
    ("pages", "bench.pages"),
    ("channels", "bench.channel_sync"),
]
MARK = "@@BENCH-ROWS@@"
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "1800"))


def run_one(module: str) -> tuple[list[dict], str]:
    code = (
        "import json, importlib, sys; "
        f"rows = importlib.import_module({module!r}).run(); "
        f"print({MARK!r} + json.dumps(rows, default=str))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return [], f"timed out after {TIMEOUT} s"
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :]), ""
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return [], "failed: " + " | ".join(tail)


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--only", default="", help="comma-separated: " + ",".join(name for name, _ in BENCHMARKS)
    )
    args = parser.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    table, notes = [], []
    started = time.time()
    for name, module in BENCHMARKS:
        if wanted and name not in wanted:
            continue
        if not (ROOT / (module.replace(".", "/") + ".py")).exists():
            notes.append(f"{name}: no benchmark yet")
            continue
        print(f"running {name} ...", flush=True)
        t0 = time.time()
        rows, problem = run_one(module)
        if problem:
            notes.append(f"{name}: {problem}")
        for r in rows:
            table.append({"bench": name, **r})
        print(f"  {name}: {len(rows)} figures in {time.time() - t0:.0f} s", flush=True)

    lines = [
        "# Benchmark results",
        "",
        f"`make bench` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({os.cpu_count()} cores), {time.time() - started:.0f} s in all.",
        "",
        "| bench | figure | value | unit | reference run / detail | goal |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for r in table:
        lines.append(
            f"| {r['bench']} | {r['name']} | {fmt(r['value'])} | {r.get('unit', '')} "
            f"| {r.get('reference', '')} | {r.get('goal', '')} |"
        )
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    (ROOT / "bench" / "results.md").write_text(text)


if __name__ == "__main__":
    main()
