#!/usr/bin/env python3
"""A/B timing of `fathom ingest` between two builds, interleaved, on one scenario folder.

Usage: python3 Benchmarks/ingest_ab.py A_FATHOM B_FATHOM SCENARIO_DIR [--runs N]

Warms the page cache, then runs A and B alternately N times (default 4), each into a fresh store,
and prints wall seconds, CPU seconds (user + system, less sensitive to other load on a shared
machine) and peak RSS per run, then the median and minimum CPU seconds per build. Used to measure
reading evidence with pread into owned buffers against memory-mapping it (README, Reliability).
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("scenario")
parser.add_argument("--runs", type=int, default=4)
args = parser.parse_args()

kinds = ["inference", "llm", "pipeline", "predictions", "registry", "storage"]
dirs = [os.path.join(args.scenario, d) for d in kinds if os.path.isdir(os.path.join(args.scenario, d))]
for d in dirs:
    for root, _, files in os.walk(d):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                while handle.read(1 << 20):
                    pass
results = {"A": [], "B": []}
work = tempfile.mkdtemp(prefix="ingest-ab-")
for _ in range(args.runs):
    for label, exe in (("A", args.a), ("B", args.b)):
        store = os.path.join(work, "store")
        shutil.rmtree(store, ignore_errors=True)
        start = time.monotonic()
        proc = subprocess.Popen([exe, "ingest", *dirs, "--store", store, "--json"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        cpu = usage.ru_utime + usage.ru_stime
        results[label].append((cpu, usage.ru_maxrss / 1024))
        print(f"{label} {wall:.2f} s wall {cpu:.2f} s cpu {usage.ru_maxrss / 1024:.0f} MB exit {os.waitstatus_to_exitcode(status)}",
              flush=True)
shutil.rmtree(work, ignore_errors=True)
for label, runs in results.items():
    cpus = sorted(run[0] for run in runs)
    print(f"{label}: median {cpus[len(cpus) // 2]:.2f} s cpu, min {cpus[0]:.2f} s, peak RSS {max(run[1] for run in runs):.0f} MB")
