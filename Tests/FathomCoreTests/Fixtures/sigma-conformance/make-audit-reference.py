#!/usr/bin/env python3
"""Writes audit-reference.json: which real audit-log events SigmaHQ's audit-log rules select, as pySigma decides.

Every rule of sigmahq-audit/ (SigmaHQ's rules/cloud/aws/cloudtrail, rules/application/kubernetes/audit,
rules/cloud/azure/activity_logs and rules/cloud/azure/audit_logs, copied unchanged; provenance in
README.md) is converted to SQL by pySigma's SQLite backend and run over the events of its log in
../audit/ (cloudtrail/ over cloudtrail-attack.jsonl, kubernetes/ over k8s-audit-real.jsonl, azure/
over azure-activity-real.jsonl: every line of the file, whatever its Azure category) in an in-memory
SQLite table; the 1-based line numbers selected are the reference that
AuditConformanceTests.sigmaHQAuditRulesMatchPySigma holds Fathom's engine to.

    pip install --target /tmp/pysig2 pysigma-backend-sqlite==2.1.1   # brings pySigma 2.0.1
    PYTHONPATH=/tmp/pysig2 python3 make-audit-reference.py > audit-reference.json

The table: one row per line of the log, one column per dotted path of the records, named as the
backend names fields (`requestParameters.bucketName`, which it quotes with backticks):
- a string, number or boolean leaf is its text (numbers and booleans as written in the JSON:
  `401`, `false`); JSON null is SQL NULL, as is a path the record does not have; '' stays '';
- an object is also a column at its own path, holding its compact JSON text (key order kept, the
  form the fixture lines are written in), so `requestParameters|contains: Suspended` works;
- a list (of scalars or of objects) is a column at its path holding its compact JSON text; nothing
  below a list gets a column (`resources.ARN` does not exist). A rule naming a field that runs
  through a list in any record of its log (a step after the list) cannot be represented: it is
  listed as skipped, with the reason. A rule naming a field that ends at a list is run against
  the list's JSON text (Sigma, and Fathom, would take any of its items);
- columns have TEXT affinity, so a number in a rule (`responseStatus.code: 401`) compares as text;
- a field the rule names that no record has is an all-NULL column.
SQLite compares column names ignoring ASCII case, so a key spelled differently in two records
(`operationName`, `operationname`) is one column, and a rule's `OperationName` reads it too (no
record here has two keys differing only in case at one path; the script stops if one does).
Rules whose conversion fails (keyword searches need a full-text column the backend asks the caller
to build) are listed as skipped with the backend's message. SQLite has no REGEXP of its own: it is
Python's `re.search` here, as in make-sqlite-reference.py. Time fields play no part (no rule's SQL
reads one).
"""
import json
import os
import re
import sqlite3
import sys
from importlib.metadata import version

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.rule import SigmaDetection, SigmaDetectionItem
from sigma.types import SigmaFieldReference

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "sigmahq-audit")
LOGS = {
    "cloudtrail": "cloudtrail-attack.jsonl",
    "kubernetes": "k8s-audit-real.jsonl",
    "azure": "azure-activity-real.jsonl",
}
LINE = "fathom_line"


def fold(name):
    """An identifier as SQLite compares it: ASCII letters ignoring case."""
    return name.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def flatten(record, where):
    """(columns: folded path -> (path, value), list paths: folded paths holding a list)."""
    columns = {}
    lists = set()

    def put(path, value):
        key = fold(path)
        if key in columns:
            sys.exit(f"{where}: two keys of one record are the same column: {columns[key][0]!r}, {path!r}")
        columns[key] = (path, value)

    def walk(value, path):
        if isinstance(value, dict):
            if path:
                put(path, compact(value))
            for key, member in value.items():
                walk(member, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            put(path, compact(value))
            lists.add(fold(path))
        elif value is None:
            put(path, None)
        elif isinstance(value, str):
            put(path, value)
        else:
            put(path, json.dumps(value))  # numbers and booleans as written

    walk(record, "")
    return columns, lists


def load(log):
    events = []
    with open(os.path.join(HERE, "..", "audit", log), encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                events.append((number,) + flatten(json.loads(line), f"{log}:{number}"))
    return events


def rule_fields(text):
    """The field names the rule's detections name (fieldref targets too)."""
    names = set()

    def visit(item):
        if isinstance(item, SigmaDetection):
            for child in item.detection_items:
                visit(child)
        elif isinstance(item, SigmaDetectionItem):
            if item.field:
                names.add(item.field)
            for value in item.value:
                if isinstance(value, SigmaFieldReference):
                    names.add(value.field)

    for rule in SigmaCollection.from_yaml(text).rules:
        for detection in rule.detection.detections.values():
            visit(detection)
    return names


def through_list(field, events):
    """Why the table cannot hold `field`, or None."""
    steps = field.split(".")
    for number, _, lists in events:
        for end in range(1, len(steps)):
            prefix = ".".join(steps[:end])
            if fold(prefix) in lists:
                return f"field '{field}' runs through the list '{prefix}' (line {number}); the flattened table has no column below a list"
    return None


def run(queries, fields, events):
    connection = sqlite3.connect(":memory:")
    connection.create_function(
        "REGEXP", 2, lambda pattern, value: value is not None and re.search(pattern, str(value)) is not None)
    names = {}
    for _, columns, _ in events:
        for key, (path, _) in columns.items():
            names.setdefault(key, path)
    for field in sorted(fields):
        names.setdefault(fold(field), field)
    order = sorted(names)
    connection.execute(f"CREATE TABLE logs ({LINE} INTEGER, "
                       + ", ".join('"' + names[key].replace('"', '""') + '" TEXT' for key in order) + ")")
    for number, columns, _ in events:
        connection.execute("INSERT INTO logs VALUES (?" + ", ?" * len(order) + ")",
                           [number] + [columns[key][1] if key in columns else None for key in order])
    selected = set()
    for query in queries:
        assert query.startswith("SELECT * FROM logs WHERE "), query
        for row in connection.execute(query.replace("SELECT *", f"SELECT {LINE}", 1)):
            selected.add(row[0])
    connection.close()
    return sorted(selected)


def main():
    backend = sqliteBackend()
    rules = {}
    for folder, log in LOGS.items():
        events = load(log)
        for name in sorted(os.listdir(os.path.join(RULES, folder))):
            if not name.endswith(".yml"):
                continue
            with open(os.path.join(RULES, folder, name), encoding="utf-8") as handle:
                text = handle.read()
            key = f"{folder}/{name}"
            try:
                queries = backend.convert(SigmaCollection.from_yaml(text))
            except Exception as error:  # pySigma's own errors: what the backend cannot express
                rules[key] = {"log": log, "skipped": f"conversion failed: {type(error).__name__}: {error}"}
                continue
            fields = rule_fields(text)
            reasons = [reason for reason in (through_list(field, events) for field in sorted(fields)) if reason]
            if reasons:
                rules[key] = {"log": log, "skipped": "; ".join(reasons), "sql": queries}
                continue
            rules[key] = {"log": log, "lines": run(queries, fields, events), "sql": queries}
    json.dump({"pysigma": version("pysigma"), "backend": "pysigma-backend-sqlite " + version("pysigma-backend-sqlite"),
               "rules": rules}, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()
