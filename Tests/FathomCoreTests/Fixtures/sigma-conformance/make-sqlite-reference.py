#!/usr/bin/env python3
"""Writes sqlite-reference.json: which events Sigma detections select, as pySigma decides.

Each detection is turned into a Sigma rule, converted to SQL by pySigma's SQLite backend and run
over the events below in an in-memory SQLite table; the 1-based numbers of the selected events
are the reference that DetectSigmaTests.sigmaMatchesPySigmaSQLite holds Fathom's engine to.
Events and detections live here only (the test reads them from the JSON).

    pip install --target /tmp/pysig2 pysigma-backend-sqlite==2.1.1   # brings pySigma 2.0.1
    PYTHONPATH=/tmp/pysig2 python3 make-sqlite-reference.py > sqlite-reference.json

SQLite has no REGEXP of its own: it is Python's `re.search` here, as pySigma's documentation
suggests for the backend. Keyword (full-text) searches need a full-text column the backend asks
the caller to build, so they are not in this set; nor are time comparisons (SQLite compares
RFC 3339 text, Fathom times).
"""
import json
import re
import sqlite3
import sys
from importlib.metadata import version

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection

EVENTS = [
    {"src_ip": "198.51.100.201", "operation": "REST.GET.OBJECT", "bucket": "ml-artifacts",
     "key": "models/fraud/v13.safetensors", "status": 200, "bytes": 5000, "user_agent": "curl/8.0"},
    {"src_ip": "10.1.2.3", "operation": "REST.PUT.OBJECT", "bucket": "ml-artifacts",
     "key": "models/fraud/v14.pt", "status": 200, "bytes": 100, "user_agent": "aws-cli/2"},
    {"src_ip": "203.0.113.150", "operation": "GetBlob", "bucket": "models", "key": "data/train*.csv",
     "status": 403, "user_agent": "Azure-Storage/12 (python)"},
    {"src_ip": "10.20.0.5", "operation": "DeleteBlob", "bucket": "models", "key": "aWdub3JlIHByZXZpb3Vz",
     "status": 202},
    {"src_ip": "192.0.2.44", "operation": "Run", "bucket": "tools", "key": "tool.exe \u2013enc ZQB4AA== /quiet",
     "status": 500, "bytes": 7},
    {"src_ip": "192.0.2.45", "operation": "Run", "bucket": "tools", "key": "tool.exe -quiet -Enc",
     "status": 500, "bytes": 0, "user_agent": "PowerShell/7.4"},
]

COLUMNS = ["src_ip", "operation", "bucket", "key", "status", "bytes", "user_agent"]

# Detection bodies (the lines under `detection:`), each with its condition.
DETECTIONS = [
    "sel:\n  src_ip: 198.51.100.201\ncondition: sel",
    "sel:\n  operation: rest.get.OBJECT\ncondition: sel",
    "sel:\n  key|contains: FRAUD\ncondition: sel",
    "sel:\n  key|startswith: models/\ncondition: sel",
    "sel:\n  key|endswith: .PT\ncondition: sel",
    "sel:\n  key: 'models/*/v1?.*'\ncondition: sel",
    "sel:\n  key: 'data/train\\*.csv'\ncondition: sel",
    "sel:\n  key|contains|all:\n    - fraud\n    - v13\ncondition: sel",
    "sel:\n  key|contains:\n    - v13\n    - train\ncondition: sel",
    "sel:\n  key|re: '^models/.*\\.(pt|safetensors)$'\ncondition: sel",
    "sel:\n  key|re: '^MODELS/'\ncondition: sel",
    "sel:\n  key|re|i: '^MODELS/'\ncondition: sel",
    "sel:\n  src_ip|cidr: 10.0.0.0/8\ncondition: sel",
    "sel:\n  src_ip|cidr:\n    - 10.0.0.0/8\n    - 192.0.2.0/24\ncondition: sel",
    "sel:\n  key|base64: ignore previous\ncondition: sel",
    "sel:\n  key|base64offset|contains: previous\ncondition: sel",
    "sel:\n  status|gte: 400\ncondition: sel",
    "sel:\n  status|lt: 203\ncondition: sel",
    "sel:\n  bytes|gt: 100\ncondition: sel",
    "sel:\n  bytes|lte: 100\ncondition: sel",
    "sel:\n  bytes: null\ncondition: sel",
    "sel:\n  user_agent|exists: false\ncondition: sel",
    "sel:\n  user_agent|exists: true\ncondition: sel",
    "sel:\n  status: 202\ncondition: sel",
    "a:\n  bucket: models\nb:\n  status: 403\ncondition: a and not b",
    "a:\n  bucket: models\nb:\n  status: 403\ncondition: not (a or b)",
    "sel_1:\n  status: 403\nsel_2:\n  bytes: 100\ncondition: 1 of sel_*",
    "sel_1:\n  bucket: ml-artifacts\nsel_2:\n  bytes: 100\ncondition: all of sel_*",
    "x:\n  bucket: ml-artifacts\ny:\n  status: 200\ncondition: all of them",
    "x:\n  - status: 403\n  - bytes: 100\ncondition: x",
    "sel:\n  key|windash|contains: '-enc'\ncondition: sel",
    "sel:\n  key|windash|contains|all:\n    - '-enc'\n    - '-quiet'\ncondition: sel",
    "sel:\n  key|contains|cased: Enc\ncondition: sel",
    "sel:\n  operation|startswith:\n    - rest.\n    - get\ncondition: sel",
    "sel:\n  user_agent|endswith: '(python)'\ncondition: sel",
    "x:\n  src_ip: 198.51.100.201\ny:\n  status: 403\nz:\n  bucket: models\ncondition: x or y and not z",
]


def rule(detection):
    body = "\n".join("  " + line for line in detection.split("\n"))
    return f"title: t\nlogsource: {{product: fathom, service: storage}}\ndetection:\n{body}\n"


def main():
    connection = sqlite3.connect(":memory:")
    connection.create_function(
        "REGEXP", 2, lambda pattern, value: value is not None and re.search(pattern, str(value)) is not None)
    connection.execute("CREATE TABLE logs (n INTEGER, " + ", ".join(f"`{c}`" for c in COLUMNS) + ")")
    for number, event in enumerate(EVENTS, start=1):
        connection.execute("INSERT INTO logs VALUES (?" + ", ?" * len(COLUMNS) + ")",
                           [number] + [event.get(c) for c in COLUMNS])
    backend = sqliteBackend()
    cases = []
    for detection in DETECTIONS:
        queries = backend.convert(SigmaCollection.from_yaml(rule(detection)))
        selected = set()
        for query in queries:
            for row in connection.execute(query.replace("SELECT *", "SELECT n", 1)):
                selected.add(row[0])
        cases.append({"detection": detection, "sql": queries, "events": sorted(selected)})
    json.dump({"pysigma": version("pysigma"), "backend": "pysigma-backend-sqlite " + version("pysigma-backend-sqlite"),
               "sqlite": sqlite3.sqlite_version, "columns": COLUMNS, "events": EVENTS, "cases": cases},
              sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()
