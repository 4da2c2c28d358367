#!/usr/bin/env bash
# Fuzzes the JSON parser and the control API's request path with libFuzzer (and
# AddressSanitizer) for a fixed time each: scripts/fuzz.sh [SECONDS, default 60]
# [TARGET… : json, control; default both].
# The committed corpus under Fuzz/corpus seeds each run; what a run finds new stays in
# a temporary folder; a crash is saved under Fuzz/crashes/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(json control)
for target in "${targets[@]}"; do
    [[ $target == json || $target == control ]] || { echo "fuzz.sh: unknown target '$target' (json, control)" >&2; exit 2; }
done
scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
for target in "${targets[@]}"; do
    swift build --scratch-path "$scratch" --product "accord-fuzz-$target" "${flags[@]}"
done
bin=$(swift build --scratch-path "$scratch" --show-bin-path "${flags[@]}")
mkdir -p Fuzz/crashes
for target in "${targets[@]}"; do
    work=$(mktemp -d)
    echo "fuzz: accord-fuzz-$target for $seconds s"
    LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp" "$bin/accord-fuzz-$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="Fuzz/crashes/$target-" "$work" "Fuzz/corpus/$target"
    rm -rf "$work"
done
