#!/usr/bin/env bash
# Builds the libFuzzer targets of Benchmarks/fuzz, makes their seed corpora and runs them.
#
#   Benchmarks/fuzz/run.sh [--seconds N] [--jobs J] [options] [target …]
#
#   --seconds N     run each target N seconds (libFuzzer -max_total_time; default 60)
#   --jobs J        run J targets at the same time, one libFuzzer process each (default 1)
#   --nice N        run the fuzzers under `nice -n N`
#   --keep-going    fork mode (-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1): a crash
#                   is saved and fuzzing goes on, for long runs that should collect several bugs
#   --replay        do not fuzz: run each target once over its regression fixtures
#                   (Tests/FathomCoreTests/Fixtures/fuzz-regressions/<target>/) and the files given
#                   with --input
#   --input FILE    (with --replay, one target) replay this file too; repeatable
#   --no-asan       build with -sanitize=fuzzer only (faster, finds crashes but not silent memory
#                   errors; scratch .build-fuzz-noasan)
#   --no-minimize   do not minimize the crashes found
#   --no-build      use the binaries already built
#   --no-seeds      do not run make-seeds.py
#   --seed N        libFuzzer's random seed (default: from the clock); CI passes one so that a
#                   short run explores the same way each time
#
# Targets: zstd gzip tar framer decoders json delimited sigma casefile pickle (default: all).
# Crashes, timeouts and out-of-memory inputs go to Benchmarks/fuzz/artifacts/<target>/; the first
# three of a run are minimized (-minimize_crash=1, 60 s) into artifacts/<target>/minimized-<name>. Logs go to
# Benchmarks/fuzz/logs/. Exit status: 0 when no target crashed, 1 when one did, 2 on a usage or
# build error.
#
# Environment: FATHOM_FUZZ_MAIN=DIR fuzzes another checkout of Fathom (see Package.swift);
# FATHOM_FUZZ_SCRATCH=DIR overrides the build folder; SWIFT=path of the swift driver.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ALL_TARGETS=(zstd gzip tar framer decoders json delimited sigma casefile pickle)

seconds=60
jobs=1
nice_level=""
keep_going=0
replay=0
asan=1
build=1
seeds=1
minimize=1
seed=""
inputs=()
targets=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:?}; shift 2 ;;
        --jobs) jobs=${2:?}; shift 2 ;;
        --nice) nice_level=${2:?}; shift 2 ;;
        --keep-going) keep_going=1; shift ;;
        --replay) replay=1; shift ;;
        --input) inputs+=("$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"); shift 2 ;;
        --no-asan) asan=0; shift ;;
        --no-build) build=0; shift ;;
        --no-seeds) seeds=0; shift ;;
        --no-minimize) minimize=0; shift ;;
        --seed) seed=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
    case " ${ALL_TARGETS[*]} " in *" $target "*) ;; *) echo "run.sh: unknown target '$target' (known: ${ALL_TARGETS[*]})" >&2; exit 2 ;; esac
done
if [ ${#inputs[@]} -gt 0 ] && { [ $replay -eq 0 ] || [ ${#targets[@]} -ne 1 ]; }; then
    echo "run.sh: --input needs --replay and exactly one target" >&2; exit 2
fi
case "$seconds$jobs$seed" in *[!0-9]*) echo "run.sh: --seconds, --jobs and --seed take whole numbers" >&2; exit 2 ;; esac
[ "$jobs" -ge 1 ] || jobs=1

SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
TOOLCHAIN_BIN=$(dirname "$(readlink -f "$SWIFT")")
DEMANGLE=$TOOLCHAIN_BIN/swift-demangle
[ -x "$DEMANGLE" ] || DEMANGLE=cat
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x "$TOOLCHAIN_BIN/llvm-symbolizer" ]; then
    export ASAN_SYMBOLIZER_PATH=$TOOLCHAIN_BIN/llvm-symbolizer
fi
# Leaks of third-party code that are not worth stopping a run for (see lsan.supp).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp}
# The Swift runtime's own crash backtracer would catch a trap before libFuzzer and AddressSanitizer
# do (and trip AddressSanitizer while reading memory); leave crashes to them.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

sanitizers=fuzzer,address
scratch_default=$HERE/.build-fuzz
# One package name for every module of the build: Fathom's layers share `package` declarations
# across their targets, and the fuzz targets, being another package, would not see them otherwise.
build_flags=(-Xswiftc -enable-testing -Xswiftc -package-name -Xswiftc fathomfuzz)
if [ $asan -eq 0 ]; then sanitizers=fuzzer; scratch_default=$HERE/.build-fuzz-noasan; fi
SCRATCH=${FATHOM_FUZZ_SCRATCH:-$scratch_default}
build_command=("$SWIFT" build -c release --scratch-path "$SCRATCH" -Xswiftc "-sanitize=$sanitizers" "${build_flags[@]}")

if [ $build -eq 1 ]; then
    # The fuzz package is its own root: pin its dependencies to the versions the main package uses.
    if [ ! -f "$HERE/Package.resolved" ] && [ -f "$ROOT/Package.resolved" ]; then
        cp "$ROOT/Package.resolved" "$HERE/Package.resolved"
    fi
    # SwiftPM re-plans a build when the root package changes, not when a file is added to a
    # path dependency (Fathom itself): drop the cached plan so new source files are compiled.
    rm -f "$SCRATCH/release.yaml" "$SCRATCH"/*/release/description.json
    echo "run.sh: building: (cd ${HERE#"$ROOT"/} && ${build_command[*]#"$HERE"/})" >&2
    mkdir -p "$HERE/logs"
    started=$(date +%s)
    if ! (cd "$HERE" && "${build_command[@]}") > "$HERE/logs/build.log" 2>&1; then
        grep -v "^\[[0-9]*/[0-9]*\]\|__asan_extra_spill_area" "$HERE/logs/build.log" | tail -40 >&2
        echo "run.sh: build failed (log: ${HERE#"$ROOT"/}/logs/build.log)" >&2; exit 2
    fi
    echo "run.sh: build took $(( $(date +%s) - started )) s (log: ${HERE#"$ROOT"/}/logs/build.log)" >&2
fi
BIN=$(cd "$HERE" && "${build_command[@]}" --show-bin-path 2>/dev/null)
for target in "${targets[@]}"; do
    [ -x "$BIN/fuzz-$target" ] || { echo "run.sh: $BIN/fuzz-$target is not built" >&2; exit 2; }
done

# Per-target libFuzzer settings: dictionary and the largest input generated.
dict_of() {
    case "$1" in
        zstd|gzip) echo compressed ;; tar) echo tar ;; framer|decoders|json) echo json ;;
        sigma|casefile) echo yaml ;; pickle) echo pickle ;; *) echo "" ;;
    esac
}
max_len_of() {
    case "$1" in
        tar) echo 65536 ;; zstd|gzip) echo 32768 ;; framer|decoders) echo 20000 ;; json|sigma) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

REGRESSIONS=$ROOT/Tests/FathomCoreTests/Fixtures/fuzz-regressions
mkdir -p "$HERE/logs"
nice_prefix=()
[ -n "$nice_level" ] && nice_prefix=(nice -n "$nice_level")

if [ $replay -eq 1 ]; then
    status=0
    for target in "${targets[@]}"; do
        files=()
        if [ -d "$REGRESSIONS/$target" ]; then
            while IFS= read -r -d '' file; do files+=("$file"); done \
                < <(find "$REGRESSIONS/$target" -type f ! -name '*.md' -print0 | sort -z)
        fi
        files+=("${inputs[@]}")
        if [ ${#files[@]} -eq 0 ]; then printf '%-10s no regression inputs\n' "$target"; continue; fi
        log=$HERE/logs/$target.replay.log
        if "${nice_prefix[@]}" "$BIN/fuzz-$target" -rss_limit_mb=2048 -timeout=10 "${files[@]}" > "$log" 2>&1; then
            printf '%-10s %3d inputs  ok\n' "$target" "${#files[@]}"
        else
            printf '%-10s %3d inputs  CRASH (see %s)\n' "$target" "${#files[@]}" "${log#"$ROOT"/}"
            grep -m1 -B1 -A12 "ERROR: \|PROPERTY VIOLATED\|Fatal error" "$log" | "$DEMANGLE" --simplified | sed 's/^/    /' || true
            status=1
        fi
    done
    exit $status
fi

if [ $seeds -eq 1 ]; then
    python3 "$HERE/make-seeds.py" "${targets[@]}" >&2
fi

# Runs one target; writes a result line "target seconds cpu-seconds execs exec/s cov ft corpus crashes" to
# logs/<target>.result.
run_target() {
    local target=$1 dict max_len log artifacts before after started elapsed
    dict=$(dict_of "$target")
    max_len=$(max_len_of "$target")
    log=$HERE/logs/$target.log
    artifacts=$HERE/artifacts/$target
    mkdir -p "$artifacts" "$HERE/corpus/$target"
    before=$(mktemp)
    find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort > "$before"
    local args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len"
                -artifact_prefix="$artifacts/" -print_final_stats=1 -print_pcs=0)
    [ -n "$dict" ] && args+=(-dict="$HERE/dicts/$dict.dict")
    [ -n "$seed" ] && args+=(-seed="$seed")
    [ $keep_going -eq 1 ] && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    started=$(date +%s)
    local timing=()
    [ -x /usr/bin/time ] && timing=(/usr/bin/time -f "%U %S" -o "$HERE/logs/$target.cpu")
    rm -f "$HERE/logs/$target.cpu"
    (cd "$HERE/logs" && "${timing[@]}" "${nice_prefix[@]}" "$BIN/fuzz-$target" "${args[@]}" "$HERE/corpus/$target") > "$log" 2>&1 || true
    elapsed=$(( $(date +%s) - started ))
    # CPU seconds of the fuzzer and its fork-mode children (user + system).
    local cpu="?"
    if [ -f "$HERE/logs/$target.cpu" ]; then
        cpu=$(awk 'END { printf "%d", $1 + $2 }' "$HERE/logs/$target.cpu" 2>/dev/null || echo "?")
    fi
    after=$(mktemp)
    find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort > "$after"
    local new
    new=$(comm -13 "$before" "$after")
    rm -f "$before" "$after"
    local crashes=0
    if [ -n "$new" ]; then
        crashes=$(printf '%s\n' "$new" | wc -l)
    fi
    if [ -n "$new" ] && [ $minimize -eq 1 ]; then
        # Minimize the first three (in --keep-going runs the same bug is often saved many times).
        while IFS= read -r file; do
            local name
            name=$(basename "$file")
            (cd "$HERE/logs" && timeout -k 5 90 "${nice_prefix[@]}" "$BIN/fuzz-$target" -minimize_crash=1 -max_total_time=60 -timeout=10 \
                -rss_limit_mb=2048 -exact_artifact_path="$artifacts/minimized-$name" "$file") \
                > "$HERE/logs/$target.minimize-$name.log" 2>&1 || true
        done < <(printf '%s\n' "$new" | head -3)
    fi
    # Statistics: a single process prints stat:: lines; fork mode prints "#N: cov: … exec/s: …" lines.
    local execs rate cov ft corpus
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\):* .*/\1/p' "$log" | tail -1)
        rate=$(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) ))
    fi
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    corpus=$(find "$HERE/corpus/$target" -maxdepth 1 -type f | wc -l)
    echo "$target $elapsed $cpu ${execs:-0} ${rate:-0} ${cov:-?} ${ft:-?} $corpus $crashes" > "$HERE/logs/$target.result"
    if [ "$crashes" -gt 0 ]; then
        {
            echo "== $target: $crashes crashing input(s):"
            printf '%s\n' "$new" | sed "s|^$ROOT/|   |"
            grep -m1 -A14 "ERROR: \|PROPERTY VIOLATED\|Fatal error\|ERROR: libFuzzer" "$log" | "$DEMANGLE" --simplified | sed 's/^/   /' || true
        } >&2
    fi
}

pids=()
for target in "${targets[@]}"; do
    rm -f "$HERE/logs/$target.result"
    echo "run.sh: fuzzing $target for $seconds s" >&2
    run_target "$target" &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait || true

status=0
printf '\n%-10s %8s %8s %12s %8s %7s %8s %7s %8s\n' target seconds cpu-s execs exec/s cov features corpus crashes
for target in "${targets[@]}"; do
    if [ -f "$HERE/logs/$target.result" ]; then
        read -r name elapsed cpu execs rate cov ft corpus crashes < "$HERE/logs/$target.result"
        printf '%-10s %8s %8s %12s %8s %7s %8s %7s %8s\n' "$name" "$elapsed" "$cpu" "$execs" "$rate" "$cov" "$ft" "$corpus" "$crashes"
        [ "$crashes" -gt 0 ] && status=1
    else
        printf '%-10s did not run (see logs/%s.log)\n' "$target" "$target"
        status=1
    fi
done
[ $status -ne 0 ] && echo "run.sh: crashes found; inputs under ${HERE#"$ROOT"/}/artifacts/, logs under ${HERE#"$ROOT"/}/logs/" >&2
exit $status
