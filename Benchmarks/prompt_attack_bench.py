#!/usr/bin/env python3
"""The prompt rules on a log of attacks: an LLM gateway log in which many prompts are real
injection and jailbreak prompts, the hard shape for the rules that explain each hit.

Usage: Benchmarks/prompt_attack_bench.py --fathom BIN [--fathom BIN2 ...] [--rows 200000]
       [--attack-share 0.5] [--repeat 3] [--seed 38]

The prompts are those of `Training/injection/data/ci-test.jsonl` (committed; public sources and
licenses in `Training/injection/PROVENANCE.md`): attacks (label 1, many of them long jailbreaks) for
`--attack-share` of the rows, benign prompts (label 0) for the rest, drawn with `--seed`. They are
written as OpenAI-style chat exchanges, one JSON object a line, a day a file, zstd level 3, under
`Benchmarks/work/prompt-attacks-ROWS-SHARE/llm/`.

Measured in one run, for each `--fathom` build (best of `--repeat`, whole processes):
- `zstd -d` of the archives (the floor) and `fathom ingest` of them into a fresh store;
- `fathom hunt --rule R` for each of the three prompt rules, the three together, and every rule;
- DuckDB (PyPI, `Benchmarks/work/pydeps`) running the playbook phrase query over the raw archives
  (`playbook_duckdb.injection`), the peer of `prompt.injection-phrase`; its hits are compared
  with Fathom's, time and principal.

Each hunt is reported in seconds, as a ratio to the same build's ingest of the log, with its hits
and its microseconds a hit. Peak RSS per process. Results go to stdout (Markdown) and to
`Benchmarks/work/prompt-attack-results.json`.
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

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
work = os.path.join(here, "work")
sys.path.insert(0, os.path.join(work, "pydeps"))
sys.path.insert(0, here)

RULES = ["prompt.injection-phrase", "prompt.injection-normalized", "prompt.injection-model"]


def make_log(rows, share, seed):
    """Writes the log (once per rows, share and seed); returns its folder and uncompressed bytes."""
    folder = os.path.join(work, f"prompt-attacks-{rows}-{share:g}-{seed}")
    llm = os.path.join(folder, "llm")
    done = os.path.join(folder, "done.json")
    if os.path.exists(done):
        with open(done) as f:
            return folder, json.load(f)["bytes"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(llm)
    attacks, benign = [], []
    with open(os.path.join(root, "Training/injection/data/ci-test.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            (attacks if record["label"] == 1 else benign).append(record["text"])
    generator = random.Random(seed)
    days = 4
    per_day = (rows + days - 1) // days
    total = 0
    written = 0
    for day in range(days):
        count = min(per_day, rows - written)
        if count <= 0:
            break
        lines = []
        for index in range(count):
            row = written + index
            prompt = generator.choice(attacks) if generator.random() < share else generator.choice(benign)
            seconds = index * 86400 // count
            record = {
                "timestamp": f"2026-03-{day + 2:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{row % 1000:03d}Z",
                "user": f"u_{generator.randrange(2000)}", "session_id": f"sess_{row:08x}",
                "client_ip": f"198.51.100.{generator.randrange(1, 255)}", "model": "gpt-4o",
                "request": {"model": "gpt-4o", "messages": [
                    {"role": "system", "content": "You are a helpful assistant for AcmeBank customers."},
                    {"role": "user", "content": prompt}]},
                "response": {"id": f"chatcmpl-{row}", "object": "chat.completion", "model": "gpt-4o",
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": "I can't help with that."},
                                          "finish_reason": "stop"}]},
            }
            lines.append(json.dumps(record, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode()
        total += len(data)
        path = os.path.join(llm, f"llm-gateway-2026-03-{day + 2:02d}.jsonl")
        with open(path, "wb") as f:
            f.write(data)
        subprocess.run(["zstd", "-q", "-3", "--rm", "-f", path], check=True)
        written += count
    with open(done, "w") as f:
        json.dump({"bytes": total, "rows": rows, "share": share, "seed": seed}, f)
    return folder, total


def run(args, stdout=subprocess.DEVNULL):
    """Wall seconds, CPU seconds and peak RSS (MB) of one whole process. CPU and RSS come from GNU
    time, which forks the command from its own small process (a child forked from this script would
    count the script's memory, DuckDB's included, in its peak RSS before it execs)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as usage:
        start = time.perf_counter()
        process = subprocess.Popen(["/usr/bin/time", "-f", "%U %S %M", "-o", usage.name, *args], stdout=stdout,
                                   stderr=subprocess.PIPE)
        errors = process.stderr.read()
        status = process.wait()
        wall = time.perf_counter() - start
        if status != 0:
            sys.exit(f"{' '.join(args)} failed ({status}): {errors.decode(errors='replace')[-500:]}")
        user, system, kilobytes = usage.read().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(kilobytes) / 1024


def best(args, repeat, stdout_path=None):
    results = []
    for _ in range(repeat):
        if stdout_path:
            with open(stdout_path, "wb") as out:
                results.append(run(args, stdout=out))
        else:
            results.append(run(args))
    return min(results, key=lambda r: r[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fathom", action="append", required=True, help="a fathom build (repeatable)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--attack-share", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=38)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    folder, uncompressed = make_log(args.rows, args.attack_share, args.seed)
    archives = sorted(os.path.join(folder, "llm", name) for name in os.listdir(os.path.join(folder, "llm")))
    for path in archives:
        with open(path, "rb") as f:
            f.read()
    megabytes = uncompressed / 1e6
    floor = sum(best(["zstd", "-d", "-q", "-c", path], args.repeat)[0] for path in archives)

    import perf_bench  # noqa: E402
    perf_bench.ensure_duckdb()
    import duckdb  # noqa: E402
    import playbook_duckdb  # noqa: E402
    duck_times = []
    duck_hits = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET threads = {args.threads}")
        duck_hits = playbook_duckdb.injection(con, folder)
        duck_times.append(time.perf_counter() - start)
        con.close()
    duck = min(duck_times)

    report = {"rows": args.rows, "attack_share": args.attack_share, "seed": args.seed, "uncompressed_mb": megabytes,
              "floor_s": floor, "duckdb_phrase_s": duck, "duckdb_phrase_hits": len(duck_hits), "builds": []}
    for binary in args.fathom:
        store = os.path.join(work, "store-prompt-attacks")
        ingest = None
        for _ in range(args.repeat):
            shutil.rmtree(store, ignore_errors=True)
            result = run([binary, "ingest", *archives, "--store", store])
            ingest = result if ingest is None or result[0] < ingest[0] else ingest
        build = {"fathom": binary, "ingest": ingest, "hunts": {}}
        out = os.path.join(work, "prompt-attack-hits.jsonl")
        for label, extra in [*[(rule, ["--rule", rule]) for rule in RULES],
                             ("the three prompt rules", [arg for rule in RULES for arg in ("--rule", rule)]),
                             ("every rule", [])]:
            wall, cpu, rss = best([binary, "hunt", "--store", store, "--format", "jsonl", *extra], args.repeat, out)
            with open(out) as f:
                hits = [json.loads(line) for line in f]
            build["hunts"][label] = {"s": wall, "cpu_s": cpu, "rss_mb": rss, "hits": len(hits)}
            if label == "prompt.injection-phrase":
                mine = sorted([perf_bench.micros(hit["time"]), hit["key"].get("principal")] for hit in hits)
                build["phrase_hits_agree_with_duckdb"] = mine == sorted([perf_bench.micros(t), p] for t, p in duck_hits)
        os.remove(out)
        shutil.rmtree(store, ignore_errors=True)
        report["builds"].append(build)

    print(f"Prompt rules on a log of attacks: {args.rows:,} LLM rows, {args.attack_share:.0%} attack prompts "
          f"({megabytes:.0f} MB uncompressed); zstd -d {floor:.2f} s; DuckDB phrase query {duck:.2f} s "
          f"({len(duck_hits):,} hits).\n")
    print("| build | ingest s (MB/s) | hunt | s | × ingest | × DuckDB | CPU s | hits | CPU µs a hit | peak RSS MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for build in report["builds"]:
        ingest = build["ingest"]
        for label, hunt in build["hunts"].items():
            per_hit = hunt["cpu_s"] / hunt["hits"] * 1e6 if hunt["hits"] else 0
            peer = f"{hunt['s'] / duck:.2f}" if label == "prompt.injection-phrase" else "—"
            print(f"| {build['fathom']} "
                  f"| {ingest[0]:.2f} ({megabytes / ingest[0]:.0f}) | {label} | {hunt['s']:.2f} | {hunt['s'] / ingest[0]:.2f} "
                  f"| {peer} | {hunt['cpu_s']:.2f} | {hunt['hits']:,} | {per_hit:.0f} | {hunt['rss_mb']:.0f} |")
    print()
    for build in report["builds"]:
        print(f"{build['fathom']}: ingest peak RSS {build['ingest'][2]:.0f} MB; phrase hits agree with DuckDB's: "
              f"{build['phrase_hits_agree_with_duckdb']}")
    with open(os.path.join(work, "prompt-attack-results.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
