#!/usr/bin/env python3
"""The Spark path next to the native path on one simulated scenario (issue #25).

Usage: Benchmarks/spark_bench.py [--scale 200000] [--days 2] [--cores 2] [--venv DIR]
                                 [--fathom PATH] [--native-fathom PATH]

1. `fathom simulate --out W/scenario --scale N --days D` (cached under Benchmarks/work/);
2. native: `fathom analyze scenario` (release build) — wall time;
3. Spark: `fathom spark-job`, then `spark-submit --master local[CORES] fathom_spark_job.py` —
   wall time, then `fathom analyze --from-results` — wall time;
4. the two report folders compared (.ci/spark-compare.py: byte-identical but for the command line,
   and the job's hits equal the native hits of the rules it computed, hit for hit);
5. throughput in compressed MB/s for both, and the cost model: executor-core-hours per TB of
   compressed evidence *measured at this small scale and extrapolated linearly* (labelled so).

The venv needs pyspark==3.5.3 and zstandard==0.23.0 (what .ci/spark-equivalence pins).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def timed(cmd, **kwargs):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.monotonic() - start


def size_of(folder, ignore=("README.md", "expected.json", "fathom-case.yaml", ".fathomignore")):
    total = 0
    for directory, _, files in os.walk(folder):
        if "/sbom" in directory:
            continue
        total += sum(os.path.getsize(os.path.join(directory, f)) for f in files if f not in ignore)
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=200000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--venv", default=os.path.join(here, "work", "spark-venv"))
    parser.add_argument("--fathom", default=os.path.join(root, ".build/debug/fathom"),
                        help="the build that writes the job and reads its results")
    parser.add_argument("--native-fathom", default=os.path.join(root, ".build/release/fathom"))
    parser.add_argument("--job-source", default=None,
                        help="run this fathom_spark_job.py instead of the one --fathom writes (e.g. the working tree's, "
                             "when --fathom is a release build made before it changed)")
    args = parser.parse_args()

    work = os.path.join(here, "work", f"spark-{args.scale}-{args.days}")
    os.makedirs(work, exist_ok=True)
    scenario = os.path.join(work, "scenario")
    if not os.path.exists(os.path.join(scenario, "expected.json")):
        subprocess.run([args.fathom, "simulate", "--out", scenario, "--scale", str(args.scale), "--days", str(args.days)],
                       check=True, stdout=subprocess.DEVNULL)
    # The answer key and the SBOMs are not evidence (as SampleData's .fathomignore says).
    with open(os.path.join(scenario, ".fathomignore"), "w") as handle:
        handle.write("expected.json\nsbom/*\n")
    if not os.path.exists(os.path.join(args.venv, "bin", "spark-submit")):
        subprocess.run([sys.executable, "-m", "venv", args.venv], check=True)
        subprocess.run([os.path.join(args.venv, "bin", "pip"), "install", "-q", "pyspark==3.5.3", "zstandard==0.23.0"], check=True)
    for name in ("native", "release", "spark", "job", "results", ".store-native", ".store-release", ".store-spark"):
        shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    now = "2030-01-01T00:00:00Z"
    compressed = size_of(scenario)

    # Throughput of the native path: the release build. The reports compared are written by the
    # same build that reads the Spark results (--fathom), so both sides are the same code.
    native = timed([args.native_fathom, "analyze", "scenario", "--store", ".store-release", "--out", "release", "--now", now,
                    "--jobs", str(args.cores)], cwd=work)
    native_reports = "native"
    if os.path.realpath(args.fathom) == os.path.realpath(args.native_fathom):
        native_reports = "release"  # the same build: its reports are the ones to compare
    else:
        timed([args.fathom, "analyze", "scenario", "--store", ".store-native", "--out", "native", "--now", now], cwd=work)
    subprocess.run([args.fathom, "spark-job", "--out", "job"], cwd=work,
                   check=True, stdout=subprocess.DEVNULL)
    if args.job_source:
        shutil.copyfile(args.job_source, os.path.join(work, "job", "fathom_spark_job.py"))
    env = dict(os.environ, PYSPARK_PYTHON=os.path.join(args.venv, "bin", "python"))
    spark = timed([os.path.join(args.venv, "bin", "spark-submit"), "--master", f"local[{args.cores}]", "--driver-memory", "2g",
                   "--conf", "spark.ui.enabled=false", "job/fathom_spark_job.py", "--out", "results", "scenario"], cwd=work, env=env)
    results_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(work, "results")) for f in fs)
    from_results = timed([args.fathom, "analyze", "--from-results", "results", "--store", ".store-spark", "--out", "spark", "--now", now], cwd=work)
    case_id = os.listdir(os.path.join(work, native_reports))[0]
    compare = subprocess.run([sys.executable, os.path.join(root, ".ci", "spark-compare.py"), os.path.join(work, native_reports, case_id),
                              os.path.join(work, "spark", case_id), os.path.join(work, "results")], capture_output=True, text=True)
    mb = compressed / 1e6
    core_hours_per_tb = spark * args.cores / 3600 * (1e12 / compressed)
    report = {
        "scenario": {"scale": args.scale, "days": args.days, "compressed_mb": round(mb, 1)},
        "native_analyze_s": round(native, 1), "native_mb_per_s": round(mb / native, 2),
        "spark_job_s": round(spark, 1), "spark_mb_per_s": round(mb / spark, 2), "spark_cores": args.cores,
        "results_mb": round(results_bytes / 1e6, 1), "analyze_from_results_s": round(from_results, 1),
        "extrapolated_core_hours_per_tb": round(core_hours_per_tb, 1),
        "equivalence": compare.stdout.strip().splitlines()[-2:] + ([compare.stderr.strip()] if compare.returncode else []),
    }
    print(json.dumps(report, indent=1))
    sys.exit(compare.returncode)


if __name__ == "__main__":
    main()
