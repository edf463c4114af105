#!/bin/sh
# Throughput of the trained prompt-injection detector (InjectionModel.logit) on one core.
# Builds InjectionModel.swift, the embedded model and ByteView with main.swift into one optimized
# executable (-O, whole module, as a release build compiles them) and scores PROMPTS prompts made
# from Training/injection/data/ci-test.jsonl (attacks, long jailbreaks and benign prompts) plus
# short chat prompts. Usage: Benchmarks/injection/run.sh [PROMPTS]   (default 1,000,000)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
out=$work/fathom-injection-bench
cd "$work"
swiftc -O -wmo -swift-version 6 -module-name FathomStore -package-name fathom -suppress-warnings \
    "$root/Sources/FathomStore/Bytes/ByteView.swift" "$root/Sources/FathomStore/Bytes/ByteView+Lending.swift" \
    "$root/Sources/FathomStore/Bytes/KeyedByteTable.swift" \
    "$root/Sources/FathomDetect/Model/InjectionModel.swift" "$root/Sources/FathomDetect/Model/InjectionModelData.swift" \
    "$here/Shims.swift" "$here/main.swift" -o "$out"
"$out" "$root/Training/injection/data/ci-test.jsonl" "${1:-1000000}"
rm -rf "$work"
