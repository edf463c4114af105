#!/usr/bin/env python3
"""Fathom's Apache Spark job, written by `fathom spark-job` beside `fathom-spec.json`.

It reads evidence archives from any URL Spark reads (file://, hdfs://, s3a://, abfss://, gs://),
decodes them into Fathom's canonical rows with the field names, paths and tables exported from
the Swift definitions (fathom-spec.json: one source of truth, nothing re-typed here), runs the
playbook detections in Spark SQL and writes what `fathom analyze --from-results DIR` reads:

    DIR/manifest.json         the job: spec and tool version, inputs, rules computed here
    DIR/archives.jsonl        one line per archive: display path, size, mtime, SHA-256, members
    DIR/rows/kind=K/day=D/    canonical rows, JSON Lines (gzip), partitioned by source kind and UTC day
    DIR/hits.jsonl            hits of the rules computed here, in Fathom's hit schema
    DIR/sigma-hits/           hits of the Sigma rules compiled to Spark SQL (fathom-spec.json "sigma")

Compression: gzip (every member) and zstd (every frame; the `zstandard` wheel on the executors)
are decompressed by the job itself, so the same code runs whatever Hadoop codecs a cluster has;
tar bundles (plain, .tar.gz, .tar.zst) are read member by member. Formats: json (generic JSON
Lines), llm-gateway, access-log, s3-access-log, azure-storage (records envelopes), k8s-audit
(native events) and mlflow (SQLite); an input in another format is listed in archives.jsonl as
`unsupported-in-spark` and `fathom analyze --from-results` reports it (exit status 2).

Usage:
    spark-submit fathom_spark_job.py --spec fathom-spec.json --out RESULTS INPUT...
"""

import argparse
import datetime
import fnmatch
import gzip
import hashlib
import io
import json
import math
import os
import posixpath
import re
import sqlite3
import sys
import tarfile
import tempfile
import urllib.parse

SPEC_VERSION = 1

# ---------------------------------------------------------------------------------------------
# Values


class RawNumber(str):
    """A JSON number kept as its spelling (Fathom writes numbers into text columns as spelled)."""


def _first_wins(pairs):
    """An object's members as a dict in document order; of duplicate keys the *first* wins, as
    natively (JSONPathSet and JSONValue's subscript return the first member with a key)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        value = {}
        for key, member in pairs:
            if key not in value:
                value[key] = member
    return value


def _not_json(name):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity, -Infinity: the native parser refuses them


# The JSON grammar of the native parser (JSONParser, RFC 8259): Python's C scanner with numbers
# kept as spelled, NaN/Infinity refused, the first of duplicate keys kept, and raw control
# characters accepted inside strings (strict=False) — the native parser accepts them so that
# evidence is not lost. Nesting deeper than MAX_DEPTH is refused as natively (JSONParser.maxDepth).
_decoder = json.JSONDecoder(parse_float=RawNumber, parse_int=RawNumber, parse_constant=_not_json,
                            object_pairs_hook=_first_wins, strict=False)
_WS = re.compile(r"[ \t\n\r]*")
MAX_DEPTH = 512
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def _too_deep(text):
    """Whether the JSON text nests arrays and objects deeper than MAX_DEPTH (strings ignored)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = deepest = 0
    for c in _STRING.sub("", text):
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest > MAX_DEPTH


def parse_value(text):
    """The JSON value of a whole record (the fast path: one call into the C scanner).

    Raises ValueError on malformed JSON, RecursionError on very deep nesting."""
    if _too_deep(text):
        raise ValueError("nesting deeper than 512")
    return _decoder.decode(text)


def parse_object(text):
    """A JSON object as {key: (value, raw text)} for its top-level members; None if not an object.

    The exact path: it keeps each top-level member's source text, which the fast path (a Record
    over parse_value) asks for only when an object or array is written into a text column (the
    native writer stores its bytes as written). Raises ValueError on malformed JSON."""
    if _too_deep(text):
        raise ValueError("nesting deeper than 512")
    pos = _WS.match(text, 0).end()
    if pos >= len(text) or text[pos] != "{":
        _decoder.decode(text)  # raises on malformed text
        return None
    result = {}
    pos = _WS.match(text, pos + 1).end()
    if text[pos:pos + 1] == "}":
        end = _WS.match(text, pos + 1).end()
        if end != len(text):
            raise ValueError("extra data")
        return result
    while True:
        if text[pos:pos + 1] != '"':
            raise ValueError("expected a key")
        key, pos = json.decoder.scanstring(text, pos + 1, False)
        pos = _WS.match(text, pos).end()
        if text[pos:pos + 1] != ":":
            raise ValueError("expected ':'")
        pos = _WS.match(text, pos + 1).end()
        value, end = _decoder.raw_decode(text, pos)
        if key not in result:  # the first of duplicate keys wins, as natively
            result[key] = (value, text[pos:end])
        pos = _WS.match(text, end).end()
        c = text[pos:pos + 1]
        if c == ",":
            pos = _WS.match(text, pos + 1).end()
            continue
        if c == "}":
            end = _WS.match(text, pos + 1).end()
            if end != len(text):
                raise ValueError("extra data")
            return result
        raise ValueError("expected ',' or '}'")


class Record:
    """A parsed JSON object: its value (parse_value) and, on demand, the source text of its
    top-level members (parse_object), which only an object or array written as text needs."""

    __slots__ = ("value", "text", "_members")

    def __init__(self, value, text, members=None):
        self.value = value
        self.text = text
        self._members = members

    def get(self, path):
        """(value, raw) at a dotted path list; raw is the source text of a top-level object or
        array, None otherwise (scalars are written from their value; numbers keep their spelling)."""
        if not path:
            return None
        value = self.value.get(path[0], _ABSENT)
        if value is _ABSENT:
            return None
        if len(path) == 1:
            if isinstance(value, (dict, list)):
                return value, self.raw(path[0])
            return value, None
        for part in path[1:]:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value, None

    def raw(self, key):
        if self._members is None:
            self._members = parse_object(self.text)
        return self._members[key][1]


_ABSENT = object()


def compact(value):
    """JSON text of a value without spaces, numbers as spelled."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def raw_of(found):
    value, raw = found
    return raw if raw is not None else compact(value)


def is_null(value):
    return value is None


def json_int(value):
    """Fathom's JSONValue.int64: integral numbers (and integral strings) as Int64."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, RawNumber) or isinstance(value, str):
        text = str(value)
        if re.fullmatch(r"[+-]?\d+", text):
            number = int(text)
            return number if -2 ** 63 <= number < 2 ** 63 else None
        try:
            number = float(text)
        except ValueError:
            return None
        if number != number or number in (float("inf"), float("-inf")) or number != int(number):
            return None
        return int(number)
    return None


def json_double(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def json_string(value):
    """JSONValue.string: only strings."""
    return value if isinstance(value, str) and not isinstance(value, RawNumber) else None


def write_string_value(found):
    """JSONFields.writeString: strings decoded, numbers/bools/objects/arrays as their JSON text."""
    value, raw = found
    if value is None:
        return None
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return raw_of(found)


# ---------------------------------------------------------------------------------------------
# Times (TimeParser): RFC 3339 / ISO 8601, CLF, epoch numbers (unit by magnitude)

_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$")
_CLF = re.compile(r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:\s*([+-]\d{4}))?$")
_EPOCH0 = datetime.datetime(1970, 1, 1)


def _nanos(year, month, day, hour, minute, second, fraction, offset_seconds):
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    seconds = (moment - _EPOCH0).days * 86400 + (moment - _EPOCH0).seconds - offset_seconds
    nanos = 0
    if fraction:
        nanos = int((fraction + "000000000")[:9])
    return seconds * 1_000_000_000 + nanos


def _offset(text):
    if not text or text in ("Z", "z", "UTC"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def parse_epoch_int(value):
    magnitude = abs(value)
    scale = 1_000_000_000 if magnitude < 100_000_000_000 else 1_000_000 if magnitude < 100_000_000_000_000 \
        else 1_000 if magnitude < 100_000_000_000_000_000 else 1
    result = value * scale
    return result if -2 ** 63 <= result < 2 ** 63 else None


def parse_epoch_float(value):
    if value != value or value in (float("inf"), float("-inf")):
        return None
    magnitude = abs(value)
    scale = 1e9 if magnitude < 1e11 else 1e6 if magnitude < 1e14 else 1e3 if magnitude < 1e17 else 1.0
    whole = float(int(value))
    if abs(whole * scale) >= 9.2e18:
        return None
    fraction = (value - whole) * scale
    return int(whole) * int(scale) + int(round_half_away(fraction))


def round_half_away(x):
    import math
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def parse_time(text):
    text = text.strip()
    if not text:
        return None
    m = _ISO.match(text)
    if m:
        y, mo, d, h, mi, s, frac, off = m.groups()
        return _nanos(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), frac, _offset(off))
    m = _CLF.match(text)
    if m:
        d, mon, y, h, mi, s, frac, off = m.groups()
        month = _MONTHS.get(mon.lower())
        if not month:
            return None
        return _nanos(int(y), month, int(d), int(h), int(mi), int(s), frac, _offset(off))
    if re.fullmatch(r"[+-]?\d+", text):
        return parse_epoch_int(int(text))
    if re.fullmatch(r"[+-]?\d+\.\d+", text):
        return parse_epoch_float(float(text))
    return None


def json_time(value):
    if isinstance(value, RawNumber):
        return parse_time(str(value))
    if isinstance(value, str):
        return parse_time(value)
    return None


# ---------------------------------------------------------------------------------------------
# Text fields (TextCodecs)


def address_of_endpoint(text):
    value = text.strip()
    if not value:
        return value
    if value[0] == "[":
        close = value.find("]", 1)
        return value if close < 0 else value[1:close]
    colon = value.find(":")
    if colon < 0:
        return value
    if value.find(":", colon + 1) >= 0:
        return value
    rest = value[colon + 1:]
    return value[:colon] if rest == "" or rest.isdigit() and rest.isascii() else value


def percent_decode(text):
    if "%" not in text:
        return text
    data = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x25 and i + 2 < len(raw) + 0 and i + 2 <= len(raw) - 1 and _is_hex(raw[i + 1]) and _is_hex(raw[i + 2]):
            data.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            data.append(c)
            i += 1
    return data.decode("utf-8", "replace")


def _is_hex(b):
    return 0x30 <= b <= 0x39 or 0x41 <= b <= 0x46 or 0x61 <= b <= 0x66


def text_empty(field):
    return field == "" or field == "-"


def parse_int_text(field):
    if re.fullmatch(r"[+-]?\d+", field):
        number = int(field)
        return number if -2 ** 63 <= number < 2 ** 63 else None
    try:
        number = float(field)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        return None
    return int(number)


def parse_double_text(field):
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", field):
        return None
    return float(field)


class SplitError(Exception):
    pass


def split_fields(line):
    """FieldSplitter.split: space/tab separated; "quoted" (backslash-aware) and [bracketed] fields."""
    fields = []
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return fields
        c = line[i]
        if c == '"':
            open_ = i
            j = i + 1
            closed = False
            while True:
                q = line.find('"', j)
                if q < 0:
                    break
                backslashes = 0
                k = q - 1
                while k > open_ and line[k] == "\\":
                    backslashes += 1
                    k -= 1
                if backslashes % 2 == 0:
                    j = q
                    closed = True
                    break
                j = q + 1
            if not closed:
                raise SplitError("unterminated quoted field")
            fields.append(line[open_ + 1:j])
            i = j + 1
        elif c == "[":
            close = line.find("]", i + 1)
            if close < 0:
                raise SplitError("unterminated bracketed field")
            fields.append(line[i + 1:close])
            i = close + 1
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            fields.append(line[i:j])
            i = j


# ---------------------------------------------------------------------------------------------
# Rows


class Reject(Exception):
    pass


class Rows:
    """RowWriter: first write wins within a row; rows of several kinds per record."""

    def __init__(self, spec):
        self.spec = spec
        self.out = []
        self.current = None
        self.columns = ()

    def begin(self, kind, time):
        self.current = {"kind": kind, "time": time}
        self.columns = self.spec.columns[kind]

    def set(self, column, value):
        current = self.current
        if value is None or current is None:
            return
        if column in self.columns and column not in current:
            current[column] = value

    def is_set(self, column):
        return self.current is not None and column in self.current

    def abandon(self):
        self.current = None

    def commit(self):
        if self.current is not None:
            self.out.append(self.current)
        self.current = None


class Spec:
    def __init__(self, data):
        if data.get("spec_version") != SPEC_VERSION:
            raise SystemExit(f"fathom-spec.json has spec_version {data.get('spec_version')!r}; this job reads {SPEC_VERSION}")
        self.data = data
        self.tool_version = data["tool_version"]
        self.columns = {kind: {c["name"]: c["type"] for c in cols} for kind, cols in data["kinds"].items()}
        self.candidates = [(entry[0], entry[1:]) for entry in data["generic_candidates"]]
        self.kind_evidence = [(entry["kind"], [(f, int(w)) for f, w in entry["fields"]]) for entry in data["kind_evidence"]]
        self.storage_actions = [(needle, action) for needle, action in data["storage_actions"]]
        self.llm_paths = [(entry[0], [p.split(".") for p in entry[1:]]) for entry in data["llm_gateway_paths"]]
        self.s3_fields = data["s3_access_log_fields"]
        self.s3_minimum = data["s3_access_log_minimum_fields"]
        self.access_fields = data["access_log_fields"]
        self.serving = set(data["k8s_serving_resources"])
        self.azure = {k: [p.split(".") for p in v] for k, v in data["azure_storage_paths"].items()}
        self.audit_generic = {k: [p.split(".") for p in v] for k, v in data["audit_generic_paths"].items()}
        self.k8s_time = [p.split(".") for p in data["k8s_audit_time_paths"]]
        self.settings = data["settings"]
        self.rules = {r["id"]: r for r in data["rules"]}

    def storage_action(self, operation):
        text = operation.lower()
        for needle, action in self.storage_actions:
            if needle in text:
                return action
        return "other"


def first_present(record, paths):
    """JSONPaths.first: the first value that is neither null nor an empty string."""
    for path in paths:
        found = record.get(path)
        if found is None or found[0] is None:
            continue
        if isinstance(found[0], str) and not isinstance(found[0], RawNumber) and found[0] == "":
            continue
        return found
    return None


def write_role(spec, rows, kind, column, found, role):
    """JSONFields.write."""
    value = found[0]
    if value is None:
        return
    if role == "string":
        rows.set(column, write_string_value(found))
    elif role == "address":
        if isinstance(value, str) and not isinstance(value, RawNumber):
            rows.set(column, address_of_endpoint(value))
        elif isinstance(value, RawNumber):
            rows.set(column, address_of_endpoint(str(value)))
    elif role == "int":
        rows.set(column, json_int(value))
    elif role == "double":
        rows.set(column, json_double(value))
    elif role == "hash":
        data = value if isinstance(value, str) and not isinstance(value, RawNumber) else raw_of(found)
        rows.set(column, hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest())
    elif role == "prompt":
        write_messages(rows, kind, column, value, found)
    elif role == "response":
        write_response(rows, column, value, found)
    elif role == "operation":
        rows.set(column, write_string_value(found))
        operation = json_string(value)
        if operation is not None and "action" in spec.columns[kind]:
            rows.set("action", spec.storage_action(operation))


def role_for(column, type_):
    if column == "src_ip":
        return "address"
    if column in ("prompt", "response", "operation"):
        return column
    return {"int64": "int", "float64": "double", "hash128": "hash"}.get(type_, "string")


def message_text(content):
    if isinstance(content, str) and not isinstance(content, RawNumber):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str) and not isinstance(part, RawNumber):
                parts.append(part)
            elif isinstance(part, dict) and json_string(part.get("text")) is not None:
                parts.append(part["text"])
        return "\n".join(parts) if parts else None
    return None


def write_messages(rows, kind, column, value, found):
    messages = value
    if isinstance(value, dict) and "messages" in value:
        messages = value["messages"]
    if isinstance(messages, str) or isinstance(messages, RawNumber):
        rows.set(column, write_string_value((messages, None)))
    elif isinstance(messages, bool):
        rows.set(column, "true" if messages else "false")
    elif isinstance(messages, list):
        last_user = None
        system = None
        for message in messages:
            if not isinstance(message, dict):
                continue
            role = json_string(message.get("role")) or ""
            content = message.get("content")
            text = message_text(content) if "content" in message else None
            if text is None:
                continue
            if role == "user":
                last_user = text
            if role == "system" and system is None:
                system = text
        if last_user is not None:
            rows.set(column, last_user)
        if system is not None and "system_prompt" in rows.spec.columns[kind]:
            rows.set("system_prompt", system)


def write_response(rows, column, value, found):
    if isinstance(value, (str, bool)) or isinstance(value, RawNumber):
        rows.set(column, write_string_value(found))
        return
    if isinstance(value, (dict, list)):
        choices = value if isinstance(value, list) else value.get("choices")
        elements = choices if isinstance(choices, list) else (list(choices.values()) if isinstance(choices, dict) else [])
        if elements:
            first = elements[0]
            if isinstance(first, dict):
                message = first.get("message")
                if isinstance(message, dict) and "content" in message:
                    text = message_text(message["content"])
                    if text is not None:
                        rows.set(column, text)
                        return
                if json_string(first.get("text")) is not None:
                    rows.set(column, first["text"])
                    return
        if isinstance(value, dict):
            if "content" in value and message_text(value["content"]) is not None:
                rows.set(column, message_text(value["content"]))
            elif isinstance(value.get("message"), dict) and "content" in value["message"] \
                    and message_text(value["message"]["content"]) is not None:
                rows.set(column, message_text(value["message"]["content"]))
            elif json_string(value.get("text")) is not None:
                rows.set(column, value["text"])


def audit_row(spec, rows, source, time, record_text, action=None, principal=None, address=None, agent=None,
              service=None, target=None, outcome=None):
    rows.begin("audit", time)
    rows.set("source", source)
    if service is not None:
        rows.set("service", service)
    if action is not None:
        rows.set("action", write_string_value(action))
    if principal is not None:
        rows.set("principal", write_string_value(principal))
    if address is not None:
        write_role(spec, rows, "audit", "src_ip", address, "address")
    if target is not None:
        rows.set("target", target)
    if outcome is not None:
        rows.set("outcome", outcome)
    if agent is not None:
        rows.set("user_agent", write_string_value(agent))
    rows.set("record", record_text)
    rows.commit()


def audit_generic(spec, rows, source, time, record, text):
    g = spec.audit_generic
    audit_row(spec, rows, source, time, text, action=first_present(record, g["action"]),
              principal=first_present(record, g["principal"]), address=first_present(record, g["address"]),
              agent=first_present(record, g["user_agent"]))


# ---------------------------------------------------------------------------------------------
# Decoders: one class per format, sniff(sample) → score, decode(text, rows)


def _records_of(sample):
    for text in sample:
        if text.strip():
            yield text


def majority(sample, test):
    total = hits = 0
    for text in _records_of(sample):
        total += 1
        try:
            if test(text):
                hits += 1
        except Exception:
            pass
    return hits > 0 and hits * 2 >= total


def majority_objects(sample, test):
    def check(text):
        value = parse_value(text)
        return isinstance(value, dict) and test(Record(value, text))
    return majority(sample, check)


def load_record(text, reason_prefix=""):
    try:
        value = parse_value(text)
    except (ValueError, RecursionError) as error:
        raise Reject(f"malformed JSON: {error.__class__.__name__}")
    if not isinstance(value, dict):
        raise Reject("JSON record is not an object")
    return Record(value, text)


class S3AccessLog:
    name = "s3-access-log"

    def __init__(self, spec, sample):
        self.spec = spec

    @staticmethod
    def is_operation(field):
        dot = field.find(".")
        if dot < 2 or dot + 1 >= len(field):
            return False
        return all("A" <= c <= "Z" or "0" <= c <= "9" for c in field[:dot])

    @classmethod
    def sniff(cls, spec, sample, framing):
        if framing != "lines":
            return 0

        def test(text):
            fields = split_fields(text)
            return len(fields) >= spec.s3_minimum and cls.is_operation(fields[6]) and "/" in fields[2] \
                and parse_time(fields[2]) is not None
        return 60 if majority(sample, test) else 0

    def decode(self, text, rows):
        spec = self.spec
        try:
            fields = split_fields(text)
        except SplitError as error:
            raise Reject(f"S3 access log: {error}")
        if len(fields) < spec.s3_minimum:
            raise Reject(f"S3 access log: fewer than {spec.s3_minimum} fields")
        f = {name: index for index, name in enumerate(spec.s3_fields)}
        time = parse_time(fields[f["time"]])
        if time is None:
            raise Reject("S3 access log: unparseable time")
        if not self.is_operation(fields[f["operation"]]):
            raise Reject("S3 access log: malformed operation field")
        status = fields[f["http_status"]]
        if not (text_empty(status) or (len(status) == 3 and parse_int_text(status) is not None and re.fullmatch(r"[+-]?\d+", status))):
            raise Reject("S3 access log: malformed HTTP status")
        rows.begin("storage", time)
        if not text_empty(fields[f["remote_ip"]]):
            rows.set("src_ip", address_of_endpoint(fields[f["remote_ip"]]))
        if not text_empty(fields[f["requester"]]):
            rows.set("principal", fields[f["requester"]])
        operation = fields[f["operation"]]
        rows.set("operation", operation)
        rows.set("action", spec.storage_action(operation))
        if not text_empty(fields[f["bucket"]]):
            rows.set("bucket", fields[f["bucket"]])
        if not text_empty(fields[f["key"]]):
            rows.set("key", percent_decode(fields[f["key"]]))
        if not text_empty(fields[f["user_agent"]]):
            rows.set("user_agent", fields[f["user_agent"]])
        if not text_empty(status):
            rows.set("status", parse_int_text(status))
        if not text_empty(fields[f["bytes_sent"]]):
            rows.set("bytes", parse_int_text(fields[f["bytes_sent"]]))
        rows.commit()


class AccessLog:
    name = "access-log"

    def __init__(self, spec, sample):
        self.spec = spec

    @staticmethod
    def is_status(field):
        return len(field) == 3 and field.isdigit() and 100 <= int(field) <= 599

    @classmethod
    def sniff(cls, spec, sample, framing):
        if framing != "lines":
            return 0

        def test(text):
            fields = split_fields(text)
            return len(fields) >= 7 and "/" in fields[3] and parse_time(fields[3]) is not None and cls.is_status(fields[5])
        return 50 if majority(sample, test) else 0

    @staticmethod
    def request_seconds(field, positional):
        if "=" in field:
            key, value = field.split("=", 1)
            if key not in ("rt", "request_time"):
                return None
            return parse_double_text(value)
        if not positional or "." not in field:
            return None
        return parse_double_text(field)

    def decode(self, text, rows):
        try:
            fields = split_fields(text)
        except SplitError as error:
            raise Reject(f"access log: {error}")
        if len(fields) < 7:
            raise Reject("access log: fewer than 7 fields")
        time = parse_time(fields[3])
        if time is None:
            raise Reject("access log: unparseable time")
        if not self.is_status(fields[5]):
            raise Reject("access log: malformed status")
        rows.begin("inference", time)
        if not text_empty(fields[0]):
            rows.set("src_ip", address_of_endpoint(fields[0]))
        if not text_empty(fields[2]):
            rows.set("principal", fields[2])
        request = fields[4]
        if not text_empty(request):
            space = request.find(" ")
            if space < 0:
                rows.set("path", request)
            else:
                end = len(request)
                index = len(request) - 1
                while index > space:
                    if request[index] == " ":
                        end = index
                        break
                    index -= 1
                rows.set("method", request[:space])
                rows.set("path", percent_decode(request[space + 1:end]))
        rows.set("status", parse_int_text(fields[5]))
        if not text_empty(fields[6]):
            rows.set("bytes", parse_int_text(fields[6]))
        if len(fields) > 8:
            if not text_empty(fields[7]):
                rows.set("referer", fields[7])
            if not text_empty(fields[8]):
                rows.set("user_agent", fields[8])
        for index in range(9, len(fields)):
            seconds = self.request_seconds(fields[index], index == 9)
            if seconds is not None:
                rows.set("latency_ms", seconds * 1000)
                break
        rows.commit()


class AzureStorage:
    name = "azure-storage"

    def __init__(self, spec, sample):
        self.spec = spec

    @staticmethod
    def is_storage_record(record):
        v = record.value
        if v.get("operationName") is not None and v.get("time") is not None:
            category = v.get("category")
            if isinstance(category, str) and category.startswith("Storage"):
                return True
            properties = v.get("properties")
            if isinstance(properties, dict) and (properties.get("objectKey") is not None or properties.get("serviceType") is not None):
                return True
            resource = json_string(v.get("resourceId"))
            return resource is not None and "/microsoft.storage/" in resource.lower()
        if v.get("OperationName") is not None and v.get("TimeGenerated") is not None:
            kind = json_string(v.get("Type"))
            if kind is not None and kind.startswith("Storage"):
                return True
            return v.get("ObjectKey") is not None or (v.get("AccountName") is not None and v.get("ServiceType") is not None)
        return False

    @classmethod
    def sniff(cls, spec, sample, framing):
        return 60 if majority_objects(sample, cls.is_storage_record) else 0

    def decode(self, text, rows):
        spec = self.spec
        paths = spec.azure
        record = load_record(text)
        found = first_present(record, paths["time"])
        time = json_time(found[0]) if found else None
        if time is None:
            raise Reject("Azure storage log: missing or unparseable time")
        operation = first_present(record, paths["operation"])
        if operation is None or json_string(operation[0]) is None:
            audit_generic(spec, rows, "azure-storage", time, record, text)
            return
        rows.begin("storage", time)
        rows.set("operation", operation[0])
        rows.set("action", spec.storage_action(operation[0]))
        ip = first_present(record, paths["address"])
        if ip:
            write_role(spec, rows, "storage", "src_ip", ip, "address")
        principal = first_present(record, paths["principal"])
        if principal:
            rows.set("principal", write_string_value(principal))
        key = first_present(record, paths["key"])
        if key and json_string(key[0]) is not None:
            self.write_object_key(key[0], rows)
        agent = first_present(record, paths["user_agent"])
        if agent:
            rows.set("user_agent", write_string_value(agent))
        status = first_present(record, paths["status"])
        if status and json_int(status[0]) is not None:
            rows.set("status", json_int(status[0]))
        properties = record.value.get("properties")
        response = properties.get("responseBodySize") if isinstance(properties, dict) and "responseBodySize" in properties \
            else record.value.get("ResponseBodySize")
        request = properties.get("requestBodySize") if isinstance(properties, dict) and "requestBodySize" in properties \
            else record.value.get("RequestBodySize")
        response, request = json_int(response), json_int(request)
        if response is not None or request is not None:
            rows.set("bytes", max(response or 0, request or 0))
        rows.commit()

    @staticmethod
    def write_object_key(raw, rows):
        value = raw.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        second = value.find("/", 1) if len(value) > 1 and value[0] == "/" else -1
        if second < 0:
            rows.set("key", percent_decode(value))
            return
        rest = value[second + 1:]
        slash = rest.find("/")
        rows.set("bucket", rest if slash < 0 else rest[:slash])
        if slash >= 0:
            rows.set("key", percent_decode(rest[slash + 1:]))


class KubernetesAudit:
    name = "k8s-audit"

    def __init__(self, spec, sample):
        self.spec = spec

    @staticmethod
    def is_event(record):
        v = record.value
        if v.get("kind") != "Event" or json_string(v.get("verb")) is None:
            return False
        if "auditID" not in v and "stage" not in v:
            return False
        return "requestReceivedTimestamp" in v or "stageTimestamp" in v

    @classmethod
    def sniff(cls, spec, sample, framing):
        return 70 if majority_objects(sample, lambda r: cls.is_event(r) and "protoPayload" not in r.value) else 0

    def decode(self, text, rows):
        spec = self.spec
        record = load_record(text)
        v = record.value
        if "protoPayload" in v or isinstance(v.get("properties"), dict) and "log" in v["properties"]:
            raise Reject("Kubernetes audit: GKE/AKS envelopes are not decoded by the Spark job")
        found = first_present(record, spec.k8s_time)
        undated = found is None
        time = json_time(found[0]) if found else None
        if time is None:
            if not undated:
                raise Reject("Kubernetes audit: unparseable timestamp")
            time = None
        verb = json_string(v.get("verb"))
        if verb is None:
            raise Reject("Kubernetes audit: event without verb")
        ref = v.get("objectRef") if isinstance(v.get("objectRef"), dict) else {}
        succeeded = None
        status = v.get("responseStatus")
        if isinstance(status, dict) and json_int(status.get("code")) is not None:
            succeeded = json_int(status["code"]) < 400
        resource = json_string(ref.get("resource")) or ""
        subresource = json_string(ref.get("subresource")) or ""
        name = json_string(ref.get("name"))
        namespace = json_string(ref.get("namespace"))
        user = v.get("user") if isinstance(v.get("user"), dict) else {}
        principal = json_string(user.get("username"))
        service = None
        if resource:
            service = resource if not subresource else resource + "/" + subresource
        target = "/".join(x for x in (namespace, name) if x is not None) or None
        ips = v.get("sourceIPs")
        address = (ips[0], None) if isinstance(ips, list) and ips else None
        audit_row(spec, rows, "k8s-audit", time if time is not None else -2 ** 63, text,
                  action=(v["verb"], None), principal=(user["username"], None) if "username" in user else None,
                  address=address, agent=(v["userAgent"], None) if "userAgent" in v else None,
                  service=service, target=target,
                  outcome=None if succeeded is None else ("success" if succeeded else "failure"))
        if time is None or (json_string(v.get("stage")) is not None and v["stage"] != "ResponseComplete"):
            return
        if verb not in ("create", "update", "patch", "delete") or resource not in spec.serving \
                or subresource not in ("", "scale", "rollback"):
            return
        request = v.get("requestObject")
        response = v.get("responseObject")
        to_stage = "deployed"
        if subresource == "scale":
            event = "scale"
            if self.replicas(request) == 0:
                to_stage = "stopped"
        elif subresource == "rollback":
            event = "rollback"
        elif verb == "delete":
            event, to_stage = "delete", "deleted"
        else:
            event = verb
            if self.replicas(request) == 0:
                to_stage = "stopped"
        model = name or self.meta(request, "name") or self.meta(response, "name")
        version = self.version(request) or self.version(response)
        rows.begin("registry", time)
        rows.set("model", model)
        rows.set("version", version)
        rows.set("event", event)
        rows.set("to_stage", to_stage)
        rows.set("principal", principal)
        rows.set("environment", namespace or self.meta(request, "namespace"))
        rows.set("status", None if succeeded is None else ("success" if succeeded else "failure"))
        rows.commit()

    @staticmethod
    def replicas(obj):
        if isinstance(obj, dict) and isinstance(obj.get("spec"), dict):
            value = json_int(obj["spec"].get("replicas"))
            return 1 if value is None else value
        return 1

    @staticmethod
    def meta(obj, key):
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
            return json_string(obj["metadata"].get(key))
        return None

    @staticmethod
    def image_tag(image):
        # CloudTrailDecoder.imageTag: the tag after the last ':' past the last '/', or the digest.
        if "@" in image:
            return image.rsplit("@", 1)[1] or None
        slash = image.rfind("/")
        colon = image.rfind(":")
        if colon > slash and colon + 1 < len(image):
            return image[colon + 1:]
        return None

    @classmethod
    def version(cls, obj):
        if not isinstance(obj, dict):
            return None
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        pod = template.get("spec") if isinstance(template.get("spec"), dict) else {}
        predictor = spec.get("predictor") if isinstance(spec.get("predictor"), dict) else None
        for containers in (pod.get("containers"), predictor.get("containers") if predictor else None):
            if isinstance(containers, list) and containers and isinstance(containers[0], dict):
                image = json_string(containers[0].get("image"))
                if image is not None:
                    tag = cls.image_tag(image)
                    if tag:
                        return tag
        if predictor is not None:
            model = predictor.get("model")
            if isinstance(model, dict):
                if json_string(model.get("runtimeVersion")) is not None:
                    return model["runtimeVersion"]
                if json_string(model.get("storageUri")) is not None:
                    return model["storageUri"]
            for value in predictor.values():
                if isinstance(value, dict) and json_string(value.get("storageUri")) is not None:
                    return value["storageUri"]
        return None


class LLMGateway:
    name = "llm-gateway"

    def __init__(self, spec, sample):
        self.spec = spec
        self.time_paths = next(paths for column, paths in spec.llm_paths if column == "time")
        self.bindings = [(column, paths, role_for(column, spec.columns["llm"][column]))
                         for column, paths in spec.llm_paths if column != "time" and column in spec.columns["llm"]]

    @staticmethod
    def is_llm(record):
        v = record.value
        if v.get("specversion") is not None:
            return False
        request = v.get("request")
        for messages in (v.get("messages"), request.get("messages") if isinstance(request, dict) else None):
            if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("role") is not None:
                return True
        return v.get("prompt") is not None and (v.get("response") is not None or v.get("completion") is not None)

    @classmethod
    def sniff(cls, spec, sample, framing):
        return 40 if majority_objects(sample, cls.is_llm) else 0

    def decode(self, text, rows):
        record = load_record(text)
        found = first_present(record, self.time_paths)
        time = json_time(found[0]) if found else None
        if time is None:
            raise Reject("LLM log: missing or unparseable time")
        rows.begin("llm", time)
        for column, paths, role in self.bindings:
            value = first_present(record, paths)
            if value is not None:
                write_role(self.spec, rows, "llm", column, value, role)
        if not rows.is_set("prompt") and not rows.is_set("response"):
            rows.abandon()
            audit_generic(self.spec, rows, "llm-gateway", time, record, text)
            return
        rows.commit()


class GenericJSON:
    name = "json"

    def __init__(self, spec, sample):
        self.spec = spec
        samples = []
        for text in _records_of(sample):
            try:
                members = parse_value(text)
            except Exception:
                continue
            if not isinstance(members, dict):
                continue
            keys = {}
            for key, value in members.items():
                keys[key] = value
                if isinstance(value, dict):
                    for inner, inner_value in value.items():
                        keys[key + "." + inner] = inner_value
            samples.append(keys)
        present = set()
        for column, _ in spec.candidates:
            if self.resolve(column, samples) is not None:
                present.add(column)
        self.time_path = self.resolve("time", samples)
        if self.time_path is None:
            raise Reject("no time field: map one with a --profile")
        kind = self.kind_for(present)
        self.kind = kind or "audit"
        schema = spec.columns[self.kind]
        unmapped = {"time", "member", "line", "source", "record"} if self.kind == "audit" else {"time", "member", "line"}
        self.bindings = []
        for column, type_ in schema.items():
            if column in unmapped:
                continue
            source = "input" if column == "input_hash" else column
            path = self.resolve(source, samples)
            if path is None:
                continue
            self.bindings.append((column, path, role_for(column, type_)))

    def resolve(self, column, samples):
        names = next((names for c, names in self.spec.candidates if c == column), [])
        for candidate in names:
            path = candidate.split(".")
            head = path[0]
            for keys in samples:
                spelled = next((key for key in keys if key.lower() == head.lower()), None)
                if spelled is not None:
                    return [spelled] + path[1:]
        return None

    def kind_for(self, present):
        scored = []
        for kind, fields in self.spec.kind_evidence:
            scored.append((kind, sum(w for f, w in fields if f in present)))
        scored.sort(key=lambda entry: -entry[1])  # stable, as Swift's sort of a short array
        if not scored or scored[0][1] < 2:
            return None
        if len(scored) > 1 and scored[1][1] == scored[0][1]:
            return None
        return scored[0][0]

    @classmethod
    def sniff(cls, spec, sample, framing):
        return 10 if majority_objects(sample, lambda r: True) else 0

    def decode(self, text, rows):
        record = load_record(text)
        found = record.get(self.time_path)
        time = json_time(found[0]) if found and found[0] is not None else None
        if time is None:
            raise Reject("missing or unparseable time")
        rows.begin(self.kind, time)
        for column, path, role in self.bindings:
            value = record.get(path)
            if value is None or value[0] is None:
                continue
            write_role(self.spec, rows, self.kind, column, value, role)
        if self.kind == "audit":
            rows.set("source", "json")
            rows.set("record", text)
        rows.commit()


RECORD_FORMATS = [S3AccessLog, AccessLog, AzureStorage, KubernetesAudit, LLMGateway, GenericJSON]
SQLITE_MAGIC = b"SQLite format 3\x00"


# ---------------------------------------------------------------------------------------------
# MLflow (SQLite registry)


def read_mlflow(data, rows_for):
    """Rows of an MLflow registry database: registered models, versions, aliases and tags."""
    with tempfile.NamedTemporaryFile(suffix=".db") as handle:
        handle.write(data)
        handle.flush()
        db = sqlite3.connect(f"file:{handle.name}?mode=ro&immutable=1", uri=True)
        try:
            return _read_mlflow(db, rows_for)
        finally:
            db.close()


def _columns(db, table):
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _select(column, columns):
    return column if column in columns else f"NULL AS {column}"


def _text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _integer(value):
    if isinstance(value, bool) or value is None or isinstance(value, bytes):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == int(value) else None
    try:
        return int(value)
    except ValueError:
        return None


def _status(status):
    upper = status.upper()
    return {"READY": "success", "FAILED_REGISTRATION": "failure", "PENDING_REGISTRATION": "pending"}.get(upper, status.lower())


def _read_mlflow(db, rows_for):
    rejects = []
    versions = {}
    db.row_factory = sqlite3.Row

    def model_name(row):
        name = _text(row["name"])
        if name is None:
            return None
        workspace = _text(row["workspace"])
        return workspace + "/" + name if workspace and workspace != "default" else name

    columns = _columns(db, "registered_models")
    if columns:
        sql = "SELECT " + ", ".join(_select(c, columns) for c in ["name", "creation_time", "workspace"]) + " FROM registered_models ORDER BY rowid"
        for number, row in enumerate(db.execute(sql), start=1):
            rows = rows_for(number)
            model, created = model_name(row), _integer(row["creation_time"])
            nanos = parse_epoch_int(created) if created is not None else None
            if model is None or nanos is None:
                rejects.append((number, "MLflow: registered model without name or creation_time"))
                continue
            rows.begin("registry", nanos)
            rows.set("model", model)
            rows.set("event", "registered_model")
            rows.commit()
    columns = _columns(db, "model_versions")
    if columns:
        wanted = ["name", "version", "creation_time", "last_updated_time", "user_id", "current_stage", "status", "workspace"]
        sql = "SELECT " + ", ".join(_select(c, columns) for c in wanted) + " FROM model_versions ORDER BY rowid"
        for number, row in enumerate(db.execute(sql), start=1):
            rows = rows_for(number)
            version = _text(row["version"])
            model, created = model_name(row), _integer(row["creation_time"])
            created_nanos = parse_epoch_int(created) if created is not None else None
            if model is None or version is None or created_nanos is None:
                rejects.append((number, "MLflow: model version without name, version or creation_time"))
                continue
            updated = _integer(row["last_updated_time"])
            updated = created if updated is None else updated
            versions[(model, version)] = (model, updated)
            user = _text(row["user_id"])
            status = _text(row["status"])
            status = _status(status) if status is not None else None

            def emit(time, event, to_stage):
                rows.begin("registry", time)
                rows.set("model", model)
                rows.set("version", version)
                rows.set("event", event)
                rows.set("to_stage", to_stage)
                rows.set("principal", user)
                rows.set("status", status)
                rows.commit()
            emit(created_nanos, "registered", None)
            stage = _text(row["current_stage"])
            if stage and stage.lower() != "none":
                emit(parse_epoch_int(updated) or created_nanos, "stage", stage)
    for table, event, describe in (
            ("registered_model_aliases", "alias", lambda r: _text(r["alias"])),
            ("model_version_tags", "tag", lambda r: None if _text(r["key"]) is None else _text(r["key"]) + "=" + (_text(r["value"]) or ""))):
        columns = _columns(db, table)
        needed = {"alias", "name", "version"} if table.endswith("aliases") else {"key", "name", "version"}
        if not needed <= columns:
            continue
        if table.endswith("aliases"):
            sql = f"SELECT alias, name, version, {_select('workspace', columns)} FROM {table} ORDER BY rowid"
        else:
            sql = f"SELECT key, {_select('value', columns)}, name, version, {_select('workspace', columns)} FROM {table} ORDER BY rowid"
        for number, row in enumerate(db.execute(sql), start=1):
            rows = rows_for(number)
            version = _text(row["version"])
            to_stage = describe(row)
            model = model_name(row)
            known = versions.get((model, version)) if model is not None and version is not None else None
            time = parse_epoch_int(known[1]) if known else None
            if to_stage is None or known is None or time is None:
                rejects.append((number, f"MLflow: {event} row without a known model version"))
                continue
            rows.begin("registry", time)
            rows.set("model", known[0])
            rows.set("version", version)
            rows.set("event", event)
            rows.set("to_stage", to_stage)
            rows.commit()
    return rejects


# ---------------------------------------------------------------------------------------------
# Archives: decompression, tar members, record framing


def decompress(data):
    """(compression, bytes): every gzip member, every zstd frame."""
    if data[:2] == b"\x1f\x8b":
        return "gzip", gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        return "zstd", reader.read()
    return "", data


def members_of(display, data):
    """(container, [(member name, bytes)])."""
    if len(data) >= 262 and data[257:262] == b"ustar":
        out = []
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive:
                if info.isfile():
                    out.append((info.name, archive.extractfile(info).read()))
        return "tar", out
    return "", [(display, data)]


def frame(text):
    """('lines'|'json', [(number, record text)]): JSON Lines by physical line; a top-level array or
    `{"records":[…]}` / `{"Records":[…]}` envelope (several may follow each other) by element,
    numbered 1, 2, … across them, each element as its own bytes (RecordFramer)."""
    pos = _WS.match(text, 0).end()
    if text.startswith("\ufeff", pos):
        pos += 1
    head = text[pos:pos + 1]
    if head == "[" or (head == "{" and _envelope_key(text, pos) is not None):
        records = []
        try:
            while pos < len(text):
                if text[pos] == "{":
                    key = _envelope_key(text, pos)
                    if key is None:
                        raise ValueError("not an envelope")
                    pos = text.index("[", text.index(key, pos) + len(key))
                    closing = "}"
                elif text[pos] == "[":
                    closing = None
                else:
                    raise ValueError("unexpected text between documents")
                pos = _WS.match(text, pos + 1).end()
                if text[pos:pos + 1] != "]":
                    while True:
                        _, end = _decoder.raw_decode(text, pos)
                        records.append((len(records) + 1, text[pos:end]))
                        pos = _WS.match(text, end).end()
                        if text[pos:pos + 1] == ",":
                            pos = _WS.match(text, pos + 1).end()
                            continue
                        break
                if text[pos:pos + 1] != "]":
                    raise ValueError("unterminated array")
                pos = _WS.match(text, pos + 1).end()
                if closing:
                    # the rest of the envelope object after its records
                    depth_end = _skip_envelope_rest(text, pos)
                    pos = _WS.match(text, depth_end).end()
            return "json", records
        except ValueError:
            pass
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "lines", [(index + 1, line[:-1] if line.endswith("\r") else line) for index, line in enumerate(lines)]


def _envelope_key(text, pos):
    head = text[pos:pos + 64]
    for key in ('"records"', '"Records"'):
        if key in head:
            return key
    return None


def _skip_envelope_rest(text, pos):
    """Past the closing brace of an envelope whose records array just ended at `pos`."""
    while pos < len(text) and text[pos] != "}":
        if text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()
            _, pos = json.decoder.scanstring(text, pos + 1, False)
            pos = text.index(":", pos) + 1
            pos = _WS.match(text, pos).end()
            _, pos = _decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()
        else:
            raise ValueError("malformed envelope")
    return pos + 1


def decode_member(spec, name, data, formats_used):
    """(format, kind list, rows, rejects) of one member."""
    if data[:16] == SQLITE_MAGIC:
        rows_out = []

        def rows_for(number):
            rows = Rows(spec)
            rows.number = number
            rows_out.append(rows)
            return rows
        rejects = read_mlflow(data, rows_for)
        flat = []
        for rows in rows_out:
            for row in rows.out:
                row["line"] = rows.number
                flat.append(row)
        return "mlflow", flat, rejects
    text = data.decode("utf-8", "surrogateescape")
    framing, records = frame(text)
    sample = [record for _, record in records[:16] if record.strip()]
    best = None
    for cls in RECORD_FORMATS:
        score = cls.sniff(spec, sample, framing)
        if score > 0 and (best is None or score > best[0]):
            best = (score, cls)
    if best is None:
        return "unsupported-in-spark", [], [(0, "no format of the Spark job recognises this input")]
    try:
        decoder = best[1](spec, sample)
    except Reject as error:
        return best[1].name, [], [(0, str(error))]
    out = []
    rejects = []
    rows = Rows(spec)
    for number, record in records:
        if not record.strip():
            continue
        rows.out = []
        try:
            decoder.decode(record, rows)
        except Reject as error:
            rows.abandon()
            rejects.append((number, str(error)))
            continue
        for row in rows.out:
            row["line"] = number
            out.append(row)
    return best[1].name, out, rejects


def relative_display(path, roots):
    """The display path of `path`: the input as the user gave it, joined with the path below it."""
    for given, resolved in roots:
        resolved = resolved.rstrip("/")
        if path == resolved:
            return given
        if path.startswith(resolved + "/"):
            return posixpath.join(given.rstrip("/"), path[len(resolved) + 1:])
    return path


def ignored(display, ignores):
    for folder, patterns in ignores:
        if display.startswith(folder.rstrip("/") + "/"):
            relative = display[len(folder.rstrip("/")) + 1:]
            if any(fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(posixpath.basename(relative), pattern)
                   for pattern in patterns):
                return True
    return False


def process_archive(spec, display, modification, data):
    sha = hashlib.sha256(data).hexdigest()
    archive = {"path": display, "size": len(data), "mtime_ns": modification, "sha256": sha, "members": [],
               "reject_reasons": {}, "reject_samples": []}
    rows_out = []
    try:
        compression, payload = decompress(data)
    except Exception as error:  # a damaged archive: recorded, not read
        archive.update(compression="", container="", members=[{"name": display, "format": "unreadable", "kind": "", "rows": 0,
                                                               "rejected": 1, "note": f"cannot decompress: {error}"}])
        return archive, rows_out
    archive["compression"] = compression
    container, members = members_of(display, payload)
    archive["container"] = container
    ordinal = 0
    for name, member_data in members:
        compression_inner = ""
        if container == "tar":
            compression_inner, member_data = decompress(member_data)
        fmt, rows, rejects = decode_member(spec, name, member_data, None)
        kinds = sorted({row["kind"] for row in rows})
        times = [row["time"] for row in rows if row.get("time") is not None and row["time"] != -2 ** 63]
        archive["members"].append({"name": name, "format": fmt, "kind": ",".join(kinds), "rows": len(rows),
                                   "rejected": len(rejects), "first_time": min(times) if times else None,
                                   "last_time": max(times) if times else None})
        for number, reason in rejects:
            archive["reject_reasons"][reason] = archive["reject_reasons"].get(reason, 0) + 1
            if len(archive["reject_samples"]) < 20:
                archive["reject_samples"].append({"member": name, "line": number, "reason": reason})
        for row in rows:
            row["archive"] = display
            row["member"] = name if container == "tar" else ""  # as the native store: only tar members are named
            row["ord"] = ordinal
            ordinal += 1
            rows_out.append(row)
    return archive, rows_out


# ---------------------------------------------------------------------------------------------
# Spark


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fathom's Spark job: decode archives, run the playbook rules, write results.")
    parser.add_argument("inputs", nargs="+", help="archive files or folders (any URL Spark reads)")
    parser.add_argument("--spec", default=None, help="fathom-spec.json (default: beside this file)")
    parser.add_argument("--out", required=True, help="results folder (any URL Spark writes)")
    parser.add_argument("--master", default=None, help="Spark master when not set by spark-submit (e.g. local[2])")
    parser.add_argument("--partitions", type=int, default=0, help="archive partitions (default: one per archive up to 4x cores)")
    args = parser.parse_args(argv)

    spec_path = args.spec or os.path.join(os.path.dirname(os.path.abspath(__file__)), "fathom-spec.json")
    with open(spec_path, "rb") as handle:
        spec_bytes = handle.read()
    spec_data = json.loads(spec_bytes)
    Spec(spec_data)  # validate before starting Spark

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    builder = SparkSession.builder.appName("fathom-spark-job")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext

    # The inputs through Spark's binaryFile source (any Hadoop FileSystem URL); each input's URL
    # resolved, so display paths read as the user gave them ("SampleData/inference/…").
    frames = []
    roots = []
    hadoop = sc._jsc.hadoopConfiguration()
    for given in args.inputs:
        frames.append(spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(given))
        jvm_path = sc._jvm.org.apache.hadoop.fs.Path(given)
        roots.append((given, str(jvm_path.getFileSystem(hadoop).makeQualified(jvm_path).toString())))
    source = frames[0]
    for other in frames[1:]:
        source = source.union(other)
    files = [(row["path"], row["modificationTime"]) for row in source.select("path", "modificationTime").collect()]

    # .fathomignore at the top of an input folder lists files that are not evidence.
    ignores = []
    for given, resolved in roots:
        jvm_path = sc._jvm.org.apache.hadoop.fs.Path(resolved.rstrip("/") + "/.fathomignore")
        fs = jvm_path.getFileSystem(hadoop)
        if fs.exists(jvm_path):
            # Read through the FileSystem: Hadoop's input formats pass over hidden (dot) files.
            stream = fs.open(jvm_path)
            try:
                text = sc._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
            finally:
                stream.close()
            patterns = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
            ignores.append((given, patterns))
    entries = {}
    for path, modified in sorted(files):
        display = relative_display(path, roots)
        name = posixpath.basename(display)
        if name == ".fathomignore" or ignored(display, ignores) or name.endswith(("-wal", "-shm", "-journal")):
            continue
        entries[path] = (display, int(round(modified.timestamp() * 1_000_000)) * 1000 if modified else 0)

    spec_broadcast = sc.broadcast(spec_data)
    entries_broadcast = sc.broadcast(entries)

    # The executors import this file as a module (shipped with addPyFile), so the closure below
    # carries no decoder state of the driver's __main__.
    sc.addPyFile(os.path.abspath(__file__))

    def decode_partition(items):
        import fathom_spark_job as job
        spec = job.Spec(spec_broadcast.value)
        known = entries_broadcast.value
        days = {}  # UTC day number -> "YYYY-MM-DD" (one strftime per day, not per row)
        for item in items:
            entry = known.get(item["path"])
            if entry is None:
                continue
            archive, rows = job.process_archive(spec, entry[0], entry[1], bytes(item["content"]))
            yield ("archive", entry[0], json.dumps(archive, sort_keys=True, ensure_ascii=False))
            for row in rows:
                kind = row.pop("kind")
                time = row.get("time")
                if time is None or time == -2 ** 63:
                    day = "undated"
                else:
                    number = time // 86_400_000_000_000
                    day = days.get(number)
                    if day is None:
                        day = days[number] = (datetime.datetime(1970, 1, 1) + datetime.timedelta(days=number)).strftime("%Y-%m-%d")
                yield (kind, day, json.dumps(row, sort_keys=True, ensure_ascii=False))

    content = source if not args.partitions else source.repartition(args.partitions)
    decoded = content.rdd.mapPartitions(decode_partition)
    frame_all = spark.createDataFrame(decoded, "kind string, day string, value string").cache()

    out = args.out.rstrip("/")
    archives = frame_all.where(F.col("kind") == "archive").orderBy("day").select("value")
    archives.coalesce(1).write.mode("overwrite").text(out + "/archives")
    rows = frame_all.where(F.col("kind") != "archive")
    rows.write.mode("overwrite").partitionBy("kind", "day").option("compression", "gzip").text(out + "/rows")

    hits = detection_hits(spark, rows, Spec(spec_data), spec_broadcast)
    hits.coalesce(1).write.mode("overwrite").text(out + "/hits")
    write_aggregates(spark, rows, Spec(spec_data), out)
    sigma_rules, sigma_skipped = [], []
    if spec_data.get("sigma") is not None:
        sigma_lines, sigma_rules, sigma_skipped = sigma_hits(spark, rows, Spec(spec_data))
        sigma_lines.coalesce(1).write.mode("overwrite").text(out + "/sigma-hits")

    manifest = {"spec_version": SPEC_VERSION, "tool_version": spec_data["tool_version"],
                "spec_sha256": spec_data.get("detection_sha256") or hashlib.sha256(spec_bytes).hexdigest(),
                "inputs": args.inputs,
                "rules": sorted(COMPUTED_RULES), "rows": "rows/kind=K/day=D/*.txt.gz (JSON Lines)",
                "sigma_rules": sorted(sigma_rules), "sigma_skipped": sigma_skipped,
                "archives": len(entries), "partitioning": "rows by kind and UTC day",
                "aggregates": {"decisions": "aggregates/decisions (Parquet), aggregates/decisions-jsonl",
                               "extraction": "aggregates/extraction (Parquet), aggregates/extraction-jsonl",
                               "exposure": "aggregates/exposure (Parquet), aggregates/exposure-jsonl"}}
    spark.createDataFrame([(json.dumps(manifest, sort_keys=True, indent=1),)], "value string") \
        .coalesce(1).write.mode("overwrite").text(out + "/manifest")
    spark.stop()


# ---------------------------------------------------------------------------------------------
# Detections in Spark SQL / DataFrame operations

# The built-in rules this job computes, hit for hit with the native ones; `fathom analyze
# --from-results` runs every other built-in rule natively over the loaded rows (the manifest says
# which): prompt.injection-normalized and prompt.injection-model.
COMPUTED_RULES = [
    "extraction.volume", "artifact.external-access", "prompt.injection-phrase", "pipeline.burst", "registry.change",
    "extraction.principal-total", "extraction.network-total", "extraction.budget", "extraction.sliding-window",
    "artifact.non-internal-access", "audit.control-plane", "llm.sensitive-output",
]
MIN_TIME = -2 ** 63


def rfc3339(nanos):
    """Timestamp.rfc3339: UTC, fraction to the nanosecond with trailing zeros dropped."""
    seconds, fraction = divmod(nanos, 1_000_000_000)
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def rule_header(spec, rule_id):
    rule = spec.rules[rule_id]
    return {"rule": rule["id"], "title": rule["title"], "level": rule["level"], "atlas": rule["atlas"], "kind": rule["kind"]}


def evidence_ref(archive, member, line, time):
    ref = {"archive": archive, "line": line or 0, "member": member or ""}
    if time is not None and time != MIN_TIME:
        ref["time"] = rfc3339(time)
    return ref


def json_number(value):
    """A double as Swift's JSONEncoder writes it: integral values without a fraction."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


class Text:
    """The native text semantics the rules rely on, from the spec: FoldedText's simple case
    folding (the exported table), IPAddress's strict parser, NetworkSet and IPNetworkKey."""

    _cache = {}

    @classmethod
    def of(cls, data):
        key = id(data)
        if key not in cls._cache:
            cls._cache[key] = cls(data)
        return cls._cache[key]

    def __init__(self, data):
        self.fold_map = {int(a): int(b) for a, b in data["fold_table"]}
        settings = data["settings"]
        self.artifact_internal = [c for c in map(parse_cidr, settings["artifact_internal_networks"]) if c]
        self.internal = [c for c in map(parse_cidr, settings["internal_networks"]) if c]
        literals = data.get("artifact_literals")
        self.artifact_literals = [self.fold(t) for t in literals] if literals is not None else None
        self.artifact_regex = None if literals is not None else re.compile(settings["artifact_pattern"], re.IGNORECASE)
        self.operations = {self.fold(o) for o in settings["artifact_operations"]}
        self.phrases = [(p, self.fold(p)) for p in settings["injection_phrases"]]
        self.pipeline_actions = {self.fold(a) for a in settings["pipeline_actions"]}

    def fold(self, text):
        return text.translate(self.fold_map)

    def artifact_key(self, key):
        if self.artifact_literals is not None:
            folded = self.fold(key)
            return any(literal in folded for literal in self.artifact_literals)
        return self.artifact_regex.search(key) is not None

    def object_access(self, operation, action):
        if operation:
            return self.fold(operation) in self.operations
        return action.lower() in ("read", "write", "delete")


def _parse_v4(text):
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part or len(part) > 3 or not all("0" <= c <= "9" for c in part) or (len(part) > 1 and part[0] == "0"):
            return None
        number = int(part)
        if number > 255:
            return None
        value = value << 8 | number
    return value


def _parse_v6(text):
    head, tail, saw_gap = [], [], False
    rest = text
    if rest.startswith("::"):
        saw_gap, rest = True, rest[2:]
    elif rest.startswith(":"):
        return None
    while rest:
        end = rest.find(":")
        end = len(rest) if end < 0 else end
        piece = rest[:end]
        if "." in piece:
            if end != len(rest):
                return None
            v4 = _parse_v4(piece)
            if v4 is None:
                return None
            words = [v4 >> 16, v4 & 0xFFFF]
            (tail if saw_gap else head).extend(words)
            rest = rest[end:]
            break
        if not piece or len(piece) > 4 or not all(c in "0123456789abcdefABCDEF" for c in piece):
            return None
        (tail if saw_gap else head).append(int(piece, 16))
        rest = rest[end:]
        if rest.startswith("::"):
            if saw_gap:
                return None
            saw_gap, rest = True, rest[2:]
        elif rest.startswith(":"):
            rest = rest[1:]
            if not rest:
                return None
    total = len(head) + len(tail)
    if (saw_gap and total > 7) or (not saw_gap and total != 8):
        return None
    value = 0
    for word in head + [0] * (8 - total) + tail:
        value = value << 16 | word
    return value


def parse_ip(text):
    """IPAddress(text): (is_v4, value) or None."""
    if text is None:
        return None
    text = text.strip(" \t")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:
        text = text[:text.index("%")]
    if ":" in text:
        value = _parse_v6(text)
        if value is None:
            return None
        if value >> 32 == 0xFFFF:
            return (True, value & 0xFFFFFFFF)
        return (False, value)
    value = _parse_v4(text)
    return None if value is None else (True, value)


def parse_cidr(text):
    parts = text.split("/")
    if len(parts) > 2:
        return None
    address = parse_ip(parts[0])
    if address is None:
        return None
    limit = 32 if address[0] else 128
    bits = limit
    if len(parts) == 2:
        if not re.fullmatch(r"[+-]?[0-9]+", parts[1]) or not 0 <= int(parts[1]) <= limit:
            return None
        bits = int(parts[1])
    mask = ((1 << limit) - 1) ^ ((1 << (limit - bits)) - 1)
    return (address[0], address[1] & mask, mask)


def in_networks(blocks, text):
    address = parse_ip(text)
    if address is None:
        return False
    return any(v4 == address[0] and address[1] & mask == network for v4, network, mask in blocks)


def network_key(text):
    """IPNetworkKey.key(for:): the /24 of IPv4, the /64 of IPv6 (RFC 5952 text), or None."""
    address = parse_ip(text)
    if address is None:
        return None
    if address[0]:
        value = address[1] & 0xFFFFFF00
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}/24"
    value = address[1] & ~((1 << 64) - 1)
    words = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_length, index = -1, 0, 0
    while index < 8:
        if words[index] == 0:
            end = index
            while end < 8 and words[end] == 0:
                end += 1
            if end - index > best_length and end - index >= 2:
                best_start, best_length = index, end - index
            index = end
        else:
            index += 1
    hexes = [format(w, "x") for w in words]
    if best_start < 0:
        text = ":".join(hexes)
    else:
        text = ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_length:])
    return text + "/64"


def kind_frame(rows, spec, kind):
    """The canonical rows of `kind` as typed columns (the spec's column types) plus provenance."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    types = {"int64": T.LongType(), "float64": T.DoubleType()}
    fields = [T.StructField(name, types.get(type_, T.StringType())) for name, type_ in spec.columns[kind].items()]
    fields += [T.StructField("archive", T.StringType()), T.StructField("ord", T.LongType())]
    schema = T.StructType(fields)
    return rows.where(F.col("kind") == kind).select(F.from_json("value", schema).alias("r")).select("r.*")


def hit_fields(spec, kind, row):
    """HuntContext.fields: the kind's hit columns (no provenance, no record), nulls as null."""
    out = {}
    for name in sorted(spec.columns[kind]):
        if name in ("member", "line", "record"):
            continue
        type_ = spec.columns[kind][name]
        value = row[name]
        if type_ == "int64":
            value = None if value is None or value == MIN_TIME else (rfc3339(value) if name == "time" else value)
        elif type_ == "float64":
            value = None if value is None or value != value else json_number(float(value))
        elif not value:
            value = None
        out[name] = value
    return out


def event_hit(spec, rule_id, kind, row, key, metrics):
    hit = rule_header(spec, rule_id)
    hit.update(key=key, metrics=metrics, fields=hit_fields(spec, kind, row),
               evidence={"archive": row["archive"], "line": row["line"] or 0, "member": row["member"] or ""})
    if row["time"] is not None and row["time"] != MIN_TIME:
        hit["time"] = rfc3339(row["time"])
    return hit


class ControlPlane:
    """audit.control-plane's judgment of one audit row (ControlPlane.category), from the spec's tables."""

    def __init__(self, data):
        tables = data["control_plane"]
        self.exact = {"cloudtrail": dict(tables["cloudtrail"]), "azure-audit": dict(tables["azure_audit"])}
        self.upper = {"azure-activity": dict(tables["azure_activity"])}
        self.kubernetes = {(verb, resource): category for verb, resource, category in tables["kubernetes"]}
        self.system_prefix = tables["kubernetes_system_prefix"]

    def category(self, source, action, service, principal):
        if source in self.exact:
            return self.exact[source].get(action)
        if source in self.upper:
            return self.upper[source].get(action.upper())
        if source == "k8s-audit":
            category = self.kubernetes.get((action, service))
            if category == "secret-read" and principal.startswith(self.system_prefix):
                return None
            return category
        return None


def control_plane_hits(audit, data):
    """audit.control-plane: one hit per audit row whose outcome is not failure and whose action
    the tables name for its source (an RDD of hit JSON lines)."""
    def partition(items):
        import fathom_spark_job as job
        tables = job.ControlPlane(data)
        local = job.Spec(data)
        for row in items:
            if (row["outcome"] or "") == "failure":
                continue
            action = row["action"] or ""
            category = tables.category(row["source"] or "", action, row["service"] or "", row["principal"] or "")
            if category is not None:
                yield json.dumps(job.event_hit(local, "audit.control-plane", "audit", row, {"principal": row["principal"] or ""},
                                               {"action": action, "category": category}), sort_keys=True, ensure_ascii=False)
    return audit.rdd.mapPartitions(partition)


class SensitiveData:
    """llm.sensitive-output's detectors (SensitiveData): the exported regular expressions — ASCII
    character classes, fixed-width look-behind, so Python's `re` matches as ICU does — and the
    checks each match must pass."""

    def __init__(self, data):
        tables = data["sensitive_output"]
        self.detectors = [(category, re.compile(pattern), validation) for category, pattern, validation in tables["detectors"]]
        self.card_digits = tables["card_digits"]
        self.ssn_excluded = set(tables["ssn_excluded_areas"])
        self.ssn_limit = tables["ssn_area_limit"]
        self.nino_first = tables["nino_excluded_first"]
        self.nino_second = tables["nino_excluded_second"]
        self.nino_never = set(tables["nino_never_issued"])
        self.iban_length = tables["iban_length"]

    def categories(self, text):
        """The category of every validated match, in detector order then position."""
        found = []
        for category, regex, validation in self.detectors:
            for match in regex.finditer(text):
                if self.accepts(validation, match.group(0)):
                    found.append(category)
        return found

    def accepts(self, validation, text):
        if validation == "":
            return True
        if validation == "luhn":
            if "  " in text or "--" in text or " -" in text or "- " in text:
                return False
            values = [ord(c) - 48 for c in text if "0" <= c <= "9"]
            if not self.card_digits[0] <= len(values) <= self.card_digits[1] or len(set(values)) < 2:
                return False
            total = 0
            for index, digit in enumerate(reversed(values)):
                if index % 2 == 1:
                    digit *= 2
                    total += digit - 9 if digit > 9 else digit
                else:
                    total += digit
            return total % 10 == 0
        if validation == "ssn":
            parts = [int(p) for p in text.split("-") if p]
            if len(parts) != 3:
                return False
            area, group, serial = parts
            return area > 0 and area not in self.ssn_excluded and area < self.ssn_limit and group > 0 and serial > 0
        if validation == "nino":
            letters = [c for c in text.upper() if not c.isspace()]
            if len(letters) != 9:
                return False
            first, second = letters[0], letters[1]
            if first in self.nino_first or second in self.nino_second:
                return False
            return first + second not in self.nino_never
        if validation == "iban":
            compact = [c for c in text.upper() if not c.isspace()]
            if not self.iban_length[0] <= len(compact) <= self.iban_length[1]:
                return False
            remainder = 0
            for c in compact[4:] + compact[:4]:
                if "0" <= c <= "9":
                    remainder = (remainder * 10 + ord(c) - 48) % 97
                elif "A" <= c <= "Z":
                    remainder = (remainder * 100 + ord(c) - 55) % 97
                else:
                    return False
            return remainder == 1
        raise ValueError(f"unknown validation {validation!r} in fathom-spec.json")


def sensitive_output_hits(llm, data):
    """llm.sensitive-output: one hit per LLM row whose response holds a validated secret or
    personal identifier; metrics: the sorted categories and the number of matches."""
    def partition(items):
        import fathom_spark_job as job
        detectors = job.SensitiveData(data)
        local = job.Spec(data)
        for row in items:
            response = row["response"] or ""
            if not response:
                continue
            found = detectors.categories(response)
            if found:
                yield json.dumps(job.event_hit(local, "llm.sensitive-output", "llm", row,
                                               {"principal": row["principal"] or "", "session": row["session"] or ""},
                                               {"categories": sorted(set(found)), "count": len(found)}),
                                 sort_keys=True, ensure_ascii=False)
    return llm.rdd.mapPartitions(partition)


def first_last(F, *extra):
    """min/max of (time, archive, ord) with the row's provenance: the native first row (earliest,
    first in archive order on ties) and last row (latest, last in archive order on ties)."""
    cols = ["time", "archive", "ord", "member", "line"] + list(extra)
    return F.min(F.struct(*cols)).alias("first"), F.max(F.struct(*cols)).alias("last")


def aggregate_evidence(row):
    return {"first": evidence_ref(row["first"]["archive"], row["first"]["member"], row["first"]["line"], row["first"]["time"]),
            "last": evidence_ref(row["last"]["archive"], row["last"]["member"], row["last"]["line"], row["last"]["time"])}


def ascii_fold(F, column, spec):
    """FoldedText folding for matching against ASCII needles: every scalar that folds to ASCII
    (A–Z, the Kelvin sign, long s …) translated; other scalars cannot match an ASCII needle."""
    pairs = [(a, b) for a, b in spec.data["fold_table"] if b < 0x80]
    return F.translate(column, "".join(chr(a) for a, _ in pairs), "".join(chr(b) for _, b in pairs))


def endpoint_rows(F, spec, inference):
    """The rows of extraction.volume: the decoded path contains an endpoint pattern (folded)."""
    patterns = spec.settings["endpoint_patterns"]
    text = Text.of(spec.data)
    if all(ord(c) < 0x80 for p in patterns for c in p):
        path = ascii_fold(F, F.coalesce(F.col("path"), F.lit("")), spec)
        folded = [text.fold(p) for p in patterns]
        test = None
        for pattern in folded:
            term = path.contains(pattern)
            test = term if test is None else test | term
        return inference.where(test)
    from pyspark.sql.types import BooleanType
    data = spec.data
    folded = [text.fold(p) for p in patterns]

    def matches(path):
        import fathom_spark_job as job
        value = job.Text.of(data).fold(path or "")
        return any(p in value for p in folded)
    return inference.where(F.udf(matches, BooleanType())(F.col("path")))


def extraction_rows(F, spec, rows):
    """The rows every extraction rule reads (cached): endpoint paths, src_ip and principal with
    null as the empty string (one group, as natively)."""
    inference = kind_frame(rows, spec, "inference")
    return endpoint_rows(F, spec, inference).select(
        "time", F.coalesce("src_ip", F.lit("")).alias("src_ip"), F.coalesce("principal", F.lit("")).alias("principal"),
        "input_hash", "archive", "ord", "member", "line").cache()


def write_aggregates(spark, rows, spec, out):
    """The aggregates the analysis needs, for cluster users: Parquet under aggregates/NAME/ and
    the same rows as JSON Lines under aggregates/NAME-jsonl/ (sorted, one part file). Exact:
    plain counts, countDistinct and sorted id lists; no sketch.

    - decisions: per model, version, decision and UTC minute: decisions served, the sorted
      request ids (the affected-decision list of a window is a union of these minutes);
    - extraction: per src_ip and extraction bucket (the extraction.volume rows): queries, exact
      distinct inputs, distinct principals, first and last time;
    - exposure: model-artifact object accesses (the artifact pattern and operations) per src_ip,
      principal, bucket and action: accesses, distinct keys, bytes, first and last time.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    settings = spec.settings
    minute = 60 * 1_000_000_000
    decisions = (kind_frame(rows, spec, "predictions").where(F.col("time").isNotNull())
                 .groupBy(F.coalesce("model", F.lit("")).alias("model"), F.coalesce("version", F.lit("")).alias("version"),
                          F.coalesce("decision", F.lit("")).alias("decision"),
                          (F.floor(F.col("time") / F.lit(minute)).cast("long") * F.lit(minute)).alias("minute"))
                 .agg(F.count(F.lit(1)).alias("decisions"),
                      F.sort_array(F.collect_list(F.coalesce("request_id", F.lit("")))).alias("request_ids")))
    bucket = settings["extraction_bucket_seconds"] * 1_000_000_000
    extraction = (extraction_rows(F, spec, rows).where(F.col("time").isNotNull())
                  .groupBy("src_ip", (F.floor(F.col("time") / F.lit(bucket)).cast("long") * F.lit(bucket)).alias("bucket"))
                  .agg(F.count(F.lit(1)).alias("query_count"), F.countDistinct("input_hash").alias("distinct_inputs"),
                       F.countDistinct(F.when(F.col("principal") != "", F.col("principal"))).alias("principals"),
                       F.min("time").alias("first_time"), F.max("time").alias("last_time")))
    data = spec.data

    def is_artifact(key, operation, action):
        import fathom_spark_job as job
        text = job.Text.of(data)
        return text.object_access(operation or "", action or "") and text.artifact_key(key or "")
    exposure = (kind_frame(rows, spec, "storage")
                .where(F.udf(is_artifact, T.BooleanType())("key", "operation", "action"))
                .groupBy(*[F.coalesce(c, F.lit("")).alias(c) for c in ("src_ip", "principal", "bucket", "action")])
                .agg(F.count(F.lit(1)).alias("accesses"), F.countDistinct("key").alias("distinct_keys"),
                     F.sum(F.coalesce("bytes", F.lit(0))).alias("bytes"),
                     F.min("time").alias("first_time"), F.max("time").alias("last_time")))
    for name, frame, order in (("decisions", decisions, ["model", "version", "minute", "decision"]),
                               ("extraction", extraction, ["src_ip", "bucket"]),
                               ("exposure", exposure, ["src_ip", "principal", "bucket", "action"])):
        frame = frame.cache()
        frame.write.mode("overwrite").parquet(f"{out}/aggregates/{name}")
        frame.orderBy(*order).select(F.to_json(F.struct(*sorted(frame.columns))).alias("value")).coalesce(1) \
            .write.mode("overwrite").text(f"{out}/aggregates/{name}-jsonl")


def detection_hits(spark, rows, spec, spec_broadcast):
    """Every rule of COMPUTED_RULES, as hit JSON lines (a one-column DataFrame, sorted)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    settings = spec.settings
    data = spec.data
    driver_hits = []
    partials = []

    endpoint = extraction_rows(F, spec, rows)

    # extraction.volume: per src_ip per fixed UTC bucket: rows and exact distinct input hashes.
    bucket = settings["extraction_bucket_seconds"] * 1_000_000_000
    grouped = (endpoint.where(F.col("time").isNotNull())
               .withColumn("bucket", F.floor(F.col("time") / F.lit(bucket)).cast("long"))
               .groupBy("src_ip", "bucket")
               .agg(F.count(F.lit(1)).alias("queries"), F.countDistinct("input_hash").alias("inputs"), *first_last(F))
               .where((F.col("queries") > settings["max_queries"]) | (F.col("inputs") > settings["max_distinct_inputs"])))
    for row in grouped.collect():
        hit = rule_header(spec, "extraction.volume")
        start = row["bucket"] * bucket
        hit.update(key={"src_ip": row["src_ip"]}, metrics={"distinct_inputs": row["inputs"], "query_count": row["queries"]},
                   window={"start": rfc3339(start), "end": rfc3339(start + bucket)}, evidence=aggregate_evidence(row))
        driver_hits.append(hit)

    # extraction.principal-total / network-total: the same rows over the whole range (rows
    # without a time take part, as natively), per principal and per /24 or /64 network.
    def total_hits(rule_id, frame, key_name, extra=None):
        aggs = [F.count(F.lit(1)).alias("queries"), F.countDistinct("input_hash").alias("inputs"), *first_last(F)]
        if extra is not None:
            aggs.append(extra)
        found = (frame.withColumn("time", F.coalesce("time", F.lit(MIN_TIME))).groupBy("group").agg(*aggs)
                 .where((F.col("queries") > settings["total_max_queries"]) | (F.col("inputs") > settings["total_max_distinct_inputs"])))
        for row in found.collect():
            hit = rule_header(spec, rule_id)
            metrics = {"distinct_inputs": row["inputs"], "query_count": row["queries"]}
            if extra is not None:
                metrics["addresses"] = row["addresses"]
            end = row["last"]["time"] + 1 if row["last"]["time"] != 2 ** 63 - 1 else MIN_TIME
            hit.update(key={key_name: row["group"]}, metrics=metrics,
                       window={"start": rfc3339(row["first"]["time"]), "end": rfc3339(end)}, evidence=aggregate_evidence(row))
            driver_hits.append(hit)

    total_hits("extraction.principal-total", endpoint.where(F.col("principal") != "").withColumn("group", F.col("principal")),
               "principal")
    def network_of(address):
        import fathom_spark_job as job
        return job.network_key(address)
    network = F.udf(network_of, T.StringType())
    total_hits("extraction.network-total",
               endpoint.withColumn("group", network(F.col("src_ip"))).where(F.col("group").isNotNull()),
               "network", F.countDistinct("src_ip").alias("addresses"))

    # extraction.budget: per principal per fixed UTC day, rows over the daily budget.
    day = 86_400 * 1_000_000_000
    budget = (endpoint.where(F.col("time").isNotNull() & (F.col("principal") != ""))
              .withColumn("bucket", F.floor(F.col("time") / F.lit(day)).cast("long"))
              .groupBy("principal", "bucket").agg(F.count(F.lit(1)).alias("queries"), *first_last(F))
              .where(F.col("queries") > settings["daily_budget"]))
    for row in budget.collect():
        hit = rule_header(spec, "extraction.budget")
        start = row["bucket"] * day
        hit.update(key={"principal": row["principal"]}, metrics={"budget": settings["daily_budget"], "query_count": row["queries"]},
                   window={"start": rfc3339(start), "end": rfc3339(start + day)}, evidence=aggregate_evidence(row))
        driver_hits.append(hit)

    driver_hits += sliding_window_hits(F, spec, endpoint)

    # Event rules, judged per row on the executors with the native text semantics.
    storage = kind_frame(rows, spec, "storage")
    storage_columns = storage.columns

    def artifact_partition(items):
        import fathom_spark_job as job
        text = job.Text.of(data)
        local = job.Spec(data)
        for row in items:
            caller = row["src_ip"] or ""
            operation = row["operation"] or ""
            if not text.object_access(operation, row["action"] or "") or not text.artifact_key(row["key"] or ""):
                continue
            for rule_id, blocks in (("artifact.external-access", text.artifact_internal),
                                    ("artifact.non-internal-access", text.internal)):
                if not job.in_networks(blocks, caller):
                    yield json.dumps(job.event_hit(local, rule_id, "storage", row, {"src_ip": caller},
                                                   {"operation": operation}), sort_keys=True, ensure_ascii=False)
    partials.append(storage.select(*storage_columns).rdd.mapPartitions(artifact_partition))

    llm = kind_frame(rows, spec, "llm")

    def phrase_partition(items):
        import fathom_spark_job as job
        text = job.Text.of(data)
        local = job.Spec(data)
        for row in items:
            prompt = text.fold(row["prompt"] or "")
            found = [phrase for phrase, folded in text.phrases if folded in prompt]
            if found:
                yield json.dumps(job.event_hit(local, "prompt.injection-phrase", "llm", row,
                                               {"principal": row["principal"] or "", "session": row["session"] or ""},
                                               {"phrase": found[0], "phrases": found}), sort_keys=True, ensure_ascii=False)
    partials.append(llm.rdd.mapPartitions(phrase_partition))
    partials.append(sensitive_output_hits(llm, data))
    partials.append(control_plane_hits(kind_frame(rows, spec, "audit"), data))

    # pipeline.burst: counts per (principal, action, pipeline, UTC day) in Spark; the mean and
    # sample deviation per (pipeline, action) over its groups summed in sorted order, as natively.
    def is_wanted(action):
        import fathom_spark_job as job
        text = job.Text.of(data)
        return text.fold(action or "") in text.pipeline_actions
    wanted = F.udf(is_wanted, T.BooleanType())
    width = settings["pipeline_bucket_seconds"] * 1_000_000_000
    pipeline = kind_frame(rows, spec, "pipeline")
    groups = (pipeline.where(F.col("time").isNotNull() & wanted(F.col("action")))
              .select(F.coalesce("principal", F.lit("")).alias("principal"), F.coalesce("action", F.lit("")).alias("action"),
                      F.coalesce("pipeline", F.lit("")).alias("pipeline"),
                      F.floor(F.col("time") / F.lit(width)).cast("long").alias("bucket"), "time", "archive", "ord", "member", "line")
              .groupBy("principal", "action", "pipeline", "bucket").agg(F.count(F.lit(1)).alias("count"), *first_last(F))
              .collect())
    series = {}
    for row in groups:
        series.setdefault((row["pipeline"], row["action"]), []).append(row)
    sigmas = settings["pipeline_sigmas"]
    for members in series.values():
        values = sorted(row["count"] for row in members)
        if len(values) < 2:
            continue
        mean = float(sum(values)) / float(len(values))
        squares = 0.0
        for value in values:
            squares += (float(value) - mean) * (float(value) - mean)
        deviation = math.sqrt(squares / float(len(values) - 1))
        threshold = mean + sigmas * deviation
        for row in members:
            if float(row["count"]) > threshold:
                hit = rule_header(spec, "pipeline.burst")
                start = row["bucket"] * width
                hit.update(key={"action": row["action"], "pipeline": row["pipeline"], "principal": row["principal"]},
                           metrics={"count": row["count"], "groups": len(values), "mean": json_number(mean),
                                    "stdev": json_number(deviation), "threshold": json_number(threshold)},
                           window={"start": rfc3339(start), "end": rfc3339(start + width)}, evidence=aggregate_evidence(row))
                driver_hits.append(hit)

    driver_hits += registry_hits(F, spec, kind_frame(rows, spec, "registry"))

    lines = [json.dumps(hit, sort_keys=True, ensure_ascii=False) for hit in driver_hits]
    result = spark.createDataFrame([(line,) for line in lines], "value string")
    for partial in partials:
        result = result.union(spark.createDataFrame(partial.map(lambda line: (line,)), "value string"))
    return result.orderBy("value")


def registry_hits(F, spec, registry):
    """registry.change: rows whose status says success and whose event names a change (the
    spec's tables), filtered on the executors; the rollback pass (a deploy to a lower version
    number than the deployment's previous one) over the few change rows in time order."""
    tables = spec.data["registry"]
    successes = set(tables["success_statuses"])
    not_change = tables["not_change_needles"]
    changes = [(entry[0], entry[1:]) for entry in tables["change_needles"]]
    workload_events = set(tables["workload_events"])
    workload_stage = tables["workload_stage"]

    def is_success(status):
        text = (status or "").strip(" \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000").lower()
        if not text or text in successes:
            return True
        return re.fullmatch(r"[+-]?[0-9]+", text) is not None and 200 <= int(text) <= 299

    def change(event):
        text = (event or "").lower()
        if not text or any(needle in text for needle in not_change):
            return None
        for name, needles in changes:
            if any(needle in text for needle in needles):
                return name
        return None

    def judge(event, status, to_stage, version):
        if not is_success(status):
            return None
        if (event or "").lower() in workload_events and (to_stage or "") == workload_stage and version:
            return "deploy"
        return change(event)

    from pyspark.sql.types import StringType
    judged = registry.withColumn("change", F.udf(judge, StringType())("event", "status", "to_stage", "version")) \
        .where(F.col("change").isNotNull())
    found = sorted(judged.collect(), key=lambda r: (r["time"] if r["time"] is not None else MIN_TIME, r["archive"], r["ord"]))
    previous = {}
    hits = []
    for row in found:
        kind = row["change"]
        version = row["version"] or ""
        if kind == "deploy":
            digits = version.lstrip("vV")
            if re.fullmatch(r"[+-]?[0-9]+", digits):
                number = int(digits)
                deployment = (row["environment"] or "") + "/" + (row["model"] or "")
                if deployment in previous and number < previous[deployment]:
                    kind = "rollback"
                previous[deployment] = number
        hits.append(event_hit(spec, "registry.change", "registry", row,
                              {"model": row["model"] or "", "version": version}, {"change": kind, "event": row["event"] or ""}))
    return hits


def exceeded_runs(slots, per_window, threshold):
    """ExtractionBeyond.exceededRuns: exceeded sliding windows over per-slot counts, merged into
    runs of (first start, last start, peak, peak start, positions)."""
    active = sorted(slots)
    if not active or per_window <= 0:
        return []
    counts = [slots[s] for s in active]
    runs = []
    low = high = 0
    total = 0
    following = None
    for slot in active:
        start = slot - per_window + 1 if following is None else max(following, slot - per_window + 1)
        while start <= slot:
            while high < len(active) and active[high] < start + per_window:
                total += counts[high]
                high += 1
            while low < high and active[low] < start:
                total -= counts[low]
                low += 1
            if total > threshold:
                if runs and start <= runs[-1][1] + per_window:
                    first, _, peak, peak_start, positions = runs[-1]
                    if total > peak:
                        peak, peak_start = total, start
                    runs[-1] = [first, start, peak, peak_start, positions + 1]
                else:
                    runs.append([start, start, total, start, 1])
            start += 1
        following = slot + 1
    return runs


def sliding_window_hits(F, spec, endpoint):
    """extraction.sliding-window: per src_ip and per principal, query counts per slide slot in
    Spark (only for values with more rows than the threshold); the window sums and merged runs
    over those slots as natively; the first and last query of each run from Spark."""
    settings = spec.settings
    slide = settings["slide_seconds"] * 1_000_000_000
    per_window = max(1, settings["sliding_window_seconds"] // settings["slide_seconds"])
    threshold = settings["max_queries"]
    hits = []
    timed = endpoint.where(F.col("time").isNotNull()).withColumn("slot", F.floor(F.col("time") / F.lit(slide)).cast("long"))
    for column in ("src_ip", "principal"):
        keyed = timed.withColumnRenamed(column, "value")
        if column == "principal":
            keyed = keyed.where(F.col("value") != "")
        heavy = keyed.groupBy("value").count().where(F.col("count") > threshold).select("value")
        slots = keyed.join(heavy, "value").groupBy("value", "slot").count().collect()
        per_value = {}
        for row in slots:
            per_value.setdefault(row["value"], {})[row["slot"]] = row["count"]
        spans = []
        for value in sorted(per_value):
            for run in exceeded_runs(per_value[value], per_window, threshold):
                spans.append((value, run))
        if not spans:
            continue
        span_frame = endpoint.sparkSession.createDataFrame(
            [(i, value, run[0] * slide, (run[1] + per_window) * slide) for i, (value, run) in enumerate(spans)],
            "span long, value string, low long, high long")
        edges = {row["span"]: row for row in keyed.join(F.broadcast(span_frame), "value")
                 .where((F.col("time") >= F.col("low")) & (F.col("time") < F.col("high")))
                 .groupBy("span").agg(*first_last(F)).collect()}
        for index, (value, run) in enumerate(spans):
            edge = edges.get(index)
            if edge is None:
                continue
            hit = rule_header(spec, "extraction.sliding-window")
            hit.update(key={"by": column, column: value},
                       metrics={"peak_count": run[2], "peak_start": rfc3339(run[3] * slide), "windows": run[4]},
                       window={"start": rfc3339(run[0] * slide), "end": rfc3339((run[1] + per_window) * slide)},
                       evidence=aggregate_evidence(edge))
            hits.append(hit)
    return hits


# ---------------------------------------------------------------------------------------------
# Sigma rules, compiled to Spark SQL by `fathom spark-job --rules` (SparkSigma.swift)

def register_sigma_functions(spark, spec):
    """The functions the compiled expressions call: fathom_fold (FoldedText's simple case folding,
    from the exported table; null stays null) and fathom_cidr (the native strict address parser
    and CIDR test)."""
    from pyspark.sql import types as T
    fold_map = {int(a): int(b) for a, b in spec.data["fold_table"]}

    def fold(text):
        return None if text is None else text.translate(fold_map)

    def cidr(text, block):
        import fathom_spark_job as job
        parsed = job.parse_cidr(block)
        return parsed is not None and job.in_networks([parsed], text or "")
    spark.udf.register("fathom_fold", fold, T.StringType())
    spark.udf.register("fathom_cidr", cidr, T.BooleanType())


def sigma_hit(spec, rule, row):
    """SigmaEngine's hit of one row: the rule's header, no key or metrics, the row's fields and
    its evidence (archive, member, line), as event_hit writes them."""
    hit = {"rule": rule["id"], "title": rule["title"], "level": rule["level"], "atlas": rule["atlas"], "kind": rule["kind"],
           "key": {}, "metrics": {}, "fields": hit_fields(spec, rule["kind"], row),
           "evidence": {"archive": row["archive"], "line": row["line"] or 0, "member": row["member"] or ""}}
    if row["time"] is not None and row["time"] != MIN_TIME:
        hit["time"] = rfc3339(row["time"])
    return hit


def sigma_hits(spark, rows, spec):
    """The hits of every compiled Sigma rule: per source kind one pass over its rows with each
    rule's expression as a column. An expression Spark refuses (a regular expression Java cannot
    compile) is checked first on one row of nulls, and that rule is left to the native engine.
    Returns (hit lines, the rule ids computed, [{id, reason}] of the rules not computed)."""
    from pyspark.sql import functions as F
    register_sigma_functions(spark, spec)
    sigma = spec.data["sigma"]
    skipped = list(sigma["skipped"])
    by_kind = {}
    for rule in sigma["rules"]:
        by_kind.setdefault(rule["kind"], []).append(rule)
    computed = []
    result = spark.createDataFrame([], "value string")
    data = spec.data
    for kind in sorted(by_kind):
        frame = kind_frame(rows, spec, kind)
        probe = spark.createDataFrame([tuple([None] * len(frame.schema.fields))], frame.schema)
        usable = []
        for rule in by_kind[kind]:
            try:
                probe.select(F.expr(rule["condition"])).collect()
                usable.append(rule)
            except Exception as error:  # noqa: BLE001 — Spark's analysis and runtime errors alike
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                skipped.append({"id": rule["id"], "reason": "Spark refused the compiled expression: " + first[:300]})
        if not usable:
            continue
        computed += [rule["id"] for rule in usable]
        flags = [F.expr(rule["condition"]).alias(f"_sigma_{index}") for index, rule in enumerate(usable)]
        flagged = frame.select("*", *flags).where(F.greatest(*[F.coalesce(F.col(f"_sigma_{i}"), F.lit(False))
                                                               for i in range(len(usable))]) if len(usable) > 1
                                                  else F.coalesce(F.col("_sigma_0"), F.lit(False)))

        def partition(items, usable=usable):
            import fathom_spark_job as job
            local = job.Spec(data)
            for row in items:
                for index, rule in enumerate(usable):
                    if row[f"_sigma_{index}"]:
                        yield (json.dumps(job.sigma_hit(local, rule, row), sort_keys=True, ensure_ascii=False),)
        result = result.union(spark.createDataFrame(flagged.rdd.mapPartitions(partition), "value string"))
    return result.orderBy("value"), computed, sorted(skipped, key=lambda entry: entry["id"])


if __name__ == "__main__":
    main()
