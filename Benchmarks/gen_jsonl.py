#!/usr/bin/env python3
"""Generates gateway-style JSON Lines for the ingest benchmark, as multi-frame .zst archives.

Usage: gen_jsonl.py OUT_DIR TOTAL_MB [FILES]

Each archive is a concatenation of independently compressed zstd frames of about 32 MB of
uncompressed text (zstd -3), like log shippers that rotate and append. Deterministic: the same
arguments give the same bytes.
"""
import os
import random
import subprocess
import sys

out_dir, total_mb = sys.argv[1], int(sys.argv[2])
files = int(sys.argv[3]) if len(sys.argv) > 3 else 8
frame_bytes = 32 << 20
os.makedirs(out_dir, exist_ok=True)
rng = random.Random(42)
keys = [f"key-{i:04d}" for i in range(500)]
ips = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(2000)]
paths = ["/v1/models/fraud-detector/predict", "/v1/models/credit/predict", "/v1/completions", "/health", "/v1/inference/churn"]
per_file = total_mb * (1 << 20) // files
base = 1772409600  # 2026-03-02T00:00:00Z

for f in range(files):
    path = os.path.join(out_dir, f"gateway-{f:02d}.jsonl.zst")
    with open(path, "wb") as out:
        written = 0
        t = base + f * 86400
        while written < per_file:
            lines = []
            size = 0
            while size < frame_bytes and written + size < per_file:
                t += rng.random() * 0.02
                sec = int(t)
                ms = int((t - sec) * 1000)
                hh, mm, ss = (sec // 3600) % 24, (sec // 60) % 60, sec % 60
                day = 2 + (sec - base) // 86400
                amount = rng.randint(1, 99999)
                line = ('{"timestamp":"2026-03-%02dT%02d:%02d:%02d.%03dZ","client_ip":"%s","api_key":"%s",'
                        '"method":"POST","path":"%s","status":%d,"latency_ms":%.1f,"bytes_sent":%d,'
                        '"request_id":"req-%d-%d","model":"fraud-detector","request_body":"{\\"amount\\":%d,\\"merchant\\":\\"m-%d\\"}"}\n'
                        % (day, hh, mm, ss, ms, rng.choice(ips), rng.choice(keys), rng.choice(paths),
                           200 if rng.random() < 0.97 else 500, rng.random() * 80, rng.randint(100, 900),
                           f, written + size, amount, amount % 977))
                lines.append(line)
                size += len(line)
            data = "".join(lines).encode()
            out.write(subprocess.run(["zstd", "-3", "-q", "-c"], input=data, check=True, capture_output=True).stdout)
            written += len(data)
    print(path, written, file=sys.stderr)
