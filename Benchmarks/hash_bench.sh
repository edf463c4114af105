#!/usr/bin/env bash
# Hash benchmark: `fathom manifest create` (memory-mapped, chunked SHA-256 on all cores) against
# coreutils `sha256sum` hashing the same files one after another.
#
# Data set (default): 300 files of ~6.8 MB (2 GiB total) plus one 1 GiB file, random bytes, under
# Benchmarks/work/hash (git-ignored). Both tools run on a warm page cache, best of RUNS.
#
#   Benchmarks/hash_bench.sh                 # build release, generate data if missing, measure
#   SMALL_FILES=100 BIG_MB=256 Benchmarks/hash_bench.sh   # a smaller set
#
# Prints both times, the ratio sha256sum/fathom (> 1 means fathom is faster) and fathom's peak RSS.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/Benchmarks/work/hash"
SMALL_FILES=${SMALL_FILES:-300}
SMALL_TOTAL_MB=${SMALL_TOTAL_MB:-2048}
BIG_MB=${BIG_MB:-1024}
RUNS=${RUNS:-3}
DATA="$WORK/data-${SMALL_FILES}x${SMALL_TOTAL_MB}-${BIG_MB}"

echo "== building release fathom (scratch path .build-release)"
swift build -c release --scratch-path .build-release --product fathom 2>&1 | tail -1
FATHOM="$ROOT/.build-release/release/fathom"

if [ ! -f "$DATA/.complete" ]; then
    echo "== generating $SMALL_FILES files ($SMALL_TOTAL_MB MiB) + one $BIG_MB MiB file in $DATA"
    rm -rf "$DATA"; mkdir -p "$DATA/shards"
    per=$(( SMALL_TOTAL_MB * 1024 * 1024 / SMALL_FILES ))
    # One random seed, sliced at different offsets: content differs per file, generation stays fast.
    head -c $(( 64 * 1024 * 1024 )) /dev/urandom > "$WORK/seed.bin"
    for i in $(seq 1 "$SMALL_FILES"); do
        { tail -c +$(( (i * 104729) % (32 * 1024 * 1024) + 1 )) "$WORK/seed.bin"; cat "$WORK/seed.bin"; } \
            | head -c "$per" > "$DATA/shards/part-$(printf %04d "$i").bin"
    done
    for _ in $(seq 1 $(( BIG_MB / 64 ))); do cat "$WORK/seed.bin"; done > "$DATA/big.bin"
    touch "$DATA/.complete"
fi

files=$(find "$DATA" -type f ! -name .complete | wc -l)
bytes=$(find "$DATA" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "== $files files, $bytes bytes; warming the page cache"
find "$DATA" -type f ! -name .complete -print0 | xargs -0 cat > /dev/null

best() {  # best wall time of RUNS runs of "$@"
    local best_time=""
    for _ in $(seq 1 "$RUNS"); do
        local start end elapsed
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        elapsed=$(echo "$end - $start" | bc -l)
        if [ -z "$best_time" ] || [ "$(echo "$elapsed < $best_time" | bc -l)" = 1 ]; then best_time=$elapsed; fi
    done
    printf '%.3f' "$best_time"
}

sha_files() { find "$DATA" -type f ! -name .complete -print0 | sort -z | xargs -0 sha256sum; }
fathom_manifest() { "$FATHOM" manifest create "$DATA" -o "$WORK/manifest.json"; }

t_sha=$(best sha_files)
t_fathom=$(best fathom_manifest)
rss=$( { /usr/bin/time -f '%M' "$FATHOM" manifest create "$DATA" -o "$WORK/manifest.json" > /dev/null; } 2>&1 | tail -1)

# The two tools must agree on every digest.
sha_files | awk '{print $1}' | sort > "$WORK/sha256sum.txt"
grep -o '"sha256" : "[0-9a-f]*"' "$WORK/manifest.json" | awk -F'"' '{print $4}' | sort > "$WORK/fathom.txt"
if cmp -s "$WORK/sha256sum.txt" "$WORK/fathom.txt"; then agree=yes; else agree=NO; fi

gib=$(echo "$bytes / 1073741824" | bc -l)
printf 'data:            %d files, %.2f GiB, %d cores\n' "$files" "$gib" "$(nproc)"
printf 'sha256sum:       %s s  (%.0f MiB/s)\n' "$t_sha" "$(echo "$bytes / 1048576 / $t_sha" | bc -l)"
printf 'fathom manifest: %s s  (%.0f MiB/s), peak RSS %d MiB\n' "$t_fathom" "$(echo "$bytes / 1048576 / $t_fathom" | bc -l)" "$(( rss / 1024 ))"
printf 'ratio:           %.2fx (sha256sum / fathom)\n' "$(echo "$t_sha / $t_fathom" | bc -l)"
echo "digests agree:   $agree"
