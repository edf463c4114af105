#!/usr/bin/env python3
"""The five playbook detections written for DuckDB, over the raw archives of a `fathom simulate` scenario.

Usage: Benchmarks/playbook_duckdb.py SCENARIO_DIR [--out answers.json] [--threads N]

This is the peer of the performance benchmark: what a responder with DuckDB (PyPI `duckdb`) would
run over the same compressed files, with the playbook's default semantics (ARCHITECTURE.md,
"Detections"; `fathom rules show ID`):

- extraction.volume: gateway JSON Lines + nginx access logs, paths containing /predict, /inference
  or /completions, per client address per UTC hour, QueryCount > 1000 or DistinctInputs > 500.
- artifact.external-access: S3 server access logs + Azure blob resource logs, key matching
  model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl), object get/put/delete, caller outside
  10.0.0.0/8 and 192.168.0.0/16.
- prompt.injection-phrase: the last user message of each LLM gateway exchange containing one of the
  ten phrases (case-insensitive).
- pipeline.burst: retrain/deploy/modify_data/update_config per (user, action, pipeline, UTC day),
  hit when count > mean + 2 * sample stdev of that (pipeline, action).
- registry.change: Kubernetes audit deploys (rollbacks when the image tag's version number goes down)
  and the MLflow registry's registrations and stage transitions. DuckDB's sqlite extension must be
  downloaded from the network, which this machine does not have, so the MLflow tables are read
  with Python's sqlite3 and handed to DuckDB (a few hundred rows; not a measurable cost).

Answers are printed (or written with --out) as JSON normalised the same way as
`perf_bench.py` normalises `fathom hunt --format jsonl`, so the two can be compared exactly.
"""
import argparse
import glob
import json
import os
import sqlite3
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "work", "pydeps"))
import duckdb  # noqa: E402

PHRASES = ["ignore previous instructions", "ignore above", "system prompt", "you are now", "disregard",
           "bypass", "jailbreak", "DAN mode", "developer mode", "reveal your instructions"]


def files(root, pattern):
    found = sorted(glob.glob(os.path.join(root, pattern)))
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in found) + "]" if found else None


# Regular expressions for the line-oriented logs (nginx combined, S3 server access).
NGINX_LINE = r'^(\S+) \S+ \S+ \[([^\]]+)\] "\S+ (\S+)'
S3_LINE = r'^\S+ \S+ \[([^\]]+)\] (\S+) \S+ \S+ (\S+) (\S+)'


def log_lines(paths, pattern, names):
    """SQL rows of a line-oriented log: one struct `m` per line of the `pattern` captures named `names`.

    Lines are read whole (no delimiter, no quoting) and split by one regular expression."""
    return f"""(SELECT regexp_extract(line, '{pattern}', {names}) AS m
                  FROM read_csv({paths}, columns={{'line': 'VARCHAR'}}, delim='\\x1f', quote='', escape='',
                                header=false, auto_detect=false))"""


def extraction(con, root):
    gateway = files(root, "inference/*.jsonl.zst")
    nginx = files(root, "inference/*.log.gz")
    parts = []
    if gateway:
        parts.append(f"""
            SELECT try_cast("timestamp" AS TIMESTAMPTZ) AS t, client_ip AS ip, path, request_body AS body
            FROM read_json({gateway}, format='newline_delimited', ignore_errors=true,
                           columns={{'timestamp': 'VARCHAR', 'client_ip': 'VARCHAR', 'path': 'VARCHAR',
                                     'request_body': 'VARCHAR'}})""")
    if nginx:
        parts.append(f"""
            SELECT strptime(m.ts, '%d/%b/%Y:%H:%M:%S %z') AS t, m.ip, url_decode(m.path) AS path, NULL AS body
            FROM {log_lines(nginx, NGINX_LINE, ['ip', 'ts', 'path'])}""")
    if not parts:
        return []
    rows = con.sql(f"""
        WITH inf AS ({' UNION ALL '.join(parts)})
        SELECT ip, strftime(date_trunc('hour', t), '%Y-%m-%dT%H:%M:%SZ') AS hour,
               count(*) AS queries, count(DISTINCT body) AS inputs
        FROM inf
        WHERE t IS NOT NULL AND regexp_matches(path, '(?i)/predict|/inference|/completions')
        GROUP BY ip, hour
        HAVING count(*) > 1000 OR count(DISTINCT body) > 500
        ORDER BY hour, ip""").fetchall()
    return [list(r) for r in rows]


def artifact(con, root):
    s3 = files(root, "storage/*.log.zst")
    azure = files(root, "storage/*.json.gz")
    parts = []
    if s3:
        parts.append(f"""
            SELECT strptime(m.ts, '%d/%b/%Y:%H:%M:%S %z') AS t, m.ip, m.op, url_decode(m.key) AS key
            FROM {log_lines(s3, S3_LINE, ['ts', 'ip', 'op', 'key'])}""")
    if azure:
        parts.append(f"""
            SELECT try_cast(r.time AS TIMESTAMPTZ) AS t,
                   CASE WHEN r.callerIpAddress LIKE '[%' THEN regexp_extract(r.callerIpAddress, '^\\[([^\\]]*)\\]', 1)
                        WHEN length(r.callerIpAddress) - length(replace(r.callerIpAddress, ':', '')) = 1
                        THEN split_part(r.callerIpAddress, ':', 1) ELSE r.callerIpAddress END AS ip,
                   r.operationName AS op,
                   url_decode(regexp_extract(r.properties.objectKey, '^/[^/]*/[^/]*/(.*)$', 1)) AS key
            FROM (SELECT unnest(records) AS r
                  FROM read_json({azure}, format='auto', maximum_object_size=1073741824,
                                 columns={{'records': 'STRUCT(time VARCHAR, callerIpAddress VARCHAR, operationName VARCHAR, properties STRUCT(objectKey VARCHAR))[]'}}))""")
    if not parts:
        return []
    rows = con.sql(f"""
        WITH st AS ({' UNION ALL '.join(parts)})
        SELECT strftime(t, '%Y-%m-%dT%H:%M:%S.%fZ') AS time, ip, key
        FROM st
        WHERE regexp_matches(key, '(?i)model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl)')
          AND lower(op) IN ('rest.get.object', 'rest.put.object', 'rest.delete.object',
                            'getblob', 'putblob', 'deleteblob')
          AND NOT (starts_with(ip, '10.') OR starts_with(ip, '192.168.'))
        ORDER BY time, ip, key""").fetchall()
    return [list(r) for r in rows]


def injection(con, root):
    llm = files(root, "llm/*.jsonl.zst")
    if not llm:
        return []
    condition = " OR ".join(f"contains(lower(prompt), '{p.lower()}')" for p in PHRASES)
    rows = con.sql(f"""
        WITH llm AS (
            SELECT try_cast("timestamp" AS TIMESTAMPTZ) AS t, "user" AS principal,
                   coalesce(list_filter(request.messages, lambda m: m.role = 'user')[-1].content, request.prompt) AS prompt
            FROM read_json({llm}, format='newline_delimited', ignore_errors=true,
                           columns={{'timestamp': 'VARCHAR', 'user': 'VARCHAR',
                                     'request': 'STRUCT(messages STRUCT(role VARCHAR, content VARCHAR)[], prompt VARCHAR)'}}))
        SELECT strftime(t, '%Y-%m-%dT%H:%M:%S.%fZ') AS time, principal
        FROM llm WHERE {condition}
        ORDER BY time, principal""").fetchall()
    return [list(r) for r in rows]


def burst(con, root):
    pipeline = files(root, "pipeline/*.jsonl.zst")
    if not pipeline:
        return []
    rows = con.sql(f"""
        WITH counts AS (
            SELECT "user", action, pipeline, date_trunc('day', try_cast("timestamp" AS TIMESTAMPTZ)) AS day, count(*) AS n
            FROM read_json({pipeline}, format='newline_delimited', ignore_errors=true,
                           columns={{'timestamp': 'VARCHAR', 'user': 'VARCHAR', 'action': 'VARCHAR', 'pipeline': 'VARCHAR'}})
            WHERE lower(action) IN ('retrain', 'deploy', 'modify_data', 'update_config')
            GROUP BY ALL),
        stats AS (SELECT pipeline, action, avg(n) AS mean, stddev_samp(n) AS sd FROM counts GROUP BY ALL)
        SELECT c."user", c.action, c.pipeline, strftime(c.day, '%Y-%m-%d') AS day, c.n
        FROM counts c JOIN stats s USING (pipeline, action)
        WHERE s.sd IS NOT NULL AND c.n > s.mean + 2 * s.sd
        ORDER BY day, c."user", c.action, c.pipeline""").fetchall()
    return [list(r) for r in rows]


def registry(con, root):
    changes = []
    k8s = files(root, "registry/*.jsonl.gz")
    if k8s:
        rows = con.sql(f"""
            SELECT try_cast(coalesce(stageTimestamp, requestReceivedTimestamp) AS TIMESTAMPTZ) AS t,
                   objectRef.namespace AS env, objectRef.name AS model, verb, objectRef.subresource AS sub,
                   regexp_extract(coalesce(requestObject.spec.template.spec.containers[1].image,
                                           responseObject.spec.template.spec.containers[1].image), ':([^:/]+)$', 1) AS version
            FROM read_json({k8s}, format='newline_delimited', ignore_errors=true,
                           columns={{'stageTimestamp': 'VARCHAR', 'requestReceivedTimestamp': 'VARCHAR', 'verb': 'VARCHAR',
                                     'stage': 'VARCHAR', 'responseStatus': 'STRUCT(code INTEGER)',
                                     'objectRef': 'STRUCT(resource VARCHAR, subresource VARCHAR, name VARCHAR, namespace VARCHAR)',
                                     'requestObject': 'STRUCT(spec STRUCT(template STRUCT(spec STRUCT(containers STRUCT(image VARCHAR)[]))))',
                                     'responseObject': 'STRUCT(spec STRUCT(template STRUCT(spec STRUCT(containers STRUCT(image VARCHAR)[]))))'}})
            WHERE stage = 'ResponseComplete' AND responseStatus.code BETWEEN 200 AND 299
              AND objectRef.resource IN ('deployments', 'statefulsets', 'inferenceservices', 'seldondeployments')
              AND verb IN ('create', 'update', 'patch')
            ORDER BY t""").fetchall()
        previous = {}
        for t, env, model, verb, sub, version in rows:
            if sub == "rollback":
                changes.append("rollback")
                continue
            if sub or not version:
                continue
            kind = "deploy"
            digits = version.lstrip("vV")
            if digits.isdigit():
                key = f"{env}/{model}"
                if key in previous and int(digits) < previous[key]:
                    kind = "rollback"
                previous[key] = int(digits)
            changes.append(kind)
    db = os.path.join(root, "registry", "mlflow.db")
    if os.path.exists(db):
        lite = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
        models = lite.execute("SELECT count(*) FROM registered_models").fetchone()[0]
        versions = lite.execute("SELECT status, current_stage FROM model_versions").fetchall()
        lite.close()
        con.execute("CREATE OR REPLACE TEMP TABLE mlflow_versions (status VARCHAR, stage VARCHAR)")
        con.executemany("INSERT INTO mlflow_versions VALUES (?, ?)", versions)
        ok = "(status IS NULL OR upper(status) = 'READY')"
        registered, staged = con.sql(f"""
            SELECT count(*) FILTER (WHERE {ok}),
                   count(*) FILTER (WHERE {ok} AND stage IS NOT NULL AND stage <> '' AND lower(stage) <> 'none')
            FROM mlflow_versions""").fetchall()[0]
        changes += ["registration"] * (models + registered) + ["stage_transition"] * staged
    counts = {}
    for kind in changes:
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def answers(root, threads=None):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return {
        "extraction.volume": extraction(con, root),
        "artifact.external-access": artifact(con, root),
        "prompt.injection-phrase": injection(con, root),
        "pipeline.burst": burst(con, root),
        "registry.change": registry(con, root),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--out")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    result = json.dumps(answers(args.scenario, args.threads), indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(result + "\n")
    else:
        print(result)


if __name__ == "__main__":
    main()
