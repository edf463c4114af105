#!/usr/bin/env python3
"""Sweep benchmark: a nightly `fathom sweep` of one new day on top of the days already swept, against
`fathom ingest` of that one day into a fresh store, in one run on one machine.

Usage: Benchmarks/sweep_bench.py [--days 31] [--scale 3000000] [--shape default|high-cardinality]
                                 [--jobs 2] [--repeat 3] [--fathom PATH] [--keep]

Simulates --days days (`fathom simulate`, cached under Benchmarks/work/), hard-links the files of
all days but the last (and the whole-span pipeline and registry logs) into a watched folder,
runs a first sweep over them (timed, for reference), then adds the 31st day's files and times:
  (a) `fathom sweep` (ingest of the new files, detections over them plus the look-back, digest and
      incident report), and
  (b) `fathom ingest` of only the 31st day's files into a fresh store,
and prints both with their ratio. (a) and (b) run --repeat times each, alternated (the store
restored to its 30-day state before every sweep): the ratio of the fastest runs, and the ratio of
each sweep to the ingest run right after it, whose median weighs the machine's drift from one
minute to the next less. The configuration is Benchmarks/sweep.yaml (the README's example).
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import simshape

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
import datetime

START = datetime.date(2026, 3, 1)


def run(cmd, ok=(0,), cwd=None):
    """Runs cmd; returns (seconds, peak RSS in MB, exit status, stderr). The peak RSS comes from GNU
    time (/usr/bin/time), which forks the command from its own small process, so this script's
    memory is never counted in it (perf_bench.py explains why)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.monotonic()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, cwd=cwd)
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
        elapsed = time.monotonic() - start
        if code not in ok:
            sys.exit(f"command failed ({code}): {' '.join(cmd)}\n{err}")
        kilobytes = int((rss.read().strip().splitlines() or ["0"])[-1])
    return elapsed, kilobytes / 1024, code, err


def warm(paths):
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=3_000_000, help="background inference rows over all days")
    parser.add_argument("--days", type=int, default=31, help="days simulated; the last is the nightly sweep's new day")
    parser.add_argument("--shape", default="default", help="fathom simulate --shape")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fathom", default=os.path.join(root, ".build/release/fathom"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the stores and reports under Benchmarks/work")
    args = parser.parse_args()
    fathom = os.path.abspath(args.fathom)
    if not os.path.exists(fathom):
        subprocess.run(["swift", "build", "-c", "release", "--product", "fathom"], cwd=root, check=True)

    last_day = START + datetime.timedelta(days=args.days - 1)
    LAST_DAY = last_day.isoformat()
    first_now = f"{LAST_DAY}T06:00:00Z"
    next_day = (last_day + datetime.timedelta(days=1)).isoformat()
    nightly_now = f"{next_day}T06:00:00Z"
    suffix = "" if args.days == 31 and args.shape == "default" else f"-{args.days}d-{args.shape}"
    work = os.path.join(here, "work", f"sweep-{args.scale}{suffix}")
    sim = os.path.join(work, "sim")
    if simshape.stale(fathom, args.shape, os.path.join(sim, "expected.json")):
        shutil.rmtree(sim, ignore_errors=True)
        subprocess.run([fathom, "simulate", "--out", sim, "--days", str(args.days), "--start", START.isoformat(),
                        "--scale", str(args.scale), "--threads", str(args.jobs), "--shape", args.shape], check=True)
    files = sorted(p for p in glob.glob(os.path.join(sim, "*", "*")) if os.path.isfile(p))
    daily = [p for p in files if any(c.isdigit() for c in os.path.basename(p)) and "-2026-" in os.path.basename(p)]
    last = [p for p in daily if LAST_DAY in os.path.basename(p)]
    first30 = [p for p in files if p not in last and "/sbom/" not in p]
    if not last:
        sys.exit(f"no files of {LAST_DAY} in {sim}")

    site = os.path.join(work, "site")
    shutil.rmtree(site, ignore_errors=True)
    drops = os.path.join(site, "drops")
    os.makedirs(drops)
    shutil.copy(os.path.join(here, "sweep.yaml"), os.path.join(site, "sweep.yaml"))

    def link(paths):
        for path in paths:
            target = os.path.join(drops, os.path.relpath(path, sim))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(path, target)

    link(first30)
    warm(first30)
    sweep = [fathom, "sweep", "--config", "sweep.yaml", "--store", "store", "--timings"]
    first, first_rss, first_status, _ = run(sweep + ["--now", first_now], ok=(0, 10, 11), cwd=site)
    # The 30-day store, kept to restore before each nightly sweep: segments are immutable (hard
    # links), the catalog is copied.
    base = os.path.join(site, "store.base")
    os.rename(os.path.join(site, "store"), base)

    def restore():
        store = os.path.join(site, "store")
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(os.path.join(site, "Reports", "sweeps", next_day), ignore_errors=True)
        for folder, _, names in os.walk(base):
            target = os.path.join(store, os.path.relpath(folder, base))
            os.makedirs(target, exist_ok=True)
            for name in names:
                source = os.path.join(folder, name)
                if folder == base:
                    shutil.copy2(source, os.path.join(target, name))
                else:
                    os.link(source, os.path.join(target, name))

    link(last)
    warm(last)
    # (a) and (b) alternate, so that each pair runs in the same minute of a shared machine whose
    # speed drifts by a tenth or more from one minute to the next.
    fresh = os.path.join(work, "fresh")
    nightly_runs = []
    ingest_runs = []
    for _ in range(args.repeat):
        restore()
        nightly_runs.append(run(sweep + ["--now", nightly_now], ok=(0, 10, 11), cwd=site))
        shutil.rmtree(fresh, ignore_errors=True)
        os.makedirs(fresh)
        ingest_runs.append(run([fathom, "ingest", "--store", os.path.join(fresh, "store"), "--jobs", str(args.jobs)] + last,
                               cwd=fresh))
    nightly, nightly_rss, nightly_status, nightly_err = min(nightly_runs)
    ingest, ingest_rss, _, _ = min(ingest_runs)
    pair_ratios = sorted(a[0] / b[0] for a, b in zip(nightly_runs, ingest_runs))

    mb_first = sum(os.path.getsize(p) for p in first30) / 1e6
    mb_last = sum(os.path.getsize(p) for p in last) / 1e6
    print(f"simulation: {args.days} days, --scale {args.scale} --shape {args.shape}; first {args.days - 1} days "
          f"{len(first30)} files {mb_first:.0f} MB compressed, day {args.days} {len(last)} files {mb_last:.1f} MB "
          f"compressed; {os.cpu_count()} cores")
    print(f"{'step':<44}{'seconds':>9}{'peak RSS MB':>13}{'status':>8}")
    print(f"{f'first sweep ({args.days - 1} days, reference)':<44}{first:>9.2f}{first_rss:>13.0f}{first_status:>8}")
    print(f"{f'(a) nightly sweep of day {args.days} on top':<44}{nightly:>9.2f}{nightly_rss:>13.0f}{nightly_status:>8}")
    print(f"{f'(b) fathom ingest of day {args.days}, fresh store':<44}{ingest:>9.2f}{ingest_rss:>13.0f}{0:>8}")
    print(f"runs of (a): {', '.join(f'{r[0]:.2f}' for r in nightly_runs)}; of (b): {', '.join(f'{r[0]:.2f}' for r in ingest_runs)}")
    stages = [l for l in nightly_err.splitlines() if "stages:" in l]
    if stages:
        print("fastest (a) " + stages[0].split("fathom: ", 1)[-1])
    print(f"ratio (a)/(b): {nightly / ingest:.2f} (fastest of each); run by run, alternated: "
          f"{', '.join(f'{r:.2f}' for r in pair_ratios)}, median {statistics.median(pair_ratios):.2f}   "
          f"(a)/first sweep: {nightly / first:.3f}")
    # The budget (README, Performance): (a) at most twice (b), both sweeps under 300 MB.
    verdict = lambda ok: "met" if ok else "NOT MET"
    print(f"budget: (a) ≤ 2× (b): {verdict(nightly <= 2 * ingest)}; first sweep and nightly sweep < 300 MB: "
          f"{verdict(max(first_rss, nightly_rss) < 300)}")
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)


if __name__ == "__main__":
    main()
