#!/usr/bin/env python3
"""Compares the reports of the native and the Spark path (.ci/spark-equivalence).

Every file must be byte-identical once the recorded command line is normalised; the command line
must be the only difference. For every rule the job computes (the manifest lists them), the hits in
the Spark path's findings.json — the job's own hits, through the same secret-masking writer — must
equal the native findings.json hits of that rule, hit for hit, and their number the number of raw
hits the job wrote."""
import json
import os
import re
import sys
from report_normalise import compare_reports


def compare_hunts(native_path, spark_path, results):
    """`fathom hunt --rules` over the native store against `fathom hunt --from-results` over the
    loaded one (the job's hits for the rules it computed, Sigma rules included, through the same
    writer), hit for hit; and the job's own Sigma hits against the native hits of those rules. `fields.input_hash` is left
    out: the job's rows carry a BLAKE2b digest of the request body, not the native hash (both are
    only ever compared with each other, for equality and distinct counts)."""
    def load(path):
        hits = [json.loads(line) for line in open(path) if line.strip()]
        for hit in hits:
            if isinstance(hit.get("fields"), dict) and "input_hash" in hit["fields"]:
                hit["fields"]["input_hash"] = "<hash>"
        return hits
    native, spark = load(native_path), load(spark_path)
    manifest = json.loads("".join(open(os.path.join(results, "manifest", f)).read()
                                  for f in sorted(os.listdir(os.path.join(results, "manifest"))) if f.startswith("part-")))
    sigma_rules = set(manifest.get("sigma_rules") or [])
    job = []
    folder = os.path.join(results, "sigma-hits")
    for f in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if f.startswith("part-"):
            job += [json.loads(line) for line in open(os.path.join(folder, f)) if line.strip()]
    for hit in job:
        if "input_hash" in (hit.get("fields") or {}):
            hit["fields"]["input_hash"] = "<hash>"
    failures = []

    def key(hit):
        return json.dumps(hit, sort_keys=True)
    if sorted(map(key, native)) != sorted(map(key, spark)):
        a, b = set(map(key, native)), set(map(key, spark))
        failures.append(f"hunt: {len(a - b)} hits only native, {len(b - a)} only with --from-results; "
                        f"e.g. {sorted(a - b)[:1]} / {sorted(b - a)[:1]}")
    # The job's own Sigma hits (unmasked; the hunt writer masks secrets in fields) against the
    # native hits of the same rules: the same events, rule by rule.
    native_sigma = [h for h in native if h["rule"] in sigma_rules]

    def event(hit):
        return json.dumps([hit["rule"], hit["evidence"], hit.get("time")], sort_keys=True)
    if sorted(map(event, job)) != sorted(map(event, native_sigma)):
        failures.append(f"the job's {len(job)} Sigma hits are not the events of the {len(native_sigma)} native hits of {sorted(sigma_rules)}")
    for rule in sorted(sigma_rules):
        print(f"  sigma {rule}: {sum(1 for h in job if h['rule'] == rule)} hits from Spark, "
              f"{sum(1 for h in native_sigma if h['rule'] == rule)} native")
    for entry in manifest.get("sigma_skipped") or []:
        print(f"  sigma {entry['id']}: run natively ({entry['reason']}), {sum(1 for h in native if h['rule'] == entry['id'])} hits")
    print(f"hunt: {len(native)} hits native, {len(spark)} with --from-results ({len(job)} Sigma hits from Spark, "
          f"{len(sigma_rules)} Sigma rules compiled)")
    if not sigma_rules:
        failures.append("the job compiled no Sigma rule")
    if failures:
        print("\n".join("FAIL " + f for f in failures))
        sys.exit(1)
    print("spark-equivalence (hunt): OK")


if sys.argv[1] == "--hunt":
    compare_hunts(*sys.argv[2:5])
    sys.exit(0)

# --require-ported-hits (spark-equivalence): the ported beyond-playbook rules must have hits to
# compare; a benchmark scenario may have none of them.
require_ported_hits = "--require-ported-hits" in sys.argv
arguments = [a for a in sys.argv[1:] if a != "--require-ported-hits"]
native, spark, results = arguments[0:3]
failures = []



names = sorted(set(os.listdir(native)) | set(os.listdir(spark)))
identical = compare_reports(native, spark, names, "analyze", failures)

# The job's hits against the native hits of the same rules.
manifest = json.loads("".join(open(os.path.join(results, "manifest", f)).read()
                              for f in sorted(os.listdir(os.path.join(results, "manifest"))) if f.startswith("part-")))
spark_rules = set(manifest["rules"])
spark_hits = []
for f in sorted(os.listdir(os.path.join(results, "hits"))):
    if f.startswith("part-"):
        spark_hits += [json.loads(line) for line in open(os.path.join(results, "hits", f)) if line.strip()]
raw_hits = spark_hits
spark_hits = [h for h in json.load(open(os.path.join(spark, "findings.json")))["hits"] if h["rule"] in spark_rules]
native_hits = [h for h in json.load(open(os.path.join(native, "findings.json")))["hits"] if h["rule"] in spark_rules]
if len(raw_hits) != len(spark_hits):
    failures.append(f"the job wrote {len(raw_hits)} hits of its rules, the Spark path's findings.json holds {len(spark_hits)}")


def key(hit):
    return json.dumps(hit, sort_keys=True)


if sorted(map(key, spark_hits)) != sorted(map(key, native_hits)):
    only_spark = set(map(key, spark_hits)) - set(map(key, native_hits))
    only_native = set(map(key, native_hits)) - set(map(key, spark_hits))
    failures.append(f"hits of {sorted(spark_rules)}: {len(only_spark)} only from Spark, {len(only_native)} only native; "
                    f"e.g. {sorted(only_spark)[:1]} / {sorted(only_native)[:1]}")
counts = {}
for hit in spark_hits:
    counts[hit["rule"]] = counts.get(hit["rule"], 0) + 1
for rule in sorted(spark_rules):
    print(f"  {rule}: {counts.get(rule, 0)} hits from Spark, {sum(1 for h in native_hits if h['rule'] == rule)} native")
# The rules ported from the beyond-playbook set have hits to compare in every run (SampleData's
# LLM responses and the .ci/fixtures records added to it), so "hit for hit" is not vacuous.
for rule in ("audit.control-plane", "llm.sensitive-output") if require_ported_hits else ():
    if rule not in spark_rules:
        failures.append(f"{rule}: not among the rules the job computed")
    elif counts.get(rule, 0) == 0:
        failures.append(f"{rule}: no hit to compare")
# The aggregates: every extraction.volume hit is its (src_ip, bucket) tally over the threshold,
# and the decision tallies add up to the job's predictions rows, request ids included.
def jsonl(folder):
    found = []
    for f in sorted(os.listdir(folder)):
        if f.startswith("part-"):
            opener = __import__("gzip").open if f.endswith(".gz") else open
            found += [json.loads(line) for line in opener(os.path.join(folder, f), "rt") if line.strip()]
    return found


def nanos(text):
    import datetime
    moment = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000


tallies = {(row["src_ip"], row["bucket"]): row for row in jsonl(os.path.join(results, "aggregates", "extraction-jsonl"))}
for hit in raw_hits:
    if hit["rule"] == "extraction.volume":
        tally = tallies.get((hit["key"]["src_ip"], nanos(hit["window"]["start"])))
        if tally is None or (tally["query_count"], tally["distinct_inputs"]) != (hit["metrics"]["query_count"], hit["metrics"]["distinct_inputs"]):
            failures.append(f"extraction aggregate disagrees with hit {hit['key']} {hit['window']}: {tally}")
predictions = os.path.join(results, "rows", "kind=predictions")
rows = [row for day in sorted(os.listdir(predictions)) if day.startswith("day=") and day != "day=undated"
        for row in jsonl(os.path.join(predictions, day))] if os.path.isdir(predictions) else []
decisions = jsonl(os.path.join(results, "aggregates", "decisions-jsonl"))
if sum(d["decisions"] for d in decisions) != len(rows) or \
        sorted(i for d in decisions for i in d["request_ids"]) != sorted(r.get("request_id") or "" for r in rows):
    failures.append(f"decision aggregates: {sum(d['decisions'] for d in decisions)} decisions, the job's rows hold {len(rows)}")
print(f"aggregates: {len(tallies)} extraction tallies, {len(decisions)} decision minutes "
      f"({sum(d['decisions'] for d in decisions)} decisions), {len(jsonl(os.path.join(results, 'aggregates', 'exposure-jsonl')))} exposure groups")
print(f"{identical} of {len(names)} report files byte-identical; Spark computed {len(spark_hits)} hits of "
      f"{len(spark_rules)} rules ({', '.join(sorted(spark_rules)) or 'none'}), native has {len(native_hits)}")
if failures:
    print("\n".join("FAIL " + f for f in failures))
    sys.exit(1)
print("spark-equivalence: OK")
