#!/bin/sh
# Builds the codec sources plus main.swift into one optimized executable and runs it.
# Usage: Benchmarks/codecs-throughput/run.sh   (from anywhere; needs only the Swift toolchain)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
out=$work/fathom-codecs-throughput
cd "$work"  # swiftc may drop module files in the current directory
swiftc -Ounchecked -wmo -swift-version 6 -module-name CodecsThroughput \
    "$root/Sources/FathomStore/Mapping/ByteView.swift" "$root"/Sources/FathomStore/Codecs/*.swift \
    "$here/main.swift" -o "$out"
"$out"
rm -rf "$work"
