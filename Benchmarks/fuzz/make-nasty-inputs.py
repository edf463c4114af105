#!/usr/bin/env python3
"""Writes the hand-made hostile inputs of Tests/FathomCoreTests/Fixtures/fuzz-regressions/<target>/.

These are not crashes the fuzzer found (those are copied there from artifacts/, minimized, under
a `crash-…` name); they are inputs built on purpose to hit limits: truncated frames, huge length
fields, deep nesting, offsets at the ends of buffers. Each target's inputs use the target's input
layout (header bytes first, see the target sources in Sources/fuzz-*/ and README.md), because
FuzzRegressionTests.swift and `run.sh --replay` feed them through the same entry points.

Run it again after changing an input here; it overwrites only the files it names.
Standard library only, plus the `zstd` command for the zstd inputs.
"""
import os
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests/FathomCoreTests/Fixtures/fuzz-regressions"))


def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def zstd(data, *flags):
    return subprocess.run(["zstd", "-q", "-c", *flags], input=data, capture_output=True, check=True).stdout


def gzip_member(data, flags=0, extra=b"", tail=None):
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\x00\x00\x00\x00\x00\x03" + extra
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflater.compress(data) + deflater.flush()
    return header + body + (tail if tail is not None else struct.pack("<II", zlib.crc32(data), len(data)))


def tar_header(name, size_field, typeflag=b"0", checksum=True):
    block = bytearray(512)
    block[0:len(name)] = name
    block[100:108] = b"0000644\x00"
    block[124:136] = size_field
    block[136:148] = b"15000000000\x00"
    block[156:157] = typeflag
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    if checksum:
        block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


# Header bytes: chunk plans (see ChunkPlan in Sources/FuzzSupport).
WHOLE, ONE, ODD = 0x00, 0x01, 0xA4

# zstd: [plan, flags] + frames
text = b'{"timestamp":"2026-03-02T10:00:00Z","src_ip":"10.0.0.1"}\n' * 40
frame = zstd(text, "-19", "--check")
write("zstd", "truncated-frame.bin", bytes([WHOLE, 0]) + frame[: len(frame) - 7])
write("zstd", "truncated-frame-one-byte-chunks.bin", bytes([ONE, 0]) + frame[: len(frame) // 2])
write("zstd", "magic-only.bin", bytes([WHOLE, 0]) + b"\x28\xb5\x2f\xfd")
# Frame header: single segment, FCS 8 bytes = 2^64-1, then nothing.
write("zstd", "huge-content-size.bin", bytes([WHOLE, 0]) + b"\x28\xb5\x2f\xfd\xe0" + b"\xff" * 8 + b"\x01\x00\x00")
# Window descriptor with the largest exponent (window far above the 128 MiB limit).
write("zstd", "huge-window.bin", bytes([WHOLE, 0]) + b"\x28\xb5\x2f\xfd\x00\xf8" + b"\x01\x00\x00")
# Skippable frame claiming 4 GiB, then a good frame.
write("zstd", "skippable-4gib.bin", bytes([ODD, 0]) + struct.pack("<II", 0x184D2A5F, 0xFFFFFFFF) + b"xx" + frame)
corrupt = bytearray(frame)
corrupt[len(corrupt) // 2] ^= 0xFF
write("zstd", "corrupt-then-good-injected-damage.bin", bytes([ODD, 0x82]) + bytes(corrupt) + frame)

# gzip: [plan, flags] + members
member = gzip_member(text)
write("gzip", "truncated-member.bin", bytes([WHOLE, 0]) + member[: len(member) - 5])
write("gzip", "fextra-65535-truncated.bin", bytes([WHOLE, 0]) + gzip_member(b"x", flags=0x04, extra=b"\xff\xff" + b"A" * 10)[:40])
write("gzip", "fname-unterminated.bin", bytes([ONE, 0]) + b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\x03" + b"n" * 300)
write("gzip", "isize-wrong.bin", bytes([WHOLE, 0]) + gzip_member(text, tail=struct.pack("<II", zlib.crc32(text), 0xFFFFFFFF)))
write("gzip", "stored-block-bad-nlen.bin", bytes([WHOLE, 0]) + b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
      + b"\x01\x05\x00\x00\x00hello" + b"\x00" * 8 + member)
write("gzip", "many-empty-members.bin", bytes([ODD, 0]) + gzip_member(b"") * 200 + b"\x00" * 1000 + b"\x1f\x8b")
write("gzip", "magic-after-garbage.bin", bytes([WHOLE, 0]) + b"\x1f\x8b\x08\xff" + b"\x00" * 20 + b"\x1f\x8b\x08" + member)

# tar: [plan, flags] + archive
write("tar", "size-8gib-octal.bin", bytes([WHOLE, 0]) + tar_header(b"big.log", b"77777777777\x00") + b"data" * 10)
write("tar", "size-base256-max.bin", bytes([WHOLE, 0]) + tar_header(b"b.log", b"\x80" + b"\x7f" + b"\xff" * 10) + b"x" * 100)
write("tar", "size-base256-negative.bin", bytes([WHOLE, 0]) + tar_header(b"n.log", b"\xff" * 12) + b"x" * 100)
write("tar", "checksum-not-octal.bin", bytes([WHOLE, 0]) + tar_header(b"c.log", b"00000000004\x00", checksum=False)[:148]
      + b"9z9z9z9z" + tar_header(b"c.log", b"00000000004\x00")[156:] + b"abcd")
pax = b"99999999999999999999 path=x\n"
write("tar", "pax-record-length-huge.bin", bytes([WHOLE, 0]) + tar_header(b"P", b"%011o\x00" % len(pax), b"x") + pax
      + b"\x00" * (512 - len(pax)) + tar_header(b"f", b"00000000000\x00") + b"\x00" * 1024)
pax = b"30 size=99999999999999999999\n"
write("tar", "pax-size-huge.bin", bytes([WHOLE, 0]) + tar_header(b"P", b"%011o\x00" % len(pax), b"x") + pax
      + b"\x00" * (512 - len(pax)) + tar_header(b"f", b"00000000000\x00") + b"\x00" * 1024)
pax = b"18 size=999999999\n"
write("tar", "pax-size-beyond-data.bin", bytes([ODD, 0x20]) + tar_header(b"P", b"%011o\x00" % len(pax), b"x") + pax
      + b"\x00" * (512 - len(pax)) + tar_header(b"f", b"00000000000\x00") + b"tiny")
write("tar", "gnu-longname-over-limit.bin", bytes([WHOLE, 0]) + tar_header(b"././@LongLink", b"%011o\x00" % ((1 << 20) + 1), b"L") + b"n" * 4096)
write("tar", "header-cut-short.bin", bytes([ONE, 0]) + tar_header(b"a", b"00000000001\x00")[:300])
write("tar", "lone-zero-block-then-data.bin", bytes([WHOLE, 0]) + b"\x00" * 512 + b"garbage" + b"\x00" * 505)
write("tar", "member-unread-then-injected-damage.bin", bytes([ODD, 0x9a]) + tar_header(b"m.log", b"00000001000\x00") + b"m" * 512
      + tar_header(b"n.log", b"00000000010\x00") + b"n" * 8)

# framer: [plan, limit index] + text
write("framer", "deep-array-nesting.bin", bytes([ODD, 0]) + b"[" * 20000)
write("framer", "envelope-escaped-key.bin", bytes([ONE, 0]) + b'{"Rec\\"ords":[1],"Records":[{"a":"]"},2,,3')
write("framer", "envelope-cut-after-key.bin", bytes([WHOLE, 0]) + b'{"records":')
write("framer", "bom-only.bin", bytes([ONE, 0]) + b"\xef\xbb\xbf")
write("framer", "long-line-limit-1.bin", bytes([ODD, 1]) + b"x" * 5000 + b"\r\n" + b"y\n" + b"z" * 300)
write("framer", "backslash-run-in-string.bin", bytes([ONE, 5]) + b'["' + b"\\" * 301 + b'"]' + b',"\\\\"]')
write("framer", "arrays-back-to-back.bin", bytes([ODD, 7]) + b"[1][2]\n[3]{\"records\":[4]}junk" + b"!" * 300)

# decoders: [plan, format, kind/profile] + text
write("decoders", "csv-header-quoted-doubled-quote.bin", bytes([WHOLE, 0, 0]) + b'a,"b""c"\n1,2\n')
write("decoders", "csv-long-header.bin", bytes([WHOLE, 0, 0]) + b",".join(b'"f""%d"' % i for i in range(300)) + b"\n" + b",".join(b"%d" % i for i in range(300)) + b"\n")
write("decoders", "json-deep-nesting.bin", bytes([WHOLE, 0, 0]) + b'{"timestamp":"2026-03-02T10:00:00Z","a":' + b"[" * 600 + b"]" * 600 + b"}\n")
write("decoders", "cloudtrail-odd-values.bin", bytes([ODD, 3, 0]) + b'{"Records":[{"eventTime":"9999-12-31T23:59:60Z","eventName":"GetObject",'
      b'"eventSource":"s3.amazonaws.com","requestParameters":{"bucketName":["x"],"key":{"k":1}},"additionalEventData":'
      b'{"bytesTransferredOut":1e400},"sourceIPAddress":"::ffff:999.1.1.1"},{}]}')
write("decoders", "s3-unterminated-fields.bin", bytes([WHOLE, 1, 0]) + b'79a5 bucket [06/Feb/2019:00:00:38 +0000 192.0.2.3 - 3E57 REST.GET.OBJECT "key\n'
      b'79a5 bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57 REST.GET.OBJECT key "GET /key HTTP/1.1" 200 - 99999999999999999999999 -\n')
write("decoders", "access-log-huge-numbers.bin", bytes([WHOLE, 2, 0]) + b'192.0.2.1 - - [31/Dec/9999:23:59:59 +2359] "GET /%zz HTTP/1.1" 99999999999999999999 -1 "-" "\\x22"\n')
write("decoders", "k8s-event-in-string.bin", bytes([ONE, 0, 5]) + b'{"records":[{"time":"2026-03-02T10:00:00Z","category":"kube-audit","properties":{"log":"{\\"kind\\":\\"Event\\",\\"verb\\":'
      + b"\\\\" * 50 + b'"}}]}')
write("decoders", "generic-json-profile-paths.bin", bytes([WHOLE, 0, 0x13]) + b'{"ts":"2026-03-02T10:00:00Z","client":{"addr":' + b"[" * 40 + b"]" * 40 + b'},"meta":{"when":-1e308}}\n')

# json: raw record
write("json", "nesting-20k.bin", b"[" * 20000)
write("json", "nesting-at-limit.bin", b"[" * 512 + b"]" * 512)
write("json", "nesting-over-limit.bin", b"[" * 513 + b"]" * 513)
write("json", "unicode-escape-truncated.bin", b'"\\u12')
write("json", "lone-surrogates.bin", b'{"\\udc00\\ud800":"\\ud800\\u0041\\udfff"}')
write("json", "number-10k-digits.bin", b"1" * 10000 + b".5e-99999")
write("json", "many-duplicate-keys.bin", b"{" + b",".join(b'"k":%d' % i for i in range(3000)) + b"}")
write("json", "invalid-utf8-key.bin", b'{"\xff\xfe":1,"\xc3":{"\xe2\x82":[true]}}')

# delimited: raw lines
write("delimited", "times-at-limits.bin", b"\n".join([
    b"1677-09-21T00:12:43.145224191Z", b"2262-04-11T23:47:16.854775808Z", b"9999-12-31T23:59:59Z", b"0000-01-01",
    b"2024-02-30", b"2023-02-29T00:00:00Z", b"2024-01-01T24:00:00Z", b"2024-01-01T23:60:00Z", b"2024-01-01T23:59:61Z",
    b"2024-01-01T00:00:00+24:00", b"2024-01-01T00:00:00.99999999999999999999Z", b"99999999999999999999999",
    b"-99999999999999999999", b"1e309", b"-1e308", b"1.7976931348623157e308", b"nan", b"inf", b"[]", b"[ ]",
    b"06/Xyz/2019:00:00:38 +0000", b"31/Dec/1677:00:00:00 +2359", b"9223372036854775807", b"-9223372036854775808",
]))
write("delimited", "quotes.bin", b'"\n""\n"""\n"a""\n,"\n"x"y\n' + b'"' * 1001 + b"\n" + b'"a",' * 500)

# sigma: YAML
def laughs(levels):
    lines = ['x0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


write("sigma", "alias-expansion.bin", (f"title: t\nlogsource: {{product: fathom, service: storage}}\n{laughs(7)}"
                                       f"detection:\n  sel:\n    key|contains: *a7\n  condition: sel\n").encode())
write("sigma", "condition-deep-parentheses.bin", (b"title: t\nlogsource: {product: fathom, service: storage}\ndetection:\n"
                                                  b"  sel: {key: a}\n  condition: " + b"(" * 2000 + b"sel" + b")" * 2000 + b"\n"))
write("sigma", "condition-not-chain.bin", (b"title: t\nlogsource: {product: fathom, service: storage}\ndetection:\n"
                                           b"  sel: {key: a}\n  condition: " + b"not " * 5000 + b"sel\n"))
write("sigma", "flow-nesting.bin", b"title: " + b"[" * 2000 + b"]" * 2000 + b"\n")
write("sigma", "correlation-self-and-huge-numbers.bin", b"""title: c
name: c
logsource: {product: fathom, service: storage}
correlation:
  type: event_count
  rules: [c, c, missing]
  group-by: [src_ip, src_ip]
  timespan: 99999999999999999999d
  condition: {gt: 9223372036854775807, lte: -9223372036854775808}
---
title: d
name: d
logsource: {product: fathom, service: storage}
detection:
  sel:
    src_ip|cidr: [0.0.0.0/0, '::/0', 1.2.3.4/33, 'fe80::/129', '']
    key|base64offset|contains: ''
    key|re: '['
    bytes|gt: 1e400
    time|lt: '9999-99-99'
  condition: 1 of them and all of sel* or none
""")

# casefile: YAML
write("casefile", "alias-expansion.bin", ("human:\n" + "".join("  " + line + "\n" for line in laughs(7).splitlines())
                                          + "internal_networks: *a7\n").encode())
write("casefile", "values-at-limits.bin", b"""awareness_time: '2262-04-11T23:47:16.854775807Z'
internal_networks: ['0.0.0.0/0', '::/0', '10.0.0.0/33', 'fe80::/129', '1.2.3.4/-1', '', '::ffff:10.0.0.0/104', ~]
compromised: {model: m}
models:
  - name: m
    daily_volume: 99999999999999999999999
    safety_critical: maybe
containment:
  - {time: '1677-09-21T00:12:43.145224192Z', action: a}
  - {time: 99999999999999999, action: b}
contacts: {a: [1, 2], b: {c: d}}
human: {x: [y]}
""")
write("casefile", "flow-nesting.bin", b"contacts: " + b"{a: " * 3000 + b"b" + b"}" * 3000 + b"\n")

# pickle: raw bytes
write("pickle", "frame-length-huge.bin", b"\x80\x04\x95" + b"\xff" * 8 + b"N.")
write("pickle", "long4-length-huge.bin", b"\x80\x02\x8b\xff\xff\xff\x7f")
write("pickle", "binunicode8-length-huge.bin", b"\x80\x04\x8d" + b"\xff" * 7 + b"\x7f" + b"x")
write("pickle", "long-binget-missing.bin", b"\x80\x04\x6a\xff\xff\xff\xff\x93.")
write("pickle", "long-binput-huge-index.bin", b"\x80\x04\x8c\x01a\x72\xff\xff\xff\xff\x8c\x01b\x6a\xff\xff\xff\xff\x93.")
write("pickle", "mark-20k.bin", b"\x80\x02" + b"(" * 20000 + b"t" * 20000 + b".")
write("pickle", "global-without-newline.bin", b"cos\nsyst")
write("pickle", "stack-global-underflow.bin", b"\x80\x04\x93\x93\x93R.")
write("pickle", "ext4-huge-code.bin", b"\x80\x02\x84\xff\xff\xff\xff)R.")
write("pickle", "two-pickles-second-truncated.bin", b"\x80\x02N." + b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os")

print(f"wrote the hand-made inputs under {os.path.relpath(OUT)}")
