#!/usr/bin/env python3
"""Ingest benchmark: `fathom ingest` against the `zstd -d` floor, in one run on one machine.

Usage: Benchmarks/ingest_bench.py [--mb 3072] [--files 8] [--jobs 2] [--fathom PATH]

Generates (once, cached under Benchmarks/work/) JSON Lines in multi-frame .zst archives, then
reports: the time of `zstd -d` over all archives (the floor, one process after another, output to
/dev/null), the time and peak RSS of `fathom ingest` into a fresh store, and their ratio.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, peak RSS in MB of that process)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0,):
        sys.exit(f"command failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=3072, help="uncompressed MB to generate")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fathom", default=os.path.join(root, ".build/release/fathom"))
    args = parser.parse_args()

    if not os.path.exists(args.fathom):
        subprocess.run(["swift", "build", "-c", "release", "--product", "fathom"], cwd=root, check=True)
    data = os.path.join(here, "work", f"jsonl-{args.mb}mb-{args.files}")
    if not os.path.isdir(data) or len(glob.glob(os.path.join(data, "*.zst"))) != args.files:
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(here, "gen_jsonl.py"), data, str(args.mb), str(args.files)], check=True)
    archives = sorted(glob.glob(os.path.join(data, "*.zst")))
    compressed = sum(os.path.getsize(a) for a in archives)
    raw = 0
    # Warm the page cache so both sides read from memory.
    for a in archives:
        with open(a, "rb") as f:
            while f.read(1 << 24):
                pass

    floor = 0.0
    for a in archives:
        seconds, _ = run(["zstd", "-d", "-q", "-c", a])
        floor += seconds
    for a in archives:
        out = subprocess.run(["zstd", "-lv", a], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.strip().startswith("Decompressed Size:"):
                raw += int(line.split("(")[1].split()[0].replace(",", ""))
    store = os.path.join(here, "work", "store")
    shutil.rmtree(store, ignore_errors=True)
    fathom, rss = run([args.fathom, "ingest", data, "--store", store, "--jobs", str(args.jobs)])
    shutil.rmtree(store, ignore_errors=True)

    mb = raw / 1e6 if raw else args.mb * 1.048576
    print(f"input: {len(archives)} archives, {compressed / 1e6:.0f} MB compressed, {mb:.0f} MB uncompressed; "
          f"{os.cpu_count()} cores")
    print(f"{'step':<28}{'seconds':>9}{'MB/s':>9}{'peak RSS MB':>13}{'vs floor':>10}")
    print(f"{'zstd -d (floor)':<28}{floor:>9.2f}{mb / floor:>9.0f}{'-':>13}{1.0:>10.2f}")
    print(f"{'fathom ingest --jobs ' + str(args.jobs):<28}{fathom:>9.2f}{mb / fathom:>9.0f}{rss:>13.0f}{fathom / floor:>10.2f}")


if __name__ == "__main__":
    main()
