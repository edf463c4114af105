#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets into Benchmarks/fuzz/corpus/<target>/.

Sources: the repository's own fixtures (Tests/*/Fixtures: archives, formats, bad-inputs,
injection), SampleData (decompressed and cut to a few KB), the Sigma rules embedded in
SigmaRules/PlaybookSigma.swift, every .yml/.yaml of the repository, plus a few hand-made
inputs per target (multi-member gzip with every header flag, GNU/PAX/ustar tars, JSON arrays and
envelopes, CSV, pickles of every protocol). Files are named by the SHA-1 of their content, as
libFuzzer names corpus files, so running this again adds nothing twice and keeps what the fuzzer
found. Standard library only; the `zstd` command (installed by .ci/install-deps) makes the zstd
seeds and is skipped when missing.

Usage: make-seeds.py [--out DIR] [target ...]
"""
import argparse
import gzip
import hashlib
import io
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
ARCHIVES = os.path.join(ROOT, "Tests/FathomStoreTests/Fixtures/archives")
FORMATS = os.path.join(ROOT, "Tests/FathomCoreTests/Fixtures/formats")
BAD = os.path.join(ROOT, "Tests/FathomCoreTests/Fixtures/bad-inputs")
INJECTION = os.path.join(ROOT, "Tests/FathomCoreTests/Fixtures/injection")
SAMPLE = os.path.join(ROOT, "SampleData")
REGRESSIONS = os.path.join(ROOT, "Tests/FathomCoreTests/Fixtures/fuzz-regressions")

CUT = 4096          # text taken from each large sample
MAX_SEED = 64 << 10  # no seed above this

TARGETS = ["zstd", "gzip", "tar", "framer", "decoders", "json", "delimited", "sigma", "casefile", "pickle"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files(folder, *suffixes):
    if not os.path.isdir(folder):
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".build"))
        for name in sorted(filenames):
            if not suffixes or name.endswith(suffixes):
                out.append(os.path.join(dirpath, name))
    return out


def cut_lines(data, limit=CUT):
    """The first whole lines of `data` up to about `limit` bytes."""
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1] if end > 0 else data[:limit]


def decompress(path):
    data = read(path)
    try:
        if path.endswith(".gz"):
            return gzip.decompress(data)
        if path.endswith(".zst"):
            return subprocess.run(["zstd", "-dcq"], input=data, capture_output=True, check=False).stdout
    except Exception:
        return b""
    return data


def have_zstd():
    return shutil.which("zstd") is not None


def zstd(data, *flags):
    return subprocess.run(["zstd", "-q", "-c", *flags], input=data, capture_output=True, check=True).stdout


def gzip_member(data, name=None, comment=None, extra=None, hcrc=False, mtime=0, level=6):
    """One gzip member with the optional header fields zlib's gzip writer never sets."""
    flags = (0x04 if extra else 0) | (0x08 if name else 0) | (0x10 if comment else 0) | (0x02 if hcrc else 0)
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + b"\x00\x03"
    if extra:
        header += struct.pack("<H", len(extra)) + extra
    if name:
        header += name + b"\x00"
    if comment:
        header += comment + b"\x00"
    if hcrc:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = deflater.compress(data) + deflater.flush()
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def tar_bytes(members, fmt):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1772582400
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_header(name, size_field, typeflag=b"0", magic=b"ustar\x0000"):
    """A raw 512-byte header with any size field (e.g. GNU base-256) and a correct checksum."""
    block = bytearray(512)
    block[0:len(name)] = name
    block[100:108] = b"0000644\x00"
    block[108:116] = b"0000000\x00"
    block[116:124] = b"0000000\x00"
    block[124:136] = size_field
    block[136:148] = b"15000000000\x00"
    block[156:157] = typeflag
    block[257:265] = magic
    block[148:156] = b" " * 8
    checksum = sum(block)
    block[148:156] = b"%06o\x00 " % checksum
    return bytes(block)


class Corpus:
    def __init__(self, out):
        self.out = out
        self.counts = {}

    def add(self, target, data):
        if data is None or len(data) > MAX_SEED:
            return
        folder = os.path.join(self.out, target)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


# Header bytes of the targets that take them (see the target sources and ChunkPlan):
WHOLE = 0x00        # one chunk
SMALL = 0x37        # chunks of 64 and 3 bytes
ODD = 0xA4          # chunks of 5 and 512 bytes
ONE = 0x01          # one byte at a time


def text_samples():
    """(name, text) of every text input the repository holds, large ones cut."""
    out = []
    for path in files(FORMATS, ".log", ".jsonl", ".json"):
        out.append((os.path.basename(path), cut_lines(read(path), 16384)))
    for path in files(FORMATS, ".json.gz"):
        out.append((os.path.basename(path), cut_lines(decompress(path), 16384)))
    for path in files(BAD, ".jsonl"):
        out.append((os.path.basename(path), cut_lines(read(path))))
    for path in files(INJECTION, ".jsonl"):
        out.append((os.path.basename(path), cut_lines(read(path))))
    for path in files(ARCHIVES, ".log"):
        out.append((os.path.basename(path), cut_lines(read(path))))
    for path in files(SAMPLE, ".gz", ".zst"):
        data = decompress(path)
        if data:
            out.append((os.path.basename(path), cut_lines(data)))
    # Hand-made: CSV/TSV (no CSV fixture exists), arrays and envelopes, odd line endings.
    out += [
        ("csv", b"timestamp,src_ip,path,status,bytes\n2026-03-02T10:00:00Z,10.0.0.1,/v1/predict,200,512\n"
                b"2026-03-02T10:00:01.5Z,\"10.0.0.2\",\"/v1/pre\"\"dict\",404,\n"),
        ("csv-profile", b"when,ip,url\n1772582400,192.0.2.1,/a\n1772582400123,192.0.2.2,\"/b,c\"\n"),
        ("tsv", b"time\tclient_ip\tmodel\tprompt\n2026-03-02 10:00:00\t10.0.0.1\tgpt\thello\tworld\n"),
        ("array", b'[{"timestamp":"2026-03-02T10:00:00Z","src_ip":"10.0.0.1","path":"/v1/predict"},\n'
                  b' {"timestamp":1772582400,"client":{"addr":"10.0.0.2"}}, 1, "x", [], null]'),
        ("envelope", b'{"Records":[{"eventTime":"2026-03-02T10:00:00Z","eventName":"GetObject",'
                     b'"eventSource":"s3.amazonaws.com"}],"next":"x"}\n{"records":[{"time":"2026-03-02T10:00:00Z"}]}'),
        ("envelope-pretty", b'\xef\xbb\xbf{\n  "meta": {"a": [1, {"b": "]"}]},\n  "records": [\n    {"x": "\\"}"},\n    {}\n  ]\n}\n'),
        ("crlf", b'{"ts":"2026-03-02T10:00:00Z","body":"a"}\r\n\r\n  \r\n{"ts":"2026-03-02T10:00:01Z"}'),
        ("profile-json", b'{"ts":"2026-03-02T10:00:00Z","client":{"addr":"10.0.0.1"},"auth":{"key_id":"k"},'
                         b'"body":"hi","m":"fraud","code":200,"meta":{"when":1772582400}}\n'),
    ]
    return out


def build_zstd(corpus):
    if not have_zstd():
        print("make-seeds: zstd not found; no zstd seeds made", file=sys.stderr)
        return
    for path in files(ARCHIVES, ".zst") + files(BAD, ".zst"):
        data = read(path)
        for header in (WHOLE, SMALL, ODD):
            corpus.add("zstd", bytes([header, 0]) + data)
    for name, text in text_samples()[:12]:
        small = text[:2048]
        frames = [zstd(small, "-3"), zstd(small, "-19", "--check"), zstd(small, "--no-check", "-1")]
        corpus.add("zstd", bytes([WHOLE, 0]) + frames[0])
        corpus.add("zstd", bytes([SMALL, 0]) + frames[1] + frames[2])
        # Truncated frame and a frame with a flipped byte in the middle.
        corpus.add("zstd", bytes([WHOLE, 0]) + frames[1][: len(frames[1]) * 2 // 3])
        broken = bytearray(frames[0])
        broken[len(broken) // 2] ^= 0x5A
        corpus.add("zstd", bytes([ODD, 0]) + bytes(broken) + frames[2])
    # A skippable frame, an empty frame, a frame after damage injected by the source.
    skippable = struct.pack("<II", 0x184D2A50, 5) + b"hello"
    corpus.add("zstd", bytes([WHOLE, 0]) + skippable + zstd(b"") + zstd(b"abc\n" * 100))
    corpus.add("zstd", bytes([ONE, 0x82]) + zstd(b"line\n" * 50) + zstd(b"more\n"))


def build_gzip(corpus):
    for path in files(ARCHIVES, ".gz") + files(BAD, ".gz") + files(FORMATS, ".gz"):
        data = read(path)
        for header in (WHOLE, SMALL, ODD):
            corpus.add("gzip", bytes([header, 0]) + data)
    for name, text in text_samples()[:12]:
        small = text[:2048]
        member = gzip_member(small)
        corpus.add("gzip", bytes([WHOLE, 0]) + member)
        corpus.add("gzip", bytes([SMALL, 0]) + gzip_member(small[:500], name=b"a.log", comment=b"c",
                                                             extra=b"AB\x02\x00xy", hcrc=True) + member)
        corpus.add("gzip", bytes([WHOLE, 0]) + member[: len(member) // 2])
        broken = bytearray(member)
        broken[len(broken) // 2] ^= 0x21
        corpus.add("gzip", bytes([ODD, 0]) + bytes(broken) + b"\x00" * 7 + gzip_member(b"after\n"))
    corpus.add("gzip", bytes([WHOLE, 0]) + gzip_member(b"") + b"\x00" * 512)
    corpus.add("gzip", bytes([ONE, 0x83]) + gzip_member(b"x\n" * 100, level=0) + gzip_member(b"y\n", level=9))
    # Wrong CRC and wrong ISIZE.
    member = bytearray(gzip_member(b"crc\n" * 10))
    member[-8] ^= 1
    corpus.add("gzip", bytes([WHOLE, 0]) + bytes(member))
    member = bytearray(gzip_member(b"size\n" * 10))
    member[-1] ^= 1
    corpus.add("gzip", bytes([WHOLE, 0]) + bytes(member))


def build_tar(corpus):
    tars = [read(p) for p in files(ARCHIVES, ".tar") + files(BAD, ".tar")]
    for path in files(ARCHIVES, ".tar.gz", ".tar.zst"):
        tars.append(decompress(path))
    small = b'{"timestamp":"2026-03-02T10:00:00Z"}\n' * 3
    long_name = ("models/" + "deep/" * 30 + "gateway-2026-03-02.jsonl").encode()
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        members = [("a.log", small, "file"), ("dir", b"", "dir"), ("link", b"a.log", "link"), ("empty.log", b"", "file")]
        if fmt != tarfile.USTAR_FORMAT:
            members.append((long_name.decode(), small * 3, "file"))
        tars.append(tar_bytes(members, fmt))
    # GNU base-256 size, a PAX size overriding the header, a cut member, a lone zero block.
    tars.append(tar_header(b"b256.log", b"\x80" + b"\x00" * 10 + b"\x05") + b"abcde" + b"\x00" * 507 + b"\x00" * 1024)
    pax = b"30 path=pax/overridden-name.log\n" + b"11 size=12\n"
    tars.append(tar_header(b"PaxHeader", b"%011o\x00" % len(pax), typeflag=b"x") + pax + b"\x00" * (512 - len(pax))
                + tar_header(b"short", b"00000000001\x00") + b"hello world\n" + b"\x00" * 500 + b"\x00" * 1024)
    tars.append(tar_header(b"huge.log", b"77777777777\x00") + b"data")
    tars.append(tar_header(b"one.log", b"00000000003\x00") + b"abc" + b"\x00" * 509 + b"\x00" * 512 + b"junk")
    tars.append(tar_header(b"L", b"00000000020\x00", typeflag=b"L") + b"x" * 16 + b"\x00" * 496
                + tar_header(b"ignored", b"00000000000\x00") + b"\x00" * 1024)
    for data in tars:
        if not data:
            continue
        data = data[:MAX_SEED - 2]
        corpus.add("tar", bytes([WHOLE, 0x00]) + data)
        corpus.add("tar", bytes([ODD, 0x00]) + data)
        corpus.add("tar", bytes([SMALL, 0x30]) + data)
    corpus.add("tar", bytes([SMALL, 0x81]) + tars[-5])
    corpus.add("tar", bytes([WHOLE, 0x10]) + tars[-7])
    corpus.add("tar", bytes([ONE, 0x20]) + tars[-7][:2048])


def build_framer(corpus):
    for name, text in text_samples():
        corpus.add("framer", bytes([WHOLE, 0]) + text)
        corpus.add("framer", bytes([SMALL, 0x07]) + text)   # limit 64
        corpus.add("framer", bytes([ODD, 0x09]) + text)     # limit 256
    for text in (b"[1,,2]", b"[", b'[{"a":"\\"', b'{"Records":[1,2]} trailing', b'{"records":[]}{"records":[3]}',
                 b"\xef\xbb", b"\xef\xbb\xbf[\"x\"]", b"a\r\nb\r\n\r\n", b'{"a":1}\n' * 3, b"[[[[]]]]"):
        for limit in (0, 1, 3, 5):
            corpus.add("framer", bytes([ONE, limit]) + text)


def build_decoders(corpus):
    count = 10  # record formats in FormatRegistry.builtIn (the format byte wraps around anyway)
    for index, (name, text) in enumerate(text_samples()):
        corpus.add("decoders", bytes([WHOLE, 0, 0]) + text)
        corpus.add("decoders", bytes([SMALL, 1 + index % count, index % 7]) + text)
    for name, text in text_samples():
        if name in ("csv", "tsv"):
            for kind in range(7):
                corpus.add("decoders", bytes([WHOLE, 0, kind]) + text)
        if name == "csv-profile":
            corpus.add("decoders", bytes([WHOLE, 0, 0x20]) + text)
        if name == "profile-json":
            corpus.add("decoders", bytes([WHOLE, 0, 0x10]) + text)


def build_json(corpus):
    seen = 0
    for name, text in text_samples():
        stripped = text.strip()
        if stripped.startswith((b"{", b"[")) and b"\n" in stripped and not stripped.startswith(b"[") and name.endswith(".json"):
            corpus.add("json", stripped)
        for line in text.splitlines()[:25]:
            line = line.strip()
            if line.startswith((b"{", b"[")):
                corpus.add("json", line)
                seen += 1
    for path in files(FORMATS, ".json") + files(os.path.join(SAMPLE, "sbom"), ".json") + [os.path.join(SAMPLE, "expected.json")]:
        if os.path.exists(path):
            corpus.add("json", read(path)[:MAX_SEED])
    for text in (b'"\\ud83d\\ude00\\u0000\\ud800x\\/\\b\\f\\n\\r\\t"', b"-0.0e+00", b"123456789012345678901234567890",
                 b"-9223372036854775808", b"9223372036854775808", b"1e400", b'{"a":1,"a":2,"\\u0061":3}',
                 b"[" * 600 + b"]" * 600, b'{"a":' * 100 + b"1" + b"}" * 100, b" \t\r\n[true,false,null] ",
                 b'{"":""}', b'["\xff\xfe"]', b'{"k\\"ey":{"n":[1,2,{"x":null}]}}', b"[1,2,]", b"{,}"):
        corpus.add("json", text)


def build_delimited(corpus):
    for path in files(FORMATS, ".log") + files(ARCHIVES, "plain.log"):
        corpus.add("delimited", cut_lines(read(path)))
    for name, text in text_samples():
        if name in ("csv", "csv-profile", "tsv"):
            corpus.add("delimited", text)
    for text in (b'a,"b""c",d\n"unterminated\n"x"y,z\n,,,\n\n', b"2026-03-04T08:15:00.123456789+05:30",
                 b"06/Feb/2019:00:00:38 +0000", b"[06/feb/2019:00:00:38.5 -1200]", b"1772582400.123", b"1772582400123456789",
                 b"1.5e9", b"2024-02-29 23:59:60 UTC", b"1677-09-21T00:12:43.145224192Z", b"2262-04-11T23:47:16.854775807Z",
                 b"2026-03-04 08:15 GMT", b"2026-03-04t08:15:00,5z", b"-9223372036854775808",
                 b'192.0.2.1 - - [06/Feb/2019:00:00:38 +0000] "GET /a\\" HTTP/1.1" 200 - "-" "ua"'):
        corpus.add("delimited", text)


def swift_multiline_strings(path):
    """The multi-line string literals of a Swift file, dedented by their closing delimiter."""
    text = read(path).decode("utf-8", "replace")
    out = []
    for match in re.finditer(r'"""\n(.*?)\n([ \t]*)"""', text, re.S):
        indent = match.group(2)
        lines = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in match.group(1).split("\n")]
        out.append("\n".join(lines) + "\n")
    return out


def yaml_files():
    out = []
    for folder in (SAMPLE, os.path.join(ROOT, "Benchmarks"), os.path.join(ROOT, "Tests"), os.path.join(ROOT, "Sources")):
        for path in files(folder, ".yml", ".yaml"):
            if "/fuzz/corpus/" not in path and "/fuzz-regressions/" not in path:
                out.append(read(path))
    return out


def build_sigma(corpus):
    rules = []
    # The Sigma library (SigmaRules/PlaybookSigma.swift, wherever the layer that holds it lives).
    for path in files(os.path.join(ROOT, "Sources"), "PlaybookSigma.swift"):
        rules += swift_multiline_strings(path)
    for path in files(os.path.join(ROOT, "Tests/FathomCoreTests"), "Sigma.swift", "SigmaTests.swift"):
        rules += [s for s in swift_multiline_strings(path) if "detection" in s or "correlation" in s]
    # The detection snippets of DetectSigmaTests' case tables, in the test's rule template.
    for path in files(os.path.join(ROOT, "Tests/FathomCoreTests"), "SigmaTests.swift"):
        source = read(path).decode("utf-8", "replace")
        for match in re.finditer(r'\("((?:[^"\\]|\\.)*)", \[', source):
            snippet = match.group(1).encode().decode("unicode_escape")
            if "condition" not in snippet:
                continue
            body = "\n".join("  " + line for line in snippet.split("\n"))
            rules.append(f"title: test\nname: t\nlogsource:\n  product: fathom\n  service: storage\ndetection:\n{body}\n")
    for rule in rules:
        data = rule.encode()
        corpus.add("sigma", data)
        # Each document of a multi-document file alone, and a cross-file split.
        documents = data.split(b"\n---\n")
        for document in documents:
            corpus.add("sigma", document)
        if len(documents) > 1:
            corpus.add("sigma", documents[0] + b"\n#---file---\n" + b"\n---\n".join(documents[1:]))
    for data in yaml_files():
        corpus.add("sigma", data)
    corpus.add("sigma", b"title: t\nlogsource: {product: fathom, service: storage}\ndetection:\n  sel:\n"
                        b"    key|re: '(a+)+$'\n    src_ip|cidr: [10.0.0.0/8, '::/0', 300.1.1.1/40]\n"
                        b"    key|contains|all: ['*', '?', '\\\\*']\n  condition: 1 of sel* and not (all of them)\n")
    corpus.add("sigma", b"&a [*a, *a]\n")


def build_casefile(corpus):
    for data in yaml_files():
        corpus.add("casefile", data)
    # The example in CaseFile.swift's documentation comment.
    for text in files(os.path.join(ROOT, "Sources"), "CaseFile.swift"):
        doc = "\n".join(line[4:] for line in read(text).decode().splitlines() if line.startswith("/// "))
        example = doc.split("```yaml\n", 1)[-1].split("```", 1)[0] if "```yaml" in doc else ""
        if example:
            corpus.add("casefile", example.encode())
    corpus.add("casefile", b"name: acme-gateway\nkind: inference\nformat: json\nfields:\n  time: ts\n"
                           b"  src_ip: [client.addr, x_forwarded_for]\n  principal: auth.key_id\n  input: body\n")
    corpus.add("casefile", b"extraction:\n  window: 1h\n  slide: 5m\nnetwork:\n  internal: [10.0.0.0/8, 'fd00::/8']\n")
    corpus.add("casefile", b"awareness_time: '2026-03-04 08:15:00 +01:00'\ninternal_networks: [10.0.0.0/33, '::ffff:0:0/96', x]\n"
                           b"containment:\n  - {time: 1772582400, action: a}\nmodels:\n  - name: m\n    daily_volume: 1e3\n")


def build_pickle(corpus):
    class Reduce:
        def __init__(self, target, args):
            self.target, self.args = target, args

        def __reduce__(self):
            return self.target, self.args

    import collections
    import datetime
    import os as os_module
    values = [
        {"weight": [1.0, 2.5], "name": "layer", "n": 2 ** 70, "b": b"\x00\x01", "t": (1, None, True)},
        collections.OrderedDict(a=1, b=[1, 2, 3]),
        [datetime.datetime(2026, 3, 4, 8, 15), {1, 2}, frozenset([3]), bytearray(b"ab")],
        Reduce(os_module.system, ("id",)),        # pickled as a reference; never executed
        Reduce(eval, ("1+1",)),
        Reduce(getattr, (collections, "OrderedDict")),
        "x" * 300,
    ]
    for value in values:
        for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
            try:
                data = pickle.dumps(value, protocol=protocol)
            except Exception:
                continue
            corpus.add("pickle", data)
            corpus.add("pickle", data[: len(data) // 2])
    corpus.add("pickle", pickle.dumps([1, 2], protocol=2) + pickle.dumps({"a": 1}, protocol=4))
    # The hand-assembled streams of IntegrityTestSupport.swift: protocol 0 GLOBAL, memo tricks, huge lengths.
    corpus.add("pickle", b"cos\nsystem\n(S'echo hi'\ntR.")
    corpus.add("pickle", b"\x80\x04\x8c\x08builtins\x71\x07\x30\x8c\x04eval\x71\x08\x30\x68\x07\x68\x08\x93\x8c\x031+1\x85\x52\x2e")
    corpus.add("pickle", b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f\x8d\xff\xff\xff\xff\xff\xff\xff\x7f")
    corpus.add("pickle", b"\x80\x05\x96\x10\x00\x00\x00\x00\x00\x00\x00\x82\xff\xff\xff\xff\x93.")
    # The containers scan-artifacts opens around pickles (the target also runs the artifact scan):
    # zip (stored, deflated, nested), gzip, bzip2, xz, .lzma, zlib, .npy headers, and the labelled
    # corpus of Tests/FathomCoreTests/Fixtures/artifacts.
    import bz2
    import lzma
    import zipfile
    inner = pickle.dumps(Reduce(os_module.system, ("id",)), protocol=2)
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            archive.writestr(zipfile.ZipInfo("archive/data.pkl", (2026, 1, 1, 0, 0, 0)), inner)
            archive.writestr(zipfile.ZipInfo("archive/data/0", (2026, 1, 1, 0, 0, 0)), b"\x00" * 16)
        corpus.add("pickle", buffer.getvalue())
        nested = io.BytesIO()
        with zipfile.ZipFile(nested, "w", compression) as archive:
            archive.writestr(zipfile.ZipInfo("inner.zip", (2026, 1, 1, 0, 0, 0)), buffer.getvalue())
        corpus.add("pickle", nested.getvalue())
    corpus.add("pickle", gzip.compress(inner, mtime=0))
    corpus.add("pickle", bz2.compress(inner))
    corpus.add("pickle", lzma.compress(inner))
    corpus.add("pickle", lzma.compress(inner, format=lzma.FORMAT_ALONE))
    corpus.add("pickle", zlib.compress(inner))
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    corpus.add("pickle", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + inner)
    artifacts = os.path.join(ROOT, "Tests", "FathomCoreTests", "Fixtures", "artifacts")
    for folder in ("malicious", "benign", "malformed"):
        for path in files(os.path.join(artifacts, folder)):
            if os.path.getsize(path) <= 64 << 10:
                corpus.add("pickle", read(path))


def build_regressions(corpus, targets):
    """Fixtures of found bugs go back into the corpora of their targets."""
    for target in targets:
        for path in files(os.path.join(REGRESSIONS, target)):
            if not path.endswith(".md"):
                corpus.add(target, read(path))


BUILDERS = {
    "zstd": build_zstd, "gzip": build_gzip, "tar": build_tar, "framer": build_framer, "decoders": build_decoders,
    "json": build_json, "delimited": build_delimited, "sigma": build_sigma, "casefile": build_casefile,
    "pickle": build_pickle,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(HERE, "corpus"))
    parser.add_argument("targets", nargs="*", default=TARGETS)
    args = parser.parse_args()
    corpus = Corpus(args.out)
    for target in args.targets:
        if target not in BUILDERS:
            parser.error(f"unknown target {target!r}; known: {', '.join(TARGETS)}")
        BUILDERS[target](corpus)
    build_regressions(corpus, args.targets)
    for target in args.targets:
        folder = os.path.join(args.out, target)
        total = len(os.listdir(folder)) if os.path.isdir(folder) else 0
        print(f"make-seeds: {target}: {corpus.counts.get(target, 0)} new, {total} in {os.path.relpath(folder)}")


if __name__ == "__main__":
    main()
