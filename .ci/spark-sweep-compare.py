#!/usr/bin/env python3
"""Compares the output folders of two nightly sweeps (.ci/spark-equivalence): the native sweep over
the watched archives and the sweep over the Spark job's results folders.

Every file (digests, incident reports) must be byte-identical once the recorded command line is
normalised — `fathom sweep …` in evidence.md, `command_line` in analysis.json / findings.json — and
the command line must be the only difference. The first night must report findings, and the
job's hits must really have been used: on the first night (nothing before it in the store) for
every rule the job computed, on the second for at least one (stderr of the results sweeps names
them: "hits from the Spark job: …").

Usage: spark-sweep-compare.py NATIVE_OUT SPARK_OUT RESULTS_NIGHT1 STDERR_NIGHT1 STDERR_NIGHT2"""
import json
import os
import re
import sys
from report_normalise import compare_reports

native, spark, results, *stderrs = sys.argv[1:]
failures = []



def files(root):
    found = set()
    for folder, _, names in os.walk(root):
        for name in names:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


names = sorted(files(native) | files(spark))
identical = compare_reports(native, spark, names, "sweep", failures)

digests = sorted(name for name in names if name.endswith("digest.json"))
if len(digests) < 2:
    failures.append(f"expected a digest per night, found {digests}")
for name in digests:
    digest = json.load(open(os.path.join(spark, name)))
    print(f"{name}: status {digest['status']}, {len(digest['findings'])} findings, {len(digest['newArchives'])} new archives")
    if not digest["findings"] and name == digests[0]:
        failures.append(f"{name}: the first night reports no finding: nothing was compared")

manifest = json.loads("".join(open(os.path.join(results, "manifest", f)).read()
                              for f in sorted(os.listdir(os.path.join(results, "manifest"))) if f.startswith("part-")))
for night, path in enumerate(stderrs, 1):
    used = []
    for line in open(path):
        if line.startswith("fathom: hits from the Spark job: "):
            used = line.split(": ", 2)[2].strip().split(", ")
    print(f"night {night}: hits from the job for {len(used)} rules: {', '.join(used)}")
    if night == 1 and sorted(used) != sorted(manifest["rules"]):
        failures.append(f"night 1 took the job's hits for {used}, expected every computed rule {manifest['rules']}")
    if night > 1 and not used:
        failures.append(f"night {night} took no hit from the job")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"sweep equivalence: {identical} of {len(names)} files byte-identical, the others only in the command line")
