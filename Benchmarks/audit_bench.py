#!/usr/bin/env python3
"""What keeping every audit record costs: ingest speed and store size of CloudTrail and Kubernetes
audit logs, before (a build that kept only the AI/ML events of them) and after (every record as
an audit row with the whole record), against `zstd -d` of the same archives (the floor), and a
SigmaHQ rule hunted from the store against DuckDB running the same query over the raw archives.

Usage:
    python3 Benchmarks/audit_bench.py --old OLD_FATHOM --new NEW_FATHOM [--records N] [--runs R]

The evidence is generated from the real third-party records of
Tests/FathomCoreTests/Fixtures/audit (CloudTrail and Kubernetes audit; provenance there), in a hard
shape: 20,000 source addresses, 5,000 identities, a unique event and request id per record, unique
request parameters, and 1 % of records with hostile user agents (2 KB, bidirectional controls,
escaped control characters). Written once to Benchmarks/work/audit-<N>/ as zstd JSON Lines.

Prints a Markdown table and writes Benchmarks/work/audit-results.json. DuckDB comes from PyPI
(Benchmarks/work/pydeps, as perf_bench.py installs it).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "FathomCoreTests", "Fixtures")
WORK = os.path.join(ROOT, "Benchmarks", "work")

parser = argparse.ArgumentParser()
parser.add_argument("--old", required=True)
parser.add_argument("--new", required=True)
parser.add_argument("--records", type=int, default=1_000_000, help="CloudTrail records (Kubernetes: half as many)")
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()


def templates(path, keep):
    result = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if keep(number, json.loads(line)):
                result.append(json.loads(line))
    return result


def generate(folder, records):
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(7)
    # CloudTrail lines with an ISO eventTime (1–26), plus the S3 and Bedrock events of the format fixture.
    trail = templates(os.path.join(FIXTURES, "audit", "cloudtrail-attack.jsonl"), lambda n, _: n <= 26)
    with open(os.path.join(FIXTURES, "formats", "cloudtrail.json")) as handle:
        trail += json.load(handle)["Records"]
    # Kubernetes: the timestamped real events and the format fixture's events.
    kube = templates(os.path.join(FIXTURES, "audit", "k8s-audit-real.jsonl"), lambda n, _: n >= 11)
    kube += templates(os.path.join(FIXTURES, "formats", "k8s-audit.jsonl"), lambda n, _: True)
    addresses = [f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(20_000)]
    identities = [f"user-{i:05d}" for i in range(5_000)]
    hostile = ["A" * 2048, "curl/8 \u202e\u2066evil\u2069", "agent\u0000\u001b[31mred\u001b[0m", "\\u0000 \"quoted\" </script>"]
    start = 1_772_000_000  # 2026-02-25

    def stamp(i, total):
        seconds = start + i * (7 * 86400) // total
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

    # Mostly the reads and routine calls real trails are made of, a few control-plane actions: each
    # template's weight is 40 for reads (Get/List/Describe/ConsoleLogin, Kubernetes get/list/watch),
    # else 1.
    def weight(record):
        name = record.get("eventName") or record.get("verb") or ""
        return 40 if name.startswith(("Get", "List", "Describe", "Console", "get", "list", "watch")) else 1

    per_file = 100_000
    for kind, base, total in (("cloudtrail", trail, records), ("k8s", kube, records // 2)):
        base = [record for record in base for _ in range(weight(record))]
        for part in range(0, total, per_file):
            path = os.path.join(folder, f"{kind}-{part // per_file:03d}.jsonl")
            with open(path, "w") as out:
                for i in range(part, min(total, part + per_file)):
                    record = json.loads(json.dumps(rng.choice(base)))
                    who = rng.choice(identities)
                    if kind == "cloudtrail":
                        record["eventTime"] = stamp(i, total)
                        record["eventID"] = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
                        record["requestID"] = f"{rng.getrandbits(64):016x}"
                        record["sourceIPAddress"] = rng.choice(addresses)
                        identity = record.setdefault("userIdentity", {})
                        identity["arn"] = f"arn:aws:iam::111122223333:user/{who}"
                        identity["userName"] = who
                        parameters = record.get("requestParameters")
                        if isinstance(parameters, dict):
                            parameters["clientToken"] = f"{rng.getrandbits(80):020x}"
                            # Object keys are data, not model artifacts, but for one read in a thousand.
                            if "key" in parameters and rng.random() >= 0.001:
                                parameters["key"] = f"data/part-{rng.getrandbits(32):08x}.parquet"
                        if rng.random() < 0.01:
                            record["userAgent"] = rng.choice(hostile)
                    else:
                        record.pop("stageTimestamp", None)
                        record["requestReceivedTimestamp"] = stamp(i, total)
                        record["auditID"] = f"{i:08x}-{rng.getrandbits(64):016x}"
                        record["user"] = {"username": who, "groups": ["system:authenticated"]}
                        record["sourceIPs"] = [rng.choice(addresses)]
                        if rng.random() < 0.01:
                            record["userAgent"] = rng.choice(hostile)
                    out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
            subprocess.run(["zstd", "-q", "-3", "--rm", "-f", path], check=True)


def timed(command, **kwargs):
    """Wall and CPU seconds and peak RSS (MB) of one command, measured by GNU time so the figure is
    the command's own, not the benchmark's forked image."""
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kwargs)
    _, error = proc.communicate()
    wall = time.monotonic() - start
    if proc.returncode not in (0, 6):
        sys.exit(f"{command[0]} exited {proc.returncode}: {error.decode()[-2000:]}")
    rss_kb, user, system = error.decode().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss_kb) / 1024


def size(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total


folder = os.path.join(WORK, f"audit-{args.records}")
if not os.path.isdir(folder):
    generate(folder, args.records)
archives = sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".zst"))
compressed = sum(os.path.getsize(path) for path in archives)
uncompressed = 0
for path in archives:
    with subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE) as reader:
        while chunk := reader.stdout.read(1 << 20):
            uncompressed += len(chunk)
work = tempfile.mkdtemp(prefix="audit-bench-")
results = {"records": args.records, "kubernetes_records": args.records // 2, "compressed_bytes": compressed,
           "uncompressed_bytes": uncompressed, "runs": {}}


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


runs = {"zstd -d": [], "old ingest": [], "new ingest": [], "new hunt: the 2 SigmaHQ rules": [],
        "duckdb: the same 2 rules from raw": [], "new hunt: all rules": []}
SIGMA_IDS = ["4db60cc0-36fb-42b7-9b58-a5b53019fb74", "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2"]
stores = {}
for _ in range(args.runs):
    runs["zstd -d"].append(timed(["sh", "-c", "for f in \"$@\"; do zstd -dc \"$f\" > /dev/null; done", "zstd", *archives]))
    for label, exe in (("old ingest", args.old), ("new ingest", args.new)):
        store = os.path.join(work, label.split()[0])
        shutil.rmtree(store, ignore_errors=True)
        runs[label].append(timed([exe, "ingest", folder, "--store", store, "--json"]))
        stores[label] = store
    rules = os.path.join(work, "rules")
    if not os.path.isdir(rules):
        os.makedirs(rules)
        for name in ("aws_cloudtrail_disable_logging.yml", "aws_iam_backdoor_users_keys.yml"):
            shutil.copy(os.path.join(FIXTURES, "sigmahq", name), rules)
    only = [part for rule in SIGMA_IDS for part in ("--rule", rule)]
    runs["new hunt: the 2 SigmaHQ rules"].append(timed([args.new, "hunt", "--store", stores["new ingest"], "--rules", rules,
                                                        "--format", "jsonl", *only]))
    runs["new hunt: all rules"].append(timed([args.new, "hunt", "--store", stores["new ingest"], "--rules", rules,
                                              "--format", "jsonl"]))
    query = os.path.join(work, "duck.py")
    with open(query, "w") as handle:
        handle.write(f"""
import duckdb
files = {[path for path in archives if "cloudtrail" in os.path.basename(path)]!r}
con = duckdb.connect()
rows = con.execute('''
    SELECT count(*) FROM read_json(?, format='newline_delimited', compression='zstd', ignore_errors=true,
        columns={{'eventSource': 'VARCHAR', 'eventName': 'VARCHAR', 'userIdentity': 'JSON', 'responseElements': 'JSON'}})
    WHERE (eventSource = 'cloudtrail.amazonaws.com' AND eventName IN ('StopLogging', 'UpdateTrail', 'DeleteTrail'))
       OR (eventSource = 'iam.amazonaws.com' AND eventName = 'CreateAccessKey'
           AND NOT coalesce(json_extract_string(userIdentity, '$.arn') LIKE '%responseElements.accessKey.userName%', false))
''', [files]).fetchall()
print(rows)
""")
    env = dict(os.environ, PYTHONPATH=os.path.join(WORK, "pydeps"))
    runs["duckdb: the same 2 rules from raw"].append(timed([sys.executable, query], env=env))

# The two sides must agree on the answer, not only be timed.
only = [part for rule in SIGMA_IDS for part in ("--rule", rule)]
fathom_hits = subprocess.run([args.new, "hunt", "--store", stores["new ingest"], "--rules", rules, "--format", "jsonl", *only],
                             capture_output=True).stdout.decode().count("\n")
duck_rows = subprocess.run([sys.executable, query], capture_output=True, env=env).stdout.decode().strip()
results["answers"] = {"fathom_hits": fathom_hits, "duckdb": duck_rows}
results["store_bytes"] = {label: size(store) for label, store in stores.items()}
for label, values in runs.items():
    results["runs"][label] = {"wall_s": median([v[0] for v in values]), "cpu_s": median([v[1] for v in values]),
                              "peak_rss_mb": max(v[2] for v in values)}
floor = results["runs"]["zstd -d"]["wall_s"]
print(f"{args.records:,} CloudTrail + {args.records // 2:,} Kubernetes audit records, "
      f"{compressed / 1e6:.0f} MB zstd / {uncompressed / 1e6:.0f} MB uncompressed; medians of {args.runs} runs\n")
print("| what | wall s | CPU s | × zstd -d | MB/s uncompressed | peak RSS MB | store MB |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, value in results["runs"].items():
    store = results["store_bytes"].get(label)
    print(f"| {label} | {value['wall_s']:.2f} | {value['cpu_s']:.2f} | {value['wall_s'] / floor:.1f} | "
          f"{uncompressed / 1e6 / value['wall_s']:.0f} | {value['peak_rss_mb']:.0f} | "
          f"{'' if store is None else f'{store / 1e6:.0f}'} |")
print(f"\nAnswers: Fathom {fathom_hits} hits, DuckDB {duck_rows}")
with open(os.path.join(WORK, "audit-results.json"), "w") as handle:
    json.dump(results, handle, indent=2, sort_keys=True)
shutil.rmtree(work, ignore_errors=True)
