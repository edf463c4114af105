#!/usr/bin/env python3
"""fathom scan-artifacts against picklescan, fickling and modelscan on the labelled artifact corpus,
side by side in one run: malicious files found, benign files flagged, time and peak RSS.

    swift build -c release
    pip install --target /tmp/peers picklescan fickling modelscan
    PYTHONPATH=/tmp/peers python3 Benchmarks/artifact_bench.py [--fathom .build/release/fathom]
        [--corpus Tests/FathomCoreTests/Fixtures/artifacts] [--runs 3] [--large DIR] [--markdown]

Each tool runs as its own process over every file of the corpus (the Python tools through a small
driver that calls their documented API once per file, as their CLIs do); wall time and peak RSS
(`wait4`) are of that process, median of --runs runs. Verdicts, each tool by its own default:
- fathom: a finding at or above its default gate (`--fail-on high`) on the file;
- picklescan: `scan_file_path(path).issues_count > 0` (its "dangerous" globals);
- fickling: severity above LIKELY_SAFE (what `fickling --check-safety` exits 1 on), zip files through
  `scan_zip_archive`; a second row counts LIKELY_UNSAFE and above only;
- modelscan: any issue in `ModelScan().scan(path)`.
A tool that raises on a file counts as not flagging it (`errors` counts those).

--large DIR writes large files there (not committed: a 3 GiB PyTorch-style zip checkpoint with a
malicious data.pkl, a 3 GiB pickle whose payload follows a 3 GiB BINBYTES8, a 1 GiB pickle inside
gzip, and a benign 83 MB pickle of 1.5 M small objects) and reports time and peak RSS of each tool on
each alone.
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DRIVER = r'''
import json, os, sys, zipfile, io, contextlib, logging
logging.disable(logging.CRITICAL)
tool, corpus, files = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
verdicts = {}
if tool == "picklescan":
    from picklescan.scanner import scan_file_path
    def verdict(path):
        result = scan_file_path(path)
        return result.issues_count > 0, bool(result.scan_err)
elif tool == "fickling":
    import fickling
    from fickling.analysis import Severity
    from fickling.loader import scan_zip_archive
    def verdict(path):
        if zipfile.is_zipfile(path):
            results = list(scan_zip_archive(path, graceful=True).values())  # member name -> ScanResult
            severity = max([r.severity for r in results], default=Severity.LIKELY_SAFE)
            errors = any(r.errors for r in results)
        else:
            result = fickling.scan_file(path, graceful=True)
            severity, errors = result.severity, bool(result.errors)
        rank = list(Severity).index(severity)
        return (severity > Severity.LIKELY_SAFE, rank), errors
elif tool == "modelscan":
    from modelscan.modelscan import ModelScan
    def verdict(path):
        result = ModelScan().scan(path)
        return len(result.get("issues", [])) > 0, len(result.get("errors", [])) > 0
for name in files:
    path = os.path.join(corpus, name)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            flagged, error = verdict(path)
    except Exception as exception:
        flagged, error = False, True
    rank = None
    if isinstance(flagged, tuple):
        flagged, rank = flagged
    verdicts[name] = {"flagged": bool(flagged), "error": bool(error), "rank": rank}
print(json.dumps(verdicts))
'''

RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def measured(command, stdin=None, cwd=None):
    """Runs `command`; returns (stdout, wall seconds, peak RSS in MiB, exit status)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    # wait4 gives this child's own rusage (the driver reads all its input before it writes).
    if stdin:
        process.stdin.write(stdin.encode())
    process.stdin.close()
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return out.decode(errors="replace"), wall, usage.ru_maxrss / 1024, process.returncode


def run_fathom(fathom, corpus, files):
    out, wall, rss, status = measured([fathom, "scan-artifacts", corpus, "--format", "json"])
    report = json.loads(out)
    failing = {f["subject"] for f in report["findings"] if f["kind"] != "unreadable" and RANK[f["severity"]] >= RANK["high"]}
    unreadable = {f["subject"] for f in report["findings"] if f["kind"] == "unreadable"}
    return {name: {"flagged": name in failing, "error": name in unreadable} for name in files}, wall, rss


def run_peer(tool, corpus, files):
    out, wall, rss, status = measured([sys.executable, "-c", DRIVER, tool, corpus], stdin=json.dumps(files))
    return json.loads(out), wall, rss


def corpus_bench(args):
    with open(os.path.join(args.corpus, "labels.json")) as f:
        labels = json.load(f)["files"]
    files = [e["path"] for e in labels]
    malicious = [e["path"] for e in labels if e["label"] == "malicious"]
    benign = [e["path"] for e in labels if e["label"] == "benign"]
    malformed = [e["path"] for e in labels if e["label"] == "malformed"]
    tools = ["fathom"] + args.peers
    runs = {tool: [] for tool in tools}
    verdicts = {}
    for _ in range(args.runs):
        for tool in tools:
            if tool == "fathom":
                verdict, wall, rss = run_fathom(args.fathom, args.corpus, files)
            else:
                verdict, wall, rss = run_peer(tool, args.corpus, files)
            runs[tool].append((wall, rss))
            verdicts[tool] = verdict
    if "fickling" in verdicts:
        # fickling's own default flags anything above LIKELY_SAFE; also shown at LIKELY_UNSAFE and up.
        tools.append("fickling (likely unsafe+)")
        runs[tools[-1]] = runs["fickling"]
        verdicts[tools[-1]] = {name: dict(v, flagged=(v.get("rank") or 0) >= 3) for name, v in verdicts["fickling"].items()}
    rows = []
    for tool in tools:
        v = verdicts[tool]
        found = sum(v[p]["flagged"] for p in malicious)
        flagged = sum(v[p]["flagged"] for p in benign)
        errors = sum(v[p]["error"] for p in files)
        wall = statistics.median(w for w, _ in runs[tool])
        rss = statistics.median(r for _, r in runs[tool])
        missed = [p for p in malicious if not v[p]["flagged"]]
        false = [p for p in benign if v[p]["flagged"]]
        rows.append({"tool": tool, "found": found, "malicious": len(malicious), "flagged": flagged, "benign": len(benign),
                     "malformed_reported": sum(v[p]["error"] or v[p]["flagged"] for p in malformed), "malformed": len(malformed),
                     "errors": errors, "seconds": wall, "peak_rss_mib": rss, "missed": missed, "false_positives": false})
    return rows


def write_large(directory):
    """The multi-gigabyte files of --large, written sparsely where the content is zeros."""
    payload = b"cos\nsystem\n(S'true'\ntR."
    size = 3 << 30
    paths = {}
    # 1. A PyTorch-style zip: archive/data.pkl (malicious) then one stored 3 GiB tensor member.
    path = os.path.join(directory, "checkpoint", "large-checkpoint.pt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
            archive.writestr("archive/data.pkl", b"\x80\x02" + payload)
            info = zipfile.ZipInfo("archive/data/0", date_time=(2026, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                chunk = bytes(64 << 20)
                for _ in range(size // len(chunk)):
                    member.write(chunk)
    paths["3 GiB zip checkpoint (stored tensor, malicious data.pkl)"] = path
    # 2. A 3 GiB pickle: BINBYTES8 of zeros, then the payload (the stack holds the bytes; POP them).
    path = os.path.join(directory, "pickle", "large-pickle.pkl")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(b"\x80\x04\x8e" + struct.pack("<Q", size))
            f.seek(size, os.SEEK_CUR)
            f.write(b"0" + payload)
    paths["3 GiB pickle (BINBYTES8, payload after it)"] = path
    # 3. A 1 GiB pickle in gzip.
    path = os.path.join(directory, "gzip", "large-pickle.pkl.gz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with gzip.open(path, "wb", compresslevel=1) as f:
            f.write(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 30))
            chunk = bytes(64 << 20)
            for _ in range(16):
                f.write(chunk)
            f.write(b"0" + payload)
    paths["1 GiB pickle inside gzip"] = path
    # 4. An 83 MB pickle of 1.5 M small objects (a walk through many opcodes and memo entries).
    path = os.path.join(directory, "objects", "objects.pkl")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # In a child: the objects take 1 GB, and a process forked later would start its peak RSS there.
        subprocess.run([sys.executable, "-c", "import pickle, sys\nwith open(sys.argv[1], 'wb') as f:\n"
                        "    pickle.dump([{'id': i, 'name': 'item%d' % i, 'v': i * 0.5, 't': (i, str(i))} "
                        "for i in range(1500000)], f, protocol=4)", path], check=True)
    paths["83 MB pickle of 1.5 M small objects (benign)"] = path
    return paths


def large_bench(args):
    rows = []
    for label, path in write_large(args.large).items():
        # Each file alone in its folder: fathom scans the folder, the peers the file.
        name = os.path.basename(path)
        for tool in ["fathom"] + args.peers:
            if tool == "fathom":
                out, wall, rss, _ = measured([args.fathom, "scan-artifacts", os.path.dirname(path), "--format", "json"])
                report = json.loads(out)
                flagged = any(f["subject"] == name and f["kind"] != "unreadable" and RANK[f["severity"]] >= 3
                              for f in report["findings"])
            else:
                out, wall, rss, _ = measured([sys.executable, "-c", DRIVER, tool, os.path.dirname(path)], stdin=json.dumps([name]))
                flagged = json.loads(out)[name]["flagged"] if out.strip() else False
            rows.append({"file": label, "tool": tool, "flagged": flagged, "seconds": wall, "peak_rss_mib": rss})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fathom", default=os.path.join(ROOT, ".build", "release", "fathom"))
    parser.add_argument("--corpus", default=os.path.join(ROOT, "Tests", "FathomCoreTests", "Fixtures", "artifacts"))
    parser.add_argument("--peers", nargs="*", default=["picklescan", "fickling", "modelscan"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large", help="a folder for the generated multi-gigabyte files")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = corpus_bench(args)
    if args.markdown:
        print("| tool | malicious found | benign flagged | malformed reported | errors | time (s) | peak RSS (MiB) |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['tool']} | {r['found']}/{r['malicious']} ({100 * r['found'] / r['malicious']:.0f} %) | "
                  f"{r['flagged']}/{r['benign']} | {r['malformed_reported']}/{r['malformed']} | {r['errors']} | "
                  f"{r['seconds']:.2f} | {r['peak_rss_mib']:.0f} |")
        for r in rows:
            print(f"\n{r['tool']} missed: {', '.join(p.split('/', 1)[1] for p in r['missed']) or 'none'}; "
                  f"false positives: {', '.join(p.split('/', 1)[1] for p in r['false_positives']) or 'none'}")
    else:
        print(json.dumps(rows, indent=1))
    if args.large:
        large = large_bench(args)
        if args.markdown:
            print("\n| large file | tool | flagged | time (s) | peak RSS (MiB) |\n|---|---|---|---|---|")
            for r in large:
                print(f"| {r['file']} | {r['tool']} | {'yes' if r['flagged'] else 'no'} | {r['seconds']:.2f} | {r['peak_rss_mib']:.0f} |")
        else:
            print(json.dumps(large, indent=1))


if __name__ == "__main__":
    main()
